"""AsyncTrial: a Trial for `async def` answers, run on an event loop of the check's own.

The learner's coroutine function gets r, a redis.asyncio client on the trial's server (the same fakeredis or real
server the checker's sync clients use) whose connections record into the trial's Recorder, so t.sent and
t.round_trips mean what they mean for a sync answer, and every hook (inject_once, cut_connection_after,
break_connection) works the same. t.call(...) stays synchronous for the checker: it runs the coroutine to its end
and returns its result. Around each call the trial watches for what only async code can get wrong:

- a call on the client that was never awaited (Python warns "coroutine ... was never awaited"): the learner is
  told which call, on which line, in one sentence;
- a coroutine (or a list of them) returned instead of a result;
- an event loop blocked by synchronous waiting (time.sleep, a sync client): a heartbeat task measures how long
  the loop could not run anything else.

Where the loop runs: in the check process, on a fresh asyncio loop in the checking thread. Inline (a browser tab,
where the kernel's own loop is running and there are no threads), the check steps out of the running loop for
the duration of the call and runs a loop without sockets whose waits run the check's scheduled background steps
and stop at the check's deadline (_CooperativeLoop). Where no loop of its own could start, the check reports a
set-up problem in one sentence (NO_LOOP_HERE) instead of blaming the learner's code.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import linecache
import selectors
import sys
import time
import traceback
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

import redis.asyncio

from ._async_wire import ASYNC_NO_RETRY, watched_async_connection_class
from ._feedback import describe_exception
from ._inline import DeadlineExceeded, Guard, LimitExceeded
from ._scheduler import Scheduler
from ._trial import CannotCheckHere, CheckFailed, LearnerRaised, ServerTooOld, Trial, TrialRedis
from ._wire import Recorder, format_command

T = TypeVar("T")

HEARTBEAT = 0.01  # how often the watchdog task asks to run: any longer gap was spent blocking the loop
BLOCKED_LIMIT = 0.5  # seconds of blocked loop that fail a call (scheduling noise stays far below this)
ORIGIN_DEPTH = 32  # frames kept of where each coroutine was created, to point at the line that forgot await

NO_LOOP_HERE = (
    "This check runs your coroutine on an event loop of its own, and could not start one here, inside the "
    "notebook's running event loop. Open the course in JupyterLab or on Binder, where the same check runs."
)
AWAIT_ADVICE = (
    "A call on the asyncio client returns a coroutine, not the reply: put await in front of it "
    "(value = await r.get(key))."
)


def is_async_callable(answer: Any) -> bool:
    """True for an `async def` function (or a callable object whose __call__ is one)."""
    method = type(answer).__dict__.get("__call__") if not inspect.isroutine(answer) else None
    return inspect.iscoroutinefunction(answer) or inspect.iscoroutinefunction(method)


def answer_kind_problem(expects_coroutine: bool, name: str, answer: Any) -> str:
    """One sentence when answer is a plain function where `async def` is expected, or the other way round."""
    if expects_coroutine and inspect.isasyncgenfunction(answer):
        return (
            f"Your {name} is an async generator (it contains yield), but the check awaits it once for its result: "
            "collect the values in a list and return the list."
        )
    if expects_coroutine and not is_async_callable(answer):
        return (
            f"The check awaits {name} on an event loop, so it must be a coroutine function: write `async def "
            f"{name}(...)` instead of `def {name}(...)`, and await the client's calls inside it."
        )
    if not expects_coroutine and is_async_callable(answer):
        return (
            f"The check calls {name} as a plain function, but yours is an `async def`, which only returns a "
            f"coroutine when called: write `def {name}(...)`, and call the client without await."
        )
    return ""


# -- the loop -----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def outside_any_running_loop() -> Iterator[None]:
    """Within the block, this thread runs no event loop and no task, so that another loop can run here.

    The kernel's own loop is running in a notebook's thread (and in a browser tab, where nothing else could run
    the check); it is blocked while the check runs anyway, and gets its running state back afterwards.
    """
    outer = asyncio._get_running_loop()
    if outer is None:
        yield
        return
    swap = getattr(asyncio.tasks, "_swap_current_task", None)  # Python 3.12+: the current task is per thread
    task = swap(outer, None) if swap is not None else None
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(outer)
        if swap is not None:
            swap(outer, task)


class _CooperativeSelector:
    """The selector of a loop with no sockets: a wait sleeps through the check's guard, running due steps."""

    def __init__(self, guard: Guard, scheduler: Scheduler | None) -> None:
        self._guard = guard
        self._scheduler = scheduler

    def select(self, timeout: float | None = None) -> list[Any]:
        scheduler = self._scheduler
        if scheduler is not None:
            scheduler.run_due()
        now = time.monotonic()
        until = None if timeout is None else now + timeout
        if scheduler is not None and scheduler.pending:
            # A watched step (once a subscriber listens...) can fall due at any moment: look again soon.
            until = now + 0.002 if until is None else min(until, now + 0.002)
        if until is None or until > now:
            self._guard.pause_until(until)  # None, or past the deadline: stops the learner's code there
        if scheduler is not None:
            scheduler.run_due()
        return []

    def close(self) -> None:
        pass


