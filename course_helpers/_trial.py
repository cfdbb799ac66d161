"""Trial: what a checker uses to run the learner's function on a fresh private Redis and observe it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

import fakeredis
import redis

from . import _process_role
from ._embedded import EmbeddedServer
from ._feedback import describe_exception
from ._inline import DeadlineExceeded
from ._wire import NO_RETRY, Command, Recorder, watched_connection_class

_real_sleep = time.sleep  # the checker's own pauses, untouched by fast_sleep()


class CheckFailed(Exception):
    """Raised by a checker: the learner's code behaved wrongly; the message names the mistake."""


class LearnerRaised(Exception):
    """The learner's function raised; the message describes the call, the error and the line."""


@dataclass
class FlakyLink:
    """Counts the learner's send attempts while the first `left` of them fail; stop() heals the link."""

    left: int
    attempts: int = 0
    stop: Callable[[], None] = lambda: None


class ServerTooOld(Exception):
    """The server that runs checks lacks a command this exercise needs; the message says what to do."""


FAKE_CHECK_VERSION = (7, 4)  # the Redis version the fakeredis of a trial answers as


class TrialRedis:
    """The data store of one trial: a fresh fakeredis in memory, or the private check server emptied first."""

    kind = "fake"
    version: tuple[int, ...] = FAKE_CHECK_VERSION

    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._fake = fakeredis.FakeServer(version=FAKE_CHECK_VERSION) if url is None else None
        self._tcp: EmbeddedServer | None = None
        self._clients: list[redis.Redis] = []
        if url is not None:
            self.kind = "real"
            with redis.Redis.from_url(url, decode_responses=True) as wipe:
                wipe.flushall()  # a private server the course started for checks, never the learner's
                # Subscriptions of an earlier check's process may linger a moment after it ended.
                wipe.client_kill_filter(_type="pubsub", skipme=True)
                text = str(wipe.info("server").get("redis_version", ""))
                self.version = tuple(int(part) for part in text.split(".") if part.isdigit())

    def client(self, recorder: Recorder | None = None, decode_responses: bool = True) -> redis.Redis:
        """A new client on this server; its commands are recorded when recorder is given."""
        if self._fake is not None:
            cls = watched_connection_class(fakeredis.FakeRedisConnection, recorder)
            pool = redis.ConnectionPool(
                connection_class=cls, server=self._fake, decode_responses=decode_responses, retry=NO_RETRY
            )
        else:
            assert self._url is not None
            cls = watched_connection_class(redis.Connection, recorder)
            pool = redis.ConnectionPool.from_url(
                self._url, connection_class=cls, decode_responses=decode_responses, retry=NO_RETRY
            )
        client = redis.Redis(connection_pool=pool)
        self._clients.append(client)
        return client

    @property
    def url(self) -> str:
        """A redis:// URL on which this same data is reachable over TCP."""
        if self._url is not None:
            return self._url
        if self._tcp is None:
            self._tcp = EmbeddedServer().start()
            self._tcp._server.fake_server = self._fake  # type: ignore[union-attr]
        return self._tcp.url + "/0"

    def close(self) -> None:
        """Close every client and stop the TCP front end, if one was started."""
        for client in self._clients:
            client.close()
        if self._tcp is not None:
            self._tcp.stop()


