"""The course without os.fork, os.pread and fcntl, as on Windows: every exercise judged, progress kept, and an
infinite loop stopped without leaving anything running. (Verified here by taking those calls away on Linux.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

WINDOWS_LIKE = Path(__file__).parent / "windows_like"

SESSION = r"""
import json, os, sys, time
assert not hasattr(os, "fork") and not hasattr(os, "pread")
try:
    import fcntl  # noqa: F401
    raise SystemExit("fcntl is still importable")
except ImportError:
    pass

from course_helpers import _progress, _sandbox, _spawn, exercises

report = {"strategy": _sandbox.strategy(), "statuses": {}, "mutants": {}}
for exercise in exercises.all():
    report["statuses"][exercise.id] = exercise.check(exercise.reference).status
    mutant = exercise.mutants[0]
    result = exercise.check(mutant.answer)
    report["mutants"][exercise.id] = result.status == mutant.status and mutant.expect in result.message
    exercise.hint()
    report.setdefault("solutions", []).append(f"def {exercise.function_name}(" in exercise.solution().source)

events = _progress.read_events()
report["checks_recorded"] = sum(1 for event in events if event["event"] == "check")
report["hints_recorded"] = sum(1 for event in events if event["event"] == "hint")

def loops_forever(r, name):
    while True:
        pass

os.environ["COURSE_CHECK_TIMEOUT"] = "1"
greeting = exercises.get("welcome.save_greeting")
greeting.check(greeting.reference)
worker = _spawn._worker
report["loop_status"] = greeting.check(loops_forever).status
report["loop_worker_stopped"] = worker.process.poll() is not None
cpu = time.process_time()
time.sleep(1.0)
report["kernel_cpu_while_idle"] = time.process_time() - cpu
print(json.dumps(report))
"""


def test_every_exercise_is_judged_without_fork_pread_or_fcntl(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(WINDOWS_LIKE), os.environ.get("PYTHONPATH")])),
        "COURSE_PROGRESS_FILE": str(tmp_path / "progress.jsonl"),
        "COURSE_CHECK_BACKEND": "fake",
    }
    env.pop("COURSE_SANDBOX", None)
    done = subprocess.run([sys.executable, "-c", SESSION], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["strategy"] == "spawn"
    assert {status for status in report["statuses"].values()} == {"pass"}, report["statuses"]
    assert all(report["mutants"].values()), report["mutants"]
    assert all(report["solutions"])
    count = len(report["statuses"])
    assert report["checks_recorded"] == 2 * count  # every reference and first mutant check
    assert report["hints_recorded"] == count
    # The guarantee: the process that ran the loop is gone, so nothing of it keeps a core busy.
    assert report["loop_status"] == "timeout" and report["loop_worker_stopped"]
    # And nothing of it moved into the kernel (as the old thread fallback did): the kernel stays idle.
    assert report["kernel_cpu_while_idle"] < 0.2
