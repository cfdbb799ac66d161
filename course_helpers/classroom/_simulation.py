"""Simulated students, for the dashboard's demo and the classroom load benchmark.

A simulated student is a separate Python process with its own REDIS_URL and progress file, exactly like a
student's kernel: it connects (which joins the class), then checks known wrong answers and the reference
answers of the exercises, and reports its check latencies as JSON on stdout.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .. import _progress, exercises
from .._connection import connect


def run_student(exercise_ids: Sequence[str], seed: int, mistakes: float = 0.6, give_up: float = 0.15) -> dict:
    """Work through the exercises like a student; returns latencies (ms) and how many events were recorded."""
    rng = random.Random(seed)
    connect()
    latencies: list[float] = []
    for exercise_id in exercise_ids:
        exercise = exercises.get(exercise_id)
        attempts = [mutant.answer for mutant in exercise.mutants if rng.random() < mistakes]
        if rng.random() < 0.3:
            exercise.hint()
        if rng.random() >= give_up:
            attempts.append(exercise.reference)
        for answer in attempts:
            started = time.perf_counter()
            exercise.check(answer)
            latencies.append((time.perf_counter() - started) * 1000)
    return {"latencies_ms": latencies, "events": len(_progress.read_events())}


def launch_students(
    urls: dict[str, str], exercise_ids: Sequence[str], workdir: Path, **options: float
) -> list[subprocess.Popen[str]]:
    """Start one simulated-student process per (name, REDIS_URL); collect them with collect()."""
    processes = []
    for index, (name, url) in enumerate(sorted(urls.items())):
        env = {
            **os.environ,
            "REDIS_URL": url,
            "COURSE_PROGRESS_FILE": str(workdir / f"{name}.jsonl"),
            "COURSE_BACKEND": "auto",
        }
        env.pop("COURSE_CHECK_BACKEND", None)
        code = (
            "import json, sys\nfrom course_helpers.classroom import run_student\n"
            f"print(json.dumps(run_student({list(exercise_ids)!r}, seed={index}, **{options!r})))"
        )
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True, stderr=subprocess.DEVNULL
            )
        )
    return processes


def collect(processes: list[subprocess.Popen[str]], timeout: float = 600) -> list[dict]:
    """Wait for the simulated students and return their JSON reports."""
    reports = []
    for process in processes:
        output, _ = process.communicate(timeout=timeout)
        lines = output.strip().splitlines()
        if process.returncode == 0 and lines:
            reports.append(json.loads(lines[-1]))
    return reports
