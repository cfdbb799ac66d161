"""08-transactions: MULTI/EXEC, WATCH with retries, and Lua scripts as the ways to change data atomically."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from .._exercise import Exercise, Mutant
from .._quiz import Quiz
from .._trial import Trial
from .._wire import READ_ONLY_COMMANDS, SCRIPT_COMMANDS, Command, Recorder, writes_outside_transactions

NOTEBOOK = "08-transactions"

# A script runs inside the server as one atomic step: sending one is neither a loose write nor a half-done one.
# FUNCTION (LOAD) installs code and writes no key.
_SCRIPTING = SCRIPT_COMMANDS | {"FUNCTION"}
_READS = ["GET", "MGET"]
# What may be sent between the reads and the first write without being a write itself: a concurrent write is
# injected just before the learner's first other command, after every read of the call.
_QUIET = ["GET", "MGET", "EXISTS", "TYPE", "PING", "WATCH", "UNWATCH"]


def _may_write(name: str) -> bool:
    """True for a command that may change data, other than a script (whose writes happen in one step)."""
    return name not in READ_ONLY_COMMANDS and name not in _SCRIPTING


def _word(command: Command) -> str:
    return command[0].upper() if command else "?"


# -- transactions.place_order --------------------------------------------------------------------------
def place_order(r, order_id, user, total):
    with r.pipeline() as pipe:  # transaction=True by default: sent as MULTI ... EXEC
        pipe.hset(f"order:{order_id}", mapping={"user": user, "total": total})
        pipe.rpush(f"orders:{user}", order_id)
        pipe.incrby("revenue", total)
        _, _, revenue = pipe.execute()  # one reply per queued command, in order
    return revenue


def _separate_commands(r, order_id, user, total):
    r.hset(f"order:{order_id}", mapping={"user": user, "total": total})
    r.rpush(f"orders:{user}", order_id)
    return r.incrby("revenue", total)


def _queue_order(pipe, order_id, user, total):
    """Queue place_order's three writes on pipe; the two mutants below send them or return wrongly."""
    pipe.hset(f"order:{order_id}", mapping={"user": user, "total": total})
    pipe.rpush(f"orders:{user}", order_id)
    pipe.incrby("revenue", total)
    return pipe


def _non_transactional_pipeline(r, order_id, user, total):
    return _queue_order(r.pipeline(transaction=False), order_id, user, total).execute()[-1]


def _returns_execute_list(r, order_id, user, total):
    return _queue_order(r.pipeline(), order_id, user, total).execute()


def _newest_first(r, order_id, user, total):
    pipe = r.pipeline()
    pipe.hset(f"order:{order_id}", mapping={"user": user, "total": total})
    pipe.lpush(f"orders:{user}", order_id)
    pipe.incrby("revenue", total)
    return pipe.execute()[-1]


def _overwrites_revenue(r, order_id, user, total):
    pipe = r.pipeline()
    pipe.hset(f"order:{order_id}", mapping={"user": user, "total": total})
    pipe.rpush(f"orders:{user}", order_id)
    pipe.set("revenue", total)
    pipe.execute()
    return total


def _two_transactions(r, order_id, user, total):
    r.pipeline().hset(f"order:{order_id}", mapping={"user": user, "total": total}).execute()
    pipe = r.pipeline()
    pipe.rpush(f"orders:{user}", order_id)
    pipe.incrby("revenue", total)
    return pipe.execute()[-1]


def _rereads_revenue(r, order_id, user, total):
    _queue_order(r.pipeline(), order_id, user, total).execute()
    return int(r.get("revenue"))  # by now another client may have added its own order


def _order_state(t: Trial, order_id: str, user: str) -> tuple[dict[str, str], list[str], int]:
    revenue = t.admin.get("revenue")
    return t.admin.hgetall(f"order:{order_id}"), t.admin.lrange(f"orders:{user}", 0, -1), int(revenue or 0)


