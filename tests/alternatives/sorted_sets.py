"""Other right answers to the 06-sorted-sets exercises pass too (checks test behaviour, not one spelling)."""

from __future__ import annotations

import math
import time


def add_score_with_zadd_incr(r, board, player, points):
    return r.zadd(board, {player: points}, incr=True)


def add_score_in_a_transaction(r, board, player, points):
    with r.pipeline() as pipe:
        pipe.zincrby(board, points, player)
        (total,) = pipe.execute()
    return total


def top_players_zrevrange(r, board, n):
    return r.zrevrange(board, 0, n - 1, withscores=True)


def top_players_by_score(r, board, n):
    return r.zrange(board, "+inf", "-inf", byscore=True, desc=True, offset=0, num=n, withscores=True)


def rank_of_conditional_expression(r, board, player):
    rank = r.zrevrank(board, player)
    return rank + 1 if rank is not None else None


def rank_of_by_counting_higher_scores(r, board, player):
    score = r.zscore(board, player)
    if score is None:
        return None
    return r.zcount(board, f"({score}", "+inf") + 1


def record_hit_in_one_transaction(r, user, hit_id, now, window):
    key = f"hits:{user}"
    with r.pipeline() as pipe:
        pipe.zremrangebyscore(key, 0, now - window)
        pipe.zadd(key, {hit_id: now})
        pipe.expire(key, math.ceil(window))
        pipe.zcard(key)
        *_, count = pipe.execute()
    return count


def record_hit_counting_the_window(r, user, hit_id, now, window):
    key = f"hits:{user}"
    r.zadd(key, {hit_id: now})
    r.zremrangebyscore(key, "-inf", now - window)
    r.expire(key, int(window))
    return r.zcount(key, f"({now - window}", "+inf")


def record_hit_expireat_from_the_clock(r, user, hit_id, now, window):
    key = f"hits:{user}"
    r.zadd(key, {hit_id: now})
    r.zremrangebyscore(key, "-inf", now - window)
    r.expireat(key, int(time.time()) + window)  # the real clock, not the replayed now
    return r.zcard(key)


def add_score_zadd_incr_in_lua(r, board, player, points):
    return float(r.eval("return redis.call('ZINCRBY', KEYS[1], ARGV[1], ARGV[2])", 1, board, points, player))


ALTERNATIVES = [
    ("sorted_sets.add_score", add_score_with_zadd_incr),
    ("sorted_sets.add_score", add_score_in_a_transaction),
    ("sorted_sets.top_players", top_players_zrevrange),
    ("sorted_sets.top_players", top_players_by_score),
    ("sorted_sets.rank_of", rank_of_conditional_expression),
    ("sorted_sets.rank_of", rank_of_by_counting_higher_scores),
    ("sorted_sets.record_hit", record_hit_in_one_transaction),
    ("sorted_sets.record_hit", record_hit_counting_the_window),
    ("sorted_sets.record_hit", record_hit_expireat_from_the_clock),
    ("sorted_sets.add_score", add_score_zadd_incr_in_lua),
]