class _CooperativeLoop(asyncio.BaseEventLoop):
    """An event loop without sockets, self-pipe or threads (a browser tab has none): for the in-process fakeredis,
    whose async connections need no sockets. Its waits run the check's background steps and end at its deadline."""

    def __init__(self, guard: Guard, scheduler: Scheduler | None) -> None:
        super().__init__()
        self._selector = _CooperativeSelector(guard, scheduler)

    def _process_events(self, event_list: list[Any]) -> None:
        pass

    def _write_to_self(self) -> None:
        pass  # call_soon_threadsafe: only this thread ever schedules anything here


class _GuardedSelector(selectors.DefaultSelector):
    """Inline with a real server (COURSE_SANDBOX=inline): waits in short slices, so that the guard can stop them."""

    def __init__(self, guard: Guard) -> None:
        super().__init__()
        self._guard = guard

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        slice_ = 0.05 if timeout is None else min(timeout, 0.05)
        events: list[tuple[selectors.SelectorKey, int]] = super().select(slice_)
        self._guard.check()
        return events


def _fake_async_connection_base() -> type:
    from fakeredis import aioredis

    # fakeredis 2.41 renamed the class; 2.39's FakeConnection is the same class under its former name.
    found: type = getattr(aioredis, "FakeAsyncRedisConnection", None) or getattr(aioredis, "FakeConnection")  # noqa: B009
    return found


class _ClosesItsFakeSocket:
    """A fakeredis async connection whose disconnect() ends its subscriptions, as closing a real socket does
    (fakeredis only forgets the socket)."""

    async def disconnect(self, *args: Any, **kwargs: Any) -> None:
        sock = getattr(self, "_sock", None)
        if sock is not None:
            with contextlib.suppress(Exception):
                sock.close()
        await super().disconnect(*args, **kwargs)  # type: ignore[misc]


def async_client(server: TrialRedis, recorder: Recorder | None, tasks: set[int] | None = None) -> Any:
    """A redis.asyncio client (decode_responses=True) on the trial's server, recording into recorder (and the
    asyncio tasks that send into tasks)."""
    if server.kind == "fake":
        base = type("FakeAsyncConnection", (_ClosesItsFakeSocket, _fake_async_connection_base()), {})
        pool = redis.asyncio.ConnectionPool(
            connection_class=watched_async_connection_class(base, recorder, tasks=tasks),
            server=server._fake,
            decode_responses=True,
            retry=ASYNC_NO_RETRY,
        )
    else:
        assert server._url is not None
        pool = redis.asyncio.ConnectionPool.from_url(
            server._url,
            connection_class=watched_async_connection_class(redis.asyncio.Connection, recorder, tasks=tasks),
            decode_responses=True,
            retry=ASYNC_NO_RETRY,
        )
    return redis.asyncio.Redis(connection_pool=pool)


