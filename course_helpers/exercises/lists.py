"""04-lists: capped "recent items" lists, a blocking work queue, and moving a task without losing it."""

from __future__ import annotations

import time
from typing import Any

from .._exercise import Exercise, Mutant
from .._probes import call_with_crash_after
from .._quiz import Quiz
from .._trial import CheckFailed, Trial
from .._wire import format_command

NOTEBOOK = "04-lists"


# -- lists.recent_items ---------------------------------------------------------------------------------
def push_recent(r, user_id, item, limit=5):
    key = f"recent:{user_id}"
    with r.pipeline() as pipe:  # MULTI ... EXEC: one round trip, and no reader ever sees the list too long
        pipe.lpush(key, item)
        pipe.ltrim(key, 0, limit - 1)  # the end index is inclusive: 0 .. limit - 1 is limit items
        pipe.execute()


def _appends_at_tail(r, user_id, item, limit=5):
    key = f"recent:{user_id}"
    r.rpush(key, item)
    r.ltrim(key, -limit, -1)


def _no_cap(r, user_id, item, limit=5):
    r.lpush(f"recent:{user_id}", item)


def _trim_off_by_one(r, user_id, item, limit=5):
    key = f"recent:{user_id}"
    r.lpush(key, item)
    r.ltrim(key, 0, limit)


def _fixed_limit(r, user_id, item, limit=5):
    key = f"recent:{user_id}"
    r.lpush(key, item)
    r.ltrim(key, 0, 4)


def _no_repeats(r, user_id, item, limit=5):
    key = f"recent:{user_id}"
    r.lrem(key, 0, item)
    r.lpush(key, item)
    r.ltrim(key, 0, limit - 1)


def _trims_before_pushing(r, user_id, item, limit=5):
    key = f"recent:{user_id}"
    r.ltrim(key, 0, limit - 1)
    r.lpush(key, item)


def _recent_wrong_key(r, user_id, item, limit=5):
    key = f"recent:user:{user_id}"
    r.lpush(key, item)
    r.ltrim(key, 0, limit - 1)


def _list_at(t: Trial, key: str, before: set[str]) -> list[str]:
    """The list stored at key, or a failure that says what the learner wrote instead."""
    t.expect_key(key, "list", before, 'f"recent:{user_id}"')
    return list(t.admin.lrange(key, 0, -1))


def _pushes(t: Trial, user_id: str, items: list[str], limit: int | None, model: list[str], cap: int) -> str:
    """Push items one call at a time, updating model (newest first, capped); returns how the calls looked."""
    for item in items:
        if limit is None:
            t.call(user_id, item)
        else:
            t.call(user_id, item, limit=limit)
        model.insert(0, item)
        del model[cap:]
    args = "" if limit is None else f", limit={limit}"
    shown = ", ".join(repr(item) for item in items)
    return f"push_recent(r, {user_id!r}, item{args}) for item in [{shown}]"


