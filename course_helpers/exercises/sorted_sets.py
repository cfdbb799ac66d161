"""07-sorted-sets: a leaderboard (add points, top n, rank) and a sliding window of timestamped hits."""

from __future__ import annotations

import time
from typing import Any

import redis

from .._exercise import Exercise, Mutant
from .._probes import call_with_crash_after, refuse_dict, refuse_none, refuse_other_types, write_and_expiry_apart
from .._quiz import Quiz
from .._trial import Trial

NOTEBOOK = "07-sorted-sets"

SCORES = {"ada": 310.0, "bob": 120.0, "cy": 455.0, "dee": 280.0, "eve": 95.0, "fay": 390.0, "gus": 150.5}
BY_SCORE_DESC = sorted(SCORES.items(), key=lambda pair: -pair[1])

# Commands that read a score or a rank: a concurrent write is injected right after one of them.
_ZSET_READS = ["ZSCORE", "ZMSCORE", "ZRANK", "ZREVRANK", "ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE"]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- sorted_sets.add_score -----------------------------------------------------------------------------
def add_score(r, board, player, points):
    return r.zincrby(board, points, player)  # adds to the score (from 0 for a new player), returns the total


def _replaces_the_score(r, board, player, points):
    r.zadd(board, {player: points})
    return float(points)


def _reads_then_writes(r, board, player, points):
    total = (r.zscore(board, player) or 0) + points
    r.zadd(board, {player: total})
    return total


def _forgets_to_return(r, board, player, points):
    r.zincrby(board, points, player)


def _zincrby_then_zscore(r, board, player, points):
    r.zincrby(board, points, player)
    return r.zscore(board, player)


def _swaps_member_and_amount(r, board, player, points):
    return r.zincrby(board, player, points)


def check_add_score(t: Trial) -> str:
    board = "arcade"
    before = t.keys()
    expected_total = 0.0
    for points in (10, 2.5, -4):
        expected_total += points
        total, error = t.try_call(board, "ada", points, expected=(redis.ResponseError,))
        if error is not None:
            t.fail(
                f"{t.last_call} raised ResponseError ({error}): in redis-py, zincrby takes the amount before the "
                "member, r.zincrby(board, points, player), because ZINCRBY is ZINCRBY key increment member."
            )
        t.expect_key(board, "zset", before, "board (the argument as it is)")
        stored = t.admin.zscore(board, "ada")
        if stored is None:
            t.fail(f"After {t.last_call}, ada is not on the sorted set {board}: add the points to the member player.")
        if stored != expected_total:
            replaced = " ZADD sets the score, replacing the old one; ZINCRBY adds to it." if stored == points else ""
            t.fail(
                f"After {t.last_call}, ada's score is {stored:g}, expected {expected_total:g} (the points so far "
                f"added up).{replaced}"
            )
        refuse_none(t, total, "return the new total; r.zincrby(...) replies with it.")
        if not _is_number(total):
            t.fail(
                f"{t.last_call} returned {type(total).__name__} {total!r}; return the new total as a number "
                f"({expected_total:g})."
            )
        t.expect_equal(total, expected_total, f"{t.last_call} (the new total)")
    t.expect_equal(t.call(board, "bob", 7), 7.0, f"{t.last_call} for a player not yet on the board")

    other_points = 5
    injected = t.inject_once(_ZSET_READS, lambda admin: admin.zincrby(board, other_points, "ada"))
    total = t.call(board, "ada", 1)
    expected_total += 1 + (other_points if injected["fired"] else 0)
    stored = t.admin.zscore(board, "ada")
    if stored != expected_total:
        t.fail(
            f"While {t.last_call} ran, another client added {other_points} points to ada between your read and "
            f"your write. Afterwards ada has {stored:g} instead of {expected_total:g}: the other client's points "
            "were lost, because your write was computed from an old score. Let Redis add in one command: "
            "ZINCRBY (or ZADD with incr=True)."
        )
    t.expect_equal(total, expected_total, f"{t.last_call} while another client also added points")

    # Another client adds points between the learner's ZINCRBY (or ZADD INCR) and a separate read of the score.
    t.admin.zadd(board, {"cy": 40})
    injected = t.inject_once(["ZINCRBY", "ZADD"], lambda admin: admin.zincrby(board, other_points, "cy"))
    total = t.call(board, "cy", 2)
    if injected["fired"] and total != 42:
        t.fail(
            f"{t.last_call} returned {total!r}, but its own increment made cy's score 42 (40 + 2): another client "
            f"added {other_points} points before your code read the score back, so you returned someone else's "
            "total. ZINCRBY already replies with the new score; return that value (return r.zincrby(...)) instead "
            "of reading it again with ZSCORE."
        )
    t.expect_equal(
        t.admin.zscore(board, "cy"),
        42.0 + (other_points if injected["fired"] else 0),
        f"After {t.last_call}, cy's score",
    )
    if not injected["fired"]:
        t.expect_equal(total, 42.0, f"{t.last_call} (the new total)")
    return "add_score lets Redis add the points (ZINCRBY), so concurrent updates are never lost."


