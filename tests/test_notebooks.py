"""Every notebook runs top to bottom on both backends: as shipped (checks "not attempted") and solved (all pass)."""

from __future__ import annotations

import json
import os
import re

import nbformat
import pytest

from course_helpers._cells import load_capture

from notebook_runner import LESSONS, check_statuses, execute, exercises_of

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]
NAMES = [path.stem for path in LESSONS]


@pytest.fixture
def checks_on_same_backend(course_backend, monkeypatch):
    """Checks inside the notebook run on the same kind of Redis as the lesson code."""
    monkeypatch.setenv("COURSE_CHECK_BACKEND", course_backend)
    return course_backend


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_runs_as_shipped_with_every_exercise_not_attempted(path, checks_on_same_backend):
    execute(path)
    statuses = check_statuses()
    for exercise in exercises_of(path):
        assert statuses[exercise.id], f"{path.name} never checks {exercise.id}"
        assert set(statuses[exercise.id]) == {"not_attempted"}, (exercise.id, statuses[exercise.id])


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_runs_with_solutions_filled_in_and_every_check_passes(path, checks_on_same_backend):
    notebook = execute(path, solved=True)
    statuses = check_statuses()
    for exercise in exercises_of(path):
        assert statuses[exercise.id][-1:] == ["pass"], (exercise.id, statuses[exercise.id])
    html = json.dumps([output for cell in notebook.cells for output in cell.get("outputs", [])])
    assert "Traceback" not in html


@pytest.mark.real
@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_runs_as_shipped_on_redis_6_2(path, redis_6_2, monkeypatch):
    """The oldest server the course supports: cells that need Redis 7 show what they print there instead."""
    monkeypatch.setenv("REDIS_URL", redis_6_2.url.rsplit("/", 1)[0])
    notebook = execute(path)
    outputs = json.dumps([output for cell in notebook.cells for output in cell.get("outputs", [])])
    assert "Traceback" not in outputs  # a magic cell's nested error would print one
    assert "Using real Redis 6.2" in outputs or path.stem != "00-welcome"


# Lessons whose cells build clients of their own, which must log in as the course's client does.
OWN_CLIENTS = [
    path for path in LESSONS if re.search(r"(Redis|Connection|ConnectionPool)\(host=|from_url\(", path.read_text())
]


@pytest.mark.real
@pytest.mark.parametrize("path", OWN_CLIENTS, ids=[path.stem for path in OWN_CLIENTS])
def test_runs_as_shipped_on_a_server_that_asks_for_a_password(path, password_server, monkeypatch):
    monkeypatch.setenv("REDIS_URL", password_server)
    notebook = execute(path)
    outputs = json.dumps([output for cell in notebook.cells for output in cell.get("outputs", [])])
    assert "Traceback" not in outputs and "Set-up problem" not in outputs


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_lesson_shape(path):
    notebook = nbformat.read(path, as_version=4)
    markdown = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    assert "you will be able to" in markdown[0].lower(), "objectives first"
    assert "key points" in markdown[-1].lower(), "key points last"
    assert any("predict" in text.lower() for text in markdown), "a predict-then-run prompt"
    for text in markdown:  # a code block cut in two renders as stray headings and text
        assert sum(line.lstrip().startswith("```") for line in text.splitlines()) % 2 == 0, text[:120]
    exercise_cells = [c for c in notebook.cells if "exercise" in c.metadata.get("tags", [])]
    assert len(exercise_cells) == len(exercises_of(path)) >= 1


MAGIC = re.compile(r"^%%(under_the_hood|needs_redis_server|needs_redis|not_in_browser)\s+(.*)$", re.MULTILINE)


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_every_cell_that_cannot_always_run_has_a_captured_real_run(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        for _magic, arguments in MAGIC.findall(cell.source if cell.cell_type == "code" else ""):
            name = arguments.split()[-1]
            capture = load_capture(name)
            assert capture is not None and capture.output.strip(), (
                f"{path.name}: no capture for {name}: run scripts/capture_cells.py"
            )
            assert capture.server.startswith("Redis "), f"{name} was captured on {capture.server}, not a real server"


def test_instructor_dashboard_runs_its_demo_class(course_backend, tmp_path):
    from notebook_runner import NOTEBOOK_DIR

    notebook = execute(NOTEBOOK_DIR / "instructor" / "dashboard.ipynb")
    text = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    assert "Demo class ready: 4 simulated students" in text and "Demo class removed." in text
    assert "redis://:" not in text  # no student URL, and so no password, in any output


def test_running_notebooks_leaves_no_descriptors_open(tmp_path):
    # A test worker runs a hundred notebooks: a few descriptors left by each ran one out of select()'s range once.
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("counts open descriptors through /proc")
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), path)
    execute(path)  # the first run creates what is shared by every later one
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        execute(path)
    assert len(os.listdir("/proc/self/fd")) == before
