"""python -m course_helpers doctor | progress | reset."""

from __future__ import annotations

import subprocess
import sys

import pytest
import redis

from course_helpers import MARKER_KEY, free_port


def run(*args: str, env_extra: dict[str, str] | None = None, stdin: str | None = None):
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "course_helpers", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=60,
    )


def test_doctor_passes_on_fakeredis_and_names_the_next_step():
    result = run("doctor", env_extra={"COURSE_BACKEND": "fake"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "fakeredis" in result.stdout and "make lab" in result.stdout


def test_doctor_fails_with_the_fix_when_redis_url_is_down():
    result = run("doctor", env_extra={"REDIS_URL": f"redis://127.0.0.1:{free_port()}"})
    assert result.returncode == 1
    assert "unset REDIS_URL" in result.stdout and "Traceback" not in result.stderr


def test_progress_prints_a_table():
    result = run("progress", env_extra={"COURSE_BACKEND": "fake"})
    assert result.returncode == 0 and "exercises passed" in result.stdout


@pytest.mark.real
def test_reset_deletes_only_the_course_keys_after_confirmation(real_server, tmp_path):
    base = real_server.url.rsplit("/", 1)[0]
    admin = redis.Redis.from_url(base + "/0")
    admin.flushall()
    admin.set("user:123", "application data")
    course = redis.Redis.from_url(base + "/15")
    course.set(MARKER_KEY, "{}")
    course.set("user:123", "lesson data")
    env = {"REDIS_URL": base}
    refused = run("reset", env_extra=env, stdin="no\n")
    assert refused.returncode == 1 and course.exists("user:123")
    done = run("reset", "--yes", env_extra=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Deleted 1 course key" in done.stdout
    assert course.dbsize() == 0 and admin.get("user:123") == b"application data"
    admin.flushall()


def test_the_doctor_in_a_browser_tab_asks_for_nothing_a_browser_cannot_have(monkeypatch):
    from course_helpers import _doctor

    monkeypatch.setattr(_doctor, "IN_BROWSER", True)
    monkeypatch.setenv("COURSE_BACKEND", "fake")
    lines, ok = _doctor.diagnose()
    text = "\n".join(lines)
    assert ok, text
    assert "lupa" not in text and "jupyterlab" not in text and "make install" not in text
    assert "not available in a browser tab" in text and "file browser" in text
