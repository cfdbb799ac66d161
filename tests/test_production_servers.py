"""What 16-production needs of PrivateRedis (options, crash, restart, pause), its experiments, its magic, and that
no redis-server it starts outlives the notebook or its kernel."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sys
import time
from pathlib import Path

import nbformat
import pytest
import redis
from jupyter_client import KernelManager

from course_helpers import PrivateRedis, _cells, _programs
from course_helpers import measure_production as prod
from course_helpers._private_server import _children

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "16-production.ipynb"
SERVER_CELL = re.compile(r"^%%needs_redis_server\s+(\S+)\s*$", re.MULTILINE)
LINUX = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")


def _gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] == "Z":
            return True  # a zombie: dead, waiting for its parent to reap it
        time.sleep(0.05)
    return False


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def server_program(redis_server_installed):
    """Skip (or fail under COURSE_REQUIRE_REAL_REDIS=1) where redis-server is not installed."""
    return shutil.which("redis-server")


# -- PrivateRedis: options, crash, restart, pause ----------------------------------------------------------
def test_options_reach_the_server_after_the_course_defaults(server_program):
    server = PrivateRedis(config={"maxmemory": "3mb", "maxmemory-policy": "allkeys-lru", "save": "60 1000"}).start()
    try:
        client = server.client()
        assert client.config_get("maxmemory")["maxmemory"] == str(3 * 2**20)
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lru"
        assert client.config_get("save")["save"] == "60 1000"  # several words: several arguments
        assert client.config_get("appendonly")["appendonly"] == "no"  # the course's default still holds
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        client.close()
    finally:
        server.stop()


def test_options_the_course_sets_itself_are_refused():
    with pytest.raises(ValueError, match="PrivateRedis sets port itself"):
        PrivateRedis(config={"port": 6379}).start()


def test_crash_kills_the_process_and_restart_reloads_the_aof_on_the_same_port(server_program):
    server = PrivateRedis(config={"appendonly": "yes", "appendfsync": "everysec"}).start()
    try:
        client = server.client()
        for _ in range(500):
            client.incr("writes")
        pid, port, folder = server.server_pid, server.port, server.folder
        server.crash()
        assert _gone(pid) and not server.alive() and not _answers(port)
        assert folder.is_dir() and any(folder.iterdir()), "the data folder survives the crash"
        server.restart()
        assert server.port == port and server.server_pid != pid
        assert client.get("writes") == "500"  # acknowledged writes were in the AOF: a killed process loses none
        client.close()
    finally:
        server.stop()
    assert not folder.exists(), "stop() removes the temporary folder"


def test_restart_of_a_running_server_shuts_it_down_cleanly_so_rdb_saves(server_program):
    server = PrivateRedis(config={"save": "3600 1"}).start()
    try:
        client = server.client()
        client.set("kept", "by the snapshot taken at shutdown")
        server.restart()
        assert client.get("kept") == "by the snapshot taken at shutdown"
        client.close()
    finally:
        server.stop()


@LINUX
def test_crash_also_kills_a_background_save_in_progress(server_program):
    server = PrivateRedis(config={"rdb-key-save-delay": 100_000}).start()  # 100 ms per key: a slow BGSAVE
    try:
        client = server.client()
        client.mset({f"key:{n}": n for n in range(50)})
        client.bgsave()
        deadline = time.monotonic() + 5
        while not _children(server.server_pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        children = _children(server.server_pid)
        assert children, "the BGSAVE child is running"
        server.crash()
        assert all(_gone(child) for child in children), "the snapshot child outlived the crashed server"
        client.close()
    finally:
        server.stop()


def test_pause_freezes_the_server_and_resume_thaws_it(server_program):
    server = PrivateRedis().start()
    try:
        client = server.client(socket_timeout=0.3, retry=None)  # no retries: one timeout is the answer
        server.pause()
        with pytest.raises(redis.TimeoutError):
            client.ping()
        server.resume()
        assert server.client().ping()
        server.pause()
        started = time.monotonic()
        server.stop()  # a frozen server would ignore SIGTERM: stop() thaws it first
        assert time.monotonic() - started < 3
        client.close()
    finally:
        server.stop()


def test_a_data_dir_given_by_the_caller_is_kept(server_program, tmp_path):
    folder = tmp_path / "data"
    server = PrivateRedis(data_dir=str(folder), config={"save": "3600 1"}).start()
    server.client().set("k", "v")
    server.stop()  # a clean stop: Redis saves at shutdown
    assert (folder / "dump.rdb").exists()
    again = PrivateRedis(data_dir=str(folder), config={"save": "3600 1"}).start()
    try:
        assert again.client().get("k") == "v"
    finally:
        again.stop()


def test_a_server_that_asks_for_a_password_starts_at_once(server_program):
    started = time.monotonic()
    server = PrivateRedis(config={"requirepass": "s3cret"}).start()
    try:
        assert time.monotonic() - started < 2
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=server.port, retry=None).ping()
        assert server.client(password="s3cret").ping()
    finally:
        server.stop()


# -- the lesson's experiments measure what they claim --------------------------------------------------------
def test_crash_test_counts_what_a_kill_loses(server_program):
    lost_all = prod.crash_test("none", {}, seconds=0.3)
    assert lost_all["acknowledged"] > 0 and lost_all["recovered"] == 0 and lost_all["lost %"] == 100
    kept_all = prod.crash_test("aof", {"appendonly": "yes", "appendfsync": "always"}, seconds=0.3)
    assert kept_all["acknowledged"] > 0 and kept_all["lost"] == 0
    assert kept_all["recovered"] - kept_all["acknowledged"] in (0, 1)  # at most the write in flight
    assert prod.running() == []


def test_fill_until_full_shows_each_policy_at_work(server_program):
    refused = prod.fill_until_full("noeviction", writes=6000)
    assert refused["sessions refused"] > 0 and refused["evicted keys"] == 0
    evicting = prod.fill_until_full("allkeys-lru", writes=6000)
    assert evicting["sessions refused"] == evicting["cache refused"] == 0 and evicting["sessions kept"] < 3000
    volatile = prod.fill_until_full("volatile-ttl", writes=6000)
    assert volatile["sessions kept"] == volatile["sessions written"] and volatile["cache kept"] < 3000
    assert prod.running() == []


def test_a_one_node_cluster_refuses_keys_of_two_slots(server_program):
    node = prod.start_cluster_of_one()
    try:
        client = node.client()
        with pytest.raises(redis.ResponseError, match="hash to the same slot"):
            client.mset({"user:42:name": "Ada", "user:42:email": "ada@example.com"})
        assert client.mset({"{user:42}:name": "Ada", "{user:42}:email": "ada@example.com"})
        for key in ("user:42:name", "{user:42}:cart", "a{}b", "x{y}{z}"):  # the checker computes slots in Python
            from redis.crc import key_slot

            assert client.execute_command("CLUSTER", "KEYSLOT", key) == key_slot(key.encode())
        client.close()
    finally:
        assert prod.stop_all() == 1


@LINUX
def test_stop_all_leaves_no_redis_server_behind(server_program):
    before = set(_redis_servers_under(os.getpid()))  # other tests of this worker may hold servers of their own
    servers = [prod.start(), prod.start(appendonly="yes"), prod.start()]
    servers[1].crash()
    pids = [server.server_pid for server in servers]
    assert prod.stop_all() == 2
    assert all(_gone(pid) for pid in pids)
    assert set(_redis_servers_under(os.getpid())) - before == set()


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        children = _children(todo.pop())
        found += children
        todo += children
    return found


def _redis_servers_under(pid: int) -> list[int]:
    servers = []
    for child in _descendants(pid):
        try:
            if Path(f"/proc/{child}/comm").read_text().strip() == "redis-server":  # not the guardians
                servers.append(child)
        except OSError:
            continue
    return servers


# -- the notebook's servers die with its kernel --------------------------------------------------------------
def _cells_until(marker: str) -> list[str]:
    """The notebook's code cells, from the first to the one containing marker (its %%needs_redis_server line)."""
    sources = [cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells if cell.cell_type == "code"]
    end = next(index for index, source in enumerate(sources) if marker in source)
    return sources[: end + 1]


