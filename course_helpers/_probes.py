"""Checker probes that recur across topics: a crash between two commands, the shape of a returned value, pub/sub.

Each builds on Trial; each failure message names the mistake and says what to do, as every check's does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from typing import Any

import redis

from ._trial import LearnerRaised, ServerTooOld, Trial
from ._wire import Command, format_command, writes_outside_transactions

EXPIRY_OPTIONS = frozenset({"EX", "PX", "EXAT", "PXAT"})
EXPIRE_COMMANDS = frozenset({"EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"})


def call_with_crash_after(t: Trial, commands: Iterable[str], *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    """Call the learner's function; once it has sent one of commands, its next send fails (a crash in between).

    Returns (crashed, value): crashed is True when the cut happened (inspect what reached Redis next), and
    value is what the call returned otherwise. A ConnectionError caused by the cut is expected.
    """
    cut = t.cut_connection_after(commands)
    value, error = t.try_call(*args, expected=(redis.ConnectionError,), **kwargs)
    if not cut["fired"] and error is not None:
        raise error  # the learner's ConnectionError without any cut: the checking Redis itself failed
    return cut["fired"], value


def expiry_set_separately(commands: Iterable[Command]) -> bool:
    """True when a SET without an expiry option and a separate EXPIRE-family command were sent outside MULTI."""
    sent = list(commands)
    names = {command[0].upper() for command in sent if command}
    plain_set = any(
        command[0].upper() == "SET" and not EXPIRY_OPTIONS & {word.upper() for word in command[3:]}
        for command in sent
        if command
    )
    return plain_set and bool(EXPIRE_COMMANDS & names) and "MULTI" not in names


def write_and_expiry_apart(
    commands: Iterable[Command], writes: Collection[str], expiries: Collection[str]
) -> str | None:
    """Writes and expiries sent outside MULTI/EXEC (a script is atomic) as "`A` and `B`" if some of each, else None."""
    loose = [
        c
        for c in writes_outside_transactions(commands, scripts_are_atomic=True)
        if c and c[0].upper() in {*writes, *expiries}
    ]
    names = {c[0].upper() for c in loose}
    if not (names & set(writes) and names & set(expiries)):
        return None
    return " and ".join(f"`{format_command(c)}`" for c in loose)


EXPIRE_CONDITIONS = frozenset({"NX", "XX", "GT", "LT"})  # EXPIRE's options since Redis 7.0


def conditional_expire_refused(t: Trial, raised: BaseException) -> Command | None:
    """The EXPIRE-family command with NX/XX/GT/LT that a server older than 7.0 refused in the learner's last call
    (so that raised is that refusal, not the learner's mistake), or None."""
    if not isinstance(raised.__context__, redis.ResponseError) or not t.server_version or t.server_version >= (7,):
        return None
    return next(
        (
            command
            for command in t.sent
            if command
            and command[0].upper() in EXPIRE_COMMANDS
            and EXPIRE_CONDITIONS & {word.upper() for word in command[3:]}
        ),
        None,
    )


def check_on_servers_before_7(t: Trial, check: Callable[[Trial], str], options: str, advice: str) -> str:
    """Run check; a right answer using EXPIRE's options (e.g. "NX option"), refused by Redis < 7.0, is ServerTooOld."""
    try:
        return check(t)
    except LearnerRaised as raised:
        refused = conditional_expire_refused(t, raised)
        if refused:
            found = ".".join(map(str, t.server_version))
            them = "them" if options.endswith("options") else "it"
            raise ServerTooOld(
                f"Your code sent `{format_command(refused)}`: EXPIRE's {options} came with Redis 7.0, and the server "
                f"that runs the checks is Redis {found}, which refuses {them}. {advice}, or set "
                "COURSE_CHECK_BACKEND=fake to check on the built-in fakeredis."
            ) from None
        raise


def shorten(value: Any, width: int) -> str:
    """repr(value), cut to width characters with an ellipsis, for a failure message."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def refuse_none(t: Trial, value: Any, advice: str) -> None:
    """Fail with "<call> returned None: <advice>" when value is None."""
    if value is None:
        t.fail(f"{t.last_call} returned None: {advice}")


def refuse_dict(t: Trial, value: Any, advice: str) -> None:
    """Fail with "<call> returned a dict; <advice>" when value is a dict (where a list keeps an order)."""
    if isinstance(value, dict):
        t.fail(f"{t.last_call} returned a dict; {advice}")


def refuse_other_types(t: Trial, value: Any, kinds: type | tuple[type, ...], advice: str) -> None:
    """Fail with "<call> returned <type> <value>; <advice>" unless value is one of kinds (bool is never an int)."""
    wanted = kinds if isinstance(kinds, tuple) else (kinds,)
    if not isinstance(value, wanted) or (isinstance(value, bool) and bool not in wanted):
        t.fail(f"{t.last_call} returned {type(value).__name__} {value!r:.60}; {advice}")


def expect_a_list_of_data(t: Trial, value: Any, example: str = "") -> None:
    """Fail unless value is a list and holds no whole message dicts; example ends that advice (", e.g. [...]")."""
    if not isinstance(value, list):
        t.fail(f"{t.last_call} returned {shorten(value, 60)}; return a list of the messages' data (str).")
    if any(isinstance(item, dict) for item in value):
        t.fail(
            f"{t.last_call} returned message dicts such as {shorten(value[0], 90)}; return only their text, "
            f"message['data']{example}."
        )


def expect_first_messages(t: Trial, value: list[Any], expected: list[str]) -> None:
    """Fail unless value is expected, the data of the first messages published, in order and no more."""
    if len(value) > len(expected) and value[: len(expected)] == expected:
        t.fail(
            f"{t.last_call} returned {len(value)} messages, {shorten(value, 70)}: stop as soon as count "
            f"({len(expected)}) messages have arrived and return just those."
        )
    if value != expected:
        t.fail(f"{t.last_call} returned {shorten(value, 80)}; expected {expected!r}, the first messages in order.")


def keep_pubsubs(t: Any) -> list[Any]:
    """Hold every PubSub the learner's code creates from t.r (sync or asyncio), and return them.

    A PubSub that is simply dropped is closed by the garbage collector, which would hide a missing
    unsubscribe; holding a reference lets the check see whether the code cleaned up by itself.
    """
    kept: list[Any] = []
    original = t.r.pubsub

    def pubsub(**kwargs: Any) -> Any:
        created = original(**kwargs)
        kept.append(created)
        return created

    t.r.pubsub = pubsub
    return kept


def still_subscribed(t: Trial, channel: str, pattern: bool = False, wait: float = 0.3) -> int:
    """How many subscribers still hear channel, allowing a moment for a close() to reach the server.

    pattern=True counts pattern subscribers too, by publishing a probe on channel: PUBSUB NUMSUB counts only
    SUBSCRIBE, and fakeredis's PUBSUB NUMPAT still counts a pattern whose connection was closed.
    """
    deadline = time.monotonic() + wait
    while True:
        if pattern:
            left = int(t.admin.publish(channel, "(a probe sent by the check)"))
        else:
            left = int(dict(t.admin.pubsub_numsub(channel)).get(channel, 0))
        if left == 0 or time.monotonic() > deadline:
            return left
        time.sleep(0.01)
