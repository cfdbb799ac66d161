"""10-crud: products as hashes plus a sorted-set index; create if new, update if present, delete, paginate.

Every write that changes a product and its index entry together is one atomic step (MULTI/EXEC after a
WATCHed check, or a Lua script); a page is one ZRANGE by index, never a download of the whole index.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from .._exercise import Exercise, Mutant
from .._probes import call_with_crash_after, refuse_other_types
from .._quiz import Quiz
from .._trial import LearnerRaised, Trial
from .._wire import READ_ONLY_COMMANDS, Command, format_command, writes_outside_transactions

NOTEBOOK = "10-crud"

INDEX = "products"  # a sorted set of product ids, every score 0: ZRANGE then returns them in id order

# Commands that only read a product or the index: another client's write is injected right after one of them.
_READS = [
    "EXISTS",
    "HEXISTS",
    "HLEN",
    "HGET",
    "HGETALL",
    "HMGET",
    "HKEYS",
    "ZSCORE",
    "ZMSCORE",
    "ZRANK",
    "TYPE",
]
# Set commands: a learner who still thinks of the index as a plain set gets WRONGTYPE from the sorted set.
_SET_COMMANDS = {"SADD", "SREM", "SMEMBERS", "SISMEMBER", "SMISMEMBER", "SCARD", "SSCAN", "SRANDMEMBER", "SPOP"}

MUG = {"name": "Mug", "price": "12.50", "stock": "3"}
BOWL = {"name": "Bowl", "price": "8.00"}
LAMP = {"name": "Lamp", "price": "40.00", "stock": "1"}


def _seed(t: Trial, products: dict[str, dict[str, str]]) -> None:
    for product_id, fields in products.items():
        t.admin.hset(f"product:{product_id}", mapping=fields)
        t.admin.zadd(INDEX, {product_id: 0})


def _expect_bool(t: Trial, result: Any, expected: bool) -> None:
    """Fail unless result is exactly True or False (not 1, 0 or None), and equal to expected."""
    if not isinstance(result, bool):
        hint = ""
        if isinstance(result, int):
            hint = " (a count that a Redis command replied with)"
        elif isinstance(result, list):
            hint = " (the replies of a pipeline)"
        t.fail(
            f"{t.last_call} returned the {type(result).__name__} {result!r:.60}{hint}, not a bool: return True or "
            f"False (comparing a reply, as in `reply == 1`, gives one). Expected {expected}."
        )
    t.expect_equal(result, expected, t.last_call)


def _hash_of(t: Trial, product_id: str) -> dict[str, str]:
    """The product's fields as the checker reads them; fails with a sentence when the key is not a hash."""
    key = f"product:{product_id}"
    kind = t.admin.type(key)
    if kind not in ("hash", "none"):
        t.fail(
            f"After {t.last_call}, {key} is a {kind}, not a hash. Store a product as a hash, one field per "
            "attribute: r.hset(key, mapping=fields); then one field can change without rewriting the others."
        )
    return t.admin.hgetall(key)


def _explain_set_commands(t: Trial) -> None:
    """Fail with a sentence when the learner's error came from using set commands on the sorted-set index."""
    used = [command for command in t.sent if command and command[0].upper() in _SET_COMMANDS]
    if used and t.admin.type(INDEX) == "zset":
        t.fail(
            f"{t.last_call} sent `{format_command(used[0])}`, a command for plain sets, but in this notebook the "
            f"index {INDEX} is a sorted set (every score 0, so that ZRANGE returns a page of ids in order), and "
            f"Redis answered WRONGTYPE. Use the sorted-set commands: ZADD {INDEX} 0 <id> to add an id, ZREM to "
            "remove it, ZSCORE to test it, ZRANGE to read a page."
        )


def _call(t: Trial, *args: Any, advice: str = "look at the product once more, or return False", **kwargs: Any) -> Any:
    """t.call(*args, **kwargs); an uncaught WatchError, and set commands on the index, get a sentence of their own."""
    try:
        result, error = t.try_call(*args, expected=(redis.WatchError,), **kwargs)
    except LearnerRaised:
        _explain_set_commands(t)
        raise
    if error is not None:
        t.fail(
            f"{t.last_call} raised WatchError: another client changed the product between your WATCH and your "
            "EXEC (the check did that on purpose), so Redis discarded your transaction. Catch redis.WatchError "
            f"and decide again: {advice}."
        )
    return result


def _writing_steps(sent: list[Command]) -> list[list[Command]]:
    """The separate steps in which commands that may write reached Redis.

    A MULTI ... EXEC block with writes is one step, a script is one step, any other write is a step of its
    own. One step is atomic; two or more can be interrupted in between.
    """
    steps: list[list[Command]] = []
    block: list[Command] = []
    inside = False
    for command in sent:
        name = command[0].upper() if command else ""
        if name == "MULTI":
            inside, block = True, []
        elif name in ("EXEC", "DISCARD"):
            inside = False
            if name == "EXEC" and block:
                steps.append(block)
        elif name in READ_ONLY_COMMANDS:
            continue
        elif inside:
            block.append(command)
        else:
            steps.append([command])
    return steps