def _order_observer(
    t: Trial, order_id: str, user: str, revenue_after: int, glimpses: list[str]
) -> Callable[[list[Command], Recorder], None]:
    """A hook: before each of the learner's sends after their first write, another client looks at the order."""

    def observe(_commands: list[Command], recorder: Recorder) -> None:
        if glimpses or not any(_may_write(name) for name in recorder.names):
            return
        fields, listed, revenue = _order_state(t, order_id, user)
        parts = {
            f"order:{order_id} exists": bool(fields),
            f"orders:{user} lists {order_id}": order_id in listed,
            "revenue includes it": revenue == revenue_after,
        }
        if len(set(parts.values())) > 1:
            glimpses.append("; ".join(f"{part}: {'yes' if done else 'no'}" for part, done in parts.items()))

    return observe


def check_place_order(t: Trial) -> str:
    revenue_before = 0
    orders: dict[str, list[str]] = {}
    for order_id, user, total in (("1001", "ada", 30), ("1002", "ada", 12), ("1003", "grace", 8)):
        glimpses: list[str] = []
        observe = _order_observer(t, order_id, user, revenue_before + total, glimpses)
        remove = t.recorder.add_hook(observe)
        try:
            result = t.call(order_id, user, total)
        finally:
            remove()
        call = t.last_call
        expected_revenue = revenue_before + total
        if glimpses:
            t.fail(
                f"Between two of the round trips of {call}, another client looked and saw a half-placed order "
                f"({glimpses[0]}). Send the three writes together in one transaction: queue them on "
                "r.pipeline() (MULTI ... EXEC) and call execute() once."
            )
        loose = [command for command in writes_outside_transactions(t.sent) if _word(command) not in _SCRIPTING]
        if loose:
            names = ", ".join(_word(command) for command in loose)
            if t.round_trips == 1:
                t.fail(
                    f"{call} sent {names} in one round trip but without MULTI/EXEC, so Redis does not promise to "
                    "run them together: that is what pipeline(transaction=False) does. Use r.pipeline() (its "
                    "default transaction=True wraps the commands in MULTI ... EXEC)."
                )
            t.fail(
                f"{call} sent {names} outside a transaction, so another client can see the order half-placed. "
                "Queue all three writes on one r.pipeline() and call execute() once."
            )
        if result is None:
            t.fail(
                f"{call} returned None; return the new revenue, the reply of INCRBY: execute() returns one "
                "reply per queued command, in order, so it is the last item of that list."
            )
        if isinstance(result, (list, tuple)):
            t.fail(
                f"{call} returned {list(result)!r}, the whole list execute() gives back; return only the new "
                f"revenue ({expected_revenue}), the INCRBY reply: the last item of that list."
            )
        if isinstance(result, bool) or not isinstance(result, int):
            t.fail(
                f"{call} returned {result!r} ({type(result).__name__}); return the INCRBY reply, which is already "
                f"an int ({expected_revenue})."
            )
        fields, listed, revenue = _order_state(t, order_id, user)
        t.expect_equal(fields, {"user": user, "total": str(total)}, f"After {call}, HGETALL order:{order_id}")
        orders.setdefault(user, []).append(order_id)
        if listed != orders[user]:
            if listed == orders[user][::-1]:
                t.fail(
                    f"After {call}, orders:{user} is {listed!r}: newest first. RPUSH appends at the end, so the "
                    f"list keeps the order in which orders were placed: {orders[user]!r}."
                )
            t.fail(f"After {call}, LRANGE orders:{user} 0 -1: expected {orders[user]!r}, got {listed!r}.")
        if revenue != expected_revenue:
            t.fail(
                f"After {call}, revenue is {revenue}, expected {expected_revenue} (it was {revenue_before} before): "
                "add the order's total with INCRBY instead of replacing the value."
            )
        t.expect_equal(result, expected_revenue, f"{call} return value (the revenue after this order)")
        revenue_before = expected_revenue

    # Another shop's order lands right after the learner's EXEC: the answer is what EXEC returned, not a re-read.
    other_sale = 100
    landed = t.inject_once(["EXEC"], lambda admin: admin.incrby("revenue", other_sale))
    result = t.call("1004", "grace", 20)
    expected_revenue = revenue_before + 20
    if landed["fired"] and result == expected_revenue + other_sale:
        t.fail(
            f"{t.last_call} returned {result}, but its own INCRBY made revenue {expected_revenue}: right after your "
            f"EXEC another client ran INCRBY revenue {other_sale} (the check did, like another order being placed), "
            "and your code then read revenue again, so it returned a total that includes someone else's order. "
            "Return the INCRBY reply from the list execute() gives back (its last item): that is the value your "
            "transaction produced."
        )
    t.expect_equal(result, expected_revenue, f"{t.last_call} return value (the revenue after this order)")
    return "place_order writes the order, the user's list and the revenue in one MULTI/EXEC transaction."


