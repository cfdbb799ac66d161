"""The course in a browser tab: its engine under real Pyodide in Node, and the JupyterLite site in Chromium, offline.

Both need Node.js and fetch npm's `pyodide` into build/node themselves. The site test also needs Debian's
chromium and playwright (`pip install -e '.[browser]'`; never `playwright install`): it is skipped without them,
except in CI (CI=true) or with COURSE_REQUIRE_BROWSER=1, where their absence fails it.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import http.server
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_browser.notebook import output_text

from course_helpers import exercises
from course_helpers._browser import LUA_COMMANDS, LUA_IN_ANSWER, LUA_UNAVAILABLE
from course_helpers._wire import Recorder

ROOT = Path(__file__).resolve().parent.parent
LITE_TESTS = Path(__file__).resolve().parent / "lite"
SCREENSHOTS = ROOT / "build" / "lite-screenshots"
REQUIRED = os.environ.get("CI") == "true" or os.environ.get("COURSE_REQUIRE_BROWSER") == "1"
EXERCISES = exercises.all()
NEEDS_LUA = "transactions.compare_and_set"  # every right answer is a Lua script
# Known differences a checker has not learned yet: (exercise, mutant) -> why. Strict xfails, so that the fix shows.
BROWSER_DIFFERENCES: dict[tuple[str, str], str] = {}

pytestmark = pytest.mark.slow


def _build_lite() -> Any:
    spec = importlib.util.spec_from_file_location("build_lite", ROOT / "scripts" / "build_lite.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_lite"] = module
    spec.loader.exec_module(module)
    return module


def _missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason} (required here: CI=true or COURSE_REQUIRE_BROWSER=1).")
    pytest.skip(reason)


# -- the engine under Pyodide in Node -------------------------------------------------------------------------
def _run_engine() -> dict[str, Any]:
    build_lite = _build_lite()
    wheels = build_lite.engine_wheels()  # installs npm's pyodide into build/node when missing
    command = ["node", str(LITE_TESTS / "engine.mjs"), str(build_lite.ensure_pyodide())]
    command += [str(LITE_TESTS / "engine_checks.py"), *map(str, wheels)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=400)
    lines = [line for line in done.stdout.splitlines() if line.startswith("ENGINE-REPORT ")]
    assert done.returncode == 0 and lines, f"the engine run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    report: dict[str, Any] = json.loads(lines[-1].removeprefix("ENGINE-REPORT "))
    return report


@pytest.fixture(scope="session")
def engine() -> dict[str, Any]:
    """One run of tests/lite/engine_checks.py under Pyodide in Node: every exercise, judged as in a browser tab.

    Parallel test workers (pytest-xdist) of one run share it through a file, rather than each running Node.
    """
    if shutil.which("node") is None or shutil.which("npm") is None:
        _missing("Node.js (node and npm) is not installed")
    import filelock

    shared = ROOT / "build" / "lite-cache" / "engine-reports"
    shared.mkdir(parents=True, exist_ok=True)
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
    path = shared / f"{run_id}.json"
    with filelock.FileLock(str(shared / ".lock"), timeout=900):
        if path.exists():
            report: dict[str, Any] = json.loads(path.read_text())
            return report
        for old in shared.glob("*.json"):  # reports of earlier runs: never reused
            old.unlink()
        report = _run_engine()
        path.write_text(json.dumps(report))
    return report


def test_the_engine_runs_as_in_a_browser_tab(engine):
    harness = engine["harness"]
    assert harness["platform"] == "emscripten" and harness["python"].startswith("3.")
    assert harness["strategy"] == "inline"
    assert harness["fcntl_is_empty"], "fcntl must be the empty module JupyterLite's kernel makes"
    assert harness["listen_errno"] == 138, "a listening socket must fail as in a browser"


def test_a_lessons_first_cell_works_and_says_where_redis_is(engine):
    cell = engine["first_cell"]
    assert "in your browser, built-in fakeredis" in cell["printed"]
    assert cell["keys_after_clear"] == 1  # only the course's marker is left: clear() worked in the claimed database
    assert cell["db"] == 15
    assert cell["blpop_forever"].startswith("CourseEnvironmentError: This command would wait for ever")


def _sends_lua_on_cpython(exercise: Any, answer: Any) -> bool:
    """Whether answer sends a script (EVAL, FCALL, SCRIPT...) when checked here, on CPython, where Lua runs."""
    sent: list[str] = []
    record = Recorder.record

    def watching(recorder: Recorder, commands: list[tuple[str, ...]]) -> None:
        sent.extend(command[0].upper() for command in commands if command)
        record(recorder, commands)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Recorder, "record", watching)
        patch.setenv("COURSE_SANDBOX", "inline")  # in this process, where the patch is
        exercise.check(answer)
    return bool(LUA_COMMANDS & set(sent))


def test_an_exercise_whose_answers_are_lua_scripts_says_where_to_do_it(engine):
    reference = engine["exercises"][NEEDS_LUA]["reference"]
    assert (reference["status"], reference["message"]) == ("env_problem", LUA_UNAVAILABLE)
    assert "JupyterLab" in LUA_UNAVAILABLE and "Binder" in LUA_UNAVAILABLE and LUA_UNAVAILABLE.count(". ") == 0


@pytest.mark.parametrize("exercise", EXERCISES, ids=[exercise.id for exercise in EXERCISES])
def test_reference_passes_in_the_browser_unless_it_needs_lua(engine, exercise):
    outcome = engine["exercises"][exercise.id]
    assert outcome["blank"] == "not_attempted"
    reference = outcome["reference"]
    if reference["message"] in (LUA_UNAVAILABLE, LUA_IN_ANSWER):
        assert reference["status"] == "env_problem"
        assert _sends_lua_on_cpython(exercise, exercise.reference), "only an answer that runs Lua may say so"
        return
    assert reference["status"] == "pass", reference["message"]


MUTANTS = [
    pytest.param(
        exercise,
        mutant,
        id=f"{exercise.id}-{mutant.answer.__name__}",
        marks=[pytest.mark.xfail(strict=True, reason=reason)]
        if (reason := BROWSER_DIFFERENCES.get((exercise.id, mutant.answer.__name__)))
        else [],
    )
    for exercise in EXERCISES
    for mutant in exercise.mutants
]


@pytest.mark.parametrize(("exercise", "mutant"), MUTANTS)
def test_known_wrong_answer_fails_in_the_browser_as_on_cpython(engine, exercise, mutant):
    outcome = engine["exercises"][exercise.id]["mutants"][mutant.answer.__name__]
    if outcome["message"] == LUA_UNAVAILABLE:  # the whole exercise needs Lua
        assert outcome["status"] == "env_problem"
        assert engine["exercises"][exercise.id]["reference"]["message"] == LUA_UNAVAILABLE
        return
    if outcome["message"] == LUA_IN_ANSWER:  # this answer runs a script
        assert outcome["status"] == "env_problem"
        assert _sends_lua_on_cpython(exercise, mutant.answer), "only an answer that runs Lua may say so"
        return
    assert outcome["status"] == mutant.status, outcome["message"]
    assert mutant.expect in outcome["message"], outcome["message"]


@pytest.mark.parametrize("answer", ["loops_forever", "blocks_forever"])
def test_what_would_hang_a_tab_is_judged_a_timeout_within_fifteen_seconds(engine, answer):
    outcome = engine["bad_answers"][answer]
    assert outcome["status"] == "timeout" and "still running after 10 s" in outcome["message"]
    assert outcome["seconds"] < 15


def test_a_passing_inline_check_is_quick(engine):
    # The target is a 50 ms median on a quiet machine (about 10-15 ms measured in Node); the bound leaves room for
    # a CI machine busy with the rest of the suite, and still catches a guard that slows every check down.
    assert engine["reference_median_seconds"] <= 0.2


# -- the site in Chromium, offline ----------------------------------------------------------------------------
class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 - the base class declares it as a plain dict
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
        ".whl": "application/octet-stream",
    }

    def log_message(self, *_args: Any) -> None:
        pass


@contextlib.contextmanager
def _serve(folder: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_SiteHandler, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built with Pyodide self-hosted (it starts with no network), the app reachable from tests."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        _missing("Node.js (node and npm) is not installed")
    if importlib.util.find_spec("jupyterlite_core") is None:
        _missing("jupyterlite-core is not installed (pip install -e '.[lite]')")
    output = tmp_path_factory.mktemp("lite") / "site"
    started = time.perf_counter()
    figures = _build_lite().build(output, self_host=True)
    figures["total_seconds"] = round(time.perf_counter() - started, 1)
    print(f"site build: {figures}")
    config_path = output / "jupyter-lite.json"
    config = json.loads(config_path.read_text())
    config["jupyter-config-data"]["exposeAppInBrowser"] = True  # lets the test read cells' outputs and kernel state
    config_path.write_text(json.dumps(config))
    return output


def _kernel_settings(site: Path) -> dict[str, Any]:
    config = json.loads((site / "jupyter-lite.json").read_text())["jupyter-config-data"]
    settings: dict[str, Any] = config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    return settings


def test_the_kernel_preloads_only_its_own_packages_and_a_lesson_loads_the_rest(site):
    settings = _kernel_settings(site)
    preloaded = settings["loadPyodideOptions"]["packages"]
    entries = json.loads((site / "static/pyodide/pyodide-lock.json").read_text())["packages"]
    canonical = _build_lite().canonical  # the lock's keys and its depends spell some names differently
    lock = {canonical(name): entry for name, entry in entries.items()}
    started, todo = set(), [canonical(name) for name in preloaded]  # what the kernel's start loads: preloads, depends
    while todo:
        name = todo.pop()
        if name not in started:
            started.add(name)
            todo += [canonical(dep) for dep in lock[name]["depends"]]
    assert {"ipykernel", "ipython", "jedi", "pyodide-kernel"} <= started
    assert not {"course-helpers", "redis", "fakeredis", "pandas", "numpy", "matplotlib"} & started, started
    # A lesson's first cell imports course_helpers: the kernel then loads it and all it needs, from the same lock.
    assert lock["course-helpers"]["imports"] == ["course_helpers"]
    assert {"redis", "fakeredis", "ipywidgets", "pandas", "matplotlib"} <= set(lock["course-helpers"]["depends"])


def test_the_sites_jedi_is_served_without_stubs_of_packages_a_tab_does_not_have(site):
    lock = json.loads((site / "static/pyodide/pyodide-lock.json").read_text())["packages"]
    wheel = site / "static/pyodide" / lock["jedi"]["file_name"]
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        record = [
            line.split(",")[0]
            for line in archive.read(f"{wheel.name.split('-py')[0]}.dist-info/RECORD").decode().splitlines()
        ]
    assert lock["jedi"]["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    third_party = "jedi/third_party/typeshed/third_party/"
    assert not [name for name in names if "django-stubs/" in name], "Django's stubs are gone"
    assert {name.split("/")[5] for name in names if name.startswith(third_party)} == {
        "redis", "typing_extensions.pyi", "mypy_extensions.pyi", "decorator.pyi", "dateutil", "pytz", "six", "filelock"
    }  # fmt: skip
    assert f"{third_party}2and3/redis/client.pyi" in names  # what completing a client's methods draws on
    assert "jedi/third_party/typeshed/stdlib/3/builtins.pyi" in names  # what completing builtins needs
    assert "jedi/api/__init__.py" in names
    assert sorted(record) == sorted(names)


LOADER_CHECK = """
const { loadPyodide } = await import(process.argv[1]);
// The kernel points Pyodide at the loader's folder; the loader knows better (in the site, the same folder).
const pyodide = await loadPyodide({ indexURL: "https://kernel-points-here.invalid/" });
pyodide.FS.writeFile("/home/pyodide/learners_module.py", "ANSWER = 42\\n");
console.log(pyodide.runPython(`
import json, sys, traceback
import learners_module  # a module in the current folder, as a learner might write with %%writefile
try:
    json.loads("{")
except ValueError:
    frames = traceback.format_exc()
json.dumps({"path": sys.path, "answer": learners_module.ANSWER, "json_file": json.__file__, "frames": frames})
`));
"""


def _run_loader(loader: Path) -> dict[str, Any]:
    command = ["node", "--input-type=module", "-e", LOADER_CHECK, loader.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return seen


def _assert_loaded_as_the_site_wants(seen: dict[str, Any]) -> None:
    assert seen["path"][-1] == "" and seen["path"].count("") == 1, seen["path"]
    assert seen["answer"] == 42
    # The standard library came with bytecode (zipimport names the .pyc it read), and its tracebacks still show
    # the file as Python names it and the line of source.
    assert seen["json_file"].endswith("/json/__init__.pyc"), seen["json_file"]
    stdlib = next(path for path in seen["path"] if path.endswith(".zip"))
    assert f'File "{stdlib}/json/decoder.py"' in seen["frames"], seen["frames"]
    assert "obj, end = self.scan_once(s, idx)" in seen["frames"], seen["frames"]


def test_the_sites_loader_reads_the_sites_compiled_stdlib_and_looks_in_the_current_folder_last(site):
    settings = _kernel_settings(site)
    assert settings["pyodideUrl"] == "./static/pyodide/course-pyodide.js"
    loader = site / "static/pyodide/course-pyodide.js"
    assert "PYODIDE_RUNTIME_URL" not in loader.read_text()
    _assert_loaded_as_the_site_wants(_run_loader(loader))


def test_a_loader_whose_runtime_is_elsewhere_takes_pyodide_from_there_and_the_stdlib_from_beside_itself(site, tmp_path):
    # As on the published site, where the runtime comes from Pyodide's CDN: here from npm's copy, whose own
    # python_stdlib.zip has no bytecode, so a .pyc seen proves that the stdlib was the loader's neighbour.
    build_lite = _build_lite()
    runtime = build_lite.ensure_pyodide() / "pyodide.mjs"
    with zipfile.ZipFile(runtime.parent / "python_stdlib.zip") as archive:
        assert not [name for name in archive.namelist() if name.endswith(".pyc")]
    loader = tmp_path / "course-pyodide.js"
    loader.write_text(build_lite.loader_text(runtime.as_uri()))
    shutil.copy(site / "static/pyodide/python_stdlib.zip", tmp_path / "python_stdlib.zip")
    _assert_loaded_as_the_site_wants(_run_loader(loader))


def test_every_module_of_the_sites_stdlib_has_bytecode_beside_it(site):
    with zipfile.ZipFile(site / "static/pyodide/python_stdlib.zip") as archive:
        names = set(archive.namelist())
    sources = {name for name in names if name.endswith(".py")}
    assert len(sources) > 500
    assert not [name for name in sources if name + "c" not in names]


NOTEBOOK = "00-welcome.ipynb"
WRONG_ANSWER = 'def save_greeting(r, name):\n    return f"Hello, {name}!"'
CELLS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return panel.content.widgets.map(cell => ({
    type: cell.model.type,
    source: cell.model.sharedModel.getSource(),
    outputs: cell.model.type === 'code' ? cell.model.outputs.toJSON() : [],
    count: cell.model.type === 'code' ? cell.model.executionCount : null,
  }));
}"""
KERNEL_STATUS_JS = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session && panel.sessionContext.session.kernel;
  return kernel ? kernel.status : 'none';
}"""


def _wait_for_idle(page: Any, seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if page.evaluate(KERNEL_STATUS_JS) == "idle":
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"the kernel was not idle after {seconds} s (status {page.evaluate(KERNEL_STATUS_JS)})")


def _run_cell(page: Any, index: int) -> dict[str, Any]:
    """Select cell index with the mouse, run it with Shift+Enter, wait until it finished; the cell afterwards."""
    before = page.evaluate(CELLS_JS)[index]["count"]
    page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-InputPrompt").click()
    page.keyboard.press("Shift+Enter")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        cell = page.evaluate(CELLS_JS)[index]
        if cell["count"] not in (None, before) and page.evaluate(KERNEL_STATUS_JS) == "idle":
            return dict(cell)
        time.sleep(0.1)
    raise AssertionError(f"cell {index} did not finish within 60 s")


def _text(cell: dict[str, Any]) -> str:
    """A cell's outputs as text, errors without their traceback (the assertions read what the page says)."""
    return output_text(cell, traceback=False)


