"""Every lesson in JupyterLab in a real browser: started as `make lab` starts it, Run All, then a wrong answer typed.

For each notebook (notebooks/NN-*.ipynb), in headless Chromium (Debian's `chromium`, driven by playwright; never
`playwright install`), on the built-in fakeredis with checks on fakeredis:

- Run → Run All Cells reaches every code cell, and no cell shows an error (no error output, no "Traceback", nothing
  on stderr but a warning whose category the lesson's own text names, e.g. the DeprecationWarning that 03 shows on
  purpose);
- every widget renders: each `ch.quiz(...)` shows its radio buttons and its button, and no widget output is left as
  "Loading widget..." or as a plain-text model repr;
- a folded section (markdown metadata `jp-MarkdownHeadingCollapsed: true`, as each "## Under the hood (optional)"
  has) opens folded, stays folded after Run All, and Run All still ran the cells under it;
- the first exercise's first known wrong answer, typed into its `exercise` cell and run with the check below it,
  shows the check's failure (`course-check course-<status>`) with the text the course promises for that mistake.

Screenshots of each notebook after Run All (the whole notebook, a viewport at a time) and after the wrong answer
are kept in the test's tmp folder and copied to build/lab-screenshots/<notebook>/.

One JupyterLab and one Chromium per xdist worker (session-scoped: JupyterLab stops, with every kernel it started,
at the end of the run); one test per notebook, so `pytest -n 2` spreads them. Each test shuts its notebook's kernel
down and fails if anything the kernel started (a check worker, a private redis-server) outlives it. Marked `notebooks`
too, so CI's other environments (`-m "not notebooks"`) leave it out: `python tasks.py lab` always uses .venv.

Run it alone: `.venv/bin/python -m pytest tests/test_lab_browser.py -n 2` (or `-k 04-lists` for one notebook); each
notebook's timings and layout notes (code wider than the cell, very tall outputs) go to figures.json beside its
screenshots.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest
from filelock import FileLock
from lab_browser.notebook import (
    WIDGET,
    Notebook,
    error_outputs,
    normalized,
    output_text,
    quiz_ids,
    wrong_answer_source,
)
from lab_browser.server import ROOT, LabServer

from course_helpers import exercises

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
SCREENSHOTS = ROOT / "build" / "lab-screenshots"
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
UNRENDERED_WIDGET = ("Loading widget", "Error displaying widget", "Failed to load model", "model not found")

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.notebooks]


def _chromium() -> str:
    """Debian's chromium and playwright, or a failure that says how to install them."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Chromium is missing: install Debian's package with `sudo apt-get install -y chromium`.")
    if importlib.util.find_spec("playwright") is None:
        pytest.fail(
            "playwright is missing: install it with `.venv/bin/uv pip install --python .venv/bin/python "
            "-e '.[test,lite,browser]'` (never `playwright install`: the test drives Debian's chromium)."
        )
    return chromium


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Iterator[LabServer]:
    """`python tasks.py lab` for this worker, on fakeredis; stopped with all its kernels when the run ends."""
    _chromium()  # no JupyterLab without a browser to look at it
    # tasks.py installs the course first when pyproject.toml changed: once, not by two workers at a time.
    with FileLock(str(tmp_path_factory.getbasetemp().parent / "lab-browser-install.lock")):
        subprocess.run([sys.executable, str(ROOT / "tasks.py"), "install"], cwd=ROOT, check=True, timeout=600)
    server = LabServer(tmp_path_factory.mktemp("jupyterlab")).start()
    yield server
    killed = server.stop()
    assert not killed, f"JupyterLab or a kernel was still running after the shutdown and had to be killed: {killed}"


@pytest.fixture(scope="session")
def chromium_context(playwright_session) -> Iterator[Any]:
    """Headless Chromium with a fresh profile, for this worker's whole run."""
    chromium = _chromium()
    root = hasattr(os, "geteuid") and os.geteuid() == 0  # Chromium's sandbox refuses to run as root
    with tempfile.TemporaryDirectory(prefix="lab-browser-profile-") as profile:
        context = playwright_session.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            viewport={"width": 1280, "height": 900},
            args=(["--no-sandbox"] if root else []) + CHROMIUM_ARGS,
        )
        try:
            yield context
        finally:
            context.close()


