"""Helpers for the 'Redis with Python' course: connect, check exercises, show keys, track progress."""

import sys

from . import _cells, _sandbox, exercises
from ._connection import Backend, backend, clear, connect, redis_url
from ._dashboard import progress
from ._doctor import doctor
from ._embedded import EmbeddedServer, free_port
from ._exercise import Exercise, Hint, Mutant, Solution, ____, is_placeholder
from ._private_server import PrivateRedis
from ._results import STATUSES, CheckResult
from ._safety import MARKER_KEY, CourseEnvironmentError
from ._show import show
from ._trial import CheckFailed, Trial
from ._wire import CourseGuardError, Recorder
from .exercises import quiz

__version__ = "0.1.0"

_cells.register_magics()  # %%under_the_hood, %%needs_redis, %%not_in_browser in lesson notebooks
if "ipykernel" in sys.modules:  # in a notebook: have the check worker (if checks use one) ready by the first check
    _sandbox.prewarm()

__all__ = [
    "MARKER_KEY",
    "STATUSES",
    "Backend",
    "CheckFailed",
    "CheckResult",
    "CourseEnvironmentError",
    "CourseGuardError",
    "EmbeddedServer",
    "Exercise",
    "Hint",
    "Mutant",
    "PrivateRedis",
    "Recorder",
    "Solution",
    "Trial",
    "____",
    "backend",
    "clear",
    "connect",
    "doctor",
    "exercises",
    "free_port",
    "is_placeholder",
    "progress",
    "quiz",
    "redis_url",
    "show",
]
