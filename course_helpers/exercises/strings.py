"""02-strings-and-keys: atomic counters, tokens that expire, claiming a name only once, and a rate limiter."""

from __future__ import annotations

from typing import Any

import redis

from .._exercise import Exercise, Mutant
from .._probes import call_with_crash_after, expiry_set_separately, refuse_other_types
from .._quiz import Quiz
from .._trial import Trial
from .._wire import format_command, writes_outside_transactions

NOTEBOOK = "02-strings-and-keys"


# -- strings.page_views --------------------------------------------------------------------------------
def incr_page_views(r, page):
    return r.incr(f"pageviews:{page}")


def _read_then_write(r, page):
    key = f"pageviews:{page}"
    count = int(r.get(key) or 0) + 1
    r.set(key, count)
    return count


def _creates_if_missing_else_incr(r, page):
    key = f"pageviews:{page}"
    if not r.exists(key):
        r.set(key, 1)
        return 1
    return r.incr(key)


def _returns_text(r, page):
    key = f"pageviews:{page}"
    r.incr(key)
    return r.get(key)


def _incr_then_read(r, page):
    key = f"pageviews:{page}"
    r.incr(key)
    return int(r.get(key))


def _wrong_key(r, page):
    return r.incr(f"page:{page}")


def _forgets_return(r, page):
    r.incr(f"pageviews:{page}")


def _overwrites_with_one(r, page):
    r.set(f"pageviews:{page}", 1)
    return 1


def _expect_count(t: Trial, returned: Any, key: str, expected: int, before: set[str]) -> None:
    t.expect_key(key, "string", before, 'f"pageviews:{page}"')
    stored = t.admin.get(key)
    if stored != str(expected):
        t.fail(f"After {t.last_call}, {key} holds {stored!r}; it should hold {str(expected)!r} (one more than before).")
    if returned is None:
        t.fail(
            f"{t.last_call} returned None, but it should return the new count {expected}. "
            "Put return in front of it: r.incr(...) already returns the new count."
        )
    if isinstance(returned, (str, bytes)):
        t.fail(
            f"{t.last_call} returned the text {returned!r}, not the int {expected}. Return an int: r.incr(...) "
            "returns the new count as an int already (int(text) converts a str you read with GET)."
        )
    refuse_other_types(t, returned, int, f"it should return the int {expected}.")
    t.expect_equal(returned, expected, f"{t.last_call} returned the wrong count")


def check_page_views(t: Trial) -> str:
    before = t.keys()
    _expect_count(t, t.call("home"), "pageviews:home", 1, before)
    _expect_count(t, t.call("home"), "pageviews:home", 2, before)
    t.admin.set("pageviews:about", 41)
    _expect_count(t, t.call("about"), "pageviews:about", 42, before)

    # Another client's INCR lands between the learner's read (GET) and their write: on an existing counter,
    # and on a missing one (a "create it if missing, else INCR" answer races there).
    for page, start in (("pricing", 10), ("signup", None)):
        key = f"pageviews:{page}"
        if start is not None:
            t.admin.set(key, start)

        def another_visit(other: redis.Redis, key: str = key) -> None:
            other.incr(key)

        state = t.inject_once(["GET", "MGET", "GETEX", "EXISTS"], another_visit)
        returned = t.call(page)
        begin = start or 0
        stored = int(t.admin.get(key) or 0)
        if state["fired"] and stored != begin + 2:
            held = f"held {start}" if start is not None else "did not exist yet (0 visits)"
            t.fail(
                f"{t.last_call} lost an update. {key} {held}; your code read or checked it, then another client "
                f"ran INCR (making it {begin + 1}) before your code wrote, and afterwards the key holds {stored} "
                f"instead of {begin + 2}: that visit vanished. A read followed by a separate write is not atomic. Use "
                "r.incr(key), which reads, adds one and writes inside Redis in a single step (a missing key counts "
                "as 0), and returns the new count."
            )
        _expect_count(t, returned, key, begin + (2 if state["fired"] else 1), before)

    # Another client's INCR lands between the learner's INCR and a separate read of the count.
    t.admin.set("pageviews:blog", 20)
    state = t.inject_once(["INCR", "INCRBY"], lambda other: other.incr("pageviews:blog"))
    returned = t.call("blog")
    if state["fired"] and returned != 21:
        t.fail(
            f"{t.last_call} returned {returned!r}, but its own INCR made the count 21: another client's INCR landed "
            "before your code read the count back, so you returned someone else's number. INCR already returns "
            "the new count; return that value (return r.incr(key)) instead of reading the key again."
        )
    return "incr_page_views counts atomically: no visit is lost, even when other clients count at the same time."


