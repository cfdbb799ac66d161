"""How much a pipeline saves over one round trip per command, measured on any redis-py client.

Used by notebook 09-pipelines and by `make bench`. Run `python -m course_helpers.measure_pipelines` to print
the table for the course's Redis (COURSE_BACKEND=fake or real chooses which).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence

import pandas as pd
import redis

from ._safety import unlink_in_batches

PREFIX = "bench:pipeline:"
_DELETE_CHUNK = 500


def _keys(run: str, count: int) -> list[str]:
    """count key names under this run's own prefix."""
    return [f"{PREFIX}{run}:{number}" for number in range(count)]


def time_loop(client: redis.Redis, keys: Sequence[str]) -> float:
    """Seconds to SET each key with a command of its own: one round trip per key."""
    started = time.perf_counter()
    for key in keys:
        client.set(key, "x")
    return time.perf_counter() - started


def time_pipeline(client: redis.Redis, keys: Sequence[str]) -> float:
    """Seconds to SET every key through one non-transactional pipeline: one round trip in all."""
    started = time.perf_counter()
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.set(key, "x")
    pipe.execute()
    return time.perf_counter() - started


def _delete(client: redis.Redis, keys: Sequence[str]) -> None:
    """Delete keys in chunks, so that no single command carries thousands of them."""
    unlink_in_batches(client, keys, batch_size=_DELETE_CHUNK)


def pipeline_speedup(
    client: redis.Redis, batch_sizes: Iterable[int] = (1, 10, 100, 1000), repeat: int = 3
) -> pd.DataFrame:
    """Best-of-repeat seconds for a batch of SETs one by one and in one pipeline, and their ratio, per batch size."""
    sizes = [int(size) for size in batch_sizes]
    if not sizes or min(sizes) < 1 or repeat < 1:
        raise ValueError("batch_sizes must be positive integers and repeat at least 1")
    run = uuid.uuid4().hex[:8]
    keys = _keys(run, max(sizes))
    rows = []
    try:
        client.ping()  # connect before timing anything
        for size in sizes:
            batch = keys[:size]
            loop = min(time_loop(client, batch) for _ in range(repeat))
            piped = min(time_pipeline(client, batch) for _ in range(repeat))
            rows.append(
                {"batch": size, "loop_seconds": loop, "pipeline_seconds": piped, "speedup": loop / max(piped, 1e-9)}
            )
    finally:
        _delete(client, keys)
    return pd.DataFrame(rows, columns=["batch", "loop_seconds", "pipeline_seconds", "speedup"])


def main() -> None:
    """Print the speedup table for the course's own Redis."""
    from . import backend, connect

    client = connect()
    chosen = backend()
    table = pipeline_speedup(client)
    client.close()
    print(f"{chosen.kind} Redis {chosen.version}")
    print(table.to_string(index=False, float_format=lambda value: f"{value:.6f}"))


if __name__ == "__main__":
    main()
