"""06-sets: tags two posts share, unique visitors per day that expire, and friend suggestions from set algebra."""

from __future__ import annotations

from typing import Any

import redis

from .._exercise import Exercise, Mutant
from .._probes import (
    EXPIRE_COMMANDS,
    call_with_crash_after,
    conditional_expire_refused,
    refuse_none,
    refuse_other_types,
    write_and_expiry_apart,
)
from .._quiz import Quiz
from .._trial import LearnerRaised, Trial
from .._wire import format_command

NOTEBOOK = "06-sets"

WEEK_SECONDS = 7 * 24 * 3600

# Commands that read a set: used to say which keys the learner's code looked at.
_SET_READS = {"SINTER", "SUNION", "SDIFF", "SMEMBERS", "SISMEMBER", "SMISMEMBER", "SSCAN", "SCARD", "SINTERCARD"}


def _shown(value: Any) -> str:
    """A value as the learner would print it; sets sorted so that messages read the same every time."""
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(repr(v) for v in sorted(value, key=str)) + "}" if value else "set()"
    return repr(value)


def _keys_read(t: Trial) -> list[str]:
    """The key arguments of the set-reading commands the learner's last call sent."""
    keys: list[str] = []
    for command in t.sent:
        name = command[0].upper() if command else ""
        if name == "SINTERCARD":
            keys += list(command[2 : 2 + int(command[1])]) if len(command) > 1 and command[1].isdigit() else []
        elif name in ("SISMEMBER", "SMISMEMBER", "SSCAN", "SCARD", "SMEMBERS"):
            keys += list(command[1:2])
        elif name in _SET_READS:
            keys += list(command[1:])
    return list(dict.fromkeys(keys))


def _expect_a_set(t: Trial, result: Any, expected: set[str]) -> None:
    """Fail unless result is a set (or frozenset); lists and None get their own message."""
    refuse_none(t, result, "return the set of tags, e.g. the set that r.sinter(...) gives back.")
    if isinstance(result, (list, tuple)):
        t.fail(
            f"{t.last_call} returned a {type(result).__name__} {result!r:.80}, but the exercise asks for a set "
            f"(expected {_shown(expected)}): a set has no order and no duplicates, which is what a group of tags "
            "is. r.sinter(...) already returns a set; if you built a list, wrap it in set(...)."
        )
    refuse_other_types(t, result, (set, frozenset), "it should return a set of str.")


# -- sets.common_tags ----------------------------------------------------------------------------------
def common_tags(r, post_a, post_b):
    return r.sinter(f"tags:post:{post_a}", f"tags:post:{post_b}")


def _union(r, post_a, post_b):
    return r.sunion(f"tags:post:{post_a}", f"tags:post:{post_b}")


def _returns_a_list(r, post_a, post_b):
    return sorted(r.sinter(f"tags:post:{post_a}", f"tags:post:{post_b}"))


def _first_post_only(r, post_a, post_b):
    return r.smembers(f"tags:post:{post_a}")


def _wrong_key(r, post_a, post_b):
    return r.sinter(f"tags:{post_a}", f"tags:{post_b}")


def _stores_into_tmp(r, post_a, post_b):
    r.sinterstore("tmp", [f"tags:post:{post_a}", f"tags:post:{post_b}"])
    return r.smembers("tmp")


def _no_scratch_left(t: Trial, own_prefix: str) -> None:
    """Fail when the learner's call left a key without an expiry outside the exercise's own data."""
    present = t.keys()
    lasting = sorted(key for key in present if not key.startswith(own_prefix) and t.pttl(key) < 0)
    if lasting:
        t.fail(
            f"{t.last_call} returned the right tags but left the key(s) {lasting} behind, with no expiry: scratch "
            "data that stays in memory for good (and a fixed name such as 'tmp' is shared by every caller, so two "
            "calls at once overwrite each other's result). SINTER returns the intersection without storing it; if "
            "you do store one (SINTERSTORE), use a key of your own and delete it when you are done."
        )