def _expect_indexed(t: Trial, product_id: str) -> None:
    """Fail unless the sorted-set index lists product_id with the score 0."""
    kind = t.admin.type(INDEX)
    if kind not in ("zset", "none"):
        t.fail(
            f"After {t.last_call}, {INDEX} is a {kind}, not a sorted set. The index is a sorted set whose scores "
            f"are all 0 (so that ZRANGE returns a page of ids in order): add an id with ZADD {INDEX} 0 <id>."
        )
    score = t.admin.zscore(INDEX, product_id)
    if score is None:
        t.fail(
            f"After {t.last_call}, the sorted set {INDEX} does not list {product_id}, so a listing of all products "
            f"would never show it. Add the id to the index in the same step: ZADD {INDEX} 0 {product_id}."
        )
    if score != 0:
        t.fail(
            f"After {t.last_call}, {INDEX} lists {product_id} with the score {score:g}. Every id in this index has "
            "the score 0: members with equal scores are ordered by their own text, so ZRANGE returns the ids in "
            f"order. Add it with ZADD {INDEX} 0 {product_id}."
        )


# -- crud.create_product -------------------------------------------------------------------------------
def create_product(r, product_id, fields):
    key = f"product:{product_id}"
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)  # from here on, EXEC fails if another client touches the key
                if pipe.exists(key):
                    return False
                pipe.multi()  # queue the writes: they run together, in one step, at EXEC
                pipe.hset(key, mapping=fields)
                pipe.zadd("products", {product_id: 0})  # every score 0: ZRANGE orders the ids by name
                pipe.execute()
                return True
            except redis.WatchError:  # someone touched the key between EXISTS and EXEC: look again
                continue


def _overwrites(r, product_id, fields):
    with r.pipeline() as pipe:
        pipe.hset(f"product:{product_id}", mapping=fields)
        pipe.zadd("products", {product_id: 0})
        pipe.execute()
    return True


def _checks_then_creates(r, product_id, fields):
    key = f"product:{product_id}"
    if r.exists(key):  # nothing watched: the answer may be stale by the time the transaction runs
        return False
    with r.pipeline() as pipe:
        pipe.hset(key, mapping=fields)
        pipe.zadd("products", {product_id: 0})
        pipe.execute()
    return True


def _claims_the_id_then_writes(r, product_id, fields):
    if not r.zadd("products", {product_id: 0}, nx=True):  # who was first: but the fields come later
        return False
    r.hset(f"product:{product_id}", mapping=fields)
    return True


def _pipelined_without_multi(r, product_id, fields):
    key = f"product:{product_id}"
    if r.exists(key):
        return False
    with r.pipeline(transaction=False) as pipe:  # one round trip, but two separate commands
        pipe.hset(key, mapping=fields)
        pipe.zadd("products", {product_id: 0})
        pipe.execute()
    return True


def _forgets_the_index(r, product_id, fields):
    key = f"product:{product_id}"
    with r.pipeline() as pipe:
        try:
            pipe.watch(key)
            if pipe.exists(key):
                return False
            pipe.multi()
            pipe.hset(key, mapping=fields)
            pipe.execute()
            return True
        except redis.WatchError:
            return False


def _watched_create(r, product_id, fields, write):
    """create_product with the writes after MULTI replaced by write(pipe); returns EXEC's replies (or False)."""
    key = f"product:{product_id}"
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                if pipe.exists(key):
                    return False
                pipe.multi()
                write(pipe)
                return pipe.execute()
            except redis.WatchError:
                continue


def _index_as_a_set(r, product_id, fields):
    def write(pipe):
        pipe.hset(f"product:{product_id}", mapping=fields)
        pipe.sadd("products", product_id)

    return bool(_watched_create(r, product_id, fields, write))


def _scores_by_number(r, product_id, fields):
    def write(pipe):
        pipe.hset(f"product:{product_id}", mapping=fields)
        pipe.zadd("products", {product_id: len(fields)})

    return bool(_watched_create(r, product_id, fields, write))


def _stores_json(r, product_id, fields):
    created = r.set(f"product:{product_id}", json.dumps(fields), nx=True)
    if created:
        r.zadd("products", {product_id: 0})
    return bool(created)


def _returns_what_zadd_returns(r, product_id, fields):
    def write(pipe):
        pipe.hset(f"product:{product_id}", mapping=fields)
        pipe.zadd("products", {product_id: 0})

    replies = _watched_create(r, product_id, fields, write)
    return replies[-1] if replies else 0


