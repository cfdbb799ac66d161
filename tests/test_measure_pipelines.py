"""course_helpers.measure_pipelines: the table notebook 09 plots and `make bench` prints, on both backends."""

from __future__ import annotations

import time

import pytest

from course_helpers import measure_pipelines
from course_helpers.measure_pipelines import PREFIX, pipeline_speedup


def test_table_has_one_row_per_batch_and_cleans_up(r, course_backend):
    r.set("keep:me", "untouched")
    keys_before = set(r.scan_iter(count=1000))
    started = time.perf_counter()
    table = pipeline_speedup(r)
    elapsed = time.perf_counter() - started

    assert list(table.columns) == ["batch", "loop_seconds", "pipeline_seconds", "speedup"]
    assert table["batch"].tolist() == [1, 10, 100, 1000]
    assert (table[["loop_seconds", "pipeline_seconds", "speedup"]] > 0).all().all()
    ratio = table["loop_seconds"] / table["pipeline_seconds"]
    assert ratio.round(6).tolist() == table["speedup"].round(6).tolist()
    # Well under 2 s on an idle machine; the bound leaves room for parallel test workers.
    assert elapsed < 4.0, f"pipeline_speedup took {elapsed:.2f} s on {course_backend}"

    assert set(r.scan_iter(count=1000)) == keys_before, "it must delete every key it wrote"
    assert not list(r.scan_iter(match=f"{PREFIX}*"))
    assert r.get("keep:me") == "untouched"


@pytest.mark.real
def test_a_real_server_gains_several_times_at_large_batches(real_server, monkeypatch):
    import course_helpers

    monkeypatch.setenv("REDIS_URL", real_server.url.rsplit("/", 1)[0])
    client = course_helpers.connect()
    try:
        table = pipeline_speedup(client, batch_sizes=(1, 1000), repeat=3).set_index("batch")
    finally:
        course_helpers.clear(client)
        client.close()
    # About 10x on loopback; the bound leaves room for a busy machine.
    assert table.loc[1000, "speedup"] > 3, table
    assert table.loc[1000, "speedup"] > table.loc[1, "speedup"], table


def test_custom_sizes_and_bad_arguments(r):
    table = pipeline_speedup(r, batch_sizes=[5], repeat=1)
    assert table["batch"].tolist() == [5]
    for sizes, repeat in (([], 1), ([0], 1), ([10], 0)):
        with pytest.raises(ValueError):
            pipeline_speedup(r, batch_sizes=sizes, repeat=repeat)


def test_main_prints_the_table(r, capsys):
    measure_pipelines.main()
    out = capsys.readouterr().out
    assert "batch" in out and "speedup" in out and "1000" in out
