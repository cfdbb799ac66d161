"""Choosing the backend: REDIS_URL, localhost, the embedded fakeredis; clear one-sentence errors."""

from __future__ import annotations

import time

import pytest
import redis

import course_helpers
from course_helpers import CourseEnvironmentError, PrivateRedis, _connection, free_port
from course_helpers._connection import server_label
from course_helpers._notebook import server_problem_message


def _one_sentence_or_two(message: str) -> None:
    assert "\n" not in message and "Traceback" not in message
    assert message.count(". ") <= 2, message


def test_unreachable_redis_url_says_how_to_start_redis_or_unset_it(monkeypatch):
    monkeypatch.setenv("REDIS_URL", f"redis://:hunter2@127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    with pytest.raises(CourseEnvironmentError) as raised:
        course_helpers.connect()
    assert time.monotonic() - started < 3
    message = str(raised.value)
    assert "start that server" in message and "unset REDIS_URL" in message
    assert "hunter2" not in message and "***" in message
    _one_sentence_or_two(message)


@pytest.mark.parametrize("url", ["http://localhost:6379", "localhost:6379", "redis://localhost:notaport/0"])
def test_malformed_redis_url_gets_one_sentence(monkeypatch, url):
    monkeypatch.setenv("REDIS_URL", url)
    with pytest.raises(CourseEnvironmentError, match="is not a Redis URL") as raised:
        course_helpers.connect()
    _one_sentence_or_two(str(raised.value))


def test_unknown_course_backend_is_refused(monkeypatch):
    monkeypatch.setenv("COURSE_BACKEND", "postgres")
    with pytest.raises(CourseEnvironmentError, match="auto, real or fake"):
        course_helpers.connect()


def test_auto_falls_back_to_embedded_fakeredis_quickly_when_nothing_answers(monkeypatch, capsys):
    monkeypatch.setattr(_connection, "LOCAL_URL", f"redis://127.0.0.1:{free_port()}")
    started = time.monotonic()
    r = course_helpers.connect()
    assert time.monotonic() - started < 1.5
    assert r.ping() and course_helpers.backend().kind == "fake"
    banner = capsys.readouterr().out
    assert "built-in fakeredis" in banner and "start a Redis server" in banner


def test_real_is_refused_with_the_start_command_when_nothing_answers(monkeypatch):
    monkeypatch.setattr(_connection, "LOCAL_URL", f"redis://127.0.0.1:{free_port()}")
    monkeypatch.setenv("COURSE_BACKEND", "real")
    with pytest.raises(CourseEnvironmentError, match="redis-server"):
        course_helpers.connect()


@pytest.mark.real
def test_auto_uses_a_local_server_and_names_its_version(monkeypatch, capsys, real_server):
    monkeypatch.setattr(_connection, "LOCAL_URL", f"redis://127.0.0.1:{real_server.port}")
    r = course_helpers.connect()
    assert r.ping()
    chosen = course_helpers.backend()
    assert chosen.kind == "real" and chosen.version[0].isdigit()
    assert f"real Redis {chosen.version}" in capsys.readouterr().out


def test_embedded_fakeredis_makes_socket_code_real(monkeypatch):
    monkeypatch.setenv("COURSE_BACKEND", "fake")
    chosen = course_helpers.backend()
    plain = redis.Redis(host=chosen.host, port=chosen.port, db=chosen.db)
    assert plain.ping()
    plain.set("from-socket", b"\x00\xff")
    from_url = redis.Redis.from_url(course_helpers.redis_url())
    assert from_url.get("from-socket") == b"\x00\xff"
    pool = redis.ConnectionPool(host=chosen.host, port=chosen.port, db=chosen.db, decode_responses=True)
    assert redis.Redis(connection_pool=pool).exists("from-socket") == 1
    impatient = redis.Redis(host=chosen.host, port=chosen.port, db=chosen.db, socket_timeout=0.2, retry=None)
    with pytest.raises(redis.TimeoutError):
        impatient.blpop("empty", 2)
    closed = redis.Redis(port=free_port(), socket_connect_timeout=0.2, retry=None)
    with pytest.raises(redis.ConnectionError):
        closed.ping()
    for client in (plain, from_url, impatient):
        client.close()
    pool.disconnect()


@pytest.mark.real
def test_redis_stopping_mid_lesson_gives_the_fix_and_recovers_when_it_is_back(monkeypatch, redis_server_installed):
    server = PrivateRedis().start()
    try:
        monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{server.port}")
        r = course_helpers.connect()
        r.set("before", "1")
        server.stop()
        with pytest.raises(redis.ConnectionError) as raised:
            r.get("before")
        message = server_problem_message(raised.value, server_label())
        assert f"Redis at redis://127.0.0.1:{server.port}" in message
        assert "stopped answering" in message and "redis-server" in message and "re-run this cell" in message
        server.start()  # same port, empty again (no persistence)
        assert r.set("after", "2") and r.get("after") == "2"
    finally:
        server.stop()


def test_under_pyodide_the_course_runs_on_in_process_fakeredis(monkeypatch):
    monkeypatch.setattr("sys.platform", "emscripten")
    r = course_helpers.connect()
    chosen = course_helpers.backend()
    assert chosen.kind == "fake" and chosen.origin == "in-process" and chosen.url is None
    r.rpush("todo", "a", "b")
    assert r.lrange("todo", 0, -1) == ["a", "b"]
    with pytest.raises(CourseEnvironmentError, match="no sockets"):
        course_helpers.redis_url()
    greeting = course_helpers.exercises.get("welcome.save_greeting")
    assert greeting.check(greeting.reference).passed  # inline: no fork, no threads


def test_in_a_browser_tab_connect_keeps_the_reply_shape_asked_for(monkeypatch):
    monkeypatch.setattr("sys.platform", "emscripten")
    r = course_helpers.connect(protocol=3, socket_timeout=5)  # no socket here: its timeout is ignored
    r.xadd("orders", {"id": "1"})
    assert isinstance(r.xread({"orders": 0}), dict)  # RESP3's shape: a dict of stream → entries
    default = course_helpers.connect()
    assert isinstance(default.xread({"orders": 0}), list)


def test_a_learners_own_timeout_is_not_reported_as_the_server_going_away(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    from course_helpers._notebook import install_error_feedback

    shell = InteractiveShell.instance()
    try:
        shell.user_ns["redis"] = redis
        for answers, expected, unexpected in (
            (True, "socket_timeout", "stopped answering"),  # the server is fine: the client's own timeout
            (False, "stopped answering", "socket_timeout running out"),  # the server really went away
        ):
            install_error_feedback(lambda: "Redis at redis://localhost:6379", lambda answers=answers: answers)
            shell.run_cell("raise redis.TimeoutError('Timeout reading from socket')")
            shown = capsys.readouterr().out
            assert expected in shown and unexpected not in shown, shown
    finally:
        InteractiveShell.clear_instance()
