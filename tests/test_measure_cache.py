"""course_helpers.measure_cache: a fast, tidy cache workload whose numbers make sense, on both backends."""

from __future__ import annotations

from collections import Counter

import pytest

from course_helpers import MARKER_KEY
from course_helpers.measure_cache import (
    SlowCatalog,
    popular_requests,
    run_workload,
    simulate_cache_workload,
    summarize,
)


def test_summary_has_the_numbers_the_bench_reports_and_runs_fast(r):
    summary = simulate_cache_workload(r, seed=0)
    for name in ("hit_ratio", "cached_median_ms", "cached_p95_ms", "uncached_median_ms", "uncached_p95_ms", "seconds"):
        assert isinstance(summary[name], float), name
    assert 0.5 < summary["hit_ratio"] < 1
    assert summary["cached_median_ms"] < summary["uncached_median_ms"]
    assert summary["uncached_median_ms"] >= 2.0  # every uncached request pays the source's delay
    assert summary["cached_p95_ms"] >= summary["cached_median_ms"]
    assert summary["seconds"] < 3  # about 1 s; generous for a busy machine


def test_leaves_nothing_behind_and_writes_only_under_its_prefix(r, monkeypatch):
    r.set("app:keep-me", "1")
    written: list[str] = []
    original_set = r.set

    def spying_set(name, *args, **kwargs):
        written.append(name)
        return original_set(name, *args, **kwargs)

    monkeypatch.setattr(r, "set", spying_set)
    run_workload(r, requests=60, keys=20, delay_ms=0.2)
    assert written and all(key.startswith("measure-cache:") for key in written)
    assert len({key.split(":")[1] for key in written}) == 1  # one prefix per run
    assert sorted(r.scan_iter()) == sorted(["app:keep-me", MARKER_KEY])


def test_frame_has_one_row_per_request_and_mode(r):
    frame = run_workload(r, requests=50, keys=10, delay_ms=0.2)
    assert list(frame.columns) == ["request", "product", "mode", "hit", "ms"]
    assert Counter(frame["mode"]) == {"no cache": 50, "cache-aside": 50}
    assert not frame.loc[frame["mode"] == "no cache", "hit"].any()
    cached = frame[frame["mode"] == "cache-aside"]
    # a product's first request is a miss, and with a long TTL every later request for it is a hit
    first_seen = ~cached["product"].duplicated()
    assert list(cached["hit"]) == list(~first_seen)
    assert summarize(frame)["hit_ratio"] == pytest.approx(1 - cached["product"].nunique() / 50, abs=1e-3)


def test_without_baseline_only_the_cached_mode_runs(r):
    frame = run_workload(r, requests=40, keys=10, delay_ms=0.2, baseline=False)
    assert set(frame["mode"]) == {"cache-aside"}
    assert "uncached_median_ms" not in summarize(frame)


def test_a_tiny_ttl_lowers_the_hit_ratio(r):
    long_lived = summarize(run_workload(r, requests=150, keys=30, ttl=30, delay_ms=0.5, baseline=False))
    short_lived = summarize(run_workload(r, requests=150, keys=30, ttl=0.001, delay_ms=0.5, baseline=False))
    assert short_lived["hit_ratio"] < long_lived["hit_ratio"]


def test_requests_follow_a_popularity_curve_and_repeat_with_the_seed():
    plan = popular_requests(2000, 50, skew=1.1, seed=3)
    assert plan == popular_requests(2000, 50, skew=1.1, seed=3)
    assert plan != popular_requests(2000, 50, skew=1.1, seed=4)
    assert set(plan) <= set(range(1, 51))
    counts = Counter(plan).most_common()
    assert counts[0][1] > 5 * counts[-1][1]  # the favourite is asked far more often than the least popular


def test_slow_catalog_reads_sqlite_counts_queries_and_sleeps():
    import time

    catalog = SlowCatalog(products=5, delay_ms=5, seed=0)
    try:
        started = time.perf_counter()
        product = catalog.get(3)
        assert time.perf_counter() - started >= 0.005
        assert product is not None and product["id"] == 3 and set(product) == {"id", "name", "price", "stock"}
        assert catalog.get(99) is None
        assert catalog.queries == 2
        assert SlowCatalog(products=5, seed=0).get(3) == product  # deterministic for a seed
    finally:
        catalog.close()
