"""08-transactions: other right answers pass, on fakeredis and on a real redis-server."""

from __future__ import annotations

import redis


# -- transactions.place_order -----------------------------------------------------------------------------
def place_order_lua(r, order_id, user, total):
    script = """
    redis.call('HSET', KEYS[1], 'user', ARGV[2], 'total', ARGV[3])
    redis.call('RPUSH', KEYS[2], ARGV[1])
    return redis.call('INCRBY', KEYS[3], ARGV[3])
    """
    return r.eval(script, 3, f"order:{order_id}", f"orders:{user}", "revenue", order_id, user, total)


def place_order_explicit_multi(r, order_id, user, total):
    pipe = r.pipeline(transaction=True)
    pipe.multi()
    pipe.hset(f"order:{order_id}", "user", user)
    pipe.hset(f"order:{order_id}", "total", total)
    pipe.rpush(f"orders:{user}", order_id)
    pipe.incrby("revenue", total)
    replies = pipe.execute()
    return replies[3]


def place_order_reading_revenue_inside_the_transaction(r, order_id, user, total):
    pipe = r.pipeline()
    pipe.hset(f"order:{order_id}", mapping={"user": user, "total": total})
    pipe.rpush(f"orders:{user}", order_id)
    pipe.incrby("revenue", total)
    pipe.get("revenue")  # queued: runs inside MULTI/EXEC, so nobody else's INCRBY can come in between
    *_, revenue = pipe.execute()
    return int(revenue)


# -- transactions.transfer -----------------------------------------------------------------------------
def transfer_with_transaction_helper(r, src, dst, amount):
    def move(pipe):
        if int(pipe.get(f"balance:{src}") or 0) < amount:
            return False
        pipe.multi()
        pipe.decrby(f"balance:{src}", amount)
        pipe.incrby(f"balance:{dst}", amount)
        return True

    return r.transaction(move, f"balance:{src}", value_from_callable=True)


def transfer_with_lua(r, src, dst, amount):
    script = r.register_script(
        """
        local balance = tonumber(redis.call('GET', KEYS[1]) or '0')
        if balance < tonumber(ARGV[1]) then return 0 end
        redis.call('DECRBY', KEYS[1], ARGV[1])
        redis.call('INCRBY', KEYS[2], ARGV[1])
        return 1
        """
    )
    return script(keys=[f"balance:{src}", f"balance:{dst}"], args=[amount]) == 1


def transfer_with_lua_that_undoes(r, src, dst, amount):
    # DECRBY, then INCRBY back when it went negative: fine inside a script, where nobody sees the moment in
    # between; it leaves "0" in a source key that was missing, which is the same balance.
    script = """
    if redis.call('DECRBY', KEYS[1], ARGV[1]) < 0 then
        redis.call('INCRBY', KEYS[1], ARGV[1])
        return 0
    end
    redis.call('INCRBY', KEYS[2], ARGV[1])
    return 1
    """
    return r.eval(script, 2, f"balance:{src}", f"balance:{dst}", amount) == 1


def transfer_watching_both_and_setting(r, src, dst, amount):
    keys = [f"balance:{src}", f"balance:{dst}"]
    while True:
        with r.pipeline() as pipe:
            try:
                pipe.watch(*keys)
                have, target = (int(value or 0) for value in pipe.mget(keys))
                if have < amount:
                    return False
                pipe.multi()
                pipe.set(keys[0], have - amount)
                pipe.set(keys[1], target + amount)
                pipe.execute()
                return True
            except redis.WatchError:
                pass


# -- transactions.compare_and_set ----------------------------------------------------------------------
def compare_and_set_registered(r, key, expected, new):
    swap = r.register_script(
        "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end redis.call('SET', KEYS[1], ARGV[2]) return 1"
    )
    return bool(swap(keys=[key], args=[expected, new]))


def compare_and_set_lua_boolean(r, key, expected, new):
    # Lua true becomes the integer 1, Lua false becomes nil (None).
    script = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return true end"
    return r.eval(script, 1, key, expected, new) is not None


ALTERNATIVES = [
    ("transactions.place_order", place_order_lua),
    ("transactions.place_order", place_order_explicit_multi),
    ("transactions.place_order", place_order_reading_revenue_inside_the_transaction),
    ("transactions.transfer", transfer_with_transaction_helper),
    ("transactions.transfer", transfer_with_lua),
    ("transactions.transfer", transfer_with_lua_that_undoes),
    ("transactions.transfer", transfer_watching_both_and_setting),
    ("transactions.compare_and_set", compare_and_set_registered),
    ("transactions.compare_and_set", compare_and_set_lua_boolean),
]