def _expect_one_step(t: Trial) -> None:
    """Fail a create whose writes reached Redis in more than one step, showing what a crash in between leaves."""
    first_call, steps, trips = t.last_call, _writing_steps(t.sent), list(t.recorder.round_trips)
    if len(steps) < 2:
        return
    together = any(all(command in trip for step in steps for command in step) for trip in trips)
    shown = " and then ".join(f"`{format_command(step[0])}`" for step in steps[:3])
    first = {command[0].upper() for command in steps[0]}
    crashed, _ = call_with_crash_after(t, first, "p7", BOWL)
    listed = t.admin.zscore(INDEX, "p7") is not None if t.admin.type(INDEX) == "zset" else False
    stored = bool(t.admin.exists("product:p7"))
    if crashed and listed != stored:
        left = (
            "the index lists p7 but product:p7 does not exist, so a listing shows a product without any fields"
            if listed
            else "product:p7 exists but the index does not list it, so no listing will ever show it"
        )
        t.fail(
            f"{first_call} sent its writes in {len(steps)} separate steps ({shown}). The check then cut the "
            f"connection right after the first step of {t.last_call} (a crash, a timeout, a deploy), and now "
            f"{left}: a half-created product that stays that way, and one that other clients could see even "
            "without a crash. Make the check and both writes one step: WATCH the key, check EXISTS, then queue "
            "HSET and ZADD after pipe.multi() and call execute() once (MULTI/EXEC), or use one Lua script."
        )
    batched = " in one round trip (a pipeline with transaction=False sends them together, but not as one step)"
    t.fail(
        f"{first_call} sent its writes as {len(steps)} separate steps ({shown})"
        + (batched if together else "")
        + ": another client can read in between and see a product that exists but is not listed, or is "
        "listed but has no fields. Queue HSET and ZADD after pipe.multi() and call execute() once, so Redis "
        "runs them as one step (MULTI/EXEC)."
    )


def check_create_product(t: Trial) -> str:
    _seed(t, {"p2": LAMP})
    created = _call(t, "p1", MUG)
    _expect_bool(t, created, True)
    stored = _hash_of(t, "p1")
    if stored != MUG:
        t.fail(f"After {t.last_call}, product:p1 holds {stored!r}; expected the fields {MUG!r}.")
    _expect_indexed(t, "p1")
    _expect_one_step(t)

    for product_id, fields, original in (("p1", BOWL, MUG), ("p2", BOWL, LAMP)):
        again = _call(t, product_id, fields)
        stored = _hash_of(t, product_id)
        if stored != original:
            verdict = "returned True and" if again is True else "returned False but"
            t.fail(
                f"{product_id} already existed with {original!r}; {t.last_call} {verdict} overwrote it: it now "
                f"holds {stored!r}. Check that the product is new before writing, and write only if it is."
            )
        _expect_bool(t, again, False)

    other = {"name": "Teapot", "price": "30.00"}
    outcome: dict[str, bool] = {}

    def another_app_creates(admin: redis.Redis) -> None:
        outcome["other"] = create_product(admin, "p3", other)

    injected = t.inject_once(_READS, another_app_creates)
    mine = {"name": "Kettle", "price": "25.00"}
    created = _call(t, "p3", mine)
    stored = _hash_of(t, "p3")
    if injected["fired"]:
        if created is True:
            t.fail(
                f"While {t.last_call} ran, another client created p3 between your check and your write. Both "
                f"calls returned True, so both programs believe they created it, and p3 now holds {stored!r}. "
                "Make the check and the write one step: WATCH the key before you check it, then write in "
                "MULTI/EXEC (a WatchError means someone else touched it: look again)."
            )
        if stored != other:
            t.fail(
                f"Another client created p3 with {other!r} while {t.last_call} ran; your call returned {created!r} "
                f"but p3 now holds {stored!r}: it changed a product that it did not create."
            )
        _expect_bool(t, created, False)
    else:
        _expect_bool(t, created, True)
        t.expect_equal(stored, mine, f"After {t.last_call}, HGETALL product:p3")
    return (
        "create_product writes a new product and its index entry in one atomic step, and never overwrites, even "
        "under a race."
    )


CREATE_PRODUCT = Exercise(
    id="crud.create_product",
    title="Create a product only if it is new",
    signature="create_product(r, product_id: str, fields: dict) -> bool",
    task="Only if the product does not exist yet: store fields in the hash product:{product_id} and add "
    "product_id to the sorted set products with the score 0, both in one atomic step; return True if this "
    "call created it, False otherwise. Another client may create the same product at the same moment: "
    "exactly one of you may win.",
    checker=check_create_product,
    reference=create_product,
    hints=(
        "Checking with EXISTS and then writing leaves a gap in which another client can create the product too; "
        "and writing the hash and the index entry one after the other leaves a half-created product if anything "
        "stops in between. The check and both writes must act as one step.",
        "WATCH the key, check EXISTS, then queue HSET and ZADD after pipe.multi() and call execute(): it raises "
        "redis.WatchError if anyone touched the key since WATCH (then look again).",
        "with r.pipeline() as pipe: while True: try: pipe.watch(key); if pipe.exists(key): return False; "
        'pipe.multi(); pipe.hset(key, mapping=fields); pipe.zadd("products", {product_id: 0}); pipe.execute(); '
        "return True  except redis.WatchError: continue",
    ),
    mutants=(
        Mutant(_overwrites, "returned True and overwrote it"),
        Mutant(_checks_then_creates, "Both calls returned True"),
        Mutant(_claims_the_id_then_writes, "a half-created product that stays that way"),
        Mutant(_pipelined_without_multi, "but not as one step"),
        Mutant(_forgets_the_index, "does not list p1"),
        Mutant(_index_as_a_set, "a command for plain sets"),
        Mutant(_scores_by_number, "with the score 3"),
        Mutant(_stores_json, "is a string, not a hash"),
        Mutant(_returns_what_zadd_returns, "not a bool"),
    ),
)


