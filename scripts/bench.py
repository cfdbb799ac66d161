"""`make bench`: Run All time per notebook, check latency per exercise, install time, memory; both backends.

Writes bench/REPORT.md and bench/report.png. Targets: Run All of the whole course <= 60 s per backend; a check
<= 50 ms median (concurrency checks <= 1 s).
"""

from __future__ import annotations

import importlib
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
OUT = ROOT / "bench"
CHECK_REPEATS = int(os.environ.get("BENCH_CHECK_REPEATS", "15"))


def p95(values: list[float]) -> float:
    """95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def time_install() -> dict[str, float]:
    """Seconds for `make install` in a fresh clone (cold), and again (already installed)."""
    with tempfile.TemporaryDirectory() as scratch:
        clone = Path(scratch) / "course"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        for name in ("pyproject.toml", "README.md"):  # bench what is in the working tree
            shutil.copy(ROOT / name, clone / name)
        timings = {}
        for label in ("cold", "warm"):
            started = time.perf_counter()
            subprocess.run(["make", "-s", "install"], cwd=clone, check=True, capture_output=True)
            timings[label] = time.perf_counter() - started
    return timings


def _cell_seconds(notebook: object) -> float:
    """Seconds the kernel spent running the cells (Run All), from nbclient's per-cell timing."""
    from datetime import datetime

    total = 0.0
    for cell in notebook.cells:  # type: ignore[attr-defined]
        timing = cell.get("metadata", {}).get("execution", {})
        started, ended = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if started and ended:
            total += (
                datetime.fromisoformat(ended.rstrip("Z")) - datetime.fromisoformat(started.rstrip("Z"))
            ).total_seconds()
    return total


def run_notebooks(env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Notebook -> (Run All seconds in the kernel, seconds including kernel start), with env set."""
    from notebook_runner import LESSONS, execute

    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        timings = {}
        for path in LESSONS:
            started = time.perf_counter()
            notebook = execute(path, solved=True)
            timings[path.stem] = (_cell_seconds(notebook), time.perf_counter() - started)
        return timings
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def check_latency(backend: str) -> dict[str, tuple[float, float]]:
    """Exercise id -> (median ms, p95 ms) of checking its reference answer."""
    from course_helpers import exercises

    os.environ["COURSE_CHECK_BACKEND"] = backend
    results = {}
    for exercise in exercises.all():
        exercise.check(exercise.reference)  # warm-up
        samples = []
        for _ in range(CHECK_REPEATS):
            started = time.perf_counter()
            result = exercise.check(exercise.reference)
            samples.append((time.perf_counter() - started) * 1000)
            assert result.passed, str(result)
        results[exercise.id] = (statistics.median(samples), p95(samples))
    return results


def lesson_measurements(urls: dict[str, str]) -> list[str]:
    """Pipeline speedups and cache hit ratios from the lessons' own measurement modules, when present."""
    import redis

    lines: list[str] = []
    for module_name, function_name in (
        ("course_helpers.measure_pipelines", "pipeline_speedup"),
        ("course_helpers.measure_cache", "simulate_cache_workload"),
    ):
        try:
            function = getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError):
            continue
        for backend, url in urls.items():
            client = redis.Redis.from_url(url, decode_responses=True)
            result = function(client)
            client.close()
            text = _frame_table(result) if hasattr(result, "columns") else _dict_table(result)
            lines += [f"### `{function_name}` on {backend}", "", text, ""]
    return lines


