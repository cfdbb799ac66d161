"""A throw-away redis-server that the course starts itself, on a free loopback port, with no persistence.

The server runs under a guardian process (_guardian.py) tied to this Python process by a pipe: however this
process ends (a clean exit, a killed kernel, os._exit), the pipe closes and the guardian stops the server.

The production lesson (16-production) also gives a server options of its own (`config`: maxmemory, AOF...),
keeps its data folder across restarts, and makes it fail on purpose: crash() kills the redis-server process
with SIGKILL, restart() starts it again on the same port and folder, pause() and resume() freeze and thaw it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ._embedded import free_port
from ._programs import MIN_SERVER_VERSION, how_to_get_redis_server, program_version, server_program, too_old
from ._safety import CourseEnvironmentError

# Managed by PrivateRedis itself: an option of the same name in `config` is refused.
_MANAGED_OPTIONS = frozenset({"port", "bind", "dir", "logfile", "daemonize", "pidfile"})


@dataclass
class PrivateRedis:
    """A redis-server process owned by this Python process; stopped at exit.

    config: extra redis-server options, e.g. {"maxmemory": "4mb", "appendonly": "yes", "save": "1 1"}; they
    come after the course's defaults (no RDB snapshots, no AOF), so they override them.
    data_dir: the folder for the server's files (RDB, AOF); by default a temporary folder that lives until
    stop(), and survives crash() and restart().
    """

    binary: str = ""  # the program to start; by default COURSE_REDIS_SERVER or redis-server on PATH
    port: int = 0
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)  # the guardian
    server_pid: int = 0
    _dir: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)
    config: dict[str, str | int] = field(default_factory=dict)
    data_dir: str = ""
    _paused: bool = field(default=False, repr=False)
    program: str = field(default="", repr=False)  # the path of the binary start() ran
    _config: dict[str, str] = field(default_factory=dict, repr=False)  # CONFIG GET * before any check ran
    _stop_registered: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        """redis:// URL of database 0 on this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def folder(self) -> Path:
        """The folder that holds the server's files (dump.rdb, the AOF); empty before start()."""
        if self.data_dir:
            return Path(self.data_dir)
        return Path(self._dir.name) if self._dir is not None else Path()

    def start(self, wait_seconds: float = 10.0) -> PrivateRedis:
        """Start the server and wait until it answers PING (or has loaded its data, after a restart)."""
        path = shutil.which(self.binary) if self.binary else server_program()
        if path is None:
            raise CourseEnvironmentError(
                f"This needs the redis-server program, which is not installed here: {how_to_get_redis_server()}, "
                "or set COURSE_CHECK_BACKEND=fake to check on the built-in fakeredis."
            )
        self.program = path
        version = program_version(path)
        if too_old(version):
            oldest = ".".join(map(str, MIN_SERVER_VERSION))
            raise CourseEnvironmentError(
                f"The redis-server program at {path} is version {version}, older than {oldest}, the oldest this "
                f"course supports: install a newer one ({how_to_get_redis_server()}), or set "
                "COURSE_CHECK_BACKEND=fake to check on the built-in fakeredis."
            )
        clashing = sorted(_MANAGED_OPTIONS & {name.lower() for name in self.config})
        if clashing:
            raise ValueError(f"PrivateRedis sets {', '.join(clashing)} itself: leave it out of config.")
        self.port = self.port or free_port()
        if self.data_dir:
            Path(self.data_dir).mkdir(parents=True, exist_ok=True)
        elif self._dir is None:
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
                str(self.folder.resolve()),
                "--logfile",
                "",
                "--loglevel",
                "warning",
                *self._config_arguments(),
            ],
            stdin=subprocess.PIPE,  # the lifeline: closed when this process ends, however it ends
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self._process.stdout is not None
        self.server_pid = int(self._process.stdout.readline() or 0)
        self._paused = False
        if not self._stop_registered:
            atexit.register(self.stop)
            self._stop_registered = True
        # No retries of its own (redis-py's default retries with pauses): this loop is the retry.
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                client.ping()
                break
            except redis.AuthenticationError:  # it answers, and asks for the password its config sets
                break
            except redis.ConnectionError:  # BusyLoadingError (loading its data) is a ConnectionError too
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

    def _remember_config(self) -> None:
        with self.client() as admin:
            self._config = admin.config_get("*")

    def _config_arguments(self) -> list[str]:
        """config as command-line arguments: a value of several words is several arguments ("save 1 1")."""
        arguments: list[str] = []
        for name, value in self.config.items():
            words = str(value).split()
            arguments += [f"--{name}", *(words or [""])]
        return arguments

    def alive(self) -> bool:
        """True while the process runs."""
        return self._process is not None and self._process.poll() is None

    def client(self, **options: object) -> redis.Redis:
        """A new redis-py client for this server (decode_responses=True unless options say otherwise)."""
        options.setdefault("decode_responses", True)
        return redis.Redis(host="127.0.0.1", port=self.port, **options)  # type: ignore[arg-type]

    def reset_state(self) -> None:
        """Undo what a check's code may have changed beyond the data: ACL users, configuration, scripts.

        The configuration goes back to what it was the first time this was called (a server with no password).

        FLUSHALL (done by every check) empties the data; a learner's ACL SETUSER or CONFIG SET would otherwise
        reach the next check, and a wrong answer that locks out the default user would break every later one.
        """
        try:
            self._reset_state()
        except redis.RedisError:  # the default user was switched off or deleted: only a fresh process helps
            self.stop()
            self.start()

    def _reset_state(self) -> None:
        if not self._config:
            self._remember_config()
        with self.client(decode_responses=True) as admin:
            admin.execute_command("ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", "&*", "+@all")
            for user in admin.acl_users():
                if user != "default":
                    admin.acl_deluser(user)
            now = admin.config_get("*")
            for name, value in self._config.items():
                if now.get(name) != value:
                    with contextlib.suppress(redis.ResponseError):  # a setting that cannot change at run time
                        admin.config_set(name, value)
            admin.script_flush()
            with contextlib.suppress(redis.ResponseError):  # FUNCTION is Redis 7.0+
                admin.function_flush()

    def crash(self) -> None:
        """Kill the redis-server process with SIGKILL, as a power cut or the kernel's OOM killer would.

        Redis gets no chance to save or flush anything; a background save it had forked is killed too, so that
        nothing it started outlives it. The data folder stays for restart().
        """
        if not self.alive():
            raise CourseEnvironmentError("This redis-server is not running: start() or restart() it first.")
        kill = getattr(signal, "SIGKILL", signal.SIGTERM)  # Windows has no SIGKILL; SIGTERM ends it at once there
        freeze = getattr(signal, "SIGSTOP", None)
        if freeze is not None:
            os.kill(self.server_pid, freeze)  # frozen, it forks no new child while its children are listed
        victims = [self.server_pid, *_children(self.server_pid)]
        # The lifeline closes first, so that the guardian is waiting for the server when it dies and exits at
        # once (its SIGTERM stays pending on the frozen process, which never runs again).
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.close()
        for pid in victims:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, kill)
        self._paused = False
        self._end_guardian()

    def restart(self, wait_seconds: float = 10.0) -> PrivateRedis:
        """Start the server again on the same port, with the same options and data folder.

        A running server is first stopped cleanly (SIGTERM: Redis saves and flushes as its options say); after
        crash(), it simply starts again and loads whatever reached its data folder.
        """
        if self.alive():
            self.resume()
            self._end_guardian()
        return self.start(wait_seconds)

    def pause(self) -> None:
        """Freeze the server process (SIGSTOP): it keeps its connections but answers nothing until resume().

        This is how a replica that has fallen behind, or a network partition, looks from outside. POSIX only.
        """
        stop = getattr(signal, "SIGSTOP", None)
        if stop is None:
            raise CourseEnvironmentError(
                "Pausing a server needs SIGSTOP, which Linux and macOS have, and Windows lacks."
            )
        if self.alive() and not self._paused:
            os.kill(self.server_pid, stop)
            self._paused = True

    def resume(self) -> None:
        """Let a paused server run again (SIGCONT)."""
        thaw = getattr(signal, "SIGCONT", None)  # only where pause() works
        if self._paused and self.alive() and thaw is not None:
            os.kill(self.server_pid, thaw)
        self._paused = False

    def _end_guardian(self) -> None:
        """Close the lifeline and wait for the guardian, which stops the server (if it still runs) and exits."""
        if self._process is None:
            return
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def stop(self) -> None:
        """Stop the server (its guardian stops it when the lifeline closes) and remove its temporary directory.

        A data_dir given by the caller is kept.
        """
        self.resume()  # a frozen process would ignore the guardian's SIGTERM until it is killed, 5 s later
        self._end_guardian()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


def _children(pid: int) -> list[int]:
    """The processes pid has forked (a background save, an AOF rewrite), where /proc tells; else none."""
    children: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return children
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()  # after "pid (name)": state, ppid, ...
        if len(fields) > 1 and fields[1] == str(pid):
            children.append(int(entry.name))
    return children


_server_for_checks: PrivateRedis | None = None


def real_server_for_checks() -> PrivateRedis:
    """The private redis-server process that checks use when COURSE_CHECK_BACKEND=real, started on first use.

    Each check empties it and works in it through a TrialRedis; it is never the learner's own server.
    """
    global _server_for_checks
    wanted = server_program() or "redis-server"
    if _server_for_checks is not None and _server_for_checks.alive() and _server_for_checks.program != wanted:
        _server_for_checks.stop()  # COURSE_REDIS_SERVER names another program now
    if _server_for_checks is None or not _server_for_checks.alive():
        _server_for_checks = PrivateRedis().start()
    return _server_for_checks
