"""16-production: finding big keys, keys that eviction may take, keys for a cluster, and an ACL user for an app."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis
from redis.crc import key_slot

from .._exercise import Exercise, Mutant
from .._probes import check_on_servers_before_7, refuse_dict, refuse_none, refuse_other_types
from .._quiz import Quiz
from .._trial import Trial
from .._wire import Command, format_command

NOTEBOOK = "16-production"


def _sent_named(t: Trial, *names: str) -> list[Command]:
    wanted = {name.upper() for name in names}
    return [command for command in t.sent if command and command[0].upper() in wanted]


def _refuse_keys_command(t: Trial, alternative: str) -> None:
    """Fail when the learner's last call sent KEYS, which blocks the server while it walks every key."""
    keys = _sent_named(t, "KEYS")
    if keys:
        t.fail(
            f"{t.last_call} sent `{format_command(keys[0])}`. KEYS walks the whole keyspace in one command, and "
            "Redis serves nobody else meanwhile: on a production database with millions of keys, every client "
            f"waits for seconds. {alternative}"
        )


def _scan_match_patterns(t: Trial) -> list[str]:
    """The MATCH patterns of the SCAN commands the learner's last call sent ("" for a SCAN without MATCH)."""
    patterns = []
    for command in _sent_named(t, "SCAN"):
        words = [word.upper() for word in command]
        patterns.append(command[words.index("MATCH") + 1] if "MATCH" in words[:-1] else "")
    return patterns


# -- production.biggest_keys --------------------------------------------------------------------------
def biggest_keys(r, kind, n=5):
    size_command = {"string": "strlen", "list": "llen", "hash": "hlen", "set": "scard", "zset": "zcard"}[kind]
    sizes = {}  # by name: SCAN may return a key twice
    cursor = 0
    while True:
        cursor, keys = r.scan(cursor, count=500, _type=kind)
        if keys:
            pipe = r.pipeline(transaction=False)  # one round trip measures the whole page
            for key in keys:
                getattr(pipe, size_command)(key)
            sizes.update(zip(keys, pipe.execute(), strict=True))
        if cursor == 0:
            break
    return sorted(sizes.items(), key=lambda pair: pair[1], reverse=True)[:n]


_SIZE_COMMANDS = {"string": "strlen", "list": "llen", "hash": "hlen", "set": "scard", "zset": "zcard"}


def _with_keys(r, kind, n=5):
    keys = [key for key in r.keys("*") if r.type(key) == kind]
    pipe = r.pipeline(transaction=False)
    for key in keys:
        getattr(pipe, _SIZE_COMMANDS[kind])(key)
    return sorted(zip(keys, pipe.execute(), strict=True), key=lambda pair: pair[1], reverse=True)[:n]


def _first_page_only(r, kind, n=5):
    _cursor, keys = r.scan(0, _type=kind)
    pipe = r.pipeline(transaction=False)
    for key in keys:
        getattr(pipe, _SIZE_COMMANDS[kind])(key)
    return sorted(zip(keys, pipe.execute(), strict=True), key=lambda pair: pair[1], reverse=True)[:n]


def _one_round_trip_per_key(r, kind, n=5):
    measure = getattr(r, _SIZE_COMMANDS[kind])
    sizes = {key: measure(key) for key in r.scan_iter(_type=kind)}
    return sorted(sizes.items(), key=lambda pair: pair[1], reverse=True)[:n]


def _reads_whole_values(r, kind, n=5):
    read = {"string": "get", "list": "lrange", "hash": "hgetall", "set": "smembers", "zset": "zrange"}[kind]
    keys = list(r.scan_iter(count=500, _type=kind))
    pipe = r.pipeline(transaction=False)
    for key in keys:
        if kind in ("list", "zset"):
            getattr(pipe, read)(key, 0, -1)
        else:
            getattr(pipe, read)(key)
    sizes = {key: len(value) for key, value in zip(keys, pipe.execute(), strict=True)}
    return sorted(sizes.items(), key=lambda pair: pair[1], reverse=True)[:n]


def _smallest_first(r, kind, n=5):
    keys = list(r.scan_iter(count=500, _type=kind))
    pipe = r.pipeline(transaction=False)
    for key in keys:
        getattr(pipe, _SIZE_COMMANDS[kind])(key)
    return sorted(zip(keys, pipe.execute(), strict=True), key=lambda pair: pair[1])[-n:]


def _ignores_the_type(r, kind, n=5):
    keys = list(r.scan_iter(count=500))
    pipe = r.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
    kinds = pipe.execute()
    for key, found in zip(keys, kinds, strict=True):
        getattr(pipe, _SIZE_COMMANDS[found])(key)
    return sorted(zip(keys, pipe.execute(), strict=True), key=lambda pair: pair[1], reverse=True)[:n]


def _one_too_many(r, kind, n=5):
    keys = list(r.scan_iter(count=500, _type=kind))
    pipe = r.pipeline(transaction=False)
    for key in keys:
        getattr(pipe, _SIZE_COMMANDS[kind])(key)
    return sorted(zip(keys, pipe.execute(), strict=True), key=lambda pair: pair[1], reverse=True)[: n + 1]


# The sizes the check plants: a crowd of small keys of every type, and a few big ones.
_BIG_HASHES = {"user:17": 120, "user:203": 95, "user:88": 61, "user:391": 44, "user:5": 33, "user:256": 21}
_BIG_STRINGS = {"page:home": 5000, "page:about": 3100, "page:pricing": 2400, "page:blog": 900}
_LISTS = {"queue:emails": 300, "queue:sms": 40, "queue:push": 7}
_SETS = {"tags:python": 150, "tags:redis": 90}
_ZSETS = {"leaderboard:2024": 500, "leaderboard:2025": 80, "leaderboard:2023": 12}
_WHOLE_VALUE_READS = {
    "GET": "STRLEN",
    "GETRANGE": "STRLEN",
    "HGETALL": "HLEN",
    "HKEYS": "HLEN",
    "HVALS": "HLEN",
    "LRANGE": "LLEN",
    "SMEMBERS": "SCARD",
    "ZRANGE": "ZCARD",
    "ZREVRANGE": "ZCARD",
    "ZRANGEBYSCORE": "ZCARD",
}


