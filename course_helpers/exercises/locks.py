"""14-locks: take a lock with an unguessable token and an expiry, release it only if it is still yours, and extend
it while the work goes on."""

from __future__ import annotations

import itertools
import math
import random
import secrets
import string
import time
import uuid
from typing import Any

from .._exercise import Exercise, Mutant
from .._probes import call_with_crash_after, refuse_none, refuse_other_types
from .._quiz import Quiz
from .._trial import Trial
from .._wire import Command, format_command

NOTEBOOK = "14-locks"

# Where Lua cannot run (fakeredis without lupa, as in a browser tab), Trial itself stops an answer that sends a
# script with a one-sentence set-up problem (where to run the check instead); answers without a script, such as
# GET-then-DEL or WATCH/MULTI, are still judged there. So release and extend need no require_scripting(): their
# Lua reference is "not checkable here", and the mistakes that matter most are still caught in the browser.

_MIN_TOKEN_BITS = 64


def _script_without_keys(t: Trial) -> Command | None:
    """The first script call of the last call that declared no key (numkeys 0), if any."""
    for command in t.sent:
        scripted = command and command[0].upper() in ("EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO")
        if scripted and len(command) > 2 and command[2] == "0":
            return command
    return None


def _expect_keys_declared(t: Trial, key: str) -> None:
    hidden = _script_without_keys(t)
    if hidden is not None:
        t.fail(
            f"{t.last_call} worked, but its script declared no key ({format_command(hidden, 70)}: numkeys 0). Pass "
            f"the lock's key ({key}) in KEYS, r.eval(script, 1, key, token, ...), and read it as KEYS[1]: "
            "Redis (and Redis Cluster, which routes a script by its keys) learns which keys a script touches only "
            "from KEYS."
        )


def _expect_bool(t: Trial, value: Any, expected: bool, situation: str) -> None:
    if value is None:
        t.fail(f"{t.last_call} returned None {situation}; return {expected}.")
    if not isinstance(value, bool):
        t.fail(
            f"{t.last_call} returned {type(value).__name__} {value!r} {situation}, not a bool. A Lua script's "
            "`return 1` reaches Python as the int 1: compare it (== 1) or wrap it in bool(...) to return True "
            "or False."
        )
    if value is not expected:
        t.fail(f"{t.last_call} returned {value} {situation}; it should return {expected}.")


# -- locks.acquire -------------------------------------------------------------------------------------------
def acquire(r, name, ttl_ms):
    token = secrets.token_hex(16)  # 128 random bits: nobody can guess it, or pick the same one by chance
    if r.set(f"lock:{name}", token, nx=True, px=ttl_ms):  # only if free, with an expiry, in one command
        return token
    return None


def _constant_token(r, name, ttl_ms):
    if r.set(f"lock:{name}", "locked", nx=True, px=ttl_ms):
        return "locked"
    return None


def _random_module_token(r, name, ttl_ms):
    token = "".join(random.choices(string.ascii_letters + string.digits, k=24))
    return token if r.set(f"lock:{name}", token, nx=True, px=ttl_ms) else None


def _clock_token(r, name, ttl_ms):
    token = str(time.time_ns())
    return token if r.set(f"lock:{name}", token, nx=True, px=ttl_ms) else None


def _uuid1_token(r, name, ttl_ms):
    token = str(uuid.uuid1())
    return token if r.set(f"lock:{name}", token, nx=True, px=ttl_ms) else None


def _short_token(r, name, ttl_ms):
    token = secrets.token_hex(4)
    return token if r.set(f"lock:{name}", token, nx=True, px=ttl_ms) else None


def _setnx_then_pexpire(r, name, ttl_ms):
    token = secrets.token_hex(16)
    if not r.setnx(f"lock:{name}", token):
        return None
    r.pexpire(f"lock:{name}", ttl_ms)
    return token


def _no_expiry(r, name, ttl_ms):
    token = secrets.token_hex(16)
    return token if r.set(f"lock:{name}", token, nx=True) else None


def _seconds_for_milliseconds(r, name, ttl_ms):
    token = secrets.token_hex(16)
    return token if r.set(f"lock:{name}", token, nx=True, ex=ttl_ms) else None


