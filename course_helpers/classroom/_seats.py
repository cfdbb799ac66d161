"""Classroom set-up: one private, password-protected redis-server per student, and a hub for progress events.

Why a server per student rather than ACL key patterns on one shared server: the lessons use ordinary key
names ("user:123", "leaderboard") and teach FLUSHDB, KEYS and SELECT, none of which an ACL key pattern can
confine. A separate redis-server process behind its own password is isolation that Redis enforces by
itself: with one student's URL nothing of another student's can be read, changed, flushed or subscribed to.
The instructor's own Redis (the hub) keeps the roster and receives progress events; each student has an
ACL user there that may only XADD to their own event stream.
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import redis

from .._class_link import PREFIX, STUDENT_LINK_KEY, events_key
from .._safety import CourseEnvironmentError
from .._urls import redact
from .._wire import NO_RETRY

ROSTER_KEY = f"{PREFIX}:roster"
META_KEY = f"{PREFIX}:meta"
SAFE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class RosterError(ValueError):
    """The roster cannot be used as it is; the message says what to fix."""


def acl_user(student: str) -> str:
    """The student's ACL user name on the hub."""
    return f"course-{student}"


@dataclass
class Seat:
    """One student's place: a private redis-server and an ACL user on the hub."""

    name: str
    port: int
    public_host: str
    password: str
    hub_password: str
    directory: str
    bind: str = "127.0.0.1"

    @property
    def local_host(self) -> str:
        """Where the instructor's machine reaches this student's server."""
        first = self.bind.split()[0]
        return "127.0.0.1" if first in ("0.0.0.0", "*") else first

    @property
    def redis_url(self) -> str:
        """The URL the student sets as REDIS_URL (carries their password: a secret)."""
        return f"redis://:{quote(self.password, safe='')}@{self.public_host}:{self.port}"


def read_roster(path: Path) -> list[str]:
    """Student names from a CSV with a `name` column (or one name per line); refuses bad rosters."""
    if not path.exists():
        raise RosterError(f"The roster {path} does not exist; create a CSV with a `name` column, one student per row.")
    text = path.read_text(encoding="utf-8-sig")
    rows = [row for row in csv.reader(text.splitlines()) if any(cell.strip() for cell in row)]
    if rows and rows[0] and rows[0][0].strip().lower() == "name":
        rows = rows[1:]
    names = [row[0].strip().lower() for row in rows]
    if not names:
        raise RosterError(f"The roster {path} lists no students; add one name per row under a `name` header.")
    unsafe = [name for name in names if not SAFE_NAME.match(name)]
    if unsafe:
        raise RosterError(
            f"These roster names are not safe to use as user and key names: {unsafe[:5]}; use letters, digits, "
            "- and _ only, starting with a letter (for example ada_l), and run setup again."
        )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise RosterError(f"These names appear more than once in the roster: {duplicates}; make each name unique.")
    return names


def _hub(url: str) -> redis.Redis:
    client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=3, socket_timeout=10)
    try:
        client.ping()
    except redis.RedisError as error:
        raise CourseEnvironmentError(
            f"The class Redis at {redact(url)} did not answer ({error}); start it, or check --redis-url."
        ) from None
    return client


def _port_is_free(port: int, bind: str) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((bind if bind != "0.0.0.0" else "", port))
            return True
        except OSError:
            return False