def _plant_keys(t: Trial) -> None:
    pipe = t.admin.pipeline(transaction=False)
    for number in range(400):
        if f"user:{number}" not in _BIG_HASHES:
            pipe.hset(f"user:{number}", mapping={f"field{j}": j for j in range(1 + number % 8)})
    for key, size in _BIG_HASHES.items():
        pipe.hset(key, mapping={f"field{j}": j for j in range(size)})
    for number in range(300):
        pipe.set(f"page:{number}", "x" * (10 + number % 50))
    for key, size in _BIG_STRINGS.items():
        pipe.set(key, "x" * size)
    for key, size in _LISTS.items():
        pipe.rpush(key, *range(size))
    for key, size in _SETS.items():
        pipe.sadd(key, *range(size))
    for key, size in _ZSETS.items():
        pipe.zadd(key, {f"player{j}": j for j in range(size)})
    pipe.execute()


def _expected_biggest(kind: str, n: int) -> list[tuple[str, int]]:
    planted = {"hash": _BIG_HASHES, "string": _BIG_STRINGS, "list": _LISTS, "set": _SETS, "zset": _ZSETS}[kind]
    return sorted(planted.items(), key=lambda pair: pair[1], reverse=True)[:n]


def _as_pairs(t: Trial, got: Any) -> list[tuple[Any, Any]]:
    refuse_none(t, got, "return the list of (key, size) pairs, biggest first.")
    refuse_dict(
        t,
        got,
        "return a list of (key, size) pairs, biggest first: sorted(sizes.items(), key=..., reverse=True)[:n] makes "
        "one from a dict.",
    )
    refuse_other_types(t, got, (list, tuple), "it should return a list of (key, size) pairs, biggest first.")
    pairs = []
    for item in got:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            t.fail(
                f"{t.last_call} returned a list holding {item!r:.60}; each item should be a (key, size) pair, "
                "e.g. ('user:17', 120)."
            )
        pairs.append((item[0], item[1]))
    return pairs


def _judge_biggest(t: Trial, got: Any, kind: str, n: int, key_types: dict[str, str]) -> None:
    _refuse_keys_command(
        t,
        "Walk the keys with SCAN, a page at a time: r.scan(cursor, _type=kind), or r.scan_iter(_type=kind).",
    )
    if not t.recorder.used("SCAN"):
        t.fail(
            f"{t.last_call} sent no SCAN: the only way to find every key without blocking the server is to walk "
            "the keyspace with SCAN, page by page, until the cursor comes back as 0."
        )
    if t.recorder.used("MEMORY"):
        t.fail(
            f"{t.last_call} used MEMORY USAGE, which measures bytes of RAM (and which the built-in fakeredis lacks). "
            "This task measures size as Redis's length commands report it: STRLEN for a string, LLEN, HLEN, SCARD "
            "or ZCARD for the others."
        )
    reads = [command for command in t.sent if command and command[0].upper() in _WHOLE_VALUE_READS]
    if reads:
        better = _WHOLE_VALUE_READS[reads[0][0].upper()]
        t.fail(
            f"{t.last_call} sent `{format_command(reads[0])}`: it read whole values just to count them. A big key "
            "is exactly the one you should not transfer (a hash of a million fields is megabytes over the "
            f"network, and the server builds the whole reply). {better} returns the size alone, computed in the "
            "server."
        )
    pairs = _as_pairs(t, got)
    expected = _expected_biggest(kind, n)
    intruders = [key for key, _ in pairs if key_types.get(str(key), kind) != kind]
    if intruders:
        t.fail(
            f"{t.last_call} returned {intruders[0]!r}, which is a {key_types[str(intruders[0])]}, but it was asked "
            f"for the biggest keys of type {kind!r}. Keep only keys of that type: r.scan(cursor, _type=kind) lets "
            "the server filter them (or ask TYPE for each key)."
        )
    found = {str(key) for key, _ in pairs}
    missing = [key for key, _ in expected if key not in found]
    scans = _sent_named(t, "SCAN")
    if missing and len(scans) == 1:
        t.fail(
            f"{t.last_call} sent a single SCAN, so it saw only the first page of keys and missed {missing[0]!r} "
            f"({dict(expected)[missing[0]]} elements). SCAN returns a cursor with each page: call it again with "
            "that cursor until it returns 0 (r.scan_iter does the loop for you)."
        )
    if len(pairs) == len(expected) and pairs == expected[::-1] and len(pairs) > 1:
        t.fail(f"{t.last_call} returned {pairs}: smallest first. Return the biggest first (reverse=True).")
    if len(pairs) != len(expected):
        how_many = f"there are only {len(expected)}" if len(expected) < n else f"n={n}"
        t.fail(
            f"{t.last_call} returned {len(pairs)} pairs, but {how_many}: return the {len(expected)} biggest, "
            f"{expected}."
        )
    t.expect_equal(pairs, expected, f"{t.last_call} (the biggest {kind} keys, biggest first)")
    scan_trips = sum(1 for trip in t.recorder.round_trips if any(c and c[0].upper() == "SCAN" for c in trip))
    other_trips = t.round_trips - scan_trips
    if other_trips > 2 * scan_trips + 2:
        t.fail(
            f"{t.last_call} found the right keys, but it made {other_trips} round trips besides its {scan_trips} "
            "SCAN pages: about one per key. On a database with ten million keys, at 0.5 ms per round trip over a "
            "network, that is over an hour. Measure each page of keys in one round trip: queue the size commands "
            "in r.pipeline(transaction=False) and execute() once per page."
        )


