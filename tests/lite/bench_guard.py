"""What the inline deadline guard costs: every reference check, inline, with the guard and without its watch.

    COURSE_SANDBOX=inline python tests/lite/bench_guard.py [REPEATS]          (CPython 3.12+: sys.monitoring)
    node tests/lite/engine.mjs PYODIDE tests/lite/bench_guard.py WHEELS... -- [REPEATS]   (Pyodide)

Without the watch, learner code is not stopped at the deadline: the difference is the guard's overhead. Prints
one line, "BENCH <json>": per exercise the median seconds of both, and the overall figures.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from typing import Any

os.environ.setdefault("COURSE_SANDBOX", "inline")
os.environ.setdefault("COURSE_PROGRESS_FILE", os.path.join(os.path.expanduser("~"), "bench-progress.jsonl"))

from course_helpers import _inline, exercises

# Checks that wait on purpose (timeouts, producers, publishers) measure the clock, not the guard.
WAITS_ON_PURPOSE = 0.3


@contextlib.contextmanager
def _no_watch(_guard: Any) -> Iterator[None]:
    yield


def once(exercise: Any) -> float:
    """Seconds of one passing check of the reference."""
    started = time.perf_counter()
    result = exercise.check(exercise.reference)
    if result.status not in ("pass", "env_problem"):
        raise SystemExit(f"{exercise.id}: {result}")
    return time.perf_counter() - started


def main() -> None:
    """Measure, alternating guarded and unguarded runs so that the machine's load and garbage collections hit
    both alike."""
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    watched = (_inline._monitoring, _inline._tracing)
    rows: dict[str, dict[str, float]] = {}
    for exercise in exercises.all():
        once(exercise)  # warm up imports and caches
        guarded, bare = [], []
        for _ in range(repeats):
            guarded.append(once(exercise))
            _inline._monitoring = _inline._tracing = _no_watch  # type: ignore[assignment]
            try:
                bare.append(once(exercise))
            finally:
                _inline._monitoring, _inline._tracing = watched
        rows[exercise.id] = {"guarded": round(statistics.median(guarded), 5), "bare": round(statistics.median(bare), 5)}
    quick = {name: row for name, row in rows.items() if row["bare"] < WAITS_ON_PURPOSE}
    summary = {
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "monitoring": hasattr(sys, "monitoring"),
        "repeats": repeats,
        "median_passing_check_seconds": round(statistics.median(row["guarded"] for row in rows.values()), 4),
        "overhead_quick_checks_total": round(
            sum(row["guarded"] for row in quick.values()) / sum(row["bare"] for row in quick.values()) - 1, 3
        ),
        "overhead_quick_checks_median": round(
            statistics.median(row["guarded"] / row["bare"] - 1 for row in quick.values()), 3
        ),
        "overhead_all_total": round(
            sum(row["guarded"] for row in rows.values()) / sum(row["bare"] for row in rows.values()) - 1, 3
        ),
        "quick_checks": len(quick),
        "checks": len(rows),
    }
    print("BENCH " + json.dumps({"summary": summary, "rows": rows}), flush=True)


main()
