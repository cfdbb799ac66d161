"""One lesson notebook driven in JupyterLab 4 through playwright, as a learner would: open, Run All, type, run.

Selectors are JupyterLab 4's own: cells are `.jp-Notebook .jp-Cell` in model order (the default windowing mode,
"contentVisibility", keeps every cell in the DOM), outputs `.jp-OutputArea-output` with the MIME type they were
rendered as in `data-mime-type` (errors and stderr render as application/vnd.jupyter.stderr), menus
`.lm-MenuBar-item` and `.lm-Menu-item[data-command=...]`. Waiting is on the kernel's status and each code cell's
executionState (read through the application object, exposed with --LabApp.expose_app_in_browser), never on
fixed sleeps.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import re
import shutil
import textwrap
import time
import types
from pathlib import Path
from typing import Any

STDERR = "application/vnd.jupyter.stderr"
WIDGET = "application/vnd.jupyter.widget-view+json"

PANEL_JS = "window.jupyterapp.shell.currentWidget"

OPENED_JS = """(path) => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.context || panel.context.path !== path || !panel.context.isReady) return false;
  const session = panel.sessionContext.session;
  return !!(session && session.kernel && session.kernel.status === 'idle');
}"""

KERNEL_JS = f"""() => {{
  const panel = {PANEL_JS};
  const session = panel && panel.sessionContext && panel.sessionContext.session;
  return session && session.kernel ? session.kernel.status : 'none';
}}"""

# Everything the assertions need about every cell: the model (source, metadata, outputs, execution) and the view
# (hidden by a collapsed heading, what was rendered, as which MIME type, widgets, radio buttons, buttons).
CELLS_JS = f"""() => {{
  const panel = {PANEL_JS};
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.map((cell, index) => {{
    const model = cell.model;
    const code = model.type === 'code';
    const area = cell.node.querySelector('.jp-Cell-outputArea');  // its own outputs, not an Output widget's
    const nodes = area ? area.querySelectorAll(':scope > .jp-OutputArea-child > .jp-OutputArea-output') : [];
    const outputs = Array.from(nodes).map(node => ({{
      mime: node.dataset.mimeType || '',
      text: node.textContent,
      widgets: node.querySelectorAll('.jupyter-widgets').length,
      radios: node.querySelectorAll('.widget-radio-box input[type=radio]').length,
      buttons: Array.from(node.querySelectorAll('button.jupyter-button')).map(button => button.textContent.trim()),
      height: node.getBoundingClientRect().height,
      overflows: [node, ...node.querySelectorAll('pre, table, .jp-RenderedHTMLCommon > *')].some(
        inner => inner.scrollWidth > inner.clientWidth + 2 && inner.clientWidth > 0),
    }}));
    return {{
      index,
      type: model.type,
      source: model.sharedModel.getSource(),
      tags: model.getMetadata('tags') || [],
      collapsedMetadata: model.getMetadata('jp-MarkdownHeadingCollapsed') === true,
      headingCollapsed: model.type === 'markdown' ? !!cell.headingCollapsed : false,
      hidden: cell.isHidden || getComputedStyle(cell.node).display === 'none',
      count: code ? model.executionCount : null,
      state: code ? model.executionState : null,
      outputs: code ? model.outputs.toJSON() : [],
      rendered: outputs,
      codeOverflows: Array.from(cell.node.querySelectorAll('.jp-InputArea .cm-scroller')).some(
        node => node.scrollWidth > node.clientWidth + 2 && node.clientWidth > 0),
      hiddenButton: (cell.node.querySelector('.jp-showHiddenCellsButton') || {{textContent: ''}}).textContent.trim(),
    }};
  }});
  return {{kernel: kernel ? kernel.status : 'none', cells, dialogs: Array.from(
    document.querySelectorAll('.jp-Dialog')).map(node => node.textContent.trim().slice(0, 300))}};
}}"""

SCROLLER_JS = f"""() => {{
  const panel = {PANEL_JS};
  const candidates = [panel.content.node, ...panel.content.node.querySelectorAll('.jp-WindowedPanel-outer')];
  return candidates.find(node => node.scrollHeight > node.clientHeight + 1) || panel.content.node;
}}"""


class Notebook:
    """A notebook open in a page of a running JupyterLab."""

    def __init__(self, page: Any, name: str, screenshots: Path, copies: Path) -> None:
        self.page = page
        self.name = name
        self.screenshots = screenshots
        self.copies = copies
        self.figures: dict[str, Any] = {}

    # -- state --------------------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return dict(self.page.evaluate(CELLS_JS))

    def kernel_status(self) -> str:
        return str(self.page.evaluate(KERNEL_JS))

    def cell(self, index: int) -> Any:
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    # -- actions ------------------------------------------------------------------------------------------------
    def open(self, url: str, seconds: float = 120) -> None:
        """Load JupyterLab at the notebook and wait until its kernel is idle."""
        started = time.monotonic()
        self.page.goto(url, timeout=seconds * 1000)
        self.page.wait_for_function(OPENED_JS, arg=self.name, timeout=seconds * 1000, polling=200)
        self.figures["open_seconds"] = round(time.monotonic() - started, 1)
        # For the report: a notebook that opens with unsaved changes asks "Save your work?" when the learner closes
        # it untouched (JupyterLab 4 adds cell ids to an nbformat 4.4 file as it loads it).
        self.figures["unsaved_changes_at_open"] = self.page.evaluate(f"() => {PANEL_JS}.context.model.dirty")

    def run_all(self, seconds: float = 240) -> dict[str, Any]:
        """Run → Run All Cells from the menu bar; wait until every code cell is idle and so is the kernel."""
        started = time.monotonic()
        self.page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        self.page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
        state = self._wait_until_settled(lambda cells: cells[0]["count"] is not None, seconds, "Run All")
        self.figures["run_all_seconds"] = round(time.monotonic() - started, 1)
        return state

    def _wait_until_settled(self, started_check: Any, seconds: float, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        state: dict[str, Any] = {}
        while time.monotonic() < deadline:
            state = self.state()
            code = [cell for cell in state["cells"] if cell["type"] == "code"]
            if state["kernel"] == "idle" and all(cell["state"] != "running" for cell in code) and started_check(code):
                return state
            if state["dialogs"]:
                raise AssertionError(f"{self.name}: a dialog opened during {what}: {state['dialogs']}")
            if state["kernel"] in {"dead", "restarting", "autorestarting"}:
                raise AssertionError(f"{self.name}: the kernel is {state['kernel']} during {what}")
            time.sleep(0.2)
        running = [cell["index"] for cell in state.get("cells", []) if cell["state"] == "running"]
        raise AssertionError(
            f"{self.name}: {what} had not finished after {seconds:g} s (kernel {state.get('kernel')}, cells still "
            f"running or queued: {running[:10]})"
        )

    def type_into(self, index: int, text: str) -> None:
        """Replace the source of cell index by typing into its editor (the text inserted as one input, no
        auto-indent or auto-closed brackets), then leave edit mode."""
        editor = self.cell(index).locator(".jp-InputArea-editor .cm-content")
        editor.scroll_into_view_if_needed()
        editor.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(text)
        self.page.keyboard.press("Escape")

    def run_cell(self, index: int, seconds: float = 60) -> dict[str, Any]:
        """Select cell index with the mouse on its prompt, Shift+Enter, wait until it ran and the kernel is idle."""
        before = self.state()["cells"][index]["count"]
        self.cell(index).locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Shift+Enter")

        def ran(code: list[dict[str, Any]]) -> bool:
            cell = next(cell for cell in code if cell["index"] == index)
            return cell["count"] not in (None, before)

        state = self._wait_until_settled(ran, seconds, f"running cell {index}")
        return dict(state["cells"][index])

    # -- screenshots --------------------------------------------------------------------------------------------
    def screenshot(self, name: str) -> Path:
        path = self.screenshots / f"{name}.png"
        self.page.mouse.move(640, 895)  # on the status bar: no hover effect (a heading's ¶, a tooltip) in the picture
        self.page.screenshot(path=str(path))
        self.copies.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, self.copies / path.name)
        return path

    def screenshot_pages(self, prefix: str, most: int = 40) -> list[Path]:
        """The whole notebook, one viewport at a time, top to bottom, as a learner scrolling through it sees it."""
        scroller = self.page.evaluate_handle(SCROLLER_JS)
        height, page_height = scroller.evaluate("node => [node.scrollHeight, node.clientHeight]")
        paths = []
        step = max(200, page_height - 60)  # a little overlap, so that no line is cut in both pictures
        for number, top in enumerate(range(0, max(1, height - 60), step), 1):
            if number > most:
                break
            scroller.evaluate("(node, top) => { node.scrollTop = top; }", top)
            paths.append(self.screenshot(f"{prefix}-{number:02d}"))
        scroller.evaluate("node => { node.scrollTop = 0; }")
        return paths

    def scroll_to(self, index: int) -> None:
        """Scroll so that cell index is at the top of the notebook's viewport."""
        self.cell(index).evaluate("node => node.scrollIntoView({block: 'start'})")


