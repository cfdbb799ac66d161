"""Progress: every check, hint, solution and quiz event, appended to a local JSON-lines file (and to sinks).

The file lives where the operating system keeps an application's data (platformdirs): on Linux
~/.local/share/redis-course, on macOS ~/Library/Application Support/redis-course, on Windows
%LOCALAPPDATA%\\redis-course. A cross-platform file lock (filelock) keeps two kernels from interleaving lines.
In a browser tab (JupyterLite) it is the folder redis-course in the file browser, which the browser keeps in its
own storage: it survives a reload, and the file browser downloads it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import platformdirs

Event = dict[str, Any]
EventSink = Callable[[Event], None]

_sinks: list[EventSink] = []
_lock = threading.Lock()
_renamed: dict[str, str] = {}  # an exercise's or quiz's former id → its id now


def rename_ids(former_to_current: dict[str, str]) -> None:
    """Read events recorded under a former id as events of the current one (exercises move between lessons)."""
    _renamed.update(former_to_current)


APP_NAME = "redis-course"
LOCK_SECONDS = 10.0
# Where JupyterLite mounts its file browser's storage in the kernel; the kernel's home folder is in memory only.
BROWSER_DRIVE = Path("/drive")


def course_data_dir() -> Path:
    """The folder for the course's own files on this computer (progress; never inside the notebooks).

    In a browser tab, a folder in the file browser (kept in the browser's storage), where it survives a reload.
    """
    if sys.platform == "emscripten" and BROWSER_DRIVE.is_dir():
        return BROWSER_DRIVE / APP_NAME
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def progress_file() -> Path:
    """Where progress is kept: $COURSE_PROGRESS_FILE, else progress.jsonl in course_data_dir()."""
    configured = os.environ.get("COURSE_PROGRESS_FILE")
    if configured:
        return Path(configured).expanduser()
    path = course_data_dir() / "progress.jsonl"
    _adopt_legacy_file(path)
    return path


def _adopt_legacy_file(path: Path) -> None:
    # Before platformdirs, progress lived in ~/.redis-course: move it over once, so nothing is lost.
    legacy = Path.home() / ".redis-course" / "progress.jsonl"
    if path.exists() or not legacy.exists() or legacy == path:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(legacy), str(path))
    except OSError:
        pass  # keep using a fresh file; the old one stays where it was


def add_event_sink(sink: EventSink) -> None:
    """Also send every new event to sink(event), e.g. a classroom server; a failing sink loses nothing locally."""
    _sinks.append(sink)


def remove_event_sink(sink: EventSink) -> None:
    """Stop sending events to sink."""
    if sink in _sinks:
        _sinks.remove(sink)


def _file_lock(path: Path) -> Any:
    """A lock shared by every process on this computer (two notebooks = two kernels), or None in a browser."""
    if sys.platform == "emscripten":  # a browser tab runs one kernel, and its fcntl has no flock
        return None
    with warnings.catch_warnings():
        # Where fcntl.flock is missing, filelock warns once and locks by creating a file instead; that works.
        warnings.simplefilter("ignore", UserWarning)
        import filelock
    return filelock.FileLock(str(path.with_suffix(path.suffix + ".lock")), timeout=LOCK_SECONDS)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold a lock on path (a sibling .lock file) shared by every process and thread on this computer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock:
        lock = _file_lock(path)
        try:
            if lock is not None:
                lock.acquire()
        except TimeoutError:  # filelock.Timeout: a crashed process left its lock file behind
            lock = None
            warnings.warn(
                f"Another notebook held {path.name}'s lock for {LOCK_SECONDS:g} s; writing without it.", stacklevel=3
            )
        try:
            yield
        finally:
            if lock is not None:
                lock.release()


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
        with file_lock(path):
            _append_line(path, line)
    except OSError as error:
        warnings.warn(f"Progress could not be saved to {path} ({error}); the check itself worked.", stacklevel=2)
    for sink in list(_sinks):
        try:
            sink(event)
        except Exception as error:  # a sink's trouble must never break a learner's check
            warnings.warn(f"Progress event not forwarded ({error}); it is kept in {path}.", stacklevel=2)
    return event


def _append_line(path: Path, line: str) -> None:
    # One write of one line at the end of the file: a crash leaves at worst one partial last line.
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(fd, "r+b", buffering=0) as handle:
        size = handle.seek(0, os.SEEK_END)
        if size:
            handle.seek(size - 1)
            if handle.read(1) != b"\n":
                line = "\n" + line  # a crash left a partial line: keep this event off it
        handle.write(line.encode())


def read_events() -> list[Event]:
    """All events in the progress file; unreadable lines are moved aside with a warning, the rest kept."""
    path = progress_file()
    if not path.exists():
        return []
    with file_lock(path):
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
                event["exercise"] = _renamed.get(event["exercise"], event["exercise"])
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
    with file_lock(path):
        if path.exists():
            path.unlink()
            return True
    return False
