"""Other right answers to the 05-hashes session exercises pass too (checks test behaviour, not one spelling)."""

from __future__ import annotations

import os
import secrets
import uuid


# -- sessions.create_session ------------------------------------------------------------------------------
def hex_id_in_lua(r, fields, ttl):
    session_id = secrets.token_hex(16)  # 32 hex characters: 128 bits
    script = "redis.call('HSET', KEYS[1], unpack(ARGV, 2)) redis.call('EXPIRE', KEYS[1], ARGV[1])"
    pairs = [part for field_value in fields.items() for part in field_value]
    r.eval(script, 1, f"session:{session_id}", ttl, *pairs)  # a script runs as one atomic step
    return session_id


def longer_id_chained_transaction(r, fields, ttl):
    session_id = secrets.token_urlsafe()  # the default, 32 bytes: 256 bits
    key = f"session:{session_id}"
    r.pipeline(transaction=True).hset(key, mapping=fields).expire(key, ttl).execute()
    return session_id


def urandom_id_pexpire_in_multi(r, fields, ttl):
    session_id = os.urandom(16).hex()
    key = f"session:{session_id}"
    with r.pipeline() as pipe:
        pipe.hset(key, mapping=fields)
        pipe.pexpire(key, ttl * 1000)  # milliseconds, converted
        pipe.execute()
    return session_id


def uuid4_id(r, fields, ttl):
    session_id = uuid.uuid4().hex  # 122 random bits: far beyond guessing
    with r.pipeline() as pipe:
        pipe.hset(f"session:{session_id}", mapping=fields)
        pipe.expire(f"session:{session_id}", ttl)
        pipe.execute()
    return session_id


def prefixed_id(r, fields, ttl):
    session_id = f"s1-{secrets.token_urlsafe(18)}"  # a fixed prefix is fine: the random part has 144 bits
    key = f"session:{session_id}"
    with r.pipeline() as pipe:
        pipe.hset(key, mapping=fields)
        pipe.expire(key, ttl)
        pipe.execute()
    return session_id


# -- sessions.load_session --------------------------------------------------------------------------------
def expire_then_hgetall_in_multi(r, session_id, ttl):
    key = f"session:{session_id}"
    _, fields = r.pipeline().expire(key, ttl).hgetall(key).execute()
    return fields


def pipeline_without_transaction(r, session_id, ttl):
    key = f"session:{session_id}"
    with r.pipeline(transaction=False) as pipe:  # one round trip; EXPIRE alone can never revive a session
        pipe.hgetall(key)
        pipe.expire(key, ttl)
        fields, _ = pipe.execute()
    return dict(fields)


def lua_read_and_extend(r, session_id, ttl):
    script = "redis.call('EXPIRE', KEYS[1], ARGV[1]) return redis.call('HGETALL', KEYS[1])"
    flat = r.eval(script, 1, f"session:{session_id}", ttl)
    return dict(zip(flat[::2], flat[1::2], strict=True))


ALTERNATIVES = [
    ("sessions.create_session", uuid4_id),
    ("sessions.create_session", hex_id_in_lua),
    ("sessions.create_session", longer_id_chained_transaction),
    ("sessions.create_session", urandom_id_pexpire_in_multi),
    ("sessions.create_session", prefixed_id),
    ("sessions.load_session", expire_then_hgetall_in_multi),
    ("sessions.load_session", pipeline_without_transaction),
    ("sessions.load_session", lua_read_and_extend),
]
