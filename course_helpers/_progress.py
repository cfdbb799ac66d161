"""Progress: every check, hint and solution event, appended to a local JSON-lines file (and to extra sinks)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Event = dict[str, Any]
EventSink = Callable[[Event], None]

_sinks: list[EventSink] = []
_lock = threading.Lock()


def progress_file() -> Path:
    """Where progress is kept: $COURSE_PROGRESS_FILE, else ~/.redis-course/progress.jsonl."""
    configured = os.environ.get("COURSE_PROGRESS_FILE")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".redis-course" / "progress.jsonl"


def add_event_sink(sink: EventSink) -> None:
    """Also send every new event to sink(event), e.g. a classroom server; a failing sink loses nothing locally."""
    _sinks.append(sink)


def remove_event_sink(sink: EventSink) -> None:
    """Stop sending events to sink."""
    if sink in _sinks:
        _sinks.remove(sink)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # flock keeps two notebooks (two kernels) from interleaving or losing each other's lines.
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, open(path.with_suffix(path.suffix + ".lock"), "a") as lock_file:
        if sys.platform != "win32":
            import fcntl

            fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield


def record(kind: str, exercise_id: str, **fields: Any) -> Event:
    """Append one event (kind is "check", "hint", "solution" or "quiz") and pass it to the sinks."""
    event: Event = {
        "uid": uuid.uuid4().hex[:16],  # lets a class server drop an event that was forwarded twice
        "ts": round(time.time(), 3),
        "event": kind,
        "exercise": exercise_id,
        **fields,
    }
    line = json.dumps(event, ensure_ascii=False) + "\n"
    path = progress_file()
    try:
        with _locked(path):
            # One write of one line on an O_APPEND file: a crash leaves at worst one partial last line.
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = "\n" + line  # a crash left a partial line: keep this event off it
                os.write(fd, line.encode())
            finally:
                os.close(fd)
    except OSError as error:
        warnings.warn(f"Progress could not be saved to {path} ({error}); the check itself worked.", stacklevel=2)
    for sink in list(_sinks):
        try:
            sink(event)
        except Exception as error:  # a sink's trouble must never break a learner's check
            warnings.warn(f"Progress event not forwarded ({error}); it is kept in {path}.", stacklevel=2)
    return event


def read_events() -> list[Event]:
    """All events in the progress file; unreadable lines are moved aside with a warning, the rest kept."""
    path = progress_file()
    if not path.exists():
        return []
    with _locked(path):
        raw = path.read_bytes().decode(errors="replace").splitlines()
        events: list[Event] = []
        bad: list[str] = []
        for text in raw:
            if not text.strip():
                continue
            try:
                event = json.loads(text)
                if not isinstance(event, dict) or "exercise" not in event:
                    raise ValueError("not an event")
                events.append(event)
            except ValueError:
                bad.append(text)
        if bad:
            aside = path.with_suffix(path.suffix + ".corrupt")
            with open(aside, "a", encoding="utf-8") as keep:
                keep.write("\n".join(bad) + "\n")
            temporary = path.with_suffix(path.suffix + ".tmp")
            temporary.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events))
            os.replace(temporary, path)
            warnings.warn(
                f"The progress file {path} had {len(bad)} unreadable line(s), probably from a crash; they were "
                f"moved to {aside} and the other {len(events)} events kept.",
                stacklevel=2,
            )
    return events


def hints_shown(exercise_id: str) -> int:
    """How many hints of this exercise the learner has already been shown (the highest level)."""
    levels = [int(e.get("level", 0)) for e in read_events() if e["exercise"] == exercise_id and e["event"] == "hint"]
    return max(levels, default=0)


def forget_progress() -> bool:
    """Delete the progress file; True if there was one."""
    path = progress_file()
    with _locked(path):
        if path.exists():
            path.unlink()
            return True
    return False
