"""The engine checks `async def` answers: on an event loop in the check's process, with a traced asyncio client.

Round trips and hooks work as for sync answers; a forgotten await, a returned coroutine and a blocked event loop
each get one sentence; a plain def where async def is expected (and the other way round) too; bad input is judged
within 15 s in every sandbox; and inline (a browser tab, or a kernel's running loop) the check still runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from course_helpers import ____, _spawn, exercises
from course_helpers._exercise import Exercise, Mutant
from course_helpers._trial import Trial

ASYNC_EXERCISES = [exercise for exercise in exercises.all() if exercise.is_async]


def _engine_exercise(
    name: str, title: str, signature: str, checker: Callable[[Trial], str], reference: Any, mutants: tuple = ()
) -> Exercise:
    """An exercise that tests the engine only: it has no task to read and no hints to give."""
    return Exercise(
        id=f"test.{name}",
        title=title,
        signature=signature,
        task="(a test of the engine)",
        checker=checker,
        reference=reference,
        hints=("-", "-"),
        mutants=mutants,
    )


def _message_of_a_pass(exercise: Exercise, answer: Any) -> str:
    """Check answer, which must pass, and return what the checker said."""
    result = exercise.check(answer)
    assert result.status == "pass", str(result)
    return result.message


@pytest.fixture(params=["default", "spawn"])
def sandbox(request, monkeypatch) -> str:
    """The platform's default sandbox (fork on Linux) and the spawn worker (Windows, macOS)."""
    if request.param == "spawn":
        monkeypatch.setenv("COURSE_SANDBOX", "spawn")
    return request.param


def test_the_async_exercises_are_the_ones_with_async_references():
    assert {exercise.id for exercise in ASYNC_EXERCISES} == {"aio.fetch_profiles", "aio.collect"}
    assert not exercises.get("testing.write_a_test").is_async


# -- an exercise of the test's own: what the checker sees of an async answer --------------------------------------
async def _three_ways(r, key):
    await r.set(key, "1")  # one round trip
    async with r.pipeline(transaction=False) as pipe:  # one round trip for three commands
        pipe.incr(key)
        pipe.incr(key)
        pipe.get(key)
        _, _, value = await pipe.execute()
    await asyncio.gather(r.get(key), r.exists(key))  # two round trips, from two tasks of gather's
    return value


def check_what_was_seen(t: Trial) -> str:
    value = t.call("seen")
    names = [command[0].upper() for command in t.sent]
    return f"value={value} trips={t.round_trips} tasks={t.tasks_sending} names={','.join(names)}"


SEEN = _engine_exercise(
    "seen", "What the check sees", "three_ways(r, key: str) -> str", check_what_was_seen, _three_ways
)


def test_round_trips_and_commands_are_recorded_as_for_a_sync_answer(sandbox, check_backend):
    # The pipeline's three commands are one round trip (redis.asyncio sends INCR as INCRBY key 1); gather sends
    # from one task per coroutine, beside the call's own task.
    assert _message_of_a_pass(SEEN, _three_ways) == "value=3 trips=4 tasks=3 names=SET,INCRBY,INCRBY,GET,GET,EXISTS"


# -- hooks: a write that lands between two commands, a connection cut between them ---------------------------------
async def _read_then_write(r, key):
    value = await r.get(key)
    await r.set(key, value + "!")
    return value


def check_injection(t: Trial) -> str:
    t.admin.set("k", "old")
    state = t.inject_once(["GET"], lambda admin: admin.set("k", "changed"))
    t.call("k")
    landed = f"fired={state['fired']} stored={t.admin.get('k')}"
    cut = t.cut_connection_after(["GET"])
    _, error = t.try_call("k", expected=(redis.ConnectionError,))
    return f"{landed} cut={cut['fired']} error={type(error).__name__} stored={t.admin.get('k')}"


INJECTION = _engine_exercise(
    "injection", "Hooks on an asyncio client", "read_then_write(r, key: str) -> str", check_injection, _read_then_write
)


def test_injections_and_cut_connections_reach_an_async_answer(sandbox, check_backend):
    message = _message_of_a_pass(INJECTION, _read_then_write)
    assert message == "fired=True stored=old! cut=True error=ConnectionError stored=old!"


# -- what only async code gets wrong: one sentence each --------------------------------------------------------------
async def _forgets_an_await(r, key):
    r.set(key, "v")
    return await r.get(key)


async def _returns_a_coroutine(r, key):
    return r.get(key)


async def _blocks_the_loop(r, key):
    time.sleep(0.6)
    return await r.get(key)


def _plain_def(r, key):
    return r.get(key)


def check_value(t: Trial) -> str:
    t.admin.set("answer", "42")
    value = t.call("answer")
    t.expect_equal(value, "42", t.last_call)
    return "ok"


async def _get(r, key):
    return await r.get(key)


VALUE = _engine_exercise(
    "value",
    "Read a value",
    "get_value(r, key: str) -> str",
    check_value,
    _get,
    mutants=(Mutant(_forgets_an_await, "without await"), Mutant(_returns_a_coroutine, "returned a coroutine")),
)


@pytest.mark.parametrize(
    ("answer", "sentence"),
    [
        (
            _forgets_an_await,
            "get_value(r, 'answer') called the command SET answer v without await (at line "
            f'{_forgets_an_await.__code__.co_firstlineno + 1} of your function: r.set(key, "v")), so it never ran',
        ),
        (_returns_a_coroutine, "get_value(r, 'answer') returned a coroutine (Redis.execute_command) instead of its"),
        (_blocks_the_loop, "get_value(r, 'answer') blocked the event loop for 0."),
        (_plain_def, "The check awaits get_value on an event loop, so it must be a coroutine function"),
    ],
    ids=["never-awaited", "returned-coroutine", "blocked-loop", "plain-def"],
)
def test_async_mistakes_get_one_sentence(answer, sentence, sandbox):
    result = VALUE.check(answer)
    assert result.status == "fail", str(result)
    assert result.message.startswith(sentence), result.message


