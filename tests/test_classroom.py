"""Classroom: per-student servers that Redis itself keeps apart, events that reach the instructor, clean teardown."""

from __future__ import annotations

import csv
import os
import stat
import subprocess
import sys
import time

import pytest
import redis

import course_helpers
from course_helpers import PrivateRedis, _progress, classroom, exercises
from course_helpers._class_link import STUDENT_LINK_KEY, join_class_if_linked
from course_helpers.classroom import report_text

pytestmark = pytest.mark.real


def _snapshot(client: redis.Redis) -> dict:
    return {
        "keys": {key: (client.dump(key), client.pttl(key) > 0) for key in client.scan_iter()},
        "users": sorted(client.acl_users()),
    }


@pytest.fixture
def hub(tmp_path, redis_server_installed):
    server = PrivateRedis().start()
    client = redis.Redis(port=server.port)
    client.set("user:123", "the instructor's own data", ex=3600)
    client.zadd("leaderboard", {"someone": 1})
    before = _snapshot(client)
    yield f"redis://127.0.0.1:{server.port}", client, before
    try:
        classroom.teardown(f"redis://127.0.0.1:{server.port}")
    finally:
        server.stop()


def _roster(tmp_path, *names: str):
    path = tmp_path / "roster.csv"
    path.write_text("name\n" + "".join(f"{name}\n" for name in names))
    return path


def _students(out) -> dict[str, str]:
    with open(out / "students.csv") as handle:
        return {row["name"]: row["redis_url"] for row in csv.DictReader(handle)}


def _classroom_cli(*args: str, env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-m", "course_helpers", "classroom", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_two_students_are_isolated_by_redis_itself(hub, tmp_path):
    hub_url, hub_client, _ = hub
    out = tmp_path / "class"
    result = _classroom_cli(
        "setup",
        "--roster",
        str(_roster(tmp_path, "ada", "grace")),
        "--redis-url",
        hub_url,
        "--out",
        str(out),
        "--first-port",
        "7300",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert stat.S_IMODE(os.stat(out / "students.csv").st_mode) == 0o600
    urls = _students(out)
    for secret in urls.values():
        assert secret.split("@")[0] not in result.stdout  # no password printed
    ada, grace = (redis.Redis.from_url(urls[name], decode_responses=True) for name in ("ada", "grace"))
    link = ada.get(STUDENT_LINK_KEY)
    grace.set("user:123", "grace's lesson data")
    grace.set("notes", "mine")

    own_link = [STUDENT_LINK_KEY]  # where ada's progress goes: her own key, on her own server
    assert ada.get("user:123") is None and ada.keys("*") == own_link and list(ada.scan_iter()) == own_link
    ada.set("user:123", "ada's")
    ada.delete("notes")
    ada.flushall()
    ada.flushdb()
    assert grace.get("user:123") == "grace's lesson data" and grace.get("notes") == "mine"

    grace_port = int(urls["grace"].rsplit(":", 1)[1])
    ada_password = redis.connection.parse_url(urls["ada"])["password"]
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=grace_port, password=ada_password).get("notes")
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=grace_port).get("notes")  # no password at all: NOAUTH

    listener = grace.pubsub()
    listener.subscribe("chat")
    listener.get_message(timeout=1)
    assert ada.publish("chat", "psst") == 0
    assert listener.get_message(timeout=0.3) is None
    listener.close()

    ada_hub = redis.Redis.from_url(__import__("json").loads(link)["hub_url"], decode_responses=True)
    ada_hub.xadd(classroom.events_key("ada"), {"event": "check"})
    for attempt in (
        lambda: ada_hub.xadd(classroom.events_key("grace"), {"event": "forged"}),
        lambda: ada_hub.xrange(classroom.events_key("grace")),
        lambda: ada_hub.xrange(classroom.events_key("ada")),
        lambda: ada_hub.hgetall(classroom.ROSTER_KEY),
        lambda: ada_hub.get("user:123"),
        lambda: ada_hub.keys("*"),
        lambda: ada_hub.flushall(),
        lambda: ada_hub.publish("chat", "x"),
    ):
        with pytest.raises(redis.exceptions.NoPermissionError):
            attempt()
    eavesdropper = ada_hub.pubsub()
    with pytest.raises(redis.exceptions.NoPermissionError):
        eavesdropper.subscribe("anything")
        eavesdropper.get_message(timeout=1)
    eavesdropper.close()
    assert hub_client.get("user:123") == b"the instructor's own data"


