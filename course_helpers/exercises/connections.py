"""01-connecting: building clients from URLs, and retrying only what a retry can fix."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import redis

from .._exercise import Exercise, Mutant
from .._probes import refuse_none, refuse_other_types
from .._quiz import Quiz
from .._trial import Trial

NOTEBOOK = "01-connecting"


# -- connections.make_client -------------------------------------------------------------------------
def make_client(url):
    return redis.Redis.from_url(url, decode_responses=True)


def _default_client_ignores_url(url):
    return redis.Redis(decode_responses=True)


def _bytes_client(url):
    return redis.Redis.from_url(url)


def _drops_database_number(url):
    return redis.Redis.from_url(url.rsplit("/", 1)[0], decode_responses=True)


def _returns_pool(url):
    return redis.ConnectionPool.from_url(url, decode_responses=True)


def _drops_credentials(url):
    parts = urlsplit(url)
    return redis.Redis(host=parts.hostname, port=parts.port, db=int(parts.path[1:]), decode_responses=True)


def check_make_client(t: Trial) -> str:
    url = t.url.rsplit("/", 1)[0] + "/3"  # in a browser tab, a placeholder that t.adopt() connects
    with t.adopt(redis.Redis.from_url(url, decode_responses=True)) as other_app:
        other_app.set("probe:greeting", "héllo wörld")
    client = t.call(url)
    refuse_none(t, client, "return the client you build, e.g. return redis.Redis.from_url(...).")
    if isinstance(client, redis.ConnectionPool):
        t.fail(f"{t.last_call} returned a ConnectionPool: wrap it, return redis.Redis(connection_pool=pool).")
    refuse_other_types(t, client, redis.Redis, "it should return a redis.Redis client.")
    t.adopt(client)
    try:
        value = client.get("probe:greeting")
    except redis.RedisError as error:
        t.fail(
            f"The client from {t.last_call} could not read from that server ({type(error).__name__}: {error}). "
            "Build it from the url argument, e.g. redis.Redis.from_url(url, ...), not from a fixed host and port."
        )
    finally:
        client.close()
    if value is None:
        t.fail(
            f"The client from {t.last_call} answered, but it does not see the key probe:greeting that exists in "
            "database 3 of that URL: it is connected to another server or database. "
            "redis.Redis.from_url(url, ...) takes host, port, password and database from the URL."
        )
    if isinstance(value, bytes):
        t.fail(
            f"client.get('probe:greeting') returned the bytes {value!r}, not the str 'héllo wörld': "
            "pass decode_responses=True so replies are decoded to str."
        )
    t.expect_equal(value, "héllo wörld", "client.get('probe:greeting')")

    # A URL with credentials: the check only inspects the client, it does not connect with them.
    secured = t.call(url.replace("redis://", "redis://ada:s3cret@", 1))
    settings = secured.connection_pool.connection_kwargs
    secured.close()
    if (settings.get("username"), settings.get("password")) != ("ada", "s3cret"):
        t.fail(
            f"The client from {t.last_call} would log in as username={settings.get('username')!r} with "
            f"password={settings.get('password')!r}, but the URL says ada / s3cret: the client must take the "
            "user name and password from the URL too, as redis.Redis.from_url(url, ...) does."
        )
    return "make_client builds a decoding client from any URL: host, port, database and credentials."


MAKE_CLIENT = Exercise(
    id="connections.make_client",
    title="A client from a URL that decodes replies",
    signature="make_client(url: str) -> redis.Redis",
    task="Return a redis.Redis client for the server and database in url whose replies are str, not bytes.",
    checker=check_make_client,
    reference=make_client,
    passes_client=False,
    hints=(
        "redis-py can build a client from a URL in one call: look at redis.Redis.from_url.",
        "from_url takes the same keyword arguments as redis.Redis(...); the one that turns bytes into str "
        "is decode_responses.",
        "return redis.Redis.from_url(url, decode_responses=True)",
    ),
    mutants=(
        Mutant(_default_client_ignores_url, "from_url(url"),
        Mutant(_bytes_client, "decode_responses=True"),
        Mutant(_drops_database_number, "another server or database"),
        Mutant(_returns_pool, "returned a ConnectionPool"),
        Mutant(_drops_credentials, "take the user name and password from the URL"),
    ),
)


# -- connections.get_with_retry ----------------------------------------------------------------------
def get_with_retry(r, key, attempts=3):
    for attempt in range(1, attempts + 1):
        try:
            return r.get(key)
        except (redis.ConnectionError, redis.TimeoutError):
            if attempt == attempts:
                raise  # out of attempts: the caller must know Redis is unreachable
            time.sleep(0.01 * 2**attempt)  # back off so a restarting server gets a moment
    return None


def _no_retry(r, key, attempts=3):
    return r.get(key)


def _swallows_the_failure(r, key, attempts=3):
    for _ in range(attempts):
        try:
            return r.get(key)
        except redis.ConnectionError:
            time.sleep(0.01)
    return None


def _retries_forever(r, key, attempts=3):
    while True:
        try:
            return r.get(key)
        except redis.ConnectionError:
            time.sleep(0.01)


def _retries_only_connection_errors(r, key, attempts=3):
    for attempt in range(1, attempts + 1):
        try:
            return r.get(key)
        except redis.ConnectionError:
            if attempt == attempts:
                raise
    return None


def _retries_every_error(r, key, attempts=3):
    for attempt in range(1, attempts + 1):
        try:
            return r.get(key)
        except redis.RedisError:
            if attempt == attempts:
                raise
    return None


def check_get_with_retry(t: Trial) -> str:
    pauses = t.fast_sleep()  # an honest backoff (sleep(2 ** attempt)) costs the check no time
    t.admin.set("user:1:name", "Ada")
    t.expect_equal(t.call("user:1:name"), "Ada", f"{t.last_call} with a healthy connection")
    t.expect(
        t.round_trips == 1, f"{t.last_call} sent {t.round_trips} commands on a healthy connection; one GET is enough."
    )

    network_errors = (redis.ConnectionError, redis.TimeoutError)
    link = t.break_connection(2)
    value, error = t.try_call("user:1:name", attempts=3, expected=network_errors)
    link.stop()
    if error is not None or link.attempts < 3:
        outcome = f"raised {type(error).__name__}" if error is not None else f"returned {value!r}"
        t.fail(
            f"The connection failed twice, then recovered; {t.last_call} tried {link.attempts} time(s) and "
            f"{outcome}. Catch redis.ConnectionError and try again, up to `attempts` times in all."
        )
    t.expect_equal(value, "Ada", f"{t.last_call} after two dropped connections")

    link = t.break_connection(10)
    value, error = t.try_call("user:1:name", attempts=3, expected=network_errors)
    link.stop()
    if link.attempts > 3:
        t.fail(f"{t.last_call} tried {link.attempts} times; it should stop after 3 attempts in all.")
    if error is None:
        t.fail(
            f"Every attempt of {t.last_call} failed, yet it returned {value!r}: after the last attempt re-raise the "
            "error (a bare `raise`), so the caller can tell 'Redis is down' from 'the key is missing'."
        )

    link = t.break_connection(1, error=redis.TimeoutError)
    value, error = t.try_call("user:1:name", attempts=3, expected=network_errors)
    link.stop()
    if error is not None:
        t.fail(
            f"The server was too slow once (TimeoutError), then answered; {t.last_call} raised "
            f"{type(error).__name__} instead of trying again. TimeoutError is not a ConnectionError: catch "
            "(redis.ConnectionError, redis.TimeoutError)."
        )
    t.expect_equal(value, "Ada", f"{t.last_call} after one timeout")

    t.admin.rpush("queue:jobs", "a")
    link = t.break_connection(0)
    value, error = t.try_call("queue:jobs", attempts=3, expected=(redis.RedisError,))
    link.stop()
    if link.attempts > 1:
        t.fail(
            f"{t.last_call} got WRONGTYPE (the key holds a list) and tried {link.attempts} times. WRONGTYPE is a "
            "mistake in the command, and sending the same command again cannot fix it: retry only ConnectionError "
            "and TimeoutError."
        )
    t.expect(
        isinstance(error, redis.ResponseError),
        f"{t.last_call} on a list key should let the ResponseError (WRONGTYPE) propagate, but it returned {value!r}.",
    )
    backoff = (
        " with a pause between tries" if pauses else " (a short pause between tries would be kinder to the server)"
    )
    return (
        f"get_with_retry retries dropped connections and timeouts{backoff}, stops after `attempts`, and lets a "
        "ResponseError such as WRONGTYPE through at once."
    )


GET_WITH_RETRY = Exercise(
    id="connections.get_with_retry",
    title="Retry what a retry can fix",
    signature="get_with_retry(r, key: str, attempts: int = 3) -> str | None",
    task="GET key; when the connection fails (ConnectionError or TimeoutError) pause briefly and try again, "
    "up to attempts tries in all, then re-raise. Any other error is raised at once.",
    checker=check_get_with_retry,
    reference=get_with_retry,
    hints=(
        "Loop over range(1, attempts + 1) and put r.get(key) inside try/except.",
        "Catch only (redis.ConnectionError, redis.TimeoutError): a ResponseError such as WRONGTYPE will "
        "fail the same way every time.",
        "In the except block: if this was the last attempt, `raise`; otherwise sleep a little (back off) "
        "and let the loop try again.",
    ),
    mutants=(
        Mutant(_no_retry, "tried 1 time(s) and raised ConnectionError"),
        Mutant(_swallows_the_failure, "re-raise the error"),
        Mutant(_retries_forever, "it should stop after 3 attempts"),
        Mutant(_retries_every_error, "retry only ConnectionError"),
        Mutant(_retries_only_connection_errors, "TimeoutError is not a ConnectionError"),
    ),
)


EXERCISES = [MAKE_CLIENT, GET_WITH_RETRY]


QUIZZES = [
    Quiz(
        id="connections.quiz_retry",
        question=(
            "A GET fails with WRONGTYPE (Operation against a key holding the wrong kind of value). Should your code "
            "retry it?"
        ),
        options=(
            "Yes, with exponential backoff",
            "Yes, but only once",
            "No: the command is wrong and will fail again",
        ),
        answer=2,
        explanation=(
            "WRONGTYPE means the key holds another type: the same command fails the same way every time. Retry "
            "connection problems (ConnectionError, TimeoutError). The few server errors that do pass (READONLY after "
            "a failover, a cluster's MOVED or TRYAGAIN) need a reconnection or a redirect, which redis-py's Sentinel "
            "and cluster clients do for you."
        ),
    ),
]