PLACE_ORDER = Exercise(
    id="transactions.place_order",
    title="Three writes that must appear together",
    signature="place_order(r, order_id: str, user: str, total: int) -> int",
    task="In one MULTI/EXEC transaction: store the hash order:<order_id> with fields user and total, append "
    "order_id to the list orders:<user>, and add total to the integer revenue. Return the new revenue.",
    checker=check_place_order,
    reference=place_order,
    hints=(
        "r.pipeline() is transactional by default: the commands you queue on it are sent as MULTI ... EXEC "
        "when you call execute().",
        "Queue pipe.hset(key, mapping={...}), pipe.rpush(...) and pipe.incrby('revenue', total), then call "
        "pipe.execute() once.",
        "execute() returns one reply per queued command, in order: the INCRBY reply, the new revenue, is the last one.",
    ),
    mutants=(
        Mutant(_separate_commands, "half-placed order"),
        Mutant(_two_transactions, "half-placed order"),
        Mutant(_non_transactional_pipeline, "pipeline(transaction=False)"),
        Mutant(_returns_execute_list, "the whole list execute() gives back"),
        Mutant(_newest_first, "newest first"),
        Mutant(_overwrites_revenue, "instead of replacing the value"),
        Mutant(_rereads_revenue, "right after your EXEC another client ran INCRBY revenue"),
    ),
)


# -- transactions.transfer ------------------------------------------------------------------------------
def transfer(r, src, dst, amount):
    src_key, dst_key = f"balance:{src}", f"balance:{dst}"
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(src_key)  # EXEC will fail if another client changes src from here on
                balance = int(pipe.get(src_key) or 0)  # after watch(), commands run at once
                if balance < amount:
                    pipe.unwatch()
                    return False
                pipe.multi()  # from here on, commands are queued
                pipe.decrby(src_key, amount)
                pipe.incrby(dst_key, amount)
                pipe.execute()
                return True
            except redis.WatchError:
                continue  # src changed between our read and EXEC: read it again and retry


def _no_watch(r, src, dst, amount):
    balance = int(r.get(f"balance:{src}") or 0)
    if balance < amount:
        return False
    pipe = r.pipeline()
    pipe.set(f"balance:{src}", balance - amount)
    pipe.incrby(f"balance:{dst}", amount)
    pipe.execute()
    return True


def _one_attempt(r, src, dst, amount):
    """One round of transfer's WATCH loop, without the loop; the two mutants below mishandle its WatchError."""
    src_key, dst_key = f"balance:{src}", f"balance:{dst}"
    with r.pipeline() as pipe:
        pipe.watch(src_key)
        if int(pipe.get(src_key) or 0) < amount:
            return False
        pipe.multi()
        pipe.decrby(src_key, amount)
        pipe.incrby(dst_key, amount)
        pipe.execute()
        return True


def _gives_up_on_watch_error(r, src, dst, amount):
    try:
        return _one_attempt(r, src, dst, amount)
    except redis.WatchError:
        return False


def _raises_watch_error(r, src, dst, amount):
    return _one_attempt(r, src, dst, amount)


def _no_balance_check(r, src, dst, amount):
    pipe = r.pipeline()
    pipe.decrby(f"balance:{src}", amount)
    pipe.incrby(f"balance:{dst}", amount)
    pipe.execute()
    return True


