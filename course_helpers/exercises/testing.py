"""15-async-and-testing (testing half): write a test that catches the bugs of a rate limiter.

The learner's answer is itself a test: a pytest-style function taking the fixtures r and allow_request. The
check runs it against a correct allow_request (it must pass) and against known-buggy ones (it must fail on
each), and says which bug it let through and what assertion would have caught it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._exercise import Exercise, Mutant
from .._quiz import Quiz
from .._trial import LearnerRaised, Trial
from .expiry import _counter_without_expiry, _one_request_short, _resets_the_window, allow_request

NOTEBOOK = "15-async-and-testing"


# -- the function under test: notebook 03's rate limiter, and five ways to get it wrong ---------------------------
# Notebook 03's limiter and three of its known wrong answers, from the module that checks that exercise.
_correct = allow_request
_blocks_the_last_allowed = _one_request_short
_never_expires = _counter_without_expiry
_restarts_the_window = _resets_the_window


def _allows_one_too_many(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    with r.pipeline() as pipe:
        pipe.set(key, 0, ex=window, nx=True)
        pipe.incr(key)
        _, count = pipe.execute()
    return count <= limit + 1


def _one_limit_for_everyone(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    with r.pipeline() as pipe:
        pipe.set(key, 0, ex=window, nx=True)
        pipe.incr(key)
        pipe.set("ratelimit:everyone", 0, ex=window, nx=True)  # a site-wide count, compared by mistake
        pipe.incr("ratelimit:everyone")
        _, _, _, everyone = pipe.execute()
    return everyone <= limit


@dataclass(frozen=True)
class _Bug:
    implementation: Callable[..., bool]
    what: str  # "a buggy allow_request that ..."
    catch: str  # the assertion that catches it


BUGS = (
    _Bug(
        _allows_one_too_many,
        "lets limit + 1 requests through (it compares count <= limit + 1)",
        "after limit allowed requests, assert that the next one is refused (is False)",
    ),
    _Bug(
        _blocks_the_last_allowed,
        "refuses the last request that should pass (it compares count < limit)",
        "assert that each of the first limit requests is allowed, the last of them too",
    ),
    _Bug(
        _never_expires,
        "never sets an expiry, so a user who reaches the limit is refused for ever",
        "assert that the counter has a TTL, 0 < r.ttl('ratelimit:<user_id>') <= window: no need to wait for it",
    ),
    _Bug(
        _restarts_the_window,
        "sets the expiry again on every request, so a user who keeps trying is never let back in",
        "shorten the counter's TTL yourself as if time had passed (r.expire(key, 5)), make one more request, and "
        "assert that the TTL did not grow back (r.ttl(key) <= 5)",
    ),
    _Bug(
        _one_limit_for_everyone,
        "compares the requests of all users together with the limit, instead of this user's own count",
        "once one user has used up their requests, assert that another user is still allowed",
    ),
)


class _UnderTest:
    """The allow_request a test receives: counts its calls, and shows as allow_request in messages."""

    def __init__(self, implementation: Callable[..., bool]) -> None:
        self.implementation = implementation
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> bool:
        self.calls += 1
        return self.implementation(*args, **kwargs)

    def __repr__(self) -> str:
        return "allow_request"


# -- testing.write_a_test ---------------------------------------------------------------------------------------
def test_allow_request(r, allow_request):
    # Both sides of the boundary: the first `limit` requests pass, the next one is refused.
    assert [allow_request(r, "ada", 3, 60) for _ in range(4)] == [True, True, True, False]
    # The counter ends with its window: read its TTL instead of waiting for it to run out.
    assert 0 < r.ttl("ratelimit:ada") <= 60
    # A later request must not push the end of the window back: shorten it as if time had passed, then retry.
    r.expire("ratelimit:ada", 5)
    allow_request(r, "ada", 3, 60)
    assert r.ttl("ratelimit:ada") <= 5
    # Every user has a counter of their own.
    assert allow_request(r, "grace", 3, 60) is True


def _only_the_happy_path(r, allow_request):
    for _ in range(3):
        assert allow_request(r, "ada", 3, 60)
    assert 0 < r.ttl("ratelimit:ada") <= 60


def _only_the_refusal(r, allow_request):
    for _ in range(3):
        allow_request(r, "ada", 3, 60)
    assert allow_request(r, "ada", 3, 60) is False
    assert 0 < r.ttl("ratelimit:ada") <= 60


def _never_reads_the_ttl(r, allow_request):
    assert [allow_request(r, "ada", 3, 60) for _ in range(4)] == [True, True, True, False]
    assert allow_request(r, "grace", 3, 60)


def _reads_the_ttl_once(r, allow_request):
    assert [allow_request(r, "ada", 3, 60) for _ in range(4)] == [True, True, True, False]
    assert 0 < r.ttl("ratelimit:ada") <= 60
    assert allow_request(r, "grace", 3, 60)


def _one_user_only(r, allow_request):
    assert [allow_request(r, "ada", 3, 60) for _ in range(4)] == [True, True, True, False]
    assert 0 < r.ttl("ratelimit:ada") <= 60
    r.expire("ratelimit:ada", 5)
    allow_request(r, "ada", 3, 60)
    assert r.ttl("ratelimit:ada") <= 5


def _expects_four(r, allow_request):
    assert [allow_request(r, "ada", 3, 60) for _ in range(4)] == [True, True, True, True]


def _sleeps_through_the_window(r, allow_request):
    assert [allow_request(r, "ada", 3, 1) for _ in range(4)] == [True, True, True, False]
    time.sleep(1.1)  # wait for the window to end
    assert allow_request(r, "ada", 3, 1)


def _never_calls_it(r, allow_request):
    assert r.ping()


async def _async_test(r, allow_request):
    assert allow_request(r, "ada", 3, 60)


def _run_test(t: Trial, implementation: Callable[..., bool]) -> tuple[_UnderTest, LearnerRaised | None, float]:
    """Run the learner's test on an empty database with this allow_request: (it, the failure or None, seconds)."""
    t.admin.flushdb()
    under = _UnderTest(implementation)
    started = time.perf_counter()
    failure = None
    try:
        t.call(
            under,
            within=3.0,
            too_slow="A test should take milliseconds: do not sleep or wait in it (read TTLs with r.ttl instead).",
        )
    except LearnerRaised as raised:
        failure = raised
    return under, failure, time.perf_counter() - started