PAGE_VIEWS = Exercise(
    id="strings.page_views",
    title="An atomic page-view counter",
    signature="incr_page_views(r, page: str) -> int",
    task="Add one to the counter pageviews:<page> (a missing counter counts as 0) and return the new count "
    "as an int. Many web servers count at the same time: no visit may be lost.",
    checker=check_page_views,
    reference=incr_page_views,
    hints=(
        "Reading the count, adding one in Python and writing it back is three steps, and another client can "
        "write in between. Redis has a command that does all three inside the server.",
        "INCR key adds one to the integer in a string key (creating it at 0 first) and replies with the new "
        "value: r.incr(key) returns an int.",
        'return r.incr(f"pageviews:{page}")',
    ),
    mutants=(
        Mutant(_read_then_write, "lost an update"),
        Mutant(_creates_if_missing_else_incr, "did not exist yet (0 visits)"),
        Mutant(_overwrites_with_one, "it should hold '2'"),
        Mutant(_returns_text, "returned the text '1'"),
        Mutant(_forgets_return, "returned None"),
        Mutant(_wrong_key, "wrote ['page:home'] instead"),
        Mutant(_incr_then_read, "INCR already returns the new count"),
    ),
)


# -- strings.cache_token --------------------------------------------------------------------------------
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


def _seconds(ms: int) -> str:
    return f"{ms / 1000:g} s" if ms < 10_000 else f"about {round(ms / 1000):,} s"


def _expect_token(t: Trial, token: str, user_id: str, ttl: int, before: set[str]) -> None:
    key = f"token:{token}"
    t.expect_key(key, "string", before, 'f"token:{token}"')
    t.expect_equal(t.admin.get(key), user_id, f"After {t.last_call}, GET {key}")
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
    id="strings.cache_token",
    title="A login token that expires",
    signature="store_token(r, token: str, user_id: str, ttl_seconds: int) -> None",
    task="Store user_id under token:<token> so that it expires after ttl_seconds seconds. Set the value and "
    "its expiry in one atomic command: a token must never exist without its expiry.",
    checker=check_cache_token,
    reference=store_token,
    hints=(
        "SET can attach an expiry to the value it writes, in the same command (the older SETEX does too).",
        "In redis-py: r.set(key, value, ex=seconds); px= would be milliseconds. r.setex(key, seconds, value) "
        "works as well, but redis-py 8 marks it deprecated.",
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
    ),
)


# -- strings.claim_username ---------------------------------------------------------------------------
def claim_username(r, username, user_id):
    return bool(r.set(f"username:{username}", user_id, nx=True))


def _exists_then_set(r, username, user_id):
    key = f"username:{username}"
    if r.exists(key):
        return False
    r.set(key, user_id)
    return True


def _always_overwrites(r, username, user_id):
    r.set(f"username:{username}", user_id)
    return True


def _returns_none_when_taken(r, username, user_id):
    return r.set(f"username:{username}", user_id, nx=True)


def _claim_wrong_key(r, username, user_id):
    return bool(r.set(f"user:{username}", user_id, nx=True))


def _expect_claim(t: Trial, returned: Any, expected: bool, situation: str) -> None:
    if returned is None and expected is False:
        t.fail(
            f"{t.last_call} returned None when {situation}; return False. r.set(..., nx=True) replies None "
            "when it did not set the key, so wrap it: bool(r.set(...)). (None is falsy, but a caller that "
            "tests `is False` or shows the value sees None.)"
        )
    if not isinstance(returned, bool):
        t.fail(
            f"{t.last_call} returned {type(returned).__name__} {returned!r:.60} when {situation}; return the bool "
            f"{expected} (bool(...) converts)."
        )
    if returned is not expected:
        t.fail(f"{t.last_call} returned {returned} when {situation}; it should return {expected}.")


