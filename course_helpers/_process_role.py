"""What this process is for: a learner's kernel, or a process that exists only to run checks."""

from __future__ import annotations

import sys

# True inside a process that exists only to run checks (a forked child, the spawn worker), and in Pyodide,
# where nothing else runs beside the check: there, changing global state for one check (time.sleep) is safe.
owns_process = sys.platform == "emscripten"


def mark_as_check_process() -> None:
    """Called first thing in a forked child or the spawn worker."""
    global owns_process
    owns_process = True
