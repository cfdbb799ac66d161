"""09-pipelines: many commands in one round trip (MSET/MGET or a pipeline), and huge batches cut into chunks."""

from __future__ import annotations

import math

import redis

from .._exercise import Exercise, Mutant
from .._quiz import Quiz
from .._trial import Trial
from .._wire import Command

NOTEBOOK = "09-pipelines"

_DELETES = {"DEL", "UNLINK"}


def _shown(values: list, limit: int = 4) -> str:
    """A short list for a message: the first few items, then how many more."""
    head = ", ".join(repr(value) for value in values[:limit])
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return f"[{head}{more}]"


def _trip_words(t: Trial) -> str:
    """The command names of each round trip, e.g. 'SET; SET; SET …' for a message."""
    trips = [" ".join(command[0].upper() for command in trip if command) for trip in t.recorder.round_trips]
    return "; ".join(trips[:3]) + (f"; … ({len(trips)} in all)" if len(trips) > 3 else "")


# -- pipelines.bulk_load ---------------------------------------------------------------------------------
def bulk_load(r, items):
    if not items:
        return  # MSET needs at least one pair; with nothing to load there is nothing to send
    r.mset(items)


def _one_set_per_item(r, items):
    for key, value in items.items():
        r.set(key, value)


def _execute_inside_loop(r, items):
    pipe = r.pipeline()
    for key, value in items.items():
        pipe.set(key, value)
        pipe.execute()


def _skips_last_item(r, items):
    pairs = list(items.items())
    pipe = r.pipeline(transaction=False)
    for key, value in pairs[:-1]:
        pipe.set(key, value)
    pipe.execute()


def _mset_without_empty_guard(r, items):
    r.mset(items)


_ITEMS = {f"product:{number}:name": f"Item {number} · café ☕" for number in range(1, 51)}


def check_bulk_load(t: Trial) -> str:
    t.admin.set("product:7:name", "an old name")  # loading must overwrite what is there
    t.call(_ITEMS)
    call = f"bulk_load(r, items) with {len(_ITEMS)} items such as {next(iter(_ITEMS.items()))}"
    keys = list(_ITEMS)
    stored = dict(zip(keys, t.admin.mget(keys), strict=True))
    missing = [key for key in keys if stored[key] is None]
    if missing:
        t.fail(
            f"After {call}, {len(missing)} of the {len(keys)} keys are missing: {_shown(missing)}. Queue a SET "
            "for every (key, value) pair of items.items(), or pass the whole dict to r.mset(items)."
        )
    wrong = [key for key in keys if stored[key] != _ITEMS[key]]
    if wrong:
        key = wrong[0]
        t.fail(f"After {call}, GET {key}: expected {_ITEMS[key]!r}, got {stored[key]!r}.")
    if t.round_trips > 1:
        trips = t.round_trips
        executes = [trip for trip in t.recorder.round_trips if len(trip) > 1]
        if executes:
            t.fail(
                f"{call} made {trips} round trips ({_trip_words(t)}): execute() ran once per item, inside the "
                "loop. Queue every SET first and call execute() once, after the loop."
            )
        t.fail(
            f"{call} made {trips} round trips, one per item ({_trip_words(t)}). Every round trip waits for the "
            "network; queue all the SETs on one pipeline and call execute() once after the loop, or send one "
            "MSET with the whole dict."
        )
    t.expect(t.round_trips == 1, f"{call} sent nothing to Redis, yet the keys are there: write them through r.")
    _, error = t.try_call({}, expected=(redis.RedisError,))
    if error is not None:
        t.fail(
            f"bulk_load(r, {{}}) raised {type(error).__name__}: {error}. MSET needs at least one key-value pair, "
            "so with an empty dict return before sending anything (`if not items: return`)."
        )
    return "bulk_load writes any number of items in a single round trip (and copes with an empty dict)."


BULK_LOAD = Exercise(
    id="pipelines.bulk_load",
    title="Load many keys in one round trip",
    signature="bulk_load(r, items: dict[str, str]) -> None",
    task="Write every key → value of items as a string, in a single round trip (an empty dict sends nothing).",
    checker=check_bulk_load,
    reference=bulk_load,
    hints=(
        "A loop of r.set(...) waits for the network once per item. Either queue the SETs on "
        "pipe = r.pipeline() and call pipe.execute() once, or use one command that sets many keys.",
        "MSET sets many keys at once: r.mset(items) takes the dict as it is.",
        "MSET with no pairs is an error in Redis: `if not items: return` first.",
    ),
    mutants=(
        Mutant(_one_set_per_item, "one per item"),
        Mutant(_execute_inside_loop, "execute() ran once per item"),
        Mutant(_skips_last_item, "1 of the 50 keys are missing"),
        Mutant(_mset_without_empty_guard, "MSET needs at least one key-value pair"),
    ),
)


