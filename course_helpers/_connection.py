"""Choose the Redis the course talks to (REDIS_URL, a local server, or the embedded fakeredis) and connect."""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import fakeredis
import redis

from ._class_link import join_class_if_linked
from ._embedded import EmbeddedServer
from ._notebook import install_error_feedback
from ._programs import MIN_SERVER_VERSION, how_to_start_a_server, too_old, version_numbers
from ._safety import CourseEnvironmentError, claim_database, clear_course_database
from ._scheduler import Scheduler, install_cooperative_conditions
from ._urls import redact, split_db
from ._wire import NO_RETRY, SERVER_WIDE_COMMANDS, watched_connection_class

FAKE_EMULATES = (8, 0)  # the Redis version the embedded fakeredis answers as
LOCAL_URL = "redis://localhost:6379"
IN_PROCESS_OPTIONS = frozenset({"protocol", "encoding", "encoding_errors"})  # connect() options a browser honours
LOCAL_PROBE_SECONDS = 0.3
REMOTE_PROBE_SECONDS = 2.0

Kind = Literal["real", "fake"]


@dataclass
class Backend:
    """The Redis server the course uses in this process, and the database it claimed there."""

    kind: Kind
    origin: str  # "REDIS_URL", "localhost", "embedded" or "in-process"
    base_url: str | None
    db: int
    version: str
    note: str = ""
    _embedded: EmbeddedServer | None = field(default=None, repr=False)
    _fake_server: fakeredis.FakeServer | None = field(default=None, repr=False)

    @property
    def url(self) -> str | None:
        """The redis:// URL of the course's database, password included (do not print it)."""
        return None if self.base_url is None else f"{self.base_url}/{self.db}"

    @property
    def version_tuple(self) -> tuple[int, ...]:
        """The server's version as numbers, (7, 0, 15); for fakeredis, the version it emulates."""
        return FAKE_EMULATES if self.kind == "fake" else version_numbers(self.version)

    @property
    def host(self) -> str:
        """Host name of the server."""
        return urlsplit(self.base_url or "redis://127.0.0.1").hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        """TCP port of the server."""
        return urlsplit(self.base_url or "redis://127.0.0.1").port or 6379

    @property
    def login(self) -> dict[str, str]:
        """username= and password= for a client built by hand, as the server asks (a classroom seat, a hosted
        Redis); {} when it asks for none. Pass it on: redis.Redis(host=..., port=..., **backend().login)."""
        parts = urlsplit(self.base_url or "")
        found = {"username": parts.username, "password": parts.password}
        return {name: unquote(value) for name, value in found.items() if value}

    def client(self, decode_responses: bool = True, **kwargs: Any) -> redis.Redis:
        """A new client for the course's database that refuses commands reaching beyond it."""
        if self._fake_server is not None:  # Pyodide: no sockets, the fake server lives in this process
            # What shapes replies (protocol=3, encodings) still applies; socket options have nothing to act on.
            kept = {key: value for key, value in kwargs.items() if key in IN_PROCESS_OPTIONS}
            pool = redis.ConnectionPool(
                connection_class=_in_process_connection_class(),
                server=self._fake_server,
                db=self.db,
                decode_responses=decode_responses,
                **kept,
            )
            return redis.Redis(connection_pool=pool)
        assert self.url is not None
        connection_class = watched_connection_class(redis.Connection, refuse=SERVER_WIDE_COMMANDS)
        pool = redis.ConnectionPool.from_url(
            self.url, connection_class=connection_class, decode_responses=decode_responses, **kwargs
        )
        return redis.Redis(connection_pool=pool)

    def banner(self) -> str:
        """One line: which Redis, which version, and how to switch."""
        where = "" if self.base_url is None else f" at {redact(self.base_url)}"
        if self.origin == "in-process":
            return (
                f"Running in your browser, built-in fakeredis {self.version}, database {self.db}: its data lives in "
                "this tab and is gone when the kernel restarts. For a real Redis server, open the course in "
                f"JupyterLab or on Binder.{f' {self.note}' if self.note else ''}"
            )
        if self.kind == "real":
            switch = "set COURSE_BACKEND=fake and restart the kernel to use the built-in fakeredis instead"
            text = f"Using real Redis {self.version}{where}, database {self.db} (the course's own)"
            if self.version_tuple[:1] < (7,):
                text += (
                    f". Redis {self.version} runs every lesson; the few cells that need Redis 7 show what they "
                    "print there instead of running"
                )
        else:
            switch = (
                "start a Redis server and restart the kernel to use it instead "
                "(`python -m course_helpers doctor` shows how)"
            )
            text = f"Using the built-in fakeredis {self.version}{where}, database {self.db}"
        note = f" {self.note}" if self.note else ""
        return f"{text}; {switch}.{note}"


