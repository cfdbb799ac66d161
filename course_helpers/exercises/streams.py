"""13-streams: append with approximate trimming, read new entries as a group, process with acknowledgements,
and recover the entries of a consumer that died."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import redis

from .._exercise import Exercise, Mutant
from .._probes import refuse_none, refuse_other_types, shorten
from .._quiz import Quiz
from .._trial import CheckFailed, LearnerRaised, Trial
from .._wire import Command, format_command

NOTEBOOK = "13-streams"

# Approximate trimming drops whole nodes of the stream; a node holds at most stream-node-max-entries (100 by
# default) entries, so a stream trimmed with MAXLEN ~ n keeps between n and about n + 100 entries.
NODE_ENTRIES = 100
STALE_IDLE_MS = 600_000  # how long the check's "crashed" consumer has been silent: ten minutes


# -- replies in either shape ----------------------------------------------------------------------------
# redis-py 8's default client (the course's ch.connect(), and the r a check passes) speaks RESP3 on the wire but
# returns XREAD/XREADGROUP as RESP2 always did: a list of [stream, [(id, fields), ...]] pairs. Only a client
# made with protocol=3 returns RESP3's shape: a dict of stream -> a list of batches of (id, fields). An answer
# written for that shape fails to unpack the default reply; the check then judges it again, from the start,
# with a protocol=3 client on the same (emptied) data, and says so in its verdict.
_SHAPE_ERRORS = (TypeError, KeyError, IndexError, ValueError, AttributeError)

_DEFAULT_SHAPE = (
    "With the course's client (ch.connect(), and the r the check passes), r.xreadgroup(...) returns a list with "
    "one [stream, entries] pair per stream, where entries is a list of (id, fields) tuples: reply[0][1] is the "
    "list, and the reply is [] when nothing is new. Only a client made with protocol=3 returns a dict instead."
)
_RESP3_RUN = (
    "Your code could not unpack the reply of the course's client (a list of [stream, entries] pairs), so the "
    "check ran it again with a client made with protocol=3, whose XREADGROUP reply is a dict of stream → list "
    "of batches of entries, the shape your code seems to expect. With that client:"
)
_RESP3_PASS = (
    "(Judged with a client made with protocol=3: your code unpacks RESP3's dict of stream → batches of entries, "
    "which redis-py returns only to such a client, e.g. ch.connect(protocol=3). The course's ch.connect() "
    "returns a list of [stream, entries] pairs instead, which your code does not unpack.)"
)


def _resp3_twin(t: Trial) -> Any:
    """A client like the learner's traced r (same server, same recorder), but made with protocol=3."""
    pool = t.r.connection_pool
    settings = {**pool.connection_kwargs, "protocol": 3}
    return redis.Redis(connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **settings))


def _could_not_unpack(raised: LearnerRaised, t: Trial) -> bool:
    return isinstance(raised.__context__, _SHAPE_ERRORS) and t.recorder.used("XREADGROUP", "XREAD")


def _judge_either_shape(t: Trial, judge: Callable[[Trial], str]) -> str:
    """judge(t) with the default client; if the answer cannot unpack its XREADGROUP reply, again with protocol=3."""
    try:
        return judge(t)
    except LearnerRaised as raised:
        if not _could_not_unpack(raised, t):
            raise
        first = str(raised)
    default_client = t.r
    t.admin.flushdb()  # the trial's own private Redis: start again from nothing
    t.r = _resp3_twin(t)
    try:
        praise = judge(t)
    except LearnerRaised as again:
        if _could_not_unpack(again, t):
            raise LearnerRaised(f"{first} {_DEFAULT_SHAPE}") from None
        raise LearnerRaised(f"{_RESP3_RUN} {again}") from None
    except CheckFailed as failure:
        raise CheckFailed(f"{_RESP3_RUN} {failure}") from None
    finally:
        t.r.close()
        t.r = default_client
    return f"{praise} {_RESP3_PASS}"


def _add_entries(t: Trial, stream: str, entries: list[dict[str, str]]) -> list[str]:
    """XADD each entry (by the checker, in one round trip); their ids, in order."""
    with t.admin.pipeline(transaction=False) as pipe:
        for fields in entries:
            pipe.xadd(stream, fields)
        return [str(entry_id) for entry_id in pipe.execute()]


def _pending_owners(t: Trial, stream: str, group: str) -> dict[str, str]:
    """Entry id -> the consumer it is pending with, for every pending entry of the group."""
    rows = t.admin.xpending_range(stream, group, "-", "+", 10_000)
    return {str(row["message_id"]): str(row["consumer"]) for row in rows}


# -- streams.publish_event --------------------------------------------------------------------------------
def publish_event(r, stream, event, max_len):
    # approximate=True (redis-py's default) sends MAXLEN ~ max_len: Redis trims only whole nodes, which is cheap
    return r.xadd(stream, event, maxlen=max_len, approximate=True)


def _exact_trim(r, stream, event, max_len):
    return r.xadd(stream, event, maxlen=max_len, approximate=False)


def _never_trims(r, stream, event, max_len):
    return r.xadd(stream, event)


def _fixed_cap(r, stream, event, max_len):
    return r.xadd(stream, event, maxlen=10_000)


def _forgets_to_return(r, stream, event, max_len):
    r.xadd(stream, event, maxlen=max_len)


def _reads_the_id_back(r, stream, event, max_len):
    r.xadd(stream, event, maxlen=max_len)
    newest = r.xrevrange(stream, count=1)
    return newest[0][0]


def _one_json_field(r, stream, event, max_len):
    return r.xadd(stream, {"event": json.dumps(event)}, maxlen=max_len)


def _trim_options(sent: list[Command]) -> list[tuple[str, str, bool, str]]:
    """(command, MAXLEN or MINID, approximate?, threshold) for each XADD/XTRIM that trims."""
    found = []
    for command in sent:
        name = command[0].upper() if command else ""
        if name not in ("XADD", "XTRIM"):
            continue
        words = list(command[2:])
        i = 0
        while i < len(words):
            word = words[i].upper()
            if word == "NOMKSTREAM":
                i += 1
            elif word == "LIMIT":
                i += 2
            elif word in ("MAXLEN", "MINID") and i + 1 < len(words):
                approximate = words[i + 1] == "~"
                at = i + 2 if words[i + 1] in ("~", "=") else i + 1
                if at < len(words):
                    found.append((name, word, approximate, words[at]))
                i = at + 1
            else:
                break  # XADD's entry id: the fields follow
    return found


