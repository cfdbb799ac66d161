"""The experiments of 16-production, on private redis-server processes that the notebook starts and stops itself.

start() starts a throw-away redis-server (a PrivateRedis: loopback only, its own temporary folder, stopped with
the kernel however the kernel ends) and remembers it; stop_all() stops every server started here. The two
measured experiments are here so that the lesson stays readable, each in a few lines you can read:

- fill_until_full(policy): write sessions (no TTL) and cache entries (with a TTL) into a small server until its
  memory is full, and count what survives and what was refused;
- crash_test(setup, config): write as fast as one client can, kill the server with SIGKILL, start it again on
  the same data folder, and count the acknowledged writes that did not come back.
"""

from __future__ import annotations

import random
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from . import _programs
from ._private_server import PrivateRedis
from ._safety import CourseEnvironmentError

_started: list[PrivateRedis] = []


def server_program() -> str:
    """One sentence: whether this machine can run the lesson's own redis-server processes."""
    if _programs.server_program() is not None:
        return (
            f"The redis-server program is installed ({_programs.server_label()}): the cells below start, crash and "
            "stop servers of their own, on free loopback ports."
        )
    if sys.platform == "emscripten":
        return (
            "This notebook runs in a browser tab, which cannot start redis-server processes: the cells below show "
            "what they printed on a real run. Open the course in JupyterLab or on Binder to run them yourself."
        )
    return (
        "The redis-server program is not installed here, so the cells below show what they printed on a real run; "
        f"to run them yourself, {_programs.how_to_get_redis_server()}, then restart the kernel."
    )


def start(port: int = 0, **config: str | int) -> PrivateRedis:
    """Start a private redis-server with these options (underscores read as dashes: maxmemory_policy=...)."""
    return _start({name.replace("_", "-"): value for name, value in config.items()}, port)


def _start(config: dict[str, str | int], port: int = 0) -> PrivateRedis:
    server = PrivateRedis(port=port, config=config).start()
    _started.append(server)
    return server


def running() -> list[PrivateRedis]:
    """The servers started here that still run."""
    return [server for server in _started if server.alive()]


def stop_all() -> int:
    """Stop every server started here (and remove their folders); returns how many were still running."""
    alive = len(running())
    while _started:
        _started.pop().stop()
    return alive