def _check_outside_transaction(r, src, dst, amount):
    if int(r.get(f"balance:{src}") or 0) < amount:
        return False
    pipe = r.pipeline()  # MULTI/EXEC, but nothing watched: the check above may be stale by now
    pipe.decrby(f"balance:{src}", amount)
    pipe.incrby(f"balance:{dst}", amount)
    pipe.execute()
    return True


def _returns_none(r, src, dst, amount):
    def move(pipe):
        balance = int(pipe.get(f"balance:{src}") or 0)
        if balance >= amount:
            pipe.multi()
            pipe.decrby(f"balance:{src}", amount)
            pipe.incrby(f"balance:{dst}", amount)

    r.transaction(move, f"balance:{src}")


def _refuses_exact_balance(r, src, dst, amount):
    src_key, dst_key = f"balance:{src}", f"balance:{dst}"
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(src_key)
                if int(pipe.get(src_key) or 0) <= amount:
                    return False
                pipe.multi()
                pipe.decrby(src_key, amount)
                pipe.incrby(dst_key, amount)
                pipe.execute()
                return True
            except redis.WatchError:
                continue


def _watches_only_src(r, src, dst, amount):
    src_key, dst_key = f"balance:{src}", f"balance:{dst}"
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch(src_key)
                balance = int(pipe.get(src_key) or 0)
                target = int(pipe.get(dst_key) or 0)  # read but not watched
                if balance < amount:
                    return False
                pipe.multi()
                pipe.set(src_key, balance - amount)
                pipe.set(dst_key, target + amount)
                pipe.execute()
                return True
            except redis.WatchError:
                continue


def _takes_first_then_refunds(r, src, dst, amount):
    if r.decrby(f"balance:{src}", amount) < 0:  # others can see the negative balance until the refund
        r.incrby(f"balance:{src}", amount)
        return False
    r.incrby(f"balance:{dst}", amount)
    return True


def _balances_text(balances: dict[str, int | None]) -> str:
    return ", ".join(f"balance:{name}={'(missing)' if value is None else value}" for name, value in balances.items())


def _as_amounts(balances: dict[str, int | None]) -> dict[str, int]:
    """Balances as the task defines them: a missing key means 0."""
    return {name: value or 0 for name, value in balances.items()}


def _overdraft_watcher(t: Trial, names: list[str], seen: list[dict[str, int | None]]) -> Callable[..., None]:
    """A hook: before each of the learner's sends after their first write, another client reads the balances
    and keeps the first reading where one of them is below zero."""

    def read(_commands: list[Command], recorder: Recorder) -> None:
        if seen or not any(_may_write(name) for name in recorder.names):
            return
        values = t.admin.mget([f"balance:{name}" for name in names])
        try:
            balances = {name: None if v is None else int(v) for name, v in zip(names, values, strict=True)}
        except ValueError:  # not an integer: the checks after the call report that
            return
        if any(value is not None and value < 0 for value in balances.values()):
            seen.append(balances)

    return read


@dataclass(frozen=True)
class _Transfer:
    """One transfer the check ran: the call, what it returned or raised, and the balances around it."""

    call: str
    result: Any
    error: BaseException | None
    after: dict[str, int | None]
    overdrafts: list[dict[str, int | None]]
    concurrent_landed: bool


def _run_transfer(
    t: Trial, before: dict[str, int | None], src: str, dst: str, amount: int, concurrent: tuple[str, int] | None
) -> _Transfer:
    """Set the balances, arm the concurrent INCRBY (if any), call the learner, and read the balances back."""
    for key in t.admin.scan_iter("balance:*"):
        t.admin.delete(key)
    for name, value in before.items():
        if value is not None:
            t.admin.set(f"balance:{name}", value)
    state = {"fired": False}
    if concurrent is not None:
        name, delta = concurrent
        state = t.inject_once(_READS, lambda admin: admin.incrby(f"balance:{name}", delta), wait_while=_QUIET)
    names = list(before)
    overdrafts: list[dict[str, int | None]] = []
    stop_watching = t.recorder.add_hook(_overdraft_watcher(t, names, overdrafts))
    try:
        result, error = t.try_call(src, dst, amount, expected=(redis.WatchError,))
    finally:
        stop_watching()
    after: dict[str, int | None] = {
        name: None if value is None else int(value)
        for name, value in zip(names, t.admin.mget([f"balance:{name}" for name in names]), strict=True)
    }
    return _Transfer(t.last_call, result, error, after, overdrafts, state["fired"])