# -- crud.update_product -------------------------------------------------------------------------------
def update_product(r, product_id, changes):
    key = f"product:{product_id}"
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                if not pipe.exists(key):
                    return False  # no product, nothing to update (and nothing created)
                pipe.multi()
                pipe.hset(key, mapping=changes)  # only the given fields change
                pipe.execute()
                return True
            except redis.WatchError:  # the product changed meanwhile: look again
                continue


def _creates_when_missing(r, product_id, changes):
    r.hset(f"product:{product_id}", mapping=changes)
    return True


def _checks_then_updates(r, product_id, changes):
    key = f"product:{product_id}"
    if not r.exists(key):
        return False
    r.hset(key, mapping=changes)
    return True


def _replaces_the_record(r, product_id, changes):
    key = f"product:{product_id}"
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                if not pipe.exists(key):
                    return False
                pipe.multi()
                pipe.delete(key)
                pipe.hset(key, mapping=changes)
                pipe.execute()
                return True
            except redis.WatchError:
                continue


def _gives_up_on_watch_error(r, product_id, changes):
    key = f"product:{product_id}"
    with r.pipeline() as pipe:
        try:
            pipe.watch(key)
            if not pipe.exists(key):
                return False
            pipe.multi()
            pipe.hset(key, mapping=changes)
            pipe.execute()
            return True
        except redis.WatchError:
            return False


def _returns_what_hset_returns(r, product_id, changes):
    key = f"product:{product_id}"
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                if not pipe.exists(key):
                    return False
                pipe.multi()
                pipe.hset(key, mapping=changes)
                return bool(pipe.execute()[0])
            except redis.WatchError:
                continue


def check_update_product(t: Trial) -> str:
    _seed(t, {"p1": MUG, "p2": BOWL})
    expected = dict(MUG)
    for changes in ({"price": "9.99"}, {"colour": "blue", "stock": "7"}):
        updated = _call(t, "p1", changes)
        expected.update(changes)
        stored = _hash_of(t, "p1")
        lost = sorted(set(expected) - set(stored))
        if lost:
            t.fail(
                f"After {t.last_call}, product:p1 holds {stored!r}: the fields {lost} were lost. An update should "
                "change only the given fields: HSET with those fields leaves the others alone (do not DEL first)."
            )
        if updated is False and stored == expected:
            t.fail(
                f"{t.last_call} updated p1 but returned False. HSET replies with the number of fields it *added* "
                "(0 when it only changes existing fields), not whether the product exists: return True once the "
                "write is done."
            )
        t.expect_equal(stored, expected, f"After {t.last_call}, HGETALL product:p1")
        _expect_bool(t, updated, True)

    updated = _call(t, "p404", {"price": "1.00"})
    if t.admin.exists("product:p404"):
        t.fail(
            f"{t.last_call} created product:p404 holding {t.admin.hgetall('product:p404')!r}, a product that did "
            "not exist and is not in the index. HSET creates a missing hash: check that the product exists first, "
            "and return False when it does not."
        )
    _expect_bool(t, updated, False)

    # Another client changes an unrelated field of p1 between the learner's check and their write: p1 still
    # exists, so a WatchError here means "look again", not "there is no product".
    injected = t.inject_once(
        _READS, lambda admin: admin.hset("product:p1", "stock", "99"), wait_while=[*_READS, "WATCH"]
    )
    updated = _call(
        t, "p1", {"price": "7.50"}, advice="the product may well still exist, so loop back to WATCH and look again"
    )
    expected.update({"price": "7.50", **({"stock": "99"} if injected["fired"] else {})})
    stored = _hash_of(t, "p1")
    if injected["fired"] and updated is False:
        t.fail(
            f"While {t.last_call} ran, another client changed p1's stock to 99 between your check and your write "
            "(the check did that on purpose), and your call returned False: but p1 still exists, and HGETALL "
            f"product:p1 is {stored!r}, without your price. A WatchError only says that the key changed, not that "
            "the product is gone: loop back to WATCH, check EXISTS again, and write again (return False only when "
            "the product really does not exist)."
        )
    t.expect_equal(stored, expected, f"After {t.last_call}, HGETALL product:p1")
    _expect_bool(t, updated, True)

    def another_app_deletes(admin: redis.Redis) -> None:
        delete_product(admin, "p2")

    injected = t.inject_once(_READS, another_app_deletes)
    updated = _call(t, "p2", {"price": "1.00"})
    if injected["fired"]:
        leftover = t.admin.hgetall("product:p2")
        if leftover:
            t.fail(
                f"Another client deleted p2 between your check and your write in {t.last_call}; your write then "
                f"created product:p2 again, holding only {leftover!r}: a half product that the index does not list. "
                "Make the check and the write one step: WATCH the key and write in MULTI/EXEC (retry on "
                "WatchError), or use a Lua script."
            )
        _expect_bool(t, updated, False)
    else:
        _expect_bool(t, updated, True)
    return (
        "update_product changes only existing products, only the given fields, and retries when another client "
        "changes the product meanwhile, even when a delete races it."
    )


