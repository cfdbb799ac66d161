"""The browser's ways, checked fast on CPython: the scheduler, waits without threads, adopted clients, no Lua.

tests/test_lite.py runs the same code under real Pyodide; these tests pin the behaviour where a failure is
quick to read, with a browser tab imitated (no threads, no listening sockets, sys.platform "emscripten").
"""

from __future__ import annotations

import itertools
import socket
import sys
import threading
import time
from typing import Any

import fakeredis
import pytest
import redis

import course_helpers
from course_helpers import _browser, _inline, exercises
from course_helpers._browser import LUA_IN_ANSWER, LUA_UNAVAILABLE, PLACEHOLDER_URL
from course_helpers._inline import LimitExceeded, deadline_guard
from course_helpers._safety import CourseEnvironmentError
from course_helpers._scheduler import Scheduler, install_cooperative_conditions
from course_helpers._trial import Trial, TrialRedis


@pytest.fixture
def browser_tab(monkeypatch) -> None:
    """This process behaves like Pyodide in a browser tab: no thread starts, no socket listens."""

    def no_thread(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    def no_listening(self: socket.socket, *args: object) -> None:
        raise OSError(138, "Not supported")

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    monkeypatch.setattr(socket.socket, "listen", no_listening)
    monkeypatch.setattr(sys, "platform", "emscripten")


# -- the scheduler ----------------------------------------------------------------------------------------------
def test_steps_run_when_due_and_again_after_the_pause_they_return():
    scheduler = Scheduler()
    ran: list[float] = []
    started = time.monotonic()

    def step() -> float | None:
        ran.append(time.monotonic() - started)
        return 0.05 if len(ran) < 3 else None

    scheduler.after(0.05, step)
    scheduler.run_due()
    assert ran == []  # not due yet
    assert scheduler.wait_until(lambda: len(ran) == 3, timeout=2) is True
    assert ran[0] >= 0.05 and all(later - earlier >= 0.045 for earlier, later in itertools.pairwise(ran))
    assert not scheduler.pending


def test_a_wait_with_nothing_to_end_it_pauses_for_ever_and_the_pause_decides():
    asked: list[float | None] = []

    def pause_until(until: float | None) -> None:
        asked.append(until)
        raise TimeoutError("the deadline")

    scheduler = Scheduler(pause_until)
    with pytest.raises(TimeoutError):
        scheduler.wait_until(lambda: False, timeout=None)
    assert asked == [None]


def test_outside_a_check_a_wait_for_ever_is_a_sentence_not_a_frozen_tab():
    scheduler = Scheduler()
    started = time.monotonic()
    assert scheduler.wait_until(lambda: False, timeout=0.1) is False
    assert time.monotonic() - started >= 0.09
    with pytest.raises(CourseEnvironmentError, match="would wait for ever"):
        scheduler.wait_until(lambda: False, timeout=None)


def test_a_blocking_pop_is_served_by_a_scheduled_producer_without_a_thread(browser_tab):
    server = fakeredis.FakeServer()
    scheduler = Scheduler()
    install_cooperative_conditions(server, scheduler)
    consumer = redis.Redis(
        connection_pool=redis.ConnectionPool(connection_class=fakeredis.FakeRedisConnection, server=server)
    )
    producer = redis.Redis(
        connection_pool=redis.ConnectionPool(connection_class=fakeredis.FakeRedisConnection, server=server)
    )
    scheduler.after(0.1, lambda: producer.lpush("jobs", "job:1") and None)
    started = time.monotonic()
    assert consumer.brpop("jobs", timeout=2) == (b"jobs", b"job:1")
    assert 0.09 <= time.monotonic() - started < 1
    assert consumer.brpop("jobs", timeout=0.2) is None  # nothing scheduled: the timeout runs out


# -- the guard's limit ---------------------------------------------------------------------------------------------
def test_a_limit_stops_learner_code_sooner_than_the_deadline():
    namespace: dict[str, Any] = {}
    exec(compile("def spin():\n    while True:\n        pass\n", "<cell>", "exec"), namespace)
    with deadline_guard(5) as guard, guard.limit(0.2) as limit:
        started = time.monotonic()
        with pytest.raises(LimitExceeded) as stopped:
            namespace["spin"]()
    assert stopped.value.limit is limit and limit.expired and not guard.expired
    assert 0.19 <= time.monotonic() - started < 1


def test_the_guard_knows_the_standard_library_and_installed_packages_as_library_code():
    assert not _inline.is_learner_code(socket.__file__)
    assert not _inline.is_learner_code(redis.__file__)
    assert not _inline.is_learner_code(course_helpers.__file__)
    assert _inline.is_learner_code("<ipython-input-3-0a1b2c>")


# -- checks as in a browser tab ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "exercise_id",
    ["connections.make_client", "lists.next_task", "pubsub.collect_messages", "pubsub.collect_pattern"],
)
def test_checks_that_used_threads_or_tcp_pass_in_a_browser_tab(browser_tab, exercise_id):
    exercise = exercises.get(exercise_id)
    result = exercise.check(exercise.reference)
    assert result.status == "pass", str(result)