def check_biggest_keys(t: Trial) -> str:
    _plant_keys(t)
    keys = sorted(t.keys())
    pipe = t.admin.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
    key_types = dict(zip(keys, pipe.execute(), strict=True))
    _judge_biggest(t, t.call("hash", 5), "hash", 5, key_types)
    _judge_biggest(t, t.call("string", 3), "string", 3, key_types)
    _judge_biggest(t, t.call("zset", 2), "zset", 2, key_types)
    _judge_biggest(t, t.call("list"), "list", 5, key_types)
    return (
        "biggest_keys finds the biggest keys of a type page by page with SCAN, measures each page in one round trip, "
        "and never reads a value: safe to run on a busy production server."
    )


BIGGEST_KEYS = Exercise(
    id="production.biggest_keys",
    title="Find the biggest keys without blocking the server",
    signature="biggest_keys(r, kind: str, n: int = 5) -> list[tuple[str, int]]",
    task="Return the n biggest keys of type kind ('string', 'list', 'hash', 'set' or 'zset') as (key, size) "
    "pairs, biggest first. A key's size is STRLEN for a string and its number of elements otherwise (LLEN, "
    "HLEN, SCARD, ZCARD). This runs on a busy production server: walk the keys with SCAN (never KEYS), never "
    "read a value, and measure each page of keys in one round trip.",
    checker=check_biggest_keys,
    reference=biggest_keys,
    hints=(
        "Three parts: walk every key of the type page by page, measure each key on the page, keep the n biggest. "
        "SCAN can filter by type in the server, and a pipeline measures a whole page in one round trip.",
        "cursor, keys = r.scan(cursor, count=500, _type=kind) until cursor is 0; then queue pipe.hlen(key) (or "
        "strlen, llen, scard, zcard) for each key in r.pipeline(transaction=False): execute() returns the sizes "
        "in order. A dict {key: size} also drops the duplicates SCAN may return.",
        "sizes.update(zip(keys, pipe.execute(), strict=True)) for each page, then "
        "return sorted(sizes.items(), key=lambda pair: pair[1], reverse=True)[:n]",
    ),
    mutants=(
        Mutant(_with_keys, "KEYS walks the whole keyspace"),
        Mutant(_first_page_only, "only the first page"),
        Mutant(_one_round_trip_per_key, "about one per key"),
        Mutant(_reads_whole_values, "read whole values just to count them"),
        Mutant(_smallest_first, "smallest first"),
        Mutant(_ignores_the_type, "which is a string"),
        Mutant(_one_too_many, "returned 6 pairs"),
    ),
)


# -- production.expire_cache_keys -----------------------------------------------------------------------
def expire_cache_keys(r, prefix, ttl):
    given = 0
    for key in r.scan_iter(match=f"{prefix}*", count=500):
        given += r.expire(key, ttl, nx=True)  # NX: only a key with no TTL yet (Redis 7.0+)
    return given


def _expire_with_keys(r, prefix, ttl):
    return sum(r.expire(key, ttl, nx=True) for key in r.keys(f"{prefix}*"))


def _overwrites_ttls(r, prefix, ttl):
    count = 0
    for key in r.scan_iter(match=f"{prefix}*"):
        r.expire(key, ttl)
        count += 1
    return count


def _check_then_expire(r, prefix, ttl):
    given = 0
    for key in r.scan_iter(match=f"{prefix}*"):
        if r.ttl(key) == -1:
            r.expire(key, ttl)
            given += 1
    return given


def _match_without_star(r, prefix, ttl):
    return sum(r.expire(key, ttl, nx=True) for key in r.scan_iter(match=prefix))


def _every_key(r, prefix, ttl):
    return sum(r.expire(key, ttl, nx=True) for key in r.scan_iter())


def _milliseconds(r, prefix, ttl):
    return sum(r.pexpire(key, ttl, nx=True) for key in r.scan_iter(match=f"{prefix}*"))


def _counts_matches(r, prefix, ttl):
    matched = 0
    for key in r.scan_iter(match=f"{prefix}*"):
        r.expire(key, ttl, nx=True)
        matched += 1
    return matched


def _expire_first_page_only(r, prefix, ttl):
    _cursor, keys = r.scan(0, match=f"{prefix}*")
    return sum(r.expire(key, ttl, nx=True) for key in keys)


def _pttls(t: Trial, keys: Iterable[str]) -> dict[str, int]:
    pipe = t.admin.pipeline(transaction=False)
    keys = sorted(keys)
    for key in keys:
        pipe.pttl(key)
    return dict(zip(keys, pipe.execute(), strict=True))