def _expect_published(t: Trial, returned: Any, stream: str, event: dict[str, Any], before: set[str]) -> str:
    """Check that the call appended event as the newest entry of stream and returned its id; returns that id."""
    t.expect_key(stream, "stream", before, "the stream argument")
    newest = t.admin.xrevrange(stream, count=1)
    entry_id, fields = newest[0]
    wanted = {key: str(value) for key, value in event.items()}
    if fields != wanted:
        if len(fields) == 1 and len(wanted) > 1:
            t.fail(
                f"After {t.last_call}, the newest entry of {stream} has one field, {shorten(fields, 90)}. Give the "
                f"event's keys as the entry's fields, {shorten(wanted, 90)}: r.xadd(stream, event, ...) turns each key "
                "into a field, so consumers read fields['type'] without decoding JSON."
            )
        t.expect_equal(fields, wanted, f"After {t.last_call}, the fields of the newest entry of {stream}")
    refuse_none(t, returned, "return the new entry's id; r.xadd(...) returns it (a str such as '1700000000000-0').")
    refuse_other_types(t, returned, str, "return the new entry's id as the str r.xadd(...) returns.")
    if returned != entry_id:
        t.fail(f"{t.last_call} returned {returned!r}, but the entry it appended has the id {entry_id!r}.")
    return str(entry_id)


def check_publish_event(t: Trial) -> str:
    before = t.keys()
    first = t.call("events", {"type": "signup", "user": "ada"}, 1000)
    _expect_published(t, first, "events", {"type": "signup", "user": "ada"}, before)
    second = t.call("events", {"type": "order", "user": "ada", "amount": 42}, 1000)
    _expect_published(t, second, "events", {"type": "order", "user": "ada", "amount": 42}, before)
    if t.admin.xlen("events") != 2:
        t.fail(f"After two calls on a new stream, events holds {t.admin.xlen('events')} entries; expected 2.")

    # A stream far longer than max_len: the call must trim it, approximately, to about max_len.
    _add_entries(t, "clicks", [{"n": str(n)} for n in range(250)])
    returned = t.call("clicks", {"page": "home"}, 100)
    _expect_published(t, returned, "clicks", {"page": "home"}, before)
    length = t.admin.xlen("clicks")
    trims = _trim_options(t.sent)
    if not trims:
        t.fail(
            f"{t.last_call} left clicks at {length} entries: it never trims, so the stream grows for ever. Pass "
            "maxlen=max_len to r.xadd (XADD clicks MAXLEN ~ 100 * ...), which trims in the same command."
        )
    command, strategy, approximate, threshold = trims[-1]
    if strategy != "MAXLEN":
        t.fail(
            f"{t.last_call} trimmed with {strategy} {threshold}, which keeps entries newer than an id. This "
            "exercise keeps about max_len entries: maxlen=max_len (MAXLEN ~ 100)."
        )
    if threshold != "100":
        t.fail(
            f"{t.last_call} trimmed with {command} {strategy} {threshold}, so the stream keeps {threshold} "
            f"entries whatever max_len says (it was 100), and clicks holds {length}. Pass the max_len argument on: "
            "maxlen=max_len."
        )
    if not approximate:
        t.fail(
            f"{t.last_call} trimmed exactly ({command} clicks MAXLEN 100): to keep exactly 100 entries, Redis "
            "must cut entries out of the middle of its packed nodes on every call. With approximate=True "
            "(redis-py's default; MAXLEN ~ 100) it drops only whole nodes (of up to 100 entries), which is much "
            "cheaper, and the stream stays at about max_len, never below."
        )
    if not 100 <= length <= 100 + NODE_ENTRIES:
        t.fail(
            f"After {t.last_call} on a stream of 251 entries, clicks holds {length}; MAXLEN ~ 100 keeps between "
            f"100 and about {100 + NODE_ENTRIES}."
        )

    # Another producer appends between the learner's XADD and anything they send after it.
    state = t.inject_once(["XADD"], lambda other: other.xadd("orders", {"by": "another producer"}))
    returned = t.call("orders", {"order": "42"}, 1000)
    entries = t.admin.xrange("orders")
    ours = [entry_id for entry_id, fields in entries if fields == {"order": "42"}]
    if state["fired"] and ours and returned != ours[0]:
        t.fail(
            f"{t.last_call} returned {returned!r}, the id of another producer's entry: it appended right after "
            f"yours, before your code read the newest id back, and yours is {ours[0]!r}. XADD already replies "
            "with the id it assigned: return what r.xadd(...) returns instead of reading the stream again."
        )
    t.expect(ours, f"After {t.last_call}, orders holds no entry with the fields {{'order': '42'}}.")
    t.expect_equal(returned, ours[0], f"{t.last_call}, the returned id")
    return (
        "publish_event appends each event, keeps the stream at about max_len with cheap trimming, and returns its id."
    )


PUBLISH_EVENT = Exercise(
    id="streams.publish_event",
    title="Publish an event to a capped stream",
    signature="publish_event(r, stream: str, event: dict, max_len: int) -> str",
    task="Append event (a dict of field → value) to the stream as one entry, keep the stream at about max_len "
    "entries with approximate trimming (never fewer than max_len), and return the new entry's id.",
    checker=check_publish_event,
    reference=publish_event,
    hints=(
        "One command appends and trims at once. Trimming approximately lets Redis drop only whole blocks of "
        "entries, so the stream may stay a little longer than max_len.",
        "r.xadd(stream, fields, maxlen=n, approximate=True) sends XADD stream MAXLEN ~ n * field value ...; "
        "approximate=True is redis-py's default. It returns the new entry's id.",
        "return r.xadd(stream, event, maxlen=max_len, approximate=True)",
    ),
    mutants=(
        Mutant(_exact_trim, "trimmed exactly"),
        Mutant(_never_trims, "it never trims"),
        Mutant(_fixed_cap, "whatever max_len says"),
        Mutant(_forgets_to_return, "returned None"),
        Mutant(_reads_the_id_back, "the id of another producer's entry"),
        Mutant(_one_json_field, "has one field"),
    ),
)


# -- streams.read_new -------------------------------------------------------------------------------------
def read_new(r, stream, group, consumer, count):
    try:
        r.xgroup_create(stream, group, id="0", mkstream=True)  # from the first entry; creates the stream too
    except redis.ResponseError as error:
        if "BUSYGROUP" not in str(error):  # BUSYGROUP: the group exists already, which is fine
            raise
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)  # ">": never delivered to anyone
    return [(entry_id, fields) for _stream, entries in reply for entry_id, fields in entries]


def _creates_every_time(r, stream, group, consumer, count):
    r.xgroup_create(stream, group, id="0", mkstream=True)
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    return reply[0][1] if reply else []


def _group_from_dollar(r, stream, group, consumer, count):
    with contextlib.suppress(redis.ResponseError):
        r.xgroup_create(stream, group, id="$", mkstream=True)
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    return reply[0][1] if reply else []


def _no_mkstream(r, stream, group, consumer, count):
    try:
        r.xgroup_create(stream, group, id="0")
    except redis.ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    return reply[0][1] if reply else []


