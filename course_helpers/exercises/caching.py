"""11-caching: cache-aside with a TTL, invalidating a prefix with SCAN, and caching misses too."""

from __future__ import annotations

import copy
import glob
import json
from typing import Any

import redis

from .._exercise import Exercise, Mutant
from .._probes import call_with_crash_after, expiry_set_separately, shorten
from .._quiz import Quiz
from .._trial import Trial

NOTEBOOK = "11-caching"


class _CountingLoader:
    """A stand-in for a slow database query: returns a copy of value and counts how often it was called."""

    def __init__(self, name: str, value: Any) -> None:
        self.name = name
        self.value = value
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> Any:
        self.calls.append(args)
        return copy.deepcopy(self.value)

    def __repr__(self) -> str:  # how the loader appears in "cached_fetch(r, 'product:42', load_product, 600)"
        return self.name


class _UserTable:
    """A stand-in for `SELECT ... FROM users WHERE id = ?`: a dict lookup that counts the ids it was asked for."""

    def __init__(self, rows: dict[int, dict[str, Any]]) -> None:
        self.rows = rows
        self.asked: list[int] = []

    def __call__(self, user_id: int) -> dict[str, Any] | None:
        self.asked.append(user_id)
        row = self.rows.get(user_id)
        return None if row is None else copy.deepcopy(row)

    def __repr__(self) -> str:
        return "lookup"


def _sent_in_milliseconds(t: Trial) -> bool:
    """True when the last call set an expiry in milliseconds (SET ... PX, PSETEX, PEXPIRE)."""
    for command in t.sent:
        name = command[0].upper() if command else ""
        if name in ("PSETEX", "PEXPIRE", "PEXPIREAT"):
            return True
        if name == "SET" and any(word.upper() in ("PX", "PXAT") for word in command[3:]):
            return True
    return False


def _expect_ttl(t: Trial, key: str, seconds: int, what: str, name: str = "ttl") -> None:
    """Fail unless key expires in about `seconds` s; the message tells no expiry, ms and wrong values apart."""
    pttl = t.pttl(key)
    if pttl == -1:
        t.fail(
            f"After {t.last_call}, {key} has no expiry (TTL -1), so {what} would be served forever, even after "
            f"the data changes: give it a TTL of {name}={seconds} seconds, e.g. r.set(key, text, ex={name})."
        )
    if pttl == -2:
        t.fail(f"After {t.last_call}, {key} had already expired: store it with ex={name} ({seconds} seconds).")
    if pttl <= seconds or (pttl < seconds * 1000 - 5000 and _sent_in_milliseconds(t)):
        t.fail(
            f"After {t.last_call}, {key} expires in {pttl} ms, not in {seconds} s: {name} is in seconds, so "
            "pass ex= (or use SETEX/EXPIRE); px=, PSETEX and PEXPIRE take milliseconds."
        )
    if not seconds * 1000 - 5000 <= pttl <= seconds * 1000:
        t.fail(
            f"After {t.last_call}, {key} expires in {pttl / 1000:.1f} s; it should expire in {name}={seconds} s: "
            f"pass ex={name} when you store it."
        )


# -- caching.cache_aside -----------------------------------------------------------------------------
def cached_fetch(r, key, loader, ttl):
    cached = r.get(key)
    if cached is not None:  # a hit: the slow source is not asked
        return json.loads(cached)
    value = loader()  # a miss: ask the slow source once...
    r.set(key, json.dumps(value), ex=ttl)  # ...and keep its answer for ttl seconds
    return value


def _cache_aside_with(r, key, loader, encode=json.dumps, decode=json.loads, **expiry):
    """cached_fetch with one detail changed, for the four mutants below: how it encodes, decodes or expires."""
    cached = r.get(key)
    if cached is not None:
        return decode(cached)
    value = loader()
    r.set(key, encode(value), **expiry)
    return value


def _no_expiry(r, key, loader, ttl):
    return _cache_aside_with(r, key, loader)