def _transfer_case(
    t: Trial,
    before: dict[str, int | None],
    src: str,
    dst: str,
    amount: int,
    concurrent: tuple[str, int] | None = None,
) -> None:
    """Run one transfer and judge it; concurrent=(name, delta) is another client's INCRBY between read and write."""
    run = _run_transfer(t, before, src, dst, amount, concurrent)
    call, result, after = run.call, run.result, run.after

    # What a correct transfer leaves: the concurrent write (if it landed) happened first, then the transfer.
    effective = dict(before)
    story = ""
    if concurrent is not None and run.concurrent_landed:
        name, delta = concurrent
        effective[name] = (effective[name] or 0) + delta
        verb = f"deposited {delta} into" if delta > 0 else f"withdrew {-delta} from"
        story = (
            f" Between your read and your write, another client {verb} balance:{name} "
            f"(INCRBY balance:{name} {delta}), so a correct transfer sees {_balances_text(effective)}."
        )
    enough = (effective[src] or 0) >= amount
    expected = dict(effective)
    if enough:
        expected[src] = (effective[src] or 0) - amount
        expected[dst] = (effective[dst] or 0) + amount
    situation = f"Before the call: {_balances_text(before)}.{story}"

    if run.error is not None:
        t.fail(
            f"{call} raised WatchError. {situation} The WatchError only says that another client changed a "
            "watched key, so EXEC did nothing; a transfer must not fail because of that: catch "
            "redis.WatchError and retry from the WATCH (a `while True:` loop), or let "
            "r.transaction(func, key) retry for you."
        )
    if run.overdrafts:
        t.fail(
            f"{call} let other clients see a temporary overdraft. {situation} Between two of your round trips "
            f"another client read {_balances_text(run.overdrafts[0])}: a balance below zero. Your code wrote before "
            "it knew the money was there (and undid it afterwards), so for a moment a report, or another "
            "transfer checking the balance, saw money that does not exist. Decide first, then write: WATCH the "
            "balance, read and compare it, then MULTI/EXEC (retrying on WatchError), or do the check and both "
            "writes in one Lua script."
        )
    if result is None:
        t.fail(
            f"{call} returned None. Return True when the money moved and False when balance:{src} holds less "
            "than amount."
        )
    if not isinstance(result, bool):
        t.fail(f"{call} returned {result!r} ({type(result).__name__}); return the bool True or False.")
    if enough and result is False and _as_amounts(after) == _as_amounts(effective):
        if story:
            t.fail(
                f"{call} returned False and moved nothing. {situation} That concurrent change made EXEC fail "
                "(WatchError), which is WATCH doing its job; your code gave up instead of trying again. On "
                "WatchError, loop back: WATCH, re-read the balance, check it, and run MULTI/EXEC again."
            )
        have = effective[src] or 0
        exact = ", exactly the amount, which is" if have == amount else ","
        t.fail(
            f"{call} returned False, but balance:{src} holds {have}{exact} enough to send {amount}. Refuse only "
            "when the balance is less than amount (balance < amount)."
        )
    negative = [name for name, value in after.items() if value is not None and value < 0 <= (effective[name] or 0)]
    if negative:
        advice = (
            "Your balance check used a value read before that withdrawal and nothing stopped the write: WATCH "
            f"balance:{src} before you read it, so EXEC fails (WatchError) when it changes, and retry with the "
            "fresh balance."
            if story
            else "Read the balance first and return False, writing nothing, when it is less than amount."
        )
        t.fail(
            f"{call} overdrew the account: {situation} Expected {_balances_text(expected)}, got "
            f"{_balances_text(after)}. {advice}"
        )
    if _as_amounts(after) != _as_amounts(expected):  # a missing key and 0 are the same balance
        if story:
            t.fail(
                f"{call} lost the other client's update. {situation} Expected {_balances_text(expected)}, got "
                f"{_balances_text(after)}: your code wrote a balance computed from a value read before that "
                "change. WATCH every key whose old value you use before reading it and write inside "
                "MULTI/EXEC (retrying on WatchError), or let Redis do the arithmetic with DECRBY/INCRBY."
            )
        t.fail(f"After {call}: expected {_balances_text(expected)}, got {_balances_text(after)}. {situation}")
    t.expect_equal(result, enough, f"{call} with {_balances_text(effective)}, the return value")