def _rereads_own_pending(r, stream, group, consumer, count):
    with contextlib.suppress(redis.ResponseError):
        r.xgroup_create(stream, group, id="0", mkstream=True)
    reply = r.xreadgroup(group, consumer, {stream: "0"}, count=count)
    entries = reply[0][1] if reply else []
    if not entries:  # nothing pending yet: read new ones
        reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
        entries = reply[0][1] if reply else []
    return entries


def _ignores_count(r, stream, group, consumer, count):
    with contextlib.suppress(redis.ResponseError):
        r.xgroup_create(stream, group, id="0", mkstream=True)
    reply = r.xreadgroup(group, consumer, {stream: ">"})
    return reply[0][1] if reply else []


def _returns_whole_reply(r, stream, group, consumer, count):
    with contextlib.suppress(redis.ResponseError):
        r.xgroup_create(stream, group, id="0", mkstream=True)
    return r.xreadgroup(group, consumer, {stream: ">"}, count=count)


def _reads_with_xrange(r, stream, group, consumer, count):
    with contextlib.suppress(redis.ResponseError):
        r.xgroup_create(stream, group, id="0", mkstream=True)
    return r.xrange(stream, count=count)


def _checks_then_creates(r, stream, group, consumer, count):
    if not r.exists(stream) or group not in {info["name"] for info in r.xinfo_groups(stream)}:
        r.xgroup_create(stream, group, id="0", mkstream=True)
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    return reply[0][1] if reply else []


def _as_entries(t: Trial, value: Any, stream: str) -> list[tuple[Any, Any]]:
    """The learner's return value as a list of (id, fields) pairs, or a failure naming its shape."""
    refuse_none(t, value, "return a list of (id, fields) pairs, and [] when nothing is new.")
    if isinstance(value, dict):
        t.fail(
            f"{t.last_call} returned a dict, {shorten(value, 90)}: return a list of (id, fields) pairs, oldest first. "
            "(A client made with protocol=3 replies to XREADGROUP with a dict of stream → batches of entries: "
            "take the entries out of it.)"
        )
    if not isinstance(value, (list, tuple)):
        t.fail(
            f"{t.last_call} returned {type(value).__name__} {shorten(value, 90)}; return a list of (id, fields) pairs."
        )
    pairs = []
    for item in value:
        if (
            isinstance(item, (list, tuple))
            and len(item) == 2
            and item[0] == stream
            and isinstance(item[1], (list, tuple))
        ):
            t.fail(
                f"{t.last_call} returned the whole XREADGROUP reply, {shorten(value, 90)}: a list with one "
                "[stream, entries] pair per stream read. Return the entries themselves, the (id, fields) pairs: "
                "reply[0][1], or [] when the reply is empty."
            )
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[1], dict)):
            t.fail(
                f"{t.last_call} returned {shorten(value, 90)}; each item should be an (id, fields) pair such as "
                "('1700000000000-0', {'order': '1'})."
            )
        pairs.append((item[0], item[1]))
    return pairs


def _expect_delivered(
    t: Trial, value: Any, stream: str, expected: list[tuple[str, dict[str, str]]], situation: str
) -> None:
    got = _as_entries(t, value, stream)
    got_ids, wanted_ids = [entry_id for entry_id, _ in got], [entry_id for entry_id, _ in expected]
    if got == expected:
        return
    if sorted(got_ids) == wanted_ids and got_ids != wanted_ids:
        t.fail(f"{t.last_call} {situation} returned the right entries out of order, {got_ids}: oldest first.")
    t.fail(f"{t.last_call} {situation}: expected {shorten(expected, 200)}, got {shorten(got, 200)}.")


def _read_or_busygroup(t: Trial, *args: Any, situation: str) -> Any:
    value, error = t.try_call(*args, expected=(redis.ResponseError,), within=3, too_slow=_READ_TOO_SLOW)
    if error is None:
        return value
    text = str(error)
    if "BUSYGROUP" in text:
        t.fail(
            f"{t.last_call} raised ResponseError: {text}. {situation + ' ' if situation else ''}Creating a group "
            "that exists is an error; "
            "catch redis.ResponseError around r.xgroup_create(...) and ignore it when 'BUSYGROUP' is in its text "
            "(re-raise any other error)."
        )
    if "requires the key to exist" in text or "no such key" in text.lower():
        t.fail(
            f"{t.last_call} raised ResponseError: {text} The stream did not exist yet. Pass mkstream=True to "
            "r.xgroup_create(...), which creates an empty stream along with the group."
        )
    t.fail(f"{t.last_call} raised ResponseError: {text}")


_READ_TOO_SLOW = (
    "read_new should return at once, with [] when nothing is new: leave out block= (block=0 waits for ever)."
)
_PROCESS_TOO_SLOW = (
    "process should return at once when nothing is new (it returns 0 then): leave out block= (block=0 waits "
    "for ever), and make sure every loop ends."
)