ADD_SCORE = Exercise(
    id="sorted_sets.add_score",
    title="Add points to a player",
    signature="add_score(r, board: str, player: str, points: float) -> float",
    task="Add points to player's score on the sorted set board (a new player starts from 0) and return the "
    "new total. Another client may be adding points at the same time: no update may be lost.",
    checker=check_add_score,
    reference=add_score,
    hints=(
        "Reading the score, adding in Python and writing it back loses points when two clients do it at "
        "once. Redis has a command that adds to a score in one step.",
        "ZINCRBY key increment member adds increment to member's score (creating it at 0) and replies with "
        "the new score. In redis-py the amount comes before the member.",
        "return r.zincrby(board, points, player)",
    ),
    mutants=(
        Mutant(_replaces_the_score, "ZADD sets the score, replacing the old one"),
        Mutant(_reads_then_writes, "the other client's points were lost"),
        Mutant(_forgets_to_return, "returned None"),
        Mutant(_swaps_member_and_amount, "takes the amount before the member"),
        Mutant(_zincrby_then_zscore, "ZINCRBY already replies with the new score"),
    ),
)


# -- sorted_sets.top_players ---------------------------------------------------------------------------
def top_players(r, board, n):
    return r.zrange(board, 0, n - 1, desc=True, withscores=True)  # the end index is inclusive


def _lowest_first(r, board, n):
    return r.zrange(board, 0, n - 1, withscores=True)


def _one_too_many(r, board, n):
    return r.zrevrange(board, 0, n, withscores=True)


def _one_too_few(r, board, n):
    return r.zrevrange(board, 0, n - 2, withscores=True)


def _skips_the_leader(r, board, n):
    return r.zrevrange(board, 1, n, withscores=True)


def _members_only(r, board, n):
    return r.zrevrange(board, 0, n - 1)


def _scores_as_text(r, board, n):
    return [(member, f"{score:g}") for member, score in r.zrevrange(board, 0, n - 1, withscores=True)]


def _one_round_trip_per_player(r, board, n):
    return [(member, r.zscore(board, member)) for member in r.zrevrange(board, 0, n - 1)]


def _pairs(t: Trial, result: Any) -> list[tuple[Any, Any]]:
    """result as a list of (member, score) tuples, or a failure that says what shape it had instead."""
    refuse_none(t, result, "return the list of (member, score) pairs.")
    refuse_dict(
        t,
        result,
        "return a list of (member, score) tuples, highest score first: a list keeps the order, and the order is "
        "the point of a leaderboard.",
    )
    refuse_other_types(t, result, list, "return a list of (member, score).")
    if any(isinstance(item, str) for item in result):
        t.fail(
            f"{t.last_call} returned members without their scores ({result[:3]!r}…): pass withscores=True and "
            "redis-py returns (member, score) tuples."
        )
    if not all(isinstance(item, (tuple, list)) and len(item) == 2 for item in result):
        t.fail(f"{t.last_call} returned {result!r:.80}; each item should be a (member, score) tuple.")
    pairs = [tuple(item) for item in result]
    text_scores = [score for _, score in pairs if isinstance(score, str)]
    if text_scores:
        t.fail(
            f"{t.last_call} returned scores as str ({text_scores[0]!r}), not float: return the scores as "
            "redis-py gives them with withscores=True (floats), and format them only when you display them."
        )
    if not all(_is_number(score) for _, score in pairs):
        t.fail(f"{t.last_call} returned {result!r:.80}; each score should be a float.")
    return pairs