def _judge_expiry(t: Trial, prefix: str, ttl: int, targets: set[str], protected: dict[str, int]) -> None:
    """targets had no TTL and must now expire in about ttl s; protected (key → PTTL before) must keep theirs."""
    _refuse_keys_command(
        t, 'Walk only the keys you need with SCAN and a pattern: r.scan_iter(match=f"{prefix}*", count=500).'
    )
    if not t.recorder.used("SCAN"):
        t.fail(
            f"{t.last_call} sent no SCAN: walk the keys that start with the prefix with SCAN and a MATCH pattern, "
            'page by page (r.scan_iter(match=f"{prefix}*") loops over the pages for you).'
        )
    pttls = _pttls(t, targets | set(protected))
    bare = sorted(key for key in targets if pttls[key] == -1)
    patterns = [pattern for pattern in _scan_match_patterns(t) if pattern]
    if bare and patterns and not any(mark in patterns[0] for mark in "*?["):
        t.fail(
            f"{t.last_call} gave none of the {len(targets)} keys under {prefix!r} a TTL: SCAN MATCH {patterns[0]} "
            f"matches only a key named exactly {patterns[0]!r}. MATCH takes a glob-style pattern: add the star, "
            'match=f"{prefix}*".'
        )
    if bare and len(_sent_named(t, "SCAN")) == 1:
        t.fail(
            f"{t.last_call} sent a single SCAN and so handled only its first page: {len(bare)} of the "
            f"{len(targets)} keys under {prefix!r} still have no TTL (e.g. {bare[0]}). Call SCAN again with the "
            "cursor it returns until the cursor is 0, or loop over r.scan_iter(...)."
        )
    if bare:
        t.fail(
            f"After {t.last_call}, {len(bare)} of the {len(targets)} keys under {prefix!r} that had no TTL still "
            f"have none (e.g. {bare[0]}): every one needs one, or eviction under a volatile-* policy can never "
            "take it. Give each key SCAN finds EXPIRE key ttl NX."
        )
    for key in sorted(targets):
        pttl = pttls[key]
        if pttl <= ttl + 1:
            t.fail(
                f"After {t.last_call}, {key} expires in {pttl} ms, not in {ttl} s: ttl is in seconds, and your code "
                "passed it as milliseconds (PEXPIRE, or px=). Use EXPIRE key ttl NX: r.expire(key, ttl, nx=True)."
            )
        if not (ttl - 5) * 1000 <= pttl <= ttl * 1000:
            t.fail(f"After {t.last_call}, {key} expires in {pttl / 1000:.0f} s; it should expire in {ttl} s.")
    for key, before in sorted(protected.items()):
        now = pttls[key]
        if before == -1 and now != -1:
            t.fail(
                f"{t.last_call} gave {key} a TTL of {now / 1000:.0f} s, but {key} does not start with {prefix!r}: "
                f"a session or a queue must never be evicted. Walk only the keys that match: "
                f'r.scan_iter(match=f"{{prefix}}*").'
            )
        if before > 0 and now > before + 1000:
            t.fail(
                f"{t.last_call} changed the TTL of {key} from {before / 1000:.0f} s to {now / 1000:.0f} s. That key "
                "already expired on purpose: whoever wrote it chose its lifetime, and a cache entry that should have "
                "gone in seconds now stays for an hour. Give a TTL only to keys that have none: EXPIRE key ttl NX "
                "(r.expire(key, ttl, nx=True)) does exactly that, in one step."
            )


def _expect_count(t: Trial, given: Any, expected: int, already: int) -> None:
    refuse_none(t, given, "return how many keys your call gave a TTL (EXPIRE ... NX replies 1 when it set one).")
    refuse_other_types(t, given, int, f"return the number of keys your call gave a TTL, the int {expected}.")
    if given == expected + already and already:
        t.fail(
            f"{t.last_call} returned {given}, but {already} of the keys it found already had a TTL and kept it: "
            f"your call gave a TTL to {expected}. Count only the keys EXPIRE ... NX actually changed (it returns "
            "True for those, False for a key that had a TTL)."
        )
    t.expect_equal(given, expected, f"{t.last_call} (how many keys it gave a TTL)")


def check_expire_cache_keys(t: Trial) -> str:
    # EXPIRE ... NX on a Redis older than 7.0: a right answer that that server cannot run.
    return check_on_servers_before_7(
        t,
        _check_expire_cache_keys,
        "NX option",
        "On that server, read the TTL and set it in one step another way (a WATCH transaction, or a Lua script)",
    )


def _check_expire_cache_keys(t: Trial) -> str:
    pipe = t.admin.pipeline(transaction=False)
    targets = {f"cache:page:{number}" for number in range(240)} | {f"cache:user:{number}" for number in range(20)}
    for number in range(240):
        pipe.set(f"cache:page:{number}", f"<html>{number}</html>")
    for number in range(20):
        pipe.hset(f"cache:user:{number}", mapping={"name": f"user {number}", "plan": "free"})
    for number in range(20):
        pipe.set(f"cache:short:{number}", "fresh", ex=30)
    for number in range(150):
        pipe.set(f"session:{number}", f"user {number}")
    pipe.rpush("queue:jobs", "job:1", "job:2")
    pipe.execute()
    protected = _pttls(t, [f"cache:short:{n}" for n in range(20)] + [f"session:{n}" for n in range(150)])
    protected["queue:jobs"] = -1

    given = t.call("cache:", 3600)
    _judge_expiry(t, "cache:", 3600, targets, protected)
    _expect_count(t, given, len(targets), already=20)

    # Other clients refresh cache entries while the call runs: right after the learner's first TTL check, every
    # feed entry is written again with SET ... EX 5. An EXPIRE that relies on that check now overwrites a TTL.
    feed = {f"cache:feed:{number}" for number in range(60)}
    pipe = t.admin.pipeline(transaction=False)
    for key in sorted(feed):
        pipe.set(key, "old entry")
    pipe.execute()

    def refresh_the_feed(admin: Any) -> None:
        refresh = admin.pipeline(transaction=False)
        for key in sorted(feed):
            refresh.set(key, "fresh entry", ex=5)
        refresh.execute()

    state = t.inject_once(["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"], refresh_the_feed)
    given = t.call("cache:feed:", 600)
    pttls = _pttls(t, feed)
    if state["fired"]:
        overwritten = sorted(key for key, pttl in pttls.items() if pttl > 5000)
        if overwritten:
            t.fail(
                f"{t.last_call} has a race. Your code read the TTL of a cache:feed: key (none yet), then another "
                "client wrote every feed entry again with SET ... EX 5, before your EXPIRE ran; your EXPIRE then "
                f"replaced that 5 s TTL: {overwritten[0]} now lives {pttls[overwritten[0]] / 1000:.0f} s. Checking and "
                "setting must be one step: EXPIRE key ttl NX sets a TTL only on a key that has none (Redis 7.0+); "
                "on older servers, do the check and the EXPIRE in a Lua script or a WATCH transaction."
            )
        _expect_count(t, given, sum(1 for pttl in pttls.values() if pttl > 5000), already=0)
    else:
        _judge_expiry(t, "cache:feed:", 600, feed, {})
        _expect_count(t, given, len(feed), already=0)

    nothing = t.call("tmp:", 60)
    _expect_count(t, nothing, 0, already=0)
    return (
        "expire_cache_keys gives a TTL to exactly the keys under the prefix that had none, with SCAN, and never "
        "replaces a TTL someone else chose, even one set while it runs: volatile-* eviction can now take them."
    )


