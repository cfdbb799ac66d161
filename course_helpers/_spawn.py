"""The spawn sandbox: a warm worker process, started fresh from the interpreter, runs one check at a time.

The task (the checker with the learner's function) travels to the worker with cloudpickle, which sends a
notebook's functions by value, with the globals, helpers and imports they use. The worker is started in the
background when the course is imported and replaced after a timeout, a crash, or a check that left threads
running, so nothing of the learner's code keeps running after its verdict. The worker exits by itself when
the kernel that started it dies (it reads its jobs from a pipe, and the pipe closes).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import cloudpickle

from ._framing import READY, read_frame, write_frame
from ._results import Outcome, ended_without_answer

START_SECONDS = 60.0  # a cold start on a slow laptop (antivirus scanning every import) can take this long
POLL_SECONDS = 0.1  # how often a wait wakes up, so that an interrupt (the stop button) is seen quickly


class Worker:
    """One worker process and the thread that reads its replies."""

    def __init__(self) -> None:
        package_parent = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        # The worker must import course_helpers and whatever modules the notebook's folder holds.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, os.getcwd(), env.get("PYTHONPATH")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # Windows: no console window flashing up
        # What the worker writes to stderr (an import error, a crash) is kept to explain a worker that dies.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker; closed in stop()
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            creationflags=flags,
            start_new_session=os.name == "posix",  # Ctrl-C in a terminal reaches the kernel, not its worker
        )
        self._replies: queue.Queue[bytes | None] = queue.Queue()
        self.ready = False
        self.ended = False  # its output closed: it ended, even if the OS has not reported its exit yet
        self._reader = threading.Thread(target=self._read_replies, name="course-check-worker", daemon=True)
        self._reader.start()

    @staticmethod
    def command() -> list[str]:
        """The command line of a worker process."""
        return [sys.executable, "-m", "course_helpers._worker"]

    def _read_replies(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            try:
                frame = read_frame(stream)
            except (OSError, ValueError):
                frame = None
            self._replies.put(frame)
            if frame is None:
                return

    def _next_reply(self, seconds: float) -> bytes | Literal[False] | None:
        """The next frame, None when the worker ended, False when seconds passed first."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                return self._replies.get(timeout=max(0.0, min(POLL_SECONDS, deadline - time.monotonic())))
            except queue.Empty:
                if time.monotonic() >= deadline:
                    return False

    def wait_ready(self, seconds: float = START_SECONDS) -> bool:
        """True once the worker has imported the course and waits for jobs (False: it died, or is too slow)."""
        if not self.ready:
            reply = self._next_reply(seconds)
            self.ready = reply == READY
            self.ended = reply is None
        return self.ready

    def last_words(self, limit: int = 2000) -> str:
        """The end of what the worker wrote to stderr."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-limit:].strip()

    def submit(self, payload: bytes, timeout: float) -> bytes | Literal[False] | None:
        """Send one job; its reply, None when the worker died, False when timeout passed first."""
        stdin = self.process.stdin
        assert stdin is not None
        try:
            write_frame(stdin, payload)
        except OSError:
            return None
        return self._next_reply(timeout)

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process.poll() is None

    def stop(self) -> None:
        """Kill the process (whatever it is running) and collect it."""
        if self.alive():
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._reader.join(timeout=2)
        self._stderr.close()

    def exit_code(self) -> int | None:
        """The process's exit code once it has ended."""
        try:
            return self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None


_lock = threading.Lock()
_worker: Worker | None = None


def prewarm() -> None:
    """Have a worker starting (or ready) in the background."""
    global _worker
    with _lock:
        if _worker is None or not _worker.alive():
            _worker = Worker()


def _take_worker() -> Worker:
    global _worker
    with _lock:
        if _worker is None or not _worker.alive():
            _worker = Worker()
        return _worker


def _retire(worker: Worker) -> None:
    """Stop this worker and start its replacement in the background."""
    global _worker
    worker.stop()
    with _lock:
        if _worker is worker:
            _worker = Worker()


