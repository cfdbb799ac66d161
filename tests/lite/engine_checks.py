"""Judge every exercise inside Pyodide, as a browser tab does; run by tests/lite/engine.mjs, read by test_lite.py.

Prints one line, "ENGINE-REPORT <json>": the harness's own state (fcntl, sockets), what a lesson's first cell
prints, and for each exercise the outcome of its reference, of each known wrong answer and of a blank. Then two
answers that would hang a tab for ever (an endless loop, BRPOP key 0) with the default time limit.

Arguments (optional): exercise ids to judge instead of all of them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import statistics
import sys
import time
from typing import Any

os.environ["COURSE_PROGRESS_FILE"] = "/home/pyodide/course/progress.jsonl"  # before the course chooses its own

import course_helpers as ch
from course_helpers import ____, _sandbox, exercises

# Learner code comes from notebook cells: compiled under a cell's file name, the deadline guard watches it
# (code in files under site-packages, like the course's own mutants, is library code to the guard).
BAD_ANSWERS = """
def loops_forever(*args, **kwargs):
    while True:
        pass


def blocks_forever(r, *args, **kwargs):
    r.brpop("nobody-pushes-here", 0)
"""


def judge(exercise: Any, answer: Any) -> dict[str, Any]:
    """Check answer; its status, message and seconds."""
    started = time.perf_counter()
    result = exercise.check(answer)
    return {
        "status": result.status,
        "message": result.message,
        "seconds": round(time.perf_counter() - started, 4),
    }


def harness() -> dict[str, Any]:
    """What this Pyodide is like: it must be a browser tab's, or the other results mean nothing."""
    import fcntl

    state: dict[str, Any] = {
        "platform": sys.platform,
        "python": sys.version.split()[0],
        "strategy": _sandbox.strategy(),
        "fcntl_is_empty": not hasattr(fcntl, "flock"),
    }
    try:
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
        state["listen_errno"] = 0
    except OSError as error:
        state["listen_errno"] = error.errno
    return state


def first_cell() -> dict[str, Any]:
    """A lesson's first cell (connect, clear), then a lesson cell that would wait for ever."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        r = ch.connect()
        ch.clear(r)
    r.rpush("todo", "a", "b")
    ch.clear(r)
    cell: dict[str, Any] = {"printed": printed.getvalue(), "keys_after_clear": r.dbsize(), "db": ch.backend().db}
    try:
        r.blpop("nobody-pushes-here", 0)
        cell["blpop_forever"] = "returned"
    except Exception as error:
        cell["blpop_forever"] = f"{type(error).__name__}: {error}"
    return cell


def main() -> None:
    """Judge, then print the report."""
    wanted = set(sys.argv[1:])
    report: dict[str, Any] = {"harness": harness(), "first_cell": first_cell(), "exercises": {}}
    for exercise in exercises.all():
        if wanted and exercise.id not in wanted:
            continue
        report["exercises"][exercise.id] = {
            "reference": judge(exercise, exercise.reference),
            "blank": judge(exercise, ____)["status"],
            "mutants": {mutant.answer.__name__: judge(exercise, mutant.answer) for mutant in exercise.mutants},
        }
    references = [entry["reference"] for entry in report["exercises"].values()]
    passing = [reference["seconds"] for reference in references if reference["status"] == "pass"]
    report["reference_median_seconds"] = statistics.median(passing) if passing else None

    cell: dict[str, Any] = {}
    exec(compile(BAD_ANSWERS, "<ipython-input-7-bad-answers>", "exec"), cell)
    greeting = exercises.get("welcome.save_greeting")
    report["bad_answers"] = {name: judge(greeting, cell[name]) for name in ("loops_forever", "blocks_forever")}
    print("ENGINE-REPORT " + json.dumps(report), flush=True)


main()
