"""Execute course notebooks in a real Jupyter kernel, as shipped or with the reference solutions filled in."""

from __future__ import annotations

import atexit
import functools
import re
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
from nbclient import NotebookClient

from course_helpers import exercises
from course_helpers._progress import read_events

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]-*.ipynb"))
DEFINITION = re.compile(r"^(?:async\s+)?def\s+(\w+)\s*\(", re.MULTILINE)


def exercises_of(path: Path) -> list:
    """The exercises whose notebook is this file."""
    return [exercise for exercise in exercises.all() if exercise.notebook == path.stem]


def fill_solutions(notebook, path: Path) -> int:
    """Replace each exercise cell (tag "exercise") with its reference answer; returns how many were filled."""
    by_function = {exercise.function_name: exercise for exercise in exercises_of(path)}
    filled = 0
    for cell in notebook.cells:
        if cell.cell_type != "code" or "exercise" not in cell.metadata.get("tags", []):
            continue
        match = DEFINITION.search(cell.source)
        assert match and match.group(1) in by_function, f"{path.name}: exercise cell defines no known exercise"
        cell.source = by_function[match.group(1)].reference_source()
        filled += 1
    return filled


def execute(path: Path, solved: bool = False, timeout: int = 180):
    """Run every cell of the notebook top to bottom; raises CellExecutionError on the first exception."""
    notebook = nbformat.read(path, as_version=4)
    if solved:
        fill_solutions(notebook, path)
    # IPC sockets under a folder of this process: over TCP, two test workers starting kernels at the same
    # moment can be handed the same "free" port, and one kernel dies before it answers.
    kernel = KernelManager(kernel_name="python3", transport="ipc", ip=str(_socket_dir() / "kernel"))
    client = NotebookClient(
        notebook, km=kernel, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    try:
        client.execute()
    finally:
        # nbclient leaves a kernel it was given running; a kernel left behind ends with os._exit at the end of
        # the test run, and everything it started with it (the course's guardians stop their servers then).
        # Nor does it close the channels of a kernel it was given: about ten descriptors a notebook, which a test
        # worker running a hundred notebooks would pile up.
        if client.kc is not None:
            client.kc.stop_channels()
        if kernel.has_kernel:
            kernel.shutdown_kernel(now=True)
    return notebook


@functools.cache
def _socket_dir() -> Path:
    folder = tempfile.mkdtemp(prefix="course-kernels-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # the kernels leave their socket files
    return Path(folder)


def check_statuses() -> dict[str, list[str]]:
    """Exercise id → the statuses of its checks, in order, from the progress file."""
    statuses: dict[str, list[str]] = defaultdict(list)
    for event in read_events():
        if event["event"] == "check":
            statuses[event["exercise"]].append(event["status"])
    return statuses
