"""Nothing lost: the course works only in a logical database it has claimed with a marker key.

The rule: a database belongs to the course when it holds the marker key, which the course writes only
into a database that is empty. The course reads and writes nowhere else, so an application's keys in
any other database, even under the same names the lessons use, are never touched. A database that
holds keys but no marker is refused with a message instead of being used.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable

import redis

MARKER_KEY = "redis-course:marker"
# Database 0 is where applications live; the course searches for a home from the top down.
SEARCH_ORDER = tuple(range(15, 0, -1))


class CourseEnvironmentError(RuntimeError):
    """The course cannot run as set up; the message says what to do, in one sentence or two."""


def _owned_or_empty(client: redis.Redis) -> str:
    if client.exists(MARKER_KEY):
        return "owned"
    return "empty" if client.dbsize() == 0 else "foreign"


def _claim(client: redis.Redis) -> bool:
    marker = json.dumps({"claimed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "by": "course_helpers"})
    # NX and a DBSIZE check in one transaction: a database that filled up meanwhile is not claimed.
    with client.pipeline(transaction=True) as pipe:
        pipe.dbsize()
        pipe.set(MARKER_KEY, marker, nx=True)
        size, created = pipe.execute()
    if not created:  # another course kernel claimed it a moment ago: it is the course's
        return True
    if size == 0:
        return True
    # Another program wrote keys between our checks: give the database back as we found it.
    client.delete(MARKER_KEY)
    return False


def claim_database(client_for: Callable[[int], redis.Redis], where: str, explicit_db: int | None) -> int:
    """Return the number of the database the course may use on this server, claiming one if needed."""
    if explicit_db is not None:
        client = client_for(explicit_db)
        state = _owned_or_empty(client)
        if state == "owned" or (state == "empty" and _claim(client)):
            return explicit_db
        size = client.dbsize()
        raise CourseEnvironmentError(
            f"Database {explicit_db} on {where} holds {size} keys that the course did not create, "
            "and the course never touches data it did not create. Point REDIS_URL at an empty database "
            f"(for example {where}/15) or leave the database number out and the course will pick a free one."
        )
    empty: list[int] = []
    for db in SEARCH_ORDER:
        try:
            state = _owned_or_empty(client_for(db))
        except redis.ResponseError:  # "DB index is out of range": the server has fewer databases
            continue
        if state == "owned":
            return db
        if state == "empty":
            empty.append(db)
    for db in empty:
        if _claim(client_for(db)):
            return db
    raise CourseEnvironmentError(
        f"Every database from 1 to 15 on {where} holds data that the course did not create, so the course "
        "will not write there. Free one database (or start a separate server with `redis-server --port 6380` "
        "and set REDIS_URL=redis://localhost:6380), or set COURSE_BACKEND=fake to use the built-in fakeredis."
    )


def clear_course_database(client: redis.Redis) -> int:
    """Delete every key in the course's database except the marker; refuses any other database."""
    if not client.exists(MARKER_KEY):
        raise CourseEnvironmentError(
            "This client is not connected to the course's database (it has no course marker), so clear() "
            "will not delete anything. Use the client from course_helpers.connect()."
        )
    return unlink_in_batches(client, (key for key in client.scan_iter(count=500) if key not in _MARKER_NAMES))


_MARKER_NAMES = (MARKER_KEY, MARKER_KEY.encode())


def unlink_in_batches(client: redis.Redis, keys: Iterable[str | bytes], batch_size: int = 500) -> int:
    """UNLINK the keys, batch_size per command; returns how many existed."""
    deleted = 0
    batch: list[str | bytes] = []
    for key in keys:
        batch.append(key)
        if len(batch) == batch_size:
            deleted += int(client.unlink(*batch))
            batch = []
    if batch:
        deleted += int(client.unlink(*batch))
    return deleted
