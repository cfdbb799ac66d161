"""Other right answers to the 02-strings-and-keys exercises pass too, on fakeredis and on a real server."""

from __future__ import annotations

from datetime import timedelta

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


# -- strings.cache_token ----------------------------------------------------------------------------------
def setex(r, token, user_id, ttl_seconds):
    r.setex(f"token:{token}", ttl_seconds, user_id)


def set_px_in_milliseconds(r, token, user_id, ttl_seconds):
    r.set(f"token:{token}", user_id, px=ttl_seconds * 1000)


def psetex(r, token, user_id, ttl_seconds):
    r.psetex(f"token:{token}", ttl_seconds * 1000, user_id)


def set_ex_timedelta(r, token, user_id, ttl_seconds):
    r.set(f"token:{token}", user_id, ex=timedelta(seconds=ttl_seconds))


def set_and_expire_in_multi(r, token, user_id, ttl_seconds):
    pipe = r.pipeline(transaction=True)
    pipe.set(f"token:{token}", user_id)
    pipe.expire(f"token:{token}", ttl_seconds)
    pipe.execute()


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


# -- strings.rate_limit -----------------------------------------------------------------------------------
def set_nx_ex_then_incr(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    r.set(key, 0, ex=window, nx=True)  # a new window: the counter is created together with its expiry
    return r.incr(key) <= limit


def lua_incr_then_expire_on_first(r, user_id, limit, window):
    script = """
    local count = redis.call('INCR', KEYS[1])
    if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
    return count
    """
    return r.eval(script, 1, f"ratelimit:{user_id}", window) <= limit


def multi_incr_expire_nx_explicit(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    pipe = r.pipeline(transaction=True)
    pipe.incr(key).expire(key, timedelta(seconds=window), nx=True)
    count = pipe.execute()[0]
    return bool(count <= limit)


def multi_set_nx_ex_and_incr(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    with r.pipeline() as pipe:
        pipe.set(key, 0, ex=window, nx=True)
        pipe.incr(key)
        _, count = pipe.execute()
    return count <= limit


def lua_refuses_without_counting(r, user_id, limit, window):
    script = """
    local count = tonumber(redis.call('GET', KEYS[1]) or '0')
    if count >= tonumber(ARGV[1]) then return 0 end
    redis.call('INCR', KEYS[1])
    if count == 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
    return 1
    """
    return r.eval(script, 1, f"ratelimit:{user_id}", limit, window) == 1


ALTERNATIVES = [
    ("strings.page_views", incr_by_one),
    ("strings.page_views", incr_in_a_transaction),
    ("strings.page_views", watch_get_set_retry),
    ("strings.page_views", lua_incr),
    ("strings.cache_token", setex),
    ("strings.cache_token", set_px_in_milliseconds),
    ("strings.cache_token", psetex),
    ("strings.cache_token", set_ex_timedelta),
    ("strings.cache_token", set_and_expire_in_multi),
    ("strings.claim_username", setnx),
    ("strings.claim_username", set_nx_is_true),
    ("strings.claim_username", watch_exists_then_set),
    ("strings.claim_username", lua_claim),
    ("strings.rate_limit", set_nx_ex_then_incr),
    ("strings.rate_limit", lua_incr_then_expire_on_first),
    ("strings.rate_limit", multi_incr_expire_nx_explicit),
    ("strings.rate_limit", multi_set_nx_ex_and_incr),
    ("strings.rate_limit", lua_refuses_without_counting),
]
