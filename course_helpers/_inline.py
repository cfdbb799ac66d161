"""The inline sandbox: run a check in this process (Pyodide has no fork and no subprocesses) under a deadline.

The guard stops the learner's code once the deadline has passed: with sys.monitoring (Python 3.12+), every
backward jump in the learner's own code checks the clock, so a `while True` loop stops even inside
`try/except BaseException`, and library code is not slowed down (its jump events are switched off after
the first one). Long sleeps are cut at the deadline. A wait inside C (a blocking Redis command) cannot be
interrupted from Python: in a check, the trial's fakeredis waits through a scheduler instead (see _scheduler), which
sleeps only up to the deadline.

Inside a check, a shorter limit can be set for one call (Trial.call(within=...)): past it, LimitExceeded stops the
learner's code the same way, and the check reports "still running" instead of a timeout.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

from ._results import Outcome, with_output

TOOL_IDS = (4, 3)  # sys.monitoring ids that no debugger (0), coverage (1), profiler (2) or optimizer (5) uses


class DeadlineExceeded(BaseException):
    """Raised into the learner's code when a check's time is up (BaseException: `except Exception` lets it by)."""


class LimitExceeded(DeadlineExceeded):
    """Raised into the learner's code when a shorter limit set inside the check (Guard.limit) has passed."""

    def __init__(self, limit: Limit) -> None:
        super().__init__(f"still running after {limit.seconds:g} s")
        self.limit = limit


@dataclass
class Limit:
    """A limit shorter than the check's deadline, for one call: when it ends, and whether it stopped the code."""

    deadline: float
    seconds: float
    expired: bool = False


def _normalized(path: str) -> str:
    path = os.path.normpath(path)
    if path.startswith("//"):  # POSIX keeps a leading "//", and Pyodide's sysconfig says "//lib/python3.14"
        path = "/" + path.lstrip("/")
    return os.path.normcase(path)


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths.get(name, "") for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots.add(os.path.dirname(os.__file__))  # the standard library really imported: in Pyodide, a zip file
    roots.add(str(Path(__file__).resolve().parent))  # the course's own code, checkers included
    return tuple(sorted(_normalized(root) for root in roots if root))


_LIBRARY_ROOTS = _library_roots()


def is_learner_code(filename: str) -> bool:
    """True for code from a notebook cell or the learner's own files; False for the standard library,
    installed packages and the course itself."""
    if filename.startswith("<frozen"):
        return False
    return not os.path.normcase(filename).startswith(_LIBRARY_ROOTS)