POSTS = {
    "101": {"python", "redis", "tutorial", "caching"},
    "102": {"redis", "caching", "docker", "ops"},
    "103": {"rust", "wasm"},
}


def check_common_tags(t: Trial) -> str:
    for post, tags in POSTS.items():
        t.admin.sadd(f"tags:post:{post}", *tags)
    cases = [("101", "102"), ("102", "101"), ("101", "103"), ("101", "999"), ("998", "999")]
    for post_a, post_b in cases:
        tags_a, tags_b = POSTS.get(post_a, set()), POSTS.get(post_b, set())
        expected = tags_a & tags_b
        result = t.call(post_a, post_b)
        _expect_a_set(t, result, expected)
        if result == expected:
            _no_scratch_left(t, "tags:post:")
            continue
        extra, missing = set(result) - expected, expected - set(result)
        if extra and result in (tags_a, tags_b):
            whose = post_a if result == tags_a else post_b
            other = post_b if whose == post_a else post_a
            t.fail(
                f"{t.last_call} returned {_shown(result)}: every tag of post {whose} only, including "
                f"{_shown(extra)} that post {other} does not have. Read both sets and keep the tags that are in "
                f"both: r.sinter(key_a, key_b). Expected {_shown(expected)}."
            )
        if extra and extra <= tags_a | tags_b:
            t.fail(
                f"{t.last_call} returned {_shown(result)}, which includes {_shown(extra)}: tags that only one of "
                f"the two posts has. That is the union (SUNION); tags on both posts are the intersection (SINTER). "
                f"Expected {_shown(expected)}."
            )
        if missing and not result:
            read = _keys_read(t)
            absent = [key for key in read if not t.admin.exists(key)]
            if read and absent:
                t.fail(
                    f"{t.last_call} returned set(), expected {_shown(expected)}: your code read {absent}, which "
                    f"do not exist. The tags of post {post_a} are in the set tags:post:{post_a}: build the key "
                    'with f"tags:post:{post_a}".'
                )
        t.fail(f"{t.last_call}: expected {_shown(expected)}, got {_shown(result)}.")
    return (
        "common_tags returns the intersection as a set, whichever post comes first, and an empty set when a post "
        "has no tags."
    )


COMMON_TAGS = Exercise(
    id="sets.common_tags",
    title="Tags two posts have in common",
    signature="common_tags(r, post_a: str, post_b: str) -> set[str]",
    task="Return the set of tags found in both tags:post:{post_a} and tags:post:{post_b} (an empty set when "
    "either post has no tags).",
    checker=check_common_tags,
    reference=common_tags,
    hints=(
        "Tags in both sets are the intersection of the two sets.",
        'The intersection command is SINTER; build each key with an f-string such as f"tags:post:{post_a}".',
        'return r.sinter(f"tags:post:{post_a}", f"tags:post:{post_b}")  (it already returns a set)',
    ),
    mutants=(
        Mutant(_union, "That is the union (SUNION)"),
        Mutant(_returns_a_list, "returned a list"),
        Mutant(_first_post_only, "every tag of post 101 only"),
        Mutant(_wrong_key, "which do not exist"),
        Mutant(_stores_into_tmp, "left the key(s) ['tmp'] behind"),
    ),
)


# -- sets.record_visitor -------------------------------------------------------------------------------
def record_visitor(r, page, day, visitor):
    key = f"visitors:{page}:{day}"
    with r.pipeline() as pipe:  # MULTI ... EXEC: the set never exists without its expiry
        pipe.sadd(key, visitor)  # a set keeps each visitor once
        pipe.expire(key, 7 * 24 * 3600)  # seconds: keep each day's set for a week after its last visit
        pipe.scard(key)  # the size of the set, counted by Redis
        _, _, count = pipe.execute()
    return count