def _stores_str_of_dict(r, key, loader, ttl):
    return _cache_aside_with(r, key, loader, encode=str, ex=ttl)


def _returns_cached_text(r, key, loader, ttl):
    return _cache_aside_with(r, key, loader, decode=str, ex=ttl)


def _ttl_in_milliseconds(r, key, loader, ttl):
    return _cache_aside_with(r, key, loader, px=ttl)


def _set_then_expire(r, key, loader, ttl):
    cached = r.get(key)
    if cached is not None:
        return json.loads(cached)
    value = loader()
    r.set(key, json.dumps(value))
    r.expire(key, ttl)  # a second command: if it never arrives, the copy never expires
    return value


def _set_then_expire_pipelined(r, key, loader, ttl):
    cached = r.get(key)
    if cached is not None:
        return json.loads(cached)
    value = loader()
    r.pipeline(transaction=False).set(key, json.dumps(value)).expire(key, ttl).execute()
    return value


def _always_loads(r, key, loader, ttl):
    value = loader()
    r.set(key, json.dumps(value), ex=ttl)
    return value


def _loads_twice(r, key, loader, ttl):
    cached = r.get(key)
    if cached is not None:
        return json.loads(cached)
    r.set(key, json.dumps(loader()), ex=ttl)
    return loader()


def _empty_dict_is_a_miss(r, key, loader, ttl):
    cached = r.get(key)
    value = json.loads(cached) if cached else None
    if value:
        return value
    value = loader()
    r.set(key, json.dumps(value), ex=ttl)
    return value


PRODUCT = {"id": 42, "name": "Espresso cup", "price": 7.5, "tags": ["kitchen", "gift"], "in_stock": True}


def _expect_json_of(t: Trial, key: str, expected: dict[str, Any]) -> None:
    kind = str(t.admin.type(key))
    if kind == "none":
        if _sent_in_milliseconds(t):
            t.fail(
                f"After {t.last_call}, {key} had already expired: you set its expiry in milliseconds (px=, "
                "PSETEX or PEXPIRE) but ttl is in seconds; pass ex=ttl."
            )
        t.fail(
            f"After {t.last_call}, the key {key} does not exist, so the next call will ask the slow source again: "
            "store the loader's result with r.set(key, json.dumps(value), ex=ttl)."
        )
    if kind != "string":
        t.fail(
            f"After {t.last_call}, {key} holds a {kind}; this exercise stores the whole dict as one JSON string, "
            "r.set(key, json.dumps(value), ex=ttl), so one GET reads it back."
        )
    text = str(t.admin.get(key))
    try:
        stored = json.loads(text)
    except ValueError:
        looks_like_repr = text.startswith("{'") or text == str(expected)
        why = "Python's str() of the dict (single quotes, True), which is not JSON" if looks_like_repr else "not JSON"
        t.fail(
            f"After {t.last_call}, {key} holds {shorten(text, 90)}: that is {why}, so json.loads cannot read it back "
            "on the next call. Store json.dumps(value)."
        )
    if stored != expected:
        t.fail(
            f"After {t.last_call}, {key} holds the JSON of {shorten(stored, 90)}, but the loader returned "
            f"{expected!r}: store exactly what the loader returned."
        )


def _expect_returned(t: Trial, value: Any, expected: dict[str, Any], when: str) -> None:
    if isinstance(value, (str, bytes)):
        t.fail(
            f"{t.last_call} {when} returned the {type(value).__name__} {shorten(value, 70)}, the JSON text, not the "
            "dict: decode the cached text with json.loads(cached) before returning it."
        )
    if value != expected:
        t.fail(f"{t.last_call} {when} returned {shorten(value, 90)}; expected {shorten(expected, 90)}.")