def _no_nx(r, name, ttl_ms):
    token = secrets.token_hex(16)
    r.set(f"lock:{name}", token, px=ttl_ms)
    return token


def _token_even_when_taken(r, name, ttl_ms):
    token = secrets.token_hex(16)
    r.set(f"lock:{name}", token, nx=True, px=ttl_ms)
    return token


def _get_then_set(r, name, ttl_ms):
    if r.get(f"lock:{name}") is not None:
        return None
    token = secrets.token_hex(16)
    r.set(f"lock:{name}", token, px=ttl_ms)
    return token


def _returns_true(r, name, ttl_ms):
    return bool(r.set(f"lock:{name}", secrets.token_hex(16), nx=True, px=ttl_ms)) or None


def _expect_taken(t: Trial, value: Any, name: str, ttl_ms: int, before: set[str]) -> str:
    """The call took lock:<name> for about ttl_ms and returned its token; returns the token."""
    key = f"lock:{name}"
    if value is None and t.admin.type(key) == "none" and not (t.keys() - before):
        t.fail(f"{t.last_call} returned None and took nothing, but nobody held {key}: take it and return a token.")
    t.expect_key(key, "string", before, 'f"lock:{name}"')
    stored = t.admin.get(key)
    if value is True:
        t.fail(
            f"{t.last_call} returned True; return the token itself ({key} holds {stored!r}): release and extend "
            "need it to prove that the lock is still yours."
        )
    refuse_none(t, value, f"nobody held {key}, so the call should take it and return its token.")
    refuse_other_types(t, value, str, "return the token, a str (the value stored in the lock's key).")
    if stored != value:
        t.fail(f"{t.last_call} returned {value!r}, but {key} holds {stored!r}: return the token you stored.")
    pttl = t.pttl(key)
    if pttl == -1:
        t.fail(
            f"After {t.last_call}, {key} never expires. If the holder crashes before releasing it, nobody can "
            f"ever take the lock again: set the expiry in the same command, r.set(key, token, nx=True, px=ttl_ms)."
        )
    if pttl > ttl_ms:
        t.fail(
            f"After {t.last_call}, {key} expires in {pttl} ms, not {ttl_ms}: ex= takes seconds, px= milliseconds. "
            "Use px=ttl_ms."
        )
    if pttl < ttl_ms - 2000:
        t.fail(f"After {t.last_call}, {key} expires in {pttl} ms; it should expire in about {ttl_ms} ms (px=ttl_ms).")
    return str(value)


def _token_bits(token: str, alphabet: str) -> float:
    """About how many random bits a token of this length could carry, drawn from the characters all tokens use."""
    chars = token.replace("-", "")
    symbols = set(alphabet) - {"-"}
    if symbols <= set(string.digits):
        size = 10
    elif symbols <= set(string.hexdigits):
        size = 16
    elif symbols <= set(string.ascii_letters + string.digits + "_"):
        size = 63
    else:
        size = 94
    return len(chars) * math.log2(size)


def _similarity(first: str, second: str) -> float:
    """The share of positions at which two tokens have the same character (random tokens: about 1/16 or less)."""
    length = max(len(first), len(second))
    return sum(a == b for a, b in zip(first, second, strict=False)) / length if length else 1.0