def _sadd_then_expire(r, page, day, visitor):
    key = f"visitors:{page}:{day}"
    r.sadd(key, visitor)
    r.expire(key, 7 * 24 * 3600)
    return r.scard(key)


def _pipeline_without_transaction(r, page, day, visitor):
    key = f"visitors:{page}:{day}"
    with r.pipeline(transaction=False) as pipe:
        pipe.sadd(key, visitor)
        pipe.expire(key, 7 * 24 * 3600)
        pipe.scard(key)
        _, _, count = pipe.execute()
    return count


def _counts_visits_in_a_list(r, page, day, visitor):
    key = f"visitors:{page}:{day}"
    r.rpush(key, visitor)
    r.expire(key, 7 * 24 * 3600)
    return r.llen(key)


def _returns_what_sadd_returns(r, page, day, visitor):
    key = f"visitors:{page}:{day}"
    added = r.sadd(key, visitor)
    r.expire(key, 7 * 24 * 3600)
    return added


def _downloads_every_member(r, page, day, visitor):
    key = f"visitors:{page}:{day}"
    r.sadd(key, visitor)
    r.expire(key, 7 * 24 * 3600)
    return len(r.smembers(key))


def _never_expires(r, page, day, visitor):
    key = f"visitors:{page}:{day}"
    r.sadd(key, visitor)
    return r.scard(key)


def _expiry_in_milliseconds(r, page, day, visitor):
    key = f"visitors:{page}:{day}"
    r.sadd(key, visitor)
    r.pexpire(key, 7 * 24 * 3600)
    return r.scard(key)


def _expiry_set_once_with_nx(r, page, day, visitor):
    key = f"visitors:{page}:{day}"
    r.sadd(key, visitor)
    r.expire(key, 7 * 24 * 3600, nx=True)
    return r.scard(key)


def _expiry_only_for_a_new_visitor(r, page, day, visitor):
    key = f"visitors:{page}:{day}"
    if r.sadd(key, visitor):
        r.expire(key, 7 * 24 * 3600)
    return r.scard(key)


def _expiry_only_without_ttl(r, page, day, visitor):
    key = f"visitors:{page}:{day}"
    r.sadd(key, visitor)
    if r.ttl(key) == -1:
        r.expire(key, 7 * 24 * 3600)
    return r.scard(key)


def _expiry_only_for_a_new_set(r, page, day, visitor):
    key = f"visitors:{page}:{day}"
    if r.sadd(key, visitor) and r.scard(key) == 1:
        r.expire(key, 604800)
    return r.scard(key)


def _expires_before_adding(r, page, day, visitor):
    key = f"visitors:{page}:{day}"
    r.expire(key, 7 * 24 * 3600)
    r.sadd(key, visitor)
    return r.scard(key)


def _check_expiry(t: Trial, key: str) -> None:
    pttl = t.pttl(key)
    week_ms = WEEK_SECONDS * 1000
    if pttl == -1:
        names = t.recorder.names
        expire_first = any(n in names for n in ("EXPIRE", "PEXPIRE")) and "SADD" in names
        if expire_first:
            first_expire = min(names.index(n) for n in ("EXPIRE", "PEXPIRE") if n in names)
            expire_first = first_expire < names.index("SADD")
        if expire_first:
            t.fail(
                f"After {t.last_call}, {key} has no expiry: your EXPIRE ran before SADD, when the key did not "
                "exist yet, and EXPIRE on a missing key does nothing. Add the visitor first, then set the expiry."
            )
        t.fail(
            f"After {t.last_call}, {key} has no expiry, so one set per page per day would stay in memory forever. "
            f"Set an expiry of 7 days after adding, in the same transaction: pipe.expire(key, {WEEK_SECONDS})."
        )
    if 0 <= pttl <= WEEK_SECONDS:
        t.fail(
            f"After {t.last_call}, {key} expires in {pttl} ms (about {pttl / 60_000:.0f} minutes), not in 7 days: "
            f"{WEEK_SECONDS} was read as milliseconds (PEXPIRE or px=). r.expire(key, {WEEK_SECONDS}) takes seconds."
        )
    if not week_ms - 60_000 <= pttl <= week_ms:
        t.fail(
            f"After {t.last_call}, {key} expires in {pttl / 1000:.0f} s; it should expire 7 days "
            f"({WEEK_SECONDS} s) after the visit: r.expire(key, {WEEK_SECONDS})."
        )


