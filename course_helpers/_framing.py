"""Length-prefixed frames over a pipe: how the kernel and the check worker exchange jobs and replies."""

from __future__ import annotations

from typing import IO

HEADER = 8
READY = b"ready"  # the worker's first frame: imports done, waiting for jobs


def write_frame(stream: IO[bytes], data: bytes) -> None:
    """Write one frame (8-byte length, then data) and flush it."""
    stream.write(len(data).to_bytes(HEADER, "big") + data)
    stream.flush()


def _read_exact(stream: IO[bytes], size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: IO[bytes]) -> bytes | None:
    """The next frame's data, or None when the other end has closed the pipe."""
    header = _read_exact(stream, HEADER)
    if header is None:
        return None
    return _read_exact(stream, int.from_bytes(header, "big"))
