"""Every accepted alternative answer passes its exercise's check, on fakeredis and on a real server."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import alternatives
import pytest

from course_helpers import exercises


def _modules():
    folder = Path(alternatives.__file__).parent
    return [importlib.import_module(f"alternatives.{info.name}") for info in pkgutil.iter_modules([str(folder)])]


MODULES = _modules()
CASES = [
    pytest.param(
        exercise_id, answer, getattr(module, "UNSUPPORTED", {}).get(answer, {}), id=f"{exercise_id}-{answer.__name__}"
    )
    for module in MODULES
    for exercise_id, answer in module.ALTERNATIVES
]


@pytest.mark.parametrize(("exercise_id", "answer", "unsupported"), CASES)
def test_an_accepted_alternative_passes(exercise_id, answer, unsupported, check_backend):
    if check_backend in unsupported:
        pytest.skip(unsupported[check_backend])
    result = exercises.get(exercise_id).check(answer)
    assert result.status == "pass", str(result)


def test_every_exercise_has_an_accepted_alternative():
    covered = {exercise_id for module in MODULES for exercise_id, _ in module.ALTERNATIVES}
    assert set(exercises.ids()) - covered == set()
    assert covered <= set(exercises.ids()), "an alternative names an exercise that does not exist"