def _visit(t: Trial, page: str, day: str, visitor: str) -> Any:
    """t.call, where EXPIRE's NX/XX/GT/LT options on a server older than 7.0 get a sentence, not a raw error."""
    try:
        return t.call(page, day, visitor)
    except LearnerRaised as raised:
        refused = conditional_expire_refused(t, raised)
        if refused:
            version = ".".join(map(str, t.server_version))
            t.fail(
                f"{t.last_call} sent `{format_command(refused)}`, and this Redis ({version}) answered with an "
                f"error ({raised.__context__}): EXPIRE's NX, XX, GT and LT options need Redis 7.0. Here you need "
                f"none of them: refresh the expiry on every visit with a plain r.expire(key, {WEEK_SECONDS})."
            )
        raise


def check_record_visitor(t: Trial) -> str:
    page, day = "home", "2024-05-01"
    key = f"visitors:{page}:{day}"
    before = t.keys()
    seen: list[str] = []
    first_call, first_sent = "", []
    for visitor in ["ada", "bob", "ada", "cy", "bob", "ada"]:
        count = _visit(t, page, day, visitor)
        if not first_call:
            first_call, first_sent = t.last_call, t.sent
        if visitor not in seen:
            seen.append(visitor)
        kind = t.admin.type(key)
        if kind not in ("set", "none"):
            t.fail(
                f"After {t.last_call}, {key} is a {kind}, not a set: a {kind} counts every visit, so a visitor who "
                "comes back is counted again. SADD adds the visitor to a set, which keeps each member once."
            )
        t.expect_key(key, "set", before, 'f"visitors:{page}:{day}"')
        if isinstance(count, bool) or not isinstance(count, int):
            t.fail(f"{t.last_call} returned {type(count).__name__} {count!r}; return the number of visitors, an int.")
        if count != len(seen):
            sadd = (
                " SADD replies with how many members it added (1 for a new visitor, 0 for one already there), not "
                "with the size of the set: SCARD gives the size."
                if count in (0, 1)
                else ""
            )
            t.fail(
                f"{t.last_call} returned {count}, but {len(seen)} different visitors ({', '.join(seen)}) have "
                f"visited so far.{sadd}"
            )
        if t.recorder.used("SMEMBERS", "SSCAN", "SRANDMEMBER"):
            t.fail(
                f"{t.last_call} returned the right number, but it downloaded the members to count them "
                "(SMEMBERS). A popular page can have millions of visitors a day: let Redis count with SCARD, "
                "which sends back one number."
            )
        _check_expiry(t, key)
    # Time passes: the set has an hour left. The next visit, by someone who came before, must refresh the expiry.
    for visitor in ("bob", "dee"):
        t.admin.expire(key, 3600)
        count = _visit(t, page, day, visitor)
        pttl = t.pttl(key)
        if 0 <= pttl <= 3600 * 1000:
            who = "bob, who had visited before" if visitor == "bob" else "dee, a new visitor"
            t.fail(
                f"Before {t.last_call} ({who}), the check lowered the TTL of {key} to 1 hour, standing in for "
                f"6 days and 23 hours passing; after the visit it still expires in {pttl / 1000:.0f} s. The set "
                "should live 7 days after its LAST visit: refresh the expiry on every visit with "
                f"r.expire(key, {WEEK_SECONDS}), whether SADD added someone or not, and without nx=True (NX only "
                "sets an expiry on a key that has none)."
            )
        _check_expiry(t, key)
        if visitor == "dee":
            seen.append("dee")
        t.expect_equal(count, len(seen), f"{t.last_call} (different visitors so far: {', '.join(seen)})")

    other_day = t.call(page, "2024-05-02", "ada")
    t.expect_equal(other_day, 1, f"{t.last_call} (a new day starts a new set)")

    # The network drops right after the learner's SADD: is the day's new set left without its expiry?
    crashed, _ = call_with_crash_after(t, ["SADD"], page, "2024-05-03", "eve")
    crash_key = f"visitors:{page}:2024-05-03"
    if crashed and t.admin.exists(crash_key) and t.pttl(crash_key) == -1:
        t.fail(
            f"During {t.last_call} the network dropped right after your SADD (the check simulated it), so your "
            f"EXPIRE never reached Redis: {crash_key} is a set without an expiry, and no later visit will come to "
            "that day to fix it: it stays in memory for good. Queue SADD and EXPIRE in one transaction (with "
            "r.pipeline() as pipe: ... pipe.execute()), which runs both or neither."
        )

    sent = write_and_expiry_apart(first_sent, {"SADD"}, EXPIRE_COMMANDS)
    if sent:
        t.fail(
            f"{first_call} sent {sent} outside a transaction. In one pipeline they travel together but still run "
            "as two commands: if the EXPIRE fails, the set never expires. Make it a transaction: r.pipeline() "
            "(transaction=True is the default) wraps them in MULTI/EXEC."
        )
    return (
        "record_visitor counts each visitor once per day with SADD and SCARD, and each day's set expires a week "
        "after its last visit: set in the same transaction, so it can never be missing."
    )