UPDATE_PRODUCT = Exercise(
    id="crud.update_product",
    title="Update a product only if it exists",
    signature="update_product(r, product_id: str, changes: dict) -> bool",
    task="Set the fields in changes on product:{product_id}, keeping its other fields, only if the product "
    "exists; return True if it was updated, False if there is no such product. Never create a product, even "
    "when another client deletes it while you update; and when another client only changes it meanwhile, "
    "try again rather than give up.",
    checker=check_update_product,
    reference=update_product,
    hints=(
        "HSET creates a hash that does not exist, so check first; but a delete can land between your check and "
        "your HSET, and then HSET creates a half product.",
        "WATCH the key, check EXISTS, then queue HSET after pipe.multi(); execute() raises redis.WatchError "
        "when the key changed meanwhile: loop and look again.",
        "with r.pipeline() as pipe: while True: try: pipe.watch(key); if not pipe.exists(key): return False; "
        "pipe.multi(); pipe.hset(key, mapping=changes); pipe.execute(); return True "
        "except redis.WatchError: continue",
    ),
    mutants=(
        Mutant(_creates_when_missing, "created product:p404"),
        Mutant(_checks_then_updates, "a half product"),
        Mutant(_replaces_the_record, "were lost"),
        Mutant(_returns_what_hset_returns, "number of fields it *added*"),
        Mutant(_gives_up_on_watch_error, "A WatchError only says that the key changed"),
    ),
)


# -- crud.delete_product -------------------------------------------------------------------------------
def delete_product(r, product_id):
    with r.pipeline() as pipe:  # transaction=True (the default): MULTI ... EXEC
        pipe.delete(f"product:{product_id}")
        pipe.zrem("products", product_id)
        deleted, _ = pipe.execute()
    return deleted == 1


def _deletes_only_the_hash(r, product_id):
    return r.delete(f"product:{product_id}") == 1


def _deletes_only_the_index_entry(r, product_id):
    return r.zrem("products", product_id) == 1


def _two_separate_commands(r, product_id):
    deleted = r.delete(f"product:{product_id}")
    r.zrem("products", product_id)
    return deleted == 1


def _pipeline_without_transaction(r, product_id):
    with r.pipeline(transaction=False) as pipe:
        pipe.delete(f"product:{product_id}")
        pipe.zrem("products", product_id)
        deleted, _ = pipe.execute()
    return deleted == 1


def _always_true(r, product_id):
    with r.pipeline() as pipe:
        pipe.delete(f"product:{product_id}")
        pipe.zrem("products", product_id)
        pipe.execute()
    return True


def _returns_the_count(r, product_id):
    with r.pipeline() as pipe:
        pipe.delete(f"product:{product_id}")
        pipe.zrem("products", product_id)
        deleted, _ = pipe.execute()
    return deleted


def _returns_what_zrem_returns(r, product_id):
    with r.pipeline() as pipe:
        pipe.delete(f"product:{product_id}")
        pipe.zrem("products", product_id)
        _, removed = pipe.execute()
    return bool(removed)


def _checks_then_deletes(r, product_id):
    existed = r.exists(f"product:{product_id}")
    with r.pipeline() as pipe:
        pipe.delete(f"product:{product_id}")
        pipe.zrem("products", product_id)
        pipe.execute()
    return existed == 1


