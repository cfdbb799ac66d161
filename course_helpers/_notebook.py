"""Notebook niceties: set-up problems shown as one sentence instead of a traceback, and quiz widgets."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import redis

from . import _progress
from ._safety import CourseEnvironmentError
from ._wire import CourseGuardError


def server_problem_message(error: BaseException) -> str:
    """What happened to the server and what to do next, in two sentences."""
    if isinstance(error, CourseGuardError | CourseEnvironmentError):
        return str(error)
    from ._connection import _current

    where = "the course's Redis"
    if _current is not None and _current.base_url:
        from ._connection import redact

        where = f"Redis at {redact(_current.base_url)}"
    return (
        f"{where} stopped answering ({type(error).__name__}: {error}). Start the server again "
        "(`redis-server`, or `sudo systemctl start redis-server`) and re-run this cell: the client reconnects "
        "by itself. Or set COURSE_BACKEND=fake and restart the kernel to use the built-in fakeredis."
    )


def _show_env_problem(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> None:
    from IPython.display import HTML, display

    message = server_problem_message(value)
    display(
        HTML(
            "<div style='border-left:6px solid #0969da;padding:6px 10px;background:#0969da12'>"
            f"<b style='color:#0969da'>⚙ Set-up problem (not your code)</b><br>{html.escape(message)}</div>"
        )
    )
    return None


def install_error_feedback() -> None:
    """In IPython, show Redis connection and course set-up errors as a sentence with the fix."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    shell.set_custom_exc(
        (redis.ConnectionError, redis.TimeoutError, CourseEnvironmentError, CourseGuardError), _show_env_problem
    )


def quiz(question: str, options: Sequence[str], answer: int, explanation: str, quiz_id: str = "") -> Any:
    """A multiple-choice question with a Check button and an explanation; answer is the 0-based right option."""
    import ipywidgets as widgets

    choice = widgets.RadioButtons(options=list(options), value=None, layout={"width": "max-content"})
    button = widgets.Button(description="Check my answer", button_style="primary")
    feedback = widgets.HTML()

    def on_click(_button: Any) -> None:
        if choice.index is None:
            feedback.value = "<i>Pick an answer first.</i>"
            return
        right = choice.index == answer
        verdict = "✓ Right." if right else f"✗ Not quite: the answer is “{html.escape(options[answer])}”."
        colour = "#1a7f37" if right else "#bc4c00"
        feedback.value = f"<b style='color:{colour}'>{verdict}</b> {html.escape(explanation)}"
        if quiz_id:
            _progress.record("quiz", quiz_id, correct=right)

    button.on_click(on_click)
    return widgets.VBox([widgets.HTML(f"<b>Quiz:</b> {html.escape(question)}"), choice, button, feedback])