RECORD_VISITOR = Exercise(
    id="sets.record_visitor",
    title="Unique visitors per page per day",
    signature="record_visitor(r, page: str, day: str, visitor: str) -> int",
    task="Record that visitor saw page on day in the set visitors:{page}:{day}; refresh the expiry on every "
    "visit, in the same atomic step as the SADD (a crash in between must never leave a set without an expiry), "
    "so that the set expires 7 days (604800 s) after its last visit; and return how many different visitors it "
    "holds, counted by Redis (without downloading the members).",
    checker=check_record_visitor,
    reference=record_visitor,
    hints=(
        "A set keeps each member once, so adding a visitor who came before changes nothing. Three commands: "
        "add, set the expiry, count; the first two must happen together or not at all.",
        "SADD adds, EXPIRE sets a time to live in seconds (after SADD, so that the key exists, and on every "
        "visit, so that the week counts from the last one), SCARD returns the number of members. As in notebook "
        "03, queue them in a transaction: with r.pipeline() as pipe: ... pipe.execute() returns the three replies.",
        'key = f"visitors:{page}:{day}"; with r.pipeline() as pipe: pipe.sadd(key, visitor); '
        "pipe.expire(key, 7 * 24 * 3600); pipe.scard(key); _, _, count = pipe.execute()  then  return count",
    ),
    mutants=(
        Mutant(_sadd_then_expire, "your EXPIRE never reached Redis"),
        Mutant(_pipeline_without_transaction, "outside a transaction"),
        Mutant(_counts_visits_in_a_list, "is a list, not a set"),
        Mutant(_returns_what_sadd_returns, "SCARD gives the size"),
        Mutant(_downloads_every_member, "let Redis count with SCARD"),
        Mutant(_never_expires, "has no expiry"),
        Mutant(_expiry_in_milliseconds, "read as milliseconds"),
        Mutant(_expires_before_adding, "EXPIRE on a missing key does nothing"),
        Mutant(_expiry_set_once_with_nx, "refresh the expiry on every visit"),
        Mutant(_expiry_only_for_a_new_visitor, "bob, who had visited before"),
        Mutant(_expiry_only_without_ttl, "refresh the expiry on every visit"),
        Mutant(_expiry_only_for_a_new_set, "refresh the expiry on every visit"),
    ),
)


