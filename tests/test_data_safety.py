"""Nothing lost: 10,000 foreign keys on a real server survive every notebook and every check, byte for byte."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
import redis

from course_helpers import PrivateRedis, exercises

from notebook_runner import LESSONS, execute

pytestmark = [pytest.mark.real, pytest.mark.slow, pytest.mark.notebooks, pytest.mark.timeout(1200)]

# Names the lessons use themselves: an application may well hold them too.
COLLIDING = [
    "user:123",
    "user:1",
    "user:1:name",
    "leaderboard",
    "greeting",
    "greeting:Ada",
    "todo",
    "lang",
    "name",
    "visits",
    "orders:count",
    "logo",
    "pageviews:home",
    "token:abc",
    "username:ada",
    "recent:1",
    "queue",
    "tags:post:1",
    "products",
    "product:1",
    "balance:alice",
    "balance:bob",
    "session:1",
    "cache:user:1",
    "word:redis",
    "empty-queue",
    "counter",
    "news",
    "redis-course:marker-lookalike",
]


def _fill(server: PrivateRedis, total: int = 10_000) -> None:
    rng = random.Random(7)
    kinds = ["string", "bytes", "list", "hash", "set", "zset", "stream"]
    per_db = {0: 6_000, 1: 2_000, 15: 2_000}  # database 15 is where the course would look first
    assert sum(per_db.values()) == total
    for db, count in per_db.items():
        client = redis.Redis(port=server.port, db=db)
        with client.pipeline(transaction=False) as pipe:
            names = COLLIDING + [f"app:{db}:{n}" for n in range(count - len(COLLIDING))]
            for n, key in enumerate(names):
                kind = kinds[n % len(kinds)]
                if kind == "string":
                    pipe.set(key, f"value-{n}")
                elif kind == "bytes":
                    pipe.set(key, bytes(rng.randrange(256) for _ in range(16)))
                elif kind == "list":
                    pipe.rpush(key, *[f"item{i}" for i in range(3)])
                elif kind == "hash":
                    pipe.hset(key, mapping={"name": f"n{n}", "score": n})
                elif kind == "set":
                    pipe.sadd(key, "a", "b", str(n))
                elif kind == "zset":
                    pipe.zadd(key, {"ada": n, "bob": n / 2})
                else:
                    pipe.xadd(key, {"event": str(n)})
                if n % 3 == 0:
                    pipe.expire(key, 3600)
            pipe.execute()
        client.close()


def _snapshot(server: PrivateRedis) -> dict[tuple[int, bytes], tuple[bytes, bool]]:
    state = {}
    for db in range(16):
        client = redis.Redis(port=server.port, db=db)
        for key in client.scan_iter(count=1000):
            state[(db, key)] = (client.dump(key), client.pttl(key) > 0)
        client.close()
    return state


@pytest.fixture
def crowded_server(monkeypatch):
    server = PrivateRedis().start()
    _fill(server)
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{server.port}")
    monkeypatch.setenv("COURSE_CHECK_BACKEND", "real")
    yield server
    server.stop()


def _assert_untouched(server: PrivateRedis, before: dict) -> None:
    after = _snapshot(server)
    foreign_after = {key: value for key, value in after.items() if key in before}
    assert foreign_after == before, "a foreign key was changed, lost its expiry or was deleted"
    extra_databases = {db for db, _ in set(after) - set(before)}
    assert extra_databases <= {14}, f"the course wrote outside its own database: {extra_databases}"


# The whole course, in parts that test workers can run side by side, each against its own crowded server.
@pytest.mark.parametrize("path", LESSONS, ids=[path.stem for path in LESSONS])
def test_ten_thousand_foreign_keys_survive_a_notebook_as_shipped_and_solved(path, crowded_server):
    before = _snapshot(crowded_server)
    assert len(before) == 10_000
    execute(path)
    execute(path, solved=True)
    _assert_untouched(crowded_server, before)


def test_ten_thousand_foreign_keys_survive_every_check_and_the_commands(crowded_server):
    before = _snapshot(crowded_server)
    for exercise in exercises.all():
        for answer in [exercise.reference, *(mutant.answer for mutant in exercise.mutants)]:
            exercise.check(answer)
        exercise.check(lambda r, *args, **kwargs: r.flushall())
    for command in (["doctor"], ["reset", "--yes"]):
        subprocess.run([sys.executable, "-m", "course_helpers", *command], check=True, capture_output=True)
    _assert_untouched(crowded_server, before)