def check_transfer(t: Trial) -> str:
    _transfer_case(t, {"alice": 100, "bob": 20}, "alice", "bob", 30)
    _transfer_case(t, {"alice": 10, "bob": 0}, "alice", "bob", 30)
    _transfer_case(t, {"alice": 30, "bob": 5}, "alice", "bob", 30)
    _transfer_case(t, {"alice": 50, "carol": None}, "alice", "carol", 5)
    _transfer_case(t, {"dave": None, "alice": 50}, "dave", "alice", 5)
    # Concurrent writes that land between the learner's read and write.
    _transfer_case(t, {"alice": 100, "bob": 0}, "alice", "bob", 30, concurrent=("alice", 50))
    _transfer_case(t, {"alice": 50, "bob": 0}, "alice", "bob", 40, concurrent=("alice", -30))
    _transfer_case(t, {"alice": 100, "bob": 10}, "alice", "bob", 30, concurrent=("bob", 5))
    return (
        "transfer moves money atomically, refuses overdrafts, and keeps every concurrent deposit and "
        "withdrawal, retrying when WATCH aborts it."
    )


TRANSFER = Exercise(
    id="transactions.transfer",
    title="A transfer that survives concurrent writers",
    signature="transfer(r, src: str, dst: str, amount: int) -> bool",
    task="Integer balances live at balance:<name> (a missing key means 0). Move amount from src to dst "
    "atomically and return True; if src holds less than amount, change nothing and return False. Another "
    "client may change the balances while your function runs: no update may be lost, no account may be "
    "overdrawn, and a transaction aborted by such a change must be retried.",
    checker=check_transfer,
    reference=transfer,
    hints=(
        "Reading the balance and writing the new one are separate steps, so another client can change the "
        "balance in between. WATCH the key before you read it: EXEC then fails if it changed.",
        "With pipe = r.pipeline(): pipe.watch(key) makes the next commands run at once (read the balance "
        "with pipe.get), pipe.multi() starts queueing, pipe.execute() sends MULTI ... EXEC.",
        "When execute() raises redis.WatchError nothing was written: go round a `while True:` loop and do "
        "it all again. r.transaction(func, key) runs that loop for you; a Lua script is atomic too.",
    ),
    mutants=(
        Mutant(_no_watch, "lost the other client's update"),
        Mutant(_gives_up_on_watch_error, "gave up instead of trying again"),
        Mutant(_raises_watch_error, "raised WatchError"),
        Mutant(_no_balance_check, "overdrew the account"),
        Mutant(_check_outside_transaction, "WATCH balance:alice before you read it"),
        Mutant(_returns_none, "returned None"),
        Mutant(_refuses_exact_balance, "exactly the amount"),
        Mutant(_watches_only_src, "lost the other client's update"),
        Mutant(_takes_first_then_refunds, "temporary overdraft"),
    ),
)


# -- transactions.compare_and_set ----------------------------------------------------------------------
def compare_and_set(r, key, expected, new):
    script = """
    if redis.call('GET', KEYS[1]) == ARGV[1] then
        redis.call('SET', KEYS[1], ARGV[2])
        return 1
    end
    return 0
    """
    return r.eval(script, 1, key, expected, new) == 1


def _get_then_set(r, key, expected, new):
    if r.get(key) == expected:
        r.set(key, new)
        return True
    return False


def _sets_unconditionally(r, key, expected, new):
    r.set(key, new)
    return True


def _returns_lua_number(r, key, expected, new):
    script = r.register_script(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0"
    )
    return script(keys=[key], args=[expected, new])


