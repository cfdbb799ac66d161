"""Run a checker and the learner's code where they cannot hang or crash the kernel: one interface, three ways.

- "fork": a forked child with a hard deadline (Linux: the fastest, and the kernel's threads are not copied).
- "spawn": a warm worker process started fresh from the interpreter (Windows, macOS, or COURSE_SANDBOX=spawn);
  the task travels there with cloudpickle, so answers that use notebook globals, imports and closures work.
- "inline": in this process, under a deadline guard (Pyodide, which has neither fork nor subprocesses).

COURSE_SANDBOX=fork|spawn|inline forces one; the default is the safest fast one for the platform.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from . import _fork, _inline, _spawn
from ._results import Outcome

Task = Callable[[], Outcome]
STRATEGIES = ("fork", "spawn", "inline")


def can_fork() -> bool:
    """True where os.fork exists (Linux, macOS; not Windows or Pyodide)."""
    return hasattr(os, "fork") and sys.platform != "emscripten"


def can_spawn() -> bool:
    """True where this Python can start another Python (everywhere but Pyodide)."""
    return sys.platform != "emscripten" and bool(sys.executable)


class SandboxChoiceError(ValueError):
    """COURSE_SANDBOX names a way to run checks that does not exist or does not work here."""


def strategy() -> str:
    """The way checks run in this process: COURSE_SANDBOX if set, else the platform's default."""
    forced = os.environ.get("COURSE_SANDBOX", "").strip().lower()
    if forced:
        if forced not in STRATEGIES:
            raise SandboxChoiceError(
                f"COURSE_SANDBOX={forced!r} is not one of fork, spawn or inline; set it to one of those or unset it."
            )
        if forced == "fork" and not can_fork():
            raise SandboxChoiceError(
                "COURSE_SANDBOX=fork, but this system has no os.fork (Windows or a browser); unset it, or use spawn."
            )
        if forced == "spawn" and not can_spawn():
            raise SandboxChoiceError("COURSE_SANDBOX=spawn, but this Python cannot start processes; unset it.")
        return forced
    if not can_spawn():
        return "inline"
    # macOS system libraries can crash in the forked child of a threaded process (and the kernel has ~9
    # threads); Windows has no fork. Linux forks safely and a fork is ready at once, with no warm-up.
    if sys.platform.startswith("linux") and can_fork():
        return "fork"
    return "spawn"


def prewarm() -> None:
    """Start the spawn worker in the background now, so the first check does not wait for it."""
    try:
        chosen = strategy()
    except SandboxChoiceError:
        return  # reported by the first check, as a set-up problem
    if chosen == "spawn":
        _spawn.prewarm()


def run_isolated(task: Task, timeout: float) -> Outcome:
    """Run task() away from the kernel and return its Outcome; status "timeout" after timeout seconds."""
    try:
        chosen = strategy()
    except SandboxChoiceError as error:
        return Outcome("env_problem", str(error))
    if chosen == "fork":
        return _fork.run(task, timeout)
    if chosen == "spawn":
        return _spawn.run(task, timeout)
    return _inline.run(task, timeout)