@LINUX
def test_a_killed_kernel_running_the_notebook_leaves_no_redis_server(server_program, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_BACKEND", "fake")
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(tmp_path / "progress.jsonl"))
    kernel = KernelManager(kernel_name="python3")
    kernel.start_kernel(cwd=str(NOTEBOOK.parent))
    client = kernel.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        first = _cells_until("production.info_memory")
        replication = next(s for s in _cells_until("production.replication") if "production.replication" in s)
        for source in [*first, replication]:
            reply = client.execute_interactive(source, timeout=120)
            assert reply["content"]["status"] == "ok", source[:80]
        kernel_pid = kernel.provisioner.process.pid
        servers = _redis_servers_under(kernel_pid)
        assert len(servers) == 3, f"expected the lab, a primary and a replica, found {servers}"
        os.kill(kernel_pid, signal.SIGKILL)  # the kernel alone: no atexit, no finally
        assert all(_gone(pid) for pid in servers), "a redis-server outlived its kernel"
    finally:
        client.stop_channels()
        if kernel.is_alive():
            kernel.shutdown_kernel(now=True)


def test_the_notebook_stops_its_servers_in_its_last_server_cell():
    sources = [cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells if cell.cell_type == "code"]
    server_cells = [source for source in sources if SERVER_CELL.search(source)]
    assert "prod.stop_all()" in server_cells[-1]
    assert all("prod.stop_all()" not in source for source in server_cells[:-1])


