"""The course doctor: Python, packages, redis-server and the chosen backend, with the next step."""

from __future__ import annotations

import importlib.metadata
import platform
import sys

from ._connection import backend
from ._programs import how_to_start_a_server, program_version, server_program, version_numbers
from ._progress import progress_file, read_events
from ._safety import CourseEnvironmentError

PACKAGES = ("redis", "fakeredis", "lupa", "jupyterlab", "ipykernel", "ipywidgets", "pandas", "matplotlib")
# In a browser tab the kernel is JupyterLite's own, and lupa (Lua) has no WebAssembly build.
REDIS_PY_DESCRIBED = (8, 0)  # pyproject.toml's floor: what the lessons say about timeouts and retries holds from here
BROWSER_PACKAGES = ("redis", "fakeredis", "ipywidgets", "pandas", "matplotlib")
IN_BROWSER = sys.platform == "emscripten"


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _redis_server_line() -> str:
    if IN_BROWSER:
        return "  redis-server not available in a browser tab (the course uses the built-in fakeredis here)"
    server = server_program()
    if not server:
        return (
            "  redis-server not installed (optional: the course uses fakeredis without it; "
            f"to get one, {how_to_start_a_server()})"
        )
    return f"  redis-server {program_version(server) or '?'} ({server})"


def diagnose() -> tuple[list[str], bool]:
    """The doctor's report lines, and whether the course can run."""
    lines = ["Redis with Python: course doctor", ""]
    ok = sys.version_info >= (3, 10)
    lines.append(f"  Python       {platform.python_version()} ({sys.executable})")
    if not ok:
        lines.append("  !! The course needs Python 3.10 or newer.")
    packages = BROWSER_PACKAGES if IN_BROWSER else PACKAGES
    missing = [package for package in packages if _version(package) is None]
    lines += [f"  {package:<12} {_version(package) or 'MISSING'}" for package in packages]
    client = _version("redis") or ""
    if client and version_numbers(client) < REDIS_PY_DESCRIBED:
        lines.append(
            f"  !! redis-py {client} is older than 8.0, the version the lessons describe (timeouts, retries, "
            "protocol): upgrade it with `pip install -U redis`."
        )
    lines.append(_redis_server_line())
    try:
        lines += ["", f"  Backend: {backend().banner()}"]
        backend_ok = True
    except CourseEnvironmentError as error:
        lines += ["", f"  Backend problem: {error}"]
        backend_ok = False
    lines.append(f"  Progress: {progress_file()} ({len(read_events())} events)")
    if missing and IN_BROWSER:
        lines += [
            "",
            f"Missing: {', '.join(missing)}. Reload the page; if it stays missing, the site needs rebuilding.",
        ]
    elif missing:
        lines += [
            "",
            f"Missing: {', '.join(missing)}. Next step: `make install` (or `python tasks.py install`), then run this "
            "again.",
        ]
    elif backend_ok and ok and IN_BROWSER:
        lines += ["", "All set. Next step: open the next notebook in the file browser on the left."]
    elif backend_ok and ok:
        lines += ["", "All set. Next step: `make lab` (or `python tasks.py lab`) opens notebooks/00-welcome.ipynb."]
    else:
        lines += ["", "Next step: fix the backend problem above, then run `python tasks.py doctor` again."]
    return lines, ok and backend_ok and not missing


def doctor() -> None:
    """Print the doctor's report (the same as `python -m course_helpers doctor`)."""
    print("\n".join(diagnose()[0]))
