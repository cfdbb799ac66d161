"""Other right answers to the 13-streams exercises pass too, on fakeredis and on a real server."""

from __future__ import annotations

import redis


# -- streams.publish_event -----------------------------------------------------------------------------------
def xadd_with_default_approximation(r, stream, event, max_len):
    return r.xadd(stream, event, maxlen=max_len)  # redis-py trims approximately unless approximate=False


def xadd_then_xtrim(r, stream, event, max_len):
    entry_id = r.xadd(stream, event)
    r.xtrim(stream, maxlen=max_len, approximate=True)
    return entry_id


def xadd_and_xtrim_in_one_round_trip(r, stream, event, max_len):
    with r.pipeline(transaction=False) as pipe:
        pipe.xadd(stream, event)
        pipe.xtrim(stream, maxlen=max_len, approximate=True)
        entry_id, _trimmed = pipe.execute()
    return entry_id


def raw_command(r, stream, event, max_len):
    words = [word for pair in event.items() for word in pair]
    return r.execute_command("XADD", stream, "MAXLEN", "~", max_len, "*", *words)


# -- streams.read_new -------------------------------------------------------------------------------------
def read_new_unpacking_the_first_pair(r, stream, group, consumer, count):
    try:
        r.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    if not reply:
        return []
    _name, entries = reply[0]
    return list(entries)


def read_new_resp3_shape(r, stream, group, consumer, count):
    """Written for a client made with protocol=3: the check judges it with one, and says so."""
    try:
        r.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    return [entry for batch in reply.get(stream, []) for entry in batch]


def read_new_either_shape(r, stream, group, consumer, count):
    try:
        r.xgroup_create(stream, group, "0", mkstream=True)
    except redis.exceptions.ResponseError as error:
        if not str(error).startswith("BUSYGROUP"):
            raise
    reply = r.xreadgroup(group, consumer, {stream: ">"}, count=count)
    batches = reply.get(stream, []) if isinstance(reply, dict) else [entries for _name, entries in reply]
    return [(entry_id, fields) for batch in batches for entry_id, fields in batch]


# -- streams.process ----------------------------------------------------------------------------------------
def process_acking_one_by_one(r, stream, group, consumer, handler, count):
    acked = 0
    for _name, entries in r.xreadgroup(group, consumer, {stream: ">"}, count=count):
        for entry_id, fields in entries:
            try:
                handler(fields)
            except Exception:
                continue
            acked += r.xack(stream, group, entry_id)
    return acked


def process_resp3_shape(r, stream, group, consumer, handler, count):
    """Written for a client made with protocol=3."""
    done = []
    for batch in r.xreadgroup(group, consumer, {stream: ">"}, count=count).get(stream, []):
        for entry_id, fields in batch:
            try:
                handler(fields)
                done.append(entry_id)
            except Exception:
                pass
    return r.xack(stream, group, *done) if done else 0


# -- streams.recover_stale -------------------------------------------------------------------------------------
def recover_with_bigger_pages(r, stream, group, consumer, min_idle_ms):
    claimed, cursor = [], "0-0"
    while True:
        reply = r.xautoclaim(stream, group, consumer, min_idle_ms, start_id=cursor, count=25)
        cursor, entries = reply[0], reply[1]
        claimed.extend(entry_id for entry_id, _fields in entries if entry_id is not None)
        if cursor == "0-0":
            return claimed


def recover_with_xpending_and_xclaim(r, stream, group, consumer, min_idle_ms):
    claimed, start = [], "-"
    while True:
        rows = r.xpending_range(stream, group, start, "+", 100, idle=min_idle_ms)
        if not rows:
            return claimed
        ids = [row["message_id"] for row in rows]
        # XCLAIM re-checks the idle time inside Redis: an entry another consumer just claimed is skipped.
        claimed += r.xclaim(stream, group, consumer, min_idle_ms, ids, justid=True)
        start = "(" + ids[-1]


ALTERNATIVES = [
    ("streams.publish_event", xadd_with_default_approximation),
    ("streams.publish_event", xadd_then_xtrim),
    ("streams.publish_event", xadd_and_xtrim_in_one_round_trip),
    ("streams.publish_event", raw_command),
    ("streams.read_new", read_new_unpacking_the_first_pair),
    ("streams.read_new", read_new_resp3_shape),
    ("streams.read_new", read_new_either_shape),
    ("streams.process", process_acking_one_by_one),
    ("streams.process", process_resp3_shape),
    ("streams.recover_stale", recover_with_bigger_pages),
    ("streams.recover_stale", recover_with_xpending_and_xclaim),
]