class Guard:
    """Raises DeadlineExceeded into learner code that is still running after the deadline (LimitExceeded after a
    shorter limit set with limit())."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self._limits: list[Limit] = []
        self._stop_at = deadline  # the nearest of the deadline and the limits: the one number check() reads
        # Set by a check's scheduler: time.sleep(seconds) then runs the background actions that fall due meanwhile.
        self.sleeper: Callable[[float], None] | None = None

    def check(self) -> None:
        """Stop the code if the nearest deadline has passed (called on every backward jump in learner code)."""
        if time.monotonic() > self._stop_at:
            self._expire()

    def _expire(self) -> None:
        nearest = min(self._limits, key=lambda limit: limit.deadline, default=None)
        if nearest is not None and nearest.deadline < self.deadline:
            nearest.expired = True
            raise LimitExceeded(nearest)
        self.expired = True
        raise DeadlineExceeded

    def sleep(self, seconds: float) -> None:
        """time.sleep in the check: cut at the nearest deadline, which then stops the code."""
        if self.sleeper is not None:
            self.sleeper(float(seconds))
            return
        self.pause_until(time.monotonic() + float(seconds))

    def pause_until(self, until: float | None) -> None:
        """Sleep until the monotonic time `until` (None: for ever); if that is past the nearest deadline, sleep
        until the deadline and stop the code there."""
        now = time.monotonic()
        if until is not None and until <= self._stop_at:
            _real_sleep(max(0.0, until - now))
            return
        _real_sleep(max(0.0, self._stop_at - now))
        self._expire()

    @contextlib.contextmanager
    def limit(self, seconds: float) -> Iterator[Limit]:
        """Within the block, code still running after seconds gets LimitExceeded (the deadline still applies)."""
        limit = Limit(time.monotonic() + seconds, seconds)
        self._limits.append(limit)
        self._stop_at = min(self._stop_at, limit.deadline)
        try:
            yield limit
        finally:
            self._limits.remove(limit)
            self._stop_at = min([self.deadline, *(other.deadline for other in self._limits)])


_real_sleep = time.sleep
_active: Guard | None = None


def active_guard() -> Guard | None:
    """The guard of the check running inline in this process right now, if any."""
    return _active


TOOL_NAME = "course check deadline"
_tool: int | None = None  # the sys.monitoring id the guard keeps for this process once it has one


def _reserve_tool(monitoring: Any) -> int | None:
    """A sys.monitoring tool id for the guard, kept from one check to the next; None if every free id is taken.

    Keeping it means the library places switched off (DISABLE) stay off: each check then pays only for code it
    runs for the first time, instead of rediscovering every library loop (restart_events would switch them on).
    """
    global _tool
    if _tool is not None and monitoring.get_tool(_tool) == TOOL_NAME:
        return _tool
    _tool = next((tool for tool in TOOL_IDS if monitoring.get_tool(tool) is None), None)
    if _tool is not None:
        monitoring.use_tool_id(_tool, TOOL_NAME)
    return _tool


@contextlib.contextmanager
def _monitoring(guard: Guard) -> Iterator[None]:
    monitoring: Any = sys.monitoring  # type: ignore[attr-defined]
    tool = _reserve_tool(monitoring)
    if tool is None:  # a debugger and a profiler hold every free id: fall back to tracing
        with _tracing(guard):
            yield
        return
    jump = monitoring.events.JUMP

    def on_jump(code: CodeType, _offset: int, _destination: int) -> Any:
        if not is_learner_code(code.co_filename):
            return monitoring.DISABLE  # library code: never asked again at this place, in this check or the next
        guard.check()
        return None

    monitoring.register_callback(tool, jump, on_jump)
    monitoring.set_events(tool, jump)
    try:
        yield
    finally:
        monitoring.set_events(tool, 0)  # between checks, no event reaches the guard: nothing is slowed down
        monitoring.register_callback(tool, jump, None)


@contextlib.contextmanager
def _tracing(guard: Guard) -> Iterator[None]:
    """Python 3.10/3.11: a line trace in learner frames (slower, and a loop that catches BaseException survives)."""

    def local(frame: FrameType, event: str, _arg: Any) -> Any:
        if event == "line":
            guard.check()
        return local

    def global_trace(frame: FrameType, _event: str, _arg: Any) -> Any:
        return local if is_learner_code(frame.f_code.co_filename) else None

    previous = sys.gettrace()
    sys.settrace(global_trace)
    try:
        yield
    finally:
        sys.settrace(previous)


def _exit_is_an_error(code: int) -> None:
    # In this process os._exit would end the learner's whole session: report it like sys.exit() instead.
    raise SystemExit(code)


@contextlib.contextmanager
def deadline_guard(seconds: float) -> Iterator[Guard]:
    """Within the block, learner code still running after seconds gets DeadlineExceeded; sleeps are cut, and
    os._exit() raises SystemExit instead of ending the process."""
    global _active
    guard = Guard(time.monotonic() + seconds)
    watch = _monitoring if hasattr(sys, "monitoring") else _tracing
    saved_sleep, saved_exit, saved_guard = time.sleep, os._exit, _active
    time.sleep = guard.sleep  # type: ignore[assignment]
    os._exit = _exit_is_an_error  # type: ignore[assignment]
    _active = guard
    try:
        with watch(guard):
            yield guard
    finally:
        time.sleep, os._exit, _active = saved_sleep, saved_exit, saved_guard


def run(task: Callable[[], Outcome], timeout: float) -> Outcome:
    """Run task() here under a deadline guard; its Outcome, or status "timeout"."""
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured), deadline_guard(timeout):
            outcome = task()
    except DeadlineExceeded:
        return with_output(Outcome("timeout"), captured.getvalue())
    return with_output(outcome, captured.getvalue())