# -- what the notebook file says the page must show -------------------------------------------------------------
def _source(cell: dict[str, Any]) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else str(cell["source"])


def _heading_level(source: str) -> int:
    match = re.match(r"(#{1,6})\s", source.lstrip())
    return len(match.group(1)) if match else 0


def _folded_sections(cells: list[dict[str, Any]]) -> dict[int, list[int]]:
    """Folded heading cell -> the cells its section holds (up to the next heading of the same or a higher level)."""
    sections = {}
    for index, cell in enumerate(cells):
        level = _heading_level(_source(cell)) if cell["cell_type"] == "markdown" else 0
        if level and cell.get("metadata", {}).get("jp-MarkdownHeadingCollapsed") is True:
            section = []
            for following in range(index + 1, len(cells)):
                other = _heading_level(_source(cells[following])) if cells[following]["cell_type"] == "markdown" else 0
                if other and other <= level:
                    break
                section.append(following)
            sections[index] = section
    return sections


def _first_exercise(cells: list[dict[str, Any]]) -> tuple[int, int, Any] | None:
    """(exercise cell, check cell, Exercise) for the notebook's first code cell tagged "exercise"."""
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code" and "exercise" in cell.get("metadata", {}).get("tags", []):
            shown = re.findall(r"""exercises\.get\(\s*["']([^"']+)["']""", "".join(map(_source, cells[:index])))
            assert shown, f"cell {index} is tagged exercise but no exercises.get(...) comes before it"
            exercise = exercises.get(shown[-1])
            assert f"def {exercise.function_name}(" in _source(cell), (
                f"cell {index} should define {exercise.function_name}, the function {exercise.id} checks"
            )
            check = next(i for i in range(index + 1, len(cells)) if cells[i]["cell_type"] == "code")
            assert ".check(" in _source(cells[check]), f"the code cell after exercise cell {index} is not its check"
            return index, check, exercise
    return None


