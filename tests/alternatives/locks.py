"""Other right answers to the 14-locks exercises pass too, on fakeredis and on a real server."""

from __future__ import annotations

import os
import secrets
import uuid

import redis


# -- locks.acquire ---------------------------------------------------------------------------------------------
def acquire_with_uuid4(r, name, ttl_ms):
    token = str(uuid.uuid4())
    return token if r.set(f"lock:{name}", token, nx=True, px=ttl_ms) else None


def acquire_with_urandom(r, name, ttl_ms):
    token = os.urandom(16).hex()
    ok = r.set(f"lock:{name}", token, px=ttl_ms, nx=True)
    return token if ok else None


def acquire_with_redis_py_lock(r, name, ttl_ms):
    token = secrets.token_urlsafe(16)
    lock = r.lock(f"lock:{name}", timeout=ttl_ms / 1000, blocking=False)
    return token if lock.acquire(token=token) else None


# -- locks.release ---------------------------------------------------------------------------------------------
def release_with_registered_script(r, name, token):
    compare_and_delete = r.register_script(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
    )
    return bool(compare_and_delete(keys=[f"lock:{name}"], args=[token]))


def release_with_watch(r, name, token):
    key = f"lock:{name}"
    with r.pipeline() as pipe:
        try:
            pipe.watch(key)
            if pipe.get(key) != token:
                pipe.unwatch()
                return False
            pipe.multi()
            pipe.delete(key)
            pipe.execute()  # fails with WatchError if the key changed after WATCH
            return True
        except redis.WatchError:
            return False


# -- locks.extend -----------------------------------------------------------------------------------------------
def extend_with_registered_script(r, name, token, ttl_ms):
    script = r.register_script(
        "if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end redis.call('pexpire', KEYS[1], ARGV[2]) return 1"
    )
    return script(keys=[f"lock:{name}"], args=[token, ttl_ms]) == 1


def extend_with_watch(r, name, token, ttl_ms):
    key = f"lock:{name}"
    with r.pipeline() as pipe:
        try:
            pipe.watch(key)
            if pipe.get(key) != token:
                return False
            pipe.multi()
            pipe.pexpire(key, ttl_ms)
            return bool(pipe.execute()[0])
        except redis.WatchError:
            return False


def extend_with_redis_py_lock(r, name, token, ttl_ms):
    lock = r.lock(f"lock:{name}", timeout=ttl_ms / 1000)  # extend() refuses a lock made without a timeout
    lock.local.token = token
    try:
        return lock.extend(ttl_ms / 1000, replace_ttl=True)
    except redis.exceptions.LockNotOwnedError:
        return False


ALTERNATIVES = [
    ("locks.acquire", acquire_with_uuid4),
    ("locks.acquire", acquire_with_urandom),
    ("locks.acquire", acquire_with_redis_py_lock),
    ("locks.release", release_with_registered_script),
    ("locks.release", release_with_watch),
    ("locks.extend", extend_with_registered_script),
    ("locks.extend", extend_with_watch),
    ("locks.extend", extend_with_redis_py_lock),
]