def _ping(seat: Seat) -> bool:
    client = redis.Redis(
        host=seat.local_host, port=seat.port, password=seat.password, socket_connect_timeout=0.3, retry=NO_RETRY
    )
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _start_server(seat: Seat, max_memory: str) -> None:
    directory = Path(seat.directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = directory / "redis.conf"
    lines = [
        f"port {seat.port}",
        f"bind {seat.bind}",
        f'requirepass "{seat.password}"',
        'save ""',
        "appendonly no",
        f"dir {directory}",
        "daemonize yes",
        f"pidfile {directory / 'redis.pid'}",
        f"logfile {directory / 'redis.log'}",
        f"maxmemory {max_memory}",
        "maxmemory-policy noeviction",
    ]
    # The file holds the student's password: readable by its owner only, from the moment it exists.
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    binary = shutil.which("redis-server")
    if binary is None:
        raise CourseEnvironmentError(
            "Classroom setup starts one redis-server per student, and redis-server is not installed here: "
            "install it (sudo apt-get install redis-server) and run setup again."
        )
    subprocess.run([binary, str(config)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while not _ping(seat):
        if time.monotonic() > deadline:
            raise CourseEnvironmentError(
                f"The redis-server for {seat.name} did not start on port {seat.port}; see {directory / 'redis.log'}."
            )
        time.sleep(0.02)


def _grant_events(hub: redis.Redis, seat: Seat) -> None:
    hub.acl_setuser(
        acl_user(seat.name),
        enabled=True,
        reset_keys=True,
        reset_channels=True,
        reset_passwords=True,
        passwords=[f"+{seat.hub_password}"],
        keys=[events_key(seat.name)],
        commands=["-@all", "+xadd", "+ping", "+client|setname"],
    )


def _hub_url_for(seat: Seat, hub_url: str, public_host: str) -> str:
    parts = urlsplit(hub_url)
    host = parts.hostname or "localhost"
    if host in ("localhost", "127.0.0.1") and public_host not in ("localhost", "127.0.0.1"):
        host = public_host  # students elsewhere reach the hub by the same public address as their server
    return f"redis://{acl_user(seat.name)}:{quote(seat.hub_password, safe='')}@{host}:{parts.port or 6379}/0"


def _link_student(seat: Seat, hub_url: str, public_host: str) -> None:
    link = json.dumps(
        {"student": seat.name, "hub_url": _hub_url_for(seat, hub_url, public_host), "stream": events_key(seat.name)}
    )
    with redis.Redis(host=seat.local_host, port=seat.port, password=seat.password, db=0) as student_server:
        student_server.set(STUDENT_LINK_KEY, link)


def _write_students_csv(out: Path, seats: list[Seat]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "students.csv"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds passwords
    with os.fdopen(fd, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "redis_url", "port"])
        for seat in seats:
            writer.writerow([seat.name, seat.redis_url, seat.port])
    os.chmod(path, 0o600)
    return path


def load_seats(hub: redis.Redis) -> list[Seat]:
    """The seats recorded on the hub, by port."""
    seats = [Seat(**json.loads(value)) for value in hub.hgetall(ROSTER_KEY).values()]
    return sorted(seats, key=lambda seat: seat.port)


def setup(
    roster: Path,
    hub_url: str,
    out: Path,
    *,
    bind: str = "127.0.0.1",
    public_host: str | None = None,
    first_port: int = 7100,
    max_memory: str = "64mb",
) -> list[Seat]:
    """Give every student on the roster a private redis-server and a hub ACL user; write OUT/students.csv.

    Idempotent: students already set up keep their server and password; servers that stopped are started again.
    """
    names = read_roster(roster)  # validates before anything changes
    hub = _hub(hub_url)
    public_host = public_host or (urlsplit(hub_url).hostname or "127.0.0.1")
    existing = {seat.name: seat for seat in load_seats(hub)}
    used_ports = {seat.port for seat in existing.values()}
    seats: list[Seat] = []
    next_port = first_port
    for name in names:
        seat = existing.get(name)
        if seat is None:
            while next_port in used_ports or not _port_is_free(next_port, bind):
                next_port += 1
            used_ports.add(next_port)
            seat = Seat(
                name,
                next_port,
                public_host,
                secrets.token_urlsafe(18),
                secrets.token_urlsafe(18),
                str((out / "servers" / name).resolve()),
                bind,
            )
        if not _ping(seat):
            _start_server(seat, max_memory)
        _grant_events(hub, seat)
        _link_student(seat, hub_url, public_host)
        hub.hset(ROSTER_KEY, name, json.dumps(asdict(seat)))
        seats.append(seat)
    hub.hset(META_KEY, mapping={"out": str(out.resolve()), "updated": time.strftime("%Y-%m-%dT%H:%M:%S")})
    _write_students_csv(out, seats)
    return seats


def teardown(hub_url: str) -> list[str]:
    """Stop every student server, delete the ACL users and the classroom keys setup made; returns the names."""
    hub = _hub(hub_url)
    seats = load_seats(hub)
    out = hub.hget(META_KEY, "out")
    out = str(out) if out else None
    for seat in seats:
        try:
            with redis.Redis(
                host=seat.local_host, port=seat.port, password=seat.password, socket_connect_timeout=0.5, retry=NO_RETRY
            ) as server:
                server.shutdown(nosave=True)
        except redis.RedisError:
            pass  # already stopped (shutdown also ends the connection, which redis-py may report)
        shutil.rmtree(seat.directory, ignore_errors=True)
        hub.acl_deluser(acl_user(seat.name))
        hub.delete(events_key(seat.name))
    hub.delete(ROSTER_KEY, META_KEY)
    if out:
        students_csv = Path(out) / "students.csv"
        students_csv.unlink(missing_ok=True)
        for folder in (Path(out) / "servers", Path(out)):
            if folder.exists() and not any(folder.iterdir()):
                folder.rmdir()
    return [seat.name for seat in seats]
