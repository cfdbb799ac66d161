"""Lesson cells that only some setups can run, as IPython cell magics; elsewhere, what they printed on a real run.

    %%under_the_hood strings.object_encoding      OBJECT, INFO, MEMORY USAGE, SLOWLOG...: a real server only
    %%needs_redis 7.0 expiry.expire_nx            a command newer than the oldest server the course supports
    %%not_in_browser threads pubsub.listener       threads, sockets, subprocesses or Lua: not in a browser tab

Where the cell cannot run, it is not run: one sentence says why and what to do, followed by the output the
same cell gave on a real run, labelled with the server it ran on. Those captured outputs live in
`course_helpers/captures/<topic>.json` and are made by running the notebooks on a real redis-server with
COURSE_CAPTURE=1 (`python scripts/capture_cells.py`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _connection
from ._progress import file_lock  # notebooks capturing in parallel write the same file

CAPTURES = Path(__file__).resolve().parent / "captures"
REASONS = {
    "threads": "starts threads",
    "sockets": "opens network connections of its own",
    "processes": "starts other processes",
    "lua": "runs a Lua script (fakeredis needs the lupa library for Lua, and lupa cannot run in a browser)",
}


@dataclass(frozen=True)
class Capture:
    """What a cell printed on a real run, and where."""

    output: str
    server: str
    captured: str


def captures_file(name: str) -> Path:
    """The file that keeps the capture of cell `name` ("strings.object_encoding" → captures/strings.json)."""
    return CAPTURES / f"{name.split('.', 1)[0]}.json"


def load_capture(name: str) -> Capture | None:
    """The stored output of cell `name`, or None."""
    path = captures_file(name)
    if not path.exists():
        return None
    entry = json.loads(path.read_text(encoding="utf-8")).get(name)
    return Capture(**entry) if entry else None


def save_capture(name: str, output: str, server: str) -> None:
    """Store what cell `name` printed (only while COURSE_CAPTURE=1)."""
    path = captures_file(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path):
        entries = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        entries[name] = {"output": output, "server": server, "captured": time.strftime("%Y-%m-%d")}
        path.write_text(json.dumps(dict(sorted(entries.items())), indent=1, ensure_ascii=False) + "\n", "utf-8")


def _show_instead(sentence: str, name: str) -> None:
    capture = load_capture(name)
    print(sentence)
    if capture is None:
        return
    print(f"\nWhat this cell printed on {capture.server} (a real run, captured {capture.captured}):\n")
    print(capture.output.rstrip())


def _run(shell: Any, cell: str, name: str) -> None:
    if os.environ.get("COURSE_CAPTURE") != "1":
        shell.run_cell(cell, store_history=False)
        return
    from IPython.utils.capture import capture_output

    with capture_output(display=False) as captured:
        result = shell.run_cell(cell, store_history=False)  # its last value is displayed as usual
    print(captured.stdout, end="")
    sys.stderr.write(captured.stderr)
    text = captured.stdout + (f"{result.result!r}\n" if result.result is not None else "")
    if result.success:
        chosen = _connection.backend()
        label = f"Redis {chosen.version}" if chosen.kind == "real" else f"the built-in fakeredis {chosen.version}"
        save_capture(name, text, label)


def under_the_hood(line: str, cell: str) -> None:
    """%%under_the_hood NAME: run on a real server; on fakeredis, show what a real server printed."""
    name = line.strip()
    chosen = _connection.backend()
    if chosen.kind == "real":
        _run(_shell(), cell, name)
        return
    _show_instead(
        "This cell looks inside a real Redis server, which the built-in fakeredis does not imitate. To run it "
        "yourself, start a Redis server and restart the kernel (`python -m course_helpers doctor` shows how).",
        name,
    )


def needs_redis(line: str, cell: str) -> None:
    """%%needs_redis VERSION NAME: run when the server is at least VERSION; else show its output on a newer one."""
    wanted, name = line.split()
    chosen = _connection.backend()
    if chosen.version_tuple >= _connection.version_numbers(wanted):
        _run(_shell(), cell, name)
        return
    _show_instead(
        f"This cell needs Redis {wanted} or newer, and your server is Redis {chosen.version}: it would fail with "
        "an unknown command or option. Upgrade the server (or use the built-in fakeredis) to run it yourself.",
        name,
    )


def not_in_browser(line: str, cell: str) -> None:
    """%%not_in_browser REASON NAME: run everywhere but in a browser tab (Pyodide), where it shows a real run."""
    reason, name = line.split()
    if sys.platform != "emscripten":
        _run(_shell(), cell, name)
        return
    _show_instead(
        f"This cell {REASONS.get(reason, reason)}, which a browser tab cannot do. Open the course in JupyterLab or "
        "on Binder to run it yourself.",
        name,
    )


def _shell() -> Any:
    from IPython import get_ipython

    return get_ipython()


def register_magics() -> None:
    """Make the cell magics available in this IPython session (no-op outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    for function in (under_the_hood, needs_redis, not_in_browser):
        shell.register_magic_function(function, magic_kind="cell", magic_name=function.__name__)