class Trial:
    """One check of one answer: a traced client for the learner, an untraced one for the checker."""

    def __init__(
        self, answer: Callable[..., Any], function_name: str, server: TrialRedis, passes_client: bool = True
    ) -> None:
        self.answer = answer
        self.passes_client = passes_client
        self.function_name = function_name
        self.server = server
        self.recorder = Recorder()
        # Typed Any: these clients decode replies to str, which redis-py's annotations cannot express.
        self.r: Any = server.client(self.recorder)
        self.admin: Any = server.client()
        self.last_call = ""
        self.learner_file = ""
        self._threads: list[threading.Thread] = []
        self._one_shot_hooks: list[Callable[[], None]] = []
        self.background_errors: list[str] = []

    # -- calling the learner's code -------------------------------------------------------------
    def call_text(self, *args: Any, **kwargs: Any) -> str:
        """How a call looks to the learner: incr_page_views(r, 'home')."""
        words = ["r"] if self.passes_client else []
        words += [*(repr(a) for a in args), *(f"{k}={v!r}" for k, v in kwargs.items())]
        text = f"{self.function_name}({', '.join(words)})"
        return text if len(text) < 160 else text[:157] + "…)"

    def call(self, *args: Any, within: float | None = None, too_slow: str = "", **kwargs: Any) -> Any:
        """Call the learner's function with the traced client r first; record only this call's commands.

        within: seconds the call may take before the check fails it (for blocking answers), with the message
        too_slow when given (it follows "<call> was still running after N s.").
        """
        self.recorder.clear()
        self.last_call = self.call_text(*args, **kwargs)
        try:
            return self._call(args, kwargs, within, too_slow)
        finally:
            for remove in self._one_shot_hooks:  # an injection that did not fire must not leak into the next call
                remove()
            self._one_shot_hooks = []

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any], within: float | None, too_slow: str) -> Any:
        if within is None:
            return self._invoke(args, kwargs)
        box: list[Any] = []
        failure: list[BaseException] = []

        def run() -> None:
            try:
                box.append(self._invoke(args, kwargs))
            except BaseException as error:
                failure.append(error)

        worker = threading.Thread(target=run, daemon=True, name="learner-call")
        worker.start()
        worker.join(within)
        if worker.is_alive():
            self.fail(
                f"{self.last_call} was still running after {within:g} s. "
                + (
                    too_slow
                    or "A blocking command needs a timeout (BLPOP/BRPOP take one in seconds; 0 means wait forever), "
                    "and a loop needs a way to end."
                )
            )
        if failure:
            raise failure[0]
        return box[0]

    def _invoke(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            return self.answer(self.r, *args, **kwargs)
        except (CheckFailed, LearnerRaised, DeadlineExceeded):
            raise
        except BaseException as error:
            learner_file = self.learner_file or getattr(getattr(self.answer, "__code__", None), "co_filename", "")
            raise LearnerRaised(describe_exception(error, self.last_call, learner_file)) from None

    def try_call(
        self, *args: Any, expected: tuple[type[BaseException], ...] = (Exception,), **kwargs: Any
    ) -> tuple[Any, BaseException | None]:
        """call() where raising one of expected is a legitimate outcome: (value, None) or (None, error).

        Any other exception is reported as the learner's error, as call() does.
        """
        try:
            return self.call(*args, **kwargs), None
        except LearnerRaised as raised:
            original = raised.__context__
            if isinstance(original, expected):
                return None, original
            raise

    def timed_call(self, *args: Any, **kwargs: Any) -> tuple[Any, float]:
        """call() and the seconds it took."""
        start = time.perf_counter()
        value = self.call(*args, **kwargs)
        return value, time.perf_counter() - start

    # -- judging -------------------------------------------------------------------------------
    def fail(self, message: str) -> NoReturn:
        """Stop the check: the answer is wrong, for the reason message gives."""
        raise CheckFailed(message)

    def expect(self, condition: object, message: str) -> None:
        """fail(message) unless condition holds."""
        if not condition:
            self.fail(message)

    def expect_equal(self, actual: Any, expected: Any, what: str) -> None:
        """fail with 'what: expected X, got Y' unless actual == expected."""
        if actual != expected:
            self.fail(f"{what}: expected {expected!r}, got {actual!r}.")

    @property
    def sent(self) -> list[Command]:
        """Every command the learner's last call sent."""
        return self.recorder.commands

    @property
    def round_trips(self) -> int:
        """How many round trips the learner's last call made."""
        return len(self.recorder.round_trips)

    def pttl(self, key: str) -> int:
        """PTTL of key in ms (-1 no expiry, -2 missing), read by the checker's own client."""
        return int(self.admin.pttl(key))

    def keys(self) -> set[str]:
        """Every key in the trial's Redis, read by the checker with SCAN."""
        return set(self.admin.scan_iter(count=1000))

    def expect_key(self, key: str, kind: str, before: set[str], built_as: str, wrong_type: str = "") -> None:
        """Fail unless key exists and holds a `kind` ("list", "hash"...); a missing key names what was written.

        before: the keys that existed before the learner's call (from keys()); built_as: how the key is built,
        e.g. "recent:{user_id}"; wrong_type: what to say after "<key> is a hash, not a list: " instead of the
        generic advice.
        """
        actual = self.admin.type(key)
        if actual == kind:
            return
        if actual == "none":
            written = sorted(self.keys() - before)
            where = (
                f"your code wrote {written[:5]} instead. Build the key exactly as {built_as}."
                if written
                else "your code wrote no key at all: write it with the client r that the check passes in."
            )
            self.fail(f"After {self.last_call}, the key {key!r} does not exist; {where}")
        self.fail(
            f"After {self.last_call}, {key} is a {actual}, not a {kind}: "
            + (wrong_type or f"use the {kind} commands for it.")
        )

    # -- other clients, concurrency and timing ---------------------------------------------------
    def client(self, decode_responses: bool = True) -> Any:
        """Another untraced client on the trial's server (another 'application')."""
        return self.server.client(decode_responses=decode_responses)

    @property
    def url(self) -> str:
        """A redis:// URL of the trial's server, for answers that build their own client."""
        return self.server.url

    @property
    def server_version(self) -> tuple[int, ...]:
        """The version of the Redis this trial runs on, e.g. (6, 2, 14); fakeredis answers as 7.4."""
        return self.server.version

    def require_server(self, version: tuple[int, ...], feature: str) -> None:
        """Stop the check with a set-up problem when the checking server is older than version.

        For an exercise whose every right answer needs feature (e.g. "XAUTOCLAIM"); where an equivalent answer
        exists for older servers, accept it in the checker instead.
        """
        if self.server_version and self.server_version < version:
            wanted, found = ".".join(map(str, version)), ".".join(map(str, self.server_version))
            raise ServerTooOld(
                f"This exercise needs {feature}, which Redis {wanted} and newer have, and the server that runs the "
                f"checks is Redis {found}. Set COURSE_CHECK_BACKEND=fake to check on the built-in fakeredis, or "
                "install a newer redis-server."
            )

    def in_background(self, action: Callable[[Any], object], delay: float = 0.0) -> threading.Thread:
        """Run action(another_client) on a thread after delay seconds (a producer, a publisher...)."""
        client = self.client()

        def run() -> None:
            _real_sleep(delay)
            try:
                action(client)
            except Exception as error:
                self.background_errors.append(f"{type(error).__name__}: {error}")

        thread = threading.Thread(target=run, daemon=True, name="check-background")
        self._threads.append(thread)
        thread.start()
        return thread

    def when_subscribed(
        self, channel: str, action: Callable[[Any], object], timeout: float = 5.0, pattern: bool = False
    ) -> threading.Thread:
        """Run action(another_client) once someone listens: to channel (PUBSUB NUMSUB), or with pattern=True
        to any pattern (PUBSUB NUMPAT)."""

        def listeners(client: redis.Redis) -> int:
            if pattern:
                return int(client.pubsub_numpat())
            return int(dict(client.pubsub_numsub(channel)).get(channel, 0))

        def wait_then_act(client: redis.Redis) -> None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if listeners(client) > 0:
                    action(client)
                    return
                _real_sleep(0.003)

        return self.in_background(wait_then_act)

    def inject_once(
        self, after: Iterable[str], action: Callable[[Any], object], wait_while: Iterable[str] = ()
    ) -> dict[str, bool]:
        """Once the learner has sent one of the commands in after, run action(admin) before their next send.

        This is how a concurrent write lands between a read and a write. wait_while names commands that do
        not trigger it (more reads, WATCH): the write then lands just before the learner's first other
        command, after every read of the call. The injection is armed for the next call() only. Returns a
        dict whose "fired" tells whether the injection happened.
        """
        names = {name.upper() for name in after}
        quiet = {name.upper() for name in wait_while}
        state = {"fired": False}

        def hook(commands: list[Command], recorder: Recorder) -> None:
            if state["fired"] or not any(name in names for name in recorder.names):
                return
            if quiet and all(command and command[0].upper() in quiet for command in commands):
                return
            state["fired"] = True
            action(self.admin)

        self._one_shot_hooks.append(self.recorder.add_hook(hook))
        return state

    def fast_sleep(self) -> list[float]:
        """Make time.sleep return at once for the rest of this check; returns the list of requested pauses.

        Checks run in a process of their own (time.sleep is restored after the check), so a learner's honest
        backoff (sleep(2 ** attempt)) costs no time.
        """
        pauses: list[float] = []
        if _process_role.owns_process:  # never in a learner's kernel, where other threads sleep too
            time.sleep = pauses.append  # type: ignore[assignment]
        return pauses

    def cut_connection_after(self, after: Iterable[str]) -> dict[str, bool]:
        """During the next call: once one of `after` was sent, the learner's next send fails with ConnectionError.

        This is a crash between two commands: whatever the learner meant to do next never reaches Redis.
        """

        def cut(_admin: Any) -> None:
            raise redis.ConnectionError("the connection dropped (a network failure simulated by the check)")

        return self.inject_once(after, cut)

    def break_connection(self, times: int, error: type[redis.RedisError] = redis.ConnectionError) -> FlakyLink:
        """Make the learner's next `times` sends fail with error (ConnectionError: a dropped network)."""
        link = FlakyLink(left=times)
        what = "a network failure" if error is redis.ConnectionError else "a server too slow to answer"

        def hook(_commands: list[Command], _recorder: Recorder) -> None:
            link.attempts += 1
            if link.left > 0:
                link.left -= 1
                raise error(f"{error.__name__} ({what} simulated by the check)")

        link.stop = self.recorder.add_hook(hook)
        return link

    def close(self) -> None:
        """Let background threads finish briefly, then close every connection."""
        for thread in self._threads:
            thread.join(timeout=1)
        self.server.close()