def _creates_missing_key(r, key, expected, new):
    script = """
    local current = redis.call('GET', KEYS[1])
    if current == false or current == ARGV[1] then
        redis.call('SET', KEYS[1], ARGV[2])
        return 1
    end
    return 0
    """
    return r.eval(script, 1, key, expected, new) == 1


def _watch_instead_of_lua(r, key, expected, new):
    def swap(pipe):
        if pipe.get(key) != expected:
            return False
        pipe.multi()
        pipe.set(key, new)
        return True

    return r.transaction(swap, key, value_from_callable=True)


def _key_in_argv(r, key, expected, new):
    script = "if redis.call('GET', ARGV[1]) == ARGV[2] then redis.call('SET', ARGV[1], ARGV[3]) return 1 end return 0"
    return r.eval(script, 0, key, expected, new) == 1


def _script_hides_key(t: Trial, key: str) -> Command | None:
    """The first script call (EVAL, EVALSHA, FCALL) of the last call that did not declare key in KEYS."""
    for command in t.sent:
        if _word(command) not in ("EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"):
            continue
        try:
            numkeys = int(command[2])
        except (IndexError, ValueError):
            continue
        if key not in command[3 : 3 + numkeys]:
            return command
    return None


def _script_trips(t: Trial) -> int:
    """Round trips, counting a script loaded on first use (EVALSHA, SCRIPT LOAD, EVALSHA) as one."""
    trips = [trip for trip in t.recorder.round_trips if not all(_word(c) == "SCRIPT" for c in trip)]
    collapsed: list[list[Command]] = []
    for trip in trips:
        if collapsed and trip == collapsed[-1] and all(_word(c) == "EVALSHA" for c in trip):
            continue  # the retry after NOSCRIPT
        collapsed.append(trip)
    return len(collapsed)


def _cas_case(t: Trial, before: str | None, expected: str, new: str, concurrent: str | None = None) -> str:
    key = "config:mode"
    t.admin.delete(key)
    if before is not None:
        t.admin.set(key, before)
    state = {"fired": False}
    if concurrent is not None:
        state = t.inject_once(_READS, lambda admin: admin.set(key, concurrent), wait_while=_QUIET)
    result = t.call(key, expected, new)
    call = t.last_call
    current = before
    story = ""
    if state["fired"]:
        current = concurrent
        story = (
            f" Between your read and your write another client ran SET {key} {concurrent}, so at the moment of "
            f"the write the value was {concurrent!r}."
        )
    should_swap = current == expected
    after = t.admin.get(key)
    wanted = new if should_swap else current
    shown = "(missing)" if before is None else repr(before)
    if result is None:
        t.fail(f"{call} returned None: return True when the value was replaced and False when it was not.")
    if not isinstance(result, bool):
        t.fail(
            f"{call} returned {result!r} ({type(result).__name__}), not a bool. A Lua script's `return 1` reaches "
            "Python as the int 1: compare it (== 1) or wrap it in bool(...) to return True or False."
        )
    if after != wanted:
        if story:
            t.fail(
                f"{call} overwrote another client's change: {key} was {shown}.{story} Expected it to stay "
                f"{current!r} and the call to return False, got {after!r}: a lost update, because the check and "
                "the write were two separate commands. Do both inside one Lua script (r.eval or "
                "r.register_script): Redis runs a script as one atomic step."
            )
        if before is None and after is not None:
            t.fail(
                f"{call} created {key} = {after!r}, but the key did not exist: a missing key is not equal to "
                f"{expected!r}, so nothing should change (in Lua, GET of a missing key gives false)."
            )
        t.fail(
            f"{call} with {key} = {shown}: expected the value {wanted!r} afterwards, got {after!r}. Replace the "
            "value only when the current one equals `expected`."
        )
    t.expect_equal(result, should_swap, f"{call} with {key} = {shown}, the return value")
    return call


