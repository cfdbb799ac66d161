"""`classroom report`: progress per student and per exercise, as text or CSV (never any password)."""

from __future__ import annotations

import io
import time
from typing import Any

import redis

from .. import exercises
from ._analysis import class_events, progress_grid
from ._seats import ROSTER_KEY


def report_frames(hub_url: str) -> tuple[Any, Any, Any]:
    """(events, grid, per-exercise pass rate) for the class on this hub."""
    with redis.Redis.from_url(hub_url, decode_responses=True, socket_timeout=10) as hub:
        students = sorted(hub.hkeys(ROSTER_KEY))
        events = class_events(hub)
    ids = exercises.ids()
    grid = progress_grid(events, students, ids)
    pass_rate = (grid == "passed").mean().rename("pass rate") if students else None
    return events, grid, pass_rate


def report_text(hub_url: str, as_csv: bool = False) -> str:
    """The report as printable text, or the grid as CSV."""
    events, grid, pass_rate = report_frames(hub_url)
    if as_csv:
        buffer = io.StringIO()
        grid.rename_axis("student").to_csv(buffer)
        return buffer.getvalue().rstrip()
    if grid.empty:
        return "No students are set up on this server yet: run `classroom setup` first."
    per_student = (grid == "passed").sum(axis=1).rename("passed").to_frame()
    per_student["trying"] = (grid == "trying").sum(axis=1)
    last_seen = events.groupby("student")["ts"].max() if not events.empty else None
    per_student["events"] = events.groupby("student").size().reindex(grid.index, fill_value=0)
    if last_seen is not None:
        per_student["last event"] = last_seen.reindex(grid.index).map(
            lambda ts: "" if ts != ts else time.strftime("%H:%M:%S", time.localtime(ts))  # ts != ts: NaN
        )
    started = grid.columns[(grid != "").any(axis=0)]
    lines = [
        f"{len(grid)} students, {len(events)} events, {len(grid.columns)} exercises.",
        "",
        "Per student:",
        per_student.to_string(),
        "",
        "Per exercise (exercises someone has started):",
        pass_rate[started].map(lambda rate: f"{rate:.0%}").to_string() if len(started) else "(none yet)",
    ]
    return "\n".join(lines)
