"""Run a learner's code where it cannot hang or crash the kernel: a forked child with a hard deadline."""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import select
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

Outcome = dict[str, Any]

# True only inside a forked check process, where changing global state (time.sleep) harms nothing.
in_forked_child = False


def can_fork() -> bool:
    """True where os.fork exists and works (Linux, macOS; not Windows or Pyodide)."""
    return hasattr(os, "fork") and sys.platform != "emscripten" and os.environ.get("COURSE_NO_FORK") != "1"


def _child(task: Callable[[], Outcome], write_fd: int) -> None:
    global in_forked_child
    in_forked_child = True
    # The kernel's stdout is a ZMQ stream owned by threads that do not exist in this child: capture instead.
    captured = io.StringIO()
    sys.stdout = sys.stderr = captured
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        outcome = task()
    except BaseException as error:  # the task reports learner errors itself; this is a checker bug
        outcome = {"status": "error", "internal": traceback.format_exc(), "message": repr(error)}
    outcome["output"] = captured.getvalue()[-4000:]
    try:
        payload = pickle.dumps(outcome)
    except Exception:  # a learner's object that cannot be pickled: keep the text only
        outcome = {key: value for key, value in outcome.items() if isinstance(value, (str, int, float, bool))}
        payload = pickle.dumps(outcome)
    with os.fdopen(write_fd, "wb") as pipe:
        pipe.write(payload)
    os._exit(0)


def _read_until(read_fd: int, deadline: float) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return b"".join(chunks), False
        ready, _, _ = select.select([read_fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(read_fd, 1 << 16)
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)


def _run_forked(task: Callable[[], Outcome], timeout: float) -> Outcome:
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork in a threaded process; the child only runs task() and exits.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read_fd)
        _child(task, write_fd)
    os.close(write_fd)
    try:
        data, finished = _read_until(read_fd, time.monotonic() + timeout)
    except BaseException:  # KeyboardInterrupt in the kernel: stop the child, then let it propagate
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_fd)
        raise
    os.close(read_fd)
    if not finished:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if not finished:
        return {"status": "timeout"}
    if not data:
        how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit code {os.WEXITSTATUS(status)}"
        return {"status": "error", "message": f"the checking process ended without an answer ({how})"}
    outcome: Outcome = pickle.loads(data)
    return outcome


def _run_threaded(task: Callable[[], Outcome], timeout: float) -> Outcome:
    # Without fork the best we can do is stop waiting: the thread is a daemon and ends with the kernel.
    box: list[Outcome] = []
    captured = io.StringIO()

    def target() -> None:
        try:
            box.append(task())
        except BaseException:
            box.append({"status": "error", "internal": traceback.format_exc(), "message": "checker failed"})

    with contextlib.redirect_stdout(captured):
        worker = threading.Thread(target=target, name="course-check", daemon=True)
        worker.start()
        worker.join(timeout)
    if not box:
        return {"status": "timeout"}
    box[0]["output"] = captured.getvalue()[-4000:]
    return box[0]


def run_isolated(task: Callable[[], Outcome], timeout: float) -> Outcome:
    """Run task() in a forked child (or a thread where fork is missing) and return its outcome dict.

    The outcome has at least "status"; "timeout" when task did not finish within timeout seconds.
    """
    if can_fork():
        return _run_forked(task, timeout)
    if sys.platform == "emscripten":  # Pyodide has neither fork nor threads: run inline, without a deadline
        return _run_inline(task)
    return _run_threaded(task, timeout)


def _run_inline(task: Callable[[], Outcome]) -> Outcome:
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        outcome = task()
    outcome["output"] = captured.getvalue()[-4000:]
    return outcome