# -- the test -------------------------------------------------------------------------------------------------
@pytest.mark.timeout(480)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_in_jupyterlab(lab, chromium_context, path, tmp_path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    folded = _folded_sections(cells)
    exercise = _first_exercise(cells)
    copies = SCREENSHOTS / path.stem
    shutil.rmtree(copies, ignore_errors=True)
    problems: list[str] = []
    page = chromium_context.new_page()
    notebook = Notebook(page, path.name, tmp_path, copies)
    try:
        notebook.open(lab.url(f"lab/tree/{path.name}"))
        notebook.screenshot("1-opened")
        problems += _folding(notebook.state(), cells, folded, "when the notebook opens")

        state = notebook.run_all()
        _wait_for_widgets(notebook)
        state = notebook.state()
        problems += _after_run_all(state, cells, notebook.figures)
        problems += _folding(state, cells, folded, "after Run All")
        started = time.monotonic()
        notebook.figures["run_all_screenshots"] = len(notebook.screenshot_pages("2-run-all"))
        notebook.figures["screenshots_seconds"] = round(time.monotonic() - started, 1)

        if exercise is not None:
            started = time.monotonic()
            problems += _wrong_answer(notebook, state, *exercise)
            notebook.figures["wrong_answer_seconds"] = round(time.monotonic() - started, 1)
        else:
            print(f"{path.name}: no exercise cell yet, so no wrong answer typed")
    except Exception:
        notebook.screenshot("9-failure")
        raise
    finally:
        page.close()
        leftovers = lab.shut_down_kernels(path.name)
        problems += [f"still running 15 s after its kernel was shut down (killed): {line}" for line in leftovers]
        print(f"{path.name}: {notebook.figures}; screenshots in {tmp_path} and {copies}")
        copies.mkdir(parents=True, exist_ok=True)
        (copies / "figures.json").write_text(json.dumps(notebook.figures, indent=1))
    assert not problems, f"{path.name} in JupyterLab:\n- " + "\n- ".join(problems)


def _describe(cell: dict[str, Any]) -> str:
    first = cell["source"].strip().splitlines()[0][:70] if cell["source"].strip() else ""
    return f"cell {cell['index']} ({first!r})"


def _after_run_all(state: dict[str, Any], cells: list[dict[str, Any]], figures: dict[str, Any]) -> list[str]:
    problems = [f"a dialog is open: {dialog}" for dialog in state["dialogs"]]
    explained = "\n".join(_source(cell) for cell in cells if cell["cell_type"] == "markdown")
    never_ran: list[dict[str, Any]] = []
    shown = state["cells"]
    if len(shown) != len(cells):
        problems.append(f"the page shows {len(shown)} cells, the file has {len(cells)}")
    for cell in shown:
        if cell["type"] != "code":
            continue
        if cell["count"] is None:
            never_ran.append(cell)
        errors, warnings = error_outputs(cell, explained)
        problems += [f"{_describe(cell)} shows an error: {error}" for error in errors]
        if warnings:  # on stderr on purpose (the lesson says so): kept for the report
            figures.setdefault("explained_warnings", []).extend(f"cell {cell['index']}: {w}" for w in warnings)
        problems += _widgets(cell)
        if cell["codeOverflows"]:  # for the report: code cut off at the right edge, 1280 px wide with the sidebar
            figures.setdefault("code_wider_than_cell", []).append(cell["index"])
        for shown in cell["rendered"]:  # for the report: what a learner must scroll sideways or far down to read
            if shown["overflows"]:
                figures.setdefault("wide_outputs", []).append(cell["index"])
            if shown["height"] > 700:
                figures.setdefault("tall_outputs", []).append((cell["index"], round(shown["height"])))
    if never_ran:
        problems.append(f"Run All stopped before {_describe(never_ran[0])} ({len(never_ran)} code cells never ran)")
    return problems


def _widgets(cell: dict[str, Any]) -> list[str]:
    """Each widget output rendered as a widget; each quiz with its radio buttons and its button."""
    problems = []
    # An output area shows the model's outputs in order, one node each; a widget renderer sets no data-mime-type.
    if len(cell["rendered"]) != len(cell["outputs"]):
        problems.append(
            f"{_describe(cell)} has {len(cell['outputs'])} outputs but the page shows {len(cell['rendered'])}"
        )
    pairs = list(zip(cell["outputs"], cell["rendered"], strict=False))
    rendered = [shown for output, shown in pairs if WIDGET in output.get("data", {})]
    for shown in rendered:
        stuck = [text for text in UNRENDERED_WIDGET if text in shown["text"]]
        if stuck or not shown["widgets"]:
            as_what = shown["mime"] or "no MIME type"
            problems.append(f"{_describe(cell)}: a widget did not render ({as_what}): {shown['text'][:200]!r}")
    for text in (shown["text"] for shown in cell["rendered"] if shown["mime"] == "text/plain"):
        if re.match(r"\s*(VBox|HBox|RadioButtons|Button|HTML|Output|Label|IntSlider)\(", text):
            problems.append(f"{_describe(cell)} shows a widget as its text repr: {text[:200]!r}")
    quizzes = quiz_ids(cell["source"])
    if quizzes:
        options = sum(len(exercises.get_quiz(quiz).options) for quiz in quizzes)
        radios = sum(output["radios"] for output in rendered)
        buttons = [button for output in rendered for button in output["buttons"]]
        if radios != options or buttons.count("Check my answer") != len(quizzes):
            problems.append(
                f"{_describe(cell)}: quiz {quizzes} shows {radios} radio buttons (expected {options}) and buttons "
                f"{buttons} (expected 'Check my answer' x{len(quizzes)})"
            )
    return problems


def _wait_for_widgets(notebook: Notebook, seconds: float = 20) -> None:
    """Widget views render after their output arrives: wait (briefly) until each widget output holds a widget."""
    script = f"""() => window.jupyterapp.shell.currentWidget.content.widgets.every(cell => {{
        if (cell.model.type !== 'code') return true;
        const area = cell.node.querySelector('.jp-Cell-outputArea');
        const nodes = area ? area.querySelectorAll(':scope > .jp-OutputArea-child > .jp-OutputArea-output') : [];
        return cell.model.outputs.toJSON().every((output, index) => !(output.data && output.data['{WIDGET}'])
            || (nodes[index] && nodes[index].querySelector('.jupyter-widgets')));
    }})"""
    with contextlib.suppress(Exception):  # the assertions after this say which widget did not render
        notebook.page.wait_for_function(script, timeout=seconds * 1000, polling=200)


def _folding(state: dict[str, Any], cells: list[dict[str, Any]], folded: dict[int, list[int]], when: str) -> list:
    """Folded sections are folded: their heading visible and marked collapsed, every cell of the section hidden."""
    problems = []
    for index, cell in enumerate(cells):
        under_the_hood = cell["cell_type"] == "markdown" and _source(cell).lstrip().startswith("## Under the hood")
        if under_the_hood and index not in folded:
            problems.append(f"cell {index}, '## Under the hood', lacks metadata jp-MarkdownHeadingCollapsed: true")
    shown = state["cells"]
    for heading, section in folded.items():
        if heading >= len(shown):
            continue
        if not shown[heading]["headingCollapsed"] or shown[heading]["hidden"]:
            problems.append(f"{when}: the folded heading {_describe(shown[heading])} is not shown folded")
        visible = [index for index in section if index < len(shown) and not shown[index]["hidden"]]
        if visible:
            problems.append(f"{when}: cells {visible} under the folded heading {_describe(shown[heading])} are visible")
        if when == "after Run All":
            never = [index for index in section if shown[index]["type"] == "code" and shown[index]["count"] is None]
            if never:
                problems.append(f"Run All skipped cells {never} under the folded heading {_describe(shown[heading])}")
    return problems


def _wrong_answer(notebook: Notebook, state: dict[str, Any], exercise_cell: int, check_cell: int, exercise: Any):
    """Type the first known wrong answer into the exercise cell, run it and its check: the failure shows."""
    problems = []
    if not notebook.cell(check_cell).locator(".course-check.course-not_attempted").count():
        shown = output_text(state["cells"][check_cell])[:300]
        problems.append(f"after Run All, check cell {check_cell} does not show 'not attempted': {shown!r}")
    mutant = exercise.mutants[0]
    answer = wrong_answer_source(exercise, mutant)
    notebook.type_into(exercise_cell, answer)
    typed = notebook.run_cell(exercise_cell)
    if typed["source"].strip() != answer.strip():
        problems.append(f"the exercise cell holds {typed['source']!r} after typing, not the wrong answer {answer!r}")
    errors, _warnings = error_outputs(typed)
    problems += [f"the wrong answer's cell {exercise_cell} shows an error: {error}" for error in errors]
    checked = notebook.run_cell(check_cell)
    result = notebook.cell(check_cell).locator(f".course-check.course-{mutant.status}")
    try:
        result.first.wait_for(state="visible", timeout=10_000)
        shown = normalized(result.first.inner_text())
    except Exception:
        shown = ""
    notebook.scroll_to(exercise_cell)
    notebook.screenshot("3-wrong-answer")
    notebook.figures["check_cell_has_result"] = bool(shown)
    if not shown:
        problems.append(
            f"{exercise.id}: after typing {mutant.answer.__name__}, check cell {check_cell} shows no "
            f"course-check course-{mutant.status}: {output_text(checked)[:500]!r}"
        )
    elif normalized(mutant.expect) not in shown:
        problems.append(f"{exercise.id}: the {mutant.status} shown lacks {mutant.expect!r}: {shown[:500]!r}")
    return problems