def wait_for(condition: Callable[[], object], what: str, seconds: float = 10.0) -> None:
    """Wait until condition() is true, checking every 20 ms; after `seconds`, raise an error that names `what`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise CourseEnvironmentError(f"Waited {seconds:g} s for {what}; run the cell again.")
        time.sleep(0.02)


# -- eviction ------------------------------------------------------------------------------------------
def fill_until_full(policy: str, maxmemory: str = "4mb", writes: int = 8000, value_size: int = 1000) -> dict[str, Any]:
    """Fill a fresh server limited to maxmemory under policy; count what was written, refused and kept.

    Writes alternate: session:<n> without a TTL (a logged-in user: losing it logs them out) and cache:<n> with a
    TTL of 1 to 60 minutes (a copy of something a database holds). They go in pipelines of 200, with
    raise_on_error=False so that every refused write comes back as an error in its place.
    """
    server = start(maxmemory=maxmemory, maxmemory_policy=policy)
    client = server.client()
    rng = random.Random(1)
    value = "x" * value_size
    written = {"session": 0, "cache": 0}
    refused = {"session": 0, "cache": 0}
    pipe = client.pipeline(transaction=False)
    kinds = []
    for number in range(writes):
        kind = "session" if number % 2 == 0 else "cache"
        ttl = None if kind == "session" else rng.randint(60, 3600)
        pipe.set(f"{kind}:{number}", value, ex=ttl)
        kinds.append(kind)
        if len(kinds) == 200 or number == writes - 1:
            for kind_written, reply in zip(kinds, pipe.execute(raise_on_error=False), strict=True):
                outcome = refused if isinstance(reply, redis.ResponseError) else written
                outcome[kind_written] += 1
            kinds = []
    kept = {kind: sum(1 for _ in client.scan_iter(match=f"{kind}:*", count=1000)) for kind in written}
    row = {
        "policy": policy,
        "sessions written": written["session"],
        "sessions refused": refused["session"],
        "sessions kept": kept["session"],
        "cache written": written["cache"],
        "cache refused": refused["cache"],
        "cache kept": kept["cache"],
        "evicted keys": int(client.info("stats")["evicted_keys"]),
    }
    client.close()
    server.stop()
    _started.remove(server)
    return row


# -- persistence ---------------------------------------------------------------------------------------
def crash_test(setup: str, config: dict[str, str], seconds: float = 1.0, snapshot_at: float = 0.0) -> dict[str, Any]:
    """Write INCR writes as fast as one client can for `seconds`, kill the server with SIGKILL, start it again.

    config: persistence options ({"appendonly": "yes", "appendfsync": "always"}...). snapshot_at: if not 0, take
    an RDB snapshot (BGSAVE) that many seconds into the run, as a save rule would. Every reply the writer got is an
    acknowledged write; after the restart, the counter tells how many writes the server still has.
    """
    server = _start(dict(config))
    control = server.client()
    acknowledged = 0

    def writer() -> None:
        nonlocal acknowledged
        client = server.client(retry=Retry(NoBackoff(), 0))  # no retries: the crash must end the run at once
        while True:
            try:
                client.incr("writes")
            except (redis.ConnectionError, redis.TimeoutError):  # the crash ends the run, however it shows
                return
            acknowledged += 1

    thread = threading.Thread(target=writer, name="crash-test-writer", daemon=True)
    started = time.perf_counter()
    thread.start()
    if snapshot_at:
        time.sleep(snapshot_at)
        control.bgsave()
        time.sleep(seconds - snapshot_at)
    else:
        time.sleep(seconds)
    server.crash()  # SIGKILL: no shutdown, no last save
    elapsed = time.perf_counter() - started
    thread.join(timeout=10)
    restarted = time.perf_counter()
    server.restart()
    restart_seconds = time.perf_counter() - restarted
    recovered = int(control.get("writes") or 0)
    control.close()
    server.stop()
    _started.remove(server)
    return {
        "setup": setup,
        "writes/s": round(acknowledged / elapsed),
        "acknowledged": acknowledged,
        "recovered": recovered,
        "lost": max(0, acknowledged - recovered),
        "lost %": round(100 * max(0, acknowledged - recovered) / max(acknowledged, 1), 1),
        "kept, unacknowledged": max(0, recovered - acknowledged),
        "restart (s)": round(restart_seconds, 2),
    }


# -- replication -----------------------------------------------------------------------------------------
def cut_link(primary_client: redis.Redis, user: str = "replicator") -> None:
    """Cut a replica off its primary, as a network failure would: the primary drops the connection of the
    replication user and refuses it from now on."""
    primary_client.acl_setuser(user, enabled=False)
    # "slave", the older name of the same client type: redis-py 8.0 refuses "replica" here.
    primary_client.client_kill_filter(_type="slave")


# -- cluster -------------------------------------------------------------------------------------------
def cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port + 10000 > 65535:
            continue
        try:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", port + 10000))
        except OSError:
            continue
        return port
    raise CourseEnvironmentError("Found no free pair of ports for a cluster node; run the cell again.")


def start_cluster_of_one() -> PrivateRedis:
    """A one-node Redis Cluster that owns all 16,384 slots, ready for writes."""
    node = start(port=cluster_port(), cluster_enabled="yes", cluster_config_file="nodes.conf")
    client = node.client()
    client.execute_command("CLUSTER", "ADDSLOTS", *range(16384))
    # A master refuses writes for its first two seconds (it waits for the cluster to tell it its role).
    wait_for(lambda: "cluster_state:ok" in str(client.execute_command("CLUSTER", "INFO")), "the cluster to be ready")
    client.close()
    return node
