"""05-hashes: objects stored as hashes, read back in one round trip, updated one field at a time."""

from __future__ import annotations

import json
from typing import Any

from .._exercise import Exercise, Mutant
from .._quiz import Quiz
from .._trial import Trial

NOTEBOOK = "05-hashes"


# -- hashes.save_user -------------------------------------------------------------------------------------
def save_user(r, user_id, profile):
    r.hset(f"user:{user_id}", mapping=profile)


def _field_by_field(r, user_id, profile):
    for field, value in profile.items():
        r.hset(f"user:{user_id}", field, value)


def _json_string(r, user_id, profile):
    r.set(f"user:{user_id}", json.dumps(profile))


def _save_wrong_key(r, user_id, profile):
    r.hset(f"users:{user_id}", mapping=profile)


def _first_field_only(r, user_id, profile):
    field, value = next(iter(profile.items()))
    r.hset(f"user:{user_id}", field, value)


ADA = {"name": "Ada Lovelace", "email": "ada@example.com", "lang": "en", "plan": "pro"}
GRACE = {"name": "Grace Hopper", "city": "Arlington", "motto": "Ships are safe in harbour, but that's not all"}


def _hash_at(t: Trial, key: str, before: set[str]) -> dict[str, str]:
    """The hash stored at key, or a failure that says what the learner stored instead."""
    if t.admin.type(key) == "string":
        text = t.admin.get(key) or ""
        text = text if len(text) <= 60 else text[:57] + "…"
        t.fail(
            f"After {t.last_call}, {key} is a string holding {text!r}: the whole profile as one piece of "
            "text, not a hash. Redis cannot read or change one field of that text (HGET user:1 email fails on "
            "it). Store the fields as a hash: r.hset(key, mapping=profile)."
        )
    t.expect_key(key, "hash", before, 'f"user:{user_id}"')
    return dict(t.admin.hgetall(key))


def check_save_user(t: Trial) -> str:
    before = t.keys()
    t.call("1", dict(ADA))
    stored = _hash_at(t, "user:1", before)
    missing = {field: value for field, value in ADA.items() if stored.get(field) != value}
    if missing:
        t.fail(
            f"After {t.last_call}, HGETALL user:1 is {stored}; it should be {ADA}. Store every field of the "
            "profile: r.hset(key, mapping=profile) writes them all."
        )
    t.expect_equal(stored, ADA, f"After {t.last_call}, HGETALL user:1")
    if t.round_trips > 1:
        per_field = sum(1 for c in t.sent if c[0].upper() in ("HSET", "HSETNX", "HMSET")) >= len(ADA)
        how = " (one HSET per field)" if per_field else ""
        t.fail(
            f"{t.last_call} made {t.round_trips} round trips to Redis for {len(ADA)} fields{how}. Each round trip "
            "waits for the network, so a profile of 30 fields written that way would cost 30 waits. HSET takes "
            "many fields at once: r.hset(key, mapping=profile) sends them all in one command (several commands in "
            "one pipeline also make a single round trip)."
        )

    t.call("2", dict(GRACE))
    t.expect_equal(_hash_at(t, "user:2", before), GRACE, f"After {t.last_call}, HGETALL user:2")
    return "save_user stores each profile as a hash, all fields in one round trip."


SAVE_USER = Exercise(
    id="hashes.save_user",
    title="Save a profile as a hash",
    signature="save_user(r, user_id: str, profile: dict[str, str]) -> None",
    task="Store every field of profile in the hash user:<user_id>, in one round trip to Redis.",
    checker=check_save_user,
    reference=save_user,
    hints=(
        "A hash holds field → value pairs under one key, like a dict. One command can set many fields at once.",
        "r.hset(key, mapping=some_dict) sends one HSET with every field of the dict.",
        'r.hset(f"user:{user_id}", mapping=profile)',
    ),
    mutants=(
        Mutant(_field_by_field, "one HSET per field"),
        Mutant(_json_string, "not a hash"),
        Mutant(_save_wrong_key, "wrote ['users:1'] instead"),
        Mutant(_first_field_only, "Store every field"),
    ),
)


# -- hashes.load_user ---------------------------------------------------------------------------------------
def load_user(r, user_id):
    profile = r.hgetall(f"user:{user_id}")
    return profile or None


def _returns_empty_dict(r, user_id):
    return r.hgetall(f"user:{user_id}")


def _exists_then_hgetall(r, user_id):
    key = f"user:{user_id}"
    if not r.exists(key):
        return None
    return r.hgetall(key)


def _one_field_at_a_time(r, user_id):
    key = f"user:{user_id}"
    profile = {field: r.hget(key, field) for field in r.hkeys(key)}
    return profile or None


def _values_only(r, user_id):
    return r.hvals(f"user:{user_id}") or None


def _get_on_a_hash(r, user_id):
    text = r.get(f"user:{user_id}")
    return None if text is None else json.loads(text)


