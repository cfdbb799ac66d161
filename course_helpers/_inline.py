"""The inline sandbox: run a check in this process (Pyodide has no fork and no subprocesses) under a deadline.

The guard stops the learner's code once the deadline has passed: with sys.monitoring (Python 3.12+), every
backward jump in the learner's own code checks the clock, so a `while True` loop stops even inside
`try/except BaseException`, and library code is not slowed down (its jump events are switched off after
the first one). Long sleeps are cut at the deadline. A wait inside C (a blocking Redis command) cannot be
interrupted from Python: the trial's client refuses such a wait before it starts (see Trial).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

from ._results import Outcome

OUTPUT_LIMIT = 4000
TOOL_IDS = (4, 3)  # sys.monitoring ids that no debugger (0), coverage (1), profiler (2) or optimizer (5) uses


class DeadlineExceeded(BaseException):
    """Raised into the learner's code when a check's time is up (BaseException: `except Exception` lets it by)."""


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths.get(name, "") for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots.add(str(Path(__file__).resolve().parent))  # the course's own code, checkers included
    return tuple(sorted(os.path.normcase(root) for root in roots if root))


_LIBRARY_ROOTS = _library_roots()


def is_learner_code(filename: str) -> bool:
    """True for code from a notebook cell or the learner's own files; False for the standard library,
    installed packages and the course itself."""
    if filename.startswith("<frozen"):
        return False
    return not os.path.normcase(filename).startswith(_LIBRARY_ROOTS)


class _Guard:
    """Raises DeadlineExceeded into learner code that is still running after the deadline."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            self.expired = True
            raise DeadlineExceeded

    def sleep(self, seconds: float) -> None:
        remaining = self.deadline - time.monotonic()
        _real_sleep(max(0.0, min(float(seconds), remaining)))
        if seconds > remaining:
            self.expired = True
            raise DeadlineExceeded


_real_sleep = time.sleep


@contextlib.contextmanager
def _monitoring(guard: _Guard) -> Iterator[None]:
    monitoring: Any = sys.monitoring  # type: ignore[attr-defined]
    tool = next((tool for tool in TOOL_IDS if monitoring.get_tool(tool) is None), None)
    if tool is None:  # a debugger and a profiler hold every free id: fall back to tracing
        with _tracing(guard):
            yield
        return
    jump = monitoring.events.JUMP

    def on_jump(code: CodeType, _offset: int, _destination: int) -> Any:
        if not is_learner_code(code.co_filename):
            return monitoring.DISABLE  # library code: never asked again at this place
        guard.check()
        return None

    monitoring.use_tool_id(tool, "course check deadline")
    monitoring.register_callback(tool, jump, on_jump)
    monitoring.set_events(tool, jump)
    try:
        yield
    finally:
        monitoring.set_events(tool, 0)
        monitoring.register_callback(tool, jump, None)
        monitoring.free_tool_id(tool)
        monitoring.restart_events()  # the library places switched off above are watched again next time


@contextlib.contextmanager
def _tracing(guard: _Guard) -> Iterator[None]:
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
def deadline_guard(seconds: float) -> Iterator[_Guard]:
    """Within the block, learner code still running after seconds gets DeadlineExceeded; sleeps are cut, and
    os._exit() raises SystemExit instead of ending the process."""
    guard = _Guard(time.monotonic() + seconds)
    watch = _monitoring if hasattr(sys, "monitoring") else _tracing
    saved_sleep, saved_exit = time.sleep, os._exit
    time.sleep = guard.sleep  # type: ignore[assignment]
    os._exit = _exit_is_an_error  # type: ignore[assignment]
    try:
        with watch(guard):
            yield guard
    finally:
        time.sleep, os._exit = saved_sleep, saved_exit


def run(task: Callable[[], Outcome], timeout: float) -> Outcome:
    """Run task() here under a deadline guard; its Outcome, or status "timeout"."""
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured), deadline_guard(timeout):
            outcome = task()
    except DeadlineExceeded:
        return Outcome("timeout", output=captured.getvalue()[-OUTPUT_LIMIT:])
    return replace(outcome, output=captured.getvalue()[-OUTPUT_LIMIT:])
