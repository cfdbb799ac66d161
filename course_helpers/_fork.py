"""The fork sandbox: a task runs in a forked child with a hard deadline, and the child is killed after it."""

from __future__ import annotations

import io
import os
import pickle
import selectors
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Callable

from ._process_role import mark_as_check_process
from ._results import Outcome, ended_without_answer, with_output


def _child(task: Callable[[], Outcome], write_fd: int) -> None:
    """The forked child: run task, send its Outcome, and end here whatever happens (it must never return into
    the kernel's code, where it would carry on as a second copy of the kernel)."""
    try:
        mark_as_check_process()
        # The kernel's stdout is a ZMQ stream owned by threads that do not exist in this child: capture instead.
        captured = io.StringIO()
        sys.stdout = sys.stderr = captured
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            outcome = task()
        except BaseException as error:  # the task reports learner errors itself; this is a checker bug
            outcome = Outcome("error", repr(error), internal=traceback.format_exc())
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(pickle.dumps(with_output(outcome, captured.getvalue())))
    finally:
        os._exit(0)


def _read_until(read_fd: int, deadline: float) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    # A selector (epoll, poll), not select(): a kernel with many files open gets descriptors past select's 1024.
    with selectors.DefaultSelector() as selector:
        selector.register(read_fd, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return b"".join(chunks), False
            if not selector.select(remaining):
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                return b"".join(chunks), True
            chunks.append(chunk)


def _ended_without_answer(status: int) -> Outcome:
    how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit code {os.WEXITSTATUS(status)}"
    return ended_without_answer(how)


def run(task: Callable[[], Outcome], timeout: float) -> Outcome:
    """Run task() in a forked child; its Outcome, or status "timeout" after timeout seconds."""
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork in a threaded process. On Linux the child only runs task() and exits;
        # on macOS, where that is unsafe, the default sandbox is spawn.
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
    if not finished:
        os.kill(pid, signal.SIGKILL)  # before the pipe closes, so the child never sees a broken pipe
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    if not finished:
        return Outcome("timeout")
    if not data:
        return _ended_without_answer(status)
    outcome: Outcome = pickle.loads(data)
    return outcome