def check_compare_and_set(t: Trial) -> str:
    t.require_scripting()  # a browser tab has no Lua: say so, rather than fail every right answer
    call = _cas_case(t, "blue", "blue", "green")
    hidden = _script_hides_key(t, "config:mode")
    if hidden is not None:
        numkeys, arguments = hidden[2], " ".join(hidden[3:])
        t.fail(
            f"{call} swapped correctly, but its script got the key in ARGV, not in KEYS: it sent "
            f"{_word(hidden)} <script> {numkeys} {arguments} (numkeys={numkeys}). Redis learns which keys a script "
            "touches only from KEYS (Redis Cluster uses them to send the script to the node holding those keys). "
            "Declare the key: r.eval(script, 1, key, expected, new), read it as KEYS[1] in the script, and keep "
            "only expected and new in ARGV."
        )
    _cas_case(t, "green", "blue", "red")
    _cas_case(t, None, "blue", "green")
    _cas_case(t, "v1", "v1", "v3", concurrent="v2")
    call = _cas_case(t, "blue", "blue", "green")
    trips = _script_trips(t)
    if trips > 1:
        t.fail(
            f"{call} gave the right answers but made {trips} round trips ({', '.join(t.recorder.names)}). This "
            "exercise asks for one: put the GET, the comparison and the SET in a Lua script and send it with "
            "r.eval(script, 1, key, expected, new) or r.register_script(script); the server runs it as one "
            "atomic step."
        )
    return "compare_and_set swaps atomically in one round trip: no other client can slip in between."


COMPARE_AND_SET = Exercise(
    id="transactions.compare_and_set",
    title="Compare-and-set with a Lua script",
    signature="compare_and_set(r, key: str, expected: str, new: str) -> bool",
    task="Set key to new only if its current value equals expected (a missing key equals nothing), and "
    "return whether it did. Do it atomically in one round trip: a Lua script, with the key passed in KEYS.",
    checker=check_compare_and_set,
    reference=compare_and_set,
    hints=(
        "A Lua script runs inside Redis as one step; no other command runs while it runs. Send one with "
        "r.eval(script, numkeys, *keys_then_args).",
        "In the script, KEYS[1] is the key and ARGV[1], ARGV[2] are expected and new; "
        "redis.call('GET', KEYS[1]) reads the value (false when the key is missing).",
        "Make the script return 1 when it called SET and 0 otherwise, then return r.eval(...) == 1 so "
        "Python gets a bool.",
    ),
    mutants=(
        Mutant(_get_then_set, "overwrote another client's change"),
        Mutant(_sets_unconditionally, "Replace the value only when"),
        Mutant(_returns_lua_number, "not a bool"),
        Mutant(_creates_missing_key, "the key did not exist"),
        Mutant(_watch_instead_of_lua, "round trips"),
        Mutant(_key_in_argv, "not in KEYS"),
    ),
)


EXERCISES = [PLACE_ORDER, TRANSFER, COMPARE_AND_SET]


QUIZZES = [
    Quiz(
        id="transactions.quiz_no_rollback",
        question=(
            "Inside MULTI/EXEC, the second of three commands fails while running (INCR on a text value). What happens?"
        ),
        options=(
            "All three are undone, as in a SQL rollback",
            "The first and third take effect; the second's reply is an error",
            "EXEC refuses to run anything",
            "Redis retries the failed command",
        ),
        answer=1,
        explanation=(
            "Redis has no rollback: a run-time error is reported in that command's reply and the other commands still "
            "run. Only errors found while queuing (unknown command, wrong arguments) make EXEC refuse all."
        ),
    ),
    Quiz(
        id="transactions.quiz_watch",
        question="Two clients both WATCH stock:42, read 1, and try MULTI; DECR stock:42; EXEC. What happens?",
        options=(
            "Both EXECs succeed and the stock becomes -1",
            "The first EXEC succeeds; the second gets WatchError and, on retry, reads 0",
            "Both get WatchError",
            "The second client waits until the first finishes",
        ),
        answer=1,
        explanation=(
            "WATCH is optimistic: nobody waits. The first EXEC changes the key, which makes every other transaction "
            "watching it fail; the loser retries with the fresh value."
        ),
    ),
]