def check_recent_items(t: Trial) -> str:
    before = t.keys()
    ada: list[str] = []
    calls = _pushes(t, "ada", ["song:1", "song:2", "song:3"], None, ada, 5)
    got = _list_at(t, "recent:ada", before)
    if got == ada[::-1]:
        t.fail(
            f"After {calls}, recent:ada is {got}: oldest first. The newest item must be first (index 0), "
            "so that LRANGE key 0 4 reads the latest ones. RPUSH appends at the right end; LPUSH puts the item "
            "at the left end, in front of the others."
        )
    t.expect_equal(got, ada, f"After {calls}, LRANGE recent:ada 0 -1")

    calls = _pushes(t, "ada", ["song:4", "song:5", "song:6", "song:7"], None, ada, 5)
    got = _list_at(t, "recent:ada", before)
    if len(got) > 5:
        names = t.recorder.names
        if len(got) == 6 and "LTRIM" in names and "LPUSH" in names and names.index("LTRIM") < names.index("LPUSH"):
            t.fail(
                f"After 7 pushes with limit=5 (the last ones: {calls}), recent:ada holds 6 items: {got}; it should "
                f"keep the newest 5: {ada}. Your code trims before it pushes, so each push leaves the list one item "
                "too long: LPUSH first, then LTRIM key 0 limit - 1."
            )
        if len(got) == 6:
            t.fail(
                f"After 7 pushes with limit=5 (the last ones: {calls}), recent:ada holds 6 items: {got}; it should "
                f"keep the newest 5: {ada}. LTRIM's end index is inclusive, so LTRIM key 0 limit keeps limit + 1 "
                "items: use LTRIM key 0 limit - 1."
            )
        t.fail(
            f"After 7 pushes with limit=5 (the last ones: {calls}), recent:ada holds {len(got)} items: {got}. "
            f"It should hold at most 5, the newest: {ada}. After pushing, trim the list with "
            "r.ltrim(key, 0, limit - 1), which keeps indexes 0 to limit - 1."
        )
    t.expect_equal(got, ada, f"After 7 pushes with limit=5 ({calls}), LRANGE recent:ada 0 -1")

    bob: list[str] = []
    calls = _pushes(t, "bob", ["page:a", "page:b", "page:c", "page:d", "page:e"], 3, bob, 3)
    got = _list_at(t, "recent:bob", before)
    if len(got) > 3:
        t.fail(
            f"After {calls}, recent:bob holds {len(got)} items: {got}. With limit=3 it should keep only the "
            f"newest 3: {bob}. Your code ignores the limit argument: trim to limit - 1, not to a fixed number."
        )
    t.expect_equal(got, bob, f"After {calls}, LRANGE recent:bob 0 -1")

    cy: list[str] = []
    calls = _pushes(t, "cy", ["post:9", "post:8", "post:9"], None, cy, 5)
    got = _list_at(t, "recent:cy", before)
    if len(got) < len(cy):
        t.fail(
            f"After {calls}, recent:cy is {got}; it should be {cy}. This is a history, and repeats are "
            "allowed: an item seen twice appears twice. Do not remove earlier copies (LREM); just push and trim."
        )
    t.expect_equal(got, cy, f"After {calls}, LRANGE recent:cy 0 -1")
    return "push_recent keeps each history newest first and never longer than its limit."


RECENT_ITEMS = Exercise(
    id="lists.recent_items",
    title="A capped list of recently viewed items",
    signature="push_recent(r, user_id: str, item: str, limit: int = 5) -> None",
    task="Record that user_id viewed item: keep recent:<user_id> newest first, with at most limit entries "
    "(the oldest fall off). Repeats are allowed: an item viewed twice appears twice.",
    checker=check_recent_items,
    reference=push_recent,
    hints=(
        "Two list commands do it: one adds the item at the front, one cuts the list down to size.",
        "LPUSH adds at the left end (index 0). LTRIM key start stop keeps only indexes start to stop, and "
        "stop is inclusive: to keep limit items, keep 0 to limit - 1.",
        'key = f"recent:{user_id}"; r.lpush(key, item); r.ltrim(key, 0, limit - 1) (or queue both in '
        "with r.pipeline() as pipe: ..., which runs them as one step, in one round trip).",
    ),
    mutants=(
        Mutant(_appends_at_tail, "oldest first"),
        Mutant(_no_cap, "It should hold at most 5"),
        Mutant(_trim_off_by_one, "end index is inclusive"),
        Mutant(_trims_before_pushing, "trims before it pushes"),
        Mutant(_fixed_limit, "ignores the limit argument"),
        Mutant(_no_repeats, "repeats are allowed"),
        Mutant(_recent_wrong_key, "wrote ['recent:user:ada'] instead"),
    ),
)


# -- lists.next_task ------------------------------------------------------------------------------------
def next_task(r, queue, timeout):
    popped = r.brpop(queue, timeout=timeout)
    if popped is None:
        return None
    _key, task = popped
    return task


def _newest_first(r, queue, timeout):
    popped = r.blpop(queue, timeout=timeout)
    return None if popped is None else popped[1]


def _does_not_wait(r, queue, timeout):
    return r.rpop(queue)


def _waits_forever(r, queue, timeout):
    return r.brpop(queue, timeout=0)[1]


def _returns_pair(r, queue, timeout):
    return r.brpop(queue, timeout=timeout)


