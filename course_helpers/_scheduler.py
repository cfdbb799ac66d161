"""Background work without threads, for checks that run inline (a browser tab has no threads).

A check's producers and publishers are steps in a Scheduler. They run on the learner's own thread whenever the
learner's code gives them a chance: before it sends a command, when it reads a reply, while it sleeps, and while a
blocking command (BLPOP, XREAD BLOCK, a pubsub read) waits. Such a wait sleeps until the next step falls due or the
command's own timeout ends; a wait that nothing could ever end (BRPOP key 0 on an empty list, listen() with nothing
published) sleeps up to the check's deadline and is stopped there, instead of hanging the tab for ever.

fakeredis blocks a command on its database's threading.Condition, which only another thread could wake:
install_cooperative_conditions() swaps those for CooperativeCondition, which waits through the scheduler.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._safety import CourseEnvironmentError

# One step of a background action: it does some work and returns the pause before its next step, or None when done.
Step = Callable[[], "float | None"]
PauseUntil = Callable[["float | None"], None]

WAITS_FOR_EVER = (
    "This command would wait for ever for data that only another client could send, and in a browser tab nothing "
    "else runs while a cell waits, so nothing could ever arrive. Give the wait a timeout (BLPOP and BRPOP take one "
    "in seconds; pubsub.get_message(timeout=1.0) instead of listen()), or run this lesson in JupyterLab or on Binder."
)


_real_sleep = time.sleep


def pause_in_a_lesson(until: float | None) -> None:
    """How a wait outside any check pauses: a real sleep, but never for ever (that would freeze the tab)."""
    if until is None:
        raise CourseEnvironmentError(WAITS_FOR_EVER)
    _real_sleep(max(0.0, until - time.monotonic()))


@dataclass(order=True)
class _Timed:
    due: float
    order: int
    step: Step = field(compare=False)


@dataclass
class _Watch:
    ready: Callable[[], bool]
    step: Step
    until: float


class Scheduler:
    """Steps due at given times, or once a condition holds, run by whoever waits, sends or reads next."""

    def __init__(self, pause_until: PauseUntil = pause_in_a_lesson) -> None:
        self._pause_until = pause_until
        self._timed: list[_Timed] = []
        self._watches: list[_Watch] = []
        self._order = itertools.count()
        self._running = False

    def after(self, delay: float, step: Step) -> None:
        """Run step() once delay seconds have passed; it is run again after the pause it returns."""
        heapq.heappush(self._timed, _Timed(time.monotonic() + max(0.0, delay), next(self._order), step))

    def when(self, ready: Callable[[], bool], step: Step, timeout: float) -> None:
        """Run step() the first time ready() holds, if that happens within timeout seconds."""
        self._watches.append(_Watch(ready, step, time.monotonic() + timeout))

    @property
    def pending(self) -> bool:
        """True while any step is still to run."""
        return bool(self._timed or self._watches)

    def clear(self) -> None:
        """Forget every step still to run."""
        self._timed.clear()
        self._watches.clear()

    def run_due(self) -> None:
        """Run the steps that are due now, and the watched ones whose condition holds."""
        if self._running:  # a step that sends, reads or sleeps must not start other steps inside itself
            return
        self._running = True
        try:
            while self._timed and self._timed[0].due <= time.monotonic():
                self._run(heapq.heappop(self._timed).step)
            now = time.monotonic()
            for watch in list(self._watches):
                if now > watch.until:
                    self._watches.remove(watch)
                elif watch.ready():
                    self._watches.remove(watch)
                    self._run(watch.step)
        finally:
            self._running = False

    def _run(self, step: Step) -> None:
        pause = step()
        if pause is not None:
            self.after(pause, step)

    def next_due(self) -> float | None:
        """When the next timed step falls due (a monotonic time), or None."""
        return self._timed[0].due if self._timed else None

    def wait_until(self, ready: Callable[[], bool], timeout: float | None) -> bool:
        """Wait until ready() holds, at most timeout seconds (None: no limit), running steps as they fall due.

        Returns False when the timeout ended first. A watched condition cannot come true while the code that
        would make it true is itself waiting, so only timed steps can end a wait early: with none left and no
        timeout, the pause is for ever, and pause_until decides what that means (the check's deadline).
        """
        end = None if timeout is None else time.monotonic() + max(0.0, timeout)
        while True:
            self.run_due()
            if ready():
                return True
            if end is not None and time.monotonic() >= end:
                return False
            due = self.next_due()
            targets = [moment for moment in (end, due) if moment is not None]
            self._pause_until(min(targets) if targets else None)

    def sleep(self, seconds: float) -> None:
        """time.sleep that runs the steps falling due meanwhile."""
        self.wait_until(lambda: False, seconds)

    def wait_for_reply(self, connection: Any, timeout: float | None) -> None:
        """Before a fakeredis connection reads (timeout None) or polls (can_read(timeout)): wait for a reply."""
        sock = getattr(connection, "_sock", None)
        if sock is None:
            self.run_due()
            return

        def queued() -> bool:
            responses = sock.responses
            return responses is None or responses.qsize() > 0  # None: closed, and reading says so at once

        self.wait_until(queued, timeout)


class CooperativeCondition:
    """Stands in for a fakeredis database's threading.Condition: a blocked command waits through the scheduler."""

    def __init__(self, lock: Any, scheduler: Scheduler) -> None:
        self._lock = lock
        self._scheduler = scheduler
        self._changed = False

    def wait(self, timeout: float | None = None) -> bool:
        """Called with the server's lock held, like Condition.wait: released while waiting, held again after."""
        self._changed = False
        self._lock.release()  # the steps that run meanwhile send commands, which take this lock
        try:
            return self._scheduler.wait_until(lambda: self._changed, timeout)
        finally:
            self._lock.acquire()

    def notify_all(self) -> None:
        """A key changed: a blocked command looks again."""
        self._changed = True

    def notify(self, _count: int = 1) -> None:
        """Same as notify_all: only one command waits at a time here."""
        self._changed = True

    def __enter__(self) -> bool:
        return bool(self._lock.acquire())

    def __exit__(self, *_exc: object) -> None:
        self._lock.release()


def install_cooperative_conditions(server: Any, scheduler: Scheduler) -> None:
    """Make every database of a fakeredis FakeServer, present and future, block through scheduler."""
    lock = server.lock
    for database in server.dbs.values():
        database.condition = CooperativeCondition(lock, scheduler)
    make_database = server.dbs.default_factory

    def cooperative_database() -> Any:
        database = make_database()
        database.condition = CooperativeCondition(lock, scheduler)
        return database

    server.dbs.default_factory = cooperative_database
