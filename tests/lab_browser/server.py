"""JupyterLab started exactly as `make lab` starts it (`python tasks.py lab`), isolated, and stopped with its kernels.

What the test adds goes through LAB_ARGS, as tasks.py allows: a known token, no port retries, the application
object exposed to the page (to read kernel states and cell models), and a pre-save hook that refuses every save,
so that the notebooks in the working tree are never written (autosave is also off in the test's own settings).
Everything JupyterLab keeps (settings, workspaces, checkpoints, runtime files) and the course's progress file live
in the test's tmp folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"

# JupyterLab user settings for the test: no autosave (the page never writes a notebook), no news or update toasts
# (they would cover the notebook in screenshots and ask the network).
SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def refuse_save(model: Any, path: str, contents_manager: Any, **_kwargs: Any) -> None:
    """The server's pre-save hook: no file is ever written through JupyterLab during the test."""
    from tornado.web import HTTPError

    raise HTTPError(403, f"The browser test never saves files ({path}): the working tree must stay as it is.")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LabServer:
    """One `python tasks.py lab` in its own process group; .stop() ends JupyterLab and every kernel it started."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.token = secrets.token_hex(16)
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = folder / "jupyterlab.log"

    # -- starting -----------------------------------------------------------------------------------------------
    def _environment(self) -> dict[str, str]:
        settings = self.folder / "settings"
        for name, values in SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = {
            name: value
            for name, value in os.environ.items()
            if name not in {"REDIS_URL", "COURSE_DB", "COURSE_CHECK_TIMEOUT", "COURSE_SANDBOX", "PYTEST_XDIST_WORKER"}
            and not name.startswith("PYTEST_")
        }
        lab_args = [
            "--no-browser",  # tasks.py adds it only when CI is set
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={self.token}",
            "--LabApp.expose_app_in_browser=True",
            "--ContentsManager.pre_save_hook=lab_browser.server.refuse_save",
            f"--FileCheckpoints.checkpoint_dir={self.folder / 'checkpoints'}",
        ]
        env.update(
            COURSE_BACKEND="fake",
            COURSE_CHECK_BACKEND="fake",
            COURSE_PROGRESS_FILE=str(self.folder / "progress.jsonl"),
            LAB_ARGS=" ".join(lab_args),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(self.folder / "workspaces"),
            JUPYTER_RUNTIME_DIR=str(self.folder / "runtime"),
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")])),
        )
        return env

    def start(self, seconds: float = 180) -> LabServer:
        """Start `python tasks.py lab --port N` and wait until the server answers (a taken port: another one)."""
        env = self._environment()
        for _attempt in range(3):
            self.port = _free_port()
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    [sys.executable, str(ROOT / "tasks.py"), "lab", f"--port={self.port}"],
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, so that stop() reaches JupyterLab too
                )
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                with contextlib.suppress(OSError, ValueError):
                    if self.api("GET", "/api/status", timeout=2).get("started"):
                        return self
                time.sleep(0.25)
            else:
                self.stop()
                raise AssertionError(f"JupyterLab did not answer within {seconds:g} s:\n{self.log_tail()}")
            if "already in use" not in self.log_tail():
                raise AssertionError(
                    f"`python tasks.py lab` ended with code {self.process.returncode}:\n{self.log_tail()}"
                )
        raise AssertionError(f"no free port for JupyterLab after 3 attempts:\n{self.log_tail()}")

    def log_tail(self, characters: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-characters:] if self.log_path.exists() else ""

    # -- talking to it ------------------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """A page of the running JupyterLab, logged in with the token (?reset: no workspace from an earlier test)."""
        return f"{self.base}/{path.lstrip('/')}?reset&token={self.token}"

    def api(self, method: str, path: str, timeout: float = 10) -> Any:
        request = urllib.request.Request(
            f"{self.base}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        if method in {"POST", "PUT", "PATCH"}:
            request.data = b""
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self, path: str | None = None, seconds: float = 15) -> list[str]:
        """Delete the sessions (and so the kernels) of one notebook, or of every notebook; then wait for what the
        kernels had started (check workers, private redis-servers) to end too. The command lines of processes still
        running after `seconds`, which are then killed."""
        import psutil

        assert self.process is not None
        tasks = psutil.Process(self.process.pid)
        own = {tasks.pid, *(child.pid for child in tasks.children())}  # tasks.py and the jupyter lab it runs
        started_by_kernels = [process for process in self._processes() if process.pid not in own]
        for session in self.api("GET", "/api/sessions"):
            if path is None or session.get("path") == path:
                with contextlib.suppress(urllib.error.HTTPError):
                    self.api("DELETE", f"/api/sessions/{session['id']}", timeout=30)
        remaining = {session["kernel"]["id"] for session in self.api("GET", "/api/sessions")}
        if remaining:  # another notebook's kernel is still open: leave its processes alone
            return []
        _gone, alive = psutil.wait_procs(started_by_kernels, timeout=seconds)
        leftovers = []
        for process in alive:
            with contextlib.suppress(psutil.Error):
                leftovers.append(" ".join(process.cmdline())[:200])
                process.kill()
        return leftovers

    # -- stopping -----------------------------------------------------------------------------------------------
    def _processes(self) -> list[Any]:
        import psutil

        if self.process is None:
            return []
        try:
            parent = psutil.Process(self.process.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> list[str]:
        """Stop JupyterLab and everything it started; the command lines of processes that had to be killed."""
        import psutil

        if self.process is None:
            return []
        processes = self._processes()  # tasks.py, jupyter lab, kernels and whatever the kernels started
        with contextlib.suppress(OSError, ValueError):
            self.shut_down_kernels()
        with contextlib.suppress(OSError, ValueError):
            self.api("POST", "/api/shutdown")  # shuts kernels down, then the server exits, then tasks.py
        _gone, alive = psutil.wait_procs(processes, timeout=20)
        killed = []
        for process in alive:
            with contextlib.suppress(psutil.Error):
                killed.append(" ".join(process.cmdline())[:200])
                process.kill()
        if alive and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)  # the group this server started in, nothing else
        psutil.wait_procs(alive, timeout=10)
        self.process.wait(timeout=10)
        self.process = None
        return killed
