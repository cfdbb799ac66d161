"""Nothing lost: the course claims one empty database, refuses foreign data, and clears only its own."""

from __future__ import annotations

import pytest
import redis

import course_helpers
from course_helpers import MARKER_KEY, CourseEnvironmentError

pytestmark = pytest.mark.real


@pytest.fixture
def server(real_server, monkeypatch):
    admin = redis.Redis.from_url(real_server.url)
    admin.flushall()  # the private test server: start every test from nothing
    base = real_server.url.rsplit("/", 1)[0]
    monkeypatch.setenv("REDIS_URL", base)
    yield base, lambda db: redis.Redis.from_url(f"{base}/{db}", decode_responses=True)
    admin.flushall()


def test_claims_database_15_of_an_empty_server(server):
    _, db = server
    course_helpers.connect()
    assert course_helpers.backend().db == 15 and db(15).exists(MARKER_KEY)


def test_skips_databases_holding_foreign_keys_and_comes_back_to_its_own(server):
    _, db = server
    db(15).set("user:123", "an application's data")
    course_helpers.connect().set("lesson", "1")
    assert course_helpers.backend().db == 14
    course_helpers._connection.forget_backend()
    db(14).set("another-app", "x")  # even with a foreign key later, the marker says it is the course's
    assert course_helpers.backend().db == 14


def test_an_explicit_database_with_foreign_keys_is_refused_with_a_message(server, monkeypatch):
    base, db = server
    db(3).set("leaderboard", "someone else's")
    monkeypatch.setenv("REDIS_URL", f"{base}/3")
    with pytest.raises(CourseEnvironmentError, match="holds 1 keys that the course did not create"):
        course_helpers.connect()
    assert db(3).get("leaderboard") == "someone else's" and not db(3).exists(MARKER_KEY)


def test_a_server_with_no_free_database_is_refused(server):
    _, db = server
    for number in range(1, 16):
        db(number).set("busy", number)
    with pytest.raises(CourseEnvironmentError, match="Every database from 1 to 15"):
        course_helpers.connect()


def test_clear_refuses_a_client_that_is_not_on_the_course_database(server):
    _, db = server
    db(0).set("precious", "1")
    with pytest.raises(CourseEnvironmentError, match="not connected to the course's database"):
        course_helpers.clear(db(0))
    assert db(0).get("precious") == "1"