def check_load_user(t: Trial) -> str:
    t.admin.hset("user:1", mapping=ADA)
    got = t.call("1")
    trips = t.round_trips
    if isinstance(got, list):
        t.fail(
            f"{t.last_call} returned the list {got}: the values without their field names. Return a dict of "
            "field → value: HGETALL (r.hgetall) gives both."
        )
    if got is None:
        t.fail(f"{t.last_call} returned None, but user:1 exists: it should return {ADA}.")
    t.expect_equal(got, ADA, f"{t.last_call} with user:1 = {ADA}")

    got = t.call("404")
    if got == {}:
        t.fail(
            f"{t.last_call} returned {{}} for a user that does not exist; it should return None. HGETALL replies "
            "with an empty hash for a missing key (Redis never stores an empty hash), so turn {} into None: "
            "return profile or None."
        )
    if got is not None:
        t.fail(f"{t.last_call} returned {got!r} for a user that does not exist; it should return None.")

    # The user is deleted between the learner's existence check and their read.
    t.admin.hset("user:2", mapping=GRACE)
    state = t.inject_once(["EXISTS", "TYPE", "HLEN"], lambda other: other.delete("user:2"))
    got = t.call("2")
    if state["fired"]:
        if got is not None:
            t.fail(
                f"{t.last_call} returned {got!r}: your code checked that user:2 existed, then another client "
                "deleted it before your code read it. Checking first adds a round trip and a gap. You do not need "
                "the check: HGETALL alone returns {} for a missing key, so return profile or None."
            )
    else:
        t.expect_equal(got, GRACE, f"{t.last_call} with user:2 = {GRACE}")

    if trips > 1:
        t.fail(
            f"Reading user:1 ({len(ADA)} fields) took {trips} round trips. One HGETALL returns every field with "
            "its value in a single round trip: r.hgetall(key)."
        )
    return "load_user reads a whole profile in one round trip and tells a missing user apart (None)."


LOAD_USER = Exercise(
    id="hashes.load_user",
    title="Load a profile, or None",
    signature="load_user(r, user_id: str) -> dict[str, str] | None",
    task="Return the hash user:<user_id> as a dict of field → value, in one round trip; return None when "
    "there is no such user.",
    checker=check_load_user,
    reference=load_user,
    hints=(
        "One command returns every field of a hash together with its value.",
        "r.hgetall(key) returns a dict, and {} when the key does not exist: Redis deletes a hash when its "
        "last field goes, so an empty one never exists.",
        'profile = r.hgetall(f"user:{user_id}"); return profile or None',
    ),
    mutants=(
        Mutant(_returns_empty_dict, "returned {} for a user that does not exist"),
        Mutant(_exists_then_hgetall, "checked that user:2 existed"),
        Mutant(_one_field_at_a_time, "round trips"),
        Mutant(_values_only, "without their field names"),
        Mutant(_get_on_a_hash, "WRONGTYPE", status="error"),
    ),
)


# -- hashes.add_points --------------------------------------------------------------------------------------
def add_points(r, user_id, points):
    return r.hincrby(f"user:{user_id}", "points", points)


def _hget_then_hset(r, user_id, points):
    key = f"user:{user_id}"
    total = int(r.hget(key, "points") or 0) + points
    r.hset(key, "points", total)
    return total


def _returns_text_total(r, user_id, points):
    key = f"user:{user_id}"
    r.hincrby(key, "points", points)
    return r.hget(key, "points")


def _always_one(r, user_id, points):
    return r.hincrby(f"user:{user_id}", "points", 1)


def _separate_counter_key(r, user_id, points):
    return r.incrby(f"user:{user_id}:points", points)


def _hincrby_then_hget(r, user_id, points):
    key = f"user:{user_id}"
    r.hincrby(key, "points", points)
    return int(r.hget(key, "points"))


def _rewrites_the_hash(r, user_id, points):
    key = f"user:{user_id}"
    total = int(r.hget(key, "points") or 0) + points
    r.delete(key)
    r.hset(key, mapping={"points": total})
    return total


def _expect_points(
    t: Trial, returned: Any, user: str, was: int, points: int, others: dict[str, str], before: set[str]
) -> None:
    expected = was + points
    key = f"user:{user}"
    t.expect_key(key, "hash", before, 'f"user:{user_id}"')
    stored = t.admin.hgetall(key)
    lost = {field: value for field, value in others.items() if stored.get(field) != value}
    if lost:
        t.fail(
            f"After {t.last_call}, HGETALL {key} is {stored}: the other fields {lost} are gone. Change only the "
            "points field; HINCRBY updates one field and leaves the rest of the hash alone."
        )
    if stored.get("points") != str(expected):
        written = sorted(t.keys() - before - {key})
        elsewhere = (
            f" Your code wrote {written[:5]} instead: the points belong in the field points of the hash {key}, "
            "next to the user's other fields."
            if written
            else ""
        )
        t.fail(
            f"After {t.last_call}, the field points of {key} is {stored.get('points')!r}; it should be "
            f"'{expected}' (it was {was}, plus {points}).{elsewhere}"
        )
    if isinstance(returned, (str, bytes)):
        t.fail(
            f"{t.last_call} returned the text {returned!r}, not the int {expected}: r.hincrby(...) returns the new "
            "total as an int already; return that."
        )
    if returned is None or isinstance(returned, bool) or not isinstance(returned, int):
        t.fail(f"{t.last_call} returned {returned!r:.60}; it should return the new total, the int {expected}.")
    t.expect_equal(returned, expected, f"{t.last_call} returned the wrong total")