def _expect_expiry_in_the_set(t: Trial) -> None:
    """Fail a miss that stores the copy and its expiry in two commands, which can be separated by a crash."""
    first_call, first_sent = t.last_call, t.sent
    loader = _CountingLoader("load_product", {**PRODUCT, "id": 9})
    crashed, _ = call_with_crash_after(t, ["SET"], "product:9", loader, 600)
    if crashed and t.pttl("product:9") == -1:
        t.fail(
            f"During {t.last_call} the network dropped just after your SET (the check simulated it), so your "
            "EXPIRE never reached Redis and product:9 now stays cached forever, never refreshed. SET followed "
            "by EXPIRE is two commands, and anything can happen between them. Store the copy and its expiry "
            "in the same command: r.set(key, json.dumps(value), ex=ttl)."
        )
    if expiry_set_separately(first_sent):
        t.fail(
            f"{first_call} sent SET and then a separate EXPIRE. In a pipeline without MULTI/EXEC they are still "
            "two commands: another client can read the copy while it has no expiry, and if the EXPIRE is lost "
            "the copy is never refreshed. Store the copy and its expiry in the same command: "
            "r.set(key, json.dumps(value), ex=ttl)."
        )


def check_cache_aside(t: Trial) -> str:
    loader = _CountingLoader("load_product", PRODUCT)
    value = t.call("product:42", loader, 600)
    if not loader.calls:
        t.fail(
            f"On a miss (product:42 was not cached), {t.last_call} never called loader(): call it once to get "
            "the value, then cache it and return it."
        )
    if len(loader.calls) > 1:
        t.fail(
            f"{t.last_call} called loader() {len(loader.calls)} times on one miss. The loader is the slow part "
            "(a database query): call it once, keep its result in a variable, store that and return it."
        )
    _expect_json_of(t, "product:42", PRODUCT)
    _expect_returned(t, value, PRODUCT, "on a miss")
    _expect_ttl(t, "product:42", 600, "this cached copy")
    _expect_expiry_in_the_set(t)

    cached = {"id": 7, "name": "Teapot", "price": 21.0, "tags": [], "in_stock": False}
    t.admin.set("product:7", json.dumps(cached), ex=120)
    fresh = _CountingLoader("load_product", {**cached, "name": "Teapot (from the database)"})
    value = t.call("product:7", fresh, 600)
    if fresh.calls:
        t.fail(
            f"product:7 already held a cached value, yet {t.last_call} called loader(): a hit must not touch the "
            "slow source. GET the key first and return json.loads(cached) when it is not None."
        )
    _expect_returned(t, value, cached, "on a hit")

    t.admin.set("product:0", "{}", ex=120)
    empty = _CountingLoader("load_product", {"id": 0})
    value = t.call("product:0", empty, 600)
    if empty.calls:
        t.fail(
            f"product:0 held the cached JSON '{{}}' (an empty dict is a valid cached value), yet {t.last_call} "
            "called loader(): decide hit or miss with `cached is not None` (on the text GET returned), not with "
            "the truthiness of the decoded value, since an empty dict is falsy in Python."
        )
    _expect_returned(t, value, {}, "on a hit of an empty dict")
    return "cached_fetch asks the loader once per miss, stores JSON with a TTL in seconds, and serves hits from Redis."


CACHE_ASIDE = Exercise(
    id="caching.cache_aside",
    title="Cache-aside with a TTL",
    signature="cached_fetch(r, key: str, loader: Callable[[], dict], ttl: int) -> dict",
    task="If key holds a cached value (JSON text), return it as a dict without calling loader. Otherwise call "
    "loader() once, store its result as JSON expiring after ttl seconds, and return the dict.",
    checker=check_cache_aside,
    reference=cached_fetch,
    hints=(
        "Start with cached = r.get(key). A miss is `cached is None`; anything else is a hit.",
        "On a hit return json.loads(cached). On a miss: value = loader(), then store json.dumps(value).",
        "Store with an expiry in seconds in the same command: r.set(key, json.dumps(value), ex=ttl); then "
        "return value.",
    ),
    mutants=(
        Mutant(_no_expiry, "has no expiry"),
        Mutant(_always_loads, "a hit must not touch the slow source"),
        Mutant(_stores_str_of_dict, "which is not JSON"),
        Mutant(_returns_cached_text, "the JSON text, not the dict"),
        Mutant(_ttl_in_milliseconds, "is in seconds"),
        Mutant(_loads_twice, "called loader() 2 times on one miss"),
        Mutant(_empty_dict_is_a_miss, "cached is not None"),
        Mutant(_set_then_expire, "the network dropped just after your SET"),
        Mutant(_set_then_expire_pipelined, "sent SET and then a separate EXPIRE"),
    ),
)