_lock = threading.Lock()
_current: Backend | None = None


def _ping(url: str, seconds: float) -> tuple[bool, str]:
    client = redis.Redis.from_url(url, socket_connect_timeout=seconds, socket_timeout=seconds)
    try:
        client.ping()
        return True, ""
    except redis.AuthenticationError as error:
        return False, f"the server refused the credentials ({error})"
    except redis.ResponseError as error:
        return False, f"the server answered with an error ({error})"
    except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
        return False, str(error).rstrip(".")
    finally:
        client.close()


def _server_version(client: redis.Redis) -> str:
    try:
        return str(client.info("server").get("redis_version", "unknown version"))
    except redis.RedisError:
        return "(version hidden by the server)"


def _fake_version() -> str:
    return f"{fakeredis.__version__} (emulating Redis {'.'.join(map(str, FAKE_EMULATES))})"


def _too_old_sentence(version: str, where: str) -> str:
    oldest = ".".join(map(str, MIN_SERVER_VERSION))
    return (
        f"The Redis at {where} is version {version}, older than {oldest}, the oldest this course supports (several "
        f"lessons use commands it does not have). Upgrade it to Redis {oldest} or newer"
    )


def _real_backend(
    base_url: str, origin: str, explicit_db: int | None, note: str = "", fall_back: bool = False
) -> Backend:
    def client_for(db: int) -> redis.Redis:
        return redis.Redis.from_url(f"{base_url}/{db}", socket_timeout=5)

    # The version is read before anything is written, so an unsupported server is left exactly as it was.
    with client_for(0) as probe:
        version = _server_version(probe)
    if too_old(version):
        if fall_back:  # found by looking, not asked for: use the built-in fakeredis rather than fail
            return _embedded_backend(f"({_too_old_sentence(version, 'localhost:6379')} to use it.)")
        raise CourseEnvironmentError(
            f"{_too_old_sentence(version, redact(base_url))}, or unset REDIS_URL (and restart the kernel) to use "
            "the built-in fakeredis."
        )
    db = claim_database(client_for, redact(base_url), explicit_db)
    return Backend("real", origin, base_url, db, version, note)


# In a browser tab, a blocking wait that nothing could end would freeze the tab: it raises a sentence instead.
_IN_PROCESS_WAITS = Scheduler()


def _in_process_connection_class() -> type:
    return watched_connection_class(
        fakeredis.FakeRedisConnection, refuse=SERVER_WIDE_COMMANDS, before_read=_IN_PROCESS_WAITS.wait_for_reply
    )


def _in_process_backend(note: str) -> Backend:
    """Pyodide/JupyterLite: no sockets, no threads. The fakeredis lives in this process, and the course claims a
    database in it as on any server, so clear() works the same."""
    server = fakeredis.FakeServer()
    install_cooperative_conditions(server, _IN_PROCESS_WAITS)
    connection_class = _in_process_connection_class()

    def client_for(db: int) -> redis.Redis:
        pool = redis.ConnectionPool(connection_class=connection_class, server=server, db=db)
        return redis.Redis(connection_pool=pool)

    db = claim_database(client_for, "the in-browser fakeredis", None)
    return Backend("fake", "in-process", None, db, _fake_version(), note, _fake_server=server)


def _embedded_backend(note: str = "") -> Backend:
    if sys.platform == "emscripten":
        return _in_process_backend(note)
    embedded = EmbeddedServer().start()
    db = claim_database(lambda n: redis.Redis.from_url(f"{embedded.url}/{n}"), embedded.url, None)
    return Backend("fake", "embedded", embedded.url, db, _fake_version(), note, _embedded=embedded)


