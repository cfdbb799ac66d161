"""What a browser tab (Pyodide, in JupyterLite) cannot do, and how checks do without it.

- No server sockets: a check that hands the learner a redis:// URL gives a placeholder URL instead, and adopts
  the client the learner built from it, so that the client talks to the check's in-process fakeredis.
- No Lua: fakeredis runs scripts with lupa, which has no WebAssembly build.
- No threads: see _scheduler.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import redis

PLACEHOLDER_HOST = "course-redis.invalid"  # .invalid never resolves: nothing can be reached there by accident
PLACEHOLDER_PORT = 6379
PLACEHOLDER_URL = f"redis://{PLACEHOLDER_HOST}:{PLACEHOLDER_PORT}"
NOT_SUPPORTED = 138  # Emscripten's ENOTSUP: what a browser tab's socket calls fail with

# What fakeredis answers only with lupa: scripts and functions.
LUA_COMMANDS = frozenset({"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO", "SCRIPT", "FUNCTION"})
_NO_LUA = (
    "which cannot run in a browser tab (fakeredis runs scripts with the lupa library, which has no WebAssembly build)"
)
# The check of an exercise whose every right answer is a script, in a browser tab (Trial.require_scripting).
LUA_UNAVAILABLE = (
    f"This exercise needs Lua, {_NO_LUA}, so do it in JupyterLab on your computer (`python tasks.py lab`) or on "
    "Binder, where the same check runs."
)
# An answer that sent a script, in a browser tab.
LUA_IN_ANSWER = (
    f"Your answer runs a Lua script, {_NO_LUA}, so check it in JupyterLab on your computer (`python tasks.py lab`) "
    "or on Binder, where the same check runs."
)


def in_browser() -> bool:
    """True in Pyodide (JupyterLite): no threads, no server sockets, no subprocesses."""
    return sys.platform == "emscripten"


def can_serve_tcp() -> bool:
    """True where this process can listen on a TCP port (everywhere but a browser tab)."""
    return not in_browser()


def can_run_lua() -> bool:
    """True where fakeredis can run Lua scripts (lupa is installed)."""
    return importlib.util.find_spec("lupa") is not None


def lua_unavailable(in_answer: bool) -> str:
    """Why a check cannot judge Lua here, and where to do it: one sentence (in_answer: the learner's answer sent a
    script; else the exercise needs one)."""
    if in_browser():
        return LUA_IN_ANSWER if in_answer else LUA_UNAVAILABLE
    what = "Your answer runs a Lua script" if in_answer else "This exercise needs Lua"
    return (
        f"{what}, and the built-in fakeredis runs scripts only with the lupa package, which is not installed here, "
        "so install it (`python tasks.py install` does) or set COURSE_CHECK_BACKEND=real, then run the check again."
    )


class NoNetworkConnection(redis.Connection):
    """A connection to any host but the placeholder, in a browser: it fails as a browser's socket does."""

    def _connect(self) -> Any:
        # redis-py turns it into "Error 138 connecting to host:port. ...", and retries the command as it would
        # after a refused connection on a computer: the check sees the same error, after the same back-off.
        raise OSError(NOT_SUPPORTED, "a browser tab cannot open network connections")


def adopt_client(client: Any, connection_class: type, server: Any) -> Any:
    """Point a client that was built from the placeholder URL at the in-process fakeredis `server` (through
    connection_class, a fakeredis connection class); any other client fails to connect, as in a browser.

    Only the pool's way of connecting changes: its database, credentials and decode_responses stay the learner's.
    Anything that is not a redis.Redis is returned as it is, for the check to judge.
    """
    if not isinstance(client, redis.Redis):
        return client
    pool = client.connection_pool
    settings = pool.connection_kwargs
    placeholder = (settings.get("host"), settings.get("port")) == (PLACEHOLDER_HOST, PLACEHOLDER_PORT)
    if placeholder and pool.connection_class is redis.Connection:
        pool.connection_class = connection_class
        settings["server"] = server
    else:
        pool.connection_class = NoNetworkConnection
    pool.reset()  # drop any connection made before the switch
    return client
