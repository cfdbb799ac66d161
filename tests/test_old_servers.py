"""Redis 6.2, the oldest server the course supports, and anything older: every check is judged on 6.2 (or says
in one sentence that it needs Redis 7), and an older redis-server is refused with the fix."""

from __future__ import annotations

import stat

import pytest

from course_helpers import CourseEnvironmentError, PrivateRedis, exercises

pytestmark = pytest.mark.real


@pytest.fixture
def checks_on_redis_6_2(redis_6_2, monkeypatch):
    """Checks run on a private redis-server 6.2 that the course starts itself (COURSE_REDIS_SERVER)."""
    monkeypatch.setenv("COURSE_REDIS_SERVER", redis_6_2.program)
    monkeypatch.setenv("COURSE_CHECK_BACKEND", "real")


@pytest.mark.parametrize("exercise", exercises.all(), ids=exercises.ids())
def test_every_reference_passes_on_redis_6_2_or_says_it_needs_redis_7(exercise, checks_on_redis_6_2):
    result = exercise.check(exercise.reference)
    if result.status == "env_problem":
        assert "Redis 7" in result.message and "COURSE_CHECK_BACKEND=fake" in result.message, str(result)
    else:
        assert result.status == "pass", str(result)


def test_a_redis_server_older_than_6_2_is_refused_with_the_fix(tmp_path, monkeypatch):
    old = tmp_path / "redis-server"
    old.write_text('#!/bin/sh\necho "Redis server v=6.0.16 sha=00000000:0 malloc=jemalloc-5.2.1 bits=64"\n')
    old.chmod(old.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("COURSE_REDIS_SERVER", str(old))
    with pytest.raises(CourseEnvironmentError) as refused:
        PrivateRedis().start()
    assert "version 6.0.16, older than 6.2" in str(refused.value) and "COURSE_CHECK_BACKEND=fake" in str(refused.value)


def _alternatives():
    from test_alternatives import CASES

    return CASES


@pytest.mark.parametrize(("exercise_id", "answer", "unsupported"), _alternatives())
def test_every_accepted_alternative_passes_on_redis_6_2_or_says_it_needs_redis_7(
    exercise_id, answer, unsupported, checks_on_redis_6_2
):
    if "real" in unsupported:
        pytest.skip(unsupported["real"])
    result = exercises.get(exercise_id).check(answer)
    if result.status == "env_problem":
        assert "Redis 7" in result.message and "COURSE_CHECK_BACKEND=fake" in result.message, str(result)
    else:
        assert result.status == "pass", str(result)


def test_what_one_check_does_to_the_server_does_not_reach_the_next(real_server, monkeypatch):
    monkeypatch.setenv("COURSE_CHECK_BACKEND", "real")
    greeting = exercises.get("welcome.save_greeting")

    def locks_everyone_out(r, name):
        r.config_set("maxmemory", "1mb")
        r.acl_setuser("intruder", enabled=True, nopass=True, commands=["+@all"], keys=["*"])
        r.execute_command("ACL", "SETUSER", "default", "off")  # the next connection as default is refused

    assert greeting.check(locks_everyone_out).status != "pass"
    result = greeting.check(greeting.reference)
    assert result.passed, str(result)

    from course_helpers._private_server import real_server_for_checks

    with real_server_for_checks().client() as admin:
        assert admin.acl_users() == ["default"] and admin.config_get("maxmemory")["maxmemory"] == "0"