# -- sets.suggest_friends ------------------------------------------------------------------------------
def suggest_friends(r, user):
    friends = r.smembers(f"friends:{user}")
    if not friends:
        return set()  # SUNION needs at least one key
    friends_of_friends = r.sunion([f"friends:{friend}" for friend in friends])
    return friends_of_friends - friends - {user}


def _suggests_the_user(r, user):
    friends = r.smembers(f"friends:{user}")
    if not friends:
        return set()
    return r.sunion([f"friends:{friend}" for friend in friends]) - friends


def _suggests_current_friends(r, user):
    friends = r.smembers(f"friends:{user}")
    if not friends:
        return set()
    return r.sunion([f"friends:{friend}" for friend in friends]) - {user}


def _first_friend_only(r, user):
    friends = sorted(r.smembers(f"friends:{user}"))
    if not friends:
        return set()
    return r.smembers(f"friends:{friends[-1]}") - set(friends) - {user}


def _crashes_without_friends(r, user):
    friends = r.smembers(f"friends:{user}")
    return r.sunion([f"friends:{friend}" for friend in friends]) - friends - {user}


def _leaves_a_scratch_key(r, user):
    friends = r.smembers(f"friends:{user}")
    if not friends:
        return set()
    r.sunionstore("scratch:suggest", [f"friends:{friend}" for friend in friends])
    return r.sdiff("scratch:suggest", f"friends:{user}") - {user}


FRIENDS = {
    "ana": {"ben", "cy"},
    "ben": {"ana", "cy", "dee"},
    "cy": {"ana", "ben", "eve", "fay"},
    "dee": {"ben"},
    "eve": {"cy"},
    "fay": {"cy", "gus"},
    "gus": {"fay"},
}


def _expected_suggestions(user: str) -> set[str]:
    friends = FRIENDS.get(user, set())
    around: set[str] = set()
    for friend in friends:
        around |= FRIENDS.get(friend, set())
    return around - friends - {user}


def _through(user: str, stranger: str) -> str:
    """Which of user's friends knows stranger: 'a friend of cy'."""
    links = sorted(friend for friend in FRIENDS.get(user, set()) if stranger in FRIENDS.get(friend, set()))
    return "a friend of " + " and ".join(links) if links else "not a friend of any friend"


def _check_untouched(t: Trial) -> None:
    for user, friends in FRIENDS.items():
        now = t.admin.smembers(f"friends:{user}")
        if now != friends:
            t.fail(
                f"After {t.last_call}, friends:{user} holds {_shown(now)} instead of {_shown(friends)}: your code "
                "changed the data it should only read. The *STORE commands write their result into their first "
                "key; read with SUNION/SDIFF instead, or store into a scratch key of your own."
            )
    keys = t.keys()
    extra = sorted(key for key in keys if not key.startswith("friends:"))
    lasting = [key for key in extra if t.pttl(key) < 0]
    if lasting:
        t.fail(
            f"{t.last_call} returned the right suggestions but left the key(s) {lasting} behind, with no expiry: "
            "scratch data that stays in memory for good. Delete a scratch key when you are done (or give it a "
            "short expiry), or compute without one: SUNION returns a set, and Python's - operator removes members."
        )


