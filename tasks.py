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
EXTRAS = "test"  # make lab needs these; make test adds the browser-edition tools (TEST_EXTRAS)
TEST_EXTRAS = "test,lite,browser"
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


def install(_args: argparse.Namespace | None = None, extras: str = EXTRAS) -> None:
    """Create .venv and install the course with its test tools (skipped when nothing changed)."""
    stamp = VENV / f".installed-{extras.replace(',', '-')}"
    if stamp.exists() and stamp.stat().st_mtime >= (ROOT / "pyproject.toml").stat().st_mtime and PYTHON.exists():
        return
    started = time.perf_counter()
    if not PYTHON.exists():
        run(sys.executable, "-m", "venv", VENV)
    uv = _uv()
    if uv:
        run(*uv, "pip", "install", "-q", "--python", PYTHON, "-e", f".[{extras}]")
    else:
        run(PYTHON, "-m", "pip", "install", "-q", "-e", f".[{extras}]")
    stamp.touch()
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
    install(extras=TEST_EXTRAS)
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
    install(extras=TEST_EXTRAS)
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
    install(extras=TEST_EXTRAS)  # the browser edition's figures need the lite and browser tools
    run(PYTHON, "scripts/bench.py")


def strip(_args: argparse.Namespace) -> None:
    """Store notebooks without outputs (run before committing a notebook)."""
    install()
    run(tool("ruff"), "format", "-q", "notebooks")
    run(PYTHON, "scripts/strip_notebooks.py")


def lite(_args: argparse.Namespace) -> None:
    """Build the in-browser (JupyterLite) site into build/lite."""
    install(extras=TEST_EXTRAS)
    run(PYTHON, "scripts/build_lite.py")


def find_python(version: str) -> Path | None:
    """An interpreter for Python `version` ("3.10"): on PATH, installed by pyenv, or through the Windows launcher."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [str(path) for path in sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"))]
    if os.name == "nt" and shutil.which("py"):
        found = subprocess.run(["py", f"-{version}", "-c", "import sys; print(sys.executable)"], capture_output=True)
        candidates.append(found.stdout.decode().strip() if found.returncode == 0 else None)
    for candidate in filter(None, candidates):
        if subprocess.call([candidate, "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
            return Path(candidate)
    return None


def _environment(version: str, lowest: bool) -> Path:
    """A separate virtual environment with Python `version` and the course installed (lowest-direct if asked)."""
    interpreter = find_python(version)
    if interpreter is None:
        sys.exit(f"Python {version} was not found (not on PATH, not in pyenv); install it to run this task.")
    folder = ROOT / (f".venv-{version}-lowest" if lowest else f".venv-{version}")
    python = folder / PYTHON.relative_to(VENV)
    if not python.exists():
        run(interpreter, "-m", "venv", folder)
    install()  # uv comes from the main environment
    uv = _uv() or sys.exit("These tasks need uv (pip install uv).")
    resolution = ["--resolution", "lowest-direct"] if lowest else []
    run(*uv, "pip", "install", "-q", "--python", python, *resolution, "-e", f".[{TEST_EXTRAS}]")
    return python


def test_lowest(args: argparse.Namespace) -> None:
    """Every test with the lowest versions pyproject.toml allows, on the lowest Python it supports (3.10)."""
    python = _environment("3.10", lowest=True)
    run(python, "-m", "pytest", "-n", os.environ.get("PYTEST_WORKERS", "auto"), *args.pytest_args)


def test_python(args: argparse.Namespace) -> None:
    """Every test on another Python: python tasks.py test-python --python 3.13 [pytest args]."""
    python = _environment(args.python or "3.13", lowest=False)
    run(python, "-m", "pytest", "-n", os.environ.get("PYTEST_WORKERS", "auto"), *args.pytest_args)


def clean(_args: argparse.Namespace) -> None:
    """Remove .venv and caches."""
    for name in (".pytest_cache", ".ruff_cache", ".mypy_cache", "build"):
        shutil.rmtree(ROOT / name, ignore_errors=True)
    for folder in ROOT.glob(".venv*"):
        shutil.rmtree(folder, ignore_errors=True)
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
    "test-lowest": test_lowest,
    "test-python": test_python,
    "clean": clean,
}


def main(argv: list[str] | None = None) -> None:
    """Run one task."""
    parser = argparse.ArgumentParser(prog="python tasks.py", description=__doc__.split("\n")[0])
    parser.add_argument("task", choices=TASKS, help="; ".join(f"{n}: {f.__doc__}" for n, f in TASKS.items()))
    parser.add_argument("--port", type=int, default=None, help="lab: the port JupyterLab listens on (default 8888)")
    parser.add_argument("--python", default=None, help="test-python: the Python version to test on (default 3.13)")
    args, extra = parser.parse_known_args(argv)
    args.pytest_args = extra  # test, test-fast: anything else goes to pytest (-k name, -x, a test file...)
    TASKS[args.task](args)


if __name__ == "__main__":
    main()