def _judge_read_new(t: Trial) -> str:
    # A stream that does not exist yet: the group and the stream are created, and nothing is new.
    value = _read_or_busygroup(t, "orders", "billing", "worker-1", 10, situation="")
    if t.admin.type("orders") != "stream":
        t.fail(
            f"After {t.last_call}, the stream orders does not exist. Create the group with mkstream=True, which "
            "creates the stream too, so that the group is ready before the first entry arrives."
        )
    groups = {info["name"]: info for info in t.admin.xinfo_groups("orders")}
    if "billing" not in groups:
        t.fail(f"After {t.last_call}, orders has no consumer group 'billing' (it has {sorted(groups)}).")
    _expect_delivered(t, value, "orders", [], "on a new, empty stream")

    # Five entries arrive; the consumer takes them three at a time.
    ids = _add_entries(t, "orders", [{"order": str(n)} for n in range(1, 6)])
    entries = [(entry_id, {"order": str(n)}) for n, entry_id in enumerate(ids, 1)]
    value = _read_or_busygroup(t, "orders", "billing", "worker-1", 3, situation="")
    if not t.recorder.used("XREADGROUP"):
        t.fail(
            f"{t.last_call} never read through the consumer group (it sent {', '.join(t.recorder.names)}): "
            "XRANGE and XREAD do not record who got what. Read with XREADGROUP and the id '>': "
            "r.xreadgroup(group, consumer, {stream: '>'}, count=count)."
        )
    got = _as_entries(t, value, "orders")
    if len(got) > 3:
        t.fail(
            f"{t.last_call} returned {len(got)} entries, but count=3 asks for at most 3: pass count=count to "
            "r.xreadgroup(...). The others stay in the stream for the next call or another consumer."
        )
    _expect_delivered(t, value, "orders", entries[:3], "on a stream of 5 new entries")
    value = _read_or_busygroup(
        t,
        "orders",
        "billing",
        "worker-1",
        3,
        situation="The group already existed: the first call had created it, and a consumer calls this again "
        "and again.",
    )
    got = _as_entries(t, value, "orders")
    if got and got[0][0] == ids[0]:
        t.fail(
            f"The second call, {t.last_call}, returned {[entry_id for entry_id, _ in got]} again: entries "
            "already delivered to worker-1 and still pending (not acknowledged). The id '0' reads a consumer's own "
            "pending entries; the id '>' reads entries never delivered to any consumer of the group: "
            "{stream: '>'}."
        )
    _expect_delivered(t, value, "orders", entries[3:], "after the first three entries were delivered")
    value = _read_or_busygroup(t, "orders", "billing", "worker-1", 3, situation="")
    _expect_delivered(t, value, "orders", [], "when every entry had been delivered")

    # A stream that already holds entries and has no group yet: the group starts at the first entry.
    ids = _add_entries(t, "payments", [{"payment": str(n)} for n in range(1, 4)])
    value = _read_or_busygroup(t, "payments", "ledger", "worker-1", 10, situation="")
    if _as_entries(t, value, "payments") == [] and t.admin.xinfo_groups("payments"):
        info = t.admin.xinfo_groups("payments")[0]
        t.fail(
            f"{t.last_call} returned [] although payments held 3 entries that no consumer had seen: the group "
            f"was created at '$' (its last-delivered-id is {info['last-delivered-id']!r}), which means only "
            "entries added after it. Create it with id='0' to start at the first entry of the stream."
        )
    _expect_delivered(
        t, value, "payments", [(entry_id, {"payment": str(n)}) for n, entry_id in enumerate(ids, 1)], "on a new group"
    )

    # Another consumer of the group reads while the learner's call runs: what it got is not the learner's.
    t.admin.xgroup_create("emails", "senders", id="0", mkstream=True)
    ids = _add_entries(t, "emails", [{"email": str(n)} for n in range(1, 5)])

    def other_consumer_reads(other: Any) -> None:
        other.xreadgroup("senders", "worker-2", {"emails": ">"}, count=2)

    state = t.inject_once(["XGROUP", "XINFO", "EXISTS", "TYPE", "XLEN", "XPENDING"], other_consumer_reads)
    value = _read_or_busygroup(t, "emails", "senders", "worker-1", 10, situation="")
    got = _as_entries(t, value, "emails")
    mine = sorted(
        entry_id for entry_id, owner in _pending_owners(t, "emails", "senders").items() if owner == "worker-1"
    )
    if state["fired"]:
        stolen = [entry_id for entry_id, _ in got if entry_id in ids[:2]]
        if stolen:
            t.fail(
                f"{t.last_call} returned {stolen}, which another consumer of the group, worker-2, received while "
                "your call was running: the group delivers each entry to one consumer only, and those are "
                "worker-2's to process. Return exactly what XREADGROUP delivered to your consumer."
            )
    expected = [(entry_id, {"email": str(n)}) for n, entry_id in enumerate(ids, 1) if entry_id in mine]
    _expect_delivered(t, value, "emails", expected, "while worker-2 read from the same group")

    # Another consumer creates the group between the learner's check for it and their XGROUP CREATE.
    def other_creates_the_group(other: Any) -> None:
        try:
            other.xgroup_create("alerts", "ops", id="0", mkstream=True)
        except redis.ResponseError:
            return
        other.xadd("alerts", {"alert": "disk full"})

    t.inject_once(["EXISTS", "XINFO", "TYPE", "XLEN", "KEYS", "SCAN"], other_creates_the_group)
    value = _read_or_busygroup(
        t,
        "alerts",
        "ops",
        "worker-1",
        10,
        situation="Your code first checked that the group did not exist; then another consumer created it, "
        "before your XGROUP CREATE: checking first cannot prevent that race.",
    )
    ids = [entry_id for entry_id, _ in t.admin.xrange("alerts")]
    _expect_delivered(
        t, value, "alerts", [(entry_id, {"alert": "disk full"}) for entry_id in ids], "after another consumer started"
    )
    return "read_new creates its group once, safely, and returns only entries no consumer of the group has seen."


def check_read_new(t: Trial) -> str:
    return _judge_either_shape(t, _judge_read_new)


READ_NEW = Exercise(
    id="streams.read_new",
    title="Read new entries as a consumer group",
    signature="read_new(r, stream: str, group: str, consumer: str, count: int) -> list[tuple[str, dict]]",
    task="Create the consumer group if it does not exist (starting at the stream's first entry, creating the "
    "stream if needed; a second call must not fail with BUSYGROUP), then return up to count entries never "
    "delivered to any consumer of the group, oldest first, as a list of (id, fields) pairs.",
    checker=check_read_new,
    reference=read_new,
    hints=(
        "Two steps: create the group (an error that says it already exists is fine), then read through the "
        "group with the special id that means 'never delivered to anyone'.",
        "r.xgroup_create(stream, group, id='0', mkstream=True) raises a ResponseError containing 'BUSYGROUP' "
        "when the group exists. r.xreadgroup(group, consumer, {stream: '>'}, count=count) returns "
        "[[stream, [(id, fields), ...]]], or [] when nothing is new.",
        "try: r.xgroup_create(...) except redis.ResponseError as e: re-raise unless 'BUSYGROUP' in str(e); "
        "then reply = r.xreadgroup(...); return [entry for _name, entries in reply for entry in entries]",
    ),
    mutants=(
        Mutant(_creates_every_time, "BUSYGROUP"),
        Mutant(_group_from_dollar, "created at '$'"),
        Mutant(_no_mkstream, "Pass mkstream=True"),
        Mutant(_rereads_own_pending, "already delivered to worker-1"),
        Mutant(_ignores_count, "asks for at most 3"),
        Mutant(_returns_whole_reply, "the whole XREADGROUP reply"),
        Mutant(_reads_with_xrange, "never read through the consumer group"),
        Mutant(_checks_then_creates, "checking first cannot prevent that race"),
    ),
)


# -- streams.process -------------------------------------------------------------------------------------
def process(r, stream, group, consumer, handler, count):
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    done = []
    for _stream, entries in reply:
        for entry_id, fields in entries:
            try:
                handler(fields)
            except Exception:
                continue  # not acknowledged: it stays pending, to be retried or claimed later
            done.append(entry_id)
    if done:
        r.xack(stream, group, *done)  # only now: a crash before this line loses nothing
    return len(done)


def _acks_before_handling(r, stream, group, consumer, handler, count):
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    entries = reply[0][1] if reply else []
    if entries:
        r.xack(stream, group, *[entry_id for entry_id, _ in entries])
    done = 0
    for _entry_id, fields in entries:
        try:
            handler(fields)
            done += 1
        except Exception:
            pass
    return done