# -- pipelines.get_many -------------------------------------------------------------------------------------
def get_many(r, keys):
    if not keys:
        return []  # MGET with no keys is an error in Redis
    return r.mget(keys)


def _one_get_per_key(r, keys):
    return [r.get(key) for key in keys]


def _returns_dict(r, keys):
    if not keys:
        return {}
    return dict(zip(keys, r.mget(keys), strict=True))


def _skips_missing(r, keys):
    if not keys:
        return []
    return [value for value in r.mget(keys) if value is not None]


def _sorted_keys(r, keys):
    if not keys:
        return []
    return r.mget(sorted(keys))


def _mget_without_empty_guard(r, keys):
    return r.mget(keys)


def _expect_values(t: Trial, keys: list[str], expected: list[str | None]) -> None:
    result = t.call(keys)
    call = t.last_call
    if isinstance(result, dict):
        t.fail(
            f"{call} returned a dict ({result!r:.80}). Return a list: result[i] is the value of keys[i], None "
            "where the key is missing (r.mget(keys) already returns exactly that)."
        )
    if not isinstance(result, list):
        t.fail(f"{call} returned {type(result).__name__} {result!r:.80}; return a list of values (str or None).")
    if len(result) < len(keys) and [v for v in expected if v is not None] == result:
        t.fail(
            f"{call} returned {result!r}: {len(result)} values for {len(keys)} keys. Keep None where a key is "
            f"missing, so that result[i] always belongs to keys[i]: expected {expected!r}."
        )
    if result != expected and sorted(result, key=str) == sorted(expected, key=str):
        t.fail(
            f"{call} returned {result!r}: the right values in the wrong order. Return them in the order of "
            f"keys: expected {expected!r}."
        )
    t.expect_equal(result, expected, call)
    if t.round_trips > 1:
        t.fail(
            f"{call} returned the right values but made {t.round_trips} round trips, one GET per key "
            f"({_trip_words(t)}). Fetch them all at once: r.mget(keys), or queue the GETs on a pipeline and "
            "call execute() once."
        )


def check_get_many(t: Trial) -> str:
    t.admin.mset({"user:1:name": "Ada", "user:2:name": "Grace", "user:3:name": "Linus", "user:4:name": "Zoë"})
    _expect_values(
        t,
        ["user:3:name", "user:1:name", "user:404:name", "user:4:name", "user:2:name"],
        ["Linus", "Ada", None, "Zoë", "Grace"],
    )
    _expect_values(t, ["user:2:name", "user:9:name", "user:2:name"], ["Grace", None, "Grace"])
    result, error = t.try_call([], expected=(redis.RedisError,))
    if error is not None:
        t.fail(
            f"get_many(r, []) raised {type(error).__name__}: {error}. MGET needs at least one key, so return [] "
            "straight away when keys is empty."
        )
    if any(command[0].upper() == "MGET" and len(command) == 1 for command in t.sent):
        t.fail(
            "get_many(r, []) sent MGET with no keys, which Redis rejects as an error (recent redis-py hides that "
            "error and returns [], older versions raise it). With no keys there is nothing to ask: return [] "
            "without sending anything."
        )
    t.expect_equal(result, [], "get_many(r, [])")
    return "get_many returns every value in the order of keys, None for the missing, in one round trip."


GET_MANY = Exercise(
    id="pipelines.get_many",
    title="Read many keys in one round trip",
    signature="get_many(r, keys: list[str]) -> list[str | None]",
    task="Return the values of keys as a list, in the order of keys, None where a key is missing, using a "
    "single round trip. An empty keys list gives [].",
    checker=check_get_many,
    reference=get_many,
    hints=(
        "One GET per key costs one round trip each. MGET reads many keys in one command.",
        "r.mget(keys) returns a list in the order of keys, with None for the missing ones: exactly the answer.",
        "MGET with no keys is an error in Redis: `if not keys: return []` first.",
    ),
    mutants=(
        Mutant(_one_get_per_key, "one GET per key"),
        Mutant(_returns_dict, "returned a dict"),
        Mutant(_skips_missing, "Keep None where a key is missing"),
        Mutant(_sorted_keys, "wrong order"),
        Mutant(_mget_without_empty_guard, "sent MGET with no keys"),
    ),
)


