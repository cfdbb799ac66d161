"""A redis-server or worker the course starts never outlives its owner, however the owner ends."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest
from jupyter_client import KernelManager

pytestmark = pytest.mark.real


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _wait_until_gone(port: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _answers(port):
            return True
        time.sleep(0.05)
    return False


def test_a_killed_kernel_takes_its_check_server_with_it(real_server, tmp_path):
    kernel = KernelManager(kernel_name="python3")
    kernel.start_kernel(cwd=str(tmp_path))
    client = kernel.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        code = "from course_helpers._private_server import real_server_for_checks\nprint(real_server_for_checks().port)"
        ports: list[int] = []
        client.execute_interactive(code, timeout=60, output_hook=lambda m: ports.extend(_printed_ints(m)))
        assert ports and _answers(ports[0])
        # SIGKILL to the kernel process alone (not its process group): no atexit, no finally, nothing of the
        # kernel runs again, and its children are left to fend for themselves.
        os.kill(kernel.provisioner.process.pid, signal.SIGKILL)
        assert _wait_until_gone(ports[0]), "the check server outlived its kernel"
    finally:
        client.stop_channels()
        if kernel.is_alive():
            kernel.shutdown_kernel(now=True)


def _printed_ints(message: dict) -> list[int]:
    text = message.get("content", {}).get("text", "") if message.get("msg_type") == "stream" else ""
    return [int(word) for word in text.split() if word.isdigit()]


def test_a_process_that_ends_with_os_exit_takes_its_servers_with_it(real_server):
    code = textwrap.dedent(
        """
        import os
        from course_helpers import PrivateRedis
        servers = [PrivateRedis().start() for _ in range(2)]
        print(*(server.port for server in servers), flush=True)
        os._exit(0)
        """
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    ports = [int(word) for word in output.split()]
    assert len(ports) == 2
    for port in ports:
        assert _wait_until_gone(port), f"the server on port {port} outlived the process that started it"