def check_suggest_friends(t: Trial) -> str:
    for user, friends in FRIENDS.items():
        t.admin.sadd(f"friends:{user}", *friends)
    for user in ("ana", "dee", "fay"):
        expected = _expected_suggestions(user)
        result = t.call(user)
        if result is None or not isinstance(result, (set, frozenset)):
            kind = "a list" if isinstance(result, (list, tuple)) else type(result).__name__
            t.fail(
                f"{t.last_call} returned {kind} {result!r:.60}; return a set of user names, here {_shown(expected)}."
            )
        friends = FRIENDS[user]
        if user in result:
            t.fail(
                f"{t.last_call} suggests {user!r} to {user!r}: {user} is in each of their friends' friend sets, so "
                f"the union contains {user} too. Remove the user as well as their friends. Expected "
                f"{_shown(expected)}, got {_shown(result)}."
            )
        already = set(result) & friends
        if already:
            t.fail(
                f"{t.last_call} suggests {_shown(already)}, who are already friends of {user}: subtract "
                f"friends:{user} from the union (SDIFF, or Python's -). Expected {_shown(expected)}, got "
                f"{_shown(result)}."
            )
        missing = expected - set(result)
        if missing:
            who = "; ".join(f"{name!r} ({_through(user, name)})" for name in sorted(missing))
            t.fail(
                f"{t.last_call} is missing {who}. Suggestions come from the friends of *every* friend of {user}: "
                f"take the union of all their sets (SUNION with one key per friend). Expected {_shown(expected)}, "
                f"got {_shown(result)}."
            )
        strangers = set(result) - expected
        if strangers:
            who = "; ".join(f"{name!r} ({_through(user, name)})" for name in sorted(strangers))
            t.fail(f"{t.last_call} suggests {who}. Expected {_shown(expected)}, got {_shown(result)}.")
        _check_untouched(t)
    result, error = t.try_call("zoe", expected=(redis.ResponseError,))
    if error is not None:
        t.fail(
            f"{t.last_call} raised ResponseError ({error}) for zoe, who has no friends yet: SUNION needs at least "
            "one key, and the list of friends' keys was empty. Return set() early when the user has no friends."
        )
    t.expect(
        isinstance(result, (set, frozenset)) and not result,
        f"{t.last_call} for zoe, who has no friends yet: expected set(), got {result!r:.60}.",
    )
    return "suggest_friends unions every friend's friends, then removes the user and their current friends."


SUGGEST_FRIENDS = Exercise(
    id="sets.suggest_friends",
    title="People you may know",
    signature="suggest_friends(r, user: str) -> set[str]",
    task="friends:{name} is the set of name's friends. Return the friends of user's friends who are not "
    "user and not already user's friends; an empty set for a user without friends. Leave no extra keys "
    "behind.",
    checker=check_suggest_friends,
    reference=suggest_friends,
    hints=(
        "Three steps: read user's friends; take the union of each friend's friend set; remove the user and "
        "the people they already know.",
        "r.smembers(...) gives the friends; r.sunion([...]) takes a list of keys (it needs at least one, so "
        "return set() early when there are no friends); Python sets subtract with -.",
        'friends = r.smembers(f"friends:{user}"); if not friends: return set(); '
        'return r.sunion([f"friends:{f}" for f in friends]) - friends - {user}',
    ),
    mutants=(
        Mutant(_suggests_the_user, "Remove the user as well"),
        Mutant(_suggests_current_friends, "already friends of ana"),
        Mutant(_first_friend_only, "is missing"),
        Mutant(_crashes_without_friends, "SUNION needs at least one key"),
        Mutant(_leaves_a_scratch_key, "left the key(s) ['scratch:suggest'] behind"),
    ),
)


EXERCISES = [COMMON_TAGS, RECORD_VISITOR, SUGGEST_FRIENDS]


QUIZZES = [
    Quiz(
        id="sets.quiz_sadd_reply",
        question="r.sadd('visitors:home:2024-05-01', 'ada') returns 0. What does that tell you?",
        options=(
            "The set is empty",
            "ada was already in the set, so nothing was added",
            "The command failed and should be retried",
            "The set now holds 0 other visitors",
        ),
        answer=1,
        explanation=(
            "SADD replies with the number of members it added. 0 means ada had visited already; the size of the set "
            "comes from SCARD."
        ),
    ),
]
