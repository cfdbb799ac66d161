"""See what a client sends to Redis: parse packed commands, record round trips, refuse dangerous commands."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

Command = tuple[str, ...]

# redis-py retries a failed command by itself; where the course must see each failure at once, it uses this.
NO_RETRY = Retry(NoBackoff(), 0)

# Commands that reach beyond the course's own database: a course client on a shared server refuses them.
SERVER_WIDE_COMMANDS = {
    "FLUSHALL": "FLUSHALL would empty every database on this server, including data the course did not create",
    "SWAPDB": "SWAPDB would exchange the course's database with another application's",
    "MOVE": "MOVE would put a key into another application's database",
    "SHUTDOWN": "SHUTDOWN would stop a server that other programs may be using",
    "DEBUG": "DEBUG can crash or freeze a server that other programs may be using",
    "REPLICAOF": "REPLICAOF would turn this server into a replica and discard its data",
    "SLAVEOF": "SLAVEOF would turn this server into a replica and discard its data",
}


# Commands that never change data; anything else (including EVAL, a script that may write) counts as a write.
READ_ONLY_COMMANDS = frozenset(
    """GET MGET STRLEN GETRANGE EXISTS TYPE TTL PTTL EXPIRETIME HGET HMGET HGETALL HEXISTS HLEN HKEYS HVALS
    HSTRLEN LRANGE LLEN LINDEX LPOS SMEMBERS SISMEMBER SMISMEMBER SCARD SINTER SUNION SDIFF SRANDMEMBER ZRANGE
    ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZSCORE ZMSCORE ZRANK ZREVRANK ZCARD ZCOUNT XRANGE XREVRANGE XLEN
    SCAN SSCAN HSCAN ZSCAN KEYS DBSIZE PING ECHO WATCH UNWATCH MULTI EXEC DISCARD PUBSUB SCRIPT
    EVAL_RO EVALSHA_RO FCALL_RO""".split()  # noqa: SIM905 - a word list reads better than 60 quoted strings
)
# Scripts and functions run atomically on the server, like a transaction.
SCRIPT_COMMANDS = frozenset({"EVAL", "EVALSHA", "FCALL"})


def writes_outside_transactions(commands: Iterable[Command], scripts_are_atomic: bool = False) -> list[Command]:
    """The commands that may write and were sent outside MULTI ... EXEC.

    A script (EVAL, EVALSHA, FCALL) may write; with scripts_are_atomic=True it is not listed, since it runs
    as one atomic step like a transaction.
    """
    outside: list[Command] = []
    in_transaction = False
    for command in commands:
        name = command[0].upper() if command else ""
        if name == "MULTI":
            in_transaction = True
        elif name in ("EXEC", "DISCARD"):
            in_transaction = False
        elif in_transaction or name in READ_ONLY_COMMANDS or (scripts_are_atomic and name in SCRIPT_COMMANDS):
            continue
        else:
            outside.append(command)
    return outside


class CourseGuardError(redis.RedisError):
    """A command the course client refuses because it could touch data the course did not create."""


def _resp_chunks(packed: Any) -> bytes:
    if isinstance(packed, (bytes, bytearray, memoryview)):
        return bytes(packed)
    if isinstance(packed, str):
        return packed.encode()
    return b"".join(_resp_chunks(part) for part in packed)


def parse_packed(packed: Any) -> list[Command]:
    """Split what redis-py packs for the wire (RESP arrays of bulk strings) into commands."""
    data = _resp_chunks(packed)
    commands: list[Command] = []
    pos = 0
    try:
        while pos < len(data):
            if data[pos : pos + 1] != b"*":  # inline command: not produced by redis-py, kept whole
                end = data.index(b"\r\n", pos)
                commands.append(tuple(data[pos:end].decode(errors="backslashreplace").split()))
                pos = end + 2
                continue
            end = data.index(b"\r\n", pos)
            count = int(data[pos + 1 : end])
            pos = end + 2
            parts = []
            for _ in range(count):
                end = data.index(b"\r\n", pos)
                length = int(data[pos + 1 : end])
                start = end + 2
                parts.append(data[start : start + length].decode(errors="backslashreplace"))
                pos = start + length + 2
            commands.append(tuple(parts))
    except ValueError:
        commands.append(("<unparsed>",))
    return commands


def format_command(command: Sequence[str], width: int = 90) -> str:
    """One command as a learner would type it in redis-cli, shortened when long."""
    words = [word if word and " " not in word and '"' not in word else repr(word) for word in command]
    if words:
        words[0] = words[0].upper()
    text = " ".join(words)
    return text if len(text) <= width else text[: width - 1] + "…"


class Recorder:
    """What one client sent, one entry per round trip, plus hooks that run before a send."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.round_trips: list[list[Command]] = []
        self._before_send: list[Callable[[list[Command], Recorder], None]] = []

    def clear(self) -> None:
        """Forget what was recorded so far (hooks stay)."""
        with self._lock:
            self.round_trips = []

    def add_hook(self, hook: Callable[[list[Command], Recorder], None]) -> Callable[[], None]:
        """Run hook(commands_about_to_be_sent, recorder) before every send; returns a remover."""
        self._before_send.append(hook)
        return lambda: self._before_send.remove(hook) if hook in self._before_send else None

    def record(self, commands: list[Command]) -> None:
        """Run the hooks, then remember commands as one round trip."""
        for hook in list(self._before_send):
            hook(commands, self)
        with self._lock:
            self.round_trips.append(commands)

    @property
    def commands(self) -> list[Command]:
        """Every command sent, in order."""
        with self._lock:
            return [command for trip in self.round_trips for command in trip]

    @property
    def names(self) -> list[str]:
        """The command names sent, upper-case, in order (MULTI and EXEC included)."""
        return [command[0].upper() for command in self.commands if command]

    def used(self, *names: str) -> bool:
        """True when any of these commands was sent."""
        wanted = {name.upper() for name in names}
        return any(name in wanted for name in self.names)

    def describe(self, limit: int = 25) -> str:
        """The round trips as numbered lines, the way the learner sees them in feedback."""
        trips = self.round_trips
        if not trips:
            return "(nothing: your code sent no command to Redis)"
        lines: list[str] = []
        shown = 0
        for number, trip in enumerate(trips, 1):
            for index, command in enumerate(trip):
                if shown == limit:
                    remaining = sum(len(t) for t in trips) - shown
                    lines.append(f"… and {remaining} more commands")
                    return "\n".join(lines)
                prefix = f"round trip {number}:" if index == 0 else " " * len(f"round trip {number}:")
                lines.append(f"{prefix} {format_command(command)}")
                shown += 1
        return "\n".join(lines)


