"""Refresh what %%under_the_hood, %%needs_redis and %%not_in_browser cells show where they cannot run.

Runs the given notebooks (default: every lesson) on a private, real redis-server with COURSE_CAPTURE=1, so that
each such cell stores its output in course_helpers/captures/<topic>.json, labelled with the server's version.
Needs the redis-server program. Usage: python scripts/capture_cells.py [notebooks/NN-name.ipynb ...]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from course_helpers import PrivateRedis  # noqa: E402

from notebook_runner import LESSONS, execute  # noqa: E402 - the tests' runner, found through the path above


def main(argv: list[str]) -> int:
    """Run the notebooks with captures on; returns the exit code."""
    paths = [Path(arg).resolve() for arg in argv] or LESSONS
    server = PrivateRedis().start()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            os.environ.update(
                REDIS_URL=server.url.rsplit("/", 1)[0],
                COURSE_CAPTURE="1",
                COURSE_CHECK_BACKEND="fake",
                COURSE_PROGRESS_FILE=str(Path(scratch) / "progress.jsonl"),
            )
            for path in paths:
                print(f"capturing {path.name}", flush=True)
                execute(path, solved=True)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
