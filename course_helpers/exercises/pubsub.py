"""12-pubsub: collecting messages within a deadline, pattern subscriptions, and live plus durable delivery."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis

from .._exercise import Exercise, Mutant
from .._probes import expect_a_list_of_data, expect_first_messages, keep_pubsubs, shorten, still_subscribed
from .._quiz import Quiz
from .._trial import Trial

NOTEBOOK = "12-pubsub"


def _close_all(pubsubs: list[Any]) -> None:
    for pubsub in pubsubs:
        with contextlib.suppress(redis.RedisError, OSError):
            pubsub.close()


def _publisher(channel_messages: list[tuple[str, str]], every: float = 0.0) -> Callable[[redis.Redis], Iterator[float]]:
    """Publish the messages in order, one every `every` seconds; a paced publisher stops when nobody listens.

    It pauses by yielding the seconds to wait (Trial.in_background sleeps them), so that in a browser tab,
    with no threads, the learner's code runs while the publisher waits.
    """

    def publish(client: redis.Redis) -> Iterator[float]:
        for channel, data in channel_messages:
            heard = client.publish(channel, data)
            if every:
                if not heard:
                    return
                yield every

    return publish


def _waits_without_limit(timeout: float) -> str:
    """What t.call(..., within=...) says when a collect call outlives its own timeout."""
    return (
        f"Its timeout was {timeout:g} s, so something in it waits without a limit (pubsub.listen() and "
        "get_message(timeout=None) block until the next message, however long that takes). Compute a deadline "
        "once and loop on pubsub.get_message(timeout=deadline - time.monotonic()) until it passes."
    )


# -- pubsub.collect_messages ---------------------------------------------------------------------------
def collect_messages(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    received = []
    deadline = time.monotonic() + timeout  # one deadline for the whole call
    try:
        while len(received) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            message = pubsub.get_message(timeout=remaining)  # None: nothing yet, or a confirmation skipped
            if message is not None and message["type"] == "message":
                received.append(message["data"])
    finally:
        pubsub.unsubscribe(channel)
        pubsub.close()
    return received


def _channel_loop(r, channel, count, timeout, ignore=True, whole_message=False, close=True):
    """The shape most answers take; each of the four mutants below gets one detail wrong."""
    pubsub = r.pubsub(ignore_subscribe_messages=ignore)
    pubsub.subscribe(channel)
    received = []
    deadline = time.monotonic() + timeout
    while len(received) < count and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=deadline - time.monotonic())
        if message is not None:
            received.append(message if whole_message else message["data"])
    if close:
        pubsub.close()
    return received


def _includes_confirmation(r, channel, count, timeout):
    return _channel_loop(r, channel, count, timeout, ignore=False)


def _returns_message_dicts(r, channel, count, timeout):
    return _channel_loop(r, channel, count, timeout, whole_message=True)


def _ignores_count(r, channel, count, timeout):
    return _channel_loop(r, channel, math.inf, timeout)  # collects until the deadline, however many arrived


def _never_unsubscribes(r, channel, count, timeout):
    return _channel_loop(r, channel, count, timeout, close=False)


def _listens_forever(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    received = []
    for message in pubsub.listen():
        if message["type"] == "message":
            received.append(message["data"])
            if len(received) == count:
                break
    pubsub.close()
    return received


def _timeout_per_message(r, channel, count, timeout):
    pubsub = r.pubsub()
    pubsub.subscribe(channel)
    received = []
    while len(received) < count:
        message = pubsub.get_message(timeout=timeout)
        if message is None:
            break
        if message["type"] == "message":
            received.append(message["data"])
    pubsub.close()
    return received


def _gives_up_at_first_none(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    received = []
    while len(received) < count:
        message = pubsub.get_message(timeout=timeout)
        if message is None:  # the skipped subscribe confirmation also comes back as None
            break
        received.append(message["data"])
    pubsub.close()
    return received


def _sleeps_then_drains(r, channel, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    time.sleep(timeout)  # let the messages pile up...
    received = []
    while len(received) < count:
        message = pubsub.get_message()
        if message is None:  # ...then read until None: but the skipped confirmation comes first, as None
            break
        received.append(message["data"])
    pubsub.unsubscribe(channel)
    pubsub.close()
    return received


def _gave_up(t: Trial, value: list[Any], seconds: float, timeout: float) -> None:
    t.fail(
        f"{t.last_call} gave up after {seconds:.2f} s with {shorten(value, 50)}, before its {timeout:g} s timeout, "
        "while messages were still being published. get_message() returns None when nothing has arrived yet (and "
        "for a skipped subscribe confirmation): keep looping until count messages or the deadline."
    )


def _expect_data_list(t: Trial, value: Any, expected: list[str]) -> None:
    expect_a_list_of_data(t, value, ", e.g. ['a1', 'b2', 'c3']")
    if any(not isinstance(item, str) for item in value):
        odd = next(item for item in value if not isinstance(item, str))
        if isinstance(odd, int):
            t.fail(
                f"{t.last_call} returned {shorten(value, 80)}: the {odd} is the data of the subscribe confirmation "
                "(a message of type 'subscribe' whose data is how many channels and patterns this connection is "
                "subscribed to), not a published message. Keep only messages whose type is 'message', or create "
                "the PubSub with r.pubsub(ignore_subscribe_messages=True)."
            )
        t.fail(f"{t.last_call} returned {shorten(value, 80)}; every item should be a message's data, a str.")
    expect_first_messages(t, value, expected)


def check_collect_messages(t: Trial) -> str:
    kept = keep_pubsubs(t)
    try:
        published = ["a1", "b2", "c3", "d4"]
        sent: list[bool] = []
        publish_news = _publisher([("news", text) for text in published])

        def publish_and_note(client: redis.Redis) -> Iterator[float]:
            sent.append(True)
            yield from publish_news(client)

        t.when_subscribed("news", publish_and_note)
        value, seconds = t.timed_call("news", 3, 2.0, within=3.0, too_slow=_waits_without_limit(2.0))
        if isinstance(value, list) and len(value) < 3 and value == published[: len(value)]:
            if seconds < 1.9:
                _gave_up(t, value, seconds, 2.0)
            if sent and t.recorder.used("SUBSCRIBE"):
                t.fail(
                    f"{t.last_call} returned {value!r} after {seconds:.2f} s, although 'a1', 'b2', 'c3' and 'd4' "
                    "were published on news right after your SUBSCRIBE reached the server: they were waiting on "
                    "your connection, unread. get_message() returning None is not the end of the stream: it is "
                    "also what you get for the subscribe confirmation (ignore_subscribe_messages=True turns it "
                    "into None) and whenever no message is waiting at that instant. Rather than sleeping and then "
                    "reading until the first None, loop on get_message(timeout=deadline - time.monotonic()) until "
                    "count messages have arrived or the deadline has passed."
                )
        _expect_data_list(t, value, published[:3])
        left = still_subscribed(t, "news")
        if left:
            t.fail(
                f"When {t.last_call} returned, its PubSub was still subscribed to news: the server keeps sending it "
                "every message, which pile up unread. Call pubsub.unsubscribe() and pubsub.close() before returning "
                "(in a finally block)."
            )

        ticks = [("ticks", f"t{number}") for number in range(8)]
        t.when_subscribed("ticks", _publisher(ticks, every=0.08))
        value, seconds = t.timed_call("ticks", 20, 0.3, within=2.0, too_slow=_waits_without_limit(0.3))
        if isinstance(value, list) and value == [data for _, data in ticks[: len(value)]]:
            if seconds > 0.3 + 0.35:  # a right answer takes 0.3 s; waiting 0.3 s per message takes ~0.9 s
                t.fail(
                    f"{t.last_call} returned after {seconds:.2f} s, but timeout=0.3 is for the whole call: messages "
                    "kept arriving every 0.08 s, so a wait of up to 0.3 s per message never ran out. Compute "
                    "deadline = time.monotonic() + timeout once and pass get_message(timeout=deadline - "
                    "time.monotonic())."
                )
            if seconds < 0.3 - 0.1 or not value:
                _gave_up(t, value, seconds, 0.3)
        else:
            _expect_data_list(t, value, [data for _, data in ticks[:3]])

        value = t.call("silence", 1, 0.1, within=1.1, too_slow=_waits_without_limit(0.1))
        if value != []:
            t.fail(f"Nobody published on silence, yet {t.last_call} returned {shorten(value, 60)}; expected [].")
        if still_subscribed(t, "silence"):
            t.fail(f"When {t.last_call} timed out, its PubSub was still subscribed: unsubscribe in a finally block.")
    finally:
        _close_all(kept)
    return (
        "collect_messages skips confirmations, stops at count or at one overall deadline, and unsubscribes "
        "before returning."
    )


COLLECT_MESSAGES = Exercise(
    id="pubsub.collect_messages",
    title="Collect messages within a deadline",
    signature="collect_messages(r, channel: str, count: int, timeout: float) -> list[str]",
    task="Subscribe to channel and return the data of the first count messages published after subscribing, "
    "waiting at most timeout seconds in all (return what arrived if fewer). Subscription confirmations are "
    "not messages. Unsubscribe before returning.",
    checker=check_collect_messages,
    reference=collect_messages,
    hints=(
        "pubsub = r.pubsub(ignore_subscribe_messages=True); pubsub.subscribe(channel). Then loop on "
        "pubsub.get_message(timeout=...), which returns None when nothing arrived in time.",
        "One deadline for the whole call: deadline = time.monotonic() + timeout before the loop, and each "
        "wait is get_message(timeout=deadline - time.monotonic()). Stop at count messages or at the deadline.",
        "Keep message['data'] of messages whose type is 'message', and put pubsub.unsubscribe() and "
        "pubsub.close() in a finally block so they run however the loop ends.",
    ),
    mutants=(
        Mutant(_includes_confirmation, "subscribe confirmation"),
        Mutant(_returns_message_dicts, "message['data']"),
        Mutant(_ignores_count, "stop as soon as count"),
        Mutant(_never_unsubscribes, "was still subscribed to news"),
        Mutant(_listens_forever, "block until the next message"),
        Mutant(_timeout_per_message, "is for the whole call"),
        Mutant(_gives_up_at_first_none, "gave up after"),
        Mutant(_sleeps_then_drains, "is not the end of the stream"),
    ),
)


# -- pubsub.collect_pattern ----------------------------------------------------------------------------
def collect_pattern(r, pattern, count, timeout):
    pubsub = r.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe(pattern)
    received = []
    deadline = time.monotonic() + timeout
    try:
        while len(received) < count and (remaining := deadline - time.monotonic()) > 0:
            message = pubsub.get_message(timeout=remaining)
            if message is not None and message["type"] == "pmessage":
                received.append((message["channel"], message["data"]))  # the channel it was published on
    finally:
        pubsub.punsubscribe(pattern)
        pubsub.close()
    return received


def _pattern_loop(
    r,
    pattern,
    count,
    timeout,
    subscribe="psubscribe",
    wanted=("pmessage",),
    field="channel",
    cleanup="close",
    ignore=True,
):
    """The shape most pattern answers take; each mutant below gets one detail wrong."""
    pubsub = r.pubsub(ignore_subscribe_messages=ignore)
    getattr(pubsub, subscribe)(pattern)
    received = []
    deadline = time.monotonic() + timeout
    while len(received) < count and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=deadline - time.monotonic())
        if message is not None and message["type"] in wanted:
            received.append((message[field], message["data"]))
    getattr(pubsub, cleanup)()
    return received


def _subscribes_literally(r, pattern, count, timeout):
    return _pattern_loop(r, pattern, count, timeout, subscribe="subscribe", wanted=("message",))


def _keeps_type_message_only(r, pattern, count, timeout):
    return _pattern_loop(r, pattern, count, timeout, wanted=("message",))


def _returns_pattern_not_channel(r, pattern, count, timeout):
    return _pattern_loop(r, pattern, count, timeout, field="pattern")


def _unsubscribe_keeps_the_pattern(r, pattern, count, timeout):
    return _pattern_loop(r, pattern, count, timeout, cleanup="unsubscribe")


def _includes_psubscribe_confirmation(r, pattern, count, timeout):
    return _pattern_loop(r, pattern, count, timeout, wanted=("psubscribe", "pmessage"), ignore=False)


ORDER_EVENTS = [
    ("orders:eu", "o1"),
    ("users:1", "u1"),
    ("orders:us", "o2"),
    ("orders", "not-me"),
    ("orders:eu", "o3"),
    ("orders:asia", "o4"),
]


def check_collect_pattern(t: Trial) -> str:
    kept = keep_pubsubs(t)
    try:
        t.when_subscribed("orders:*", _publisher(ORDER_EVENTS), timeout=2.0, pattern=True)
        value = t.call("orders:*", 3, 1.0, within=2.0, too_slow=_waits_without_limit(1.0))
        if t.recorder.used("SUBSCRIBE") and not t.recorder.used("PSUBSCRIBE"):
            t.fail(
                f"{t.last_call} used SUBSCRIBE, which listens to the one channel literally named 'orders:*' "
                "(nobody publishes there). To receive every channel that matches a glob pattern, use "
                "pubsub.psubscribe(pattern)."
            )
        if not isinstance(value, list):
            t.fail(f"{t.last_call} returned {shorten(value, 60)}; return a list of (channel, data) pairs.")
        pairs = [tuple(item) if isinstance(item, (list, tuple)) else item for item in value]
        expected = [(channel, data) for channel, data in ORDER_EVENTS if channel.startswith("orders:")][:3]
        if not pairs:
            t.fail(
                f"{t.last_call} returned [] although {expected} were published on matching channels: a pattern "
                "subscription delivers messages of type 'pmessage' (not 'message'), so keep those."
            )
        if any(not isinstance(pair, tuple) or len(pair) != 2 for pair in pairs):
            t.fail(
                f"{t.last_call} returned {shorten(value, 90)}; each item should be a (channel, data) pair such as "
                "('orders:eu', 'o1')."
            )
        if any(not isinstance(data, str) for _, data in pairs):
            t.fail(
                f"{t.last_call} returned {shorten(value, 90)}: the items with a number are subscription "
                "confirmations (type 'psubscribe'), not messages. Keep only type 'pmessage', or create the PubSub "
                "with r.pubsub(ignore_subscribe_messages=True)."
            )
        if pairs and pairs[0][0] == "orders:*":
            t.fail(
                f"{t.last_call} returned {shorten(value, 90)}: 'orders:*' is message['pattern'], the pattern you "
                "subscribed with; the channel each message was published on is message['channel']."
            )
        if pairs != expected:
            t.fail(
                f"{t.last_call} returned {shorten(value, 90)}; expected {expected}: the first {len(expected)} "
                "messages on channels matching orders:*, in order (users:1 and orders do not match)."
            )
        if still_subscribed(t, "orders:probe", pattern=True):
            t.fail(
                f"When {t.last_call} returned, its PubSub still held the pattern subscription orders:*. "
                "pubsub.unsubscribe() only drops channels from SUBSCRIBE: call pubsub.punsubscribe() (or "
                "pubsub.close()) before returning."
            )
        value = t.call("nobody:*", 1, 0.1, within=1.1, too_slow=_waits_without_limit(0.1))
        if value != []:
            t.fail(f"Nobody published on nobody:*, yet {t.last_call} returned {shorten(value, 60)}; expected [].")
    finally:
        _close_all(kept)
    return "collect_pattern receives every matching channel, reports the real channel names, and punsubscribes."


COLLECT_PATTERN = Exercise(
    id="pubsub.collect_pattern",
    title="Subscribe to a pattern",
    signature="collect_pattern(r, pattern: str, count: int, timeout: float) -> list[tuple[str, str]]",
    task="Subscribe to the glob pattern (e.g. 'orders:*') and return (channel, data) for the first count "
    "messages published on matching channels, waiting at most timeout seconds in all. Drop the pattern "
    "subscription before returning.",
    checker=check_collect_pattern,
    reference=collect_pattern,
    hints=(
        "pubsub.psubscribe(pattern) subscribes to every channel that matches; messages then arrive with "
        "type 'pmessage'.",
        "A pmessage has 'pattern' (what you subscribed with), 'channel' (where it was published) and 'data'.",
        "Loop on get_message(timeout=deadline - time.monotonic()) as in collect_messages, and finish with "
        "pubsub.punsubscribe() (unsubscribe() only drops channels) and pubsub.close().",
    ),
    mutants=(
        Mutant(_subscribes_literally, "literally named"),
        Mutant(_keeps_type_message_only, "'pmessage'"),
        Mutant(_returns_pattern_not_channel, "message['channel']"),
        Mutant(_unsubscribe_keeps_the_pattern, "punsubscribe"),
        Mutant(_includes_psubscribe_confirmation, "subscription confirmations"),
    ),
)


# -- pubsub.announce -----------------------------------------------------------------------------------
def announce(r, room, text, keep=50):
    history = f"chat:{room}:history"
    with r.pipeline() as pipe:  # one round trip for all three commands
        pipe.publish(f"chat:{room}", text)  # live: whoever is subscribed right now
        pipe.rpush(history, text)  # durable: newest at the end
        pipe.ltrim(history, -keep, -1)  # keep only the newest `keep`
        receivers, _, _ = pipe.execute()
    return receivers


def _publish_only(r, room, text, keep=50):
    return r.publish(f"chat:{room}", text)


def _no_cap(r, room, text, keep=50):
    with r.pipeline() as pipe:
        pipe.publish(f"chat:{room}", text)
        pipe.rpush(f"chat:{room}:history", text)
        receivers, _ = pipe.execute()
    return receivers


def _keeps_one_too_many(r, room, text, keep=50):
    with r.pipeline() as pipe:
        pipe.publish(f"chat:{room}", text)
        pipe.rpush(f"chat:{room}:history", text)
        pipe.ltrim(f"chat:{room}:history", -keep - 1, -1)
        receivers, _, _ = pipe.execute()
    return receivers


def _three_round_trips(r, room, text, keep=50):
    receivers = r.publish(f"chat:{room}", text)
    r.rpush(f"chat:{room}:history", text)
    r.ltrim(f"chat:{room}:history", -keep, -1)
    return receivers


def _newest_first(r, room, text, keep=50):
    with r.pipeline() as pipe:
        pipe.publish(f"chat:{room}", text)
        pipe.lpush(f"chat:{room}:history", text)
        pipe.ltrim(f"chat:{room}:history", 0, keep - 1)
        receivers, _, _ = pipe.execute()
    return receivers


def _returns_pipeline_replies(r, room, text, keep=50):
    with r.pipeline() as pipe:
        pipe.publish(f"chat:{room}", text)
        pipe.rpush(f"chat:{room}:history", text)
        pipe.ltrim(f"chat:{room}:history", -keep, -1)
        return pipe.execute()


def _published_channels(t: Trial) -> list[str]:
    return [command[1] for command in t.sent if command and command[0].upper() == "PUBLISH" and len(command) > 1]


def _expect_history(t: Trial, key: str, expected: list[str], keep: int, text: str) -> None:
    kind = str(t.admin.type(key))
    if kind == "none":
        t.fail(
            f"After {t.last_call}, {key} does not exist, so a client that was offline when {text!r} was "
            "published can never catch up: pub/sub keeps nothing. Also RPUSH each message onto that list."
        )
    if kind != "list":
        t.fail(f"After {t.last_call}, {key} holds a {kind}; keep the history in a list (RPUSH).")
    history = t.admin.lrange(key, 0, -1)
    if text not in history:
        t.fail(
            f"After {t.last_call}, {key} is {shorten(history, 80)} and does not contain {text!r}, so a client that "
            "was offline when it was published can never catch up (pub/sub keeps nothing): RPUSH it onto the "
            "history too."
        )
    if history and history[0] == text and history[-1] != text:
        t.fail(
            f"After {t.last_call}, {key} is {shorten(history, 80)}: the newest message is first. Append with RPUSH "
            "(newest at the end, like a chat log) and trim with LTRIM key -keep -1."
        )
    if len(history) > keep:
        if t.recorder.used("LTRIM"):
            t.fail(
                f"After {t.last_call}, {key} holds {len(history)} messages, more than keep={keep}: check the LTRIM "
                "range, LTRIM key -keep -1 keeps exactly the last keep items."
            )
        t.fail(
            f"After {t.last_call}, {key} holds {len(history)} messages although keep={keep}: without a cap the "
            "history grows without limit. Trim it in the same pipeline with LTRIM key -keep -1."
        )
    if history != expected:
        t.fail(f"After {t.last_call}, {key} is {shorten(history, 90)}; expected {shorten(expected, 90)}.")


def _expect_receivers(t: Trial, value: Any, expected: int) -> None:
    if isinstance(value, list):
        t.fail(
            f"{t.last_call} returned the list of pipeline replies {shorten(value, 60)}; return only PUBLISH's reply "
            f"(the first item), the number of subscribers that received the message: {expected} here."
        )
    if isinstance(value, bool) or not isinstance(value, int):
        t.fail(f"{t.last_call} returned {shorten(value, 60)}; return PUBLISH's reply, an int ({expected} here).")
    if value != expected:
        t.fail(
            f"{t.last_call} returned {value}; PUBLISH's reply is the number of subscribers that received the "
            f"message, {expected} here. Return that reply."
        )


def check_announce(t: Trial) -> str:
    listener = t.client().pubsub()
    try:
        listener.subscribe("chat:lobby")
        confirmation = listener.get_message(timeout=2)
        t.expect(confirmation is not None, "The check could not subscribe its listener; run the check again.")
        t.admin.rpush("chat:lobby:history", "m1", "m2", "m3")
        receivers = t.call("lobby", "hello", 3)
        heard = listener.get_message(timeout=0.5)
        if heard is None or heard.get("data") != "hello":
            channels = _published_channels(t)
            where = f"you published on {channels}" if channels else "nothing was published"
            t.fail(
                f"A client subscribed to chat:lobby did not receive 'hello' from {t.last_call} ({where}): "
                "PUBLISH the text on the channel chat:<room>."
            )
        _expect_history(t, "chat:lobby:history", ["m2", "m3", "hello"], 3, "hello")
        _expect_receivers(t, receivers, 1)
        if t.round_trips != 1:
            t.fail(
                f"{t.last_call} made {t.round_trips} round trips; queue PUBLISH, RPUSH and LTRIM on one "
                "r.pipeline() and execute() them together, so the live and the durable copy leave in one go."
            )
    finally:
        listener.close()

    receivers = t.call("empty-room", "anyone?", 3)
    _expect_history(t, "chat:empty-room:history", ["anyone?"], 3, "anyone?")
    _expect_receivers(t, receivers, 0)

    t.admin.rpush("chat:busy:history", *[f"old{number}" for number in range(60)])
    t.call("busy", "new")
    history = t.admin.lrange("chat:busy:history", 0, -1)
    if len(history) != 50 or history[-1] != "new":
        t.fail(
            f"After {t.last_call} (keep left at its default), chat:busy:history holds {len(history)} messages "
            f"ending with {history[-1]!r}; expected the newest 50, ending with 'new': use the keep parameter."
        )
    return "announce publishes live, appends to a capped history, in one round trip, and returns the receivers."


ANNOUNCE = Exercise(
    id="pubsub.announce",
    title="Live and durable: publish and keep a capped history",
    signature="announce(r, room: str, text: str, keep: int = 50) -> int",
    task="Publish text on the channel chat:<room> for the clients listening now, and append it to the list "
    "chat:<room>:history (newest at the end) keeping only the newest keep messages, all in one round trip. "
    "Return how many subscribers received it.",
    checker=check_announce,
    reference=announce,
    hints=(
        "Three commands: PUBLISH chat:<room> text, RPUSH chat:<room>:history text, LTRIM with a range that "
        "keeps the last keep items.",
        "LTRIM key -keep -1 keeps the last keep items. Queue the three commands on r.pipeline() and call "
        "execute() once: one round trip.",
        "execute() returns one reply per command, in order; PUBLISH's reply (the first) is the number of "
        "subscribers that received the message.",
    ),
    mutants=(
        Mutant(_publish_only, "pub/sub keeps nothing"),
        Mutant(_no_cap, "grows without limit"),
        Mutant(_keeps_one_too_many, "check the LTRIM range"),
        Mutant(_three_round_trips, "round trips"),
        Mutant(_newest_first, "the newest message is first"),
        Mutant(_returns_pipeline_replies, "list of pipeline replies"),
    ),
)


EXERCISES = [COLLECT_MESSAGES, COLLECT_PATTERN, ANNOUNCE]


QUIZZES = [
    Quiz(
        id="pubsub.quiz_fire_and_forget",
        question=(
            "Your subscriber restarts and is away for 2 seconds while 50 messages are published on its channel. What "
            "happens to them?"
        ),
        options=(
            "Redis keeps them and delivers them when the subscriber is back",
            "They are lost for that subscriber: Pub/Sub keeps nothing",
            "PUBLISH raises an error because nobody is listening",
        ),
        answer=1,
        explanation=(
            "Pub/Sub delivers only to the subscribers connected at that moment; PUBLISH just returns 0. Use a list or a"
            " stream (or both, next to Pub/Sub) when messages must survive."
        ),
    ),
    Quiz(
        id="pubsub.quiz_punsubscribe",
        question=("A program called psubscribe('orders:*') and later unsubscribe(). Does it still receive orders:eu?"),
        options=(
            "No, unsubscribe() ends every subscription",
            "Yes: unsubscribe() only ends SUBSCRIBE channels",
        ),
        answer=1,
        explanation="Pattern subscriptions end with punsubscribe(), or with close(), which ends the connection.",
    ),
]
