"""Lesson cells that only some setups can run, as IPython cell magics; elsewhere, what they printed on a real run.

    %%under_the_hood strings.object_encoding      OBJECT, INFO, MEMORY USAGE, SLOWLOG...: a real server only
    %%needs_redis 7.0 expiry.expire_nx            a command newer than the oldest server the course supports
    %%not_in_browser threads pubsub.listener       threads, sockets, timeouts, processes or Lua: not in a browser
    %%needs_redis_server production.eviction       starts redis-server processes of its own: the program is needed

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _connection
from ._notebook import ipython_shell
from ._programs import how_to_get_redis_server, server_label, server_program, version_numbers
from ._progress import file_lock  # notebooks capturing in parallel write the same file

CAPTURES = Path(__file__).resolve().parent / "captures"
REASONS = {
    "threads": "starts threads",
    "sockets": "opens network connections of its own",
    "processes": "starts other processes",
    "timeouts": "relies on a socket timeout, and the in-browser fakeredis has no socket to time out",
    "lua": "runs a Lua script (fakeredis needs the lupa library for Lua, and lupa cannot run in a browser)",
}


@dataclass(frozen=True)
class Capture:
    """What a cell printed on a real run, and where."""

    output: str
    server: str
    captured: str
    displays: Sequence[dict[str, str]] = ()  # plots it showed (image/png), if any


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


def save_capture(name: str, output: str, server: str, displays: Sequence[dict[str, str]] = ()) -> None:
    """Store what cell `name` printed (only while COURSE_CAPTURE=1), and the plots it showed, if given."""
    path = captures_file(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path):
        entries = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        entries[name] = {"output": output, "server": server, "captured": time.strftime("%Y-%m-%d")}
        if displays:
            entries[name]["displays"] = list(displays)
        path.write_text(json.dumps(dict(sorted(entries.items())), indent=1, ensure_ascii=False) + "\n", "utf-8")


def _show_instead(sentence: str, name: str) -> None:
    capture = load_capture(name)
    print(sentence)
    if capture is None:
        return
    print(f"\nWhat this cell printed on {capture.server} (a real run, captured {capture.captured}):\n")
    print(capture.output.rstrip())


def _execute(shell: Any, cell: str) -> Any:
    """Run cell in the notebook's namespace, as if it had no magic line; returns IPython's ExecutionResult.

    A cell magic runs inside the kernel's own event loop, where IPython cannot run a cell with top-level
    `await`: such a cell runs on a fresh event loop in a helper thread while the kernel waits for it. Objects
    tied to that loop (an asyncio client) should be closed in the same cell.
    """
    transformed = shell.transform_cell(cell)
    if not shell.should_run_async(cell, transformed_cell=transformed, preprocessing_exc_tuple=None):
        return shell.run_cell(cell, store_history=False)
    import asyncio
    import threading

    box: dict[str, Any] = {}
    loop = asyncio.new_event_loop()

    def run_on_own_loop() -> None:
        try:
            box["result"] = loop.run_until_complete(
                shell.run_cell_async(cell, store_history=False, transformed_cell=transformed)
            )
        except asyncio.CancelledError:
            pass  # the stop button: the kernel already raised KeyboardInterrupt
        finally:
            loop.close()

    # A daemon: a cell that never finishes must not keep the kernel from exiting.
    worker = threading.Thread(target=run_on_own_loop, name="course-cell-with-await", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)  # in short waits, so the stop button (KeyboardInterrupt) is seen here
    except KeyboardInterrupt:
        # Stop the cell's coroutines on their own loop, then let the interrupt reach the notebook.
        loop.call_soon_threadsafe(lambda: [task.cancel() for task in asyncio.all_tasks(loop)])
        worker.join(2)
        raise
    return box.get("result")


def _run(shell: Any, cell: str, name: str) -> None:
    if os.environ.get("COURSE_CAPTURE") != "1":
        _execute(shell, cell)
        return
    from IPython.utils.capture import capture_output

    with capture_output(display=False) as captured:
        result = _execute(shell, cell)  # its last value is displayed as usual
    print(captured.stdout, end="")
    sys.stderr.write(captured.stderr)
    value = getattr(result, "result", None)
    text = captured.stdout + (f"{value!r}\n" if value is not None else "")
    if getattr(result, "success", False):
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
    if sys.platform == "emscripten":
        how = "open the course in JupyterLab with a Redis server, or on Binder"
    else:
        how = "start a Redis server and restart the kernel (`python -m course_helpers doctor` shows how)"
    _show_instead(
        f"This cell looks inside a real Redis server, which the built-in fakeredis does not imitate. To run it "
        f"yourself, {how}.",
        name,
    )


def needs_redis(line: str, cell: str) -> None:
    """%%needs_redis VERSION NAME: run when the server is at least VERSION; else show its output on a newer one."""
    wanted, name = line.split()
    chosen = _connection.backend()
    if chosen.version_tuple >= version_numbers(wanted):
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


# -- %%needs_redis_server: cells that start (and crash) redis-server processes of their own -------------
def _run_with_displays(shell: Any, cell: str, name: str) -> None:
    """Run cell; with COURSE_CAPTURE=1, also store what it printed and the plots it showed, labelled with the
    version of redis-server. Tables and other displayed values are stored as their text."""
    if os.environ.get("COURSE_CAPTURE") != "1":
        _execute(shell, cell)
        return
    from IPython.display import display
    from IPython.utils.capture import capture_output

    with capture_output(display=True) as captured:  # the cell's last value is captured as a display too
        result = _execute(shell, cell)
    print(captured.stdout, end="")
    sys.stderr.write(captured.stderr)
    for output in captured.outputs:
        display(output.data, metadata=output.metadata, raw=True)
    bundles = [dict(output.data) for output in captured.outputs]
    plots = [
        {kind: bundle[kind] for kind in ("image/png", "text/plain")} for bundle in bundles if "image/png" in bundle
    ]
    values = [bundle.get("text/plain", "") + "\n" for bundle in bundles if "image/png" not in bundle]
    if getattr(result, "success", False):
        save_capture(name, captured.stdout + "".join(values), server_label(), plots)


def needs_redis_server(line: str, cell: str) -> None:
    """%%needs_redis_server NAME: a cell that starts redis-server processes of its own (16-production).

    It runs where the redis-server program is installed, whichever Redis the course itself uses; elsewhere it
    shows one sentence with the command that installs the program, and what the cell printed and plotted on a
    real run.
    """
    name = line.split()[-1]
    if server_program() is not None:
        _run_with_displays(_shell(), cell, name)
        return
    if sys.platform == "emscripten":
        sentence = (
            "This cell starts redis-server processes of its own, which a browser tab cannot do: open the course in "
            "JupyterLab or on Binder to run it yourself."
        )
    else:
        sentence = (
            "This cell starts redis-server processes of its own, and the redis-server program is not installed "
            f"here: {how_to_get_redis_server()}, then restart the kernel to run it yourself."
        )
    _show_instead(sentence, name)
    capture = load_capture(name)
    if capture is not None and capture.displays:
        from IPython.display import display

        for bundle in capture.displays:
            display(dict(bundle), raw=True)


def _shell() -> Any:
    from IPython import get_ipython

    return get_ipython()


def register_magics() -> None:
    """Make the cell magics available in this IPython session (no-op outside IPython)."""
    shell = ipython_shell()
    if shell is None:
        return
    for function in (under_the_hood, needs_redis, not_in_browser, needs_redis_server):
        shell.register_magic_function(function, magic_kind="cell", magic_name=function.__name__)