def test_an_async_def_given_to_a_sync_exercise_is_told_so():
    async def incr_page_views(r, page):
        return await r.incr(f"pageviews:{page}")

    result = exercises.get("strings.page_views").check(incr_page_views)
    assert result.status == "fail"
    assert "yours is an `async def`" in result.message and "write `def incr_page_views(...)`" in result.message


def test_an_unawaited_coroutine_of_a_failed_check_does_not_leak_into_the_next(monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX", "spawn")  # one worker process runs both checks
    fetch = exercises.get("aio.fetch_profiles")
    wrong = next(mutant for mutant in fetch.mutants if mutant.answer.__name__ == "_iterates_the_coroutine")
    assert wrong.expect in fetch.check(wrong.answer).message
    assert fetch.check(fetch.reference).status == "pass"


# -- bad input, as async code writes it -----------------------------------------------------------------------------
async def _returns_none(*args, **kwargs):
    return None


async def _raises(*args, **kwargs):
    raise ValueError("something went wrong in the learner's code")


async def _loops_forever(*args, **kwargs):
    while True:
        pass


async def _awaits_forever(*args, **kwargs):
    await asyncio.sleep(3600)


async def _sleeps_for_long(*args, **kwargs):
    time.sleep(3600)


async def _blocks_forever(r, *args, **kwargs):
    await r.blpop("nobody-pushes-here", 0)


async def _flushes_everything(r, *args, **kwargs):
    await r.flushall()


async def _exits(*args, **kwargs):
    sys.exit(3)


BAD = [_returns_none, _raises, _loops_forever, _awaits_forever, _sleeps_for_long, _blocks_forever, _flushes_everything]


@pytest.mark.parametrize("exercise", ASYNC_EXERCISES, ids=lambda exercise: exercise.id)
@pytest.mark.parametrize("bad", BAD, ids=lambda bad: bad.__name__)
def test_bad_async_input_is_judged_quickly(exercise, bad, sandbox, judge_quickly):
    judge_quickly(exercise, bad, slow=bad in (_loops_forever, _sleeps_for_long))


@pytest.mark.parametrize("exercise", ASYNC_EXERCISES, ids=lambda exercise: exercise.id)
def test_sys_exit_in_async_code_is_the_learners_error(exercise, sandbox):
    result = exercise.check(_exits)
    assert result.status == "error" and "sys.exit()" in result.message, str(result)


@pytest.mark.parametrize("exercise", ASYNC_EXERCISES, ids=lambda exercise: exercise.id)
def test_async_blanks_are_not_attempted(exercise):
    async def blank(*args, **kwargs):
        pass

    async def placeholder(*args, **kwargs):
        return ____  # the blank a learner replaces

    for answer in (blank, placeholder):
        result = exercise.check(answer)
        assert result.status == "not_attempted", str(result)


# -- inline: a browser tab, or a kernel whose event loop is running --------------------------------------------------
def test_inline_inside_a_running_loop_checks_and_gives_the_loop_back(monkeypatch, check_backend):
    monkeypatch.setenv("COURSE_SANDBOX", "inline")
    fetch = exercises.get("aio.fetch_profiles")

    async def kernel_cell():
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        passed = fetch.check(fetch.reference)
        wrong = fetch.check(fetch.mutants[0].answer)
        assert asyncio.get_running_loop() is loop and asyncio.current_task() is task
        await asyncio.sleep(0)  # the kernel's loop still runs
        return passed, wrong

    passed, wrong = asyncio.run(kernel_cell())
    assert passed.status == "pass", str(passed)
    assert wrong.status == "fail" and fetch.mutants[0].expect in wrong.message


def test_where_no_loop_of_its_own_can_run_the_check_says_so_in_one_sentence(monkeypatch):
    from course_helpers import _async_trial

    monkeypatch.setenv("COURSE_SANDBOX", "inline")
    monkeypatch.setattr(_async_trial, "outside_any_running_loop", contextlib.nullcontext)  # the loop stays running
    fetch = exercises.get("aio.fetch_profiles")
    result = asyncio.run(_check_in_a_cell(fetch, fetch.reference))
    assert result.status == "env_problem" and result.message == _async_trial.NO_LOOP_HERE, str(result)


@pytest.mark.parametrize("bad", BAD, ids=lambda bad: bad.__name__)
def test_inline_bad_async_input_is_judged_quickly(bad, monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX", "inline")
    monkeypatch.setenv("COURSE_CHECK_TIMEOUT", "1")
    collect = exercises.get("aio.collect")
    started = time.monotonic()
    result = asyncio.run(_check_in_a_cell(collect, bad))  # tests/ is learner code to the guard, as a cell is
    assert time.monotonic() - started < 15
    assert result.status != "pass" and result.message, str(result)


async def _check_in_a_cell(exercise, answer):
    return exercise.check(answer)


# -- speed: an async check costs about what a sync one does ------------------------------------------------------------
def test_a_passing_async_check_is_quick_and_keeps_the_spawn_worker(monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX", "spawn")
    fetch = exercises.get("aio.fetch_profiles")
    assert fetch.check(fetch.reference).passed  # the worker is warm from here on
    worker = _spawn._worker
    seconds = [fetch.check(fetch.reference).seconds for _ in range(5)]
    assert _spawn._worker is worker and worker is not None and worker.alive(), "no thread was left behind"
    assert statistics.median(seconds) <= 0.2, seconds
