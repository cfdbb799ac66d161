"""Other right answers to the 06-sets exercises pass too (checks test behaviour, not one spelling)."""

from __future__ import annotations

from datetime import timedelta


def common_tags_client_side(r, post_a, post_b):
    return r.smembers(f"tags:post:{post_a}") & r.smembers(f"tags:post:{post_b}")


def common_tags_pipelined(r, post_a, post_b):
    with r.pipeline(transaction=False) as pipe:
        pipe.smembers(f"tags:post:{post_a}")
        pipe.smembers(f"tags:post:{post_b}")
        tags_a, tags_b = pipe.execute()
    return frozenset(tags_a.intersection(tags_b))


def record_visitor_in_one_transaction(r, page, day, visitor):
    key = f"visitors:{page}:{day}"
    with r.pipeline() as pipe:
        pipe.sadd(key, visitor)
        pipe.expire(key, timedelta(days=7))
        pipe.scard(key)
        *_, count = pipe.execute()
    return count


def record_visitor_in_multi_then_scard(r, page, day, visitor):
    key = f"visitors:{page}:{day}"
    r.pipeline().sadd(key, visitor).expire(key, 604800).execute()  # the write and its expiry: one transaction
    return r.scard(key)  # a read needs no transaction


def record_visitor_in_lua(r, page, day, visitor):
    script = (
        "redis.call('SADD', KEYS[1], ARGV[1]) redis.call('EXPIRE', KEYS[1], ARGV[2]) "
        "return redis.call('SCARD', KEYS[1])"
    )
    return r.eval(script, 1, f"visitors:{page}:{day}", visitor, 7 * 24 * 3600)


def common_tags_sinterstore_into_a_deleted_key(r, post_a, post_b):
    scratch = f"scratch:common:{post_a}:{post_b}"
    try:
        r.sinterstore(scratch, [f"tags:post:{post_a}", f"tags:post:{post_b}"])
        return r.smembers(scratch)
    finally:
        r.delete(scratch)


def suggest_friends_with_a_scratch_key(r, user):
    friends = r.smembers(f"friends:{user}")
    if not friends:
        return set()
    scratch = f"scratch:suggest:{user}"
    r.sunionstore(scratch, [f"friends:{friend}" for friend in friends])
    try:
        return r.sdiff(scratch, f"friends:{user}") - {user}
    finally:
        r.delete(scratch)


def suggest_friends_in_python(r, user):
    friends = r.smembers(f"friends:{user}")
    suggestions = set()
    for friend in friends:
        suggestions |= r.smembers(f"friends:{friend}")
    suggestions.discard(user)
    return suggestions - friends


ALTERNATIVES = [
    ("sets.common_tags", common_tags_client_side),
    ("sets.common_tags", common_tags_pipelined),
    ("sets.record_visitor", record_visitor_in_one_transaction),
    ("sets.common_tags", common_tags_sinterstore_into_a_deleted_key),
    ("sets.record_visitor", record_visitor_in_multi_then_scard),
    ("sets.record_visitor", record_visitor_in_lua),
    ("sets.suggest_friends", suggest_friends_with_a_scratch_key),
    ("sets.suggest_friends", suggest_friends_in_python),
]