# -- what the page should show ---------------------------------------------------------------------------------
def output_text(cell: dict[str, Any], traceback: bool = True) -> str:
    """Every output of a cell's model as text: streams, text/plain, text/html, errors (with their traceback)."""
    parts = []
    for output in cell["outputs"]:
        if "text" in output:
            parts.append("".join(output["text"]) if isinstance(output["text"], list) else output["text"])
        for key in ("text/plain", "text/html"):
            value = output.get("data", {}).get(key)
            if value:
                parts.append("".join(value) if isinstance(value, list) else value)
        if output.get("output_type") == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
            if traceback:
                parts.append(re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(output.get("traceback", []))))
    return "\n".join(parts)


WARNING = re.compile(r"\b([A-Z]\w*Warning): ")


def error_outputs(cell: dict[str, Any], explained: str = "") -> tuple[list[str], list[str]]:
    """What a learner would read as an error in this cell (error outputs, stderr, a Traceback anywhere), and the
    warnings on stderr that the lesson explains (their category, e.g. DeprecationWarning, is named in `explained`,
    the notebook's markdown): those are shown on purpose."""
    found, warnings = [], []
    for output in cell["outputs"]:
        if output.get("output_type") == "error":
            found.append(f"{output['ename']}: {output['evalue']}"[:1500])
        elif output.get("output_type") == "stream" and output.get("name") == "stderr":
            text = "".join(output["text"]) if isinstance(output["text"], list) else output["text"]
            categories = set(WARNING.findall(text))
            if categories and "Traceback" not in text and all(category in explained for category in categories):
                warnings.append(text.strip()[:500])
            else:
                found.append(f"stderr: {text.strip()}"[:1500])
    rendered = [output for output in cell["rendered"] if output["mime"] == STDERR]
    if len(rendered) > len(found) + len(warnings):
        found.append(f"an error output area on the page: {rendered[-1]['text'][:1500]}")
    if not found and any("Traceback" in output["text"] for output in cell["rendered"]):
        found.append("'Traceback' shown: " + next(o["text"] for o in cell["rendered"] if "Traceback" in o["text"]))
    return found, warnings


