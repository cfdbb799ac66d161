"""What a client sends is recorded per round trip, handshakes excluded; the course client refuses FLUSHALL."""

from __future__ import annotations

import pytest
import redis

import course_helpers
from course_helpers import CourseGuardError, Recorder
from course_helpers._trial import TrialRedis
from course_helpers._wire import format_command, parse_packed


def test_parse_packed_splits_a_pipeline_into_commands():
    packed = redis.Connection().pack_commands([("SET", "a", "1"), ("GET", "a"), ("SET", "b", "x y", "EX", 5)])
    assert parse_packed(packed) == [("SET", "a", "1"), ("GET", "a"), ("SET", "b", "x y", "EX", "5")]
    assert format_command(("set", "b", "x y")) == "SET b 'x y'"


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.real)])
def trial_redis(request):
    url = None
    if request.param == "real":
        url = request.getfixturevalue("real_server").url
    server = TrialRedis(url)
    yield server
    server.close()


def test_each_command_is_one_round_trip_and_handshake_is_not_recorded(trial_redis):
    recorder = Recorder()
    client = trial_redis.client(recorder)
    client.set("k", "v", ex=10)
    client.get("k")
    assert recorder.round_trips == [[("SET", "k", "v", "EX", "10")], [("GET", "k")]]


def test_a_pipeline_is_one_round_trip(trial_redis):
    recorder = Recorder()
    client = trial_redis.client(recorder)
    with client.pipeline() as pipe:
        pipe.incr("a").incr("b").execute()
    assert len(recorder.round_trips) == 1
    assert recorder.names == ["MULTI", "INCRBY", "INCRBY", "EXEC"]  # redis-py sends incr() as INCRBY key 1
    assert "round trip 1: MULTI" in recorder.describe()


def test_a_hook_runs_before_each_send_and_can_be_removed(trial_redis):
    recorder = Recorder()
    client = trial_redis.client(recorder)
    seen = []
    remove = recorder.add_hook(lambda commands, _: seen.append(commands[0][0]))
    client.ping()
    remove()
    client.ping()
    assert seen == ["PING"]


def test_course_client_refuses_flushall_even_in_a_pipeline(r):
    r.set("mine", "1")
    with pytest.raises(CourseGuardError, match=r"course_helpers\.clear"):
        r.flushall()
    with pytest.raises(CourseGuardError), r.pipeline() as pipe:
        pipe.set("x", 1).flushall().execute()
    assert r.get("mine") == "1" and r.get("x") is None
    for command in ("SWAPDB", "MOVE"):
        with pytest.raises(CourseGuardError):
            r.execute_command(command, "mine", 0) if command == "MOVE" else r.execute_command(command, 0, 1)


def test_clear_empties_only_the_course_database(r):
    r.set("a", 1)
    r.rpush("b", 1)
    course_helpers.clear(r)
    assert r.dbsize() == 1  # only the marker
