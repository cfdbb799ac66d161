"""An embedded fakeredis server listening on a loopback TCP port, so socket code runs for real without Redis."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from typing import Any, cast

import redis
from fakeredis import TcpFakeServer


class _RealServerManners:
    """Mixed into fakeredis' TCP request handler: behave like a real server in two ways the lessons depend on.

    The handler class is fakeredis' own (taken from a server instance, not imported from a private module);
    what this relies on of it (setup() and current_client.read_response) is covered by tests/test_embedded.py,
    and pyproject.toml bounds fakeredis below its next major version.
    """

    request: socket.socket
    current_client: Any

    def setup(self) -> None:
        # Without TCP_NODELAY, a request with several replies (a pipeline, MULTI/EXEC) stalls ~40 ms on
        # Nagle's algorithm, and pipelines would look slower than single commands.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()  # type: ignore[misc]  # the handler class this is mixed into has setup()
        read_response = self.current_client.read_response

        def reply_with_errors(*args: Any, **kwargs: Any) -> Any:
            # A real server answers a failing command with an error reply and keeps the connection;
            # the stock handler hangs up instead, which breaks EXECABORT, Lua errors and pipelines.
            try:
                return read_response(*args, **kwargs)
            except redis.ResponseError as error:
                return error

        self.current_client.read_response = reply_with_errors


def _with_manners(handler: type) -> type:
    return type(f"Course{handler.__name__}", (_RealServerManners, handler), {})


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class EmbeddedServer:
    """A TcpFakeServer on 127.0.0.1 served from a daemon thread."""

    host: str = "127.0.0.1"
    port: int = 0
    _server: TcpFakeServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> EmbeddedServer:
        """Bind a free loopback port and start serving; returns self."""
        server = TcpFakeServer((self.host, self.port), server_type="redis")
        server.RequestHandlerClass = _with_manners(cast(type, server.RequestHandlerClass))
        # Daemon handler threads: a client left open in a notebook must not keep the kernel alive at exit.
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="course-fakeredis", daemon=True
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        """The redis:// URL of this server (no database number)."""
        return f"redis://{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