def _escape(prefix: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in prefix)


_ESCAPE_HINT = r"""e.g. "".join("\\" + c if c in "*?[]\\" else c for c in prefix)"""


# -- caching.invalidate_prefix -----------------------------------------------------------------------
def invalidate_prefix(r, prefix):
    pattern = "".join("\\" + c if c in "*?[]\\" else c for c in prefix) + "*"  # wildcards escaped, then *
    with r.pipeline(transaction=False) as pipe:
        for key in r.scan_iter(match=pattern, count=500):
            pipe.unlink(key)  # UNLINK is DEL that frees memory in the background
        return sum(pipe.execute())


def _uses_keys(r, prefix):
    keys = r.keys(prefix + "*")
    return r.delete(*keys) if keys else 0


def _one_scan_page(r, prefix):
    _cursor, keys = r.scan(0, match=_escape(prefix) + "*", count=1000)
    return r.delete(*keys) if keys else 0


def _unescaped_prefix(r, prefix):
    deleted = 0
    for key in r.scan_iter(match=prefix + "*", count=500):
        deleted += r.delete(key)
    return deleted


def _backslash_not_escaped(r, prefix):
    pattern = "".join("\\" + c if c in "*?[]" else c for c in prefix) + "*"  # forgets the backslash itself
    deleted = 0
    for key in r.scan_iter(match=pattern, count=500):
        deleted += r.delete(key)
    return deleted


def _unescaped_then_filtered(r, prefix):
    doomed = [key for key in r.scan_iter(match=prefix + "*", count=500) if key.startswith(prefix)]
    return r.delete(*doomed) if doomed else 0


def _glob_escape_then_filtered(r, prefix):
    # glob.escape writes [*] [?] [[] for Python's glob, which Redis reads the same way, but leaves \ alone
    doomed = [key for key in r.scan_iter(match=glob.escape(prefix) + "*", count=500) if key.startswith(prefix)]
    return r.delete(*doomed) if doomed else 0


def _counts_last_batch_only(r, prefix):
    pattern = _escape(prefix) + "*"
    deleted, batch = 0, []
    for key in r.scan_iter(match=pattern, count=500):
        batch.append(key)
        if len(batch) == 500:
            deleted = r.delete(*batch)
            batch = []
    if batch:
        deleted = r.delete(*batch)
    return deleted


def _substring_match(r, prefix):
    escaped = _escape(prefix)
    deleted = 0
    for key in r.scan_iter(match=f"*{escaped}*", count=500):
        deleted += r.delete(key)
    return deleted


def _why_the_pattern_misfires(prefix: str) -> str:
    """What the glob characters in prefix do in a SCAN MATCH pattern, with an example and the remedy."""
    pattern, backslash = prefix + "*", "\\"
    if "[" in prefix and "]" in prefix[prefix.index("[") :]:
        start = prefix.index("[")
        end = prefix.index("]", start)
        group = prefix[start : end + 1]
        literal = prefix[:start] + group[1:2] + prefix[end + 1 :]
        what = (
            f"in a SCAN MATCH pattern {group} is a character class, one character from inside the brackets, so "
            f"{pattern!r} matches names such as {literal + '…'!r} and never {prefix + '…'!r}"
        )
    elif backslash in prefix:
        what = (
            "in a SCAN MATCH pattern a backslash escapes the character after it instead of matching itself, so "
            f"{pattern!r} matches names such as {prefix.replace(backslash, '') + '…'!r} and never {prefix + '…'!r}"
        )
    else:
        what = f"in a SCAN MATCH pattern * ? [ ] are wildcards, so {pattern!r} also matches other names"
    return (
        f"{what}. They must be escaped before SCAN sees them: put a backslash before each of * ? [ ] and before "
        f"a backslash itself, {_ESCAPE_HINT}. Filtering with key.startswith(prefix) afterwards cannot bring back "
        "keys that SCAN never returned."
    )