async def close_client(client: Any) -> None:
    """Close an asyncio client and its pool (aclose() is redis-py 5.0.1+; 5.0.0 has close())."""
    closing = getattr(client, "aclose", None) or client.close
    await closing()
    await client.connection_pool.disconnect()


# -- what async code gets wrong ----------------------------------------------------------------------------
@contextlib.contextmanager
def _unawaited_coroutines(found: list[warnings.WarningMessage]) -> Iterator[None]:
    """Collect the "coroutine ... was never awaited" warnings of the block, with where each coroutine was made."""
    depth = sys.get_coroutine_origin_tracking_depth()
    sys.set_coroutine_origin_tracking_depth(ORIGIN_DEPTH)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            try:
                yield
            finally:
                found += [w for w in caught if "was never awaited" in str(w.message)]
    finally:
        sys.set_coroutine_origin_tracking_depth(depth)


def _command_of(coroutine: Any) -> str:
    """What an unawaited coroutine would have done: 'the command HGETALL user:1', 'pubsub.subscribe()'..."""
    qualname = str(getattr(coroutine, "__qualname__", "") or "a coroutine")
    frame = getattr(coroutine, "cr_frame", None)
    arguments = frame.f_locals.get("args") if frame is not None else None
    if qualname.endswith("execute_command") and arguments:
        return f"the command {format_command([str(part) for part in arguments], 60)}"
    owner, _, method = qualname.rpartition(".")
    receiver = {"PubSub": "pubsub", "Pipeline": "pipe", "Redis": "r"}.get(owner, owner.lower() or "a coroutine")
    return f"{receiver}.{method}()" if method else qualname


def _where(coroutine: Any, warning: warnings.WarningMessage, learner_file: str) -> str:
    """'line N of your function: code' for where the coroutine was made (or dropped), or ""."""
    places = [(name, line) for name, line, _ in getattr(coroutine, "cr_origin", None) or ()]
    places.append((warning.filename, warning.lineno))
    for filename, line in places:
        if filename == learner_file:
            code = linecache.getline(filename, line).strip()
            return f"line {line} of your function" + (f": {code}" if code else "")
    return ""


def _release_frames(error: BaseException) -> None:
    """Drop the local variables of the frames the learner's error went through (an unawaited coroutine in one is
    then finalized, and warned about, at once), and collect what they kept in reference cycles."""
    original = error.__context__
    if original is not None:
        traceback.clear_frames(original.__traceback__)
    gc.collect()


def _describe_awaitable(value: Any) -> str:
    if inspect.iscoroutine(value):
        return f"a coroutine ({value.__qualname__})"
    return f"a {type(value).__name__} object (something to await)"


def _close_quietly(value: Any) -> None:
    """Close an unawaited coroutine, so that Python does not warn about it again later."""
    if inspect.iscoroutine(value):
        value.close()


