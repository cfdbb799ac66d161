"""05-hashes, second part: a login session is a hash with a TTL, under an id nobody can guess, that slides on use."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import re
import secrets
import string
import time
import uuid
from typing import Any

from .._exercise import Exercise, Mutant
from .._probes import (
    EXPIRE_COMMANDS,
    call_with_crash_after,
    refuse_none,
    refuse_other_types,
    shorten,
    write_and_expiry_apart,
)
from .._quiz import Quiz
from .._trial import Trial
from .._wire import format_command

NOTEBOOK = "05-hashes"

# Far above what guessing can reach (OWASP asks for 64 bits of entropy); uuid4's 122 random bits pass, and
# secrets.token_urlsafe(16) gives 128.
MIN_BITS = 120
_ESTIMATE_SLACK = 2  # the estimate below counts characters, so it may miss a bit or two of a right answer
_HASH_WRITES = {"HSET", "HMSET", "HSETNX"}
_SEED = 20240501  # the check seeds Python's random module with this, to see whether ids depend on it

USER = {"user_id": "42", "name": "Ada", "role": "admin"}


def _expect_session_ttl(t: Trial, key: str, ttl: int, advice: str) -> None:
    """Fail unless key expires in about ttl seconds; no expiry, milliseconds and x1000 get their own sentence."""
    pttl = t.pttl(key)
    if pttl == -1:
        t.fail(
            f"After {t.last_call}, {key} has no expiry (TTL -1): a session that never ends, so an id that leaks "
            f"(a shared computer, a log file) stays valid for good. {advice}"
        )
    if pttl == -2:
        t.fail(f"After {t.last_call}, {key} no longer exists: it expired at once. {advice}")
    if pttl <= ttl:
        t.fail(
            f"After {t.last_call}, {key} expires in {pttl} ms, not in {ttl} s: the number of seconds went to a "
            "command that counts milliseconds (PEXPIRE, px=). EXPIRE takes seconds: r.expire(key, ttl)."
        )
    if pttl > ttl * 100_000:
        t.fail(
            f"After {t.last_call}, {key} expires in {pttl // 1000} s instead of {ttl} s: your code multiplied by "
            "1000 for a command that counts seconds already. Pass ttl as it is: r.expire(key, ttl)."
        )
    if not (ttl - 2) * 1000 <= pttl <= ttl * 1000:
        t.fail(f"After {t.last_call}, {key} expires in {pttl / 1000:.0f} s; it should expire in ttl = {ttl} s.")


# -- sessions.create_session ----------------------------------------------------------------------------
def create_session(r, fields, ttl):
    session_id = secrets.token_urlsafe(16)  # 16 random bytes (128 bits), as 22 URL-safe characters
    key = f"session:{session_id}"
    with r.pipeline() as pipe:  # MULTI ... EXEC: the fields and their expiry exist together or not at all
        pipe.hset(key, mapping=fields)
        pipe.expire(key, ttl)
        pipe.execute()
    return session_id


def _uuid1_id(r, fields, ttl):
    session_id = str(uuid.uuid1())
    with r.pipeline() as pipe:
        pipe.hset(f"session:{session_id}", mapping=fields)
        pipe.expire(f"session:{session_id}", ttl)
        pipe.execute()
    return session_id


def _clock_id(r, fields, ttl):
    session_id = str(time.time_ns())
    with r.pipeline() as pipe:
        pipe.hset(f"session:{session_id}", mapping=fields)
        pipe.expire(f"session:{session_id}", ttl)
        pipe.execute()
    return session_id


def _random_module_id(r, fields, ttl):
    session_id = "".join(random.choices(string.ascii_letters + string.digits, k=32))
    with r.pipeline() as pipe:
        pipe.hset(f"session:{session_id}", mapping=fields)
        pipe.expire(f"session:{session_id}", ttl)
        pipe.execute()
    return session_id


def _short_id(r, fields, ttl):
    session_id = secrets.token_hex(8)
    with r.pipeline() as pipe:
        pipe.hset(f"session:{session_id}", mapping=fields)
        pipe.expire(f"session:{session_id}", ttl)
        pipe.execute()
    return session_id


def _counter_id(r, fields, ttl):
    session_id = str(r.incr("session:last_id"))
    with r.pipeline() as pipe:
        pipe.hset(f"session:{session_id}", mapping=fields)
        pipe.expire(f"session:{session_id}", ttl)
        pipe.execute()
    return session_id


def _id_from_the_user(r, fields, ttl):
    session_id = hashlib.sha256(fields["user_id"].encode()).hexdigest()  # looks random, but anyone can compute it
    with r.pipeline() as pipe:
        pipe.hset(f"session:{session_id}", mapping=fields)
        pipe.expire(f"session:{session_id}", ttl)
        pipe.execute()
    return session_id


def _hset_then_expire(r, fields, ttl):
    session_id = secrets.token_urlsafe(16)
    r.hset(f"session:{session_id}", mapping=fields)
    r.expire(f"session:{session_id}", ttl)
    return session_id


def _pipeline_without_transaction(r, fields, ttl):
    session_id = secrets.token_urlsafe(16)
    with r.pipeline(transaction=False) as pipe:
        pipe.hset(f"session:{session_id}", mapping=fields)
        pipe.expire(f"session:{session_id}", ttl)
        pipe.execute()
    return session_id


def _json_string(r, fields, ttl):
    session_id = secrets.token_urlsafe(16)
    r.set(f"session:{session_id}", json.dumps(fields), ex=ttl)
    return session_id


def _returns_the_key(r, fields, ttl):
    key = f"session:{secrets.token_urlsafe(16)}"
    with r.pipeline() as pipe:
        pipe.hset(key, mapping=fields)
        pipe.expire(key, ttl)
        pipe.execute()
    return key


def _without_expiry(r, fields, ttl):
    session_id = secrets.token_urlsafe(16)
    r.hset(f"session:{session_id}", mapping=fields)
    return session_id


def _ttl_in_milliseconds(r, fields, ttl):
    session_id = secrets.token_urlsafe(16)
    with r.pipeline() as pipe:
        pipe.hset(f"session:{session_id}", mapping=fields)
        pipe.pexpire(f"session:{session_id}", ttl)
        pipe.execute()
    return session_id


def _expect_an_id(t: Trial, value: Any) -> str:
    """value as a session id (a str), or a failure that says what was returned instead."""
    refuse_none(t, value, "return the new session's id: the text after 'session:' in the key you wrote.")
    if isinstance(value, bytes):
        t.fail(
            f"{t.last_call} returned bytes {shorten(value, 60)}: return the id as text (a str), so that it fits in a "
            "cookie and in the key's name. secrets.token_urlsafe(16) gives 16 random bytes already turned into text."
        )
    refuse_other_types(t, value, str, "return the session id as a str.")
    return str(value)


def _bits_per_character(characters: set[str]) -> float:
    """The information one character carries, from the smallest usual alphabet that holds every one seen."""
    alphabets = [
        string.digits,
        string.hexdigits[:16],
        string.digits + "ABCDEF",
        string.ascii_lowercase + string.digits,
        string.ascii_uppercase + string.digits,
        string.ascii_letters + string.digits,
        string.ascii_letters + string.digits + "-_",
        string.ascii_letters + string.digits + "+/",
    ]
    for alphabet in alphabets:
        if characters <= set(alphabet):
            return math.log2(len(alphabet))
    return math.log2(max(len(characters), 2))


def _estimated_bits(ids: list[str]) -> tuple[float, int]:
    """(bits a guesser faces, positions that never change), estimated from many ids made by the same code.

    Only positions that differ between ids count; each counts as much as one character of its alphabet. For ids
    that are plain numbers, the size of the biggest one is a tighter bound.
    """
    if all(text.isdigit() for text in ids):
        return math.log2(max(int(text) for text in ids) + 1), 0
    shortest = min(len(text) for text in ids)
    changing = [i for i in range(shortest) if len({text[i] for text in ids}) > 1]
    extra = max(len(text) for text in ids) - shortest
    characters = {text[i] for text in ids for i in changing} | {c for text in ids for c in text[shortest:]}
    return (len(changing) + extra) * _bits_per_character(characters), shortest - len(changing)


def _as_uuids(ids: list[str]) -> list[uuid.UUID] | None:
    try:
        return [uuid.UUID(text) for text in ids]
    except ValueError:
        return None


def _near_the_clock(number: float) -> bool:
    now = time.time()
    return any(abs(number / scale - now) < 86_400 for scale in (1, 1e3, 1e6, 1e9))


def _refuse_clock_ids(t: Trial, ids: list[str], call: str) -> None:
    """Fail when every id is a number close to the current time (in s, ms, µs or ns), repeated or not."""
    numbers = [float(text) for text in ids if re.fullmatch(r"\d+(\.\d+)?", text)]
    if len(numbers) == len(ids) and all(_near_the_clock(number) for number in numbers):
        shown = ", ".join(repr(text) for text in ids[:3])
        t.fail(
            f"{call} returned ids made from the clock ({shown}…). Anyone who knows roughly when a user "
            "logged in can try every id of that moment, and one id gives away the next ones (two logins in the "
            "same tick even get the same id). Use random bytes from the secrets module: secrets.token_urlsafe(16)."
        )


def _judge_guessability(t: Trial, ids: list[str], call: str) -> None:
    """Fail with a sentence naming why these ids can be guessed: clock, counter, uuid1, too short."""
    _refuse_clock_ids(t, ids, call)  # first: a coarse clock repeats ids, which would look like the next mistakes
    shown = ", ".join(repr(text) for text in ids[:3])
    if len(set(ids)) < len(ids):
        t.fail(f"{call} returned the same id twice ({shown}…): every session needs an id of its own.")
    parsed = _as_uuids(ids)
    if parsed and all(u.version == 1 for u in parsed):
        t.fail(
            f"{call} returned uuid1 ids ({shown}…). A uuid1 is built from the clock and the machine's network "
            "address, so ids made a moment apart share most of their characters: from their own session id, an "
            "attacker can work out the ids given just before and after. Use secrets.token_urlsafe(16)."
        )
    numbers = [float(text) for text in ids if re.fullmatch(r"\d+(\.\d+)?", text)]
    if len(numbers) == len(ids):
        steps = {round(b - a) for a, b in itertools.pairwise(numbers)}
        if steps <= {1, 2, 3}:
            t.fail(
                f"{call} returned ids that count up ({shown}…), as a counter (INCR) gives. An attacker who logs in "
                "once learns their own id, and the ids of everyone else are the numbers around it. Use random "
                "bytes from the secrets module: secrets.token_urlsafe(16)."
            )
    bits, fixed = _estimated_bits(ids)
    if bits < MIN_BITS - _ESTIMATE_SLACK:
        same = f" ({fixed} of their characters are the same in every id)" if fixed else ""
        t.fail(
            f"{call} returned ids such as {shown}: about {bits:.0f} bits that change from one id to the next{same}. "
            f"The task asks for at least {MIN_BITS} random bits, so that no one can find a live session by trying "
            "ids, even at millions of tries a second: secrets.token_urlsafe(16) (16 bytes = 128 bits) or uuid.uuid4()."
        )


def check_create_session(t: Trial) -> str:
    ttl = 1800
    before = t.keys()
    session_id = _expect_an_id(t, t.call(dict(USER), ttl))
    first_call, first_sent = t.last_call, t.sent
    if session_id.startswith("session:"):
        t.fail(
            f"{t.last_call} returned {session_id!r}, the key. Return only the id (the part after 'session:'): the "
            "id is what the browser keeps in its cookie, and load_session(r, session_id, ttl) builds the key from it."
        )
    key = f"session:{session_id}"
    if t.admin.type(key) == "string":
        t.fail(
            f"After {t.last_call}, {key} is a string holding {shorten(t.admin.get(key), 60)}: the fields as one piece "
            "of text. Store them as a hash, so that one field can be read or changed alone: "
            "pipe.hset(key, mapping=fields)."
        )
    t.expect_key(key, "hash", before, 'f"session:{session_id}", with the id your function returns')
    t.expect_equal(t.admin.hgetall(key), USER, f"After {t.last_call}, HGETALL {key}")
    _expect_session_ttl(
        t, key, ttl, "Give the session its expiry in the same transaction as its fields: pipe.expire(key, ttl)."
    )

    # Guessing: the same code makes many ids; do they give each other away?
    random.seed(_SEED)
    seeded = _expect_an_id(t, t.call({"user_id": "7"}, 60))
    random.seed(_SEED)
    reseeded = _expect_an_id(t, t.call({"user_id": "7"}, 60))
    again = _expect_an_id(t, t.call({"user_id": "7"}, 60))
    random.seed()  # back to an unpredictable state for whatever runs next in this process
    _refuse_clock_ids(t, [seeded, reseeded, again], t.last_call)
    if seeded == reseeded == again:
        t.fail(
            f"{t.last_call}, called three times for the same user, returned the same id {seeded!r} each time: the "
            "id is derived from the user, so anyone who knows how can compute it, and a second login overwrites "
            "the first session. Make every id random: secrets.token_urlsafe(16)."
        )
    if seeded == reseeded:
        t.fail(
            f"{t.last_call} returned the same id, {seeded!r}, twice after the check reset Python's random module to "
            "the same seed: your ids come from the random module, a Mersenne Twister built for simulations, whose "
            "next outputs can be computed from a few hundred earlier ones. An attacker who opens sessions can "
            "predict everyone else's. Use the secrets module, made for this: secrets.token_urlsafe(16)."
        )
    ids = [_expect_an_id(t, t.call({"user_id": str(n)}, 60)) for n in range(24)]
    _judge_guessability(t, ids, "create_session(r, {'user_id': str(n)}, 60) for n in range(24)")

    # A crash right after the fields were written: does the session exist without its expiry?
    present = t.keys()
    crashed, _ = call_with_crash_after(t, _HASH_WRITES, {"user_id": "9"}, 600)
    if crashed:
        lasting = sorted(k for k in t.keys() - present if t.admin.type(k) == "hash" and t.pttl(k) == -1)
        if lasting:
            t.fail(
                f"During {t.last_call} the network dropped right after your HSET (the check simulated it), so your "
                f"EXPIRE never reached Redis: {lasting[0]} is a session without an expiry, valid forever. Queue "
                "HSET and EXPIRE in one transaction (with r.pipeline() as pipe: ... pipe.execute()): Redis runs "
                "both or neither."
            )

    sent = write_and_expiry_apart(first_sent, _HASH_WRITES, EXPIRE_COMMANDS)
    if sent:
        t.fail(
            f"{first_call} sent {sent} outside a transaction. In one pipeline they travel together but still run "
            "as two commands: if the EXPIRE fails, the session never expires. Make it a transaction: "
            "r.pipeline() (transaction=True is the default) wraps them in MULTI/EXEC."
        )
    return (
        "create_session stores the fields as a hash under an id nobody can guess, and the hash never exists without "
        "its expiry."
    )


CREATE_SESSION = Exercise(
    id="sessions.create_session",
    title="Create a session nobody can guess",
    signature="create_session(r, fields: dict[str, str], ttl: int) -> str",
    task="Make a new session id with at least 120 random bits (the secrets module, or uuid4), store fields in the hash "
    "session:<id> with an expiry of ttl seconds, set in the same atomic step as the fields (a crash in between "
    "must never leave a session without its expiry), and return the id.",
    checker=check_create_session,
    reference=create_session,
    hints=(
        "Two things make a session safe: an id nobody can guess or compute, and an expiry that exists from the "
        "first moment the session does.",
        "secrets.token_urlsafe(16) turns 16 random bytes (128 bits) into text. As in notebook 03, a transaction "
        "runs commands as one step: with r.pipeline() as pipe: queue pipe.hset(key, mapping=fields) and "
        "pipe.expire(key, ttl), then pipe.execute().",
        'session_id = secrets.token_urlsafe(16); key = f"session:{session_id}"; with r.pipeline() as pipe: '
        "pipe.hset(key, mapping=fields); pipe.expire(key, ttl); pipe.execute()  then  return session_id",
    ),
    mutants=(
        Mutant(_uuid1_id, "A uuid1 is built from the clock"),
        Mutant(_clock_id, "ids made from the clock"),
        Mutant(_random_module_id, "your ids come from the random module"),
        Mutant(_short_id, "about 64 bits"),
        Mutant(_counter_id, "ids that count up"),
        Mutant(_id_from_the_user, "the id is derived from the user"),
        Mutant(_hset_then_expire, "your EXPIRE never reached Redis"),
        Mutant(_pipeline_without_transaction, "outside a transaction"),
        Mutant(_json_string, "Store them as a hash"),
        Mutant(_returns_the_key, "Return only the id"),
        Mutant(_without_expiry, "has no expiry"),
        Mutant(_ttl_in_milliseconds, "counts milliseconds"),
    ),
)


# -- sessions.load_session ------------------------------------------------------------------------------
def load_session(r, session_id, ttl):
    key = f"session:{session_id}"
    with r.pipeline() as pipe:  # one round trip, run as one step
        pipe.hgetall(key)
        pipe.expire(key, ttl)  # sliding expiry; on a missing session EXPIRE does nothing and creates nothing
        fields, _ = pipe.execute()
    return fields


def _no_sliding(r, session_id, ttl):
    return r.hgetall(f"session:{session_id}")


def _looks_then_extends(r, session_id, ttl):
    key = f"session:{session_id}"
    fields = r.hgetall(key)
    if fields:
        r.expire(key, ttl)
    return fields


def _writes_the_fields_back(r, session_id, ttl):
    key = f"session:{session_id}"
    fields = r.hgetall(key)
    if fields:
        with r.pipeline() as pipe:  # "refresh" by storing it again with a fresh TTL
            pipe.hset(key, mapping=fields)
            pipe.expire(key, ttl)
            pipe.execute()
    return fields


def _records_last_seen(r, session_id, ttl):
    key = f"session:{session_id}"
    with r.pipeline() as pipe:
        pipe.hset(key, "last_seen", str(int(time.time())))
        pipe.expire(key, ttl)
        pipe.hgetall(key)
        *_, fields = pipe.execute()
    fields.pop("last_seen", None)
    return fields


def _none_when_missing(r, session_id, ttl):
    key = f"session:{session_id}"
    with r.pipeline() as pipe:
        pipe.hgetall(key)
        pipe.expire(key, ttl)
        fields, _ = pipe.execute()
    return fields or None


def _extends_in_milliseconds(r, session_id, ttl):
    key = f"session:{session_id}"
    with r.pipeline() as pipe:
        pipe.hgetall(key)
        pipe.pexpire(key, ttl)
        fields, _ = pipe.execute()
    return fields


def _expect_fields(t: Trial, got: Any, expected: dict[str, str], key: str) -> None:
    if got is None and expected:
        t.fail(f"{t.last_call} returned None, but {key} exists: return its fields, {expected}.")
    if got is None:
        t.fail(
            f"{t.last_call} returned None for a session that does not exist; return {{}} (an empty dict), what "
            "HGETALL itself replies for a missing key, so that callers can always treat the result as a dict."
        )
    refuse_other_types(t, got, dict, "return the session's fields as a dict of str (HGETALL gives one).")
    if got == {} and expected:
        read = sorted({c[1] for c in t.sent if len(c) > 1 and c[0].upper() in ("HGETALL", "HMGET", "HGET")})
        where = f" Your code read {read}." if read and key not in read else ""
        t.fail(f"{t.last_call} returned {{}}, but {key} holds {expected}.{where} Read the hash session:<session_id>.")
    t.expect_equal(got, expected, f"{t.last_call} with {key} = {expected}")


def check_load_session(t: Trial) -> str:
    ttl = 1800
    fields = {"user_id": "42", "name": "Ada"}
    t.admin.hset("session:abc", mapping=fields)
    t.admin.expire("session:abc", 60)  # the user has been idle: one minute of the session left
    got = t.call("abc", ttl)
    first_call, first_trips, first_sent = t.last_call, t.round_trips, t.sent
    _expect_fields(t, got, fields, "session:abc")
    pttl = t.pttl("session:abc")
    if ttl < pttl <= 60_000:  # (a TTL of at most ttl ms is the milliseconds mistake, told below)
        t.fail(
            f"Before {t.last_call}, session:abc had 60 s left (the check lowered its TTL: the user had been away); "
            f"afterwards it still expires in {pttl / 1000:.0f} s. A session should end after ttl seconds without "
            "use, counted from the last use: push the expiry back on every read with EXPIRE key ttl (sliding "
            "expiry)."
        )
    _expect_session_ttl(t, "session:abc", ttl, "Push the expiry back with r.expire(key, ttl) on every read.")

    # A session that never existed, and one that expired: {} and nothing created.
    t.admin.hset("session:old", mapping=fields)
    t.admin.pexpire("session:old", 1)
    deadline = time.monotonic() + 1
    while t.admin.exists("session:old") and time.monotonic() < deadline:
        time.sleep(0.005)
    for session_id, what, consequence in (
        ("nope", "that never existed", "a session nobody logged in to"),
        ("old", "that has expired", "a login that was over came back to life"),
    ):
        before = t.keys()
        got = t.call(session_id, ttl)
        _expect_fields(t, got, {}, f"session:{session_id}")
        created = sorted(t.keys() - before)
        if created:
            t.fail(
                f"{t.last_call}, for a session {what}, created {created}: {consequence}. Only read and extend: "
                "HGETALL and EXPIRE change nothing when the key is missing, while HSET creates it."
            )

    # The user logs out (another request deletes the session) right after this request read it.
    t.admin.hset("session:xyz", mapping=fields)
    t.admin.expire("session:xyz", 600)
    logout = t.inject_once(
        ["HGETALL", "HMGET", "HGET", "HKEYS", "EXISTS", "TYPE"], lambda other: other.delete("session:xyz")
    )
    got = t.call("xyz", ttl)
    if logout["fired"] and t.admin.exists("session:xyz"):
        t.fail(
            f"During {t.last_call}, the user logged out (the check deleted session:xyz) right after your code read "
            f"it, and afterwards session:xyz exists again: {t.admin.hgetall('session:xyz')}. Your code wrote the "
            "fields back to refresh the session, and brought a closed session back to life. Extend it with EXPIRE "
            "alone, which does nothing to a key that is gone."
        )
    if not logout["fired"]:
        _expect_fields(t, got, fields, "session:xyz")

    if first_trips > 1:
        sent = ", then ".join(format_command(c) for c in first_sent[:3])
        t.fail(
            f"{first_call} made {first_trips} round trips to Redis ({sent}). Every page view loads the session, so "
            "that doubles the waiting on every request. Queue HGETALL and EXPIRE in one pipeline (with "
            "r.pipeline() as pipe: ...): EXPIRE on a missing session does nothing, so there is no need to look first."
        )
    return "load_session reads the fields and slides the expiry in one round trip, and never revives a session."


LOAD_SESSION = Exercise(
    id="sessions.load_session",
    title="Load a session and slide its expiry",
    signature="load_session(r, session_id: str, ttl: int) -> dict[str, str]",
    task="Return the fields of the hash session:<session_id> and push its expiry back to ttl seconds (a sliding "
    "expiry: the session ends ttl seconds after its last use), both in one round trip. For a missing or expired "
    "session return {} and create nothing.",
    checker=check_load_session,
    reference=load_session,
    hints=(
        "Two commands, one trip: read every field, and set the expiry again. Neither should create a session "
        "that is not there.",
        "In a pipeline: pipe.hgetall(key) and pipe.expire(key, ttl); pipe.execute() returns both replies in a "
        "list. HGETALL gives {} for a missing key, and EXPIRE on a missing key does nothing.",
        'key = f"session:{session_id}"; with r.pipeline() as pipe: pipe.hgetall(key); pipe.expire(key, ttl); '
        "fields, _ = pipe.execute()  then  return fields",
    ),
    mutants=(
        Mutant(_no_sliding, "push the expiry back on every read"),
        Mutant(_looks_then_extends, "round trips"),
        Mutant(_writes_the_fields_back, "brought a closed session back to life"),
        Mutant(_records_last_seen, "a session nobody logged in to"),
        Mutant(_none_when_missing, "return {} (an empty dict)"),
        Mutant(_extends_in_milliseconds, "counts milliseconds"),
    ),
)


EXERCISES = [CREATE_SESSION, LOAD_SESSION]


QUIZZES = [
    Quiz(
        id="sessions.quiz_session_id",
        question=(
            "An attacker can open as many sessions on your site as they like and read their own session ids. Which "
            "way of making ids still keeps them from finding someone else's session?"
        ),
        options=(
            "uuid1(): unique across machines and time",
            "A counter: INCR session:last_id",
            "The login time in nanoseconds",
            "16 or more random bytes from the secrets module",
        ),
        answer=3,
        explanation=(
            "Only random bytes from the operating system's generator give nothing away. A uuid1 and the clock are "
            "close to the ids made around them, and a counter gives the next id as the last plus one."
        ),
    ),
]