def test_events_from_both_students_reach_the_report_even_after_an_outage(hub, tmp_path, monkeypatch):
    hub_url, hub_client, _ = hub
    seats = classroom.setup(_roster(tmp_path, "ada", "grace"), hub_url, tmp_path / "class", first_port=7320)
    urls = {seat.name: seat.redis_url for seat in seats}
    greeting = exercises.get("welcome.save_greeting")

    # grace works in her own process, as a student's kernel would
    script = (
        "import course_helpers as ch\n"
        "ch.connect()\n"
        "ex = ch.exercises.get('welcome.save_greeting')\n"
        "ex.check(lambda r, name: r.set('greeting:' + name, 'hi'))\n"
        "ex.check(ex.reference)\n"
    )
    env = {**os.environ, "REDIS_URL": urls["grace"], "COURSE_PROGRESS_FILE": str(tmp_path / "grace.jsonl")}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=60)

    # ada, in this process: the hub refuses her for a while; nothing may be lost
    monkeypatch.setenv("REDIS_URL", urls["ada"])
    course_helpers.connect()
    sink = join_class_if_linked(urls["ada"])  # connect() did this already; keep a handle on the sink
    assert sink is not None
    greeting.hint()
    hub_client.acl_setuser(classroom.acl_user("ada"), enabled=False)
    hub_client.client_kill_filter(user=classroom.acl_user("ada"))  # as if the network dropped
    with pytest.warns(UserWarning, match="kept on this computer"):
        greeting.check(lambda r, name: None)
    greeting.check(greeting.reference)  # still down (paused): stays local
    hub_client.acl_setuser(classroom.acl_user("ada"), enabled=True)
    sink._paused_until = 0  # the retry pause has passed
    greeting.solution()
    _progress.remove_event_sink(sink)

    events = hub_client.xlen(classroom.events_key("ada"))
    assert events == len(_progress.read_events()) == 4
    report = report_text(hub_url)
    assert "2 students" in report
    grid_csv = report_text(hub_url, as_csv=True).splitlines()
    assert grid_csv[0].startswith("student,welcome.save_greeting")
    assert {line.split(",")[0]: line.split(",")[1] for line in grid_csv[1:]} == {"ada": "passed", "grace": "passed"}
    cli = _classroom_cli("report", "--redis-url", hub_url)
    assert cli.returncode == 0 and "ada" in cli.stdout and "grace" in cli.stdout


def test_setup_is_idempotent_and_teardown_leaves_the_server_as_it_was(hub, tmp_path):
    hub_url, hub_client, before = hub
    roster, out = _roster(tmp_path, "ada", "grace"), tmp_path / "class"
    first = classroom.setup(roster, hub_url, out, first_port=7340)
    second = classroom.setup(roster, hub_url, out, first_port=7340)
    assert [s.redis_url for s in first] == [s.redis_url for s in second]
    assert all(redis.Redis.from_url(s.redis_url).ping() for s in second)
    result = _classroom_cli("teardown", "--redis-url", hub_url, "--yes")
    assert result.returncode == 0, result.stdout
    assert _snapshot(hub_client) == before
    assert not (out / "students.csv").exists()
    for seat in first:
        with pytest.raises(redis.ConnectionError):
            redis.Redis(port=seat.port, password=seat.password, socket_connect_timeout=0.3, retry=None).ping()
    assert classroom.teardown(hub_url) == []  # a second teardown has nothing left to do


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name\nada\nada\n", "more than once"),
        ("name\nada\nrobert'); drop table\n", "not safe"),
        ("", "lists no students"),
        ("name\n\n", "lists no students"),
    ],
)
def test_a_bad_roster_changes_nothing(hub, tmp_path, content, message):
    hub_url, hub_client, before = hub
    roster = tmp_path / "roster.csv"
    roster.write_text(content)
    result = _classroom_cli("setup", "--roster", str(roster), "--redis-url", hub_url, "--out", str(tmp_path / "c"))
    assert result.returncode == 1 and message in result.stdout and "Traceback" not in result.stderr
    assert _snapshot(hub_client) == before and not (tmp_path / "c").exists()
    time.sleep(0)  # keep the parametrised cases independent
