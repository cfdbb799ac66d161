"""Checks run in a forked child with a hard deadline: hangs, crashes and prints never reach the kernel."""

from __future__ import annotations

import os
import threading
import time

import pytest

from course_helpers import exercises
from course_helpers._sandbox import can_fork, run_isolated

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs os.fork")
GREETING = exercises.get("welcome.save_greeting")


def test_an_endless_task_is_killed_at_its_deadline():
    started = time.monotonic()
    outcome = run_isolated(lambda: (time.sleep(60), {"status": "pass"})[1], timeout=0.5)
    assert outcome == {"status": "timeout"}
    assert time.monotonic() - started < 3


def test_a_child_that_dies_is_reported_not_raised():
    outcome = run_isolated(lambda: os._exit(3), timeout=5)
    assert outcome["status"] == "error" and "exit code 3" in outcome["message"]


def test_what_learner_code_prints_is_captured_and_shown():
    def chatty(r, name):
        print("debugging", name)
        r.set(f"greeting:{name}", f"Hello, {name}!")

    result = GREETING.check(chatty)
    assert result.passed
    assert "debugging Ada" in result.output and "Your code printed" in str(result)


def test_learner_exception_names_the_line_without_a_traceback_wall():
    def broken(r, name):
        profile = {"name": name}
        r.set(f"greeting:{name}", profile)

    result = GREETING.check(broken)
    assert result.status == "error"
    assert "DataError" in result.message and "json.dumps" in result.message
    assert "line" in result.message and 'r.set(f"greeting:{name}", profile)' in result.message
    assert "Traceback" not in result.message


def test_many_checks_leak_no_threads_and_no_file_descriptors():
    GREETING.check(GREETING.reference)  # warm up lazily created resources
    threads, fds = threading.active_count(), len(os.listdir("/proc/self/fd"))

    def sleeper(r, name):
        r.blpop("never", 0)

    for _ in range(10):
        assert GREETING.check(GREETING.reference).passed
    os.environ["COURSE_CHECK_TIMEOUT"] = "0.5"
    try:
        assert GREETING.check(sleeper).status == "timeout"
    finally:
        del os.environ["COURSE_CHECK_TIMEOUT"]
    assert threading.active_count() == threads
    assert len(os.listdir("/proc/self/fd")) == fds


def test_without_fork_a_thread_still_enforces_the_deadline(monkeypatch):
    monkeypatch.setenv("COURSE_NO_FORK", "1")
    assert GREETING.check(GREETING.reference).passed
    started = time.monotonic()
    outcome = run_isolated(lambda: (time.sleep(3), {"status": "pass"})[1], timeout=0.3)
    assert outcome["status"] == "timeout" and time.monotonic() - started < 1


def test_check_result_renders_escaped_html_and_plain_text():
    def sneaky(r, name):
        r.set(f"greeting:{name}", "<script>alert(1)</script>")

    result = GREETING.check(sneaky)
    assert result.status == "fail"
    assert "<script>" not in result._repr_html_() and "&lt;script&gt;" in result._repr_html_()
    assert str(result).startswith("✗ Not yet [welcome.save_greeting]")
    assert "What your code sent to Redis" in str(result) and "SET greeting:Ada" in result.sent
