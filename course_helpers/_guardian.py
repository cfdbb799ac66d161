"""Run a program for as long as its owner lives: `python _guardian.py PROGRAM ARGS...`, stdin a pipe from the owner.

The course starts redis-server through this script. When the owner closes the pipe, or dies by any means
(a killed kernel, os._exit, a crash), the pipe closes, and the guardian stops the program and exits. It is run
as a plain script (`python -I -S path/_guardian.py`), so it starts in milliseconds and imports nothing of
the course.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading

STOP_SECONDS = 5.0


def main(argv: list[str]) -> int:
    """Start argv, stop it when stdin closes, and exit with its exit code."""
    if hasattr(signal, "SIGINT"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the owner decides when the program stops, not Ctrl-C
    # The program's own output goes nowhere: this process's stdout carries one line, the program's pid.
    program = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(program.pid, flush=True)

    def stop_when_owner_is_gone() -> None:
        sys.stdin.buffer.read()  # returns at end of file: the owner closed the pipe, or died
        program.terminate()
        try:
            program.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            program.kill()

    threading.Thread(target=stop_when_owner_is_gone, daemon=True).start()
    return program.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