def _acks_failures_too(r, stream, group, consumer, handler, count):
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    entries = reply[0][1] if reply else []
    done = 0
    for _entry_id, fields in entries:
        try:
            handler(fields)
            done += 1
        except Exception:
            pass
    if entries:
        r.xack(stream, group, *[entry_id for entry_id, _ in entries])
    return done


def _lets_errors_escape(r, stream, group, consumer, handler, count):
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    done = 0
    for entry_id, fields in reply[0][1] if reply else []:
        handler(fields)
        r.xack(stream, group, entry_id)
        done += 1
    return done


def _stops_at_first_failure(r, stream, group, consumer, handler, count):
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    done = []
    try:
        for entry_id, fields in reply[0][1] if reply else []:
            handler(fields)
            done.append(entry_id)
    except Exception:
        pass
    if done:
        r.xack(stream, group, *done)
    return len(done)


def _deletes_instead_of_acking(r, stream, group, consumer, handler, count):
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    done = 0
    for entry_id, fields in reply[0][1] if reply else []:
        try:
            handler(fields)
        except Exception:
            continue
        r.xdel(stream, entry_id)
        done += 1
    return done


def _no_ack_mode(r, stream, group, consumer, handler, count):
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count, noack=True)
    done = 0
    for _entry_id, fields in reply[0][1] if reply else []:
        try:
            handler(fields)
            done += 1
        except Exception:
            pass
    return done


def _returns_number_read(r, stream, group, consumer, handler, count):
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    entries = reply[0][1] if reply else []
    done = []
    for entry_id, fields in entries:
        try:
            handler(fields)
            done.append(entry_id)
        except Exception:
            pass
    if done:
        r.xack(stream, group, *done)
    return len(entries)


def _rereads_pending_first(r, stream, group, consumer, handler, count):
    reply = r.xreadgroup(group, consumer, {stream: "0"}, count=count)
    if not reply or not reply[0][1]:
        reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    done = []
    for entry_id, fields in reply[0][1] if reply else []:
        try:
            handler(fields)
            done.append(entry_id)
        except Exception:
            pass
    if done:
        r.xack(stream, group, *done)
    return len(done)


def _passes_id_too(r, stream, group, consumer, handler, count):
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    done = []
    for entry_id, fields in reply[0][1] if reply else []:
        try:
            handler(entry_id, fields)
            done.append(entry_id)
        except Exception:
            pass
    if done:
        r.xack(stream, group, *done)
    return len(done)


def _ignores_count_when_processing(r, stream, group, consumer, handler, count):
    reply = r.xreadgroup(group, consumer, {stream: ">"})
    done = []
    for entry_id, fields in reply[0][1] if reply else []:
        try:
            handler(fields)
            done.append(entry_id)
        except Exception:
            pass
    if done:
        r.xack(stream, group, *done)
    return len(done)


class HandlerFailed(Exception):
    """What the check's handler raises for an entry it cannot process."""


class WorkerCrashed(BaseException):
    """The check stopping the worker inside the handler, as a crash or a kill would (not an Exception)."""


class _Handler:
    """The handler a check passes: records each call; fails for entries with fail=yes; may 'crash' on one job."""

    def __init__(self, crash_on: str = "") -> None:
        self.calls: list[str] = []
        self.completed: list[str] = []
        self.misuse = ""
        self.crash_on = crash_on

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) != 1 or kwargs or not isinstance(args[0], dict):
            shown = ", ".join([*(shorten(a, 40) for a in args), *(f"{k}={shorten(v, 40)}" for k, v in kwargs.items())])
            self.misuse = self.misuse or f"handler({shown})"
            raise TypeError("handler(fields) takes one argument: the entry's fields, a dict")
        job = str(args[0].get("job"))
        self.calls.append(job)
        if job == self.crash_on:
            raise WorkerCrashed(f"the worker was stopped inside handler() for {job}")
        if args[0].get("fail") == "yes":
            raise HandlerFailed(f"cannot process {job}")
        self.completed.append(job)

    def __repr__(self) -> str:
        return "handler"


def _jobs(t: Trial, stream: str, names: list[str], failing: tuple[str, ...] = ()) -> dict[str, str]:
    """Add one entry per job name (fail=yes for the failing ones); job name -> entry id."""
    fields = [{"job": name, **({"fail": "yes"} if name in failing else {})} for name in names]
    return dict(zip(names, _add_entries(t, stream, fields), strict=True))


def _expect_no_misuse(t: Trial, handler: _Handler) -> None:
    if handler.misuse:
        t.fail(
            f"{t.last_call} called {handler.misuse}: call the handler with the entry's fields only, "
            "handler(fields), where fields is the dict of the entry (the id is for XACK, not for the handler)."
        )


def _expect_no_noack(t: Trial) -> None:
    for command in t.sent:
        if command and command[0].upper() == "XREADGROUP" and "NOACK" in (word.upper() for word in command):
            t.fail(
                f"{t.last_call} read with NOACK ({format_command(command)}): entries read that way never enter the "
                "group's pending list, so one whose handler fails, or whose worker dies, is lost. Read without "
                "noack=True, and XACK each entry once its handler has returned."
            )


def _expect_count(t: Trial, value: Any, acked: int, read: int) -> None:
    refuse_none(t, value, f"return how many entries were acknowledged ({acked}).")
    refuse_other_types(t, value, int, f"return how many entries were acknowledged, the int {acked}.")
    if value == read and read != acked:
        t.fail(
            f"{t.last_call} returned {value}, the number of entries read; return how many were acknowledged, {acked}: "
            "the entries whose handler raised do not count."
        )
    t.expect_equal(value, acked, f"{t.last_call}, the number of entries acknowledged")


_WITHIN: dict[str, Any] = {"within": 3, "too_slow": _PROCESS_TOO_SLOW}


