"""02-strings-and-counters: an atomic counter, and claiming a name only once."""

from __future__ import annotations

from typing import Any

import redis

from .._exercise import Exercise, Mutant
from .._probes import refuse_other_types
from .._quiz import Quiz
from .._trial import Trial

NOTEBOOK = "02-strings-and-counters"


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


EXERCISES = [PAGE_VIEWS, CLAIM_USERNAME]


QUIZZES = [
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
