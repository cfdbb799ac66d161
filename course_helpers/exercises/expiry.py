"""03-expiry-and-rate-limits: a token that expires, and a fixed-window rate limiter built in one atomic step."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._exercise import Exercise, Mutant
from .._probes import EXPIRE_COMMANDS, call_with_crash_after, check_on_servers_before_7, expiry_set_separately
from .._quiz import Quiz
from .._trial import Trial
from .._wire import Command, format_command, writes_outside_transactions

NOTEBOOK = "03-expiry-and-rate-limits"

# Both exercises (and a quiz) began in 02-strings-and-keys; their learners' progress follows them here.
FORMER_IDS = {
    "strings.cache_token": "expiry.cache_token",
    "strings.rate_limit": "expiry.rate_limit",
    "strings.quiz_set_clears_ttl": "expiry.quiz_set_clears_ttl",
}


# -- expiry.cache_token ---------------------------------------------------------------------------------
def store_token(r, token, user_id, ttl_seconds):
    r.set(f"token:{token}", user_id, ex=ttl_seconds)


def _no_expiry(r, token, user_id, ttl_seconds):
    r.set(f"token:{token}", user_id)


def _set_then_expire(r, token, user_id, ttl_seconds):
    r.set(f"token:{token}", user_id)
    r.expire(f"token:{token}", ttl_seconds)


def _set_then_expire_pipelined(r, token, user_id, ttl_seconds):
    pipe = r.pipeline(transaction=False)
    pipe.set(f"token:{token}", user_id)
    pipe.expire(f"token:{token}", ttl_seconds)
    pipe.execute()


def _milliseconds(r, token, user_id, ttl_seconds):
    r.set(f"token:{token}", user_id, px=ttl_seconds)


def _seconds_times_1000(r, token, user_id, ttl_seconds):
    r.set(f"token:{token}", user_id, ex=ttl_seconds * 1000)


def _fixed_ttl(r, token, user_id, ttl_seconds):
    r.set(f"token:{token}", user_id, ex=3600)


def _token_wrong_key(r, token, user_id, ttl_seconds):
    r.set(token, user_id, ex=ttl_seconds)


def _setex_arguments_swapped(r, token, user_id, ttl_seconds):
    r.setex(f"token:{token}", user_id, ttl_seconds)  # setex(name, time, value): the value went where the time goes


def _seconds(ms: int) -> str:
    return f"{ms / 1000:g} s" if ms < 10_000 else f"about {round(ms / 1000):,} s"


def _expect_token(t: Trial, token: str, user_id: str, ttl: int, before: set[str]) -> None:
    key = f"token:{token}"
    t.expect_key(key, "string", before, 'f"token:{token}"')
    value = t.admin.get(key)
    if value == str(ttl) and value != user_id:
        t.fail(
            f"After {t.last_call}, {key} holds {value!r} (the number of seconds) and expires in {t.pttl(key)} ms: "
            "the value and the time changed places. SETEX takes the seconds before the value: "
            "r.setex(key, ttl_seconds, user_id); or write r.set(key, user_id, ex=ttl_seconds), which names them."
        )
    t.expect_equal(value, user_id, f"After {t.last_call}, GET {key}")
    pttl = t.pttl(key)
    wanted = ttl * 1000
    if pttl == -1:
        t.fail(
            f"After {t.last_call}, {key} has no expiry (TTL -1), so the token would stay valid forever. Give it "
            f"{ttl} s in the same command: r.set(key, user_id, ex=ttl_seconds)."
        )
    if pttl <= ttl:
        t.fail(
            f"After {t.last_call}, {key} expires in {pttl} ms, not in {ttl} s: your code gave the number of seconds "
            "to an option that counts milliseconds (px=, PSETEX, PEXPIRE). Use ex= (seconds), or multiply by 1000."
        )
    if pttl > wanted * 100:
        t.fail(
            f"After {t.last_call}, {key} expires in {_seconds(pttl)} instead of {ttl} s: your code multiplied by "
            "1000 for an option that counts seconds already (ex=, SETEX, EXPIRE). Pass ttl_seconds as it is."
        )
    if not wanted - 2000 <= pttl <= wanted:
        t.fail(
            f"After {t.last_call}, {key} expires in {_seconds(pttl)}; it should expire in {ttl} s. Use the "
            "ttl_seconds argument rather than a fixed number."
        )


def check_cache_token(t: Trial) -> str:
    before = t.keys()
    t.call("abc123", "42", 3600)
    first_call, first_sent = t.last_call, t.sent
    _expect_token(t, "abc123", "42", 3600, before)
    t.call("xyz789", "7", 90)
    _expect_token(t, "xyz789", "7", 90, before)

    # The network drops right after the learner's SET: a separate EXPIRE would never arrive.
    crashed, _ = call_with_crash_after(t, ["SET"], "def456", "9", 30)
    if crashed and t.pttl("token:def456") == -1:
        t.fail(
            f"During {t.last_call} the network dropped just after your SET (the check simulated it), so your "
            "EXPIRE never reached Redis and token:def456 now lives forever. SET followed by EXPIRE is two "
            "commands, and anything can happen between them. Set the value and its expiry in one command: "
            "r.set(key, user_id, ex=ttl_seconds)."
        )
    if not crashed:
        _expect_token(t, "def456", "9", 30, before)

    if expiry_set_separately(first_sent):
        t.fail(
            f"{first_call} sent SET and then a separate EXPIRE. Sent together in a pipeline they are still two "
            "commands: another client can read the token while it has no expiry, and if the EXPIRE fails the "
            "token never expires. Set the value and its expiry in one command: r.set(key, user_id, ex=ttl_seconds)."
        )
    return "store_token sets the token and its expiry in one atomic step, in seconds as asked."


CACHE_TOKEN = Exercise(
    id="expiry.cache_token",
    title="A login token that expires",
    signature="store_token(r, token: str, user_id: str, ttl_seconds: int) -> None",
    task="Store user_id under token:<token> so that it expires after ttl_seconds seconds. Set the value and "
    "its expiry in one atomic step (one command can do both): a token must never exist without its expiry.",
    checker=check_cache_token,
    reference=store_token,
    hints=(
        "SET can attach an expiry to the value it writes, in the same command (the older SETEX does too).",
        "In redis-py: r.set(key, value, ex=seconds); px= would be milliseconds. r.setex(key, seconds, value) "
        "works as well (seconds before the value), but redis-py 8 prints a DeprecationWarning for it.",
        'r.set(f"token:{token}", user_id, ex=ttl_seconds)',
    ),
    mutants=(
        Mutant(_no_expiry, "has no expiry"),
        Mutant(_set_then_expire, "never reached Redis"),
        Mutant(_set_then_expire_pipelined, "sent SET and then a separate EXPIRE"),
        Mutant(_milliseconds, "counts milliseconds"),
        Mutant(_seconds_times_1000, "counts seconds already"),
        Mutant(_fixed_ttl, "Use the ttl_seconds argument"),
        Mutant(_token_wrong_key, "wrote ['abc123'] instead"),
        Mutant(_setex_arguments_swapped, "SETEX takes the seconds before the value"),
    ),
)


# -- expiry.rate_limit ----------------------------------------------------------------------------------
def allow_request(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    with r.pipeline() as pipe:  # a transaction: MULTI, SET, INCR, EXEC; no other command runs in between
        pipe.set(key, 0, ex=window, nx=True)  # a new window: the counter is created at 0 with its expiry
        pipe.incr(key)  # count this request; INCR keeps the expiry the counter has
        _, count = pipe.execute()
    return count <= limit


def _expire_when_first(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    count = r.incr(key)
    if count == 1:
        r.expire(key, window)
    return count <= limit


def _counter_without_expiry(r, user_id, limit, window):
    return r.incr(f"ratelimit:{user_id}") <= limit


def _resets_the_window(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    with r.pipeline() as pipe:
        pipe.incr(key)
        pipe.expire(key, window)
        count, _ = pipe.execute()
    return count <= limit


def _one_request_short(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    with r.pipeline() as pipe:
        pipe.set(key, 0, ex=window, nx=True)
        pipe.incr(key)
        _, count = pipe.execute()
    return count < limit


def _get_then_set(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    count = int(r.get(key) or 0) + 1
    if count == 1:
        r.set(key, count, ex=window)
    else:
        r.set(key, count, keepttl=True)
    return count <= limit


def _incr_and_expire_pipelined(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    with r.pipeline(transaction=False) as pipe:
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        count, _ = pipe.execute()
    return count <= limit


def _set_nx_and_incr_pipelined(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    with r.pipeline(transaction=False) as pipe:
        pipe.set(key, 0, ex=window, nx=True)
        pipe.incr(key)
        _, count = pipe.execute()
    return count <= limit


def _set_without_nx(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    with r.pipeline() as pipe:
        pipe.set(key, 0, ex=window)
        pipe.incr(key)
        _, count = pipe.execute()
    return count <= limit


def _set_nx_then_incr_separately(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    r.set(key, 0, ex=window, nx=True)
    return r.incr(key) <= limit


_COUNTING = frozenset({"INCR", "INCRBY"})


def _plain_set_sent(sent: Iterable[Command]) -> bool:
    """True when a SET without NX was sent: it overwrites a running counter."""
    return any(c and c[0].upper() == "SET" and "NX" not in {w.upper() for w in c[3:]} for c in sent)


def _expect_allowed(t: Trial, returned: Any, expected: bool, count: int, limit: int) -> None:
    if not isinstance(returned, bool):
        t.fail(
            f"{t.last_call} returned {type(returned).__name__} {returned!r:.60}; return the bool {expected} "
            f"(this is request number {count} of the window, and the limit is {limit}). A comparison such as "
            "count <= limit gives a bool."
        )
    if returned is expected:
        return
    if expected and count == limit:
        t.fail(
            f"{t.last_call} returned False for request number {count} of the window, but the limit is {limit}: "
            f"{limit} requests are allowed per window, so request number {count} is still in. Allow while "
            "count <= limit (not < limit)."
        )
    if expected:
        t.fail(
            f"{t.last_call} returned False for request number {count} of the window; with limit={limit} it "
            "should be allowed (True)."
        )
    t.fail(
        f"{t.last_call} returned True for request number {count} of the window, but limit={limit}: refuse it "
        "(False). Count every request with INCR and allow only while the count is <= limit."
    )


def _expect_counter(t: Trial, key: str, count: int, window: int, before: set[str], user: str) -> None:
    t.expect_key(key, "string", before, 'f"ratelimit:{user_id}"')
    stored = t.admin.get(key)
    if stored != str(count) and count > 1 and stored in ("0", "1") and _plain_set_sent(t.sent):
        t.fail(
            f"After {t.last_call}, {key} holds {stored!r}; it should hold {str(count)!r}, one per request of {user} "
            "in this window. Your SET without NX wrote 0 over the running counter, so the count started again at "
            "every request. Pass nx=True: SET ... NX creates the counter only when it is missing."
        )
    if stored != str(count):
        t.fail(
            f"After {t.last_call}, {key} holds {stored!r}; it should hold {str(count)!r}, one per request of "
            f"{user} in this window. Count each request with r.incr(key)."
        )
    pttl = t.pttl(key)
    if pttl == -1:
        t.fail(
            f"After {t.last_call}, {key} has no expiry (TTL -1), so the window never ends: once {user} reaches "
            "the limit, every later request is refused, forever. Give the counter an expiry of window seconds "
            "when it is created, in the same atomic step as counting: in one transaction, SET key 0 EX window NX "
            "and then INCR (on Redis 7, INCR and then EXPIRE key window NX works too)."
        )
    if 0 <= pttl <= window:
        t.fail(
            f"After {t.last_call}, {key} expires in {pttl} ms, not in {window} s: {window} was read as "
            "milliseconds (PEXPIRE or px=). EX and EXPIRE take seconds."
        )
    if not (window - 2) * 1000 <= pttl <= window * 1000:
        t.fail(
            f"After {t.last_call}, {key} expires in {pttl / 1000:.1f} s; a new window should last window seconds "
            f"({window} s here). Use the window argument: SET key 0 EX window NX."
        )


def check_rate_limit(t: Trial) -> str:
    # EXPIRE ... NX is Redis 7; an older checking server refuses that right answer ("wrong number of arguments").
    return check_on_servers_before_7(
        t,
        _check_rate_limit,
        "NX, XX, GT and LT options",
        "Write it the way every server accepts (in one transaction: SET key 0 EX window NX, then INCR)",
    )


def _check_rate_limit(t: Trial) -> str:
    before = t.keys()
    key, limit, window = "ratelimit:ada", 3, 60
    first_call, first_sent = "", []
    for count in range(1, limit + 3):
        allowed = t.call("ada", limit, window)
        if count == 1:
            first_call, first_sent = t.last_call, t.sent
        if count <= limit:
            _expect_counter(t, key, count, window, before, "ada")
        _expect_allowed(t, allowed, count <= limit, count, limit)

    # Time passes: the window has 5 s left. A request (refused) must not restart it.
    t.admin.expire(key, 5)
    allowed = t.call("ada", limit, window)
    pttl = t.pttl(key)
    if pttl == -1:
        t.fail(
            f"Before {t.last_call}, {key} had 5 s of its window left (the check lowered its TTL, standing in for "
            "55 s passing); afterwards it has no expiry at all, so the window never ends. Never remove the "
            "counter's expiry: INCR keeps it, a plain SET removes it."
        )
    if pttl > 5000:
        t.fail(
            f"Before {t.last_call}, {key} had 5 s of its window left (the check lowered its TTL, standing in for "
            f"55 s passing); afterwards it expires in {pttl / 1000:.0f} s: your code restarted the window. Then a "
            "user who keeps sending requests, even refused ones, never gets a fresh window and stays blocked. Give "
            "the counter its expiry only when it is created: SET key 0 EX window NX does nothing to a counter that "
            "exists (on Redis 7, EXPIRE key window NX likewise leaves an expiry alone)."
        )
    _expect_allowed(t, allowed, False, limit + 3, limit)

    # The window ends: Redis deletes the counter, and the next request starts a new window.
    t.admin.delete(key)
    allowed = t.call("ada", limit, window)
    _expect_counter(t, key, 1, window, before, "ada")
    _expect_allowed(t, allowed, True, 1, limit)

    # Another user, another limit and window.
    for count, expected in ((1, True), (2, False)):
        allowed = t.call("bob", 1, 10)
        if count == 1:
            _expect_counter(t, "ratelimit:bob", 1, 10, before, "bob")
        _expect_allowed(t, allowed, expected, count, 1)

    # The network drops right after the learner's INCR: an expiry sent in a later command never arrives.
    crashed, allowed = call_with_crash_after(t, ["INCR", "INCRBY"], "cy", limit, window)
    if crashed and t.admin.exists("ratelimit:cy") and t.pttl("ratelimit:cy") == -1:
        t.fail(
            f"During {t.last_call} the network dropped just after your INCR (the check simulated it), so the "
            "EXPIRE you send afterwards never reached Redis: ratelimit:cy is a counter without an expiry, and "
            "once cy reaches the limit they are refused forever. Make the increment and the expiry one step: "
            "in one transaction (with r.pipeline() as pipe: ... pipe.execute()), create the counter with "
            "SET key 0 EX window NX and then INCR it."
        )
    if not crashed:
        _expect_allowed(t, allowed, True, 1, limit)

    # The counter runs out between two separate commands: the learner's SET ... NX found it still there (and did
    # nothing), then it expired (the check deletes it, standing in for its last millisecond) before their INCR.
    t.admin.set("ratelimit:eve", 2, ex=window)
    ran_out = t.inject_once(["SET"], lambda other: other.delete("ratelimit:eve"))
    allowed = t.call("eve", limit, window)
    if ran_out["fired"] and t.admin.exists("ratelimit:eve") and t.pttl("ratelimit:eve") == -1:
        t.fail(
            f"During {t.last_call}, ratelimit:eve ran out between your SET ... NX (which found the counter still "
            "there, so it did nothing) and your INCR: the check deleted it at that moment, as its last millisecond "
            "passing would. INCR then created a new counter without an expiry, and eve is blocked forever once "
            "they reach the limit. Send SET ... NX and INCR in one transaction (with r.pipeline() as pipe: ...), "
            "where no time passes for other clients between them."
        )
    _expect_allowed(t, allowed, True, 1 if ran_out["fired"] else 3, limit)

    outside = writes_outside_transactions(first_sent, scripts_are_atomic=True)
    names = {command[0].upper() for command in outside if command}
    if names & _COUNTING and names & (EXPIRE_COMMANDS | {"SET"}):
        sent = " and ".join(
            f"`{format_command(c)}`" for c in outside if c and c[0].upper() in _COUNTING | EXPIRE_COMMANDS | {"SET"}
        )
        risk = (
            "if the EXPIRE fails or never arrives, the counter lives forever"
            if names & EXPIRE_COMMANDS
            else "if the counter runs out between the SET and the INCR, INCR creates one without an expiry"
        )
        t.fail(
            f"{first_call} sent {sent} outside a transaction. Sent together in a pipeline they are still separate "
            f"commands: {risk}. Wrap them in MULTI/EXEC (r.pipeline(), whose transaction=True is the default)."
        )

    # Another client's request lands between the learner's read and their write.
    t.admin.set("ratelimit:dee", 1, ex=window)
    state = t.inject_once(["GET", "MGET", "EXISTS", "TTL", "PTTL", "STRLEN"], lambda other: other.incr("ratelimit:dee"))
    allowed = t.call("dee", 5, window)
    stored = t.admin.get("ratelimit:dee")
    if state["fired"] and stored != "3":
        t.fail(
            f"{t.last_call} lost a request. ratelimit:dee held 1; your code read it, then another request of dee "
            f"(the check's INCR) made it 2 before your code wrote, and afterwards it holds {stored!r} instead of "
            "'3'. Two requests were counted as one, so users who send requests in parallel get past the limit. "
            "Count with INCR, which reads, adds and writes inside Redis in one step."
        )
    _expect_allowed(t, allowed, True, 3 if state["fired"] else 2, 5)
    return (
        "allow_request counts each window with INCR, gives a new counter its expiry in the same atomic step, and "
        "never moves the end of a window."
    )


RATE_LIMIT = Exercise(
    id="expiry.rate_limit",
    title="A fixed-window rate limiter",
    signature="allow_request(r, user_id: str, limit: int, window: int) -> bool",
    task="Count the requests of user_id in the counter ratelimit:<user_id>, which must expire window seconds "
    "after the first request of a window (later requests must not move that end). Give the counter its expiry "
    "in the same atomic step as counting: a crash must never leave a counter without one. "
    "Return True while the count is <= limit, False after.",
    checker=check_rate_limit,
    reference=allow_request,
    hints=(
        "INCR counts the requests (a missing counter starts at 0), and an expiry ends the window. INCR followed "
        "by a separate EXPIRE leaves a moment in which a crash leaves the counter without an expiry, and an "
        "expiry set again on every request keeps moving the end of the window.",
        "Create the counter together with its expiry, and only when it is missing: r.set(key, 0, ex=window, "
        "nx=True) does nothing to a counter that exists. INCR then counts and keeps that expiry. Send the two "
        "in one transaction: with r.pipeline() as pipe: ..., then pipe.execute() returns both replies.",
        'key = f"ratelimit:{user_id}"; with r.pipeline() as pipe: pipe.set(key, 0, ex=window, nx=True); '
        "pipe.incr(key); _, count = pipe.execute()  then  return count <= limit",
    ),
    mutants=(
        Mutant(_expire_when_first, "never reached Redis"),
        Mutant(_counter_without_expiry, "has no expiry"),
        Mutant(_resets_the_window, "restarted the window"),
        Mutant(_one_request_short, "Allow while count <= limit"),
        Mutant(_get_then_set, "lost a request"),
        Mutant(_incr_and_expire_pipelined, "outside a transaction"),
        Mutant(_set_nx_and_incr_pipelined, "INCR creates one without an expiry"),
        Mutant(_set_without_nx, "Your SET without NX wrote 0 over the running counter"),
        Mutant(_set_nx_then_incr_separately, "ran out between your SET ... NX"),
    ),
)


EXERCISES = [CACHE_TOKEN, RATE_LIMIT]


QUIZZES = [
    Quiz(
        id="expiry.quiz_set_clears_ttl",
        question=(
            "session:42 was written with ex=1800. Later your code runs r.set('session:42', new_value). What is its TTL "
            "now?"
        ),
        options=(
            "Still about 1800 s",
            "-1: the plain SET removed the expiry",
            "-2: the key was deleted",
        ),
        answer=1,
        explanation="SET replaces the value and forgets the expiry unless you pass ex= (or keepttl=True) again.",
    ),
    Quiz(
        id="expiry.quiz_window_restart",
        question=(
            "A rate limiter (limit 100 per 60 s) sends INCR and then EXPIRE key 60, without NX, in one transaction "
            "on every request. A script sends one request every 10 seconds, for hours. What happens to it?"
        ),
        options=(
            "Its counter starts again every minute, so it is never refused",
            "Its counter never runs out: from request 101 (after about 17 minutes) it is refused, for good",
            "Redis refuses the second EXPIRE, because the key already has an expiry",
        ),
        answer=1,
        explanation=(
            "Each EXPIRE pushes the end of the window 60 s later, and the next request comes after 10 s, so the window "
            "never ends and the count only grows. Give the counter its expiry only when it is created: "
            "SET key 0 EX 60 NX (or, on Redis 7, EXPIRE key 60 NX)."
        ),
    ),
]
