"""Command line: python -m course_helpers doctor | progress | reset."""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import shutil
import subprocess
import sys

from ._connection import START_REDIS_HINT, choose_backend, redact
from ._progress import forget_progress, progress_file, read_events
from ._safety import MARKER_KEY, CourseEnvironmentError, clear_course_database

PACKAGES = ("redis", "fakeredis", "lupa", "jupyterlab", "ipykernel", "ipywidgets", "pandas", "matplotlib")


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def doctor() -> int:
    """Print what the course needs and what it found; 0 when the course can run."""
    ok = True
    print("Redis with Python: course doctor\n")
    print(f"  Python       {platform.python_version()} ({sys.executable})")
    if sys.version_info < (3, 10):
        ok = False
        print("  !! The course needs Python 3.10 or newer.")
    for package in PACKAGES:
        found = _version(package)
        print(f"  {package:<12} {found or 'MISSING'}")
        if found is None:
            ok = False
    server = shutil.which("redis-server")
    if server:
        version = subprocess.run([server, "--version"], capture_output=True, text=True, timeout=5).stdout.split()
        print(f"  redis-server {next((w[2:] for w in version if w.startswith('v=')), '?')} ({server})")
    else:
        print(f"  redis-server not installed (optional: the course uses fakeredis without it; to get one, {START_REDIS_HINT})")
    try:
        chosen = choose_backend()
        print(f"\n  Backend: {chosen.banner()}")
        backend_ok = True
    except CourseEnvironmentError as error:
        print(f"\n  Backend problem: {error}")
        backend_ok = False
    print(f"  Progress: {progress_file()} ({len(read_events())} events)")
    if ok and backend_ok:
        print("\nAll set. Next step: `make lab` opens the course at notebooks/00-welcome.ipynb.")
        return 0
    if not ok:
        print("\nSome packages are missing. Next step: `make install` (or `pip install -e .`), then run this again.")
    return 1


def show_progress() -> int:
    """Print the progress table."""
    from ._dashboard import progress

    print(repr(progress()))
    return 0


def reset(assume_yes: bool) -> int:
    """Delete the course's own keys (in its claimed database) and the progress file, after confirmation."""
    try:
        chosen = choose_backend()
    except CourseEnvironmentError as error:
        print(error)
        return 1
    where = f"database {chosen.db} on {redact(chosen.base_url or 'the in-process fakeredis')}"
    print(f"This deletes the course's progress file ({progress_file()}) and every key the course made in {where}.")
    print("Nothing outside the course's own database is touched.")
    if not assume_yes:
        if not sys.stdin.isatty():
            print("Not confirmed (no terminal to ask on): run `python -m course_helpers reset --yes` to go ahead.")
            return 1
        if input("Type yes to continue: ").strip().lower() != "yes":
            print("Nothing was deleted.")
            return 1
    client = chosen.client()
    deleted = clear_course_database(client)
    client.delete(MARKER_KEY)  # give the database back: the next run claims a free one again
    print(f"Deleted {deleted} course key(s); progress file {'deleted' if forget_progress() else 'was already empty'}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point for `python -m course_helpers`."""
    parser = argparse.ArgumentParser(prog="python -m course_helpers", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="check Python, packages and the Redis backend; says the next step")
    commands.add_parser("progress", help="show your progress per notebook and exercise")
    reset_parser = commands.add_parser("reset", help="delete the course's own keys and progress")
    reset_parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        return doctor()
    if args.command == "progress":
        return show_progress()
    return reset(args.yes)


if __name__ == "__main__":
    sys.exit(main())
