"""Other right answers to the caching exercises pass too, on fakeredis and on a real redis-server."""

from __future__ import annotations

import glob
import json
from datetime import timedelta


# -- caching.cache_aside -----------------------------------------------------------------------------
def cache_aside_with_setex(r, key, loader, ttl):
    if (raw := r.get(key)) is not None:
        return json.loads(raw)
    value = loader()
    r.setex(key, ttl, json.dumps(value))
    return value


def cache_aside_with_set_then_expire_in_a_pipeline(r, key, loader, ttl):
    raw = r.get(key)
    if raw is None:
        value = loader()
        with r.pipeline() as pipe:
            pipe.set(key, json.dumps(value, sort_keys=True))
            pipe.expire(key, timedelta(seconds=ttl))
            pipe.execute()
        return value
    return json.loads(raw)


def cache_aside_with_milliseconds(r, key, loader, ttl):
    cached = r.get(key)
    if cached is None:
        value = loader()
        r.set(key, json.dumps(value), px=ttl * 1000)
        return value
    return json.loads(cached)


# -- caching.invalidate_prefix -----------------------------------------------------------------------
def invalidate_by_filtering_every_key(r, prefix):
    doomed = [key for key in r.scan_iter(count=1000) if key.startswith(prefix)]
    return sum(r.delete(key) for key in doomed)


def invalidate_with_a_cursor_loop(r, prefix):
    pattern = "".join(f"\\{char}" if char in "*?[]\\" else char for char in prefix) + "*"
    cursor, deleted = 0, 0
    while True:
        cursor, keys = r.scan(cursor, match=pattern, count=200)
        if keys:
            deleted += r.unlink(*keys)
        if cursor == 0:
            return deleted


def invalidate_with_glob_escape(r, prefix):
    # glob.escape writes [*] and [[]: character classes that Redis patterns understand too. It leaves a
    # backslash alone, which Redis reads as an escape, so double it first.
    deleted = 0
    for key in r.scan_iter(match=glob.escape(prefix.replace("\\", "\\\\")) + "*"):
        if key.startswith(prefix):
            deleted += r.delete(key)
    return deleted


# -- caching.negative_cache --------------------------------------------------------------------------
MISSING = "__not_found__"


def find_user_with_a_string_marker(r, user_id, lookup, ttl=300, miss_ttl=30):
    key = f"user:{user_id}"
    cached = r.get(key)
    if cached == MISSING:
        return None
    if cached is not None:
        return json.loads(cached)
    user = lookup(user_id)
    if user is None:
        r.set(key, MISSING, ex=miss_ttl)
    else:
        r.setex(key, ttl, json.dumps(user))
    return user


def find_user_with_an_empty_marker(r, user_id, lookup, ttl=300, miss_ttl=30):
    key = f"user:{user_id}"
    cached = r.get(key)
    if cached is not None:
        return json.loads(cached) if cached else None
    user = lookup(user_id)
    with r.pipeline() as pipe:
        pipe.set(key, json.dumps(user) if user else "")
        pipe.expire(key, ttl if user else miss_ttl)
        pipe.execute()
    return user


ALTERNATIVES = [
    ("caching.cache_aside", cache_aside_with_setex),
    ("caching.cache_aside", cache_aside_with_set_then_expire_in_a_pipeline),
    ("caching.cache_aside", cache_aside_with_milliseconds),
    ("caching.invalidate_prefix", invalidate_by_filtering_every_key),
    ("caching.invalidate_prefix", invalidate_with_a_cursor_loop),
    ("caching.invalidate_prefix", invalidate_with_glob_escape),
    ("caching.negative_cache", find_user_with_a_string_marker),
    ("caching.negative_cache", find_user_with_an_empty_marker),
]
