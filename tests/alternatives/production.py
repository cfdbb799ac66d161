"""Other right answers to the 16-production exercises pass too, on fakeredis and on a real server."""

from __future__ import annotations

import heapq

import redis

_SIZE = {"string": "strlen", "list": "llen", "hash": "hlen", "set": "scard", "zset": "zcard"}


# -- production.biggest_keys ----------------------------------------------------------------------------
def collect_names_then_one_pipeline(r, kind, n=5):
    keys = set(r.scan_iter(_type=kind))  # a set: SCAN may return a name twice
    pipe = r.pipeline(transaction=False)
    for key in keys:
        getattr(pipe, _SIZE[kind])(key)
    return heapq.nlargest(n, zip(keys, pipe.execute(), strict=True), key=lambda pair: pair[1])


def type_then_size_for_each_page(r, kind, n=5):
    sizes = {}
    cursor = 0
    while True:
        cursor, keys = r.scan(cursor, count=200)
        with r.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.type(key)
            ours = [key for key, found in zip(keys, pipe.execute(), strict=True) if found == kind]
            for key in ours:
                getattr(pipe, _SIZE[kind])(key)
            sizes.update(zip(ours, pipe.execute(), strict=True))
        if cursor == 0:
            return [[key, size] for key, size in sorted(sizes.items(), key=lambda pair: -pair[1])[:n]]


# -- production.expire_cache_keys -------------------------------------------------------------------------
def expire_nx_one_pipeline_per_page(r, prefix, ttl):
    given = 0
    cursor = 0
    while True:
        cursor, keys = r.scan(cursor, match=f"{prefix}*", count=200)
        pipe = r.pipeline(transaction=False)
        for key in keys:
            pipe.expire(key, ttl, nx=True)
        given += sum(pipe.execute())
        if cursor == 0:
            return given


def watch_ttl_then_expire(r, prefix, ttl):
    given = 0
    for key in r.scan_iter(match=f"{prefix}*"):
        with r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    if pipe.ttl(key) != -1:
                        pipe.unwatch()
                        break
                    pipe.multi()
                    pipe.expire(key, ttl)
                    pipe.execute()
                    given += 1
                    break
                except redis.WatchError:
                    continue
    return given


EXPIRE_IF_NO_TTL = """
if redis.call('TTL', KEYS[1]) == -1 then
  return redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return 0
"""


def lua_check_and_expire(r, prefix, ttl):  # also right on Redis 6.2, which has no EXPIRE ... NX
    expire_if_no_ttl = r.register_script(EXPIRE_IF_NO_TTL)
    return sum(expire_if_no_ttl(keys=[key], args=[ttl]) for key in r.scan_iter(match=f"{prefix}*", count=500))


# -- production.user_keys ----------------------------------------------------------------------------------
def id_alone_in_braces(user_id):
    return f"cart:{{{user_id}}}", f"orders:{{{user_id}}}"


def tag_first(user_id):
    return (f"{{{user_id}}}:cart", f"{{{user_id}}}:orders")


# -- production.app_user ------------------------------------------------------------------------------------
def raw_acl_setuser(r, name, password, prefix, commands):
    rules = ["reset", "on", f">{password}", f"~{prefix}*", *(f"+{command}" for command in commands)]
    r.execute_command("ACL", "SETUSER", name, *rules)


def delete_then_create(r, name, password, prefix, commands):
    r.acl_deluser(name)
    r.acl_setuser(
        name, enabled=True, passwords=[f"+{password}"], keys=[f"{prefix}*"], commands=[f"+{c}" for c in commands]
    )


def each_reset_by_name(r, name, password, prefix, commands):
    rules = ["resetpass", "resetkeys", "nocommands", "on", f">{password}", f"~{prefix}*"]
    r.execute_command("ACL", "SETUSER", name, *rules, *(f"+{command}" for command in commands))


ALTERNATIVES = [
    ("production.biggest_keys", collect_names_then_one_pipeline),
    ("production.biggest_keys", type_then_size_for_each_page),
    ("production.expire_cache_keys", expire_nx_one_pipeline_per_page),
    ("production.expire_cache_keys", watch_ttl_then_expire),
    ("production.expire_cache_keys", lua_check_and_expire),
    ("production.user_keys", id_alone_in_braces),
    ("production.user_keys", tag_first),
    ("production.app_user", raw_acl_setuser),
    ("production.app_user", delete_then_create),
    ("production.app_user", each_reset_by_name),
]