EXPIRE_CACHE_KEYS = Exercise(
    id="production.expire_cache_keys",
    title="Make cache keys evictable: a TTL where there is none",
    signature="expire_cache_keys(r, prefix: str, ttl: int) -> int",
    task="Under a volatile-* eviction policy, Redis evicts only keys that have a TTL. Give every key whose "
    "name starts with prefix and that has no TTL yet a TTL of ttl seconds, and return how many keys your call "
    "gave one. Leave alone the keys that already expire (their TTL was chosen on purpose) and every key outside "
    "prefix. Walk the keys with SCAN, never KEYS; other clients keep writing while your code runs.",
    checker=check_expire_cache_keys,
    reference=expire_cache_keys,
    hints=(
        "SCAN with a MATCH pattern walks only the keys under the prefix, page by page. For each one, the TTL must "
        "be set only if the key has none, and another client may set one between your check and your write.",
        'r.scan_iter(match=f"{prefix}*", count=500) loops over the pages for you. EXPIRE has an NX option (Redis '
        "7.0+): it sets the TTL only when the key has none, in one step, and replies True when it did.",
        'given = 0; for key in r.scan_iter(match=f"{prefix}*", count=500): given += r.expire(key, ttl, nx=True); '
        "return given",
    ),
    mutants=(
        Mutant(_expire_with_keys, "KEYS walks the whole keyspace"),
        Mutant(_overwrites_ttls, "already expired on purpose"),
        Mutant(_check_then_expire, "has a race"),
        Mutant(_match_without_star, "add the star"),
        Mutant(_every_key, "does not start with 'cache:'"),
        Mutant(_milliseconds, "passed it as milliseconds"),
        Mutant(_counts_matches, "already had a TTL and kept it"),
        Mutant(_expire_first_page_only, "handled only its first page"),
    ),
)


# -- production.user_keys --------------------------------------------------------------------------------
def user_keys(user_id):
    tag = f"{{user:{user_id}}}"  # the hash tag: a cluster hashes only the part between { and }
    return f"{tag}:cart", f"{tag}:orders"


def _no_hash_tag(user_id):
    return f"user:{user_id}:cart", f"user:{user_id}:orders"


def _same_tag_for_everyone(user_id):
    return f"{{shop}}:cart:{user_id}", f"{{shop}}:orders:{user_id}"


def _empty_braces(user_id):
    return f"user:{user_id}:{{}}cart", f"user:{user_id}:{{}}orders"


def _whole_name_in_braces(user_id):
    return f"{{user:{user_id}:cart}}", f"{{user:{user_id}:orders}}"


def _only_the_cart_tagged(user_id):
    return f"{{user:{user_id}}}:cart", f"user:{user_id}:orders"


def _fixed_names(user_id):
    return "cart", "orders"


def _hash_tag(key: str) -> str:
    """The part of key a cluster hashes: the text between the first { and the next }, if not empty."""
    start = key.find("{")
    if start != -1:
        end = key.find("}", start + 1)
        if end > start + 1:
            return key[start + 1 : end]
    return key


def _slot(key: str) -> int:
    return int(key_slot(key.encode()))


def _keys_of(t: Trial, user_id: str) -> tuple[str, str]:
    got = t.call(user_id)
    refuse_none(t, got, "return the two key names, (cart_key, orders_key).")
    refuse_other_types(t, got, (tuple, list), "return a pair of key names, (cart_key, orders_key).")
    if len(got) != 2 or not all(isinstance(key, str) for key in got):
        t.fail(f"{t.last_call} returned {got!r:.80}; return exactly two key names (str): (cart_key, orders_key).")
    cart, orders = got
    if cart == orders:
        t.fail(f"{t.last_call} returned the same name twice, {cart!r}: the cart and the orders need a key each.")
    return cart, orders


def _why_two_slots(cart: str, orders: str) -> str:
    if "{}" in cart or "{}" in orders:
        return (
            "Empty braces are not a hash tag: when nothing stands between { and }, the cluster hashes the whole "
            "name. Put the user's part inside them: {user:42}:cart."
        )
    if "{" in cart and "{" in orders:
        return (
            f"Only the text inside the braces is hashed, and it differs: {_hash_tag(cart)!r} against "
            f"{_hash_tag(orders)!r}. Put only what both names share inside them: {{user:42}}:cart and "
            "{user:42}:orders."
        )
    if "{" in cart or "{" in orders:
        return (
            "Only one of the names has a hash tag, so the other is hashed whole. Give both the same tag: "
            "{user:42}:cart and {user:42}:orders."
        )
    return (
        "A cluster spreads keys over 16,384 slots by a hash of the whole name. Give both names the same hash tag, "
        "a part in braces, which is then the only part hashed: {user:42}:cart and {user:42}:orders."
    )