def _polls_until_the_deadline(r, queue, timeout):
    deadline = time.monotonic() + timeout
    while True:
        task = r.rpop(queue)
        if task is not None or time.monotonic() >= deadline:
            return task
        time.sleep(0.02)


_BLOCKING = {"BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "XREAD"}
# Commands that answer at once: a loop of these on an empty queue is polling.
_POLLING_COMMANDS = {"RPOP", "LPOP", "LMOVE", "RPOPLPUSH", "LMPOP", "LLEN", "LRANGE", "LINDEX", "EXISTS"}
_MAX_POLLS = 3


def _expect_no_polling(t: Trial, seconds: float, situation: str) -> None:
    """Fail when the learner's last call asked the queue again and again instead of waiting in the server."""
    polls = [command for command in t.sent if command and command[0].upper() in _POLLING_COMMANDS]
    if len(polls) > _MAX_POLLS:
        t.fail(
            f"{t.last_call} sent {len(polls)} commands such as `{format_command(polls[0])}` in {seconds:.1f} s "
            f"{situation}: it polls, asking again and again. Every idle worker then keeps the server busy with "
            "requests, and a task that arrives between two polls waits for the next one. Use BRPOP: it waits in "
            "the server and answers the moment a task arrives, or with None when the timeout passes: "
            "r.brpop(queue, timeout=timeout)."
        )


def _expect_task(t: Trial, got: Any, expected: str, queue: str, newest: str | None = None) -> None:
    if isinstance(got, (tuple, list)):
        t.fail(
            f"{t.last_call} returned {tuple(got)!r}, a (list name, value) pair. BLPOP and BRPOP reply with both "
            "because one call can wait on several lists at once; return only the task: the second item, popped[1]."
        )
    if newest is not None and got == newest:
        t.fail(
            f"{t.last_call} returned {got!r}, the newest task, but {expected!r} has waited longest. Producers "
            "LPUSH, which adds at the left end, so the oldest task is at the right end: pop from the right "
            "(BRPOP) to serve tasks first in, first out."
        )
    t.expect_equal(got, expected, f"{t.last_call} on {queue}")


def check_next_task(t: Trial) -> str:
    t.admin.lpush("queue:emails", "email:1", "email:2", "email:3")  # email:1 was pushed first
    _expect_task(t, t.call("queue:emails", 1, within=3), "email:1", "queue:emails", newest="email:3")
    _expect_task(t, t.call("queue:emails", 1, within=3), "email:2", "queue:emails", newest="email:3")

    # A producer pushes a moment after the worker asked: the worker must wait for it.
    t.in_background(lambda producer: producer.lpush("queue:reports", "report:1"), delay=0.1)
    got, seconds = t.timed_call("queue:reports", 2, within=3)
    if got is None:
        fake_blmove = (
            " (Your code used BLMOVE, which the built-in fakeredis answers at once without waiting, unlike a real "
            "Redis: use BRPOP, or BRPOPLPUSH, here.)"
            if t.server.kind == "fake" and t.recorder.used("BLMOVE")
            else ""
        )
        t.fail(
            f"{t.last_call} returned None after {seconds:.2f} s, but a producer pushed 'report:1' 0.1 s into the "
            "call, well within the 2 s timeout. Wait for a task with a blocking pop: r.brpop(queue, timeout=timeout) "
            f"returns as soon as one arrives, or None when the timeout passes.{fake_blmove}"
        )
    _expect_task(t, got, "report:1", "queue:reports")
    _expect_no_polling(t, seconds, "while it waited for a task")

    # Nobody pushes: the worker must give up after `timeout` seconds and return None.
    try:
        got, seconds = t.timed_call("queue:empty", 1, within=2.5)
    except CheckFailed:
        blocking = [format_command(c) for c in t.sent if c and c[0].upper() in _BLOCKING]
        sent = f" Your code sent {blocking[-1]}." if blocking else ""
        t.fail(
            f"{t.last_call} was still waiting after 2.5 s on an empty queue; with timeout=1 it should give up "
            f"after 1 s and return None.{sent} A timeout of 0 means wait forever: pass the timeout argument on, "
            "r.brpop(queue, timeout=timeout)."
        )
    if got is not None:
        t.fail(f"{t.last_call} on an empty queue returned {got!r}; after the timeout it should return None.")
    _expect_no_polling(t, seconds, "on an empty queue")
    t.expect(
        seconds >= 0.8,
        f"{t.last_call} on an empty queue returned None after {seconds:.2f} s; it should wait up to 1 s for a task.",
    )
    return "next_task serves the oldest task first, waits for new ones, and gives up after the timeout."


NEXT_TASK = Exercise(
    id="lists.next_task",
    title="A worker that waits for the next task",
    signature="next_task(r, queue: str, timeout: int) -> str | None",
    task="Producers LPUSH tasks onto the list queue. Return the task that has waited longest; when the queue "
    "is empty, wait up to timeout seconds for one to arrive (waiting in the server, not polling), and return "
    "None if none does.",
    checker=check_next_task,
    reference=next_task,
    hints=(
        "LPUSH adds at the left, so the oldest task is at the right end. A blocking pop waits for an "
        "element instead of returning None at once.",
        "r.brpop(queue, timeout=timeout) pops from the right, waiting up to timeout seconds. It returns a "
        "(list name, value) pair, or None when the timeout passes.",
        "popped = r.brpop(queue, timeout=timeout); return None if popped is None else popped[1]",
    ),
    mutants=(
        Mutant(_newest_first, "the newest task"),
        Mutant(_does_not_wait, "pushed 'report:1' 0.1 s into the call"),
        Mutant(_waits_forever, "A timeout of 0 means wait forever"),
        Mutant(_returns_pair, "a (list name, value) pair"),
        Mutant(_polls_until_the_deadline, "Use BRPOP: it waits in the server"),
    ),
)


# -- lists.claim_task ------------------------------------------------------------------------------------
def claim_task(r, queue, processing):
    return r.lmove(queue, processing, "RIGHT", "LEFT")


def _pop_then_push(r, queue, processing):
    task = r.rpop(queue)
    if task is not None:
        r.lpush(processing, task)
    return task


def _claims_newest(r, queue, processing):
    return r.lmove(queue, processing, "LEFT", "LEFT")


def _appends_to_processing(r, queue, processing):
    return r.lmove(queue, processing, "RIGHT", "RIGHT")


def _forgets_return_task(r, queue, processing):
    r.lmove(queue, processing, "RIGHT", "LEFT")


def _pushes_none(r, queue, processing):
    task = r.rpop(queue)
    r.lpush(processing, task)
    return task


def check_claim_task(t: Trial) -> str:
    t.admin.lpush("queue:jobs", "job:1", "job:2", "job:3")  # job:1 was pushed first
    got = t.call("queue:jobs", "processing:jobs")
    if got == "job:3":
        t.fail(
            f"{t.last_call} returned 'job:3', the newest job, but 'job:1' has waited longest. Producers LPUSH (left "
            "end), so take from the right end of the queue: LMOVE queue processing RIGHT LEFT."
        )
    if got is None and t.admin.lrange("processing:jobs", 0, -1) == ["job:1"]:
        t.fail(
            f"{t.last_call} moved 'job:1' but returned None: return the task too, so the worker knows what to do. "
            "r.lmove(...) returns the element it moved."
        )
    t.expect_equal(got, "job:1", f"{t.last_call} with queue:jobs = [job:3, job:2, job:1]")
    second = t.call("queue:jobs", "processing:jobs")
    t.expect_equal(second, "job:2", f"The second call, {t.last_call}")
    processing = t.admin.lrange("processing:jobs", 0, -1)
    if processing == ["job:1", "job:2"]:
        t.fail(
            f"After two calls, processing:jobs is {processing}: your code appended at its right end. Put each "
            "claimed task at the left end (the head), as RPOPLPUSH does: LMOVE queue processing RIGHT LEFT."
        )
    t.expect_equal(processing, ["job:2", "job:1"], "After two calls, LRANGE processing:jobs 0 -1")
    t.expect_equal(t.admin.lrange("queue:jobs", 0, -1), ["job:3"], "After two calls, LRANGE queue:jobs 0 -1")

    got = t.call("queue:idle", "processing:idle")
    if got is not None:
        t.fail(f"{t.last_call} on an empty queue returned {got!r}; it should return None.")
    t.expect(
        t.admin.llen("processing:idle") == 0,
        f"{t.last_call} on an empty queue pushed {t.admin.lrange('processing:idle', 0, -1)} onto processing:idle; "
        "it should leave both lists alone and return None.",
    )

    # The network drops right after the learner takes the task off the queue.
    t.admin.lpush("queue:crash", "job:9")
    crashed, got = call_with_crash_after(t, ["RPOP", "LPOP", "LMPOP"], "queue:crash", "processing:crash")
    where = t.admin.lrange("queue:crash", 0, -1) + t.admin.lrange("processing:crash", 0, -1)
    if crashed and "job:9" not in where:
        t.fail(
            f"During {t.last_call} the network dropped right after your code popped 'job:9' (the check "
            "simulated it), so the push onto processing:crash never happened and job:9 is now in neither list: "
            "it is lost. Popping and pushing are two commands; LMOVE (or RPOPLPUSH) moves the task from one "
            "list to the other in a single step, so it is always in one of them."
        )
    if not crashed:
        t.expect_equal(got, "job:9", f"{t.last_call}")
        t.expect_equal(t.admin.lrange("processing:crash", 0, -1), ["job:9"], "LRANGE processing:crash 0 -1")
    return "claim_task moves the oldest task to the processing list in one step, so no task is ever lost."


CLAIM_TASK = Exercise(
    id="lists.claim_task",
    title="Claim a task without ever losing it",
    signature="claim_task(r, queue: str, processing: str) -> str | None",
    task="Producers LPUSH tasks onto queue. Move the oldest task from queue to the left end (head) of the "
    "list processing in one atomic step, and return it; return None (and change nothing) when queue is empty.",
    checker=check_claim_task,
    reference=claim_task,
    hints=(
        "If a worker pops a task and then crashes before it records it anywhere, the task is gone. One Redis "
        "command pops from one list and pushes onto another, atomically.",
        "r.lmove(source, destination, src, dest) with src and dest each 'LEFT' or 'RIGHT' returns the element "
        "it moved, or None when source is empty (RPOPLPUSH is the older spelling of RIGHT LEFT).",
        'return r.lmove(queue, processing, "RIGHT", "LEFT")',
    ),
    mutants=(
        Mutant(_pop_then_push, "it is lost"),
        Mutant(_claims_newest, "the newest job"),
        Mutant(_appends_to_processing, "appended at its right end"),
        Mutant(_forgets_return_task, "returned None"),
        Mutant(_pushes_none, "NoneType", status="error"),
    ),
)


EXERCISES = [RECENT_ITEMS, NEXT_TASK, CLAIM_TASK]


QUIZZES = [
    Quiz(
        id="lists.quiz_fifo",
        question=(
            "Producers LPUSH jobs onto queue:jobs. Which call gives a worker the job that has waited longest, waiting "
            "up to 2 s for one?"
        ),
        options=(
            "r.blpop('queue:jobs', timeout=2)",
            "r.brpop('queue:jobs', timeout=2)",
            "r.brpop('queue:jobs', timeout=0)",
        ),
        answer=1,
        explanation=(
            "LPUSH adds at the left, so the oldest job is at the right end: BRPOP. A timeout of 0 means wait forever on"
            " the server, but the client has a limit of its own (socket_timeout, 5 s by default in redis-py 8): the "
            "course client raises TimeoutError then, and a client built with redis.Redis(host=...) sends BRPOP again. "
            "Keep the BRPOP timeout below the socket timeout. The reply is a (list name, value) pair."
        ),
    ),
    Quiz(
        id="lists.quiz_ltrim",
        question="After LPUSH, which LTRIM keeps exactly the 10 newest items?",
        options=(
            "LTRIM key 0 10",
            "LTRIM key 0 9",
            "LTRIM key 1 10",
        ),
        answer=1,
        explanation="Both indexes are inclusive: 0..9 is ten elements. 0..10 keeps eleven.",
    ),
]
