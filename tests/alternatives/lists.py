"""Other right answers to the 04-lists exercises pass too, on fakeredis and on a real server."""

from __future__ import annotations


# -- lists.recent_items -------------------------------------------------------------------------------------
def push_then_trim(r, user_id, item, limit=5):
    r.lpush(f"recent:{user_id}", item)
    r.ltrim(f"recent:{user_id}", 0, limit - 1)


def push_and_trim_in_multi(r, user_id, item, limit=5):
    key = f"recent:{user_id}"
    r.pipeline(transaction=True).lpush(key, item).ltrim(key, 0, limit - 1).execute()


def push_then_pop_the_overflow(r, user_id, item, limit=5):
    key = f"recent:{user_id}"
    length = r.lpush(key, item)
    if length > limit:
        r.rpop(key, length - limit)


# -- lists.next_task -----------------------------------------------------------------------------------------
def brpop_positional(r, queue, timeout):
    popped = r.brpop([queue], timeout)
    return popped[1] if popped else None


def blmove_to_a_processing_list(r, queue, timeout):
    return r.blmove(queue, f"{queue}:processing", timeout, "RIGHT", "LEFT")


def rpop_first_then_brpop(r, queue, timeout):
    task = r.rpop(queue)  # a task already waiting: no need to block
    if task is not None:
        return task
    popped = r.brpop(queue, timeout=timeout)
    return None if popped is None else popped[1]


# -- lists.claim_task ------------------------------------------------------------------------------------------
def rpoplpush(r, queue, processing):
    return r.rpoplpush(queue, processing)


def lua_move(r, queue, processing):
    script = "local t = redis.call('RPOP', KEYS[1]) if t then redis.call('LPUSH', KEYS[2], t) end return t"
    return r.eval(script, 2, queue, processing)


def peek_then_lmove(r, queue, processing):
    if r.llen(queue) == 0:
        return None
    return r.lmove(queue, processing, "RIGHT", "LEFT")


ALTERNATIVES = [
    ("lists.recent_items", push_then_trim),
    ("lists.recent_items", push_and_trim_in_multi),
    ("lists.recent_items", push_then_pop_the_overflow),
    ("lists.next_task", brpop_positional),
    ("lists.next_task", blmove_to_a_processing_list),
    ("lists.next_task", rpop_first_then_brpop),
    ("lists.claim_task", rpoplpush),
    ("lists.claim_task", lua_move),
    ("lists.claim_task", peek_then_lmove),
]

# A right answer that a backend cannot judge: backend -> why.
UNSUPPORTED = {
    blmove_to_a_processing_list: {
        "fake": "fakeredis 2.x answers BLMOVE at once instead of blocking (the check's message says so)"
    },
}