def check_user_keys(t: Trial) -> str:
    cart, orders = _keys_of(t, "42")
    if "42" not in cart or "42" not in orders:
        t.fail(
            f"{t.last_call} returned ({cart!r}, {orders!r}): both names must contain the user id '42', or every "
            "user would share one cart. Build them from user_id, e.g. with an f-string."
        )
    if _slot(cart) != _slot(orders):
        t.fail(
            f"{t.last_call} returned {cart!r} (slot {_slot(cart)}) and {orders!r} (slot {_slot(orders)}). In a Redis "
            "Cluster, a transaction, a Lua script or an MSET over both keys fails with CROSSSLOT, and the two may "
            f"live on different nodes. {_why_two_slots(cart, orders)}"
        )
    if _keys_of(t, "43") == (cart, orders):
        t.fail(
            f"user_keys('42') and user_keys('43') both returned ({cart!r}, {orders!r}): every user would share one "
            "cart. Put user_id into both names."
        )
    slots = {_slot(_keys_of(t, str(number))[0]) for number in range(1, 501)}
    if len(slots) < 100:
        t.fail(
            f"The keys of 500 users fall into only {len(slots)} slot(s) of 16,384: the hash tag {_hash_tag(cart)!r} "
            "is the same for everyone, so a single node would hold every user's cart and take all the traffic. "
            "The tag must contain what tells users apart, the user id: {user:42}:cart."
        )
    return (
        f"user_keys keeps each user's two keys in one slot ({cart!r} and {orders!r}: slot {_slot(cart)}) and "
        "spreads users over the whole cluster."
    )


USER_KEYS = Exercise(
    id="production.user_keys",
    title="Key names that keep a user's keys together in a cluster",
    signature="user_keys(user_id: str) -> tuple[str, str]",
    task="Return the names of a user's cart key and orders key, (cart_key, orders_key), both containing "
    "user_id, for a Redis Cluster: one transaction must be able to use both keys of a user, and different "
    "users' keys must spread over the whole cluster.",
    checker=check_user_keys,
    reference=user_keys,
    passes_client=False,
    hints=(
        "A cluster puts each key in one of 16,384 slots by a hash of its name, and a multi-key command or "
        "transaction works only when all its keys are in the same slot. A hash tag, part of the name in braces "
        "{...}, makes the cluster hash only that part.",
        "Both names need the same hash tag, and the tag must contain the user id, so that each user gets a slot "
        "of their own: redis.crc.key_slot(name.encode()) tells you a name's slot.",
        'tag = f"{{user:{user_id}}}"; return f"{tag}:cart", f"{tag}:orders"',
    ),
    mutants=(
        Mutant(_no_hash_tag, "fails with CROSSSLOT"),
        Mutant(_same_tag_for_everyone, "a single node would hold every user's cart"),
        Mutant(_empty_braces, "Empty braces are not a hash tag"),
        Mutant(_whole_name_in_braces, "the text inside the braces is hashed, and it differs"),
        Mutant(_only_the_cart_tagged, "Only one of the names has a hash tag"),
        Mutant(_fixed_names, "every user would share one cart"),
    ),
)


# -- production.app_user ---------------------------------------------------------------------------------
def create_app_user(r, name, password, prefix, commands):
    r.acl_setuser(
        name,
        reset=True,  # forget every earlier password, key pattern and permission of this user
        enabled=True,
        passwords=[f"+{password}"],
        keys=[f"{prefix}*"],
        commands=[f"+{command}" for command in commands],
    )


def _no_reset(r, name, password, prefix, commands):
    r.acl_setuser(
        name, enabled=True, passwords=[f"+{password}"], keys=[f"{prefix}*"], commands=[f"+{c}" for c in commands]
    )


def _reset_password_only(r, name, password, prefix, commands):
    r.acl_setuser(
        name,
        reset_passwords=True,
        reset_keys=True,
        enabled=True,
        passwords=[f"+{password}"],
        keys=[f"{prefix}*"],
        commands=[f"+{c}" for c in commands],
    )


def _not_enabled(r, name, password, prefix, commands):
    r.acl_setuser(
        name, reset=True, passwords=[f"+{password}"], keys=[f"{prefix}*"], commands=[f"+{c}" for c in commands]
    )


def _every_key_allowed(r, name, password, prefix, commands):
    r.acl_setuser(
        name, reset=True, enabled=True, passwords=[f"+{password}"], keys=["*"], commands=[f"+{c}" for c in commands]
    )


def _pattern_without_star(r, name, password, prefix, commands):
    r.acl_setuser(
        name, reset=True, enabled=True, passwords=[f"+{password}"], keys=[prefix], commands=[f"+{c}" for c in commands]
    )


def _every_command_allowed(r, name, password, prefix, commands):
    r.acl_setuser(name, reset=True, enabled=True, passwords=[f"+{password}"], keys=[f"{prefix}*"], commands=["+@all"])


def _read_and_write_categories(r, name, password, prefix, commands):
    r.acl_setuser(
        name,
        reset=True,
        enabled=True,
        passwords=[f"+{password}"],
        keys=[f"{prefix}*"],
        categories=["+@read", "+@write"],
    )


def _without_password(r, name, password, prefix, commands):
    r.acl_setuser(
        name, reset=True, enabled=True, nopass=True, keys=[f"{prefix}*"], commands=[f"+{c}" for c in commands]
    )


def _logged_in(t: Trial, name: str, password: str) -> tuple[Any, BaseException | None]:
    """A fresh connection that sent AUTH name password: (client, None), or (None, the error)."""
    base = t.client()
    client = redis.Redis(connection_pool=base.connection_pool, single_connection_client=True)
    try:
        client.execute_command("AUTH", name, password)
    except redis.RedisError as error:
        client.close()
        return None, error
    return client, None


def _denied(client: Any, *command: str) -> bool:
    """True when the server refuses command for this client's user (NOPERM)."""
    try:
        client.execute_command(*command)
    except redis.exceptions.NoPermissionError:
        return True
    return False


def _flags(t: Trial, name: str) -> list[str]:
    user = t.admin.acl_getuser(name)
    return [str(flag) for flag in (user or {}).get("flags", [])]