def _judge_process(t: Trial) -> str:
    for stream in ("crashing", "jobs"):
        t.admin.xgroup_create(stream, "workers", id="0", mkstream=True)

    # The worker dies inside the handler of the second entry: whatever was not processed must stay pending.
    ids = _jobs(t, "crashing", ["c1", "c2", "c3"])
    handler = _Handler(crash_on="c2")
    t.try_call("crashing", "workers", "worker-1", handler, 10, expected=(WorkerCrashed,), **_WITHIN)
    _expect_no_misuse(t, handler)
    _expect_no_noack(t)
    pending = _pending_owners(t, "crashing", "workers")
    lost = [job for job, entry_id in ids.items() if job not in handler.completed and entry_id not in pending]
    if lost:
        t.fail(
            f"During {t.last_call}, the check stopped the worker inside handler() for c2, as a crash or a kill "
            f"would; afterwards {lost} are no longer pending, though their handler never finished: they were "
            "acknowledged before being processed, so no consumer will ever process them. Acknowledge an entry "
            "(XACK) only after its handler has returned."
        )

    # Five jobs, two of which the handler cannot process.
    ids = _jobs(t, "jobs", ["j1", "j2", "j3", "j4", "j5"], failing=("j2", "j4"))
    handler = _Handler()
    value, escaped = t.try_call("jobs", "workers", "worker-1", handler, 10, expected=(HandlerFailed,), **_WITHIN)
    _expect_no_misuse(t, handler)
    if not t.recorder.used("XREADGROUP"):
        t.fail(
            f"{t.last_call} never read through the consumer group (it sent {', '.join(t.recorder.names)}): read "
            "with r.xreadgroup(group, consumer, {stream: '>'}, count=count)."
        )
    if escaped is not None:
        t.fail(
            f"{t.last_call} let the handler's error escape (HandlerFailed: {escaped}), so the call ended at that "
            f"entry and handled only {handler.calls}. One entry that cannot be processed must not stop the batch: "
            "wrap each handler(fields) call in try/except Exception, leave that entry unacknowledged, and go on."
        )
    if handler.calls != ["j1", "j2", "j3", "j4", "j5"]:
        if handler.calls == ["j1", "j2"]:
            t.fail(
                f"{t.last_call} handled only {handler.calls} of the 5 new entries: after the handler raised for "
                "j2, your code stopped. Catch the exception around each handler call (inside the loop), so the "
                "entries after a failure are still processed."
            )
        t.fail(
            f"{t.last_call} called the handler for {handler.calls}; with 5 new entries j1..j5 it should call it "
            "once for each, oldest first."
        )
    pending = _pending_owners(t, "jobs", "workers")
    failed_gone = [job for job in ("j2", "j4") if ids[job] not in pending]
    if failed_gone:
        t.fail(
            f"{t.last_call} acknowledged {failed_gone}, whose handler raised: an acknowledged entry leaves the "
            "pending list for good, so nobody will retry it. Acknowledge only the entries whose handler returned."
        )
    not_acked = [job for job in ("j1", "j3", "j5") if ids[job] in pending]
    if not_acked:
        if t.recorder.used("XDEL"):
            t.fail(
                f"{t.last_call} deleted the processed entries with XDEL, but {not_acked} are still in the group's "
                "pending list: XDEL removes an entry from the stream, not from the list of entries a consumer "
                "owes an answer for. Acknowledge with r.xack(stream, group, *ids)."
            )
        t.fail(
            f"After {t.last_call}, {not_acked} are still pending, though their handler returned: acknowledge "
            "them with r.xack(stream, group, *ids), or another consumer will claim and process them again."
        )
    _expect_count(t, value, 3, 5)

    # Two new entries: only they are handled, not the failed ones still pending.
    ids.update(_jobs(t, "jobs", ["j6", "j7"]))
    handler = _Handler()
    value = t.call("jobs", "workers", "worker-1", handler, 10, **_WITHIN)
    if "j2" in handler.calls or "j4" in handler.calls:
        t.fail(
            f"{t.last_call} handled {handler.calls}, including entries this consumer had already received and "
            "that are still pending (their handler failed). Read new entries with the id '>'; a consumer's own "
            "pending entries ('0') are for a deliberate retry, and XAUTOCLAIM hands them to others."
        )
    t.expect_equal(handler.calls, ["j6", "j7"], f"{t.last_call}, the jobs handled")
    _expect_count(t, value, 2, 2)

    handler = _Handler()
    value = t.call("jobs", "workers", "worker-1", handler, 10, **_WITHIN)
    t.expect_equal(handler.calls, [], f"{t.last_call} with nothing new, the jobs handled")
    _expect_count(t, value, 0, 0)

    # Another consumer already has k1; count=2 limits this call to k2 and k3.
    _jobs(t, "jobs", ["k1", "k2", "k3", "k4"])
    t.admin.xreadgroup("workers", "worker-2", {"jobs": ">"}, count=1)
    handler = _Handler()
    value = t.call("jobs", "workers", "worker-1", handler, 2, **_WITHIN)
    if "k1" in handler.calls:
        t.fail(
            f"{t.last_call} handled k1, which the group had already delivered to worker-2: it is worker-2's to "
            "process. Read with r.xreadgroup(group, consumer, {stream: '>'}, count=count)."
        )
    if len(handler.calls) > 2:
        t.fail(
            f"{t.last_call} handled {handler.calls}, but count=2 asks for at most 2 entries per call: pass "
            "count=count to r.xreadgroup(...)."
        )
    t.expect_equal(handler.calls, ["k2", "k3"], f"{t.last_call}, the jobs handled")
    _expect_count(t, value, 2, 2)
    return "process acknowledges exactly what was processed: a failure stays pending, and a crash loses nothing."


def check_process(t: Trial) -> str:
    return _judge_either_shape(t, _judge_process)


PROCESS = Exercise(
    id="streams.process",
    title="Process entries and acknowledge what succeeded",
    signature="process(r, stream: str, group: str, consumer: str, handler, count: int) -> int",
    task="Read up to count new entries for consumer in group (the group exists), call handler(fields) for each, "
    "oldest first, acknowledge exactly those whose handler returned without raising, and return how many were "
    "acknowledged. An entry whose handler raised stays pending; one failure must not stop the batch.",
    checker=check_process,
    reference=process,
    hints=(
        "Read with XREADGROUP and '>', handle each entry, and acknowledge only after the handler returned: an "
        "entry acknowledged before it is processed is lost if the worker dies.",
        "Wrap each handler(fields) in try/except Exception; collect the ids that succeeded and acknowledge them "
        "with r.xack(stream, group, *ids) (one call for all is fine).",
        "reply = r.xreadgroup(group, consumer, {stream: '>'}, count=count); for _name, entries in reply: for "
        "entry_id, fields in entries: try handler(fields), except: continue, else done.append(entry_id); then "
        "r.xack(...) if done; return len(done)",
    ),
    mutants=(
        Mutant(_acks_before_handling, "acknowledged before being processed"),
        Mutant(_acks_failures_too, "whose handler raised"),
        Mutant(_lets_errors_escape, "let the handler's error escape"),
        Mutant(_stops_at_first_failure, "your code stopped"),
        Mutant(_deletes_instead_of_acking, "XDEL removes an entry from the stream"),
        Mutant(_no_ack_mode, "read with NOACK"),
        Mutant(_returns_number_read, "the number of entries read"),
        Mutant(_rereads_pending_first, "already received and that are still pending"),
        Mutant(_passes_id_too, "call the handler with the entry's fields only"),
        Mutant(_ignores_count_when_processing, "count=2 asks for at most 2"),
    ),
)