def check_claim_username(t: Trial) -> str:
    before = t.keys()
    first = t.call("ada", "1")
    t.expect_key("username:ada", "string", before, 'f"username:{username}"')
    t.expect_equal(t.admin.get("username:ada"), "1", f"After {t.last_call}, GET username:ada")
    _expect_claim(t, first, True, "nobody held 'ada' yet")

    second = t.call("ada", "2")
    owner = t.admin.get("username:ada")
    if owner != "1":
        t.fail(
            f"{t.last_call} overwrote an existing claim: user 1 already held 'ada', and now username:ada holds "
            f"{owner!r}. Write only when the key does not exist yet: r.set(key, user_id, nx=True)."
        )
    _expect_claim(t, second, False, "user 1 already held 'ada'")

    # Another user claims the name between the learner's check and their write.
    state = t.inject_once(
        ["EXISTS", "GET", "STRLEN", "TYPE", "KEYS", "SCAN"], lambda other: other.set("username:grace", "99")
    )
    third = t.call("grace", "3")
    owner = t.admin.get("username:grace")
    if state["fired"]:
        if owner != "99":
            t.fail(
                f"{t.last_call} has a race. Your code checked that 'grace' was free, then user 99 claimed it "
                f"before your code wrote, and your SET overwrote their claim: username:grace holds {owner!r}, and "
                "both users believe they own the name. Checking and writing must be one step inside Redis: "
                "r.set(key, user_id, nx=True) writes only if the key does not exist, and tells you whether it did."
            )
        _expect_claim(t, third, False, "user 99 claimed 'grace' while your call was running")
    else:
        t.expect_equal(owner, "3", f"After {t.last_call}, GET username:grace")
        _expect_claim(t, third, True, "nobody held 'grace' yet")
    return "claim_username gives each name to exactly one user, even when two try at the same moment."


CLAIM_USERNAME = Exercise(
    id="strings.claim_username",
    title="Claim a username only once",
    signature="claim_username(r, username: str, user_id: str) -> bool",
    task="Give username:<username> the value user_id only if nobody holds it yet, race-free. Return True "
    "if this call claimed the name, False if someone already had it.",
    checker=check_claim_username,
    reference=claim_username,
    hints=(
        "Checking with EXISTS and then writing with SET leaves a gap in which another user can claim the name. "
        "One command can check and write together.",
        "r.set(key, value, nx=True) writes only if the key does not exist (NX = 'not exists'). It returns "
        "True when it wrote and None when it did not; r.setnx(key, value) does the same and returns a bool.",
        'return bool(r.set(f"username:{username}", user_id, nx=True))',
    ),
    mutants=(
        Mutant(_exists_then_set, "has a race"),
        Mutant(_always_overwrites, "overwrote an existing claim"),
        Mutant(_returns_none_when_taken, "returned None"),
        Mutant(_claim_wrong_key, "wrote ['user:ada'] instead"),
    ),
)