def _judge_user(
    t: Trial,
    name: str,
    password: str,
    prefix: str,
    commands: list[str],
    old: str = "",
    old_commands: tuple[str, ...] = (),
) -> None:
    _emulate_fakeredis_resets(t, name, old, list(old_commands))
    if t.admin.acl_getuser(name) is None:
        t.fail(
            f"After {t.last_call}, there is no ACL user {name!r} (ACL GETUSER {name} finds nothing): create it with "
            f"r.acl_setuser({name!r}, ...), which sends ACL SETUSER."
        )
    flags = _flags(t, name)
    if "nopass" in flags:
        t.fail(
            f"After {t.last_call}, the user {name} has the flag nopass: anyone who can reach the server logs in as "
            "it with any password, or none. Give it the password instead: passwords=[f'+{password}'] (ACL SETUSER "
            "... >password)."
        )
    client, error = _logged_in(t, name, password)
    if client is None:
        off = "off" in flags
        t.fail(
            f"After {t.last_call}, AUTH {name} {password} fails ({error}). "
            + (
                "The user is off, so nobody can log in as it: redis-py's acl_setuser sends off unless you pass "
                "enabled=True (ACL SETUSER ... on)."
                if off
                else f"Give the user the password {password!r}: passwords=[f'+{{password}}']."
            )
        )
    try:
        own = f"{prefix}probe"
        if _denied(client, "GET", own):
            patterns = _key_patterns(t, name)
            advice = (
                f"Key patterns are glob-style: {patterns[0]!r} matches only a key named exactly that; add a star, "
                f"keys=[f'{{prefix}}*'] (~{prefix}* in ACL SETUSER)."
                if patterns and not any("*" in pattern for pattern in patterns)
                else f"Give it the key pattern ~{prefix}*: keys=[f'{{prefix}}*']."
            )
            t.fail(
                f"After {t.last_call}, the user {name} may not run GET {own}, a key under its own prefix "
                f"{prefix!r}. {advice}"
            )
        if not _denied(client, "GET", "billing:secret"):
            t.fail(
                f"After {t.last_call}, the user {name} may run GET billing:secret, a key of another "
                f"application: it may reach every key. Give it only the pattern ~{prefix}* (keys=[f'{{prefix}}*']), "
                "not ~* or allkeys."
            )
        outside = "INCR" if "incr" not in commands else "LPUSH"
        if not _denied(client, outside, f"{prefix}counter", *(["x"] if outside == "LPUSH" else [])):
            t.fail(
                f"After {t.last_call}, the user {name} may run {outside}, which is not among the commands "
                f"{commands}: a leaked password then lets an attacker do anything those permissions allow. Grant "
                "exactly the listed commands, commands=[f'+{c}' for c in commands], and no category such as +@all, "
                "+@read or +@write."
            )
        for command in commands:
            if _denied(client, command.upper(), f"{prefix}probe", *(["1"] if command == "set" else [])):
                t.fail(f"After {t.last_call}, the user {name} may not run {command.upper()}, which commands lists.")
    finally:
        client.close()
    if old:
        client, _ = _logged_in(t, name, old)
        if client is not None:
            client.close()
            t.fail(
                f"After {t.last_call}, the old password {old!r} still works: ACL SETUSER adds a password to those the "
                "user has. When you replace a user, start from nothing: reset=True (ACL SETUSER name reset ...), "
                "or at least reset_passwords=True."
            )


def _emulate_fakeredis_resets(t: Trial, name: str, old_password: str, old_commands: list[str]) -> None:
    """fakeredis ignores the rules resetpass and nocommands (-@all) of ACL SETUSER, which a real Redis obeys:
    after such a call, take back the old password and the old commands the way Redis would have."""
    if t.server.kind != "fake":
        return
    for command in _sent_named(t, "ACL"):
        words = [word.lower() for word in command]
        if words[1:3] != ["setuser", name.lower()]:
            continue
        rules = words[3:]
        if "resetpass" in rules and old_password:
            t.admin.execute_command("ACL", "SETUSER", name, f"<{old_password}")
        resets = [index for index, rule in enumerate(rules) if rule in ("nocommands", "-@all")]
        if resets:
            granted_again = {rule[1:] for rule in rules[resets[-1] :] if rule.startswith("+")}
            taken_back = [f"-{old}" for old in old_commands if old.lower() not in granted_again]
            if taken_back:
                t.admin.execute_command("ACL", "SETUSER", name, *taken_back)


def _key_patterns(t: Trial, name: str) -> list[str]:
    keys = (t.admin.acl_getuser(name) or {}).get("keys", [])
    words = keys.split() if isinstance(keys, str) else [str(word) for word in keys]
    return [word.lstrip("%RW~") for word in words]


def check_app_user(t: Trial) -> str:
    users_before = set(t.admin.acl_users())
    default_before = t.admin.acl_getuser("default")
    try:
        t.call("shop", "first-Secret-1", "shop:", ["get", "set", "del"])
        _judge_user(t, "shop", "first-Secret-1", "shop:", ["get", "set", "del"])

        # Replaced: a new password, and fewer commands. Nothing of the first call may remain.
        t.call("shop", "second-Secret-2", "shop:", ["get"])
        _judge_user(t, "shop", "second-Secret-2", "shop:", ["get"], "first-Secret-1", ("get", "set", "del"))
        client, _ = _logged_in(t, "shop", "second-Secret-2")
        assert client is not None
        try:
            if not _denied(client, "SET", "shop:probe", "1"):
                t.fail(
                    f"After {t.last_call}, the user shop may still run SET, which only the first call granted: ACL "
                    "SETUSER adds to what the user had. Start from nothing each time: reset=True (ACL SETUSER "
                    "name reset ...)."
                )
        finally:
            client.close()

        # Moved to another prefix: the old key pattern must go too.
        t.call("shop", "third-Secret-3", "orders:", ["get"])
        _judge_user(t, "shop", "third-Secret-3", "orders:", ["get"], "second-Secret-2", ("get",))
        client, _ = _logged_in(t, "shop", "third-Secret-3")
        assert client is not None
        try:
            if not _denied(client, "GET", "shop:probe"):
                t.fail(
                    f"After {t.last_call}, the user shop may still read shop:probe under its old prefix: ACL SETUSER "
                    "adds key patterns to the old ones. Start from nothing: reset=True (or reset_keys=True)."
                )
        finally:
            client.close()
        if t.admin.acl_getuser("default") != default_before:
            t.fail(
                f"{t.last_call} changed the user default, which every client without a user name logs in as: "
                "create or change only the user it is asked for."
            )
    finally:
        for user in set(t.admin.acl_users()) - users_before:  # the checking server may be a real one, reused
            t.admin.acl_deluser(user)
    return (
        "create_app_user gives an application exactly one password, its own keys and the commands it needs, and "
        "replacing the user leaves nothing of its old password or rights."
    )