# -- %%needs_redis_server --------------------------------------------------------------------------------------
def test_every_server_cell_has_a_capture_of_a_real_run_with_its_plots():
    sources = [cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells if cell.cell_type == "code"]
    names = [match for source in sources for match in SERVER_CELL.findall(source)]
    assert len(names) == len(set(names)) >= 10
    for name in names:
        capture = _cells.load_capture(name)
        assert capture is not None and capture.output.strip(), f"no capture for {name}: run scripts/capture_cells.py"
        assert re.fullmatch(r"Redis \d+\.\d+\.\d+", capture.server), capture.server
    for name in ("production.eviction_plot", "production.crash_plot"):
        capture = _cells.load_capture(name)
        assert capture is not None and any("image/png" in bundle for bundle in capture.displays), name


def test_without_the_program_a_server_cell_shows_the_command_and_a_real_run(monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    _cells.needs_redis_server("production.crash_test", "raise RuntimeError('this cell must not run')")
    printed = capsys.readouterr().out
    assert "the redis-server program is not installed here: install it with `sudo apt-get install redis-server`" in (
        printed
    )
    assert re.search(r"What this cell printed on Redis \d+\.\d+\.\d+ \(a real run, captured", printed)
    assert "appendfsync always" in printed  # the stored table


@pytest.mark.parametrize(
    ("platform", "conda", "command"),
    [
        ("darwin", False, "`brew install redis`"),
        ("linux", False, "`sudo apt-get install redis-server`"),
        ("linux", True, "`conda install -c conda-forge redis-server`"),
        ("win32", False, "WSL"),
    ],
)
def test_the_command_to_get_the_program_fits_the_platform(monkeypatch, platform, conda, command):
    monkeypatch.setattr(sys, "platform", platform)
    if conda:
        monkeypatch.setenv("CONDA_PREFIX", sys.prefix)
    else:
        monkeypatch.delenv("CONDA_PREFIX", raising=False)
    assert command in _programs.how_to_get_redis_server()


def test_in_a_browser_tab_a_server_cell_says_so(monkeypatch, capsys):
    monkeypatch.setattr(sys, "platform", "emscripten")
    _cells.needs_redis_server("production.eviction", "raise RuntimeError('this cell must not run')")
    assert "which a browser tab cannot do" in capsys.readouterr().out


def _path_without_redis_server(tmp_path: Path) -> str:
    """PATH, with each folder that holds a redis-* program replaced by a folder of links to everything else."""
    folders = []
    for number, entry in enumerate(os.environ.get("PATH", "").split(os.pathsep)):
        folder = Path(entry)
        if not folder.is_dir() or not any(folder.glob("redis-*")):
            folders.append(entry)
            continue
        mirror = tmp_path / f"bin{number}"
        mirror.mkdir()
        for program in folder.iterdir():
            if not program.name.startswith("redis-"):
                (mirror / program.name).symlink_to(program)
        folders.append(str(mirror))
    return os.pathsep.join(folders)


@LINUX
@pytest.mark.notebooks
def test_the_notebook_runs_without_the_program(tmp_path, monkeypatch):
    """Run All where redis-server is not installed: every server cell shows a real run, and nothing fails."""
    from notebook_runner import execute

    monkeypatch.setenv("PATH", _path_without_redis_server(tmp_path))
    monkeypatch.setenv("COURSE_BACKEND", "fake")
    assert shutil.which("redis-server") is None
    notebook = execute(NOTEBOOK)
    texts = []
    for cell in notebook.cells:
        outputs = json.dumps(cell.get("outputs", []))
        assert "Traceback" not in outputs, cell.source[:80]
        if cell.cell_type == "code" and SERVER_CELL.search(cell.source):
            texts.append(outputs)
    assert texts and all("is not installed here" in text and "a real run, captured" in text for text in texts)
    assert any("image/png" in text for text in texts), "the stored plots are shown"