def check_top_players(t: Trial) -> str:
    t.admin.zadd("arcade", SCORES)
    for n in (3, 1, 5, 20):
        expected = BY_SCORE_DESC[:n]
        pairs = _pairs(t, t.call("arcade", n))
        if pairs == expected:
            if t.round_trips > 1:
                t.fail(
                    f"{t.last_call} returned the right players but made {t.round_trips} round trips to Redis: one "
                    "ZRANGE with withscores=True returns the members with their scores in a single reply."
                )
            continue
        if pairs == sorted(SCORES.items(), key=lambda pair: pair[1])[:n] or (
            len(pairs) > 1 and pairs[0][1] < pairs[-1][1]
        ):
            t.fail(
                f"{t.last_call} returned {pairs!r:.120}: the lowest scores first. A leaderboard starts with the "
                "highest: r.zrange(board, 0, n - 1, desc=True, withscores=True) or r.zrevrange(...)."
            )
        if len(pairs) == n + 1 and pairs[:n] == expected:
            t.fail(
                f"{t.last_call} returned {n + 1} entries for n={n}: ZRANGE's end index is inclusive, so the first "
                f"n entries are 0 to n - 1 (here 0 to {n - 1})."
            )
        if n > 1 and len(pairs) == n - 1 and pairs == expected[: n - 1]:
            t.fail(
                f"{t.last_call} returned {n - 1} entries for n={n}, one short: ZRANGE's end index is inclusive, so "
                f"0 to n - 1 (here 0 to {n - 1}) already returns n entries."
            )
        if pairs == BY_SCORE_DESC[1 : n + 1]:
            t.fail(
                f"{t.last_call} skipped the leader {BY_SCORE_DESC[0][0]!r}: ranks in ZRANGE start at 0, so the "
                "top n are 0 to n - 1."
            )
        t.fail(f"{t.last_call}: expected {expected!r}, got {pairs!r:.160}.")
    t.expect_equal(t.call("empty-board", 3), [], f"{t.last_call} (a board that does not exist)")
    return "top_players returns the top n (member, score) pairs, highest first, in one round trip."


TOP_PLAYERS = Exercise(
    id="sorted_sets.top_players",
    title="The top n of a leaderboard",
    signature="top_players(r, board: str, n: int) -> list[tuple[str, float]]",
    task="Return the n (member, score) pairs with the highest scores on board, highest first (fewer when the "
    "board is smaller), in one round trip.",
    checker=check_top_players,
    reference=top_players,
    hints=(
        "A sorted set is kept in score order, lowest first; ask for it in reverse and take the first n.",
        "r.zrange(board, start, end, desc=True, withscores=True) (or r.zrevrange(board, start, end, "
        "withscores=True)); end is inclusive, so the first n are 0 to n - 1.",
        "return r.zrange(board, 0, n - 1, desc=True, withscores=True)",
    ),
    mutants=(
        Mutant(_lowest_first, "the lowest scores first"),
        Mutant(_one_too_many, "end index is inclusive"),
        Mutant(_one_too_few, "one short"),
        Mutant(_skips_the_leader, "skipped the leader"),
        Mutant(_members_only, "withscores=True"),
        Mutant(_scores_as_text, "scores as str"),
        Mutant(_one_round_trip_per_player, "round trips"),
    ),
)


# -- sorted_sets.rank_of -------------------------------------------------------------------------------
def rank_of(r, board, player):
    rank = r.zrevrank(board, player)  # 0 for the highest score, None when the player is not on the board
    return None if rank is None else rank + 1


def _counts_from_the_lowest(r, board, player):
    rank = r.zrank(board, player)
    return None if rank is None else rank + 1