# -- pipelines.delete_in_chunks --------------------------------------------------------------------------
def delete_in_chunks(r, keys, chunk_size=100):
    deleted = 0
    for start in range(0, len(keys), chunk_size):
        deleted += r.unlink(*keys[start : start + chunk_size])  # UNLINK frees the memory in the background
    return deleted


def _one_delete_per_key(r, keys, chunk_size=100):
    return sum(r.delete(key) for key in keys)


def _everything_at_once(r, keys, chunk_size=100):
    return r.delete(*keys) if keys else 0


def _drops_last_chunk(r, keys, chunk_size=100):
    deleted = 0
    for start in range(0, len(keys) - chunk_size, chunk_size):
        deleted += r.delete(*keys[start : start + chunk_size])
    return deleted


def _counts_requested_keys(r, keys, chunk_size=100):
    for start in range(0, len(keys), chunk_size):
        r.delete(*keys[start : start + chunk_size])
    return len(keys)


def _returns_chunk_count(r, keys, chunk_size=100):
    chunks = 0
    for start in range(0, len(keys), chunk_size):
        r.delete(*keys[start : start + chunk_size])
        chunks += 1
    return chunks


def _ignores_chunk_size(r, keys, chunk_size=100):
    deleted = 0
    for start in range(0, len(keys), 100):
        deleted += r.delete(*keys[start : start + 100])
    return deleted


def _keys_per_trip(trip: list[Command]) -> int:
    return sum(len(command) - 1 for command in trip if command and command[0].upper() in _DELETES)


def _chunk_case(t: Trial, existing: int, absent: int, chunk_size: int, pass_size: bool = True) -> None:
    t.admin.mset({f"tmp:{number}": "x" for number in range(existing)})
    t.admin.mset({"tmp:keep": "not in the list", "session:1": "not in the list"})
    keys = [f"tmp:{number}" for number in range(existing)]
    for number in range(absent):  # spread keys that do not exist through the list
        keys.insert((number * 37) % (len(keys) + 1), f"tmp:gone:{number}")
    if pass_size:
        result, error = t.try_call(keys, chunk_size=chunk_size, expected=(redis.RedisError,))
    else:
        result, error = t.try_call(keys, expected=(redis.RedisError,))
    size = f", chunk_size={chunk_size}" if pass_size else ""
    call = f"delete_in_chunks(r, keys{size}) with {len(keys)} keys ({absent} of them missing)"
    if error is not None:
        empty = any(
            command[0].upper() in _DELETES and len(command) == 1 for trip in t.recorder.round_trips for command in trip
        )
        advice = (
            "It sent a DEL with no keys (an empty chunk): range(0, len(keys), chunk_size) gives each chunk's "
            "start exactly once."
            if empty
            else "Look at the command that failed in the list below."
        )
        t.fail(f"{call} raised {type(error).__name__}: {error}. {advice}")
    left = [key for key, value in zip(keys, t.admin.mget(keys), strict=True) if value is not None]
    if left:
        first = keys.index(left[0])
        still = [key for key in keys[first:] if key.startswith("tmp:") and not key.startswith("tmp:gone:")]
        where = (
            f"{len(left)} keys are still there, every existing key from keys[{first}] on ({_shown(left)}): the "
            "loop stops before the last chunk. range(0, len(keys), chunk_size) also visits the last, shorter chunk."
            if still == left and first > 0
            else f"{len(left)} keys are still there: {_shown(left)}."
        )
        t.fail(f"After {call}, {where}")
    lost = [key for key in ("tmp:keep", "session:1") if not t.admin.exists(key)]
    if lost:
        t.fail(f"{call} also deleted {lost}, which were not in keys: delete only the keys you are given.")
    expected_trips = math.ceil(len(keys) / chunk_size)
    largest = max((_keys_per_trip(trip) for trip in t.recorder.round_trips), default=0)
    if largest > chunk_size:
        if chunk_size != 100 and largest <= 100:
            reason = f"use the chunk_size argument ({chunk_size} here) rather than a fixed number"
        else:
            reason = "cut keys into slices of chunk_size (keys[start:start + chunk_size]) and delete one slice per step"
        t.fail(
            f"{call} sent {largest} keys in one round trip, more than chunk_size={chunk_size}: {reason}. Huge "
            "commands and pipelines block the server and hold every reply in memory."
        )
    if t.round_trips > expected_trips:
        t.fail(
            f"{call} made {t.round_trips} round trips ({_trip_words(t)}); {expected_trips} are enough. Delete a "
            "whole chunk per round trip: r.delete(*chunk) (or UNLINK), or one pipeline execute() per chunk."
        )
    if absent and result == len(keys):
        t.fail(
            f"{call} returned {result}, the number of keys you were given, but {absent} of them did not exist. "
            f"Return how many were really deleted ({existing}): add up the replies of DEL/UNLINK."
        )
    if result == expected_trips != existing:
        t.fail(
            f"{call} returned {result}, the number of chunks. Return how many keys were deleted ({existing}): "
            "add up the replies of DEL/UNLINK."
        )
    t.expect_equal(result, existing, f"{call}, the number of keys deleted")


