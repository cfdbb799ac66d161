"""Checks run away from the kernel with a hard deadline, by fork, by a spawned worker, or inline (Pyodide)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from course_helpers import _sandbox, _spawn, exercises
from course_helpers._results import Outcome
from course_helpers._sandbox import can_fork, run_isolated

GREETING = exercises.get("welcome.save_greeting")
STRATEGIES = [
    pytest.param("fork", marks=pytest.mark.skipif(not can_fork(), reason="needs os.fork")),
    "spawn",
    "inline",
]
ISOLATED = [strategy for strategy in STRATEGIES if getattr(strategy, "values", [strategy])[0] != "inline"]


@pytest.fixture(params=STRATEGIES)
def sandbox(request, monkeypatch) -> str:
    """Checks in this test run with the given strategy (COURSE_SANDBOX)."""
    monkeypatch.setenv("COURSE_SANDBOX", request.param)
    return request.param


@pytest.fixture(params=ISOLATED)
def separate_process(request, monkeypatch) -> str:
    """Checks run in another process: fork or spawn."""
    monkeypatch.setenv("COURSE_SANDBOX", request.param)
    return request.param


def _sleeps_a_minute() -> Outcome:
    time.sleep(60)
    return Outcome("pass")


def test_the_default_is_fork_on_linux_and_spawn_without_fork(monkeypatch):
    monkeypatch.delenv("COURSE_SANDBOX", raising=False)
    assert _sandbox.strategy() == ("fork" if sys.platform.startswith("linux") else "spawn")
    monkeypatch.delattr(os, "fork")
    assert _sandbox.strategy() == "spawn"
    monkeypatch.setattr(sys, "platform", "emscripten")
    assert _sandbox.strategy() == "inline"


def test_a_wrong_course_sandbox_is_a_set_up_problem_with_the_fix(monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX", "thread")
    result = GREETING.check(GREETING.reference)
    assert result.status == "env_problem" and "one of fork, spawn or inline" in result.message


def test_forcing_fork_where_there_is_none_is_a_set_up_problem_that_names_spawn(monkeypatch):
    monkeypatch.delattr(os, "fork", raising=False)  # as on Windows
    monkeypatch.setenv("COURSE_SANDBOX", "fork")
    result = GREETING.check(GREETING.reference)
    assert result.status == "env_problem", result
    assert "has no os.fork" in result.message and "use spawn" in result.message, result.message


def test_an_endless_task_is_stopped_at_its_deadline(sandbox):
    started = time.monotonic()
    outcome = run_isolated(_sleeps_a_minute, timeout=0.5)
    assert outcome.status == "timeout"
    assert time.monotonic() - started < 5  # spawn may wait for its worker to start: that is not the deadline


def test_a_process_that_dies_is_reported_not_raised(separate_process):
    def exits(r, name):
        os._exit(3)

    result = GREETING.check(exits)
    assert result.status == "error" and "exit code 3" in result.message and "os._exit()" in result.message


def test_inline_os_exit_is_the_learners_error_and_the_process_lives(monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX", "inline")

    def exits(r, name):
        os._exit(3)

    result = GREETING.check(exits)
    assert result.status == "error" and "SystemExit" in result.message and "return a value instead" in result.message


def test_what_learner_code_prints_is_captured_and_shown(sandbox):
    def chatty(r, name):
        print("debugging", name)
        r.set(f"greeting:{name}", f"Hello, {name}!")

    result = GREETING.check(chatty)
    assert result.passed
    assert "debugging Ada" in result.output and "Your code printed" in str(result)


def test_learner_exception_names_the_line_without_a_traceback_wall(sandbox):
    def broken(r, name):
        profile = {"name": name}
        r.set(f"greeting:{name}", profile)

    result = GREETING.check(broken)
    assert result.status == "error"
    assert "DataError" in result.message and "json.dumps" in result.message
    assert "line" in result.message and 'r.set(f"greeting:{name}", profile)' in result.message
    assert "Traceback" not in result.message


@pytest.mark.parametrize("strategy", ["inline", "spawn"])
def test_a_loop_that_catches_everything_is_still_stopped(strategy, monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX", strategy)
    monkeypatch.setenv("COURSE_CHECK_TIMEOUT", "0.5")

    def stubborn(r, name):
        while True:
            try:  # noqa: SIM105 - the point: a learner's loop that swallows every exception, KeyboardInterrupt too
                r.set("x", 1)
            except BaseException:
                pass

    started = time.monotonic()
    result = GREETING.check(stubborn)
    assert result.status == "timeout" and "still running after 0.5 s" in result.message
    assert time.monotonic() - started < 5


def _open_descriptors() -> int:
    for folder in ("/proc/self/fd", "/dev/fd"):
        if os.path.isdir(folder):
            return len(os.listdir(folder))
    pytest.skip("no way to count open file descriptors here")


def test_many_checks_leak_no_threads_and_no_file_descriptors(sandbox, monkeypatch):
    GREETING.check(GREETING.reference)  # warm up lazily created resources (the spawn worker and its reader)
    threads, fds = threading.active_count(), _open_descriptors()

    def sleeper(r, name):
        r.blpop("never", 0)

    for _ in range(10):
        assert GREETING.check(GREETING.reference).passed
    if sandbox != "inline":  # inline, BLPOP 0 on the in-process fakeredis is judged by the lite tests
        monkeypatch.setenv("COURSE_CHECK_TIMEOUT", "0.5")
        assert GREETING.check(sleeper).status == "timeout"
        monkeypatch.delenv("COURSE_CHECK_TIMEOUT")
        assert GREETING.check(GREETING.reference).passed  # the replacement worker is the one left running
    assert threading.active_count() == threads
    assert _open_descriptors() == fds


def test_a_kernel_with_over_a_thousand_files_open_can_still_check(sandbox):
    # A learner's kernel (or a long test run) can hold more descriptors than select() accepts (1024).
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2048:
        pytest.skip(f"this machine allows only {hard} open files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2048), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        result = GREETING.check(GREETING.reference)
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert result.passed, str(result)


def test_check_result_renders_escaped_html_and_plain_text():
    def sneaky(r, name):
        r.set(f"greeting:{name}", "<script>alert(1)</script>")

    result = GREETING.check(sneaky)
    assert result.status == "fail"
    assert "<script>" not in result._repr_html_() and "&lt;script&gt;" in result._repr_html_()
    assert str(result).startswith("✗ Not yet [welcome.save_greeting]")
    assert "What your code sent to Redis" in str(result) and "SET greeting:Ada" in result.sent


# -- spawn: the learner's function travels by value -------------------------------------------------------
NOTEBOOK_CELLS = """
import json as j                      # an import under another name, in one cell
PUNCTUATION = "!"                     # a global, in another
def greeting_for(name):               # a helper, in a third
    return f"Hello, {name}{PUNCTUATION}"