def _exist_each(t: Trial, keys: list[str]) -> list[bool]:
    """EXISTS for each key, in one round trip."""
    with t.admin.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.exists(key)
        return [bool(found) for found in pipe.execute()]


def _expect_invalidated(t: Trial, prefix: str, targets: list[str], decoys: list[str]) -> None:
    """Call invalidate_prefix(prefix) and judge it: SCAN not KEYS, exactly the targets gone, the right count."""
    t.admin.mset({key: "cached" for key in targets + decoys})
    deleted, error = t.try_call(prefix, expected=(redis.ResponseError,))
    if error is not None:
        t.fail(
            f"{t.last_call} raised ResponseError: {error}. When a SCAN page (or the whole scan) finds no key, "
            "r.delete() gets no argument, which Redis refuses: skip the delete when there is nothing to delete."
        )
    if t.recorder.used("KEYS"):
        t.fail(
            f"{t.last_call} used KEYS, which walks every key of the database in one command and blocks the server "
            "meanwhile (seconds on a big production database): iterate with r.scan_iter(match=...) instead."
        )
    if targets and not t.recorder.used("SCAN"):
        t.fail(f"{t.last_call} never sent SCAN: find the keys with r.scan_iter(match=...), a page at a time.")
    gone = [key for key, there in zip(decoys, _exist_each(t, decoys), strict=True) if not there]
    if gone:
        inside = [key for key in gone if prefix in key and not key.startswith(prefix)]
        if inside:
            t.fail(
                f"{t.last_call} deleted {inside[:3]}, which contain {prefix!r} but do not start with it: your "
                f"pattern matches the prefix anywhere in the name (like '*{prefix}*'). A prefix pattern has "
                "nothing before it: prefix + '*'."
            )
        if any(char in prefix for char in "*?[]"):
            t.fail(
                f"{t.last_call} deleted {gone[:3]}, which do not start with {prefix!r}: in a SCAN pattern * ? [ ] "
                f"are glob wildcards, so {prefix + '*'!r} matches other names. Put a backslash before each of them "
                "(see the hints) or compare key.startswith(prefix) yourself."
            )
        if "\\" in prefix:
            t.fail(
                f"{t.last_call} deleted {gone[:3]}, which do not start with {prefix!r}: in a SCAN pattern a "
                f"backslash escapes the character after it, so {prefix + '*'!r} matches names without the "
                "backslash. Put a backslash before the backslash too, like before * ? [ ] (see the hints)."
            )
        t.fail(f"{t.last_call} deleted {gone[:3]}, which do not start with {prefix!r}: delete only the prefix's keys.")
    if targets and t.admin.exists(*targets):  # one round trip; list the keys left only when some are
        left = [key for key, there in zip(targets, _exist_each(t, targets), strict=True) if there]
        scans = sum(1 for name in t.recorder.names if name == "SCAN")
        if scans == 1 and len(targets) > 100:
            t.fail(
                f"{t.last_call} sent one SCAN and stopped, leaving {len(left)} of the {len(targets)} keys that start "
                f"with {prefix!r} (e.g. {left[0]!r}). SCAN returns one page and a cursor: call it again with that "
                "cursor until the cursor is 0, or let r.scan_iter(match=...) loop for you."
            )
        if len(left) == len(targets) and any(char in prefix for char in "*?[]\\"):
            t.fail(
                f"{t.last_call} left every key that starts with {prefix!r} ({len(targets)} of them, e.g. "
                f"{left[0]!r}): " + _why_the_pattern_misfires(prefix)
            )
        t.fail(
            f"{t.last_call} left {len(left)} of the {len(targets)} keys that start with {prefix!r}, e.g. "
            f"{left[0]!r}: delete every key whose name starts with the prefix."
        )
    if isinstance(deleted, bool) or not isinstance(deleted, int):
        t.fail(
            f"{t.last_call} returned {shorten(deleted, 60)}; it should return an int, how many keys it deleted "
            f"({len(targets)} here)."
        )
    if deleted != len(targets):
        t.fail(
            f"{t.last_call} returned {deleted}, but it deleted {len(targets)} keys: add up what each r.delete "
            "(or UNLINK) returns, or count the keys you deleted."
        )


