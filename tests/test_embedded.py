"""The embedded fakeredis behaves like a real server where the lessons depend on it (fakeredis' private TCP
handler is adapted, so these tests catch a fakeredis release that changes it)."""

from __future__ import annotations

import socket

import pytest
import redis

from course_helpers import EmbeddedServer
from course_helpers._embedded import _RealServerManners


@pytest.fixture
def server():
    embedded = EmbeddedServer().start()
    yield embedded
    embedded.stop()


def test_a_failing_command_is_an_error_reply_and_the_connection_stays(server):
    client = redis.Redis.from_url(server.url, decode_responses=True)
    client.set("text", "not a number")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        client.incr("text")
    assert client.ping()  # the same connection still works
    with client.pipeline(transaction=True) as pipe:
        pipe.set("a", 1).incr("text").incr("a")
        replies = pipe.execute(raise_on_error=False)
    assert replies[0] is True and isinstance(replies[1], redis.ResponseError) and replies[2] == 2
    client.close()


def test_every_connection_disables_nagles_algorithm(server, monkeypatch):
    seen: list[int] = []
    original = _RealServerManners.setup

    def recording_setup(handler):
        original(handler)
        seen.append(handler.request.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(_RealServerManners, "setup", recording_setup)
    client = redis.Redis.from_url(server.url)
    assert client.ping()
    client.close()
    assert seen and all(seen)