# -- streams.recover_stale -------------------------------------------------------------------------------
def recover_stale(r, stream, group, consumer, min_idle_ms):
    claimed = []
    cursor = "0-0"
    while True:
        # XAUTOCLAIM claims at most 100 entries (COUNT) per call and returns where to go on from;
        # Redis 7 adds a third item (ids of entries deleted meanwhile), which *_deleted absorbs.
        cursor, entries, *_deleted = r.xautoclaim(stream, group, consumer, min_idle_ms, start_id=cursor)
        claimed += [entry_id for entry_id, _fields in entries]
        if cursor == "0-0":  # the end of the pending list
            return claimed


def _one_page(r, stream, group, consumer, min_idle_ms):
    _cursor, entries, *_ = r.xautoclaim(stream, group, consumer, min_idle_ms)
    return [entry_id for entry_id, _fields in entries]


def _just_ids_one_page(r, stream, group, consumer, min_idle_ms):
    return r.xautoclaim(stream, group, consumer, min_idle_ms, justid=True)


def _claims_everything(r, stream, group, consumer, min_idle_ms):
    claimed, cursor = [], "0-0"
    while True:
        cursor, entries, *_ = r.xautoclaim(stream, group, consumer, 0, start_id=cursor)
        claimed += [entry_id for entry_id, _fields in entries]
        if cursor == "0-0":
            return claimed


def _hard_coded_idle(r, stream, group, consumer, min_idle_ms):
    claimed, cursor = [], "0-0"
    while True:
        cursor, entries, *_ = r.xautoclaim(stream, group, consumer, 60_000, start_id=cursor)
        claimed += [entry_id for entry_id, _fields in entries]
        if cursor == "0-0":
            return claimed


def _pending_then_forced_claim(r, stream, group, consumer, min_idle_ms):
    pending = r.xpending_range(stream, group, "-", "+", 10_000)
    stale = [row["message_id"] for row in pending if row["time_since_delivered"] >= min_idle_ms]
    if not stale:
        return []
    return r.xclaim(stream, group, consumer, 0, stale, justid=True)


def _returns_entries(r, stream, group, consumer, min_idle_ms):
    claimed, cursor = [], "0-0"
    while True:
        cursor, entries, *_ = r.xautoclaim(stream, group, consumer, min_idle_ms, start_id=cursor)
        claimed += entries
        if cursor == "0-0":
            return claimed


_CLAIM_TOO_SLOW = (
    "XAUTOCLAIM's cursor comes back as '0-0' once the whole pending list has been scanned: end the loop then "
    "(compare with the str '0-0')."
)


def _stale_entries(t: Trial, stream: str, stale: int, fresh: int) -> tuple[list[str], list[str]]:
    """A group whose consumer 'crashed' has `stale` entries idle for ten minutes and 'busy' has `fresh` ones."""
    t.admin.xgroup_create(stream, "workers", id="0", mkstream=True)
    ids = _add_entries(t, stream, [{"task": str(n)} for n in range(stale + fresh)])
    if stale:
        t.admin.xreadgroup("workers", "crashed", {stream: ">"}, count=stale)
        t.admin.xclaim(stream, "workers", "crashed", 0, ids[:stale], idle=STALE_IDLE_MS, justid=True)
    if fresh:
        t.admin.xreadgroup("workers", "busy", {stream: ">"}, count=fresh)
    return ids[:stale], ids[stale:]


def _claimed_ids(t: Trial, value: Any) -> list[str]:
    refuse_none(t, value, "return the list of ids claimed ([] when none was stale).")
    if not isinstance(value, (list, tuple)):
        t.fail(f"{t.last_call} returned {type(value).__name__} {shorten(value, 90)}; return a list of entry ids.")
    if any(isinstance(item, (list, tuple)) for item in value):
        t.fail(
            f"{t.last_call} returned {shorten(value, 90)}: (id, fields) entries. Return only the ids, a list of str: "
            "[entry_id for entry_id, _fields in entries]."
        )
    return list(value)


def _xautoclaims(t: Trial) -> list[Command]:
    return [command for command in t.sent if command and command[0].upper() == "XAUTOCLAIM"]


def check_recover_stale(t: Trial) -> str:
    # 250 entries of a consumer silent for ten minutes (more than one XAUTOCLAIM page), and 5 of a busy one.
    stale, fresh = _stale_entries(t, "tasks", 250, 5)
    value = t.call("tasks", "workers", "rescuer", 60_000, within=5, too_slow=_CLAIM_TOO_SLOW)
    ids = _claimed_ids(t, value)
    owners = _pending_owners(t, "tasks", "workers")
    stolen = [entry_id for entry_id in fresh if owners.get(entry_id) == "rescuer"]
    if stolen:
        t.fail(
            f"{t.last_call} took {len(stolen)} entries from the consumer 'busy', which received them a moment ago "
            "and is still working on them. Claim only entries idle for at least min_idle_ms: pass min_idle_ms to "
            "r.xautoclaim(stream, group, consumer, min_idle_ms, ...)."
        )
    left = [entry_id for entry_id in stale if owners.get(entry_id) == "crashed"]
    if left:
        claims = _xautoclaims(t)
        page = f"{len(stale) - len(left)} of the {len(stale)} stale entries"
        if len(claims) == 1 and "JUSTID" in (word.upper() for word in claims[0]):
            t.fail(
                f"{t.last_call} claimed {page}: one XAUTOCLAIM call claims one page (COUNT, 100 by default). With "
                "justid=True, redis-py returns only the list of ids and drops the cursor you need to go on, so "
                "leave justid out and loop: cursor, entries, *_ = r.xautoclaim(..., start_id=cursor) until the "
                "cursor is '0-0'."
            )
        if not claims and not t.recorder.used("XCLAIM"):
            t.fail(
                f"{t.last_call} claimed nothing: it sent no XAUTOCLAIM (it sent "
                f"{', '.join(t.recorder.names) or 'no command'}). A loop such as `while cursor != '0-0':` that "
                "starts with cursor = '0-0' never runs: call XAUTOCLAIM first, then stop once the cursor it "
                "returns is '0-0'."
            )
        if len(claims) == 1:
            t.fail(
                f"{t.last_call} claimed {page} and stopped after one page: XAUTOCLAIM claims at most COUNT (100 by "
                "default) entries per call and replies with a cursor. Call it again from that cursor "
                "(start_id=cursor) until the cursor is '0-0'."
            )
        t.fail(f"After {t.last_call}, {len(left)} of the {len(stale)} stale entries are still with 'crashed'.")
    if len(ids) != len(set(ids)):
        t.fail(f"{t.last_call} returned some ids more than once ({len(ids)} ids, {len(set(ids))} different).")
    if set(ids) != set(stale):
        extra, missing = sorted(set(ids) - set(stale)), sorted(set(stale) - set(ids))
        t.fail(
            f"{t.last_call} claimed the 250 stale entries but returned {len(ids)} ids ({len(extra)} not claimed, "
            f"e.g. {extra[:2]}; {len(missing)} claimed but missing, e.g. {missing[:2]}): return every id claimed."
        )

    # Right after, nothing is idle any more: nothing to claim.
    value = t.call("tasks", "workers", "rescuer", 60_000, within=5, too_slow=_CLAIM_TOO_SLOW)
    again = _claimed_ids(t, value)
    if again:
        t.fail(
            f"Called again at once, {t.last_call} returned {len(again)} ids: entries claimed a moment ago are not "
            "idle, and each claim resets the idle time. Claim only entries idle for at least min_idle_ms."
        )

    # The same entries, silent again for ten minutes (their consumer crashed again), asked for fifteen.
    t.admin.xclaim("tasks", "workers", "crashed", 0, stale, idle=STALE_IDLE_MS, justid=True)
    value = t.call("tasks", "workers", "rescuer", 900_000, within=5, too_slow=_CLAIM_TOO_SLOW)
    owners = _pending_owners(t, "tasks", "workers")
    moved = [entry_id for entry_id in stale if owners.get(entry_id) != "crashed"]
    if moved:
        t.fail(
            f"{t.last_call} claimed {len(moved)} entries idle for 10 minutes, though min_idle_ms asked for 15 "
            "(900000 ms): pass the min_idle_ms argument on, rather than a fixed number."
        )
    t.expect_equal(_claimed_ids(t, value), [], f"{t.last_call} with nothing idle for 15 minutes")

    # Another rescuer claims some stale entries while the learner's call runs.
    theirs = stale[-20:]

    def another_rescuer_claims(other: Any) -> None:
        other.xclaim("tasks", "workers", "other-rescuer", 60_000, theirs, justid=True)

    state = t.inject_once(["XAUTOCLAIM", "XPENDING", "XCLAIM"], another_rescuer_claims)
    value = t.call("tasks", "workers", "rescuer", 60_000, within=5, too_slow=_CLAIM_TOO_SLOW)
    ids = _claimed_ids(t, value)
    owners = _pending_owners(t, "tasks", "workers")
    if state["fired"]:
        taken_back = [entry_id for entry_id in theirs if owners.get(entry_id) == "rescuer"]
        if taken_back:
            t.fail(
                f"{t.last_call} took back {len(taken_back)} entries that another consumer, other-rescuer, claimed "
                "while your call was running: it is processing them now, so they will be processed twice. "
                "XAUTOCLAIM (or XCLAIM with min_idle_ms, not 0) re-checks the idle time at the moment of the "
                "claim, inside Redis, so an entry someone just claimed is left alone."
            )
    mine = sorted(entry_id for entry_id, owner in owners.items() if owner == "rescuer")
    if sorted(ids) != mine:
        t.fail(
            f"{t.last_call} returned {len(ids)} ids, but 'rescuer' now has {len(mine)} of the stale entries: "
            "return exactly the ids your calls claimed."
        )
    return "recover_stale follows the cursor to the end and claims only what is truly stale, even with rivals."


