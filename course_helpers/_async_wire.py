"""See what an asyncio client sends to Redis: _wire's recording and guarding, for redis.asyncio connections.

A connection class made here records each send of the learner's asyncio client as one round trip in the same
Recorder a sync client uses (a pipeline's execute() is one send, so one round trip, as in the sync client), runs
the same hooks before it (injections, dropped connections) and refuses the same server-wide commands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, ClassVar

from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff

from ._wire import SERVER_WIDE_COMMANDS, Recorder, screen

# The asyncio client needs its own kind of Retry; this one never retries, like _wire.NO_RETRY.
ASYNC_NO_RETRY = AsyncRetry(NoBackoff(), 0)


class _WatchedAsyncConnectionMixin:
    """Mixed into a redis.asyncio connection class: records and guards every command it sends."""

    recorder: Recorder | None = None
    refused: ClassVar[dict[str, str]] = {}
    tasks: ClassVar[set[int] | None] = None  # ids of the asyncio tasks that sent the learner's commands
    _handshake_depth = 0

    async def on_connect(self) -> None:
        # AUTH, HELLO, SELECT and CLIENT SETINFO are the library's, not the learner's: do not record them.
        self._handshake_depth += 1
        try:
            await super().on_connect()  # type: ignore[misc]
        finally:
            self._handshake_depth -= 1

    async def on_connect_check_health(self, *args: Any, **kwargs: Any) -> None:
        self._handshake_depth += 1
        try:
            await super().on_connect_check_health(*args, **kwargs)  # type: ignore[misc]
        finally:
            self._handshake_depth -= 1

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if self._handshake_depth == 0 and screen(command, self.refused, self.recorder) and self.tasks is not None:
            self.tasks.add(id(asyncio.current_task()))
        await super().send_packed_command(command, check_health)  # type: ignore[misc]


def watched_async_connection_class(
    base: type, recorder: Recorder | None = None, refuse: Iterable[str] = (), tasks: set[int] | None = None
) -> type:
    """A subclass of the redis.asyncio connection class base that records into recorder and refuses the named
    commands; tasks, when given, collects the id of each asyncio task that sends (several: sent concurrently)."""
    refused = {name: SERVER_WIDE_COMMANDS[name] for name in refuse}
    return type(
        f"WatchedAsync{base.__name__}",
        (_WatchedAsyncConnectionMixin, base),
        {"recorder": recorder, "refused": refused, "tasks": tasks},
    )