def check_add_points(t: Trial) -> str:
    t.admin.hset("user:1", mapping={"name": "Ada", "points": "10"})
    before = t.keys()
    _expect_points(t, t.call("1", 5), "1", 10, 5, {"name": "Ada"}, before)
    _expect_points(t, t.call("1", -4), "1", 15, -4, {"name": "Ada"}, before)
    _expect_points(t, t.call("2", 3), "2", 0, 3, {}, before)

    # Another client adds 50 points between the learner's read and their write.
    t.admin.hset("user:3", mapping={"name": "Cy", "points": "100"})
    before.add("user:3")
    state = t.inject_once(["HGET", "HMGET", "HGETALL", "HVALS"], lambda other: other.hincrby("user:3", "points", 50))
    returned = t.call("3", 7)
    stored = int(t.admin.hget("user:3", "points") or 0)
    if state["fired"] and stored != 157:
        t.fail(
            f"{t.last_call} lost an update. user:3 had 100 points; your code read them, then another client added "
            f"50 before your code wrote, and afterwards points is {stored} instead of 157: those 50 points "
            "vanished. Reading, adding in Python and writing back is not atomic. r.hincrby(key, 'points', points) "
            "adds inside Redis in one step and returns the new total."
        )
    _expect_points(t, returned, "3", 150 if state["fired"] else 100, 7, {"name": "Cy"}, before)

    # Another client adds 50 points between the learner's HINCRBY and a separate read of the total.
    t.admin.hset("user:4", mapping={"name": "Dee", "points": "20"})
    before.add("user:4")
    state = t.inject_once(["HINCRBY"], lambda other: other.hincrby("user:4", "points", 50))
    returned = t.call("4", 5)
    if state["fired"] and returned != 25:
        t.fail(
            f"{t.last_call} returned {returned!r}, but its own HINCRBY made the total 25 (20 + 5): another client "
            "added 50 points before your code read the field back, so you returned someone else's total. HINCRBY "
            "already replies with the new total; return that value (return r.hincrby(...)) instead of reading "
            "the field again."
        )
    if state["fired"]:
        stored = t.admin.hget("user:4", "points")
        t.expect_equal(stored, "75", f"After {t.last_call} and another client's 50 points, the field points of user:4")
    else:
        _expect_points(t, returned, "4", 20, 5, {"name": "Dee"}, before)
    return "add_points changes one field atomically and leaves the rest of the profile alone."


ADD_POINTS = Exercise(
    id="hashes.add_points",
    title="Add points to one field",
    signature="add_points(r, user_id: str, points: int) -> int",
    task="Add points (possibly negative) to the field points of the hash user:<user_id> (a missing field "
    "counts as 0), leave its other fields alone, and return the new total as an int. Other clients may "
    "add points at the same time.",
    checker=check_add_points,
    reference=add_points,
    hints=(
        "Reading the field, adding in Python and writing it back leaves a gap for other clients. The hash "
        "family has an increment command, like INCRBY for strings.",
        "r.hincrby(key, field, amount) adds amount to one field inside Redis (creating it at 0) and returns "
        "the new value as an int.",
        'return r.hincrby(f"user:{user_id}", "points", points)',
    ),
    mutants=(
        Mutant(_hget_then_hset, "lost an update"),
        Mutant(_returns_text_total, "returned the text '15'"),
        Mutant(_always_one, "it should be '15'"),
        Mutant(_separate_counter_key, "Your code wrote ['user:1:points'] instead"),
        Mutant(_rewrites_the_hash, "are gone"),
        Mutant(_hincrby_then_hget, "HINCRBY already replies with the new total"),
    ),
)


EXERCISES = [SAVE_USER, LOAD_USER, ADD_POINTS]


QUIZZES = [
    Quiz(
        id="hashes.quiz_json_vs_hash",
        question=(
            "Your app caches the reply of a weather API: a nested JSON document that it always reads and replaces "
            "as a whole. How should it store each reply?"
        ),
        options=(
            "As a hash, one field per top-level key of the document",
            "As one JSON string, with SET and an expiry",
            "As a list of the document's lines",
        ),
        answer=1,
        explanation=(
            "A hash is flat (every value is a string) and pays off when fields are read or changed one at a time. A "
            "document that is nested and always handled whole is one string: one SET with ex= writes it, one GET "
            "reads it."
        ),
    ),
]
