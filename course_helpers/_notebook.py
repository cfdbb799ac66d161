"""Notebook niceties: set-up problems shown as one sentence instead of a traceback."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import redis

from ._safety import CourseEnvironmentError
from ._wire import CourseGuardError


def server_problem_message(error: BaseException, where: str = "the course's Redis") -> str:
    """What happened to the server (named by where) and what to do next, in two sentences."""
    if isinstance(error, CourseGuardError | CourseEnvironmentError):
        return str(error)
    return (
        f"{where} stopped answering ({type(error).__name__}: {error}). Start the server again "
        "(`redis-server`, or `sudo systemctl start redis-server`) and re-run this cell: the client reconnects "
        "by itself. Or set COURSE_BACKEND=fake and restart the kernel to use the built-in fakeredis."
    )


def _show_env_problem(describe_server: Callable[[], str], value: BaseException) -> None:
    from IPython.display import HTML, display

    message = server_problem_message(value, describe_server())
    display(
        HTML(
            "<div style='border-left:6px solid #0969da;padding:6px 10px;background:#0969da12'>"
            f"<b style='color:#0969da'>⚙ Set-up problem (not your code)</b><br>{html.escape(message)}</div>"
        )
    )
    return None


def install_error_feedback(describe_server: Callable[[], str] = lambda: "the course's Redis") -> None:
    """In IPython, show Redis connection and course set-up errors as a sentence with the fix.

    describe_server() names the server in the message, e.g. "Redis at redis://localhost:6379".
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def handler(_shell: Any, _etype: type, value: BaseException, _tb: Any, tb_offset: Any = None) -> None:
        _show_env_problem(describe_server, value)

    shell.set_custom_exc((redis.ConnectionError, redis.TimeoutError, CourseEnvironmentError, CourseGuardError), handler)