RECOVER_STALE = Exercise(
    id="streams.recover_stale",
    title="Recover the entries of a consumer that died",
    signature="recover_stale(r, stream: str, group: str, consumer: str, min_idle_ms: int) -> list[str]",
    task="Claim for consumer every entry of the group that has been pending for at least min_idle_ms, however "
    "many there are (follow the cursor to its end), and return their ids. Entries idle for less stay with "
    "their consumer.",
    checker=check_recover_stale,
    reference=recover_stale,
    hints=(
        "One command finds entries pending longer than a minimum idle time and transfers them, a page at a "
        "time; it returns where to continue.",
        "r.xautoclaim(stream, group, consumer, min_idle_ms, start_id=cursor) returns [next_cursor, entries, "
        "deleted_ids] (two items on Redis 6.2). Start at '0-0' and stop when the cursor comes back as '0-0'.",
        "cursor = '0-0'; loop: cursor, entries, *_ = r.xautoclaim(..., start_id=cursor); add the ids of entries; "
        "return them once cursor == '0-0'",
    ),
    mutants=(
        Mutant(_one_page, "stopped after one page"),
        Mutant(_just_ids_one_page, "drops the cursor"),
        Mutant(_claims_everything, "took 5 entries from the consumer 'busy'"),
        Mutant(_hard_coded_idle, "rather than a fixed number"),
        Mutant(_pending_then_forced_claim, "took back 20 entries"),
        Mutant(_returns_entries, "Return only the ids"),
    ),
)


EXERCISES = [PUBLISH_EVENT, READ_NEW, PROCESS, RECOVER_STALE]


QUIZZES = [
    Quiz(
        id="streams.quiz_crash",
        question=(
            "A consumer reads 10 entries with XREADGROUP ... STREAMS jobs >, acknowledges 7 of them, then its process "
            "is killed. What becomes of the other 3?"
        ),
        options=(
            "They are gone: XREADGROUP removed them from the stream",
            "Redis re-delivers them to another consumer of the group after a timeout, by itself",
            "They stay in the group's pending list under the dead consumer until someone claims them",
            "They move back to the end of the stream",
        ),
        answer=2,
        explanation=(
            "Reading never removes entries, and Redis never reassigns on its own: the 3 wait in the pending entries "
            "list (PEL) under the dead consumer. That consumer gets them back with id 0 when it restarts, or another "
            "one takes them with XAUTOCLAIM (or XCLAIM) once they have been idle long enough."
        ),
    ),
    Quiz(
        id="streams.quiz_reply_shape",
        question=(
            "r3 = redis.Redis(protocol=3, decode_responses=True). Two entries are new in stream s. What does "
            "r3.xreadgroup('g', 'c', {'s': '>'}) return?"
        ),
        options=(
            "[['s', [(id1, fields1), (id2, fields2)]]], as with the default client",
            "{'s': [[(id1, fields1), (id2, fields2)]]}, a dict of stream → list of batches",
            "[(id1, fields1), (id2, fields2)]",
        ),
        answer=1,
        explanation=(
            "A client made with protocol=3 returns RESP3's shape: a dict keyed by stream, whose value is a list of "
            "batches of entries. redis-py 8's default client also speaks RESP3 on the wire but converts the reply to "
            "the RESP2 shape, a list of [stream, entries] pairs."
        ),
    ),
    Quiz(
        id="streams.quiz_approximate",
        question=(
            "A stream holds 1,000 entries. What does r.xadd('log', {'n': 1}, maxlen=1000) leave, with Redis's "
            "default settings?"
        ),
        options=(
            "Exactly 1,000 entries: the oldest one is removed",
            "1,001 entries: redis-py trims approximately by default, and Redis removes only whole nodes",
            "It raises an error: the stream is full",
        ),
        answer=1,
        explanation=(
            "approximate=True is redis-py's default, so this sends MAXLEN ~ 1000: Redis removes entries only a whole "
            "node (up to 100 entries by default) at a time, once the stream is at least a node over the limit."
        ),
    ),
]
