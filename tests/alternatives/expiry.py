"""Other right answers to the 03-expiry-and-rate-limits exercises pass too, on fakeredis and on a real server."""

from __future__ import annotations

from datetime import timedelta


# -- expiry.cache_token -----------------------------------------------------------------------------------
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


# -- expiry.rate_limit ------------------------------------------------------------------------------------
def multi_incr_then_expire_nx(r, user_id, limit, window):
    # Redis 7.0+: EXPIRE ... NX gives the counter an expiry only when it has none.
    key = f"ratelimit:{user_id}"
    with r.pipeline() as pipe:
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        count, _ = pipe.execute()
    return count <= limit


def multi_incr_expire_nx_chained(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    pipe = r.pipeline(transaction=True)
    pipe.incr(key).expire(key, timedelta(seconds=window), nx=True)
    count = pipe.execute()[0]
    return bool(count <= limit)


def multi_set_nx_px_then_incrby(r, user_id, limit, window):
    key = f"ratelimit:{user_id}"
    pipe = r.pipeline()
    pipe.set(key, 0, px=window * 1000, nx=True)
    pipe.incrby(key, 1)
    return pipe.execute()[-1] <= limit


def lua_incr_then_expire_on_first(r, user_id, limit, window):
    script = """
    local count = redis.call('INCR', KEYS[1])
    if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
    return count
    """
    return r.eval(script, 1, f"ratelimit:{user_id}", window) <= limit


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
    ("expiry.cache_token", setex),
    ("expiry.cache_token", set_px_in_milliseconds),
    ("expiry.cache_token", psetex),
    ("expiry.cache_token", set_ex_timedelta),
    ("expiry.cache_token", set_and_expire_in_multi),
    ("expiry.rate_limit", multi_incr_then_expire_nx),
    ("expiry.rate_limit", multi_incr_expire_nx_chained),
    ("expiry.rate_limit", multi_set_nx_px_then_incrby),
    ("expiry.rate_limit", lua_incr_then_expire_on_first),
    ("expiry.rate_limit", lua_refuses_without_counting),
]