def check_delete_in_chunks(t: Trial) -> str:
    _chunk_case(t, existing=250, absent=10, chunk_size=100)
    _chunk_case(t, existing=200, absent=0, chunk_size=100, pass_size=False)
    _chunk_case(t, existing=120, absent=5, chunk_size=50)
    result, error = t.try_call([], chunk_size=100, expected=(redis.RedisError,))
    if error is not None:
        t.fail(
            f"delete_in_chunks(r, []) raised {type(error).__name__}: {error}. DEL needs at least one key: with "
            "no keys, send nothing and return 0."
        )
    t.expect_equal(result, 0, "delete_in_chunks(r, [])")
    return "delete_in_chunks deletes any number of keys, at most chunk_size per round trip, and counts them."


DELETE_IN_CHUNKS = Exercise(
    id="pipelines.delete_in_chunks",
    title="Delete a huge list of keys in chunks",
    signature="delete_in_chunks(r, keys: list[str], chunk_size: int = 100) -> int",
    task="Delete every key in keys, sending at most chunk_size keys per round trip (and no more round trips "
    "than that needs), and return how many keys were actually deleted.",
    checker=check_delete_in_chunks,
    reference=delete_in_chunks,
    hints=(
        "range(0, len(keys), chunk_size) gives the start of every chunk; keys[start:start + chunk_size] is the chunk.",
        "r.delete(*chunk) (or r.unlink(*chunk)) deletes a whole chunk in one command and returns how many of "
        "its keys existed.",
        "Add up those replies. With an empty keys list, the loop does not run and you return 0.",
    ),
    mutants=(
        Mutant(_one_delete_per_key, "round trips"),
        Mutant(_everything_at_once, "more than chunk_size=100"),
        Mutant(_drops_last_chunk, "the loop stops before the last chunk"),
        Mutant(_counts_requested_keys, "did not exist"),
        Mutant(_returns_chunk_count, "the number of chunks"),
        Mutant(_ignores_chunk_size, "use the chunk_size argument"),
    ),
)


EXERCISES = [BULK_LOAD, GET_MANY, DELETE_IN_CHUNKS]


QUIZZES = [
    Quiz(
        id="pipelines.quiz_many_hashes",
        question="You must read 1,000 hashes with HGETALL as fast as possible. What do you use?",
        options=(
            "MGET with the 1,000 keys",
            "A pipeline with 1,000 HGETALL commands, executed once",
            "A MULTI/EXEC transaction, because transactions are faster",
            "A loop of HGETALL: Redis is fast enough",
        ),
        answer=1,
        explanation=(
            "MGET reads only string keys. A pipeline batches any commands into one round trip; a transaction would also"
            " work but adds guarantees (and MULTI/EXEC) you do not need for reading."
        ),
    ),
    Quiz(
        id="pipelines.quiz_not_atomic",
        question=(
            "A pipeline made with r.pipeline(transaction=False) holds SET a 1 and SET b 1. Can another client see a == "
            "1 while b is still unset?"
        ),
        options=(
            "No: a pipeline is atomic",
            "Yes: without MULTI/EXEC Redis does not promise to run them together",
        ),
        answer=1,
        explanation=(
            "A plain pipeline only saves round trips. Use r.pipeline() (MULTI/EXEC), MSET, or a script when the batch "
            "must appear all at once."
        ),
    ),
]