def _expect_no_sleeping(t: Trial, pauses: list[float], seconds: float) -> None:
    slept = sum(pause for pause in pauses if pause >= 0.05)
    if slept or seconds > 1.0:
        how = f"asks to sleep {slept:g} s" if slept else f"took {seconds:.1f} s"
        t.fail(
            f"Your test {how}, to let a window run out. A suite of such tests takes minutes, and a slow machine "
            "makes it flaky. Read the TTL instead (0 < r.ttl(key) <= window), and to act out time passing, "
            "shorten it yourself with r.expire(key, seconds) or delete the key."
        )


def check_write_a_test(t: Trial) -> str:
    pauses = t.fast_sleep()
    correct, failure, seconds = _run_test(t, _correct)
    _expect_no_sleeping(t, pauses, seconds)
    if failure is not None:
        t.fail(
            f"Your test failed against a correct allow_request: {failure} A test must pass when the code is right: "
            "check the expectation on that line against the task (the first limit requests are allowed, and the "
            "counter is ratelimit:<user_id>)."
        )
    if correct.calls == 0:
        t.fail(
            "Your test never called allow_request, so it passes whatever allow_request does. Call it through the "
            "argument, allow_request(r, 'ada', 3, 60), and assert on what it returns and on what it stored."
        )
    missed = []
    for bug in BUGS:
        _, failure, seconds = _run_test(t, bug.implementation)
        _expect_no_sleeping(t, pauses, seconds)
        if failure is None:
            missed.append(bug)
    if missed:
        first = missed[0]
        more = f" It let {len(missed) - 1} other known bug{'s' if len(missed) > 2 else ''} through too." * (
            len(missed) > 1
        )
        t.fail(f"Your test passed against a buggy allow_request that {first.what}. To catch it, {first.catch}.{more}")
    return (
        f"Your test passes on a correct allow_request and fails on each of the {len(BUGS)} buggy ones: off by one "
        "either way, no expiry, a window that restarts, one limit for all users. And it never waits."
    )


