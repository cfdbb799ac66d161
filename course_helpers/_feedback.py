"""Turn an exception raised by a learner's code into a sentence that names the mistake."""

from __future__ import annotations

import traceback
from types import TracebackType

import redis

# (fragment of the error text, what it usually means): the first match adds a sentence of advice.
_KNOWN_MISTAKES: tuple[tuple[type[BaseException], str, str], ...] = (
    (
        redis.DataError,
        "Invalid input of type: 'dict'",
        "Redis stores strings, numbers and bytes, not dicts: serialize with json.dumps(...) "
        "or use a hash (HSET with mapping=).",
    ),
    (
        redis.DataError,
        "Invalid input of type: 'list'",
        "Redis stores strings, numbers and bytes, not lists: serialize with json.dumps(...) or use a Redis list.",
    ),
    (
        redis.DataError,
        "Invalid input of type: 'NoneType'",
        "you sent None as a value or key: Redis has no None; check the variable you pass.",
    ),
    (
        redis.ResponseError,
        "WRONGTYPE",
        "the key already holds a different type than this command works on: use the command family for that type.",
    ),
    (redis.ResponseError, "not an integer", "INCR/DECR/INCRBY only work on values that look like whole numbers."),
    (
        redis.ResponseError,
        "unknown command",
        "that command name does not exist (check the spelling in the Redis command reference).",
    ),
    (redis.ResponseError, "wrong number of arguments", "the command got the wrong number of arguments."),
    (
        redis.ConnectionError,
        "",
        "the connection to Redis failed: use the client r that the check passes to your function.",
    ),
    (redis.TimeoutError, "", "a Redis call took longer than the client's socket timeout."),
    (
        TypeError,
        "positional argument",
        "your function's parameters do not match how the exercise calls it: compare with the signature above.",
    ),
    (
        TypeError,
        "'NoneType' object is not subscriptable",
        "a Redis read returned None (the key or field does not exist) and the code indexed into it.",
    ),
    (
        TypeError,
        'can only concatenate str (not "bytes")',
        "you mixed bytes and str: the client decodes replies to str only with decode_responses=True.",
    ),
    (
        AttributeError,
        "'bytes' object has no attribute",
        "a reply came back as bytes: the client decodes replies to str only with decode_responses=True.",
    ),
    (
        KeyError,
        "",
        "a dict lookup failed: HGETALL returns {} for a missing key, and a field you expected may be absent.",
    ),
    (
        NameError,
        "",
        "a name is not defined inside your function: define it there, or run the cell that defines it first.",
    ),
)


def advice_for(error: BaseException) -> str:
    """One sentence of advice for a common mistake, or "" when none fits."""
    text = str(error)
    for kind, fragment, advice in _KNOWN_MISTAKES:
        if isinstance(error, kind) and fragment in text:
            return advice[:1].upper() + advice[1:]
    if isinstance(error, SystemExit):
        return "Your code called sys.exit() or exit(): return a value instead."
    return ""


def learner_line(tb: TracebackType | None, learner_file: str) -> str:
    """'line N: code' for the deepest frame in the learner's own code, or ""."""
    found = ""
    for frame in traceback.extract_tb(tb):
        if frame.filename == learner_file:
            code = (frame.line or "").strip()
            found = f"line {frame.lineno} of your function" + (f": {code}" if code else "")
    return found


def describe_exception(error: BaseException, call: str, learner_file: str) -> str:
    """'Calling f(r, 'x') raised KeyError: 'x' (line 3 of your function: ...). Advice.'"""
    name = type(error).__name__
    detail = str(error).strip()
    where = learner_line(error.__traceback__, learner_file)
    text = f"Calling {call} raised {name}" + (f": {detail}" if detail else "")
    if where:
        text += f" (at {where})"
    text += "."
    advice = advice_for(error)
    return f"{text} {advice}" if advice else text
