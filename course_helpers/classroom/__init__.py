"""Classroom workshops: set up isolated student servers, watch progress live, tear everything down."""

from ._analysis import class_events, common_mistakes, progress_grid, quiz_results, stuck_students
from ._dashboard import dashboard
from ._report import report_frames, report_text
from ._seats import ROSTER_KEY, RosterError, Seat, acl_user, events_key, read_roster, setup, teardown
from ._simulation import collect, launch_students, run_student

__all__ = [
    "ROSTER_KEY",
    "RosterError",
    "Seat",
    "acl_user",
    "class_events",
    "collect",
    "common_mistakes",
    "dashboard",
    "events_key",
    "launch_students",
    "progress_grid",
    "quiz_results",
    "read_roster",
    "report_frames",
    "report_text",
    "run_student",
    "setup",
    "stuck_students",
    "teardown",
]