# -- strings.rate_limit ----------------------------------------------------------------------------------
def allow_request(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    with r.pipeline() as pipe:  # a transaction: MULTI, both commands, EXEC; they run together or not at all
        pipe.incr(key)  # count this request (a missing counter starts at 0)
        pipe.expire(key, window, nx=True)  # NX: only a new counter gets an expiry, so the window does not move
        count, _ = pipe.execute()
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
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        count, _ = pipe.execute()
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


_LIMIT_EXPIRY_COMMANDS = {"EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"}


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
    if stored != str(count):
        t.fail(
            f"After {t.last_call}, {key} holds {stored!r}; it should hold {str(count)!r}, one per request of "
            f"{user} in this window. Count each request with r.incr(key)."
        )
    pttl = t.pttl(key)
    if pttl == -1:
        t.fail(
            f"After {t.last_call}, {key} has no expiry (TTL -1), so the window never ends: once {user} reaches "
            f"the limit, every later request is refused, forever. Give the counter an expiry of window seconds "
            "when it is created, in the same step as the first INCR: EXPIRE key window NX inside MULTI/EXEC."
        )
    if 0 <= pttl <= window:
        t.fail(
            f"After {t.last_call}, {key} expires in {pttl} ms, not in {window} s: {window} was read as "
            "milliseconds (PEXPIRE or px=). EXPIRE takes seconds."
        )
    if not (window - 2) * 1000 <= pttl <= window * 1000:
        t.fail(
            f"After {t.last_call}, {key} expires in {pttl / 1000:.1f} s; a new window should last window seconds "
            f"({window} s here). Use the window argument: EXPIRE key window NX."
        )


def check_rate_limit(t: Trial) -> str:
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
            "user who keeps sending requests, even refused ones, never gets a fresh window and stays blocked. Set "
            "the expiry only when the counter is new: EXPIRE key window NX (NX: only if the key has no expiry)."
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
            "queue INCR and EXPIRE key window NX in one transaction (with r.pipeline() as pipe: ... "
            "pipe.execute()), or create the counter with r.set(key, 0, ex=window, nx=True) before INCR."
        )
    if not crashed:
        _expect_allowed(t, allowed, True, 1, limit)

    outside = writes_outside_transactions(first_sent, scripts_are_atomic=True)
    names = {command[0].upper() for command in outside if command}
    if names & {"INCR", "INCRBY"} and names & _LIMIT_EXPIRY_COMMANDS:
        sent = " and ".join(
            f"`{format_command(c)}`"
            for c in outside
            if c and c[0].upper() in {"INCR", "INCRBY"} | _LIMIT_EXPIRY_COMMANDS
        )
        t.fail(
            f"{first_call} sent {sent} outside a transaction. Sent together in a pipeline they are still two "
            "commands: if the EXPIRE fails or never arrives, the counter lives forever. Wrap them in MULTI/EXEC "
            "(r.pipeline(), whose transaction=True is the default)."
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
    id="strings.rate_limit",
    title="A fixed-window rate limiter",
    signature="allow_request(r, user_id: str, limit: int, window: int) -> bool",
    task="Count the requests of user_id in the counter ratelimit:<user_id>, which must expire window seconds "
    "after the first request of a window (later requests must not move that end). Set the expiry in the "
    "same atomic step as the first increment: a crash in between must never leave a counter without one. "
    "Return True while the count is <= limit, False after.",
    checker=check_rate_limit,
    reference=allow_request,
    hints=(
        "INCR counts the requests (a missing counter starts at 0) and an expiry ends the window. INCR followed "
        "by a separate EXPIRE leaves a moment in which a crash leaves the counter without an expiry.",
        "A transaction runs both as one step: with r.pipeline() as pipe: pipe.incr(key); "
        "pipe.expire(key, window, nx=True); count, _ = pipe.execute(). NX (Redis 7) sets the expiry only "
        "when the key has none, so later requests do not restart the window.",
        'key = f"ratelimit:{user_id}"; with r.pipeline() as pipe: pipe.incr(key); pipe.expire(key, window, '
        "nx=True); count, _ = pipe.execute()  then  return count <= limit",
    ),
    mutants=(
        Mutant(_expire_when_first, "never reached Redis"),
        Mutant(_counter_without_expiry, "has no expiry"),
        Mutant(_resets_the_window, "restarted the window"),
        Mutant(_one_request_short, "Allow while count <= limit"),
        Mutant(_get_then_set, "lost a request"),
        Mutant(_incr_and_expire_pipelined, "outside a transaction"),
    ),
)


EXERCISES = [PAGE_VIEWS, CACHE_TOKEN, CLAIM_USERNAME, RATE_LIMIT]


QUIZZES = [
    Quiz(
        id="strings.quiz_set_clears_ttl",
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
        id="strings.quiz_lost_update",
        question=(
            "Two web servers run `n = int(r.get(k)); r.set(k, n + 1)` at the same moment on a counter at 5. What can k "
            "end at?"
        ),
        options=(
            "Always 7",
            "6 or 7, depending on timing",
            "It raises an error",
        ),
        answer=1,
        explanation=(
            "Both may read 5 before either writes, and both then write 6: one update is lost. r.incr(k) never loses "
            "one."
        ),
    ),
]
