"""No exercise needs what a later notebook teaches, and no quiz gives its answer away in a notebook.

Which commands a notebook teaches is read from its code cells (every Redis command its examples call);
which commands an exercise needs, from its reference answer. Both are read from the source, by the method
names redis-py gives the commands (r.hset → HSET, pipe.watch → WATCH, r.pipeline() → MULTI and EXEC...).
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import random
import re
import textwrap
import time
from functools import cache

import nbformat
import pytest
import redis

from course_helpers import exercises

from notebook_runner import LESSONS

# redis-py methods whose command is not simply their name in upper case (underscores read as spaces).
METHOD_COMMANDS = {
    "delete": {"DEL"},
    "execute": {"EXEC"},
    "scan_iter": {"SCAN"},
    "hscan_iter": {"HSCAN"},
    "sscan_iter": {"SSCAN"},
    "zscan_iter": {"ZSCAN"},
    "register_script": {"EVALSHA"},
    "transaction": {"WATCH", "MULTI", "EXEC"},
    "lock": {"SET"},
    "run_in_thread": {"SUBSCRIBE"},
}


# Names a lesson gives its Redis clients, pipelines and subscriptions.
REDIS_OBJECT = re.compile(r"^(r\w*|pipe\w*|p|tx|client\w*|conn\w*|pubsub|ps|sub\w*|admin|other\w*|redis\w*|hub)$")


@cache
def redis_methods() -> frozenset[str]:
    """Every public method of redis-py's client, pipeline and pub/sub objects."""
    kinds = (redis.Redis, redis.client.Pipeline, redis.client.PubSub)
    return frozenset(name for kind in kinds for name in dir(kind) if not name.startswith("_"))


@cache
def python_methods() -> frozenset[str]:
    """Method and function names that Python's own types and common modules share with redis-py (d.get, time.time)."""
    owners = (dict, list, set, str, bytes, int, float, tuple, json, os, time, random)
    return frozenset(name for owner in owners for name in dir(owner))


def _receiver(node: ast.expr) -> str:
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.value if not isinstance(node, ast.Call) else node.func
    return node.id if isinstance(node, ast.Name) else ""


def commands_in(source: str) -> set[str]:
    """The Redis commands a piece of Python source calls through redis-py."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse(textwrap.dedent("\n".join(lines)))
    except SyntaxError:
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        if method not in redis_methods():
            continue
        if method in python_methods() and not REDIS_OBJECT.match(_receiver(node.func.value)):
            continue  # a dict's .get, time.time(), a list's .append: not Redis
        if method == "pipeline":
            transactional = not any(
                keyword.arg == "transaction" and isinstance(keyword.value, ast.Constant) and not keyword.value.value
                for keyword in node.keywords
            )
            found |= {"MULTI", "EXEC"} if transactional else set()
        elif method in METHOD_COMMANDS:
            found |= METHOD_COMMANDS[method]
        else:
            found.add(method.replace("_", " ").upper())
    return found


# A real server's internals, shown only as a capture on fakeredis: a look under the hood, not a lesson.
OPTIONAL_CELL = re.compile(r"^%%under_the_hood\b")


def teaching_cells(path) -> list[str]:
    """The code cells every learner reads: not the folded "(optional)" sections nor %%under_the_hood cells
    (exercise cells are blank as shipped). A %%needs_redis cell teaches even where it shows its capture."""
    notebook = nbformat.read(path, as_version=4)
    cells, optional_level = [], 0
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and (heading := re.match(r"(#+) ", cell.source)):
            level = len(heading.group(1))
            if optional_level and level <= optional_level:
                optional_level = 0
            if "(optional)" in cell.source.splitlines()[0]:
                optional_level = level
        elif cell.cell_type == "code" and not optional_level and not OPTIONAL_CELL.match(cell.source):
            cells.append(cell.source)
    return cells


def notebook_commands(path) -> set[str]:
    """The commands a notebook teaches: those its cells for every learner use."""
    return set().union(*(commands_in(source) for source in teaching_cells(path)))


@cache
def first_taught() -> dict[str, str]:
    """Command → the first notebook whose examples use it."""
    first: dict[str, str] = {}
    for path in LESSONS:
        for command in notebook_commands(path):
            first.setdefault(command, path.stem)
    return first


def test_the_command_reader_sees_what_redis_py_sends():
    source = "r.hset('u', mapping={})\nwith r.pipeline() as p:\n    p.watch('k')\n    p.execute()\nr.delete('x')"
    assert commands_in(source) == {"HSET", "MULTI", "EXEC", "WATCH", "DEL"}
    assert commands_in("p = r.pipeline(transaction=False)\np.config_get('x')") == {"CONFIG GET"}


@pytest.mark.parametrize("exercise", exercises.all(), ids=exercises.ids())
def test_a_reference_answer_uses_only_commands_taught_by_its_notebook_or_earlier(exercise):
    taught = first_taught()
    used = commands_in(inspect.getsource(exercise.reference))
    too_early = {
        command: taught.get(command, "no notebook") for command in used if taught.get(command, "~") > exercise.notebook
    }
    assert not too_early, f"{exercise.id} ({exercise.notebook}) needs {too_early}: commands taught later"


HINT_WORD = re.compile(r"\b[A-Z]{3,}(?: [A-Z]{3,})?\b")


@pytest.mark.parametrize("exercise", exercises.all(), ids=exercises.ids())
def test_no_hint_leads_to_a_command_taught_later(exercise):
    taught = first_taught()
    named = {word for hint in exercise.hints for word in HINT_WORD.findall(hint) if word in taught}
    too_early = {command: taught[command] for command in named if taught[command] > exercise.notebook}
    assert not too_early, f"{exercise.id} ({exercise.notebook}): its hints name {too_early}, taught later"


def _notebook_text(path) -> str:
    notebook = nbformat.read(path, as_version=4)
    return "\n".join(cell.source for cell in notebook.cells)


@pytest.mark.parametrize("quiz", exercises.quizzes(), ids=[quiz.id for quiz in exercises.quizzes()])
def test_no_notebook_shows_a_quiz_answer(quiz):
    answer = quiz.options[quiz.answer]
    for path in sorted(LESSONS[0].parent.rglob("*.ipynb")):
        assert answer not in _notebook_text(path), f"{path.name} shows the answer of {quiz.id}: {answer!r}"


def test_every_quiz_is_shown_by_its_own_notebook():
    for quiz in exercises.quizzes():
        path = next(path for path in LESSONS if path.stem == quiz.notebook)
        assert f'ch.quiz("{quiz.id}")' in _notebook_text(path), f"{quiz.notebook} never shows {quiz.id}"