def shutdown() -> None:
    """Stop the worker (the next check starts a new one)."""
    global _worker
    with _lock:
        worker, _worker = _worker, None
    if worker is not None:
        worker.stop()


def run(task: Callable[[], Outcome], timeout: float) -> Outcome:
    """Run task() in the worker; its Outcome, or status "timeout" after timeout seconds."""
    try:
        # The notebook's sys.path goes along, so the worker finds every module the kernel can import.
        payload = pickle.dumps((list(sys.path), cloudpickle.dumps(task)))
    except Exception as error:
        return Outcome("error", unpicklable_message(task, error))
    worker = _take_worker()
    try:
        if not worker.wait_ready():
            died = worker.ended or not worker.alive()
            code = worker.exit_code() if died else None  # before _retire, which would kill a slow exit
            detail = worker.last_words() if died else ""
            _retire(worker)
            if died:
                return Outcome(
                    "env_problem",
                    f"The process that runs checks ended as it started (exit code {code}), so this "
                    "check could not run: run `python -m course_helpers doctor` in a terminal to see what is wrong."
                    + (f" It said: {detail}" if detail else ""),
                )
            return Outcome(
                "env_problem",
                "The process that runs checks did not start within a minute. Run the check again; if it keeps "
                "happening, run `python -m course_helpers doctor` in a terminal to see what is wrong.",
            )
        reply = worker.submit(payload, timeout)
    except BaseException:  # KeyboardInterrupt (the stop button): stop the learner's code with the worker
        _retire(worker)
        raise
    if reply is False:
        _retire(worker)
        return Outcome("timeout")
    if reply is None:
        code = worker.exit_code()
        _retire(worker)
        return ended_without_answer(f"exit code {code}")
    outcome: Outcome
    outcome, retire = pickle.loads(reply)
    if retire:
        _retire(worker)
    return outcome


def _culprit(function: Any) -> tuple[str, Any] | None:
    """The first global or closure variable of function that cannot be pickled: (name, value)."""
    code = getattr(function, "__code__", None)
    if code is None:
        return None
    names: list[str] = []
    stack = [code]
    while stack:
        current = stack.pop()
        names += current.co_names
        stack += [const for const in current.co_consts if hasattr(const, "co_names")]
    candidates = [(name, function.__globals__[name]) for name in names if name in getattr(function, "__globals__", {})]
    cells = zip(code.co_freevars, function.__closure__ or (), strict=False)
    candidates += [(name, cell.cell_contents) for name, cell in cells]
    for name, value in candidates:
        try:
            cloudpickle.dumps(value)
        except Exception:
            return name, value
    return None


def _describe(value: Any) -> str:
    kind = type(value)
    if kind.__module__ == "_thread" or "Lock" in kind.__name__:
        return "threading lock"
    if kind.__module__ == "socket":
        return "open socket"
    if kind.__module__ in ("_io", "io"):
        return "open file"
    return kind.__name__


def unpicklable_message(task: Any, error: Exception) -> str:
    """One sentence: which variable of the learner's function cannot travel to the checking process, and why."""
    answer = getattr(task, "learner_answer", None)
    found = _culprit(answer) if answer is not None else None
    if found is None:
        return (
            f"Your function uses something that cannot be sent to the separate process that runs checks ({error}). "
            "Create such objects (locks, sockets, open files, clients) inside your function instead of in another cell."
        )
    name, value = found
    kind = _describe(value)
    if "redis" in type(value).__module__:
        return (
            f"Your function uses the notebook's variable {name} (a {kind} from redis-py), which cannot be sent to "
            "the separate process that runs checks: use the client r that the check passes to your function."
        )
    return (
        f"Your function uses the notebook's variable {name} (a {kind}), which cannot be sent to the separate "
        f"process that runs checks: create it inside your function, or pass what it needs as an argument."
    )