def _frame_table(frame: object) -> str:
    columns = list(frame.columns)  # type: ignore[attr-defined]
    rows = frame.itertuples(index=False)  # type: ignore[attr-defined]
    shown = [" | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row) for row in rows]
    return "\n".join(
        ["| " + " | ".join(map(str, columns)) + " |", "|" + "---|" * len(columns), *[f"| {r} |" for r in shown]]
    )


def _dict_table(values: object) -> str:
    if not isinstance(values, dict):
        return f"```\n{values}\n```"
    rows = [
        f"| {key} | {value:.4g} |" if isinstance(value, float) else f"| {key} | {value} |"
        for key, value in values.items()
    ]
    return "\n".join(["| measure | value |", "|---|---|", *rows])


def classroom_load(students: int = 30) -> list[str]:
    """30 simulated students checking every exercise concurrently against one classroom setup."""
    from course_helpers import PrivateRedis, classroom, exercises

    hub = PrivateRedis().start()
    workdir = Path(tempfile.mkdtemp(prefix="bench-class-"))
    roster = workdir / "roster.csv"
    roster.write_text("name\n" + "".join(f"student{n:02d}\n" for n in range(students)))
    try:
        started = time.perf_counter()
        seats = classroom.setup(roster, hub.url, workdir / "class", first_port=7400)
        setup_seconds = time.perf_counter() - started
        started = time.perf_counter()
        processes = classroom.launch_students(
            {seat.name: seat.redis_url for seat in seats}, exercises.ids(), workdir, mistakes=0.5, give_up=0.0
        )
        reports = classroom.collect(processes, timeout=1800)
        wall = time.perf_counter() - started
        latencies = [ms for report in reports for ms in report["latencies_ms"]]
        sent = sum(report["events"] for report in reports)
        events, _, _ = classroom.report_frames(hub.url)
        received = len(events)
        classroom.teardown(hub.url)
    finally:
        hub.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return [
        f"{students} simulated students (separate processes, as kernels are) ran {len(latencies)} checks of every "
        f"exercise (known wrong answers, then the reference) concurrently on {os.cpu_count()} cores, each student on "
        "a private redis-server, every event forwarded to one hub.",
        "",
        f"- `classroom setup` for {students} students: {setup_seconds:.1f} s; the whole load: {wall:.0f} s.",
        f"- Check latency under this load: median **{statistics.median(latencies):.0f} ms**, "
        f"p95 **{p95(latencies):.0f} ms**.",
        f"- Events recorded locally {sent}, received by the hub {received}: "
        f"**{'none lost' if received == sent else f'{sent - received} LOST'}**.",
        f"- Students whose process finished: {len(reports)} of {students}.",
    ]


def chart(notebook_times: dict[str, dict[str, float]], latency: dict[str, dict[str, tuple[float, float]]]) -> None:
    """bench/report.png: Run All time per notebook and check latency per exercise, per backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(14, 6))
    backends = list(notebook_times)
    notebooks = list(next(iter(notebook_times.values())))
    width = 0.8 / len(backends)
    for index, backend in enumerate(backends):
        left.barh(
            [n + index * width for n in range(len(notebooks))],
            [run for run, _ in notebook_times[backend].values()],
            height=width,
            label=backend,
        )
    left.set_yticks([n + width / 2 for n in range(len(notebooks))], notebooks)
    left.invert_yaxis()
    left.set_xlabel("Run All seconds (solutions filled in)")
    left.legend()
    ids = list(next(iter(latency.values())))
    for index, backend in enumerate(latency):
        right.barh(
            [n + index * width for n in range(len(ids))],
            [latency[backend][i][0] for i in ids],
            height=width,
            label=f"{backend} median",
        )
    right.set_yticks([n + width / 2 for n in range(len(ids))], ids, fontsize=7)
    right.invert_yaxis()
    right.axvline(50, color="grey", linestyle="--", label="50 ms target")
    right.set_xlabel("check latency, ms")
    right.legend()
    figure.tight_layout()
    figure.savefig(OUT / "report.png", dpi=90)


def main() -> int:
    """Measure everything and write the report."""
    from course_helpers import PrivateRedis

    os.environ["COURSE_PROGRESS_FILE"] = str(Path(tempfile.mkdtemp()) / "progress.jsonl")
    OUT.mkdir(exist_ok=True)
    server = PrivateRedis().start() if shutil.which("redis-server") else None
    backends = {"fake": {"COURSE_BACKEND": "fake", "COURSE_CHECK_BACKEND": "fake"}}
    if server:
        backends["real"] = {"REDIS_URL": f"redis://127.0.0.1:{server.port}", "COURSE_CHECK_BACKEND": "real"}
    print("Timing make install...", flush=True)
    install = time_install()
    notebook_times, latency = {}, {}
    for backend, env in backends.items():
        print(f"Running every notebook on {backend}...", flush=True)
        notebook_times[backend] = run_notebooks(env)
        print(f"Timing checks on {backend}...", flush=True)
        latency[backend] = check_latency(backend)
    from course_helpers import EmbeddedServer

    embedded = EmbeddedServer().start()
    urls = {"embedded fakeredis (TCP)": embedded.url + "/0"}
    if server:
        urls["real redis-server (loopback)"] = server.url
    extra = lesson_measurements(urls)
    embedded.stop()
    kernel_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if server:
        server.stop()

    lines = [
        "# Benchmark report",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}; "
        f"{time.strftime('%Y-%m-%d %H:%M')}.",
        "",
        "## Set-up",
        "",
        f"- `make install` in a fresh clone: **{install['cold']:.1f} s** (creates .venv, installs uv, then the whole "
        f"stack with uv); again when already installed: **{install['warm']:.2f} s**.",
        "",
        "## Run All per notebook (reference solutions filled in)",
        "",
        "Run All is the time the kernel spends running every cell; the second figure adds starting the kernel.",
        "",
        "| notebook | " + " | ".join(f"{b} Run All | {b} with kernel start" for b in notebook_times) + " |",
        "|---|" + "---:|---:|" * len(notebook_times),
    ]
    for name in next(iter(notebook_times.values())):
        lines.append(
            f"| {name} | "
            + " | ".join(
                f"{notebook_times[b][name][0]:.1f} s | {notebook_times[b][name][1]:.1f} s" for b in notebook_times
            )
            + " |"
        )
    totals = {b: sum(run for run, _ in t.values()) for b, t in notebook_times.items()}
    walls = {b: sum(wall for _, wall in t.values()) for b, t in notebook_times.items()}
    lines.append(
        "| **whole course** | " + " | ".join(f"**{totals[b]:.1f} s** | **{walls[b]:.1f} s**" for b in totals) + " |"
    )
    lines += [
        "",
        "Target: Run All of the whole course <= 60 s per backend: "
        + ", ".join(f"{b} {'met' if totals[b] <= 60 else 'MISSED'} ({totals[b]:.0f} s)" for b in totals)
        + ".",
        f"Largest kernel (peak RSS of any child process): {kernel_rss_mb:.0f} MB.",
        "",
        f"## Check latency per exercise (reference answer, {CHECK_REPEATS} runs, fork + fresh Redis + checker)",
        "",
        "| exercise | " + " | ".join(f"{b} median | {b} p95" for b in latency) + " |",
        "|---|" + "---:|---:|" * len(latency),
    ]
    for exercise_id in next(iter(latency.values())):
        cells = " | ".join(
            f"{latency[b][exercise_id][0]:.0f} ms | {latency[b][exercise_id][1]:.0f} ms" for b in latency
        )
        lines.append(f"| {exercise_id} | {cells} |")
    for backend, values in latency.items():
        medians = [median for median, _ in values.values()]
        lines.append("")
        lines.append(
            f"On {backend}: median of medians {statistics.median(medians):.0f} ms; "
            f"{sum(m <= 50 for m in medians)} of {len(medians)} exercises at or under 50 ms; slowest "
            f"{max(values, key=lambda i: values[i][0])} at {max(medians):.0f} ms (target for concurrency checks: 1 s)."
        )
    if extra:
        lines += ["", "## Lesson measurements", "", *extra]
    if server and os.environ.get("BENCH_CLASSROOM", "1") == "1":
        print("Classroom load (30 simulated students)...", flush=True)
        lines += ["", "## Classroom load", "", *classroom_load()]
    lines += ["", "![chart](report.png)", ""]
    chart(notebook_times, latency)
    (OUT / "REPORT.md").write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"\nWrote {OUT / 'REPORT.md'} and {OUT / 'report.png'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