def test_a_check_that_needs_lua_says_why_and_where_instead(browser_tab, monkeypatch):
    monkeypatch.setattr(_browser, "can_run_lua", lambda: False)
    monkeypatch.setattr("course_helpers._trial.can_run_lua", lambda: False)
    exercise = exercises.get("transactions.compare_and_set")
    result = exercise.check(exercise.reference)
    assert (result.status, result.message) == ("env_problem", LUA_UNAVAILABLE)
    assert "JupyterLab" in result.message and "Binder" in result.message


def _scripted(r, name):
    try:
        r.eval("return redis.call('SET', KEYS[1], ARGV[1])", 1, f"greeting:{name}", f"Hello, {name}!")
    except Exception:  # an answer that hides the refusal is not judged on a broken run either
        r.set(f"greeting:{name}", "no script, then")


def test_an_answer_that_runs_a_script_where_lua_cannot_is_not_judged_even_if_it_hides_the_error(
    browser_tab, monkeypatch
):
    monkeypatch.setattr("course_helpers._trial.can_run_lua", lambda: False)
    result = exercises.get("welcome.save_greeting").check(_scripted)
    assert (result.status, result.message) == ("env_problem", LUA_IN_ANSWER)


def test_on_a_computer_without_lupa_the_same_answer_is_told_how_to_get_it(monkeypatch):
    monkeypatch.setattr("course_helpers._trial.can_run_lua", lambda: False)
    monkeypatch.setenv("COURSE_SANDBOX", "inline")  # the patch must reach the check
    result = exercises.get("welcome.save_greeting").check(_scripted)
    assert result.status == "env_problem" and "lupa package" in result.message and "browser" not in result.message


def test_a_client_built_from_the_placeholder_url_is_adopted_and_others_cannot_connect(browser_tab):
    server = TrialRedis()
    try:
        assert server.url == PLACEHOLDER_URL + "/0"
        adopted = server.adopt(redis.Redis.from_url(PLACEHOLDER_URL + "/3", decode_responses=True))
        adopted.set("greeting", "hi")
        assert adopted.get("greeting") == "hi" and adopted.connection_pool.connection_kwargs["db"] == 3
        elsewhere = server.adopt(redis.Redis(host="localhost", port=6379))
        with pytest.raises(redis.ConnectionError, match="Error 138 connecting to localhost:6379"):
            elsewhere.ping()
    finally:
        server.close()


def test_within_without_a_thread_fails_a_blocking_answer_with_the_threaded_message(browser_tab):
    def waits_forever(r: redis.Redis) -> object:
        return r.brpop("empty", 0)

    server = TrialRedis()
    with deadline_guard(10):
        trial = Trial(waits_forever, "next_task", server)
        started = time.monotonic()
        with pytest.raises(course_helpers.CheckFailed, match=r"next_task\(r\) was still running after 0.3 s"):
            trial.call(within=0.3)
        assert 0.29 <= time.monotonic() - started < 2
        trial.close()
