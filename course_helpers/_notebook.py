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


def _show(text: str, html_text: str) -> None:
    from IPython.display import display

    display({"text/plain": text, "text/html": html_text}, raw=True)  # a sentence in a terminal too


def _show_env_problem(describe_server: Callable[[], str], value: BaseException) -> None:
    message = server_problem_message(value, describe_server())
    _show(
        f"⚙ Set-up problem (not your code): {message}",
        "<div style='border-left:6px solid #0969da;padding:6px 10px;background:#0969da12'>"
        f"<b style='color:#0969da'>⚙ Set-up problem (not your code)</b><br>{html.escape(message)}</div>",
    )


TIMEOUT_HINT = (
    "The course's Redis is answering: this TimeoutError is the client's own socket_timeout running out before a "
    "reply came (a blocking command such as BRPOP waiting longer than the client waits). Give the command a "
    "timeout shorter than the client's socket_timeout, or build the client with socket_timeout=None."
)


def ipython_shell() -> Any:
    """The running IPython shell, or None outside IPython (or where IPython is not installed)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def install_error_feedback(
    describe_server: Callable[[], str] = lambda: "the course's Redis",
    server_answers: Callable[[], bool] = lambda: False,
) -> None:
    """In IPython, show course set-up errors, and the course's server going away, as a sentence with the fix.

    describe_server() names the server in the message, e.g. "Redis at redis://localhost:6379"; server_answers()
    tells whether it still answers: then a connection error or timeout came from the learner's own client (a
    wrong port, a socket_timeout) and is shown as Python shows it, with a sentence for a timeout.
    """
    shell = ipython_shell()
    if shell is None:
        return

    def handler(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> None:
        if isinstance(value, CourseGuardError | CourseEnvironmentError) or not server_answers():
            _show_env_problem(describe_server, value)
            return
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        if isinstance(value, redis.TimeoutError):
            html_text = f"<div style='border-left:6px solid #bf8700;padding:6px 10px'>{html.escape(TIMEOUT_HINT)}</div>"
            _show(TIMEOUT_HINT, html_text)

    shell.set_custom_exc((redis.ConnectionError, redis.TimeoutError, CourseEnvironmentError, CourseGuardError), handler)