def choose_backend() -> Backend:
    """Decide which Redis to use from REDIS_URL, COURSE_BACKEND and what answers on localhost:6379."""
    mode = os.environ.get("COURSE_BACKEND", "auto").strip().lower() or "auto"
    if mode not in ("auto", "real", "fake"):
        raise CourseEnvironmentError(
            f"COURSE_BACKEND={mode!r} is not one of auto, real or fake; set it to one of those or unset it."
        )
    explicit_db_text = os.environ.get("COURSE_DB", "").strip()
    explicit_db = int(explicit_db_text) if explicit_db_text.isdigit() else None
    if sys.platform == "emscripten" or mode == "fake":
        return _embedded_backend()
    url = os.environ.get("REDIS_URL", "").strip()
    if url:
        base_url, url_db = split_db(url)
        ok, reason = _ping(url, REMOTE_PROBE_SECONDS)
        if not ok:
            raise CourseEnvironmentError(
                f"No Redis answered at REDIS_URL={redact(url)} ({reason}): start that server, or "
                "unset REDIS_URL (and restart the kernel) to let the course use the built-in fakeredis."
            )
        return _real_backend(base_url, "REDIS_URL", url_db if url_db is not None else explicit_db)
    ok, reason = _ping(LOCAL_URL, LOCAL_PROBE_SECONDS)
    if ok:
        return _real_backend(LOCAL_URL, "localhost", explicit_db, fall_back=mode != "real")
    if mode == "real":
        raise CourseEnvironmentError(
            f"COURSE_BACKEND=real but no Redis answered on localhost:6379 ({reason}): {how_to_start_a_server()}, "
            "or set COURSE_BACKEND=fake."
        )
    note = ""
    if "credentials" in reason or "error" in reason:
        note = (
            f"(A server on localhost:6379 did not let the course in: {reason}; set REDIS_URL with the password "
            "to use it.)"
        )
    return _embedded_backend(note)


def backend(*, quiet: bool = True) -> Backend:
    """The backend this process uses, chosen on first use; prints the banner then unless quiet."""
    global _current
    with _lock:
        if _current is None:
            _current = choose_backend()
            if not quiet:
                print(_current.banner())
        return _current


def forget_backend() -> None:
    """Drop the chosen backend (stopping an embedded server) so the next call chooses again."""
    global _current
    with _lock:
        if _current is not None and _current._embedded is not None:
            _current._embedded.stop()
        _current = None


def connect(decode_responses: bool = True, **kwargs: Any) -> redis.Redis:
    """A client for the course's database; the first call picks the backend and prints where it is."""
    first = _current is None
    if first:
        # Before choosing: a bad REDIS_URL is then shown as a sentence, not a traceback.
        install_error_feedback(server_label, server_answers)
    chosen = backend(quiet=not first)
    if first and chosen.kind == "real" and chosen.base_url:
        join_class_if_linked(chosen.base_url)
    return chosen.client(decode_responses=decode_responses, **kwargs)


def server_label() -> str:
    """How set-up messages name the course's server: "Redis at redis://host:port" (no password)."""
    chosen = _current
    if chosen is not None and chosen.base_url:
        return f"Redis at {redact(chosen.base_url)}"
    return "the course's Redis"


def server_answers() -> bool:
    """True when the course's server answers a PING within half a second."""
    if _current is None:
        return False
    try:
        with _current.client(socket_timeout=0.5, socket_connect_timeout=0.5, retry=NO_RETRY) as probe:
            return bool(probe.ping())
    except redis.RedisError:
        return False


def redis_url() -> str:
    """The redis:// URL of the course's database, for lessons that build their own clients."""
    url = backend().url
    if url is None:
        raise CourseEnvironmentError(
            "This Python has no sockets (Pyodide), so there is no URL to connect to; use "
            "course_helpers.connect() instead."
        )
    return url


def clear(client: redis.Redis) -> None:
    """Empty the course's own database, and nothing else (refuses a client on any other database)."""
    clear_course_database(client)  # returns the count; a notebook's first cell should not print it
