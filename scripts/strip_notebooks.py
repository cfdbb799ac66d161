"""Store notebooks without outputs, execution counts or editor metadata (`--check` only reports)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# tags mark exercise cells; jp-MarkdownHeadingCollapsed keeps "Under the hood" sections folded.
KEEP_CELL_METADATA = ("tags", "jp-MarkdownHeadingCollapsed")


def _new_id(cell: dict, index: int, taken: set[str]) -> str:
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    digest = hashlib.sha1(f"{index}\n{source}".encode()).hexdigest()
    length = 8
    while digest[:length] in taken:
        length += 1
    return digest[:length]


def stripped(notebook: dict) -> dict:
    """The notebook as the course stores it.

    nbformat 4.5 with a stable id per cell: JupyterLab gives a cell without one an id as it opens the notebook,
    which marks every lesson as changed before the learner has touched it. An id, once given, is kept.
    """
    taken = {cell["id"] for cell in notebook["cells"] if cell.get("id")}
    for index, cell in enumerate(notebook["cells"]):
        cell["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k in KEEP_CELL_METADATA}
        text = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        cell["source"] = text.splitlines(keepends=True)  # one line per JSON string, as Jupyter writes it
        if not cell.get("id"):
            cell["id"] = _new_id(cell, index, taken)
            taken.add(cell["id"])
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    notebook["metadata"] = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    notebook["nbformat"], notebook["nbformat_minor"] = 4, 5
    return notebook


def render(notebook: dict) -> str:
    """The JSON text the course stores (stable key order, one-space indent, final newline)."""
    return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    """Strip every notebook (or those named) in place, or with --check list those that are not stripped (exit 1)."""
    check = "--check" in argv
    named = [Path(arg).resolve() for arg in argv if arg != "--check"]
    dirty = []
    for path in named or sorted(NOTEBOOKS.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        clean = render(stripped(json.loads(text)))
        if clean != text:
            dirty.append(str(path.relative_to(NOTEBOOKS)))
            if not check:
                path.write_text(clean, encoding="utf-8")
    if check and dirty:
        print("Not stripped (run `make strip`):", ", ".join(dirty))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
