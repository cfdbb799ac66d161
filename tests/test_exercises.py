"""Every exercise: the reference passes, each known wrong answer fails with its message, blanks are not attempted."""

from __future__ import annotations

import re
import time

import pytest

from course_helpers import ____, exercises

EXERCISES = exercises.all()


@pytest.fixture(autouse=True, params=["default", "spawn"])
def sandbox(request, monkeypatch) -> str:
    """Every test here runs with the platform's default sandbox (fork on Linux) and with the spawn worker
    (the way checks run on Windows and macOS)."""
    if request.param == "spawn":
        monkeypatch.setenv("COURSE_SANDBOX", "spawn")
    return request.param


IDS = [exercise.id for exercise in EXERCISES]
MUTANTS = [
    pytest.param(exercise, mutant, id=f"{exercise.id}-{mutant.answer.__name__}")
    for exercise in EXERCISES
    for mutant in exercise.mutants
]


def test_ids_are_topic_dot_name_and_unique():
    assert len(set(IDS)) == len(IDS)
    for exercise_id in IDS:
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", exercise_id), exercise_id


def test_all_is_in_course_order_and_get_finds_each():
    notebooks = [exercise.notebook for exercise in EXERCISES]
    assert notebooks == sorted(notebooks)
    assert IDS[:3] == ["welcome.save_greeting", "connections.make_client", "connections.get_with_retry"]
    for exercise in EXERCISES:
        assert exercises.get(exercise.id) is exercise


def test_get_unknown_id_suggests_the_closest():
    with pytest.raises(KeyError, match=r"Did you mean 'connections.make_client'"):
        exercises.get("connection.make_client")


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_every_exercise_is_fully_declared(exercise):
    assert exercise.title and exercise.task and exercise.signature.startswith(exercise.function_name + "(")
    assert len(exercise.hints) >= 2, "tiered hints"
    assert len(exercise.mutants) >= 2, "known wrong answers"
    assert exercise.notebook and (exercise.notebook.split("-")[0]).isdigit()


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_reference_passes(exercise, check_backend):
    result = exercise.check(exercise.reference)
    assert result.status == "pass", str(result)
    assert result.passed and result.message


@pytest.mark.parametrize(("exercise", "mutant"), MUTANTS)
def test_known_wrong_answer_fails_with_its_message(exercise, mutant, check_backend):
    result = exercise.check(mutant.answer)
    assert result.status == mutant.status, str(result)
    assert mutant.expect in result.message, str(result)


def _blank_with_placeholder(*args, **kwargs):
    return ____


def _blank_with_pass(*args, **kwargs):
    pass


def _blank_with_ellipsis(*args, **kwargs):
    """Write your code here."""
    ...


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
@pytest.mark.parametrize("blank", [____, _blank_with_placeholder, _blank_with_pass, _blank_with_ellipsis])
def test_placeholder_is_not_attempted(exercise, blank):
    result = exercise.check(blank)
    assert result.status == "not_attempted", str(result)
    assert "____" in result.message


def test_solution_and_hints_are_recorded_and_tiered():
    from course_helpers._progress import read_events

    exercise = EXERCISES[0]
    first, second = exercise.hint(), exercise.hint()
    assert (first.level, second.level) == (1, 2)
    assert "hint 2 of" in str(first)
    last = exercise.hint(level=99)
    assert last.level == len(exercise.hints) and ".solution()" in str(last)
    solution = exercise.solution()
    assert f"def {exercise.function_name}(" in solution.source
    kinds = [event["event"] for event in read_events()]
    assert kinds == ["hint", "hint", "hint", "solution"]


# -- bad input: judged (not "pass", a message) within 15 s, and the process survives ---------------------
def _returns_none(*args, **kwargs):
    return None


def _raises(*args, **kwargs):
    raise ValueError("something went wrong in the learner's code")


def _loops_forever(*args, **kwargs):
    while True:
        pass


def _blocks_forever(r, *args, **kwargs):
    r.blpop("nobody-pushes-here", 0)


def _sleeps_for_long(*args, **kwargs):
    time.sleep(3600)


def _flushes_everything(r, *args, **kwargs):
    r.flushall()


BAD_ANSWERS = [_returns_none, _raises, _loops_forever, _blocks_forever, _sleeps_for_long, _flushes_everything, 42, None]


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
@pytest.mark.parametrize("bad", BAD_ANSWERS, ids=lambda bad: getattr(bad, "__name__", repr(bad)))
def test_bad_input_is_judged_quickly(exercise, bad, check_backend, sandbox, judge_quickly):
    if check_backend == "real" and sandbox == "spawn":
        pytest.skip("on a real server with the default sandbox only: the spawn worker is judged on fakeredis")
    judge_quickly(exercise, bad, slow=bad in (_loops_forever, _sleeps_for_long))


def test_default_timeout_stops_an_infinite_loop_within_fifteen_seconds():
    exercise = EXERCISES[0]
    started = time.monotonic()
    result = exercise.check(_loops_forever)
    elapsed = time.monotonic() - started
    assert result.status == "timeout" and "still running" in result.message
    assert elapsed < 15
