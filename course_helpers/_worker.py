"""The check worker: `python -m course_helpers._worker`, started by the spawn sandbox; one job at a time.

Jobs arrive as frames on stdin and replies leave as frames on the original stdout. When the kernel that
started the worker dies, stdin closes and the worker exits at once, even in the middle of a job.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import queue
import random
import signal
import socket
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Iterator
from typing import IO

from ._framing import READY, read_frame, write_frame
from ._process_role import mark_as_check_process
from ._results import Outcome, with_output


def _load(payload: bytes) -> object:
    search_path, task_bytes = pickle.loads(payload)
    for entry in search_path:  # the kernel's import path: the notebook's folder, the tests' folders...
        if entry not in sys.path:
            sys.path.append(entry)
    return pickle.loads(task_bytes)


@contextlib.contextmanager
def _restored_globals() -> Iterator[None]:
    """Put back what a learner's code may change for the whole process, so the next check starts as this one did.

    (A forked child needs none of this: it ends after one check. The worker lives on.)
    """
    sleep, timeout = time.sleep, socket.getdefaulttimeout()
    state, environ, cwd, path = random.getstate(), dict(os.environ), os.getcwd(), list(sys.path)
    try:
        with warnings.catch_warnings():  # puts back the warning filters (a learner's simplefilter("error"))
            yield
    finally:
        time.sleep = sleep
        sys.path[:] = path
        socket.setdefaulttimeout(timeout)
        random.setstate(state)
        os.environ.clear()
        os.environ.update(environ)
        with contextlib.suppress(OSError):
            os.chdir(cwd)


def run_job(payload: bytes, own_threads: set[threading.Thread]) -> tuple[Outcome, bool]:
    """Run one pickled task; (its outcome, whether this worker must be replaced afterwards)."""
    captured = io.StringIO()
    sys.stdout = sys.stderr = captured
    try:
        with _restored_globals():
            try:
                task = _load(payload)
            except Exception as error:
                outcome = Outcome(
                    "error",
                    f"Your function needs something that the checking process could not load "
                    f"({type(error).__name__}: {error}). Define what it uses in the notebook, or in a module in the "
                    "notebook's folder, and run the check again.",
                )
            else:
                try:
                    outcome = task()  # type: ignore[operator]
                except BaseException as error:  # the task reports learner errors itself; this is a checker bug
                    outcome = Outcome("error", repr(error), internal=traceback.format_exc())
    finally:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    leftover = [thread for thread in threading.enumerate() if thread not in own_threads and thread.is_alive()]
    # Threads the learner's code started are still running: only a new process stops them for sure.
    return with_output(outcome, captured.getvalue()), bool(leftover)


def main() -> None:
    """Serve jobs until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the kernel handles the stop button by replacing this worker
    channel_in: IO[bytes] = sys.stdin.buffer
    # Keep a private copy of stdout for replies; fd 1 itself goes to devnull, so that nothing a library or
    # C extension prints can corrupt a frame.
    channel_out: IO[bytes] = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - for the worker's life: input() in learner code ends at once
    mark_as_check_process()

    import course_helpers.exercises  # noqa: F401 - warm up: redis, fakeredis and every checker, before READY

    jobs: queue.Queue[bytes] = queue.Queue()

    def read_jobs() -> None:
        while True:
            frame = read_frame(channel_in)
            if frame is None:  # the kernel is gone: so is everything this worker runs
                os._exit(0)
            jobs.put(frame)

    threading.Thread(target=read_jobs, name="jobs", daemon=True).start()
    write_frame(channel_out, READY)
    own_threads = set(threading.enumerate())
    while True:
        outcome, retire = run_job(jobs.get(), own_threads)
        write_frame(channel_out, pickle.dumps((outcome, retire)))
        if retire:
            os._exit(0)


if __name__ == "__main__":
    main()
