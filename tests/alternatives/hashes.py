"""Other right answers to the 05-hashes exercises pass too, on fakeredis and on a real server."""

from __future__ import annotations

import redis


# -- hashes.save_user -------------------------------------------------------------------------------------
def pipelined_hsets(r, user_id, profile):
    pipe = r.pipeline()
    for field, value in profile.items():
        pipe.hset(f"user:{user_id}", field, value)
    pipe.execute()


def hset_items(r, user_id, profile):
    r.hset(f"user:{user_id}", items=[part for pair in profile.items() for part in pair])


def raw_hset_command(r, user_id, profile):
    r.execute_command("HSET", f"user:{user_id}", *[part for pair in profile.items() for part in pair])


# -- hashes.load_user -------------------------------------------------------------------------------------
def hgetall_if_not_empty(r, user_id):
    profile = r.hgetall(f"user:{user_id}")
    return dict(profile) if profile else None


def exists_and_hgetall_in_multi(r, user_id):
    key = f"user:{user_id}"
    exists, profile = r.pipeline(transaction=True).exists(key).hgetall(key).execute()
    return profile if exists else None


# -- hashes.add_points ------------------------------------------------------------------------------------
def hincrby_in_a_transaction(r, user_id, points):
    return r.pipeline(transaction=True).hincrby(f"user:{user_id}", "points", points).execute()[0]


def watch_hget_hset_retry(r, user_id, points):
    key = f"user:{user_id}"
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                total = int(pipe.hget(key, "points") or 0) + points
                pipe.multi()
                pipe.hset(key, "points", total)
                pipe.execute()
                return total
            except redis.WatchError:
                continue


def lua_hincrby(r, user_id, points):
    return r.eval("return redis.call('HINCRBY', KEYS[1], 'points', ARGV[1])", 1, f"user:{user_id}", points)


def hincrby_then_a_later_command(r, user_id, points):
    key = f"user:{user_id}"
    total = r.hincrby(key, "points", points)  # the reply is this call's own total
    r.persist(key)  # a later command: another client's HINCRBY may land before it, without changing total
    return total


ALTERNATIVES = [
    ("hashes.save_user", pipelined_hsets),
    ("hashes.save_user", hset_items),
    ("hashes.save_user", raw_hset_command),
    ("hashes.load_user", hgetall_if_not_empty),
    ("hashes.load_user", exists_and_hgetall_in_multi),
    ("hashes.add_points", hincrby_in_a_transaction),
    ("hashes.add_points", watch_hget_hset_retry),
    ("hashes.add_points", lua_hincrby),
    ("hashes.add_points", hincrby_then_a_later_command),
]