def _errors(cell: dict[str, Any]) -> list[str]:
    return [f"{o['ename']}: {o['evalue']}" for o in cell["outputs"] if o.get("output_type") == "error"]


def _screenshot(page: Any, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SCREENSHOTS / path.name)


def test_the_site_works_offline_in_chromium(site, tmp_path, playwright_session):
    chromium = shutil.which("chromium")
    if chromium is None:
        _missing("Debian's chromium is not installed (apt-get install -y chromium)")
    if importlib.util.find_spec("playwright") is None:
        _missing("playwright is not installed (pip install -e '.[browser]')")
    notebook = json.loads((ROOT / "notebooks" / NOTEBOOK).read_text())
    code_cells = [i for i, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "code"]
    exercise_cell = next(
        i for i in code_cells if "exercise" in notebook["cells"][i].get("metadata", {}).get("tags", [])
    )
    check_cell = next(i for i in code_cells if i > exercise_cell)
    quiz_cell = next(i for i in code_cells if "ch.quiz(" in "".join(notebook["cells"][i]["source"]))
    outside: list[str] = []
    drive: list[str] = []  # requests to the browser's file drive (each costs a round trip through the page)
    workers: list[float] = []
    with _serve(site) as base, tempfile.TemporaryDirectory() as profile:
        browser = playwright_session.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            viewport={"width": 1280, "height": 900},
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                # Offline: no host name resolves but loopback's, so a CDN request fails at once.
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            ],
        )
        try:
            page = browser.new_page()
            page.on("request", lambda request: None if request.url.startswith(base) else outside.append(request.url))
            page.on("request", lambda request: drive.append(request.url) if "/api/drive" in request.url else None)
            page.on("worker", lambda _worker: workers.append(time.monotonic()))  # the kernel's is the first
            opened = time.monotonic()
            page.goto(f"{base}/lab/index.html?path={NOTEBOOK}")
            # The two halves of the wait: the page (JupyterLab's code), then the kernel (Pyodide and packages).
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=120000)
            figures = {"app_ready_seconds": round(time.monotonic() - opened, 1)}
            _wait_for_idle(page, 120)
            figures["kernel_ready_seconds"] = round(time.monotonic() - opened, 1)
            figures["kernel_started_seconds"] = round(workers[0] - opened, 1) if workers else None
            figures["drive_requests_at_start"] = len(drive)
            _screenshot(page, tmp_path, "1-kernel-ready")

            ran: dict[int, dict[str, Any]] = {}
            for index in code_cells:  # every cell, as a learner going through the notebook would
                if index == exercise_cell:  # type a wrong answer where the learner would
                    page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-InputPrompt").click()
                    page.keyboard.press("Enter")  # edit mode
                    page.keyboard.press("Control+A")
                    page.keyboard.insert_text(WRONG_ANSWER)
                    page.keyboard.press("Escape")
                started = time.monotonic()
                ran[index] = _run_cell(page, index)
                figures[f"cell_{index}_seconds"] = round(time.monotonic() - started, 2)
                figures.setdefault("first_cell_seconds", figures[f"cell_{index}_seconds"])  # loads the course
                if index == code_cells[0]:
                    _screenshot(page, tmp_path, "2-first-cell")
                elif index == check_cell:
                    _screenshot(page, tmp_path, "3-wrong-answer-feedback")
            page.locator(".jp-Notebook .jp-Cell").nth(quiz_cell).scroll_into_view_if_needed()
            quiz_widgets = page.locator(".jp-Notebook .jp-Cell").nth(quiz_cell).locator(".widget-radio-box input")
            quiz_widgets.first.wait_for(timeout=10000)
            quiz_options = quiz_widgets.count()
            _screenshot(page, tmp_path, "4-quiz-widget")
            # Progress is a file in the browser's own storage (the file browser's drive): it survives a reload.
            reloaded = time.monotonic()
            page.reload()
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.serviceManager.contents")
            _wait_for_idle(page, 120)  # a second visit: the browser has Pyodide and the wheels in its cache
            figures["kernel_ready_again_seconds"] = round(time.monotonic() - reloaded, 1)
            stored = page.evaluate(
                "async () => (await window.jupyterapp.serviceManager.contents.get("
                "'redis-course/progress.jsonl', {content: true}))"
            )
        finally:
            browser.close()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "figures.json").write_text(json.dumps({**figures, "outside_requests": len(outside)}, indent=1))

    for index, cell in ran.items():
        print(f"--- cell {index}: {cell['source'][:70]!r}\n{_text(cell)[:600]}")
    first = ran[code_cells[0]]
    assert "in your browser, built-in fakeredis" in _text(first) and not _errors(first), _text(first)
    for index, cell in ran.items():
        for error in _errors(cell):
            # Only Pyodide's full distribution has pandas and matplotlib, and it is out of reach here: a cell that
            # needs them fails alone, and every later cell still runs.
            assert "ModuleNotFoundError" in error.split(":")[0] and any(
                name in error for name in ("pandas", "matplotlib", "numpy")
            ), f"cell {index} ({cell['source'][:60]!r}) failed: {error}"
    assert ran[exercise_cell]["source"] == WRONG_ANSWER
    quiz = ran[quiz_cell]["outputs"]
    assert any("application/vnd.jupyter.widget-view+json" in output.get("data", {}) for output in quiz), quiz
    assert quiz_options >= 2, "the quiz widget shows its options"
    feedback = _text(ran[check_cell])
    assert "Not yet" in feedback and "Nothing was written" in feedback, feedback
    progress = base64.b64decode(stored["content"]).decode() if stored["format"] == "base64" else stored["content"]
    events = [json.loads(line) for line in progress.splitlines()]
    recorded = [(event["event"], event["exercise"], event.get("status")) for event in events]
    assert recorded == [("check", "welcome.save_greeting", "fail")]
    assert outside, "the page asked for nothing outside the site: the offline check proves nothing"
    assert all("cdn.jsdelivr.net" in url for url in outside), outside
    # Imports looked in the drive first before the site's loader put the current folder last: 103 requests then.
    assert figures["drive_requests_at_start"] < 60, figures
