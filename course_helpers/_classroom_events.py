"""Progress events to the class: a sink that forwards local events to the hub, and the instructor's view of them."""

from __future__ import annotations

import json
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis

from . import _progress
from ._classroom import PREFIX, ROSTER_KEY, STUDENT_LINK_KEY, events_key
from ._wire import NO_RETRY

if TYPE_CHECKING:
    import pandas as pd

RETRY_AFTER_SECONDS = 20.0


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


def class_events(hub: redis.Redis) -> pd.DataFrame:
    """Every event every student sent, one row each (duplicates from re-sends removed)."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for student in sorted(str(name) for name in hub.hkeys(ROSTER_KEY)):
        entries: Any = hub.xrange(events_key(student))
        for _entry_id, fields in entries:
            row = {"student": student, **fields}
            rows.append(row)
    columns = ["student", "uid", "ts", "event", "exercise", "status", "message", "level", "notebook"]
    frame = pd.DataFrame(rows, columns=columns).drop_duplicates(subset=["student", "uid"])
    frame["ts"] = pd.to_numeric(frame["ts"], errors="coerce")
    frame["status"] = frame["status"].fillna("").map(lambda s: s.strip('"'))
    frame["message"] = frame["message"].fillna("").map(lambda s: s.strip('"'))
    return frame.reset_index(drop=True)


def progress_grid(events: pd.DataFrame, students: list[str], exercise_ids: list[str]) -> pd.DataFrame:
    """Student × exercise: "passed", "trying" (checked, not passed), "hint"/"solution" (help only) or ""."""
    import pandas as pd

    grid = pd.DataFrame("", index=students, columns=exercise_ids)
    for (student, exercise), group in events.groupby(["student", "exercise"]):
        if exercise not in grid.columns or student not in grid.index:
            continue
        checks = group[group["event"] == "check"]
        statuses = set(checks["status"])
        if "pass" in statuses:
            grid.loc[student, exercise] = "passed"
        elif statuses - {"not_attempted"}:
            grid.loc[student, exercise] = "trying"
        elif (group["event"] == "solution").any():
            grid.loc[student, exercise] = "solution"
        elif (group["event"] == "hint").any():
            grid.loc[student, exercise] = "hint"
    return grid


def stuck_students(events: pd.DataFrame, minutes: float = 10.0, now: float | None = None) -> pd.DataFrame:
    """Students whose latest exercise has been failing for more than `minutes` with no pass since."""
    import pandas as pd

    now = now or time.time()
    rows = []
    checks = events[(events["event"] == "check") & (events["status"] != "not_attempted")]
    for (student, exercise), group in checks.groupby(["student", "exercise"]):
        if (group["status"] == "pass").any():
            continue
        first, last = group["ts"].min(), group["ts"].max()
        if now - first >= minutes * 60:
            rows.append(
                {
                    "student": student,
                    "exercise": exercise,
                    "attempts": len(group),
                    "stuck for (min)": round((now - first) / 60, 1),
                    "last message": group.iloc[-1]["message"],
                    "last seen (min ago)": round((now - last) / 60, 1),
                }
            )
    return pd.DataFrame(
        rows, columns=["student", "exercise", "attempts", "stuck for (min)", "last message", "last seen (min ago)"]
    )


def common_mistakes(events: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """The check messages seen most often for failing answers, with how many students got each."""
    import pandas as pd

    failing = events[(events["event"] == "check") & events["status"].isin(["fail", "error", "timeout"])]
    if failing.empty:
        return pd.DataFrame(columns=["exercise", "message", "students", "times"])
    # The first sentence names the mistake; the rest shows the case, which differs between students.
    failing = failing.assign(mistake=failing["message"].str.split(". ").str[0].str.slice(0, 160))
    grouped = failing.groupby(["exercise", "mistake"]).agg(students=("student", "nunique"), times=("uid", "count"))
    grouped = grouped.reset_index().rename(columns={"mistake": "message"})
    return grouped.sort_values(["students", "times"], ascending=False).head(top).reset_index(drop=True)


__all__ = [
    "PREFIX",
    "ClassroomSink",
    "class_events",
    "common_mistakes",
    "join_class_if_linked",
    "progress_grid",
    "stuck_students",
]