def _counts_from_zero(r, board, player):
    return r.zrevrank(board, player)


def _crashes_on_a_missing_player(r, board, player):
    return r.zrevrank(board, player) + 1


def _zero_for_a_missing_player(r, board, player):
    rank = r.zrevrank(board, player)
    return 0 if rank is None else rank + 1


def _leader_looks_missing(r, board, player):
    rank = r.zrevrank(board, player)
    if not rank:
        return None
    return rank + 1


def check_rank_of(t: Trial) -> str:
    t.admin.zadd("arcade", SCORES)
    expected_rank = {member: position for position, (member, _) in enumerate(BY_SCORE_DESC, 1)}
    for player in ("cy", "ada", "eve"):
        expected = expected_rank[player]
        rank = t.call("arcade", player)
        if rank == expected and _is_number(rank) and float(rank).is_integer():
            if not isinstance(rank, int):
                t.fail(f"{t.last_call} returned {rank!r}, a {type(rank).__name__}: return the rank as an int.")
            continue
        if rank is None and expected == 1:
            t.fail(
                f"{t.last_call} returned None for cy, the leader: ZREVRANK replies 0 for the highest score, and "
                "`if not rank` treats 0 like None. Test `rank is None` instead."
            )
        if rank == expected - 1:
            t.fail(
                f"{t.last_call} returned {rank}, expected {expected}: ZREVRANK counts from 0 (0 is the leader), "
                "but people count places from 1. Add 1."
            )
        if rank == len(SCORES) + 1 - expected:
            t.fail(
                f"{t.last_call} returned {rank}, expected {expected}: ZRANK counts from the lowest score. ZREVRANK "
                "counts from the highest, which is what a leaderboard shows."
            )
        t.fail(f"{t.last_call}: expected {expected}, got {rank!r}.")
    for board, player in (("arcade", "zed"), ("empty-board", "ada")):
        rank, error = t.try_call(board, player, expected=(TypeError,))
        if error is not None:
            t.fail(
                f"{t.last_call} raised TypeError ({error}): ZREVRANK returns None for a player who is not on the "
                "board, and None + 1 fails. Check `if rank is None: return None` before adding 1."
            )
        if rank is not None:
            t.fail(
                f"{t.last_call} returned {rank!r} for a player who is not on the board: return None, so that "
                "callers can tell 'not ranked' from a real place."
            )
    return "rank_of counts places from 1 for the highest score and returns None for anyone not on the board."


RANK_OF = Exercise(
    id="sorted_sets.rank_of",
    title="A player's place on the board",
    signature="rank_of(r, board: str, player: str) -> int | None",
    task="Return player's place on board counted from 1 for the highest score, or None when the player is "
    "not on the board.",
    checker=check_rank_of,
    reference=rank_of,
    hints=(
        "Redis counts ranks from 0; there are two rank commands, one for each direction.",
        "ZREVRANK gives the 0-based position from the highest score, and None (nil) for a missing member.",
        "rank = r.zrevrank(board, player); return None if rank is None else rank + 1",
    ),
    mutants=(
        Mutant(_counts_from_the_lowest, "ZRANK counts from the lowest score"),
        Mutant(_counts_from_zero, "counts from 0"),
        Mutant(_crashes_on_a_missing_player, "None + 1 fails"),
        Mutant(_zero_for_a_missing_player, "return None"),
        Mutant(_leader_looks_missing, "Test `rank is None` instead"),
    ),
)


# -- sorted_sets.record_hit ----------------------------------------------------------------------------
def record_hit(r, user, hit_id, now, window):
    key = f"hits:{user}"
    with r.pipeline() as pipe:  # MULTI ... EXEC: one atomic step, so the set never lives without its expiry
        pipe.zadd(key, {hit_id: now})  # member: the hit's id (unique), score: its time
        pipe.zremrangebyscore(key, "-inf", now - window)  # drop hits that are window seconds old or older
        pipe.expire(key, window)  # an idle user's set disappears by itself
        pipe.zcard(key)
        *_, count = pipe.execute()
    return count


