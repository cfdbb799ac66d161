"""CheckResult: the outcome of one check, shown as coloured HTML in a notebook and plain text elsewhere."""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from typing import Literal

Status = Literal["pass", "fail", "error", "timeout", "not_attempted", "env_problem"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "error", "timeout", "not_attempted", "env_problem")

_LOOK: dict[str, tuple[str, str, str]] = {
    # status: (symbol, heading, colour)
    "pass": ("✓", "Correct", "#1a7f37"),
    "fail": ("✗", "Not yet", "#bc4c00"),
    "error": ("⚠", "Your code raised an error", "#cf222e"),
    "timeout": ("⏱", "Stopped: too slow", "#8250df"),
    "not_attempted": ("○", "Not attempted yet", "#57606a"),
    "env_problem": ("⚙", "Set-up problem (not your code)", "#0969da"),
}


@dataclass(frozen=True)
class Outcome:
    """What one run of a checker produced inside the sandbox, before it becomes a CheckResult.

    internal holds the checker's own traceback when the checker itself failed (a bug in the course).
    """

    status: Status
    message: str = ""
    sent: str = ""
    output: str = ""
    internal: str = ""


OUTPUT_LIMIT = 4000  # characters of what the learner's code printed that a check keeps: the end of it


def with_output(outcome: Outcome, printed: str) -> Outcome:
    """outcome with the last OUTPUT_LIMIT characters of what the learner's code printed."""
    return replace(outcome, output=printed[-OUTPUT_LIMIT:])


def ended_without_answer(how: str) -> Outcome:
    """The outcome when the checking process died before it answered (os._exit, a crash, a signal)."""
    return Outcome(
        "error",
        f"The checking process ended without an answer ({how}): your code may have called os._exit() or "
        "crashed the interpreter. Remove that call and run the check again.",
    )


@dataclass(frozen=True)
class CheckResult:
    """What a check found: a status, a message naming the mistake, and what the code sent to Redis."""

    exercise_id: str
    status: Status
    message: str
    sent: str = ""
    output: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """True only for status "pass"."""
        return self.status == "pass"

    def __str__(self) -> str:
        symbol, heading, _ = _LOOK[self.status]
        parts = [f"{symbol} {heading} [{self.exercise_id}]: {self.message}"]
        if self.sent and self.status != "not_attempted":
            parts.append("What your code sent to Redis:\n" + _indent(self.sent))
        if self.output.strip():
            parts.append("Your code printed:\n" + _indent(self.output.rstrip()))
        return "\n".join(parts)

    def __repr__(self) -> str:
        return f"CheckResult({self.exercise_id!r}, status={self.status!r}, message={self.message!r})"

    def _repr_html_(self) -> str:
        symbol, heading, colour = _LOOK[self.status]
        body = html.escape(self.message).replace("\n", "<br>")
        extra = ""
        if self.sent and self.status != "not_attempted":
            opened = "" if self.passed else " open"
            extra += (
                f"<details{opened}><summary>What your code sent to Redis</summary>"
                f"<pre style='margin:4px 0'>{html.escape(self.sent)}</pre></details>"
            )
        if self.output.strip():
            extra += (
                "<details><summary>What your code printed</summary>"
                f"<pre style='margin:4px 0'>{html.escape(self.output.rstrip())}</pre></details>"
            )
        return (
            f"<div class='course-check course-{self.status}' style='border-left:6px solid {colour};"
            f"padding:6px 10px;margin:4px 0;background:{colour}12'>"
            f"<b style='color:{colour}'>{symbol} {html.escape(heading)}</b> "
            f"<code>{html.escape(self.exercise_id)}</code><br>{body}{extra}</div>"
        )


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
