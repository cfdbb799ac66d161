"""The instructor's view of the class: every student's events, the progress grid, stuck students, mistakes."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import redis

from .. import exercises
from .._class_link import events_key
from ._seats import ROSTER_KEY

if TYPE_CHECKING:
    import pandas as pd


def class_events(hub: redis.Redis) -> pd.DataFrame:
    """Every event every student sent, one row each (duplicates from re-sends removed)."""
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for student in sorted(str(name) for name in hub.hkeys(ROSTER_KEY)):
        entries: Any = hub.xrange(events_key(student))
        for _entry_id, fields in entries:
            row = {"student": student, **fields}
            rows.append(row)
    columns = ["student", "uid", "ts", "event", "exercise", "status", "message", "level", "notebook", "correct"]
    frame = pd.DataFrame(rows, columns=columns).drop_duplicates(subset=["student", "uid"])
    frame["exercise"] = frame["exercise"].map(lambda exercise_id: exercises.current_id(str(exercise_id)))
    frame["ts"] = pd.to_numeric(frame["ts"], errors="coerce")
    frame["status"] = frame["status"].fillna("").map(lambda s: s.strip('"'))
    frame["message"] = frame["message"].fillna("").map(lambda s: s.strip('"'))
    return frame.reset_index(drop=True)


def progress_grid(events: pd.DataFrame, students: list[str], exercise_ids: list[str]) -> pd.DataFrame:
    """Student × exercise: "passed", "trying" (checked, not passed), "hint"/"solution" (help only) or ""."""
    import pandas as pd

    grid = pd.DataFrame("", index=students, columns=exercise_ids)
    for (student, exercise), group in events.groupby(["student", "exercise"]):
        if exercise not in grid.columns or student not in grid.index:
            continue
        checks = group[group["event"] == "check"]
        statuses = set(checks["status"])
        if "pass" in statuses:
            grid.loc[student, exercise] = "passed"
        elif statuses - {"not_attempted"}:
            grid.loc[student, exercise] = "trying"
        elif (group["event"] == "solution").any():
            grid.loc[student, exercise] = "solution"
        elif (group["event"] == "hint").any():
            grid.loc[student, exercise] = "hint"
    return grid


def stuck_students(events: pd.DataFrame, minutes: float = 10.0, now: float | None = None) -> pd.DataFrame:
    """Students whose latest exercise has been failing for more than `minutes` with no pass since."""
    import pandas as pd

    now = now or time.time()
    rows = []
    checks = events[(events["event"] == "check") & (events["status"] != "not_attempted")]
    for (student, exercise), group in checks.groupby(["student", "exercise"]):
        if (group["status"] == "pass").any():
            continue
        first, last = group["ts"].min(), group["ts"].max()
        if now - first >= minutes * 60:
            rows.append(
                {
                    "student": student,
                    "exercise": exercise,
                    "attempts": len(group),
                    "stuck for (min)": round((now - first) / 60, 1),
                    "last message": group.iloc[-1]["message"],
                    "last seen (min ago)": round((now - last) / 60, 1),
                }
            )
    return pd.DataFrame(
        rows, columns=["student", "exercise", "attempts", "stuck for (min)", "last message", "last seen (min ago)"]
    )


def common_mistakes(events: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """The check messages seen most often for failing answers, with how many students got each."""
    import pandas as pd

    failing = events[(events["event"] == "check") & events["status"].isin(["fail", "error", "timeout"])]
    if failing.empty:
        return pd.DataFrame(columns=["exercise", "message", "students", "times"])
    # The first sentence names the mistake; the rest shows the case, which differs between students.
    failing = failing.assign(mistake=failing["message"].str.split(". ").str[0].str.slice(0, 160))
    grouped = failing.groupby(["exercise", "mistake"]).agg(students=("student", "nunique"), times=("uid", "count"))
    grouped = grouped.reset_index().rename(columns={"mistake": "message"})
    return grouped.sort_values(["students", "times"], ascending=False).head(top).reset_index(drop=True)


def quiz_results(events: pd.DataFrame) -> pd.DataFrame:
    """Per quiz: how many students answered it, and what share got it right at their first answer."""
    import pandas as pd

    quizzes = events[events["event"] == "quiz"]
    if quizzes.empty:
        return pd.DataFrame(columns=["quiz", "students", "right first time"])
    first = quizzes.sort_values("ts").groupby(["exercise", "student"], as_index=False).first()
    first = first.assign(right=first["correct"].astype(str).str.strip('"').str.lower().isin(["true", "1"]))
    grouped = first.groupby("exercise").agg(students=("student", "nunique"), right=("right", "mean"))
    grouped["right first time"] = grouped.pop("right").map(lambda share: f"{share:.0%}")
    return grouped.reset_index().rename(columns={"exercise": "quiz"})