def _four_round_trips(r, user, hit_id, now, window):
    key = f"hits:{user}"
    r.zadd(key, {hit_id: now})
    r.zremrangebyscore(key, "-inf", now - window)
    r.expire(key, window)
    return r.zcard(key)


def _pipeline_without_transaction(r, user, hit_id, now, window):
    key = f"hits:{user}"
    with r.pipeline(transaction=False) as pipe:
        pipe.zadd(key, {hit_id: now})
        pipe.zremrangebyscore(key, "-inf", now - window)
        pipe.expire(key, window)
        pipe.zcard(key)
        *_, count = pipe.execute()
    return count


def _timestamp_as_member(r, user, hit_id, now, window):
    key = f"hits:{user}"
    with r.pipeline() as pipe:
        pipe.zadd(key, {str(now): now})
        pipe.zremrangebyscore(key, "-inf", now - window)
        pipe.expire(key, window)
        pipe.zcard(key)
        *_, count = pipe.execute()
    return count


def _keeps_the_boundary_hit(r, user, hit_id, now, window):
    key = f"hits:{user}"
    with r.pipeline() as pipe:
        pipe.zadd(key, {hit_id: now})
        pipe.zremrangebyscore(key, "-inf", f"({now - window}")
        pipe.expire(key, window)
        pipe.zcard(key)
        *_, count = pipe.execute()
    return count


def _counts_before_adding(r, user, hit_id, now, window):
    key = f"hits:{user}"
    with r.pipeline() as pipe:
        pipe.zremrangebyscore(key, "-inf", now - window)
        pipe.zcard(key)
        pipe.zadd(key, {hit_id: now})
        pipe.expire(key, window)
        _, count, _, _ = pipe.execute()
    return count


def _uses_the_clock(r, user, hit_id, now, window):
    key = f"hits:{user}"
    now = time.time()
    with r.pipeline() as pipe:
        pipe.zadd(key, {hit_id: now})
        pipe.zremrangebyscore(key, "-inf", now - window)
        pipe.expire(key, window)
        pipe.zcard(key)
        *_, count = pipe.execute()
    return count


def _never_prunes(r, user, hit_id, now, window):
    key = f"hits:{user}"
    with r.pipeline() as pipe:
        pipe.zadd(key, {hit_id: now})
        pipe.expire(key, window)
        pipe.zcount(key, f"({now - window}", now)
        *_, count = pipe.execute()
    return count


def _never_expires(r, user, hit_id, now, window):
    key = f"hits:{user}"
    with r.pipeline() as pipe:
        pipe.zadd(key, {hit_id: now})
        pipe.zremrangebyscore(key, "-inf", now - window)
        pipe.zcard(key)
        *_, count = pipe.execute()
    return count


def _expiry_in_milliseconds(r, user, hit_id, now, window):
    key = f"hits:{user}"
    with r.pipeline() as pipe:
        pipe.zadd(key, {hit_id: now})
        pipe.zremrangebyscore(key, "-inf", now - window)
        pipe.pexpire(key, window)
        pipe.zcard(key)
        *_, count = pipe.execute()
    return count


_HIT_EXPIRY = {"EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"}


def _expect_hit(t: Trial, key: str, hit_id: str, now: float, before: set[str]) -> None:
    """Fail when the hit was stored under another key, or scored with another time than now."""
    t.expect_key(key, "zset", before, 'f"hits:{user}"')
    stored = t.admin.zscore(key, hit_id)
    if stored is not None and stored != now:
        t.fail(
            f"After {t.last_call}, {hit_id} has the score {stored!r}, not the time now={now!r}: score each hit with "
            "the now argument. The caller passes the request's time in, which lets a check (or a test of yours) "
            "choose the times; a second reading of the clock inside your function is a different time."
        )


def _expect_count(t: Trial, count: Any, expected: int, why: str) -> None:
    if isinstance(count, bool) or not isinstance(count, int):
        t.fail(f"{t.last_call} returned {type(count).__name__} {count!r:.60}; return the number of hits, an int.")
    if count != expected:
        t.fail(f"{t.last_call} returned {count}, expected {expected}: {why}")