def check_delete_product(t: Trial) -> str:
    _seed(t, {"p1": MUG, "p2": BOWL, "p3": LAMP})
    deleted = _call(t, "p1")
    _expect_bool(t, deleted, True)
    if t.admin.exists("product:p1"):
        t.fail(
            f"After {t.last_call}, product:p1 still exists: the index no longer lists it, but its hash stays in "
            "memory with nothing pointing to it. Delete the hash (DEL) and the index entry (ZREM) together."
        )
    if t.admin.zscore(INDEX, "p1") is not None:
        t.fail(
            f"After {t.last_call}, the sorted set {INDEX} still lists p1 although product:p1 is gone, so a listing "
            f"would show a product that does not exist. Remove the id from the index too: ZREM {INDEX} p1."
        )
    remaining = set(t.admin.zrange(INDEX, 0, -1))
    if remaining != {"p2", "p3"} or t.admin.exists("product:p2", "product:p3") != 2:
        t.fail(f"{t.last_call} should delete only p1, but p2 or p3 is gone too (the index now holds {remaining}).")
    # A script's writes run inside the server as one atomic step: sending one is as good as MULTI/EXEC.
    outside = writes_outside_transactions(t.sent, scripts_are_atomic=True)
    if outside:
        sent = " and ".join(f"`{format_command(command)}`" for command in outside)
        batched = t.round_trips == 1
        together = " (a pipeline with transaction=False sends them together, but not as one step)" if batched else ""
        t.fail(
            f"{t.last_call} sent {sent} outside a transaction{together}. If your program stops between them "
            "(a crash, a timeout, a deploy), one is done and the other is not, and other clients can see that "
            "half-deleted state. Wrap both in MULTI/EXEC: `with r.pipeline() as pipe:` (transaction=True is the "
            "default), queue pipe.delete(...) and pipe.zrem(...), then pipe.execute()."
        )

    deleted = _call(t, "p404")
    if deleted is True:
        t.fail(
            f"{t.last_call} returned True, but p404 does not exist, so nothing was deleted. Return what DEL "
            "replied inside the transaction: 1 when it deleted the hash, 0 when there was none (`deleted == 1`)."
        )
    _expect_bool(t, deleted, False)
    if t.admin.zcard(INDEX) != 2:
        t.fail(
            f"{t.last_call} changed the index although p404 does not exist: it holds {t.admin.zrange(INDEX, 0, -1)}."
        )

    outcome: dict[str, bool] = {}

    def another_app_deletes(admin: redis.Redis) -> None:
        outcome["other"] = delete_product(admin, "p2")

    injected = t.inject_once(_READS, another_app_deletes)
    deleted = _call(t, "p2")
    if injected["fired"] and deleted is True and outcome.get("other"):
        t.fail(
            f"Another client deleted p2 between your check and your delete in {t.last_call}, and both calls "
            "returned True: two programs now each believe they removed p2 (think of two refunds). Decide from what "
            "DEL itself replies inside the transaction: it returns 1 only for the call that really deleted the key."
        )
    _expect_bool(t, deleted, not injected["fired"])

    # The hash and the index can disagree (say, after a crash in an older program that deleted without MULTI):
    # whether the product existed is what DEL replies, not what ZREM replies.
    t.admin.hset("product:p4", mapping=BOWL)  # a product that the index does not list
    deleted = _call(t, "p4")
    if t.admin.exists("product:p4"):
        t.fail(f"After {t.last_call}, product:p4 still exists: delete the hash with DEL even when the index misses it.")
    if deleted is False:
        t.fail(
            f"{t.last_call} returned False, but product:p4 existed and your call deleted it. The index set did not "
            "list p4 (the two can disagree after a crash half-way), so ZREM replied 0. Whether the product existed "
            "is what DEL replies: return deleted == 1 with DEL's reply, not ZREM's."
        )
    _expect_bool(t, deleted, True)
    t.admin.zadd(INDEX, {"p5": 0})  # an index entry whose hash is gone
    deleted = _call(t, "p5")
    if deleted is True:
        t.fail(
            f"{t.last_call} returned True, but there was no product:p5 to delete: only a stale entry in the index, "
            "so ZREM replied 1 while DEL replied 0. Whether the product existed is what DEL replies: return "
            "deleted == 1 with DEL's reply, not ZREM's."
        )
    _expect_bool(t, deleted, False)
    return "delete_product removes the hash and the index entry in one MULTI/EXEC and reports what DEL really did."


DELETE_PRODUCT = Exercise(
    id="crud.delete_product",
    title="Delete a product atomically",
    signature="delete_product(r, product_id: str) -> bool",
    task="Delete the hash product:{product_id} and remove product_id from the set products in one atomic "
    "step (MULTI/EXEC); return True only if the product existed and this call deleted it.",
    checker=check_delete_product,
    reference=delete_product,
    hints=(
        "Two commands are needed (DEL and ZREM); a transaction makes them one step that no other client can "
        "see half done.",
        "r.pipeline() gives a transactional pipeline: queue pipe.delete(...) and pipe.zrem(...), and "
        "pipe.execute() sends MULTI, both commands and EXEC, returning both replies. DEL's reply is the number "
        "of keys it deleted.",
        'with r.pipeline() as pipe: pipe.delete(f"product:{product_id}"); pipe.zrem("products", product_id); '
        "deleted, _ = pipe.execute()  then  return deleted == 1",
    ),
    mutants=(
        Mutant(_deletes_only_the_hash, "still lists p1"),
        Mutant(_deletes_only_the_index_entry, "product:p1 still exists"),
        Mutant(_two_separate_commands, "outside a transaction"),
        Mutant(_pipeline_without_transaction, "transaction=False sends them together"),
        Mutant(_always_true, "p404 does not exist"),
        Mutant(_returns_the_count, "not a bool"),
        Mutant(_checks_then_deletes, "both calls returned True"),
        Mutant(_returns_what_zrem_returns, "DEL's reply, not ZREM's"),
    ),
)


# -- crud.list_products --------------------------------------------------------------------------------
def list_products(r, page, per_page):
    start = (page - 1) * per_page  # page 1 is the first page
    ids = r.zrange("products", start, start + per_page - 1)  # only this page's ids; the stop index is included
    with r.pipeline(transaction=False) as pipe:  # one round trip for all the hashes
        for product_id in ids:
            pipe.hgetall(f"product:{product_id}")
        records = pipe.execute()
    return [{"id": product_id, **fields} for product_id, fields in zip(ids, records, strict=True)]


def _fetch(r, ids):
    """The products with these ids, fetched as list_products does; the mutants below pick the ids wrongly."""
    with r.pipeline(transaction=False) as pipe:
        for product_id in ids:
            pipe.hgetall(f"product:{product_id}")
        records = pipe.execute()
    return [{"id": product_id, **fields} for product_id, fields in zip(ids, records, strict=True)]


def _zero_based_pages(r, page, per_page):
    start = page * per_page
    return _fetch(r, r.zrange("products", start, start + per_page - 1))


