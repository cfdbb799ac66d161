"""The course's exercises and quizzes, one module per topic, in course order: all(), get(id), quiz(id)."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from dataclasses import replace
from types import ModuleType
from typing import Any

from .. import _progress
from .._exercise import Exercise
from .._quiz import Quiz, show_quiz
from .._sandbox import prewarm

__all__ = ["Exercise", "Quiz", "all", "current_id", "get", "get_quiz", "ids", "quiz", "quizzes"]


def _topic_modules() -> list[ModuleType]:
    modules = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_")
    ]
    # Each topic module names its notebook ("02-strings-and-counters"): the number gives the course order.
    return sorted(modules, key=lambda module: module.NOTEBOOK)


_MODULES = _topic_modules()
_EXERCISES = [exercise for module in _MODULES for exercise in module.EXERCISES]
_BY_ID = {exercise.id: exercise for exercise in _EXERCISES}
_QUIZZES = [replace(quiz, notebook=module.NOTEBOOK) for module in _MODULES for quiz in getattr(module, "QUIZZES", ())]
_QUIZ_BY_ID = {quiz.id: quiz for quiz in _QUIZZES}
# A module's FORMER_IDS = {"old.id": "new.id"} keeps the progress of an exercise that moved to another topic.
_FORMER_IDS = {old: new for module in _MODULES for old, new in getattr(module, "FORMER_IDS", {}).items()}
_progress.rename_ids(_FORMER_IDS)


def current_id(exercise_id: str) -> str:
    """The id an exercise or quiz has now, given one it may have had before."""
    return _FORMER_IDS.get(exercise_id, exercise_id)


def all() -> list[Exercise]:
    """Every exercise, in course order."""
    return list(_EXERCISES)


def ids() -> list[str]:
    """Every exercise id, in course order."""
    return [exercise.id for exercise in _EXERCISES]


def get(exercise_id: str) -> Exercise:
    """The exercise with this id, e.g. get("strings.page_views")."""
    try:
        exercise = _BY_ID[exercise_id]
    except KeyError:
        close = difflib.get_close_matches(exercise_id, _BY_ID, n=1)
        suggestion = f" Did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"There is no exercise {exercise_id!r}.{suggestion} exercises.ids() lists them all.") from None
    prewarm()  # a check is coming: have the spawn worker (where checks use one) starting
    return exercise


def quizzes() -> list[Quiz]:
    """Every quiz, in course order."""
    return list(_QUIZZES)


def get_quiz(quiz_id: str) -> Quiz:
    """The quiz with this id, e.g. get_quiz("strings.quiz_lost_update")."""
    try:
        return _QUIZ_BY_ID[quiz_id]
    except KeyError:
        close = difflib.get_close_matches(quiz_id, _QUIZ_BY_ID, n=1)
        suggestion = f" Did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"There is no quiz {quiz_id!r}.{suggestion}") from None


def quiz(quiz_id: str) -> Any:
    """Show the quiz with this id: a widget in a notebook (answer it there), or its text with .choose(n)."""
    return show_quiz(get_quiz(quiz_id))