def check_record_hit(t: Trial) -> str:
    window, key = 60, "hits:ada"
    before = t.keys()
    # The check's clock: times a tenth of a second behind the real one, so that an expiry computed from now
    # (EXPIREAT now + window) is as right as EXPIRE window, and a second reading of the clock is told apart.
    start = round(time.time(), 3) - 0.1
    count = t.call("ada", "a1", start, window)
    first_call, first_sent = t.last_call, t.sent
    if not t.admin.exists(key) and t.recorder.used("PEXPIRE", "PEXPIREAT"):
        _check_window_expiry(t, key, window)  # gone already: the window was read as milliseconds
    _expect_hit(t, key, "a1", start, before)
    if count == 0:
        t.fail(
            f"{t.last_call} returned 0 for the first hit of ada: this hit was not counted. Add it (ZADD) before "
            "you count (ZCARD), so that the count includes it."
        )
    _expect_count(t, count, 1, "the first hit of ada is the only one in the window.")
    _check_window_expiry(t, key, window)

    count = t.call("ada", "a2", start, window)
    if count == 1:
        t.fail(
            f"{t.last_call} returned 1: a1 and a2 happened at the same moment and were counted once. Members of a "
            "sorted set are unique, so two hits stored under the same member are one hit: use the hit id as the "
            "member and the time as the score, {hit_id: now}."
        )
    _expect_count(t, count, 2, "a1 and a2 are both in the window.")

    # Older hits, put in place by the check: one 5 minutes old, one exactly one window old, one just inside.
    now = start + 0.05
    old = {"old:stale": now - 300, "old:edge": now - window, "old:inside": now - window + 0.5}
    t.admin.zadd(key, old)
    count = t.call("ada", "a3", now, window)
    _expect_hit(t, key, "a3", now, before)
    expected = ["a1", "a2", "old:inside", "a3"]
    if count == len(expected) + 1 and t.admin.zscore(key, "old:edge") is not None:
        t.fail(
            f"{t.last_call} returned {count}, expected {len(expected)}: old:edge, exactly {window} s old, was kept. "
            f"A hit is in the window while it is less than {window} s old, so remove scores up to and including "
            "now - window: ZREMRANGEBYSCORE key -inf (now - window) (a '(' before the number would exclude it)."
        )
    _expect_count(t, count, len(expected), f"the hits {expected} are less than {window} s old.")
    stale = t.admin.zrangebyscore(key, "-inf", now - window)
    if stale:
        t.fail(
            f"{t.last_call} returned the right count, but {key} still holds {stale}, {window} s old or older. Nothing "
            "removes them, so the set grows with every hit: remove them with ZREMRANGEBYSCORE key -inf (now - window)."
        )
    _check_window_expiry(t, key, window)
    _expect_count(t, t.call("bob", "b1", now, window), 1, "bob's hits are counted apart from ada's, in hits:bob.")

    # The network drops right after the learner's ZADD for a new user: is the new set left without an expiry?
    crashed, _ = call_with_crash_after(t, ["ZADD"], "cy", "c1", now, window)
    if crashed and t.admin.exists("hits:cy") and t.pttl("hits:cy") == -1:
        t.fail(
            f"During {t.last_call} the network dropped right after your ZADD (the check simulated it), so the "
            "EXPIRE you send afterwards never reached Redis: hits:cy is a set without an expiry, and if cy never "
            "comes back it stays in memory for good. Queue the four commands in one transaction (with "
            "r.pipeline() as pipe: ... pipe.execute()): Redis runs them all or none."
        )
    sent = write_and_expiry_apart(first_sent, {"ZADD"}, _HIT_EXPIRY)
    if sent:
        t.fail(
            f"{first_call} sent {sent} outside a transaction. In one pipeline they travel together but still run as "
            "separate commands: if the EXPIRE fails, the set never expires. Make it a transaction: r.pipeline() "
            "(transaction=True is the default) wraps them in MULTI/EXEC."
        )
    return (
        "record_hit keeps a sliding window in one atomic step: unique members scored by time, old hits pruned, "
        "an expiring key."
    )


