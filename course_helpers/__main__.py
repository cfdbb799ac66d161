"""Command line: python -m course_helpers doctor | progress | reset."""

from __future__ import annotations

import argparse
import sys

from ._connection import backend
from ._doctor import diagnose
from ._progress import forget_progress, progress_file
from ._safety import MARKER_KEY, CourseEnvironmentError, clear_course_database
from ._urls import redact


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


def classroom(args: argparse.Namespace) -> int:
    """classroom setup | report | teardown."""
    from pathlib import Path

    from . import classroom as _classroom

    try:
        if args.action == "setup":
            seats = _classroom.setup(
                Path(args.roster),
                args.redis_url,
                Path(args.out),
                bind=args.bind,
                public_host=args.public_host,
                first_port=args.first_port,
            )
            print(
                f"{len(seats)} students ready, each with a private redis-server (ports "
                f"{seats[0].port}-{seats[-1].port})."
            )
            print(
                f"Hand out {Path(args.out) / 'students.csv'} (readable by you only: it holds passwords); each "
                "student sets REDIS_URL to their redis_url before starting JupyterLab."
            )
            return 0
        if args.action == "report":
            print(_classroom.report_text(args.redis_url, as_csv=args.csv))
            return 0
        if (
            not args.yes
            and sys.stdin.isatty()
            and input("This stops every student server and deletes the class's users and events. Type yes: ")
            .strip()
            .lower()
            != "yes"
        ):
            print("Nothing was changed.")
            return 1
        names = _classroom.teardown(args.redis_url)
        print(f"Removed {len(names)} student servers, their ACL users and the class's events; nothing else.")
        return 0
    except (_classroom.RosterError, CourseEnvironmentError) as error:
        print(error)
        return 1


def main(argv: list[str] | None = None) -> int:
    """Entry point for `python -m course_helpers`."""
    parser = argparse.ArgumentParser(prog="python -m course_helpers", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    doctor_parser = commands.add_parser("doctor", help="check Python, packages and the Redis backend; the next step")
    doctor_parser.add_argument("--short", action="store_true", help="only the backend and the next step")
    commands.add_parser("progress", help="show your progress per notebook and exercise")
    reset_parser = commands.add_parser("reset", help="delete the course's own keys and progress")
    reset_parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    room = commands.add_parser(
        "classroom", help="run a workshop: setup, report, teardown (see docs/instructor-guide.md)"
    )
    actions = room.add_subparsers(dest="action", required=True)
    room_setup = actions.add_parser("setup", help="a private redis-server per student; writes OUT/students.csv")
    room_setup.add_argument("--roster", required=True, help="CSV with a `name` column")
    room_setup.add_argument("--redis-url", required=True, help="the instructor's Redis (the class hub)")
    room_setup.add_argument("--out", required=True, help="folder for students.csv and the student servers")
    room_setup.add_argument(
        "--bind", default="127.0.0.1", help="address student servers listen on (0.0.0.0 for laptops)"
    )
    room_setup.add_argument("--public-host", default=None, help="host name students use to reach this machine")
    room_setup.add_argument("--first-port", type=int, default=7100, help="port of the first student server")
    room_report = actions.add_parser("report", help="progress per student and per exercise")
    room_report.add_argument("--redis-url", required=True)
    room_report.add_argument("--csv", action="store_true", help="student × exercise grid as CSV")
    room_down = actions.add_parser("teardown", help="stop student servers, remove what setup made")
    room_down.add_argument("--redis-url", required=True)
    room_down.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)
    if args.command == "classroom":
        return classroom(args)
    if args.command == "doctor":
        lines, ok = diagnose()
        short = [line for line in lines if line.strip().startswith(("Backend", "!!"))] + lines[-1:]
        print("\n".join(short if args.short else lines))
        return 0 if ok else 1
    if args.command == "progress":
        return show_progress()
    return reset(args.yes)


if __name__ == "__main__":
    sys.exit(main())