def make_answer():
    prefix = "greeting:"              # a closure
    def save_greeting(r, name):
        r.set(prefix + name, j.loads(j.dumps(greeting_for(name))))
    return save_greeting
answer = make_answer()
"""


def _notebook_answer():
    namespace = {"__name__": "__main__"}  # as in a notebook: cloudpickle sends such functions by value
    exec(compile(textwrap.dedent(NOTEBOOK_CELLS), "<notebook cell>", "exec"), namespace)
    return namespace["answer"]


def test_spawn_runs_answers_that_use_notebook_globals_helpers_imports_and_closures(monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX", "spawn")
    result = GREETING.check(_notebook_answer())
    assert result.passed, str(result)


def test_an_answer_that_cannot_travel_gets_one_sentence_naming_the_variable(monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX", "spawn")
    namespace = {"__name__": "__main__", "threading": threading}
    exec("lock = threading.Lock()\ndef save_greeting(r, name):\n    with lock:\n        r.set(name, 1)", namespace)
    result = GREETING.check(namespace["save_greeting"])
    assert result.status == "error"
    assert "variable lock (a threading lock)" in result.message and "create it inside your function" in result.message
    assert "Traceback" not in result.message and "pickle" not in result.message.lower()


def test_a_check_that_leaves_a_thread_running_gets_a_fresh_worker(monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX", "spawn")

    def leaves_a_thread(r, name):
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        r.set(f"greeting:{name}", f"Hello, {name}!")

    GREETING.check(GREETING.reference)
    first = _spawn._worker
    assert GREETING.check(leaves_a_thread).passed
    assert first is not None and not first.alive()  # the thread died with its process


def test_the_worker_exits_when_its_kernel_is_killed(tmp_path):
    script = tmp_path / "kernel.py"
    script.write_text(
        "import os, sys, time\n"
        "os.environ['COURSE_SANDBOX'] = 'spawn'\n"
        "from course_helpers import _spawn, exercises\n"
        "exercise = exercises.get('welcome.save_greeting')\n"
        "assert exercise.check(exercise.reference).passed\n"
        "print(_spawn._worker.process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    kernel = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker_pid = int(kernel.stdout.readline())
    kernel.send_signal(signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
    kernel.wait()
    deadline = time.monotonic() + 10
    while _pid_alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _pid_alive(worker_pid)


def _pid_alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        return "State:\tZ" not in status.read_text()  # a zombie has ended; only its parent has not reaped it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_what_one_answer_changes_for_the_whole_process_does_not_reach_the_next_check(monkeypatch):
    monkeypatch.setenv("COURSE_SANDBOX", "spawn")

    def meddles(r, name):
        import socket
        import warnings

        socket.setdefaulttimeout(0.000001)
        warnings.simplefilter("error")
        os.environ["REDIS_URL"] = "redis://nowhere:1"
        os.chdir(os.sep)
        r.set(f"greeting:{name}", f"Hello, {name}!")

    def inspects(r, name):
        import socket
        import warnings

        assert socket.getdefaulttimeout() is None and "REDIS_URL" not in os.environ
        warnings.warn("only a warning", UserWarning, stacklevel=1)  # raises if the filter stayed at "error"
        r.set(f"greeting:{name}", f"Hello, {name}!")

    assert GREETING.check(meddles).passed
    worker = _spawn._worker
    result = GREETING.check(inspects)
    assert result.passed, str(result)
    assert _spawn._worker is worker  # the same warm worker, put back as it was


DIES_AT_ONCE = "import sys; sys.stderr.write('ImportError: a broken installation'); sys.exit(3)"
# Under load the pipe's end can be seen well before the OS reports the exit: still a worker that died.
DIES_SLOWLY = (
    "import os, sys, time; sys.stderr.write('ImportError: a broken installation'); os.close(1); time.sleep(1); "
    "sys.exit(3)"
)


@pytest.mark.parametrize("dies", [DIES_AT_ONCE, DIES_SLOWLY], ids=["at-once", "closes-output-first"])
def test_a_worker_that_cannot_start_says_so_with_what_it_printed(monkeypatch, dies):
    monkeypatch.setenv("COURSE_SANDBOX", "spawn")
    _spawn.shutdown()
    monkeypatch.setattr(_spawn.Worker, "command", staticmethod(lambda: [sys.executable, "-c", dies]))
    try:
        result = GREETING.check(GREETING.reference)
    finally:
        _spawn.shutdown()
    assert result.status == "env_problem"
    assert "ended as it started (exit code 3)" in result.message and "a broken installation" in result.message