RECORD_HIT = Exercise(
    id="sorted_sets.record_hit",
    title="A sliding window of recent hits",
    signature="record_hit(r, user: str, hit_id: str, now: float, window: int) -> int",
    task="Record a request of user in the sorted set hits:{user}: member hit_id, score now (the request's time in "
    "seconds, as time.time() gives it; the caller passes it in). Remove hits that are window seconds old or "
    "older, make the key expire window seconds from now, and return how many hits are in the window, this one "
    "included. Do it in one atomic step: a crash must never leave the set without its expiry.",
    checker=check_record_hit,
    reference=record_hit,
    hints=(
        "Store each hit with its time as the score: 'old hits' is then a score range, and the count is the size "
        "of the set once they are gone. Four commands, run as one transaction.",
        "ZADD key {hit_id: now}; ZREMRANGEBYSCORE key -inf now-window (inclusive: a hit exactly window s old "
        "goes); EXPIRE key window; ZCARD key. Queue them in with r.pipeline() as pipe: ...; pipe.execute() "
        "returns the four replies, the count last.",
        'key = f"hits:{user}"; with r.pipeline() as pipe: pipe.zadd(key, {hit_id: now}); '
        'pipe.zremrangebyscore(key, "-inf", now - window); pipe.expire(key, window); pipe.zcard(key); '
        "*_, count = pipe.execute()  then  return count",
    ),
    mutants=(
        Mutant(_four_round_trips, "never reached Redis"),
        Mutant(_pipeline_without_transaction, "outside a transaction"),
        Mutant(_timestamp_as_member, "Members of a sorted set are unique"),
        Mutant(_keeps_the_boundary_hit, "exactly 60 s old, was kept"),
        Mutant(_counts_before_adding, "this hit was not counted"),
        Mutant(_uses_the_clock, "score each hit with the now argument"),
        Mutant(_never_prunes, "Nothing removes them"),
        Mutant(_never_expires, "has no expiry"),
        Mutant(_expiry_in_milliseconds, "was read as milliseconds"),
    ),
)


def _check_window_expiry(t: Trial, key: str, window: int) -> None:
    pttl = t.pttl(key)
    if pttl == -1:
        t.fail(
            f"After {t.last_call}, {key} has no expiry: a user who stops sending requests leaves their set in "
            f"memory forever. Set it to expire one window after the latest hit, in the same transaction: "
            f"pipe.expire(key, {window})."
        )
    if pttl == -2 or 0 <= pttl <= window:  # a window read as milliseconds may be over before the check looks
        if pttl == -2 and not t.recorder.used("PEXPIRE", "PEXPIREAT"):
            t.fail(f"After {t.last_call}, {key} had already expired: make it expire {window} s after the hit.")
        t.fail(
            f"After {t.last_call}, {key} expires in {max(pttl, 0)} ms, not in {window} s: {window} was read as "
            f"milliseconds (PEXPIRE or px=). EXPIRE key window takes seconds."
        )
    if not (window - 2) * 1000 <= pttl <= (window + 1) * 1000:
        t.fail(
            f"After {t.last_call}, {key} expires in {pttl / 1000:.1f} s; make it expire one window ({window} s) "
            "after the latest hit."
        )


EXERCISES = [TOP_PLAYERS, RANK_OF, ADD_SCORE, RECORD_HIT]


QUIZZES = [
    Quiz(
        id="sorted_sets.quiz_top_ten",
        question="You want the 10 highest scores on 'board', highest first. Which call?",
        options=(
            "r.zrange('board', 0, 10, desc=True, withscores=True)",
            "r.zrange('board', 0, 9, desc=True, withscores=True)",
            "r.zrange('board', 1, 10, desc=True, withscores=True)",
            "r.zrange('board', -10, -1, withscores=True)",
        ),
        answer=1,
        explanation=(
            "The end index is inclusive and positions start at 0, so 0..9 is ten entries. -10..-1 without desc=True "
            "gives the same ten players, but lowest first."
        ),
    ),
]