APP_USER = Exercise(
    id="production.app_user",
    title="An ACL user for one application",
    signature="create_app_user(r, name: str, password: str, prefix: str, commands: list[str]) -> None",
    task="Create the ACL user name, or replace it entirely if it exists: it logs in with password (and no other "
    "password), may touch only the keys that start with prefix, and may run only the commands listed in "
    "commands, e.g. ['get', 'set', 'del']. Called again with other arguments, nothing of the old user may remain.",
    checker=check_app_user,
    reference=create_app_user,
    hints=(
        "ACL SETUSER name followed by rules: on (may log in), >password (adds a password), ~pattern (keys it may "
        "touch), +command (a command it may run). It adds the rules to what the user already has, unless the first "
        "rule is reset.",
        "r.acl_setuser(name, reset=True, enabled=True, passwords=[...], keys=[...], commands=[...]): passwords "
        "take a '+' in front to add, keys are glob patterns without the '~', commands take a '+' in front.",
        "r.acl_setuser(name, reset=True, enabled=True, passwords=[f'+{password}'], keys=[f'{prefix}*'], "
        "commands=[f'+{c}' for c in commands])",
    ),
    mutants=(
        Mutant(_no_reset, "the old password 'first-Secret-1' still works"),
        Mutant(_reset_password_only, "may still run SET"),
        Mutant(_not_enabled, "The user is off"),
        Mutant(_every_key_allowed, "it may reach every key"),
        Mutant(_pattern_without_star, "add a star"),
        Mutant(_every_command_allowed, "may run INCR"),
        Mutant(_read_and_write_categories, "no category such as +@all"),
        Mutant(_without_password, "nopass"),
    ),
)


EXERCISES = [BIGGEST_KEYS, EXPIRE_CACHE_KEYS, USER_KEYS, APP_USER]


QUIZZES = [
    Quiz(
        id="production.quiz_volatile_without_ttls",
        question=(
            "A Redis at its maxmemory runs with maxmemory-policy volatile-lru, and none of its keys has a TTL. What "
            "happens to the next SET of a new key?"
        ),
        options=(
            "Redis evicts the least recently used key, as allkeys-lru would",
            "It is refused with an out-of-memory error: no key is a candidate for eviction",
            "Redis ignores maxmemory and keeps growing until the machine runs out of RAM",
        ),
        answer=1,
        explanation=(
            "volatile-* policies choose only among keys with a TTL. With none, Redis behaves as under noeviction: "
            "writes that need memory fail with OOM, reads still work."
        ),
    ),
    Quiz(
        id="production.quiz_everysec",
        question=(
            "Redis runs with appendonly yes and appendfsync everysec. Which event can lose about the last second of "
            "writes that clients were told had succeeded?"
        ),
        options=(
            "kill -9 of the redis-server process",
            "The whole machine losing power",
            "A clean SHUTDOWN, or a restart of the service",
        ),
        answer=1,
        explanation=(
            "Redis normally hands every write to the operating system before it answers the client, so a dead "
            "process loses nothing the OS already has (unless a struggling disk made Redis hold writes back, for up "
            "to 2 s). everysec delays the fsync that moves them from the OS's cache to the disk: a power cut or a "
            "kernel crash loses what was not yet synced. appendfsync always closes that gap, at the price of one "
            "fsync per write."
        ),
    ),
    Quiz(
        id="production.quiz_wait",
        question="After a write, WAIT 1 100 returns 1. What does that tell you?",
        options=(
            "The write is safely on the disks of two machines",
            "One replica has applied the write, so promoting that replica would keep it",
            "No failover can lose this write any more",
        ),
        answer=1,
        explanation=(
            "WAIT counts replicas that acknowledged the write: they have it in memory, not necessarily on disk. A "
            "failover that promotes one of them keeps it; one that promotes another replica, or a crash of them "
            "all, can still lose it. WAIT makes a loss less likely, it does not make Redis strongly consistent."
        ),
    ),
    Quiz(
        id="production.quiz_crossslot",
        question="In a Redis Cluster, which of these commands runs without a CROSSSLOT error?",
        options=(
            "MSET user:42:name Ada user:42:email ada@example.com",
            "MSET {user:42}:name Ada {user:42}:email ada@example.com",
            "MSET user:{42}:name Ada user:{43}:name Grace",
        ),
        answer=1,
        explanation=(
            "Only the hash tag, the text in braces, is hashed when a name has one: both keys of the second command "
            "hash 'user:42' and share a slot. The first hashes two different whole names; the third, two different "
            "tags."
        ),
    ),
    Quiz(
        id="production.quiz_exposed_port",
        question=(
            "A Redis on a cloud machine listens on 0.0.0.0:6379 with a long random password. What is still wrong?"
        ),
        options=(
            "Nothing: with a long password, exposing the port is safe",
            "Anyone on the internet can reach it and try passwords, and the traffic is unencrypted",
            "Only the port number: a port other than 6379 hides it",
        ),
        answer=1,
        explanation=(
            "A password is one layer. Keep Redis on a private network (bind to a private address, a firewall or "
            "security group that admits only your application servers), use TLS when traffic crosses a network you "
            "do not control, and give each application an ACL user with only the rights it needs. Port scanners "
            "find any port."
        ),
    ),
]