def _stop_as_in_a_slice(r, page, per_page):
    start = (page - 1) * per_page
    return _fetch(r, r.zrange("products", start, start + per_page))  # ZRANGE includes the stop index


def _whole_index_then_slice(r, page, per_page):
    start = (page - 1) * per_page
    return _fetch(r, r.zrange("products", 0, -1)[start : start + per_page])


def _members_of_a_set(r, page, per_page):
    start = (page - 1) * per_page
    return _fetch(r, sorted(r.smembers("products"))[start : start + per_page])


def _one_round_trip_per_product(r, page, per_page):
    start = (page - 1) * per_page
    ids = r.zrange("products", start, start + per_page - 1)
    return [{"id": product_id, **r.hgetall(f"product:{product_id}")} for product_id in ids]


def _scans_with_keys(r, page, per_page):
    start = (page - 1) * per_page
    keys = sorted(r.keys("product:*"))[start : start + per_page]
    with r.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hgetall(key)
        records = pipe.execute()
    return [{"id": key.split(":", 1)[1], **fields} for key, fields in zip(keys, records, strict=True)]


def _ids_only(r, page, per_page):
    start = (page - 1) * per_page
    return r.zrange("products", start, start + per_page - 1)


def _forgets_the_id(r, page, per_page):
    start = (page - 1) * per_page
    ids = r.zrange("products", start, start + per_page - 1)
    with r.pipeline(transaction=False) as pipe:
        for product_id in ids:
            pipe.hgetall(f"product:{product_id}")
        return pipe.execute()


CATALOGUE = {
    f"p{number:02d}": {"name": name, "price": f"{price:.2f}"}
    for number, (name, price) in enumerate(
        [
            ("Mug", 12.5),
            ("Bowl", 8.0),
            ("Lamp", 40.0),
            ("Teapot", 30.0),
            ("Kettle", 25.0),
            ("Plate", 6.5),
            ("Vase", 18.0),
            ("Clock", 22.0),
            ("Rug", 55.0),
            ("Chair", 70.0),
            ("Stool", 35.0),
            ("Shelf", 48.0),
        ],
        1,
    )
}

# Reads that return ids from the index: the check replays them to see how many ids each one downloaded.
_INDEX_READS = {
    "ZRANGE",
    "ZREVRANGE",
    "ZRANGEBYSCORE",
    "ZREVRANGEBYSCORE",
    "ZRANGEBYLEX",
    "ZREVRANGEBYLEX",
    "SORT",
    "SORT_RO",
}
_INDEX_WALKS = {"ZSCAN", "SSCAN", "SMEMBERS"}


def _describe_ids(records: list[Any]) -> list[Any]:
    return [record.get("id", "?") if isinstance(record, dict) else record for record in records]


def _no_keyspace_search(t: Trial, example: str) -> None:
    if t.recorder.used("KEYS", "SCAN"):
        t.fail(
            f"{t.last_call} searched the whole keyspace with KEYS or SCAN{example}. KEYS walks every key in the "
            "database and blocks the server while it does: with millions of keys that stops every other client "
            f"for seconds. The index {INDEX} already lists the ids: read one page of it with ZRANGE."
        )


def _ids_downloaded(t: Trial, command: Command) -> int:
    """How many ids one of the learner's index reads brought back, found by replaying it (reads only)."""
    words = [word.upper() for word in command]
    if words[0] in ("SORT", "SORT_RO"):
        if "STORE" in words:
            return 0
        if "LIMIT" in words:
            return int(command[words.index("LIMIT") + 2])
        return int(t.admin.zcard(INDEX)) if t.admin.type(INDEX) == "zset" else 0
    reply = t.admin.execute_command(*command)
    if not isinstance(reply, list):
        return 0
    pairs = "WITHSCORES" in words and reply and not isinstance(reply[0], (list, tuple))
    return len(reply) // 2 if pairs else len(reply)


def _no_whole_index(t: Trial, per_page: int) -> None:
    """Fail a page that was cut out of the whole index in Python instead of asking Redis for that page only."""
    walks = [command for command in t.sent if command and command[0].upper() in _INDEX_WALKS]
    if walks:
        t.fail(
            f"{t.last_call} read the whole index ({format_command(walks[0])}) to return {per_page} products. With a "
            "million products that is a million ids sent over the network for every page. Ask Redis for this "
            "page's ids only: ZRANGE products start stop, with start = (page - 1) * per_page."
        )
    for command in t.sent:
        if not command or command[0].upper() not in _INDEX_READS:
            continue
        count = _ids_downloaded(t, command)
        if count > per_page + 1:
            t.fail(
                f"{t.last_call} downloaded {count} ids from the index (`{format_command(command)}`) to return a page "
                f"of {per_page}: the whole index, cut into a page in Python. With a million products that is a "
                "million ids sent over the network for every page. Ask Redis for this page's ids only: ZRANGE "
                "products start stop, where stop = start + per_page - 1 (ZRANGE includes its stop index)."
            )


def _page(t: Trial, page: int, per_page: int) -> Any:
    try:
        return _call(t, page, per_page)
    except LearnerRaised:
        _no_keyspace_search(t, "; here product:* also matched product:p03:views, which is not a product")
        raise