def check_invalidate_prefix(t: Trial) -> str:
    sessions = [f"session:{number}" for number in range(1200)]
    decoys = ["session", "sessions:1", "sess:9", "old-session:1", "user:session:9", "Session:2"]
    _expect_invalidated(t, "session:", sessions, decoys)
    _expect_invalidated(t, "user[1]:", ["user[1]:cart", "user[1]:profile"], ["user1:cart", "user[1]", "user[2]:cart"])
    _expect_invalidated(t, "a*b:", ["a*b:1", "a*b:2"], ["aXYb:1", "a*b", "ab:1"])
    _expect_invalidated(t, "dir\\tmp:", ["dir\\tmp:1", "dir\\tmp:2"], ["dirtmp:1", "dir\\tmp", "dir/tmp:1"])
    _expect_invalidated(t, "nothing:", [], ["nothing", "not:1"])
    return (
        "invalidate_prefix walks the keys with SCAN, deletes exactly the prefix's keys (wildcards escaped) "
        "and counts them."
    )


INVALIDATE_PREFIX = Exercise(
    id="caching.invalidate_prefix",
    title="Invalidate every key under a prefix, with SCAN",
    signature="invalidate_prefix(r, prefix: str) -> int",
    task="Delete every key whose name starts with prefix, and only those, finding them with SCAN (never KEYS); "
    "return how many were deleted. Prefixes may contain glob characters such as [ ] * ? and backslashes.",
    checker=check_invalidate_prefix,
    reference=invalidate_prefix,
    hints=(
        "r.scan_iter(match=pattern) walks the keyspace a page at a time and yields the names that match.",
        "The pattern is prefix + '*'. But * ? [ ] inside the prefix are wildcards too: put a backslash before "
        "each (and before a backslash), " + _ESCAPE_HINT + ", or filter the keys with key.startswith(prefix).",
        "Delete as you go and add up what r.delete (or r.unlink) returns; queueing the deletes on a "
        "pipeline and summing pipe.execute() saves round trips.",
    ),
    mutants=(
        Mutant(_uses_keys, "used KEYS"),
        Mutant(_one_scan_page, "sent one SCAN and stopped"),
        Mutant(_unescaped_prefix, "are glob wildcards"),
        Mutant(_counts_last_batch_only, "but it deleted 1200 keys"),
        Mutant(_substring_match, "anywhere in the name"),
        Mutant(_backslash_not_escaped, "Put a backslash before the backslash too"),
        Mutant(_unescaped_then_filtered, "[1] is a character class"),
        Mutant(_glob_escape_then_filtered, "a backslash escapes the character after it instead"),
    ),
)


# -- caching.negative_cache --------------------------------------------------------------------------
def find_user(r, user_id, lookup, ttl=300, miss_ttl=30):
    key = f"user:{user_id}"
    cached = r.get(key)
    if cached is not None:
        return json.loads(cached)  # the JSON 'null' of a remembered miss comes back as None
    user = lookup(user_id)
    r.set(key, json.dumps(user), ex=ttl if user is not None else miss_ttl)
    return user


def _misses_not_cached(r, user_id, lookup, ttl=300, miss_ttl=30):
    key = f"user:{user_id}"
    cached = r.get(key)
    if cached is not None:
        return json.loads(cached)
    user = lookup(user_id)
    if user is not None:
        r.set(key, json.dumps(user), ex=ttl)
    return user


def _miss_kept_for_full_ttl(r, user_id, lookup, ttl=300, miss_ttl=30):
    key = f"user:{user_id}"
    cached = r.get(key)
    if cached is not None:
        return json.loads(cached)
    user = lookup(user_id)
    r.set(key, json.dumps(user), ex=ttl)
    return user