def _as_number(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return None


def _judge_tokens(t: Trial, tokens: list[str]) -> None:
    """Fail when the tokens of many calls repeat, follow the clock, a counter or the random module, or are short."""
    shown = ", ".join(repr(token) for token in tokens[:3])
    numbers = [number for number in map(_as_number, tokens) if number is not None]
    if len(numbers) == len(tokens) and numbers == sorted(numbers):
        t.fail(
            f"The tokens of {len(tokens)} calls are numbers that never go down ({shown}, ...): the clock or a counter. "
            "Another client can guess the next one. Use random bits: secrets.token_hex(16)."
        )
    if len(set(tokens)) < len(tokens):
        t.fail(
            f"{len(tokens)} calls of acquire on free locks returned only {len(set(tokens))} different tokens "
            f"({shown}, ...): two holders with the same token cannot tell their locks apart, and anyone can guess "
            "it. Make a new random token on every call: secrets.token_hex(16)."
        )
    versions = {_uuid_version(token) for token in tokens}
    if versions == {1}:
        t.fail(
            f"The tokens are version-1 UUIDs ({shown}, ...): uuid1() is built from the clock and the machine's "
            "network address, so a token can be guessed from the time of the call. Use random bits: "
            "secrets.token_hex(16) or str(uuid.uuid4())."
        )
    alike = sum(_similarity(a, b) for a, b in itertools.pairwise(tokens)) / (len(tokens) - 1)
    if alike >= 0.5:
        t.fail(
            f"The tokens of consecutive calls share {alike:.0%} of their characters ({shown}, ...): they follow "
            "the clock, a counter or the machine, so the next one can be guessed. Use random bits: "
            "secrets.token_hex(16)."
        )
    alphabet = "".join(tokens)
    weakest = min(tokens, key=lambda token: _token_bits(token, alphabet))
    bits = _token_bits(weakest, alphabet)
    if bits < _MIN_TOKEN_BITS:
        t.fail(
            f"A token such as {weakest!r} carries at most about {bits:.0f} random bits: a client that tries tokens "
            f"at random finds it after about 2**{bits:.0f} tries. Use at least {_MIN_TOKEN_BITS} bits; "
            "secrets.token_hex(16) gives 128."
        )


def _uuid_version(token: str) -> int | None:
    try:
        return uuid.UUID(token).version
    except ValueError:
        return None


def _tokens_after_reseeding(t: Trial) -> tuple[Any, Any]:
    """Two acquisitions, each right after seeding Python's random module the same way (its state restored after).

    A token made with the random module (random.choice, randint, getrandbits...) comes out the same twice: that
    generator is not meant for secrets, and its output can be predicted from earlier outputs.
    """
    saved = random.getstate()
    try:
        random.seed(1234)
        first = t.call("seed-a", 5000)
        random.seed(1234)
        second = t.call("seed-b", 5000)
    finally:
        random.setstate(saved)
    return first, second


def check_acquire(t: Trial) -> str:
    before = t.keys()
    first = _expect_taken(t, t.call("report", 5000), "report", 5000, before)

    # The lock is held: a second caller gets None, and the holder's lock is untouched.
    pttl = t.pttl("lock:report")
    second = t.call(
        "report",
        5000,
        within=2,
        too_slow="acquire waited for a lock that someone else holds: it must return None at once then (with "
        "r.lock, pass blocking=False to acquire()).",
    )
    stored = t.admin.get("lock:report")
    if stored != first:
        t.fail(
            f"{t.last_call} overwrote a lock someone else held: lock:report held {first!r}, and now holds "
            f"{stored!r}. Both callers believe they hold the lock. Take it only if it is free: "
            "r.set(key, token, nx=True, px=ttl_ms)."
        )
    if second is not None:
        t.fail(
            f"{t.last_call} returned {second!r} while lock:report was held by another caller (token {first!r}): "
            "it must return None then. r.set(..., nx=True) returns None when the key exists: return the token "
            "only when it returned True."
        )
    if t.pttl("lock:report") > pttl + 50:
        t.fail(f"{t.last_call} renewed the expiry of a lock it does not hold; leave someone else's lock alone.")

    # Another client takes the lock between the learner's check and their write.
    state = t.inject_once(
        ["GET", "EXISTS", "TTL", "PTTL", "STRLEN", "TYPE"],
        lambda other: other.set("lock:nightly", "another-worker", px=5000),
    )
    value = t.call("nightly", 5000)
    holder = t.admin.get("lock:nightly")
    if state["fired"] and holder != "another-worker":
        t.fail(
            f"{t.last_call} has a race. Your code checked that lock:nightly was free, then another worker took it "
            f"before your code wrote, and your SET overwrote its token: lock:nightly holds {holder!r}, and both "
            "workers believe they hold the lock. Check and take in one command: r.set(key, token, nx=True, "
            "px=ttl_ms) writes only if the key does not exist."
        )
    if state["fired"] and value is not None:
        t.fail(f"{t.last_call} returned {value!r}, but another worker took lock:nightly first: return None.")

    # The process dies right after the first write of the call.
    crashed, _ = call_with_crash_after(t, ["SETNX", "SET"], "backup", 5000)
    if crashed and t.admin.exists("lock:backup") and t.pttl("lock:backup") == -1:
        t.fail(
            f"During {t.last_call} the connection dropped right after your code took lock:backup (the check "
            "simulated a crash), before its expiry was set: the lock now never expires, and nobody can ever take "
            "it again. Take the lock and set its expiry in one command: r.set(key, token, nx=True, px=ttl_ms)."
        )

    # Tokens of many acquisitions: they must be unguessable.
    tokens = []
    for n in range(16):
        tokens.append(_expect_taken(t, t.call(f"job{n}", 5000), f"job{n}", 5000, before))
    _judge_tokens(t, tokens)
    seeded = _tokens_after_reseeding(t)
    if seeded[0] is not None and seeded[0] == seeded[1]:
        t.fail(
            f"Seeded the same way, Python's random module made the same token twice ({seeded[0]!r}): your tokens "
            "come from random (random.choice, randint, getrandbits...), whose numbers are not secret: after "
            "seeing enough of them one can predict the next. Use the secrets module: secrets.token_hex(16)."
        )

    # Once the lock is gone (released, or expired), it can be taken again with a new token.
    t.admin.delete("lock:report")
    again = _expect_taken(t, t.call("report", 5000), "report", 5000, before)
    if again == first:
        t.fail(f"{t.last_call} returned the same token as the first time, {first!r}: make a new one on every call.")
    return "acquire takes a free lock with an expiry in one command and hands out tokens nobody can guess."


ACQUIRE = Exercise(
    id="locks.acquire",
    title="Take a lock with a token and an expiry",
    signature="acquire(r, name: str, ttl_ms: int) -> str | None",
    task="Take the lock lock:<name> for ttl_ms milliseconds if nobody holds it, in one atomic step, and return "
    "a new unguessable token that proves you hold it; return None (and change nothing) when someone holds it.",
    checker=check_acquire,
    reference=acquire,
    hints=(
        "Checking whether the lock is free and taking it must be one command, and the lock needs an expiry in "
        "that same command, or a crash leaves it held for ever.",
        "r.set(key, token, nx=True, px=ttl_ms) writes only if the key is missing (NX), with an expiry in "
        "milliseconds (PX); it returns True or None. secrets.token_hex(16) makes 128 random bits.",
        'token = secrets.token_hex(16); return token if r.set(f"lock:{name}", token, nx=True, px=ttl_ms) else None',
    ),
    mutants=(
        Mutant(_constant_token, "different tokens"),
        Mutant(_random_module_token, "your tokens come from random"),
        Mutant(_clock_token, "numbers that never go down"),
        Mutant(_uuid1_token, "version-1 UUIDs"),
        Mutant(_short_token, "at most about 32 random bits"),
        Mutant(_setnx_then_pexpire, "before its expiry was set"),
        Mutant(_no_expiry, "never expires"),
        Mutant(_seconds_for_milliseconds, "ex= takes seconds"),
        Mutant(_no_nx, "overwrote a lock someone else held"),
        Mutant(_token_even_when_taken, "it must return None then"),
        Mutant(_get_then_set, "has a race"),
        Mutant(_returns_true, "return the token itself"),
    ),
)


# -- locks.release -------------------------------------------------------------------------------------------
def release(r, name, token):
    script = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then
        return redis.call('DEL', KEYS[1])
    end
    return 0
    """  # compare and delete in one step: nothing can run between the GET and the DEL
    return r.eval(script, 1, f"lock:{name}", token) == 1


def _deletes_unconditionally(r, name, token):
    return r.delete(f"lock:{name}") == 1


def _get_then_del(r, name, token):
    if r.get(f"lock:{name}") != token:
        return False
    r.delete(f"lock:{name}")
    return True


def _returns_script_number(r, name, token):
    script = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
    return r.eval(script, 1, f"lock:{name}", token)


def _key_in_argv(r, name, token):
    script = "if redis.call('GET', ARGV[1]) == ARGV[2] then return redis.call('DEL', ARGV[1]) end return 0"
    return r.eval(script, 0, f"lock:{name}", token) == 1


def _always_true(r, name, token):
    script = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 1"
    return r.eval(script, 1, f"lock:{name}", token) == 1


def check_release(t: Trial) -> str:
    t.admin.set("lock:report", "token-a", px=5000)
    value = t.call("report", "token-a")
    if t.admin.exists("lock:report"):
        t.fail(f"After {t.last_call}, lock:report still exists, though it was held with token-a: delete it.")
    _expect_bool(t, value, True, "after releasing a lock held with its token")
    _expect_keys_declared(t, "lock:report")

    t.admin.set("lock:report", "token-b", px=5000)
    value = t.call("report", "token-a")
    if t.admin.get("lock:report") != "token-b":
        t.fail(
            f"{t.last_call} deleted lock:report, which another worker held with token-b: that worker still "
            "believes it holds the lock, and a third one can now take it too. Delete the key only when it holds "
            "your token."
        )
    if t.pttl("lock:report") == -1:
        t.fail(f"{t.last_call} removed the expiry of another worker's lock; leave it as it was.")
    _expect_bool(t, value, False, "when another worker held the lock")

    t.admin.delete("lock:report")
    value = t.call("report", "token-a")
    t.expect(not t.admin.exists("lock:report"), f"{t.last_call} created lock:report; it should change nothing.")
    _expect_bool(t, value, False, "when the lock did not exist (it had expired)")

    # The lock expires, and another worker takes it, between the learner's GET and their DEL.
    t.admin.set("lock:nightly", "token-a", px=5000)
    state = t.inject_once(["GET"], lambda other: other.set("lock:nightly", "token-c", px=5000))
    value = t.call("nightly", "token-a")
    holder = t.admin.get("lock:nightly")
    if state["fired"]:
        if holder != "token-c":
            t.fail(
                f"{t.last_call} deleted another worker's lock. Your code read lock:nightly and saw its own token; "
                "then the lock expired and another worker took it (token-c) before your DEL, which deleted that "
                "worker's lock. GET then DEL is two steps: compare and delete in one, inside a Lua script "
                "(r.eval(script, 1, key, token)), which Redis runs without anything in between."
            )
        _expect_bool(t, value, False, "when the lock became another worker's during the call")
    else:
        t.expect(holder is None, f"After {t.last_call}, lock:nightly still holds {holder!r}; it should be gone.")
        _expect_bool(t, value, True, "after releasing a lock held with its token")
    return "release deletes the lock only while it holds your token, in one atomic step."


RELEASE = Exercise(
    id="locks.release",
    title="Release only your own lock",
    signature="release(r, name: str, token: str) -> bool",
    task="Delete lock:<name> only if it still holds token, atomically (nothing may happen between the check and "
    "the delete), and return True when this call deleted it, False otherwise.",
    checker=check_release,
    reference=release,
    hints=(
        "Reading the lock and deleting it are two commands, and the lock can change hands in between. Notebook 08 "
        "showed how to make a check and a write one atomic step.",
        "A Lua script runs inside Redis with nothing in between: redis.call('GET', KEYS[1]) == ARGV[1] compares, "
        "and redis.call('DEL', KEYS[1]) deletes (it returns 1). r.eval(script, 1, key, token) runs it.",
        "script = \"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return "
        '0"; return r.eval(script, 1, f"lock:{name}", token) == 1',
    ),
    mutants=(
        Mutant(_deletes_unconditionally, "which another worker held with token-b"),
        Mutant(_get_then_del, "deleted another worker's lock"),
        Mutant(_returns_script_number, "not a bool"),
        Mutant(_key_in_argv, "declared no key"),
        Mutant(_always_true, "it should return False"),
    ),
)


# -- locks.extend --------------------------------------------------------------------------------------------
def extend(r, name, token, ttl_ms):
    script = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then
        return redis.call('PEXPIRE', KEYS[1], ARGV[2])
    end
    return 0
    """  # compare and set the expiry in one step
    return r.eval(script, 1, f"lock:{name}", token, ttl_ms) == 1


def _pexpire_unconditionally(r, name, token, ttl_ms):
    return bool(r.pexpire(f"lock:{name}", ttl_ms))


def _get_then_pexpire(r, name, token, ttl_ms):
    if r.get(f"lock:{name}") != token:
        return False
    return bool(r.pexpire(f"lock:{name}", ttl_ms))


def _adds_to_remaining(r, name, token, ttl_ms):
    script = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then
        return redis.call('PEXPIRE', KEYS[1], redis.call('PTTL', KEYS[1]) + ARGV[2])
    end
    return 0
    """
    return r.eval(script, 1, f"lock:{name}", token, ttl_ms) == 1


def _seconds_in_script(r, name, token, ttl_ms):
    script = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then
        return redis.call('EXPIRE', KEYS[1], ARGV[2])
    end
    return 0
    """
    return r.eval(script, 1, f"lock:{name}", token, ttl_ms) == 1


def _set_again(r, name, token, ttl_ms):
    return bool(r.set(f"lock:{name}", token, px=ttl_ms))


def _extend_returns_number(r, name, token, ttl_ms):
    script = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
    return r.eval(script, 1, f"lock:{name}", token, ttl_ms)


def _expect_pttl(t: Trial, key: str, ttl_ms: int, situation: str) -> None:
    pttl = t.pttl(key)
    if pttl == -1:
        t.fail(f"After {t.last_call} {situation}, {key} has no expiry any more; it should expire in {ttl_ms} ms.")
    if pttl > 100 * ttl_ms:
        t.fail(
            f"After {t.last_call} {situation}, {key} expires in {pttl} ms instead of {ttl_ms}: EXPIRE takes seconds, "
            "PEXPIRE takes milliseconds. Use PEXPIRE (redis.call('PEXPIRE', KEYS[1], ARGV[2]) in a script)."
        )
    if pttl > ttl_ms:
        t.fail(
            f"After {t.last_call} {situation}, {key} expires in {pttl} ms, more than ttl_ms={ttl_ms}: set the "
            "remaining time to ttl_ms (PEXPIRE key ttl_ms), do not add to it."
        )
    if pttl < ttl_ms - 2000:
        t.fail(f"After {t.last_call} {situation}, {key} expires in {pttl} ms; it should be about {ttl_ms} ms.")


def check_extend(t: Trial) -> str:
    t.admin.set("lock:report", "token-a", px=2000)
    value = t.call("report", "token-a", 30_000)
    if t.admin.get("lock:report") != "token-a":
        t.fail(f"After {t.last_call}, lock:report holds {t.admin.get('lock:report')!r}; it should still be token-a.")
    _expect_pttl(t, "lock:report", 30_000, "on a lock held with its token (2 s left)")
    _expect_bool(t, value, True, "after extending a lock held with its token")
    _expect_keys_declared(t, "lock:report")

    t.admin.set("lock:report", "token-a", px=60_000)
    value = t.call("report", "token-a", 5000)
    _expect_pttl(t, "lock:report", 5000, "on a lock held with its token (60 s left)")
    _expect_bool(t, value, True, "after extending a lock held with its token")

    t.admin.set("lock:report", "token-b", px=10_000)
    value = t.call("report", "token-a", 30_000)
    if t.admin.get("lock:report") != "token-b":
        t.fail(
            f"{t.last_call} took over lock:report, which another worker held with token-b: now "
            f"it holds {t.admin.get('lock:report')!r}. Change the expiry only while the lock holds your token."
        )
    if t.pttl("lock:report") > 10_000:
        t.fail(
            f"{t.last_call} extended lock:report, which another worker held with token-b: it expires in "
            f"{t.pttl('lock:report')} ms instead of 10 s or less. Check the token before changing the expiry, in "
            "the same atomic step."
        )
    _expect_bool(t, value, False, "when another worker held the lock")

    t.admin.delete("lock:report")
    value = t.call("report", "token-a", 30_000)
    if t.admin.exists("lock:report"):
        t.fail(
            f"{t.last_call} created lock:report, which had expired: someone else may have taken and finished "
            "with it meanwhile, so an expired lock is lost. Return False instead of taking it again here."
        )
    _expect_bool(t, value, False, "when the lock did not exist (it had expired)")

    # The lock expires, and another worker takes it, between the learner's GET and their PEXPIRE.
    t.admin.set("lock:nightly", "token-a", px=5000)
    state = t.inject_once(["GET", "PTTL", "TTL"], lambda other: other.set("lock:nightly", "token-c", px=1000))
    value = t.call("nightly", "token-a", 30_000)
    if state["fired"]:
        holder, pttl = t.admin.get("lock:nightly"), t.pttl("lock:nightly")
        if holder == "token-c" and pttl > 1000:
            t.fail(
                f"{t.last_call} extended another worker's lock. Your code read lock:nightly and saw its own token; "
                "then the lock expired and another worker took it (token-c, for 1 s) before your PEXPIRE, which "
                f"gave that worker's lock {pttl} ms. Compare and extend in one step, in a Lua script."
            )
        _expect_bool(t, value, False, "when the lock became another worker's during the call")
    else:
        _expect_pttl(t, "lock:nightly", 30_000, "on a lock held with its token")
        _expect_bool(t, value, True, "after extending a lock held with its token")
    return "extend sets the remaining time only while the lock holds your token, in one atomic step."


EXTEND = Exercise(
    id="locks.extend",
    title="Extend your lock while the work goes on",
    signature="extend(r, name: str, token: str, ttl_ms: int) -> bool",
    task="Set the remaining time of lock:<name> to ttl_ms milliseconds only if it still holds token, atomically, "
    "and return True when it did, False otherwise (someone else's lock, or no lock at all, stays as it is).",
    checker=check_extend,
    reference=extend,
    hints=(
        "The same shape as release: a check of the token and a change, which must happen in one step.",
        "In a Lua script, redis.call('PEXPIRE', KEYS[1], ARGV[2]) sets the remaining time in milliseconds and "
        "returns 1. Pass ttl_ms as the second argument: r.eval(script, 1, key, token, ttl_ms).",
        "script = \"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], "
        'ARGV[2]) end return 0"; return r.eval(script, 1, f"lock:{name}", token, ttl_ms) == 1',
    ),
    mutants=(
        Mutant(_pexpire_unconditionally, "which another worker held with token-b"),
        Mutant(_get_then_pexpire, "extended another worker's lock"),
        Mutant(_adds_to_remaining, "do not add to it"),
        Mutant(_seconds_in_script, "EXPIRE takes seconds"),
        Mutant(_set_again, "took over lock:report"),
        Mutant(_extend_returns_number, "not a bool"),
    ),
)


EXERCISES = [ACQUIRE, RELEASE, EXTEND]


QUIZZES = [
    Quiz(
        id="locks.quiz_why_token",
        question=(
            "Worker A holds lock:report (30 s expiry) and stalls for 40 s. Meanwhile B takes the lock. A wakes up and "
            "runs r.delete('lock:report'). What happens?"
        ),
        options=(
            "Nothing: the lock expired, so A's DEL finds no key",
            "A deletes B's lock, so a third worker C can take it while B still works",
            "Redis refuses the DEL because B holds the lock",
        ),
        answer=1,
        explanation=(
            "Redis does not know who owns a key: DEL deletes whatever is there. That is why a lock stores a random "
            "token and is released only if it still holds the releaser's token, checked and deleted in one Lua script."
        ),
    ),
    Quiz(
        id="locks.quiz_fencing",
        question=(
            "A lock with a watchdog that extends it every 10 s protects writes to a storage service. Can a holder "
            "still write after its lock was taken by another worker?"
        ),
        options=(
            "No: the watchdog keeps the lock alive as long as the holder runs",
            "Yes: a long pause (garbage collection, a frozen VM) stops the watchdog too; only a check by the storage "
            "itself, such as a fencing token, stops the late write",
            "Only if Redis restarts",
        ),
        answer=1,
        explanation=(
            "A paused process pauses all its threads, watchdog included; the lock expires, someone else takes it, and "
            "the paused holder wakes up believing it still owns the lock. A fencing token (a number from INCR that "
            "grows with each acquisition) lets the storage refuse writes that carry an older number."
        ),
    ),
]
