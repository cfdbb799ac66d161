"""Other right answers to the 01-connecting exercises pass too, on fakeredis and on a real server."""

from __future__ import annotations

import time

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry


# -- connections.make_client ------------------------------------------------------------------------------
def make_client_through_a_pool(url):
    return redis.Redis(connection_pool=redis.ConnectionPool.from_url(url, decode_responses=True))


def make_client_from_parse_url(url):
    return redis.Redis(**redis.connection.parse_url(url), decode_responses=True)


# -- connections.get_with_retry -----------------------------------------------------------------------------
def get_with_retry_counting_failures(r, key, attempts=3):
    failures = 0
    while True:
        try:
            return r.get(key)
        except (redis.ConnectionError, redis.TimeoutError):
            failures += 1
            if failures >= attempts:
                raise
            time.sleep(0.05)


def get_with_redis_py_retry(r, key, attempts=3):
    # redis-py's own Retry calls the command attempts times in all (1 + retries), then re-raises.
    retry = Retry(ExponentialBackoff(cap=0.1, base=0.01), attempts - 1)
    return retry.call_with_retry(lambda: r.get(key), lambda _error: None)


ALTERNATIVES = [
    ("connections.make_client", make_client_through_a_pool),
    ("connections.make_client", make_client_from_parse_url),
    ("connections.get_with_retry", get_with_retry_counting_failures),
    ("connections.get_with_retry", get_with_redis_py_retry),
]
