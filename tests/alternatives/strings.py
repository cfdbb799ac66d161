"""Other right answers to the 02-strings-and-counters exercises pass too, on fakeredis and on a real server."""

from __future__ import annotations

import redis


# -- strings.page_views ---------------------------------------------------------------------------------
def incr_by_one(r, page):
    return r.incrby(f"pageviews:{page}", 1)


def incr_in_a_transaction(r, page):
    pipe = r.pipeline(transaction=True)
    pipe.incr(f"pageviews:{page}")
    return pipe.execute()[0]


def watch_get_set_retry(r, page):
    key = f"pageviews:{page}"
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                count = int(pipe.get(key) or 0) + 1
                pipe.multi()
                pipe.set(key, count)
                pipe.execute()
                return count
            except redis.WatchError:
                continue


def lua_incr(r, page):
    return r.eval("return redis.call('INCR', KEYS[1])", 1, f"pageviews:{page}")


# -- strings.claim_username -------------------------------------------------------------------------------
def setnx(r, username, user_id):
    return r.setnx(f"username:{username}", user_id)


def set_nx_is_true(r, username, user_id):
    return r.set(f"username:{username}", user_id, nx=True) is True


def watch_exists_then_set(r, username, user_id):
    key = f"username:{username}"
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                if pipe.exists(key):
                    pipe.unwatch()
                    return False
                pipe.multi()
                pipe.set(key, user_id)
                pipe.execute()
                return True
            except redis.WatchError:
                continue


def lua_claim(r, username, user_id):
    script = "return redis.call('SET', KEYS[1], ARGV[1], 'NX') and 1 or 0"
    return r.eval(script, 1, f"username:{username}", user_id) == 1


ALTERNATIVES = [
    ("strings.page_views", incr_by_one),
    ("strings.page_views", incr_in_a_transaction),
    ("strings.page_views", watch_get_set_retry),
    ("strings.page_views", lua_incr),
    ("strings.claim_username", setnx),
    ("strings.claim_username", set_nx_is_true),
    ("strings.claim_username", watch_exists_then_set),
    ("strings.claim_username", lua_claim),
]