class AsyncTrial(Trial):
    """A Trial whose answer is an `async def`: r is an asyncio client, and t.call() runs the coroutine to its end.

    t.loop_blocked is how long the last call blocked the event loop, in seconds (a call that blocks it for
    BLOCKED_LIMIT or more fails on its own), and t.tasks_sending how many asyncio tasks sent its commands (more than
    one: it sent them concurrently, with asyncio.gather or create_task). t.run(coroutine) runs a coroutine
    of the checker's on the same loop (closing a PubSub the learner left open, for example).
    """

    def __init__(
        self, answer: Callable[..., Any], function_name: str, server: TrialRedis, passes_client: bool = True
    ) -> None:
        super().__init__(answer, function_name, server, passes_client=passes_client)
        self.loop = self._new_loop()
        self.loop_blocked = 0.0
        self._last_beat = 0.0
        self._tasks: set[int] = set()
        self.r = async_client(server, self.recorder, self._tasks)
        # Connect now, so that the learner's first call is not timed with it (a server that does not answer is
        # reported by that call).
        with contextlib.suppress(Exception):
            self.run(self.r.ping())
        self.recorder.clear()

    def _new_loop(self) -> asyncio.AbstractEventLoop:
        if self._guard is None:
            return asyncio.new_event_loop()
        if self.server.kind == "fake":
            return _CooperativeLoop(self._guard, self._scheduler)
        return asyncio.SelectorEventLoop(_GuardedSelector(self._guard))

    @property
    def tasks_sending(self) -> int:
        """How many asyncio tasks sent the commands of the learner's last call (more than one: concurrently)."""
        return len(self._tasks)

    def run(self, awaitable: Coroutine[Any, Any, T] | Awaitable[T]) -> T:
        """Run a coroutine of the checker's on the trial's loop and return its result."""
        with outside_any_running_loop():
            if asyncio._get_running_loop() is not None or self.loop.is_running():
                _close_quietly(awaitable)
                raise CannotCheckHere(NO_LOOP_HERE)
            return self.loop.run_until_complete(awaitable)

    # -- calling the learner's code ----------------------------------------------------------------------------
    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any], within: float | None, too_slow: str) -> Any:
        self.loop_blocked = 0.0
        self._tasks.clear()
        unawaited: list[warnings.WarningMessage] = []
        raised: LearnerRaised | None = None
        with _unawaited_coroutines(unawaited):
            try:
                value = self._run_learner(args, kwargs, within, too_slow)
            except LearnerRaised as error:
                raised = error
                _release_frames(error)  # a coroutine the error's frames hold is judged now, not in a later check
        self._expect_awaited(unawaited)  # a forgotten await explains an error better than the error does
        if raised is not None:
            raise raised
        self._expect_loop_free()
        self._expect_result_not_awaitable(value)
        return value

    def _run_learner(self, args: tuple[Any, ...], kwargs: dict[str, Any], within: float | None, too_slow: str) -> Any:
        try:
            made = self.answer(self.r, *args, **kwargs)
        except (CheckFailed, LearnerRaised, DeadlineExceeded):
            raise
        except BaseException as error:
            raise LearnerRaised(self._describe(error)) from None
        if not inspect.isawaitable(made):
            self.fail(
                f"{self.last_call} returned {type(made).__name__} {made!r:.60} at once instead of a coroutine to "
                f"await: write it as `async def {self.function_name}(...)`."
            )
        try:
            finished, value = self._run_within(made, within)
        except ServerTooOld:
            _close_quietly(made)
            raise
        except (CheckFailed, LearnerRaised, DeadlineExceeded):
            raise
        except BaseException as error:
            if isinstance(error, (SystemExit, KeyboardInterrupt)):
                self._abandon_tasks()  # they left the loop mid-step: later runs must not meet them again
            raise LearnerRaised(self._describe(error)) from None
        if not finished:
            self._still_running(
                within or 0.0,
                too_slow
                or "Something in it waits without a limit: give each wait a timeout (pubsub.get_message(timeout=...)), "
                "or bound the whole call with asyncio.timeout(...) (asyncio.wait_for(...) before Python 3.11).",
            )
        return value

    def _run_within(self, made: Awaitable[Any], within: float | None) -> tuple[bool, Any]:
        """Run the learner's coroutine on the loop; (False, None) when it was still running after within seconds.

        asyncio's own timeout cancels a coroutine that waits; inline, the guard also stops one that blocks the loop
        (a little later, so that a cancellable wait is cancelled cleanly first).
        """
        if within is None or self._guard is None:
            return self.run(self._supervised(made, within))
        with self._guard.limit(within + 0.05) as limit:
            try:
                return self.run(self._supervised(made, within))
            except LimitExceeded as exceeded:
                if exceeded.limit is not limit:
                    raise
                return False, None

    def _abandon_tasks(self) -> None:
        """Cancel every task still on the loop and let them end (SystemExit escapes a task and its loop at once,
        leaving the task that awaited it pending)."""
        left = [task for task in asyncio.all_tasks(self.loop) if not task.done()]
        for task in left:
            task.cancel()
        if left:
            with contextlib.suppress(Exception, SystemExit, DeadlineExceeded):
                self.run(asyncio.wait(left, timeout=0.5))

    async def _supervised(self, made: Awaitable[Any], within: float | None) -> tuple[bool, Any]:
        """(True, the learner's result), or (False, None) when it was still running after within seconds."""
        self._last_beat = time.perf_counter()
        beat = asyncio.ensure_future(self._heartbeat())
        task = asyncio.ensure_future(made)
        try:
            if within is None:
                return True, await task
            done, _ = await asyncio.wait({task}, timeout=within)
            if not done:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await asyncio.wait({task}, timeout=1.0)
                return False, None
            return True, task.result()
        finally:
            self.loop_blocked = max(self.loop_blocked, time.perf_counter() - self._last_beat - HEARTBEAT)
            beat.cancel()

    async def _heartbeat(self) -> None:
        while True:
            self._last_beat = time.perf_counter()
            await asyncio.sleep(HEARTBEAT)
            self.loop_blocked = max(self.loop_blocked, time.perf_counter() - self._last_beat - HEARTBEAT)

    def _describe(self, error: BaseException) -> str:
        learner_file = self.learner_file or getattr(getattr(self.answer, "__code__", None), "co_filename", "")
        text = describe_exception(error, self.last_call, learner_file)
        if "'coroutine' object" in str(error) or "coroutine" in type(error).__name__.lower():
            text += f" {AWAIT_ADVICE}"
        return text

    # -- judging what only async code gets wrong -----------------------------------------------------------
    def _expect_awaited(self, unawaited: list[warnings.WarningMessage]) -> None:
        if not unawaited:
            return
        first = unawaited[0]
        coroutine = first.source
        where = _where(coroutine, first, self.learner_file)
        others = f" ({len(unawaited) - 1} more calls were not awaited either.)" if len(unawaited) > 1 else ""
        self.fail(
            f"{self.last_call} called {_command_of(coroutine)} without await"
            + (f" (at {where})" if where else "")
            + ", so it never ran: a call on the asyncio client only creates a coroutine, and nothing reaches Redis "
            f"until you await it. Put await in front of it.{others}"
        )

    def _expect_loop_free(self) -> None:
        if self.loop_blocked < BLOCKED_LIMIT:
            return
        self.fail(
            f"{self.last_call} blocked the event loop for {self.loop_blocked:.2f} s: all that time no other coroutine "
            "could run (in a web application, no other request would be answered). Something in it waits without "
            "await: time.sleep (use await asyncio.sleep), a synchronous redis.Redis client (use the asyncio client r "
            "the check passes in), or a long computation."
        )

    def _expect_result_not_awaitable(self, value: Any) -> None:
        if inspect.isawaitable(value):
            _close_quietly(value)
            self.fail(
                f"{self.last_call} returned {_describe_awaitable(value)} instead of its result: an await is missing "
                "in the return statement (return await pipe.execute(), not return pipe.execute())."
            )
        items = list(value.values()) if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else []
        pending = [item for item in items if inspect.isawaitable(item)]
        if pending:
            for item in pending:
                _close_quietly(item)
            self.fail(
                f"{self.last_call} returned a {type(value).__name__} holding {len(pending)} coroutines (the first is "
                f"{_describe_awaitable(pending[0])}) instead of replies: each call on the asyncio client must be "
                "awaited to get its reply."
            )

    def close(self) -> None:
        """Cancel what the learner's code left running, close the asyncio client and the loop, then the rest."""
        try:
            if not self.loop.is_closed() and not self.loop.is_running():
                self.run(self._shutdown())
        except KeyboardInterrupt:
            raise
        except BaseException:
            pass  # a verdict was reached; closing is best effort (a task may re-raise the learner's SystemExit)
        finally:
            with contextlib.suppress(Exception):
                self.loop.close()
            super().close()

    async def _shutdown(self) -> None:
        current = asyncio.current_task()
        left = [task for task in asyncio.all_tasks() if task is not current]
        for task in left:
            task.cancel()
        if left:
            await asyncio.wait(left, timeout=1.0)
        await close_client(self.r)
        await self.loop.shutdown_asyncgens()
