"""The redis-server program on this computer: where it is, which version, and how to get it if it is missing.

COURSE_REDIS_SERVER may name another redis-server binary (for example an older one to test against); the course
starts that one for checks and lessons, never touching a server it did not start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

# The oldest server every lesson runs on; cells that need a newer one say so (%%needs_redis) instead of failing.
MIN_SERVER_VERSION = (6, 2)


def version_numbers(text: str) -> tuple[int, ...]:
    """ "7.0.15" → (7, 0, 15); () when there is no version to read."""
    numbers = []
    for part in text.split("."):
        if not part.isdigit():
            break
        numbers.append(int(part))
    return tuple(numbers)


def too_old(version: str) -> bool:
    """True for a server older than the oldest the course supports (an unknown version is given the benefit)."""
    numbers = version_numbers(version)
    return bool(numbers) and numbers < MIN_SERVER_VERSION


def server_program() -> str | None:
    """The path of the redis-server program the course may start, or None (none installed, or a browser tab)."""
    if sys.platform == "emscripten":
        return None
    return shutil.which(os.environ.get("COURSE_REDIS_SERVER") or "redis-server")


@cache
def program_version(path: str) -> str:
    """The version a redis-server binary reports ("7.0.15"), or "" when it does not answer."""
    try:
        text = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return next((word[2:] for word in text.split() if word.startswith("v=")), "")


def server_label() -> str:
    """The program with its version, as captures label it: e.g. "Redis 7.0.15"."""
    path = server_program()
    return f"Redis {program_version(path) if path else ''}".strip()


def how_to_get_redis_server() -> str:
    """The one command that installs the redis-server program here (a clause: "install it with `...`")."""
    if sys.platform == "win32":
        return (
            "on Windows, run the course inside WSL (`wsl --install`) and install it there with "
            "`sudo apt-get install redis-server` (Memurai or a Redis in Docker give you a server, not this program)"
        )
    if os.environ.get("CONDA_PREFIX") and Path(os.environ["CONDA_PREFIX"]).resolve() == Path(sys.prefix).resolve():
        return "install it with `conda install -c conda-forge redis-server`"
    if sys.platform == "darwin":
        return "install it with `brew install redis`"
    return "install it with `sudo apt-get install redis-server`"


def how_to_start_a_server() -> str:
    """A clause that says how to get a Redis server running on this computer."""
    if sys.platform == "win32":
        return (
            "start one in WSL (`sudo apt-get install redis-server`, then `redis-server`), with Docker Desktop "
            "(`docker run -p 6379:6379 redis`) or with Memurai"
        )
    return f"start one with `redis-server` ({how_to_get_redis_server()}, or `docker run -p 6379:6379 redis`)"
