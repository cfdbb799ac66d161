"""progress(): a per-notebook view of what the learner has checked, passed, answered and asked help for."""

from __future__ import annotations

import base64
import html
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._progress import read_events
from ._show import figure_png

if TYPE_CHECKING:
    import pandas as pd

KEPT_WHERE = (
    "Progress is kept in this browser's storage (redis-course/progress.jsonl in the file browser): download that "
    "file to keep a copy."
    if sys.platform == "emscripten"
    else "Progress is kept on this computer; `python -m course_helpers reset` clears it."
)


def progress_table() -> pd.DataFrame:
    """One row per exercise, in course order: notebook, status, checks, hints, solution seen."""
    import pandas as pd  # imported on first use: it is the slowest import of the course

    from . import exercises

    events = read_events()
    rows = []
    for exercise in exercises.all():
        mine = [e for e in events if e["exercise"] == exercise.id]
        checks = [e for e in mine if e["event"] == "check"]
        statuses = [e.get("status") for e in checks]
        if "pass" in statuses:
            status = "passed"
        elif checks and set(statuses) != {"not_attempted"}:
            status = "in progress"
        else:
            status = "not started"
        rows.append(
            {
                "notebook": exercise.notebook,
                "exercise": exercise.id,
                "status": status,
                "checks": sum(1 for s in statuses if s != "not_attempted"),
                "hints": max((int(e.get("level", 0)) for e in mine if e["event"] == "hint"), default=0),
                "solution seen": any(e["event"] == "solution" for e in mine),
            }
        )
    return pd.DataFrame(rows)


def quiz_table() -> pd.DataFrame:
    """One row per quiz, in course order: notebook, answered, and whether the latest answer was right."""
    import pandas as pd

    from . import exercises

    latest = {event["exercise"]: event for event in read_events() if event["event"] == "quiz"}
    rows = [
        {
            "notebook": quiz.notebook,
            "quiz": quiz.id,
            "answered": quiz.id in latest,
            "right": bool(latest.get(quiz.id, {}).get("correct", False)),
        }
        for quiz in exercises.quizzes()
    ]
    return pd.DataFrame(rows, columns=["notebook", "quiz", "answered", "right"])


@dataclass
class ProgressReport:
    """The progress table, the quizzes, and a per-notebook bar chart."""

    table: pd.DataFrame
    quizzes: pd.DataFrame

    @property
    def per_notebook(self) -> pd.DataFrame:
        """Passed and total exercises per notebook."""
        import pandas as pd

        grouped = self.table.groupby("notebook", sort=True)
        quizzes = self.quizzes.groupby("notebook", sort=True)
        return (
            pd.DataFrame(
                {
                    "passed": grouped["status"].apply(lambda s: int((s == "passed").sum())),
                    "total": grouped["status"].size(),
                    "quizzes right": quizzes["right"].sum().astype(int),
                    "quizzes": quizzes["quiz"].size(),
                }
            )
            .fillna(0)
            .astype(int)
        )

    def _headline(self) -> str:
        summary = self.per_notebook
        done, total = int(summary["passed"].sum()), int(summary["total"].sum())
        right, quizzes = int(summary["quizzes right"].sum()), int(summary["quizzes"].sum())
        return f"{done} of {total} exercises passed, {right} of {quizzes} quizzes answered right"

    def __repr__(self) -> str:
        return f"{self._headline()}\n\n{self.per_notebook.to_string()}\n\n{self.table.to_string(index=False)}"

    def _chart(self) -> str:
        from matplotlib.figure import Figure

        summary = self.per_notebook
        figure = Figure(figsize=(6, 0.35 * len(summary) + 1))
        axes = figure.subplots()
        axes.barh(summary.index[::-1], summary["total"][::-1], color="#e1e4e8", label="exercises")
        axes.barh(summary.index[::-1], summary["passed"][::-1], color="#1a7f37", label="passed")
        axes.set_xlabel("exercises")
        axes.legend(loc="lower right")
        return base64.b64encode(figure_png(figure)).decode()

    def _repr_html_(self) -> str:
        # The per-exercise table has a row per exercise of the course: folded, so the chart stays in view.
        return (
            f"<b>{html.escape(self._headline())}</b><br>"
            f"<img src='data:image/png;base64,{self._chart()}'>"
            f"<details><summary>Every exercise</summary>{self.table.to_html(index=False, escape=True)}</details>"
            f"<details><summary>Every quiz</summary>{self.quizzes.to_html(index=False, escape=True)}</details>"
            f"<small>{html.escape(KEPT_WHERE)}</small>"
        )


def progress() -> ProgressReport:
    """Your progress through the course, per notebook and per exercise."""
    return ProgressReport(progress_table(), quiz_table())
