"""Redis URLs: print them without their password, and split off the database number."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import redis

from ._safety import CourseEnvironmentError


def redact(url: str) -> str:
    """The URL with any password replaced by ***, safe to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def split_db(url: str) -> tuple[str, int | None]:
    """Separate '/N' from a redis:// URL: (URL without the database, N or None)."""
    try:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"the scheme is {parts.scheme or 'missing'}")
        redis.connection.parse_url(url)
        path = parts.path.strip("/")
        db = int(path) if path else None
        parts.port  # noqa: B018 - raises ValueError on a non-numeric port
    except ValueError as error:
        raise CourseEnvironmentError(
            f"REDIS_URL={redact(url)!r} is not a Redis URL ({error}); write it like "
            "redis://localhost:6379 or redis://:password@host:6379/15, or unset REDIS_URL to use the "
            "built-in fakeredis."
        ) from None
    return urlunsplit((parts.scheme, parts.netloc, "", parts.query, "")), db