def _miss_never_expires(r, user_id, lookup, ttl=300, miss_ttl=30):
    key = f"user:{user_id}"
    cached = r.get(key)
    if cached is not None:
        return json.loads(cached)
    user = lookup(user_id)
    if user is None:
        r.set(key, json.dumps(None))
    else:
        r.set(key, json.dumps(user), ex=ttl)
    return user


def _decoded_none_looks_like_a_miss(r, user_id, lookup, ttl=300, miss_ttl=30):
    key = f"user:{user_id}"
    cached = r.get(key)
    user = json.loads(cached) if cached is not None else None
    if user is not None:  # the remembered miss decodes to None too, so it falls through to lookup
        return user
    user = lookup(user_id)
    r.set(key, json.dumps(user), ex=ttl if user is not None else miss_ttl)
    return user


def _empty_marker_looks_like_a_miss(r, user_id, lookup, ttl=300, miss_ttl=30):
    key = f"user:{user_id}"
    cached = r.get(key)
    if cached:  # "" (the marker) is falsy, so a remembered miss asks the database again
        return json.loads(cached)
    user = lookup(user_id)
    r.set(key, json.dumps(user) if user is not None else "", ex=ttl if user is not None else miss_ttl)
    return user


def _returns_the_marker(r, user_id, lookup, ttl=300, miss_ttl=30):
    key = f"user:{user_id}"
    cached = r.get(key)
    if cached == "NOT_FOUND":
        return cached
    if cached is not None:
        return json.loads(cached)
    user = lookup(user_id)
    if user is None:
        r.set(key, "NOT_FOUND", ex=miss_ttl)
    else:
        r.set(key, json.dumps(user), ex=ttl)
    return user


USERS = {1: {"id": 1, "name": "Ada Lovelace", "plan": "pro"}, 2: {"id": 2, "name": "Alan Turing", "plan": "free"}}


def check_negative_cache(t: Trial) -> str:
    lookup = _UserTable(USERS)
    value = t.call(404, lookup, 300, 30)
    if lookup.asked != [404]:
        t.fail(f"{t.last_call} asked lookup for {lookup.asked}; on a miss it should call lookup(404) once.")
    if value is not None:
        t.fail(f"{t.last_call} returned {shorten(value, 60)} for a user that does not exist (lookup returned None).")
    if not t.admin.exists("user:404"):
        t.fail(
            f"After {t.last_call}, nothing is cached for the missing user (lookup returned None), so every request "
            "for user 404 will query the database again. Cache the miss too under user:404, with a marker such as "
            "json.dumps(None), which is the text 'null'."
        )
    pttl = t.pttl("user:404")
    if pttl == -1:
        t.fail(
            f"After {t.last_call}, the 'not found' marker user:404 has no expiry: if user 404 signs up later, "
            "the cache would keep saying 'no such user' forever. Store it with ex=miss_ttl."
        )
    if pttl > 30_000:
        t.fail(
            f"After {t.last_call}, the 'not found' marker user:404 expires in {pttl / 1000:.0f} s: a remembered "
            "miss should expire after miss_ttl=30 s (shorter than ttl), so a user who signs up soon is found."
        )
    if 0 < pttl <= 30:
        t.fail(f"After {t.last_call}, user:404 expires in {pttl} ms: miss_ttl is in seconds, so use ex=miss_ttl.")
    marker = t.admin.get("user:404")
    again = t.call(404, lookup, 300, 30)
    if len(lookup.asked) > 1:
        if not marker:
            t.fail(
                f"The miss for user 404 was cached as the empty string, yet the second {t.last_call} called lookup "
                "again: an empty string is falsy, so `if cached:` treats the remembered miss as a miss. Decide hit "
                "or miss with `cached is not None` (GET returns None only when the key is missing), or store "
                "json.dumps(None), the text 'null', as the marker."
            )
        t.fail(
            f"The miss for user 404 was cached as {marker!r}, yet the second {t.last_call} called lookup again. "
            f"Your code decoded the marker and tested the result: json.loads({marker!r}) is None, the same as "
            "'nothing cached'. Decide hit or miss on what GET returned, before decoding: `if cached is not None:` "
            "is a hit, and a hit on the marker returns None without asking the database."
        )
    if again is not None:
        t.fail(
            f"The second {t.last_call} returned {shorten(again, 60)} from the cached miss; it should return None: turn "
            "your marker back into None (json.loads('null') is None)."
        )

    lookup = _UserTable(USERS)
    value = t.call(1, lookup, 300, 30)
    if lookup.asked != [1]:
        t.fail(f"{t.last_call} asked lookup for {lookup.asked}; on a miss it should call lookup(1) once.")
    _expect_json_of(t, "user:1", USERS[1])
    _expect_returned(t, value, USERS[1], "for an existing user")
    _expect_ttl(t, "user:1", 300, "this user's cached copy")
    value = t.call(1, lookup, 300, 30)
    if len(lookup.asked) > 1:
        t.fail(f"user:1 was cached, yet the second {t.last_call} called lookup again: serve hits from Redis.")
    _expect_returned(t, value, USERS[1], "on a hit")
    return "find_user remembers users for ttl and misses for the shorter miss_ttl, and never asks twice."


