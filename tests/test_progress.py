"""Progress events: appended atomically by several processes, corrupted lines recovered, shown per notebook."""

from __future__ import annotations

import json
import multiprocessing

import pytest

import course_helpers
from course_helpers import _progress, exercises


def _write_many(path: str, worker: int) -> None:
    import os

    os.environ["COURSE_PROGRESS_FILE"] = path
    for number in range(200):
        _progress.record("check", "welcome.save_greeting", status="fail", message=f"w{worker}-{number}" * 20)


def test_two_notebooks_writing_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "progress.jsonl")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_many, args=(path, n)) for n in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    lines = (tmp_path / "progress.jsonl").read_text().splitlines()
    assert len(lines) == 400
    assert all(json.loads(line)["event"] == "check" for line in lines)


def test_a_corrupted_file_is_recovered_with_a_warning(tmp_path, monkeypatch):
    path = tmp_path / "progress.jsonl"
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(path))
    _progress.record("hint", "welcome.save_greeting", level=1)
    with open(path, "a") as damaged:
        damaged.write('{"ts": 1, "event": "check", "exerc')  # a crash mid-write
    _progress.record("hint", "welcome.save_greeting", level=2)
    with pytest.warns(UserWarning, match="1 unreadable line"):
        events = _progress.read_events()
    assert [e["level"] for e in events] == [1, 2]
    assert path.with_suffix(".jsonl.corrupt").read_text().startswith('{"ts": 1')
    assert len(_progress.read_events()) == 2  # recovered: no second warning needed


def test_a_failing_sink_never_breaks_a_check(tmp_path):
    received = []

    def flaky(event):
        received.append(event)
        raise ConnectionError("classroom server is down")

    _progress.add_event_sink(flaky)
    try:
        greeting = exercises.get("welcome.save_greeting")
        with pytest.warns(UserWarning, match="kept in"):
            assert greeting.check(greeting.reference).passed
    finally:
        _progress.remove_event_sink(flaky)
    assert received[0]["status"] == "pass"
    assert _progress.read_events()[-1]["exercise"] == "welcome.save_greeting"


def test_progress_report_counts_passes_per_notebook():
    greeting = exercises.get("welcome.save_greeting")
    greeting.check(lambda r, name: None)
    greeting.check(greeting.reference)
    greeting.hint()
    report = course_helpers.progress()
    row = report.table.set_index("exercise").loc["welcome.save_greeting"]
    assert row["status"] == "passed" and row["checks"] == 2 and row["hints"] == 1
    assert report.per_notebook.loc["00-welcome", "passed"] == 1
    html = report._repr_html_()
    assert "data:image/png;base64" in html and f"1 of {len(exercises.all())} exercises passed" in html


def test_quiz_answers_reach_progress_and_keep_the_latest():
    quiz = exercises.quizzes()[0]
    wrong = next(number for number in range(1, len(quiz.options) + 1) if number != quiz.answer + 1)
    first = quiz.choose(wrong)
    assert not first.right and quiz.options[quiz.answer] in str(first) and quiz.explanation in str(first)
    report = course_helpers.progress()
    row = report.quizzes.set_index("quiz").loc[quiz.id]
    assert bool(row["answered"]) and not bool(row["right"])
    assert quiz.choose(quiz.answer + 1).right
    report = course_helpers.progress()
    assert bool(report.quizzes.set_index("quiz").loc[quiz.id, "right"])
    assert report.per_notebook.loc[quiz.notebook, "quizzes right"] == 1
    assert f"1 of {len(exercises.quizzes())} quizzes answered right" in repr(report)
    with pytest.raises(ValueError, match="Choose a number from 1 to"):
        quiz.choose(0)
