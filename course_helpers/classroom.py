"""Classroom workshops: set up isolated student servers, watch progress live, tear everything down."""

from ._classroom import RosterError, Seat, read_roster, setup, teardown
from ._classroom_dashboard import dashboard
from ._classroom_events import class_events, common_mistakes, progress_grid, stuck_students
from ._classroom_report import report_frames, report_text
from ._classroom_sim import collect, launch_students, run_student

__all__ = [
    "RosterError",
    "Seat",
    "class_events",
    "collect",
    "common_mistakes",
    "dashboard",
    "launch_students",
    "progress_grid",
    "read_roster",
    "report_frames",
    "report_text",
    "run_student",
    "setup",
    "stuck_students",
    "teardown",
]
