"""Command line: python -m course_helpers doctor | progress | reset."""

from __future__ import annotations

import argparse
import sys

from ._connection import backend, redact
from ._doctor import diagnose
from ._progress import forget_progress, progress_file
from ._safety import MARKER_KEY, CourseEnvironmentError, clear_course_database


def show_progress() -> int:
    """Print the progress table."""
    from ._dashboard import progress

    print(repr(progress()))
    return 0


def reset(assume_yes: bool) -> int:
    """Delete the course's own keys (in its claimed database) and the progress file, after confirmation."""
    try:
        chosen = backend()
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
        lines, ok = diagnose()
        print("\n".join(lines))
        return 0 if ok else 1
    if args.command == "progress":
        return show_progress()
    return reset(args.yes)


if __name__ == "__main__":
    sys.exit(main())
