"""The student side of a classroom: the link key on a student's server, and the sink that sends progress to the hub."""

from __future__ import annotations

import json
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import redis

from . import _progress
from ._wire import NO_RETRY

PREFIX = "redis-course:classroom"
# Written into database 0 of each student's server: where that student's progress events go.
STUDENT_LINK_KEY = "redis-course:classroom"
RETRY_AFTER_SECONDS = 20.0


def events_key(student: str) -> str:
    """The hub stream a student's progress events are added to."""
    return f"{PREFIX}:events:{student}"


class ClassroomSink:
    """Forwards every local progress event to the student's stream on the hub; what fails is sent later.

    The local progress file is the outbox: the sink remembers the uid of the last event the hub accepted
    and, each time, sends everything after it. Nothing is lost while the hub is down.
    """

    def __init__(self, hub_url: str, student: str, stream: str) -> None:
        self.student = student
        self.stream = stream
        self._hub = redis.Redis.from_url(hub_url, socket_connect_timeout=0.5, socket_timeout=2, retry=NO_RETRY)
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._warned = False

    @property
    def _sent_marker(self) -> Path:
        path = _progress.progress_file()
        return path.with_suffix(path.suffix + f".sent-{self.student}")

    def pending(self) -> list[_progress.Event]:
        """Local events the hub has not acknowledged yet."""
        events = [event for event in _progress.read_events() if "uid" in event]
        last = self._sent_marker.read_text().strip() if self._sent_marker.exists() else ""
        uids = [event["uid"] for event in events]
        return events[uids.index(last) + 1 :] if last in uids else events

    def flush(self) -> int:
        """Send every pending event now; returns how many were sent (raises on a connection failure)."""
        with self._lock:
            pending = self.pending()
            if not pending:
                return 0
            with self._hub.pipeline(transaction=False) as pipe:
                for event in pending:
                    fields: dict[Any, Any] = {k: v if isinstance(v, str) else json.dumps(v) for k, v in event.items()}
                    pipe.xadd(self.stream, fields, maxlen=50_000, approximate=True)
                pipe.execute()
            self._sent_marker.write_text(pending[-1]["uid"])
            return len(pending)

    def __call__(self, _event: _progress.Event) -> None:
        if time.monotonic() < self._paused_until:
            return  # the hub was down a moment ago: the event waits in the local file
        try:
            self.flush()
            self._warned = False
        except redis.RedisError as error:
            self._paused_until = time.monotonic() + RETRY_AFTER_SECONDS
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"Your progress could not reach the class server ({type(error).__name__}); it is kept on this "
                    "computer and will be sent automatically once the server answers again.",
                    stacklevel=3,
                )


_installed: ClassroomSink | None = None


def join_class_if_linked(server_url: str) -> ClassroomSink | None:
    """If the course's server is a classroom seat (it names a hub), send progress events there too."""
    global _installed
    try:
        with redis.Redis.from_url(f"{server_url}/0", socket_timeout=1, decode_responses=True) as server:
            link = server.get(STUDENT_LINK_KEY)
    except redis.RedisError:
        return None
    if not link:
        return None
    details = json.loads(link)
    if _installed is not None:
        _progress.remove_event_sink(_installed)
    _installed = ClassroomSink(details["hub_url"], details["student"], details["stream"])
    _progress.add_event_sink(_installed)
    return _installed
