"""15-async-and-testing (asyncio half): many hashes in one round trip, and collecting pub/sub messages in time.

Both answers are `async def`: the engine runs them on an event loop of the check's own, with r a traced
redis.asyncio client (see _async_trial), and says so in one sentence when an await is missing, when a coroutine
is returned instead of its result, or when the code blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis

from .._async_trial import AsyncTrial
from .._exercise import Exercise, Mutant
from .._probes import expect_a_list_of_data, expect_first_messages, keep_pubsubs, shorten, still_subscribed
from .._quiz import Quiz
from .._trial import CheckFailed, Trial

NOTEBOOK = "15-async-and-testing"


# -- aio.fetch_profiles -------------------------------------------------------------------------------------
async def fetch_profiles(r, user_ids):
    async with r.pipeline(transaction=False) as pipe:
        for user_id in user_ids:
            pipe.hgetall(f"user:{user_id}")  # queued: no await, nothing sent yet
        return await pipe.execute()  # one request, one reply: the hashes in order, {} for a missing one


async def _gathers(r, user_ids):
    return list(await asyncio.gather(*(r.hgetall(f"user:{user_id}") for user_id in user_ids)))


async def _one_by_one(r, user_ids):
    return [await r.hgetall(f"user:{user_id}") for user_id in user_ids]


async def _returns_the_coroutine(r, user_ids):
    pipe = r.pipeline(transaction=False)
    for user_id in user_ids:
        pipe.hgetall(f"user:{user_id}")
    return pipe.execute()


async def _list_of_coroutines(r, user_ids):
    return [r.hgetall(f"user:{user_id}") for user_id in user_ids]


async def _iterates_the_coroutine(r, user_ids):
    pipe = r.pipeline(transaction=False)
    for user_id in user_ids:
        pipe.hgetall(f"user:{user_id}")
    replies = pipe.execute()
    return list(replies)


async def _none_for_missing(r, user_ids):
    async with r.pipeline(transaction=False) as pipe:
        for user_id in user_ids:
            pipe.hgetall(f"user:{user_id}")
        return [profile or None for profile in await pipe.execute()]


async def _drops_missing(r, user_ids):
    async with r.pipeline(transaction=False) as pipe:
        for user_id in user_ids:
            pipe.hgetall(f"user:{user_id}")
        return [profile for profile in await pipe.execute() if profile]


async def _by_id(r, user_ids):
    async with r.pipeline(transaction=False) as pipe:
        for user_id in user_ids:
            pipe.hgetall(f"user:{user_id}")
        return dict(zip(user_ids, await pipe.execute(), strict=True))


async def _wrong_key(r, user_ids):
    async with r.pipeline(transaction=False) as pipe:
        for user_id in user_ids:
            pipe.hgetall(f"profile:{user_id}")
        return await pipe.execute()


def _plain_def(r, user_ids):
    pipe = r.pipeline(transaction=False)
    for user_id in user_ids:
        pipe.hgetall(f"user:{user_id}")
    return pipe.execute()


PROFILES = {
    "1": {"name": "Ada", "lang": "en"},
    "2": {"name": "Grace", "lang": "en", "team": "navy"},
    "3": {"name": "Edsger", "lang": "nl"},
}


def _expect_profiles(t: Trial, value: Any, asked: list[str], expected: list[dict[str, str]]) -> None:
    missing = [user_id for user_id, profile in zip(asked, expected, strict=True) if not profile]
    if isinstance(value, dict):
        t.fail(
            f"{t.last_call} returned a dict {shorten(value, 60)}; return a list, one hash per user id in the order "
            "of user_ids (the caller pairs them up with zip(user_ids, profiles))."
        )
    if not isinstance(value, list):
        t.fail(f"{t.last_call} returned {type(value).__name__} {shorten(value, 60)}; return a list of dicts.")
    if missing and len(value) == len(asked) - len(missing) and value == [p for p in expected if p]:
        t.fail(
            f"{t.last_call} returned {len(value)} profiles for {len(asked)} user ids: it dropped "
            f"{', '.join(repr(user_id) for user_id in missing)}, who has no hash, so the list no longer lines up "
            "with user_ids. Keep an empty dict {} in their place (HGETALL of a missing key already replies {})."
        )
    for user_id, got, wanted in zip(asked, value, expected, strict=False):
        if got is None and wanted == {}:
            t.fail(
                f"{t.last_call} returned None for user {user_id!r}, who has no hash; return {{}} there, as HGETALL "
                "of a missing key replies, so that every item is a dict the caller can read with .get()."
            )
    if value and all(got == {} for got in value) and any(expected):
        read = sorted({command[1] for command in t.sent if len(command) > 1 and command[0].upper() == "HGETALL"})
        stored = [user_id for user_id, profile in zip(asked, expected, strict=True) if profile]
        t.fail(
            f"{t.last_call} returned only empty dicts, though users {', '.join(stored[:3])} have hashes at "
            f"user:<id> (user:{stored[0]}, ...)" + (f"; your code read {read[:3]}." if read else ".")
        )
    if len(value) == len(expected) and value != expected and sorted(map(repr, value)) == sorted(map(repr, expected)):
        t.fail(
            f"{t.last_call} returned the right hashes in the wrong order: {shorten(value, 80)}; keep user_ids' order."
        )
    t.expect_equal(value, expected, f"{t.last_call}")


def _expect_one_round_trip(t: AsyncTrial, users: int) -> None:
    trips = t.round_trips
    if trips <= 1:
        return
    pipeline_advice = (
        "Queue them all on one pipeline instead: pipe = r.pipeline(transaction=False), pipe.hgetall(...) for each "
        "user (no await: it only queues), then await pipe.execute(): one request, one reply, in order."
    )
    if t.tasks_sending > 1:
        t.fail(
            f"{t.last_call} made {trips} round trips for {users} users, from {t.tasks_sending} tasks at once: "
            "asyncio.gather overlaps the waits, but each HGETALL is still a request of its own for the server, and "
            f"each command in flight borrows a connection of its own from the pool. {pipeline_advice}"
        )
    t.fail(
        f"{t.last_call} made {trips} round trips for {users} users, one after another: each await waits for its "
        f"reply before the next command leaves. {pipeline_advice}"
    )


def check_fetch_profiles(t: Trial) -> str:
    assert isinstance(t, AsyncTrial)
    many = [str(number) for number in range(100, 160)]
    with t.admin.pipeline(transaction=False) as setup:
        for user_id, fields in PROFILES.items():
            setup.hset(f"user:{user_id}", mapping=fields)
        for user_id in many[::2]:
            setup.hset(f"user:{user_id}", mapping={"name": f"user {user_id}", "visits": user_id})
        setup.execute()
    asked = ["2", "9", "1", "3"]
    _expect_profiles(t, t.call(asked), asked, [PROFILES["2"], {}, PROFILES["1"], PROFILES["3"]])
    _expect_one_round_trip(t, len(asked))

    expected = [{"name": f"user {u}", "visits": u} if n % 2 == 0 else {} for n, u in enumerate(many)]
    _expect_profiles(t, t.call(many), many, expected)
    _expect_one_round_trip(t, len(many))

    value = t.call([])
    if value != []:
        t.fail(f"{t.last_call} returned {shorten(value, 60)}; with no user ids, return an empty list.")
    return (
        "fetch_profiles reads every hash in one round trip, in order, with {} for a user without one: one request "
        "however many users, on one connection."
    )


FETCH_PROFILES = Exercise(
    id="aio.fetch_profiles",
    title="Many profiles in one round trip (async)",
    signature="fetch_profiles(r, user_ids: list[str]) -> list[dict[str, str]]",
    task="Write it as `async def`; r is a redis.asyncio client. Return the hash user:<id> of every id in user_ids, "
    "in the same order, with {} for a user who has no hash, in a single round trip however many ids there are.",
    checker=check_fetch_profiles,
    reference=fetch_profiles,
    hints=(
        "asyncio.gather runs the reads at the same time, but each is still a request of its own. One request can "
        "carry them all: a pipeline.",
        "async with r.pipeline(transaction=False) as pipe: queue pipe.hgetall(f'user:{user_id}') for each id "
        "(without await: queuing sends nothing), then replies = await pipe.execute().",
        "pipe.execute() returns the replies in the order the commands were queued, and HGETALL of a missing key "
        "replies {}: return that list as it is.",
    ),
    mutants=(
        Mutant(_gathers, "tasks at once"),
        Mutant(_one_by_one, "one after another"),
        Mutant(_returns_the_coroutine, "returned a coroutine"),
        Mutant(_list_of_coroutines, "holding 4 coroutines"),
        Mutant(_iterates_the_coroutine, "called pipe.execute() without await"),
        Mutant(_none_for_missing, "returned None for user '9'"),
        Mutant(_drops_missing, "no longer lines up"),
        Mutant(_by_id, "returned a dict"),
        Mutant(_wrong_key, "your code read ['profile:1'"),
        Mutant(_plain_def, "must be a coroutine function"),
    ),
)


# -- aio.collect ----------------------------------------------------------------------------------------------
async def collect(r, channel, count, timeout):
    async with r.pubsub(ignore_subscribe_messages=True) as pubsub:  # closed on the way out, however that happens
        await pubsub.subscribe(channel)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout  # one deadline for the whole call
        received = []
        while len(received) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            message = await pubsub.get_message(timeout=remaining)  # None: nothing yet, or a confirmation skipped
            if message is not None and message["type"] == "message":
                received.append(message["data"])
        await pubsub.unsubscribe(channel)
    return received


async def _loop_until(pubsub, count, deadline, whole_message=False):
    """The loop most answers write, with one overall deadline."""
    loop = asyncio.get_running_loop()
    received = []
    while len(received) < count and loop.time() < deadline:
        message = await pubsub.get_message(timeout=deadline - loop.time())
        if message is not None:
            received.append(message if whole_message else message["data"])
    return received


async def _includes_confirmation(r, channel, count, timeout):
    pubsub = r.pubsub()
    await pubsub.subscribe(channel)
    received = await _loop_until(pubsub, count, asyncio.get_running_loop().time() + timeout)
    await pubsub.unsubscribe(channel)
    return received


async def _returns_message_dicts(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    received = await _loop_until(pubsub, count, asyncio.get_running_loop().time() + timeout, whole_message=True)
    await pubsub.unsubscribe(channel)
    return received


async def _ignores_count(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    received = await _loop_until(pubsub, math.inf, asyncio.get_running_loop().time() + timeout)
    await pubsub.unsubscribe(channel)
    return received


async def _never_unsubscribes(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    return await _loop_until(pubsub, count, asyncio.get_running_loop().time() + timeout)


async def _listens_forever(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    received = []
    async for message in pubsub.listen():
        if message["type"] == "message":
            received.append(message["data"])
            if len(received) == count:
                break
    await pubsub.unsubscribe(channel)
    return received


async def _timeout_per_message(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    received = []
    while len(received) < count:
        try:
            message = await asyncio.wait_for(pubsub.get_message(timeout=None), timeout)  # restarts for every message
        except asyncio.TimeoutError:
            break
        if message is not None:
            received.append(message["data"])
    await pubsub.unsubscribe(channel)
    return received


async def _gives_up_at_first_none(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    received = []
    while len(received) < count:
        message = await pubsub.get_message(timeout=timeout)
        if message is None:  # the skipped subscribe confirmation comes back as None too
            break
        received.append(message["data"])
    await pubsub.unsubscribe(channel)
    return received


async def _sleeps_then_drains(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    await asyncio.sleep(timeout)  # let the messages pile up...
    received = []
    while len(received) < count:
        message = await pubsub.get_message()
        if message is None:  # ...then read until None: but the skipped confirmation comes first, as None
            break
        received.append(message["data"])
    await pubsub.unsubscribe(channel)
    return received


async def _blocks_the_loop(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    time.sleep(timeout)  # a synchronous wait: the whole event loop stops with it
    received = []
    while len(received) < count:
        message = await pubsub.get_message(timeout=0.01)
        if message is None:
            break
        received.append(message["data"])
    await pubsub.unsubscribe(channel)
    return received


async def _forgets_to_await_subscribe(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    received = await _loop_until(pubsub, count, asyncio.get_running_loop().time() + timeout)
    await pubsub.unsubscribe(channel)
    return received


async def _timeout_skips_the_unsubscribe(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    received = []

    async def read():
        while len(received) < count:
            message = await pubsub.get_message(timeout=None)
            if message is not None:
                received.append(message["data"])

    try:
        await asyncio.wait_for(read(), timeout)
        await pubsub.unsubscribe(channel)  # skipped when the timeout fires: it belongs in a finally block
    except asyncio.TimeoutError:
        pass
    return received


async def _lets_the_timeout_escape(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    received = []

    async def read():
        while len(received) < count:
            message = await pubsub.get_message(timeout=None)
            if message is not None:
                received.append(message["data"])

    try:
        await asyncio.wait_for(read(), timeout)
    finally:
        await pubsub.unsubscribe(channel)
    return received


def _collect_plain_def(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    return []


async def _close_all(pubsubs: list[Any]) -> None:
    for pubsub in pubsubs:
        with contextlib.suppress(redis.RedisError, OSError, RuntimeError):
            await (getattr(pubsub, "aclose", None) or pubsub.reset)()


def _publisher(channel: str, texts: list[str], every: float = 0.0) -> Callable[[redis.Redis], Iterator[float]]:
    """Publish texts on channel in order, one every `every` seconds; a paced publisher stops once nobody listens."""

    def publish(client: redis.Redis) -> Iterator[float]:
        for text in texts:
            heard = client.publish(channel, text)
            if every:
                if not heard:
                    return
                yield every

    return publish


def _no_limit(timeout: float) -> str:
    return (
        f"Its timeout was {timeout:g} s, so something in it waits without a limit (pubsub.listen() and "
        "get_message(timeout=None) wait for the next message however long that takes). Give the whole call one "
        "deadline: wait with get_message(timeout=deadline - loop.time()), or wrap the loop in "
        "asyncio.timeout(timeout) (asyncio.wait_for before Python 3.11)."
    )


_TIMEOUT_ERRORS = (asyncio.TimeoutError, TimeoutError)  # the same class from Python 3.11 on


def _call_collect(t: AsyncTrial, channel: str, count: int, timeout: float, within: float) -> tuple[Any, float]:
    started = time.perf_counter()
    value, error = t.try_call(
        channel,
        count,
        timeout,
        within=within,
        too_slow=_no_limit(timeout),
        expected=(asyncio.TimeoutError, TimeoutError),
    )
    seconds = time.perf_counter() - started
    if error is not None:
        t.fail(
            f"{t.last_call} raised TimeoutError when its {timeout:g} s were up. Running out of time is the normal "
            "end of this call, not an error: catch it (except TimeoutError around asyncio.timeout or wait_for) and "
            "return the messages that arrived, after unsubscribing."
        )
    return value, seconds


def _expect_data_list(t: Trial, value: Any, expected: list[str]) -> None:
    expect_a_list_of_data(t, value)
    odd = next((item for item in value if not isinstance(item, str)), None)
    if isinstance(odd, int):
        t.fail(
            f"{t.last_call} returned {shorten(value, 80)}: the {odd} is the data of the subscribe confirmation (a "
            "message of type 'subscribe'), not a published message. Keep only messages whose type is 'message', "
            "or create the PubSub with r.pubsub(ignore_subscribe_messages=True)."
        )
    if odd is not None:
        t.fail(f"{t.last_call} returned {shorten(value, 80)}; every item should be a message's data, a str.")
    expect_first_messages(t, value, expected)


def _expect_unsubscribed(t: Trial, channel: str, how: str) -> None:
    if still_subscribed(t, channel):
        t.fail(
            f"When {t.last_call} {how}, its PubSub was still subscribed to {channel}: the server keeps pushing every "
            "message to it, and they pile up unread. Unsubscribe in a finally block (await pubsub.unsubscribe(), "
            "then await pubsub.aclose()), so that it runs however the call ends, the timeout included."
        )


def check_collect(t: Trial) -> str:
    assert isinstance(t, AsyncTrial)
    kept = keep_pubsubs(t)
    try:
        news = ["a1", "b2", "c3", "d4"]
        t.when_subscribed("news", _publisher("news", news))
        value, seconds = _call_collect(t, "news", 3, 2.0, within=3.0)
        if isinstance(value, list) and len(value) < 3 and value == news[: len(value)] and t.recorder.used("SUBSCRIBE"):
            if seconds < 1.9:
                t.fail(
                    f"{t.last_call} gave up after {seconds:.2f} s with {shorten(value, 50)}, before its 2 s timeout, "
                    "while messages were being published. get_message() returns None when nothing is waiting at "
                    "that instant (and for a skipped subscribe confirmation): keep looping until count messages "
                    "or the deadline."
                )
            t.fail(
                f"{t.last_call} returned {value!r} after {seconds:.2f} s, although 'a1', 'b2', 'c3' and 'd4' were "
                "published right after your SUBSCRIBE: they were waiting on your connection, unread. None from "
                "get_message() is not the end of the stream (a skipped confirmation also reads as None): loop on "
                "await pubsub.get_message(timeout=remaining) until count messages or the deadline."
            )
        _expect_data_list(t, value, news[:3])
        if seconds > 1.5:
            t.fail(
                f"{t.last_call} took {seconds:.2f} s, though its 3 messages were published at once: return as soon "
                "as count messages have arrived."
            )
        _expect_unsubscribed(t, "news", "returned")

        ticks = [f"t{number}" for number in range(8)]
        t.when_subscribed("ticks", _publisher("ticks", ticks, every=0.08))
        value, seconds = _call_collect(t, "ticks", 20, 0.3, within=2.0)
        if isinstance(value, list) and value == ticks[: len(value)]:
            if seconds > 0.3 + 0.35:  # a right answer takes 0.3 s; a wait of 0.3 s per message, about 0.9 s
                t.fail(
                    f"{t.last_call} returned after {seconds:.2f} s, but timeout=0.3 is for the whole call: messages "
                    "kept arriving every 0.08 s, so a wait of up to 0.3 s per message never ran out. Compute one "
                    "deadline before the loop (loop.time() + timeout) and wait at most the time that remains, or "
                    "wrap the whole loop in asyncio.timeout(timeout)."
                )
            if seconds < 0.2 or not value:
                t.fail(
                    f"{t.last_call} gave up after {seconds:.2f} s with {shorten(value, 50)}, before its 0.3 s "
                    "timeout, while a message arrived every 0.08 s: keep waiting until count messages or the "
                    "deadline."
                )
        else:
            _expect_data_list(t, value, ticks[:3])
        _expect_unsubscribed(t, "ticks", "ran out of time")

        value, _ = _call_collect(t, "silence", 1, 0.1, within=1.1)
        if value != []:
            t.fail(f"Nobody published on silence, yet {t.last_call} returned {shorten(value, 60)}; expected [].")
        _expect_unsubscribed(t, "silence", "ran out of time")
    finally:
        with contextlib.suppress(CheckFailed, Exception):
            t.run(_close_all(kept))
    return (
        "collect waits without blocking the event loop, skips confirmations, stops at count or at one overall "
        "deadline, and unsubscribes however it ends."
    )


COLLECT = Exercise(
    id="aio.collect",
    title="Collect pub/sub messages within a deadline (async)",
    signature="collect(r, channel: str, count: int, timeout: float) -> list[str]",
    task="Write it as `async def`; r is a redis.asyncio client. Subscribe to channel and return the data of the "
    "first count messages published after subscribing, waiting at most timeout seconds in all (return what "
    "arrived if fewer; running out of time is not an error). Subscription confirmations are not messages. "
    "Unsubscribe before returning, however the call ends.",
    checker=check_collect,
    reference=collect,
    hints=(
        "As in notebook 12, with await: pubsub = r.pubsub(ignore_subscribe_messages=True); await "
        "pubsub.subscribe(channel); then loop on await pubsub.get_message(timeout=...), which returns None when "
        "nothing arrived in time.",
        "One deadline for the whole call: loop = asyncio.get_running_loop(); deadline = loop.time() + timeout, and "
        "each wait is get_message(timeout=deadline - loop.time()). (Or wrap the loop in async with "
        "asyncio.timeout(timeout), catching TimeoutError.)",
        "Keep message['data'] of messages whose type is 'message', and put await pubsub.unsubscribe(channel) and "
        "await pubsub.aclose() in a finally block so that they run however the loop ends.",
    ),
    mutants=(
        Mutant(_includes_confirmation, "subscribe confirmation"),
        Mutant(_returns_message_dicts, "message['data']"),
        Mutant(_ignores_count, "stop as soon as count"),
        Mutant(_never_unsubscribes, "was still subscribed to news"),
        Mutant(_listens_forever, "waits without a limit"),
        Mutant(_timeout_per_message, "is for the whole call"),
        Mutant(_gives_up_at_first_none, "gave up after"),
        Mutant(_sleeps_then_drains, "is not the end of the stream"),
        Mutant(_blocks_the_loop, "blocked the event loop"),
        Mutant(_forgets_to_await_subscribe, "called pubsub.subscribe() without await"),
        Mutant(_timeout_skips_the_unsubscribe, "Unsubscribe in a finally block"),
        Mutant(_lets_the_timeout_escape, "raised TimeoutError"),
        Mutant(_collect_plain_def, "must be a coroutine function"),
    ),
)


EXERCISES = [FETCH_PROFILES, COLLECT]


QUIZZES = [
    Quiz(
        id="aio.quiz_gather",
        question=(
            "A coroutine runs `await asyncio.gather(*(r.get(f'k{i}') for i in range(100)))` on one redis.asyncio "
            "client. How many requests reach the server?"
        ),
        options=(
            "One: gather batches the commands like a pipeline",
            "100, sent concurrently, on as many pool connections as are needed at once",
            "100, one after another on a single connection",
        ),
        answer=1,
        explanation=(
            "gather only overlaps the waiting: every GET is still its own request, and the pool lends each command in "
            "flight a connection of its own (opening new ones if needed). A pipeline sends all 100 as one request "
            "on one connection."
        ),
    ),
    Quiz(
        id="aio.quiz_blocking",
        question=(
            "An async web handler calls `time.sleep(0.2)` (or a synchronous redis.Redis command that takes 0.2 s). "
            "While it waits, what happens to the other requests the same process is serving?"
        ),
        options=(
            "They go on: asyncio runs them on other threads",
            "They all wait: the event loop cannot switch tasks until the sleep ends",
            "Only requests that use Redis wait",
        ),
        answer=1,
        explanation=(
            "The event loop runs one task at a time and switches only at an await. A synchronous sleep or I/O call "
            "holds the loop: every other task waits. Use await asyncio.sleep and the asyncio client."
        ),
    ),
]
