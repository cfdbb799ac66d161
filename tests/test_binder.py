"""binder/: repo2docker's own dry run accepts it, and binder/start starts Redis or falls back to fakeredis."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import redis

from course_helpers import free_port

ROOT = Path(__file__).resolve().parent.parent


def _start_and_print(env: dict[str, str], variable: str) -> subprocess.CompletedProcess[str]:
    """Run binder/start with env, as Binder does, and have it print variable from the environment it leaves."""
    return subprocess.run(
        ["/bin/bash", str(ROOT / "binder" / "start"), "printenv", variable],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )


@pytest.mark.slow
def test_repo2docker_dry_run_builds_from_binder_folder():
    r2d = shutil.which("jupyter-repo2docker") or str(Path(os.sys.executable).parent / "jupyter-repo2docker")
    result = subprocess.run([r2d, "--no-build", str(ROOT)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    dockerfile = result.stdout
    assert "binder/environment.yml" in dockerfile or "environment.yml" in dockerfile
    assert "./binder/postBuild" in dockerfile
    assert 'R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in dockerfile


def test_binder_files_follow_the_rules():
    environment = (ROOT / "binder" / "environment.yml").read_text()
    assert "redis-server" in environment and "redis-py" in environment
    assert "\n  - redis\n" not in environment and "\n  - redis>" not in environment  # the old, broken client
    assert "set -e" in (ROOT / "binder" / "postBuild").read_text()
    start = (ROOT / "binder" / "start").read_text()
    assert "set -e" not in start.replace("No `set -e`", "") and start.rstrip().endswith('exec "$@"')
    for script in ("postBuild", "start"):
        assert os.access(ROOT / "binder" / script, os.X_OK)


def test_binder_start_falls_back_to_fakeredis_without_redis_server(tmp_path):
    fake_bin = tmp_path / "bin"  # a PATH with printenv and nothing else: no redis-server
    fake_bin.mkdir()
    env = {"PATH": str(fake_bin), "HOME": str(tmp_path)}
    (fake_bin / "printenv").symlink_to(shutil.which("printenv"))
    result = _start_and_print(env, "COURSE_BACKEND")
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "fake" and "fakeredis" in result.stdout


@pytest.mark.real
def test_binder_start_launches_redis_on_loopback_without_persistence(tmp_path, redis_server_installed):
    port = free_port()
    env = {**os.environ, "COURSE_REDIS_PORT": str(port)}
    env.pop("COURSE_BACKEND", None)
    result = _start_and_print(env, "REDIS_URL")
    client = redis.Redis(port=port)
    try:
        assert result.stdout.splitlines()[-1] == f"redis://127.0.0.1:{port}"
        assert client.ping()
        assert client.config_get("save")["save"] == "" and client.config_get("appendonly")["appendonly"] == "no"
        assert client.config_get("bind")["bind"].startswith("127.0.0.1")
    finally:
        client.shutdown(nosave=True)