WRITE_A_TEST = Exercise(
    id="testing.write_a_test",
    title="A test that catches a rate limiter's bugs",
    signature="test_allow_request(r, allow_request) -> None",
    task="Write a pytest-style test (plain assert statements) for notebook 03's rate limiter, allow_request(r, "
    "user_id, limit, window) -> bool: it counts a user's requests in the key ratelimit:<user_id>, which expires "
    "window seconds after the window's first request, and returns True for the first limit requests of a window, "
    "False after that. Your test receives a client r on an empty database and the allow_request to test. It must "
    "pass when allow_request is right and fail (raise AssertionError) on each of five buggy versions, without "
    "sleeping.",
    checker=check_write_a_test,
    reference=test_allow_request,
    hints=(
        "Test the edges, where bugs live: the last request that should pass and the first that should not; what "
        "the function stores (the key and its TTL), not only what it returns; and a second user.",
        "Make limit + 1 requests and compare the list of answers with [True, True, True, False]. Then assert 0 < "
        "r.ttl('ratelimit:ada') <= 60: a TTL can be read at once, no need to wait for it to run out.",
        "To test that a later request does not restart the window, act out time passing: r.expire('ratelimit:ada', "
        "5), one more request, then assert r.ttl('ratelimit:ada') <= 5. Finally, assert that another user is still "
        "allowed.",
    ),
    mutants=(
        Mutant(_only_the_happy_path, "lets limit + 1 requests through"),
        Mutant(_only_the_refusal, "refuses the last request that should pass"),
        Mutant(_never_reads_the_ttl, "never sets an expiry"),
        Mutant(_reads_the_ttl_once, "sets the expiry again on every request"),
        Mutant(_one_user_only, "requests of all users together"),
        Mutant(_expects_four, "failed against a correct allow_request"),
        Mutant(_sleeps_through_the_window, "to let a window run out"),
        Mutant(_never_calls_it, "never called allow_request"),
        Mutant(_async_test, "yours is an `async def`"),
    ),
)


EXERCISES = [WRITE_A_TEST]


QUIZZES = [
    Quiz(
        id="testing.quiz_ttl",
        question=(
            "A function must store a session with a 24-hour expiry. Which test checks that quickly and reliably?"
        ),
        options=(
            "Call it, sleep 24 hours, and assert that the key is gone",
            "Call it, then assert 86_000 < r.ttl(key) <= 86_400",
            "Call it, then assert r.exists(key)",
        ),
        answer=1,
        explanation=(
            "A TTL is data you can read at once: a range allows for the moment that passes between the call and the "
            "check. Checking that the key exists says nothing about its expiry, and sleeping makes a suite slow."
        ),
    ),
    Quiz(
        id="testing.quiz_fake_or_real",
        question="Your unit tests pass on fakeredis. What can they still miss that a test on a real Redis catches?",
        options=(
            "Nothing: fakeredis implements every command exactly as Redis does",
            "Differences of a real server: a command or option your server's version lacks, real timing and "
            "connections",
            "Only performance problems",
        ),
        answer=1,
        explanation=(
            "fakeredis emulates one Redis version in memory, with no network: it cannot tell you that your production "
            "server is older, and it has its own small differences. Run the same tests on a real server too, as "
            "integration tests."
        ),
    ),
]
