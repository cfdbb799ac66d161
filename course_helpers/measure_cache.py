"""A cache-aside workload in front of a slow SQLite source: hit ratio and latency with and without Redis.

Used by notebook 11-caching (to plot) and by `make bench` (to report). Every key it writes starts with a
fresh prefix (measure-cache:<random>:) and is deleted before it returns, so it is safe on the course's database.
"""

from __future__ import annotations

import json
import random
import secrets
import sqlite3
import threading
import time
from itertools import accumulate
from typing import TYPE_CHECKING, Any

import redis

from ._safety import unlink_in_batches

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SlowCatalog", "popular_requests", "run_workload", "simulate_cache_workload", "summarize"]


class SlowCatalog:
    """Products in an in-memory SQLite database; every query first sleeps delay_ms, like a busy database."""

    def __init__(self, products: int = 100, delay_ms: float = 2.0, seed: int = 0) -> None:
        """Create `products` rows (ids 1..products) with deterministic names and prices."""
        rng = random.Random(seed)
        self.delay_ms = delay_ms
        self.queries = 0
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price REAL, stock INTEGER)")
        self._db.executemany(
            "INSERT INTO products VALUES (?, ?, ?, ?)",
            [
                (number, f"Product {number}", round(rng.uniform(1, 200), 2), rng.randint(0, 50))
                for number in range(1, products + 1)
            ],
        )
        self._db.commit()

    def get(self, product_id: int) -> dict[str, Any] | None:
        """One product as a dict, or None when there is no such id (slow: sleeps delay_ms first)."""
        time.sleep(self.delay_ms / 1000)
        with self._lock:
            self.queries += 1
            row = self._db.execute("SELECT id, name, price, stock FROM products WHERE id = ?", (product_id,)).fetchone()
        return None if row is None else dict(zip(("id", "name", "price", "stock"), row, strict=True))

    def close(self) -> None:
        """Close the SQLite connection."""
        self._db.close()


def popular_requests(requests: int, keys: int, skew: float = 1.1, seed: int = 0) -> list[int]:
    """Product ids 1..keys for `requests` requests, a few popular ids asked often (Zipf-like, exponent skew)."""
    rng = random.Random(seed)
    weights = list(accumulate(1 / rank**skew for rank in range(1, keys + 1)))
    ids = list(range(1, keys + 1))
    rng.shuffle(ids)  # the popular products are not simply the lowest ids
    return [ids[index] for index in rng.choices(range(keys), cum_weights=weights, k=requests)]


def _cached_get(
    client: redis.Redis, catalog: SlowCatalog, key: str, product_id: int, ttl_ms: int
) -> tuple[dict[str, Any] | None, bool]:
    """Cache-aside read: (value, True) on a hit, (value, False) after asking the catalog."""
    cached = client.get(key)
    if cached is not None:
        return json.loads(cached), True
    value = catalog.get(product_id)
    client.set(key, json.dumps(value), px=ttl_ms)
    return value, False


def _delete_prefix(client: redis.Redis, prefix: str) -> int:
    """Delete every key under prefix (which holds no glob characters), with SCAN."""
    return unlink_in_batches(client, client.scan_iter(match=prefix + "*", count=500))


def run_workload(
    client: redis.Redis,
    requests: int = 300,
    keys: int = 100,
    ttl: float = 30.0,
    seed: int = 0,
    delay_ms: float = 2.0,
    skew: float = 1.1,
    baseline: bool = True,
) -> pd.DataFrame:
    """One row per request: request, product, mode ("no cache" or "cache-aside"), hit, ms (ttl in seconds)."""
    import pandas as pd

    catalog = SlowCatalog(products=keys, delay_ms=delay_ms, seed=seed)
    plan = popular_requests(requests, keys, skew=skew, seed=seed)
    prefix = f"measure-cache:{secrets.token_hex(4)}:"
    ttl_ms = max(1, round(ttl * 1000))
    rows: list[tuple[int, int, str, bool, float]] = []
    try:
        if baseline:
            for number, product_id in enumerate(plan):
                started = time.perf_counter()
                catalog.get(product_id)
                rows.append((number, product_id, "no cache", False, (time.perf_counter() - started) * 1000))
        for number, product_id in enumerate(plan):
            started = time.perf_counter()
            _, hit = _cached_get(client, catalog, f"{prefix}product:{product_id}", product_id, ttl_ms)
            rows.append((number, product_id, "cache-aside", hit, (time.perf_counter() - started) * 1000))
    finally:
        _delete_prefix(client, prefix)
        catalog.close()
    return pd.DataFrame(rows, columns=["request", "product", "mode", "hit", "ms"])


def summarize(frame: pd.DataFrame) -> dict[str, float]:
    """hit_ratio and the median and p95 latency (ms) of each mode in a run_workload frame."""
    summary: dict[str, float] = {}
    cached = frame[frame["mode"] == "cache-aside"]
    summary["requests"] = float(len(cached))
    summary["hit_ratio"] = round(float(cached["hit"].mean()), 4) if len(cached) else 0.0
    for mode, name in (("cache-aside", "cached"), ("no cache", "uncached")):
        part = frame.loc[frame["mode"] == mode, "ms"]
        if len(part):
            summary[f"{name}_median_ms"] = round(float(part.median()), 3)
            summary[f"{name}_p95_ms"] = round(float(part.quantile(0.95)), 3)
    if "uncached_median_ms" in summary and summary.get("cached_median_ms"):
        summary["median_speedup"] = round(summary["uncached_median_ms"] / summary["cached_median_ms"], 1)
    return summary


def simulate_cache_workload(
    client: redis.Redis,
    requests: int = 300,
    keys: int = 100,
    ttl: float = 30.0,
    seed: int = 0,
    delay_ms: float = 2.0,
    skew: float = 1.1,
) -> dict[str, float]:
    """Run the workload with and without the cache; return summarize() plus the run's seconds and settings."""
    import pandas  # noqa: F401 - imported before the clock starts: the import is not part of the workload

    started = time.perf_counter()
    frame = run_workload(client, requests=requests, keys=keys, ttl=ttl, seed=seed, delay_ms=delay_ms, skew=skew)
    summary = summarize(frame)
    summary.update(
        keys=float(keys), ttl=float(ttl), delay_ms=float(delay_ms), seconds=round(time.perf_counter() - started, 3)
    )
    return summary
