"""A throw-away redis-server that the course starts itself, on a free loopback port, with no persistence.

The server runs under a guardian process (_guardian.py) tied to this Python process by a pipe: however this
process ends (a clean exit, a killed kernel, os._exit), the pipe closes and the guardian stops the server.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from ._embedded import free_port
from ._safety import CourseEnvironmentError


@dataclass
class PrivateRedis:
    """A redis-server process owned by this Python process; stopped at exit."""

    binary: str = "redis-server"
    port: int = 0
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)  # the guardian
    server_pid: int = 0
    _dir: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """redis:// URL of database 0 on this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, wait_seconds: float = 10.0) -> PrivateRedis:
        """Start the server and wait until it answers PING."""
        path = shutil.which(self.binary)
        if path is None:
            raise CourseEnvironmentError(
                "Checking on real Redis needs the redis-server program, which is not installed: install it "
                "(`sudo apt-get install redis-server`, `brew install redis` or "
                "`conda install -c conda-forge redis-server`) or set COURSE_CHECK_BACKEND=fake."
            )
        self.port = self.port or free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="course-redis-")
        guardian = Path(__file__).resolve().parent / "_guardian.py"
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-S",
                str(guardian),
                path,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._dir.name,
                "--logfile",
                "",
                "--loglevel",
                "warning",
            ],
            stdin=subprocess.PIPE,  # the lifeline: closed when this process ends, however it ends
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self._process.stdout is not None
        self.server_pid = int(self._process.stdout.readline() or 0)
        atexit.register(self.stop)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise CourseEnvironmentError(
                        f"redis-server did not start on port {self.port}; run `redis-server --port {self.port}` "
                        "in a terminal to see why, or set COURSE_CHECK_BACKEND=fake."
                    ) from None
                time.sleep(0.02)
            finally:
                client.close()
        return self

    def alive(self) -> bool:
        """True while the process runs."""
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Stop the server (its guardian stops it when the lifeline closes) and remove its directory."""
        if self._process is not None:
            for stream in (self._process.stdin, self._process.stdout):
                if stream is not None:
                    stream.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


_server_for_checks: PrivateRedis | None = None


def real_server_for_checks() -> PrivateRedis:
    """The private redis-server process that checks use when COURSE_CHECK_BACKEND=real, started on first use.

    Each check empties it and works in it through a TrialRedis; it is never the learner's own server.
    """
    global _server_for_checks
    if _server_for_checks is None or not _server_for_checks.alive():
        _server_for_checks = PrivateRedis().start()
    return _server_for_checks
