"""Set up, open and test the course with nothing but Python: `python tasks.py lab`, `python tasks.py test`.

Works the same in PowerShell, cmd, macOS and Linux terminals; the Makefile's targets call this file, so there
is one implementation. `python tasks.py --help` lists the tasks.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"
LINTED = ["course_helpers", "tests", "scripts", "notebooks", "tasks.py"]


def run(*command: str | Path, check: bool = True, **options: object) -> int:
    """Run a command, echoing it; stop with its exit code when it fails and check is set."""
    words = [str(word) for word in command]
    print("$", " ".join(words), flush=True)
    code = subprocess.call(words, cwd=options.pop("cwd", ROOT), **options)  # type: ignore[call-overload]
    if check and code:
        sys.exit(code)
    return int(code)


def tool(name: str) -> Path:
    """A program installed in the course's virtual environment."""
    return BIN / (f"{name}.exe" if os.name == "nt" else name)


def _uv() -> list[str] | None:
    # uv installs the stack in seconds where pip takes a minute; pip stays the fallback.
    found = shutil.which("uv")
    if found:
        return [found]
    code = subprocess.call(
        [str(PYTHON), "-m", "pip", "install", "-q", "uv"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return [str(tool("uv"))] if code == 0 and tool("uv").exists() else None


def install(_args: argparse.Namespace | None = None) -> None:
    """Create .venv and install the course with its test tools (skipped when nothing changed)."""
    if STAMP.exists() and STAMP.stat().st_mtime >= (ROOT / "pyproject.toml").stat().st_mtime and PYTHON.exists():
        return
    started = time.perf_counter()
    if not PYTHON.exists():
        run(sys.executable, "-m", "venv", VENV)
    uv = _uv()
    if uv:
        run(*uv, "pip", "install", "-q", "--python", PYTHON, "-e", ".[test]")
    else:
        run(PYTHON, "-m", "pip", "install", "-q", "-e", ".[test]")
    STAMP.touch()
    print(f"Installed the course into {VENV.name} in {time.perf_counter() - started:.1f} s.")


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab(args: argparse.Namespace) -> None:
    """Set up, then open JupyterLab at the first notebook."""
    install()
    port = str(args.port or os.environ.get("PORT", "8888"))
    print(f"Opening JupyterLab at http://localhost:{port}/lab/tree/00-welcome.ipynb (the URL with its token follows).")
    run(PYTHON, "-m", "course_helpers", "doctor", "--short", check=False)
    command = [tool("jupyter"), "lab", "00-welcome.ipynb", f"--port={port}"]
    if os.environ.get("CI"):
        command.append("--no-browser")
    if _is_root():  # containers run as root; JupyterLab refuses that without the flag
        command.append("--allow-root")
    command += os.environ.get("LAB_ARGS", "").split()
    run(*command, cwd=ROOT / "notebooks")


def lint(_args: argparse.Namespace | None = None) -> None:
    """ruff (notebooks too), ruff format, stripped notebooks, mypy."""
    install()
    run(tool("ruff"), "check", *LINTED)
    run(tool("ruff"), "format", "--check", *LINTED)
    run(PYTHON, "scripts/strip_notebooks.py", "--check")
    run(tool("mypy"))


def test(args: argparse.Namespace) -> None:
    """Lint, types and every test (the single command to run before pushing)."""
    lint()
    workers = os.environ.get("PYTEST_WORKERS", "auto")
    run(PYTHON, "-m", "pytest", "-n", workers, *os.environ.get("PYTEST_ARGS", "").split(), *args.pytest_args)


def test_fast(args: argparse.Namespace) -> None:
    """The quick tests only (no notebooks, nothing marked slow)."""
    install()
    run(PYTHON, "-m", "pytest", "-m", "not slow", *os.environ.get("PYTEST_ARGS", "").split(), *args.pytest_args)


def doctor(_args: argparse.Namespace) -> None:
    """What the course found: Python, packages, Redis."""
    install()
    run(PYTHON, "-m", "course_helpers", "doctor")


def progress(_args: argparse.Namespace) -> None:
    """Your progress per notebook and exercise."""
    install()
    run(PYTHON, "-m", "course_helpers", "progress")


def bench(_args: argparse.Namespace) -> None:
    """Timings and memory, written to bench/REPORT.md and bench/report.png."""
    install()
    run(PYTHON, "scripts/bench.py")


def strip(_args: argparse.Namespace) -> None:
    """Store notebooks without outputs (run before committing a notebook)."""
    install()
    run(tool("ruff"), "format", "-q", "notebooks")
    run(PYTHON, "scripts/strip_notebooks.py")


def lite(_args: argparse.Namespace) -> None:
    """Build the in-browser (JupyterLite) site into build/lite."""
    install()
    run(PYTHON, "scripts/build_lite.py")


def clean(_args: argparse.Namespace) -> None:
    """Remove .venv and caches."""
    for name in (".venv", ".pytest_cache", ".ruff_cache", ".mypy_cache", "build"):
        shutil.rmtree(ROOT / name, ignore_errors=True)
    for info in ROOT.glob("*.egg-info"):
        shutil.rmtree(info, ignore_errors=True)


TASKS = {
    "install": install,
    "lab": lab,
    "test": test,
    "test-fast": test_fast,
    "lint": lint,
    "doctor": doctor,
    "progress": progress,
    "bench": bench,
    "strip": strip,
    "lite": lite,
    "clean": clean,
}


def main(argv: list[str] | None = None) -> None:
    """Run one task."""
    parser = argparse.ArgumentParser(prog="python tasks.py", description=__doc__.split("\n")[0])
    parser.add_argument("task", choices=TASKS, help="; ".join(f"{n}: {f.__doc__}" for n, f in TASKS.items()))
    parser.add_argument("--port", type=int, default=None, help="lab: the port JupyterLab listens on (default 8888)")
    args, extra = parser.parse_known_args(argv)
    args.pytest_args = extra  # test, test-fast: anything else goes to pytest (-k name, -x, a test file...)
    TASKS[args.task](args)


if __name__ == "__main__":
    main()