NEGATIVE_CACHE = Exercise(
    id="caching.negative_cache",
    title="Cache the misses too",
    signature="find_user(r, user_id: int, lookup: Callable[[int], dict | None], ttl: int = 300, "
    "miss_ttl: int = 30) -> dict | None",
    task="Cache-aside for users under the key user:<user_id>: a user that lookup finds is cached as JSON for "
    "ttl seconds; when lookup returns None, cache that answer too (a marker of your choice) for miss_ttl "
    "seconds, so the next call for that id returns None without calling lookup.",
    checker=check_negative_cache,
    reference=find_user,
    hints=(
        "Start from cache-aside: GET user:<id>; on a miss call lookup(user_id) once.",
        "json.dumps(None) is the text 'null', and json.loads('null') is None: the same code can store and "
        "read back a remembered miss.",
        "Store with r.set(key, json.dumps(user), ex=ttl if user is not None else miss_ttl), and decide hit or "
        "miss with `cached is not None`.",
    ),
    mutants=(
        Mutant(_misses_not_cached, "nothing is cached for the missing user"),
        Mutant(_miss_kept_for_full_ttl, "should expire after miss_ttl"),
        Mutant(_miss_never_expires, "has no expiry"),
        Mutant(_decoded_none_looks_like_a_miss, "Your code decoded the marker and tested the result"),
        Mutant(_empty_marker_looks_like_a_miss, "an empty string is falsy"),
        Mutant(_returns_the_marker, "turn your marker back into None"),
    ),
)


EXERCISES = [CACHE_ASIDE, INVALIDATE_PREFIX, NEGATIVE_CACHE]


QUIZZES = [
    Quiz(
        id="caching.quiz_stampede",
        question=(
            "A popular key expires and 500 requests for it arrive within the same millisecond. With plain cache-aside, "
            "what happens?"
        ),
        options=(
            "Redis queues the 500 requests until one of them has refilled the key",
            "All 500 miss and query the database, and all 500 write the key back",
            "The first request gets the old value, the others wait",
        ),
        answer=1,
        explanation=(
            "Redis knows nothing about your loader: each request sees a miss and goes to the database. That is a "
            "stampede; a lock (single flight), TTL jitter or early refresh prevents it."
        ),
    ),
    Quiz(
        id="caching.quiz_pickle",
        question=(
            "Your service caches objects with pickle in a Redis that several teams can write to. What is the risk?"
        ),
        options=(
            "None: pickle is Python's standard format",
            "The values take more memory than JSON",
            "Whoever can write a key can make every reader run arbitrary code in pickle.loads",
        ),
        answer=2,
        explanation=(
            "Unpickling can call any function named in the data. Use JSON (data only) for anything another party could "
            "write."
        ),
    ),
]
