"""Trial: what a checker uses to run the learner's function on a fresh private Redis and observe it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

import fakeredis
import redis

from . import _inline, _process_role
from ._browser import (
    LUA_COMMANDS,
    PLACEHOLDER_URL,
    adopt_client,
    can_run_lua,
    can_serve_tcp,
    lua_unavailable,
)
from ._embedded import EmbeddedServer
from ._feedback import describe_exception
from ._inline import DeadlineExceeded, LimitExceeded
from ._scheduler import Scheduler, Step, install_cooperative_conditions
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


class CannotCheckHere(ServerTooOld):
    """The checking fakeredis lacks what the exercise needs in this environment (Lua, in a browser tab)."""


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
        self._scheduler: Scheduler | None = None
        if url is not None:
            self.kind = "real"
            with redis.Redis.from_url(url, decode_responses=True) as wipe:
                wipe.flushall()  # a private server the course started for checks, never the learner's
                # Subscriptions of an earlier check's process may linger a moment after it ended.
                wipe.client_kill_filter(_type="pubsub", skipme=True)
                text = str(wipe.info("server").get("redis_version", ""))
                self.version = tuple(int(part) for part in text.split(".") if part.isdigit())

    def cooperate(self, scheduler: Scheduler) -> None:
        """Wait without threads: blocked commands and reads on this (fake) server run scheduler's steps instead."""
        assert self._fake is not None, "only the in-process fakeredis can wait through a scheduler"
        self._scheduler = scheduler
        install_cooperative_conditions(self._fake, scheduler)

    def _fake_connection_class(self, recorder: Recorder | None) -> type:
        hook = None if self._scheduler is None else self._scheduler.wait_for_reply
        return watched_connection_class(fakeredis.FakeRedisConnection, recorder, before_read=hook)

    def client(self, recorder: Recorder | None = None, decode_responses: bool = True) -> redis.Redis:
        """A new client on this server; its commands are recorded when recorder is given."""
        if self._fake is not None:
            cls = self._fake_connection_class(recorder)
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
        """A redis:// URL on which this same data is reachable over TCP.

        Where no TCP server can run (a browser tab), a placeholder URL: a client built from it reaches this
        data once adopt() has seen it.
        """
        if self._url is not None:
            return self._url
        if not can_serve_tcp():
            return PLACEHOLDER_URL + "/0"
        if self._tcp is None:
            self._tcp = EmbeddedServer().start()
            self._tcp._server.fake_server = self._fake  # type: ignore[union-attr]
        return self._tcp.url + "/0"

    def adopt(self, client: Any) -> Any:
        """Make a client built from url() (by the learner's code) reach this data; returns it.

        Over TCP there is nothing to do. With the placeholder URL, the client's pool is pointed at the in-process
        fakeredis, keeping the database, credentials and decoding it was built with.
        """
        if self._url is not None or can_serve_tcp():
            return client
        adopted = adopt_client(client, self._fake_connection_class(None), self._fake)
        if isinstance(adopted, redis.Redis):
            self._clients.append(adopted)
        return adopted

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
        self._guard = _inline.active_guard()
        self._scheduler: Scheduler | None = None
        if self._guard is not None and server.kind == "fake":
            # Checked inline (a browser tab, or COURSE_SANDBOX=inline): no threads in the learner's kernel.
            # Background steps run when the learner's code sends, reads, sleeps or waits instead.
            scheduler = self._scheduler = Scheduler(self._guard.pause_until)
            server.cooperate(scheduler)
            self._guard.sleeper = scheduler.sleep
            self.recorder.add_hook(lambda _commands, _recorder: scheduler.run_due())
        self._needs_lua = False
        if server.kind == "fake" and not can_run_lua():  # a browser tab: an answer's script cannot run here
            self.recorder.add_hook(self._refuse_scripts)
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
        if self._scheduler is not None:
            return self._call_within_limit(args, kwargs, within, too_slow)
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
            self._still_running(within, too_slow)
        if failure:
            raise failure[0]
        return box[0]

    def _call_within_limit(self, args: tuple[Any, ...], kwargs: dict[str, Any], within: float, too_slow: str) -> Any:
        """within= without a thread: the inline guard stops the learner's code at the limit (loops, sleeps and
        waits alike), and the call is judged as the threaded way judges a call that outlives its join()."""
        assert self._guard is not None
        with self._guard.limit(within) as limit:
            try:
                value = self._invoke(args, kwargs)
            except LimitExceeded as exceeded:
                if exceeded.limit is not limit:
                    raise
                self._still_running(within, too_slow)
        if limit.expired or time.monotonic() > limit.deadline:  # the code caught the stop and went on, too late
            self._still_running(within, too_slow)
        return value

    def _still_running(self, within: float, too_slow: str) -> NoReturn:
        self.fail(
            f"{self.last_call} was still running after {within:g} s. "
            + (
                too_slow
                or "A blocking command needs a timeout (BLPOP/BRPOP take one in seconds; 0 means wait forever), "
                "and a loop needs a way to end."
            )
        )

    def _invoke(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            value = self.answer(self.r, *args, **kwargs)
        except (CheckFailed, LearnerRaised, DeadlineExceeded, ServerTooOld):
            raise
        except BaseException as error:
            if self._needs_lua:  # the answer sent a script, and went wrong without it: that is not its fault
                raise CannotCheckHere(lua_unavailable(in_answer=True)) from None
            learner_file = self.learner_file or getattr(getattr(self.answer, "__code__", None), "co_filename", "")
            raise LearnerRaised(describe_exception(error, self.last_call, learner_file)) from None
        if self._needs_lua:  # it caught the refusal and carried on: the check would judge a broken run
            raise CannotCheckHere(lua_unavailable(in_answer=True))
        return value

    def _refuse_scripts(self, commands: list[Command], _recorder: Recorder) -> None:
        """Before the learner's code sends a script (EVAL, FCALL, SCRIPT LOAD...) where Lua cannot run."""
        if any(command and command[0].upper() in LUA_COMMANDS for command in commands):
            self._needs_lua = True
            raise CannotCheckHere(lua_unavailable(in_answer=True))

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
        """A redis:// URL of the trial's server, for answers that build their own client.

        In a browser tab it is a placeholder: pass the client built from it through adopt() before using it.
        """
        return self.server.url

    def adopt(self, client: Any) -> Any:
        """The client the learner's code built from url(), made to reach the trial's data; returns it.

        Where url() is a real TCP URL this changes nothing; in a browser tab it points the client at the in-process
        fakeredis (keeping its database, credentials and decoding), and any other client fails to connect.
        """
        return self.server.adopt(client)

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

    def require_scripting(self) -> None:
        """Stop the check with a set-up problem where the trial's Redis cannot run Lua (fakeredis without lupa,
        as in a browser tab): for an exercise whose every right answer is a script.

        Without it, an answer that sends a script there gets the same set-up problem, and the others are judged.
        """
        if self.server.kind == "fake" and not can_run_lua():
            raise CannotCheckHere(lua_unavailable(in_answer=False))

    def _steps(self, action: Callable[[Any], object], client: Any) -> Step:
        """action(client) as steps: a plain function is one step; a generator pauses at each `yield seconds`."""
        running: list[Generator[float, None, None]] = []

        def step() -> float | None:
            try:
                if not running:
                    started = action(client)
                    if not isinstance(started, Generator):
                        return None
                    running.append(started)
                return float(next(running[0]))
            except StopIteration:
                return None
            except Exception as error:
                self.background_errors.append(f"{type(error).__name__}: {error}")
                return None

        return step

    def _start(self, step: Step, delay: float) -> threading.Thread | None:
        """Run step() after delay seconds, then again after each pause it returns, beside the learner's code."""
        if self._scheduler is not None:
            self._scheduler.after(delay, step)
            return None

        def run() -> None:
            pause: float | None = delay
            while pause is not None:
                _real_sleep(pause)
                pause = step()

        thread = threading.Thread(target=run, daemon=True, name="check-background")
        self._threads.append(thread)
        thread.start()
        return thread

    def in_background(self, action: Callable[[Any], object], delay: float = 0.0) -> threading.Thread | None:
        """Run action(another_client) after delay seconds (a producer, a publisher...), beside the learner's code.

        action may be a generator function: each `yield seconds` pauses it that long. In a check process it runs
        on a thread (returned); inline (a browser tab) the learner's own sends, reads, sleeps and waits run it.
        """
        return self._start(self._steps(action, self.client()), delay)

    def when_subscribed(
        self, channel: str, action: Callable[[Any], object], timeout: float = 5.0, pattern: bool = False
    ) -> threading.Thread | None:
        """Run action(another_client) once someone listens: to channel (PUBSUB NUMSUB), or with pattern=True
        to any pattern (PUBSUB NUMPAT). action may pause with `yield seconds`, as in in_background."""
        client = self.client()
        act = self._steps(action, client)

        def listened() -> bool:
            if pattern:
                return int(client.pubsub_numpat()) > 0
            return int(dict(client.pubsub_numsub(channel)).get(channel, 0)) > 0

        if self._scheduler is not None:
            self._scheduler.when(listened, act, timeout)
            return None
        deadline = time.monotonic() + timeout
        acting: list[bool] = []

        def wait_then_act() -> float | None:
            if acting:
                return act()
            if listened():
                acting.append(True)
                return act()
            return 0.003 if time.monotonic() < deadline else None

        return self._start(wait_then_act, 0.0)

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
        """Let background threads finish briefly (or drop the steps still scheduled), then close every connection."""
        for thread in self._threads:
            thread.join(timeout=1)
        if self._scheduler is not None and self._guard is not None:
            self._scheduler.clear()
            self._guard.sleeper = None
        self.server.close()