# Called before a connection reads a reply (timeout None) or polls for one (can_read's timeout): where no other
# thread can deliver data (a browser tab), this is when background work runs and a wait is bounded.
ReadHook = Callable[[Any, "float | None"], None]


def screen(packed: Any, refused: dict[str, str], recorder: Recorder | None) -> bool:
    """What every watched connection does before a send: refuse a server-wide command (CourseGuardError), then
    record the send as one round trip. True when something was recorded."""
    if recorder is None and not refused:
        return False
    commands = parse_packed(packed)
    for sent in commands:
        reason = refused.get(sent[0].upper()) if sent else None
        if reason:
            raise CourseGuardError(
                f"{reason}, so the course client refuses it. "
                "Use course_helpers.clear(r) to empty the course's own database instead."
            )
    if recorder is not None:
        recorder.record(commands)
    return recorder is not None


class _WatchedConnectionMixin:
    """Mixed into a redis-py connection class: records and guards every command it sends."""

    recorder: Recorder | None = None
    refused: ClassVar[dict[str, str]] = {}
    before_read: ReadHook | None = None
    _handshake_depth = 0

    def can_read(self, timeout: float | None = 0) -> bool:
        if self.before_read is None:
            return bool(super().can_read(timeout))  # type: ignore[misc]
        self.before_read(self, timeout)  # waits up to timeout itself, so the base class must not wait again
        return bool(super().can_read(0))  # type: ignore[misc]

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        if self.before_read is not None:
            self.before_read(self, None)
        return super().read_response(*args, **kwargs)  # type: ignore[misc]

    def on_connect(self) -> None:
        # AUTH, HELLO, SELECT and CLIENT SETINFO are the library's, not the learner's: do not record them.
        self._handshake_depth += 1
        try:
            super().on_connect()  # type: ignore[misc]
        finally:
            self._handshake_depth -= 1

    def on_connect_check_health(self, *args: Any, **kwargs: Any) -> None:
        self._handshake_depth += 1
        try:
            super().on_connect_check_health(*args, **kwargs)  # type: ignore[misc]
        finally:
            self._handshake_depth -= 1

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if self._handshake_depth == 0:
            screen(command, self.refused, self.recorder)
        super().send_packed_command(command, check_health)  # type: ignore[misc]


def watched_connection_class(
    base: type, recorder: Recorder | None = None, refuse: Iterable[str] = (), before_read: ReadHook | None = None
) -> type:
    """A subclass of the connection class base that records into recorder and refuses the named commands;
    before_read(connection, timeout) runs before every read of a reply."""
    refused = {name: SERVER_WIDE_COMMANDS[name] for name in refuse}
    return type(
        f"Watched{base.__name__}",
        (_WatchedConnectionMixin, base),
        {
            "recorder": recorder,
            "refused": refused,
            "before_read": None if before_read is None else staticmethod(before_read),
        },
    )