def check_list_products(t: Trial) -> str:
    shuffled = ["p07", "p02", "p11", "p05", "p01", "p12", "p09", "p04", "p10", "p03", "p08", "p06"]
    _seed(t, {product_id: CATALOGUE[product_id] for product_id in shuffled})
    t.admin.set("product:p03:views", "120")  # a key next to the products that is not one
    all_ids = sorted(CATALOGUE)
    for page, per_page in ((1, 5), (2, 5), (3, 5), (4, 5), (2, 4)):
        start = (page - 1) * per_page
        expected_ids = all_ids[start : start + per_page]
        expected = [{"id": product_id, **CATALOGUE[product_id]} for product_id in expected_ids]
        result = _page(t, page, per_page)
        _no_keyspace_search(t, "")
        refuse_other_types(t, result, list, "return a list of dicts.")
        if any(isinstance(record, str) for record in result):
            t.fail(
                f"{t.last_call} returned ids ({result[:3]!r}…), not the products: return one dict per product, "
                "its hash fields plus its id, e.g. {'id': 'p01', 'name': 'Mug', 'price': '12.50'}."
            )
        if any(isinstance(record, dict) and "id" not in record for record in result):
            t.fail(
                f"{t.last_call} returned dicts without an 'id' ({result[0]!r}): the hash holds the fields but not "
                "the id, which is part of the key. Add it: {'id': product_id, **fields}."
            )
        got_ids = _describe_ids(result)
        if result == expected:
            _no_whole_index(t, per_page)
            if t.round_trips > 2:
                t.fail(
                    f"{t.last_call} returned the right page in {t.round_trips} round trips, one per product. Send "
                    "the HGETALLs in one pipeline (r.pipeline(transaction=False), then execute()): two round trips "
                    "in all, however long the page."
                )
            continue
        if page == 1 and got_ids == all_ids[per_page : 2 * per_page]:
            t.fail(
                f"{t.last_call} returned {got_ids}, the second page. Page 1 is the first page: it starts at "
                "index (page - 1) * per_page, here 0."
            )
        if len(result) == per_page + 1 and got_ids[:per_page] == expected_ids:
            t.fail(
                f"{t.last_call} returned {len(result)} products for per_page={per_page}: ZRANGE's stop index is "
                "included in the reply (unlike a Python slice), so a page is ZRANGE products start "
                "start + per_page - 1."
            )
        t.fail(f"{t.last_call}: expected {expected!r:.200}, got {result!r:.200}.")
    return "list_products reads one page of ids from the sorted-set index and fetches its hashes in one round trip."


LIST_PRODUCTS = Exercise(
    id="crud.list_products",
    title="List products a page at a time",
    signature="list_products(r, page: int, per_page: int) -> list[dict]",
    task="Return page number page (1 is the first) of the products, per_page per page, in the order of the "
    "sorted set products (every score 0, so by id): each a dict of the hash's fields plus 'id'. Ask Redis for "
    "that page's ids only (never the whole index, never KEYS), and fetch their hashes in one round trip.",
    checker=check_list_products,
    reference=list_products,
    hints=(
        "ZRANGE takes indexes: ZRANGE products 0 4 is the first five ids, in order. Page 1 starts at index 0.",
        "start = (page - 1) * per_page; ids = r.zrange('products', start, start + per_page - 1): the stop index "
        "is included. Then one pipeline with an HGETALL per id, and a single execute().",
        "with r.pipeline(transaction=False) as pipe: for product_id in ids: "
        'pipe.hgetall(f"product:{product_id}")  then  records = pipe.execute(); '
        'return [{"id": i, **f} for i, f in zip(ids, records, strict=True)]',
    ),
    mutants=(
        Mutant(_zero_based_pages, "Page 1 is the first page"),
        Mutant(_stop_as_in_a_slice, "stop index is included"),
        Mutant(_whole_index_then_slice, "the whole index, cut into a page in Python"),
        Mutant(_members_of_a_set, "a command for plain sets"),
        Mutant(_one_round_trip_per_product, "one per product"),
        Mutant(_scans_with_keys, "KEYS walks every key"),
        Mutant(_ids_only, "returned ids"),
        Mutant(_forgets_the_id, "without an 'id'"),
    ),
)


EXERCISES = [CREATE_PRODUCT, UPDATE_PRODUCT, DELETE_PRODUCT, LIST_PRODUCTS]


QUIZZES = [
    Quiz(
        id="crud.quiz_half_delete",
        question=(
            "delete_product runs DEL product:p1 and then ZREM products p1 as two separate commands, and the program "
            "crashes between them. What is left?"
        ),
        options=(
            "Nothing: Redis undoes the DEL",
            "The index still lists p1, but product:p1 is gone",
            "product:p1 is still there, but the index no longer lists it",
            "Both are still there",
        ),
        answer=1,
        explanation=(
            "The DEL ran and the ZREM never did, and Redis never undoes a command that ran: it has no rollback, not "
            "even inside MULTI/EXEC (08-transactions showed a failing command leaving the others in place). What "
            "MULTI/EXEC does give: the queued commands run one after the other with no other client's command in "
            "between, and a crash before EXEC runs none of them."
        ),
    ),
]
