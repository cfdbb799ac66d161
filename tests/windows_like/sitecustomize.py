"""Imported at start-up by every Python whose path holds this folder: a stand-in for Windows on Linux.

Windows has no os.fork and no os.pread, and no fcntl module; the course's own code must not need them.
Child processes inherit PYTHONPATH, so the course's check worker runs without them too.
"""

import os
import sys

for name in ("fork", "forkpty", "pread", "pwrite"):
    if hasattr(os, name):
        delattr(os, name)
sys.modules["fcntl"] = None  # type: ignore[assignment]  # `import fcntl` now raises ImportError
