"""The course's exercises, one module per topic, in course order: all(), get(id)."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from types import ModuleType

from .._exercise import Exercise

__all__ = ["Exercise", "all", "get", "ids"]


def _topic_modules() -> list[ModuleType]:
    modules = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_")
    ]
    # Each topic module names its notebook ("02-strings-and-keys"): the number gives the course order.
    return sorted(modules, key=lambda module: module.NOTEBOOK)


def _load() -> list[Exercise]:
    loaded: list[Exercise] = []
    for module in _topic_modules():
        for exercise in module.EXERCISES:
            exercise.notebook = module.NOTEBOOK
            loaded.append(exercise)
    return loaded


_EXERCISES = _load()
_BY_ID = {exercise.id: exercise for exercise in _EXERCISES}


def all() -> list[Exercise]:
    """Every exercise, in course order."""
    return list(_EXERCISES)


def ids() -> list[str]:
    """Every exercise id, in course order."""
    return [exercise.id for exercise in _EXERCISES]


def get(exercise_id: str) -> Exercise:
    """The exercise with this id, e.g. get("strings.page_views")."""
    try:
        return _BY_ID[exercise_id]
    except KeyError:
        close = difflib.get_close_matches(exercise_id, _BY_ID, n=1)
        suggestion = f" Did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"There is no exercise {exercise_id!r}.{suggestion} exercises.ids() lists them all.") from None