def quiz_ids(source: str) -> list[str]:
    return re.findall(r"""\bquiz\(\s*["']([^"']+)["']""", source)


def normalized(text: str) -> str:
    return " ".join(text.split())


# -- a known wrong answer, as a learner would type it ----------------------------------------------------------
def _names_read(source: str) -> set[str]:
    """Every plain name a piece of source reads (default values and decorators included)."""
    return {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}


def _assignment_source(module: types.ModuleType, name: str) -> tuple[str, set[str]]:
    """The top-level statement of module that assigns name, and the names its value reads."""
    source = inspect.getsource(module)
    for statement in ast.parse(source).body:
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.AnnAssign):
            targets = [statement.target]
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            read = {node.id for node in ast.walk(statement) if isinstance(node, ast.Name)} - {name}
            return str(ast.get_source_segment(source, statement)), read
    raise LookupError(f"no top-level assignment of {name} in {module.__name__}")


def wrong_answer_source(exercise: Any, mutant: Any) -> str:
    """The mutant's source with its function named as the exercise cell's, preceded by whatever module-level
    helper, constant or import it needs (a learner's cell must run on its own, in the notebook's namespace)."""
    answer = mutant.answer
    module = inspect.getmodule(answer)
    assert module is not None and inspect.isfunction(answer), f"{exercise.id}: the mutant is not a plain function"
    builtin_names = set(dir(builtins))
    imports: list[str] = []
    definitions: list[str] = []
    seen: set[str] = {answer.__name__}

    def need(names: set[str]) -> None:
        for name in sorted(names):
            if name in seen or name not in vars(module) or name in builtin_names:
                continue
            seen.add(name)
            value = vars(module)[name]
            if isinstance(value, types.ModuleType):
                imports.append(f"import {value.__name__}" + ("" if value.__name__ == name else f" as {name}"))
            elif getattr(value, "__module__", None) == module.__name__ and (
                inspect.isfunction(value) or inspect.isclass(value)
            ):
                definition = textwrap.dedent(inspect.getsource(value)).strip()
                need(_names_read(definition))
                definitions.append(definition)
            elif hasattr(value, "__module__") and hasattr(value, "__qualname__"):  # imported: import it too
                alias = "" if value.__qualname__ == name else f" as {name}"
                imports.append(f"from {value.__module__} import {value.__qualname__}{alias}")
            else:
                statement, read = _assignment_source(module, name)
                need(read)
                definitions.append(statement)

    source = textwrap.dedent(inspect.getsource(answer)).strip()
    need(_names_read(source))
    source = source.replace(f"def {answer.__name__}(", f"def {exercise.function_name}(", 1)
    parts = ["\n".join(imports)] if imports else []
    return "\n\n\n".join([*parts, *definitions, source]) + "\n"
