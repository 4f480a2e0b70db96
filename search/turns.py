"""Searches take turns: one at a time, except that a long one steps aside.

Searching is Python holding the GIL, so threads that all search at once do not
finish sooner: they slow each other down (every release of the GIL, in numpy
or a file read, can cost a wait of a switch interval to get it back). Measured
on Reuters with 16 clients, 8 threads all searching at once answered about
40% fewer searches than the same threads taking turns. But a plain turn lets a
costly search hold up everyone queued behind it.

So a search takes the turn (``turn()``), and at its checkpoints
(``checkpoint()``: between segments, every few thousand matches walked,
between the parts of a long query) it gives the turn up once it has held
it for ``SLICE`` seconds and carries on in the background. Ordinary searches
finish within their slice and run one after another; a costly one holds the
others up for one slice at most. In the background it yields: at each
checkpoint, while another search has the turn, it pauses ``PAUSE`` seconds
first, so costly searches use what the others leave and run into their time
budget (a partial answer) rather than slow everyone down. A thread asking for
a turn while it is in one (a search inside a search) is already in its turn.
Turns are given in the order they were asked for (``FirstComeLock``): with 16
connections on one core the p95 is set by the searches that wait longest, and a
plain lock lets a newcomer take the turn ahead of searches that have waited for it.
"""

from __future__ import annotations

import collections
import functools
import threading
import time
from contextlib import contextmanager

SLICE = 0.05  # seconds a search may hold the turn before it steps aside
PAUSE = 0.005  # seconds a search in the background waits at a checkpoint while another has the turn


class FirstComeLock:
    """A lock that waiting threads get in the order they asked for it.

    ``threading.Lock`` makes no promise of order: a thread that asks just as the lock is
    released can take it before one that has waited for several turns (it already holds
    the GIL; the woken waiter must get it back first). Under load that puts a few searches
    behind many others and sets the p95. Here the holder hands the lock to the longest
    waiter directly, each waiter blocking on a lock of its own."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: collections.deque[threading.Lock] = collections.deque()
        self._taken = False

    def acquire(self) -> bool:
        with self._guard:
            if not self._taken:
                self._taken = True
                return True
            ticket = threading.Lock()
            ticket.acquire()
            self._waiting.append(ticket)
        try:
            ticket.acquire()  # released by the holder's ``release``: the lock is ours now
        except BaseException:  # interrupted while waiting: leave the queue, or pass on a lock just handed over
            with self._guard:
                handed = ticket not in self._waiting
                if not handed:
                    self._waiting.remove(ticket)
            if handed:
                self.release()
            raise
        return True

    def release(self) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().release()  # handed over: still taken
            elif self._taken:
                self._taken = False
            else:
                raise RuntimeError("release of an unheld FirstComeLock")

    def locked(self) -> bool:
        return self._taken

    def waiting(self) -> int:
        """How many threads are waiting for the lock."""
        return len(self._waiting)


_turn = FirstComeLock()
_mine = threading.local()  # depth: turns this thread is in; holding: whether it still holds the lock; since


@contextmanager
def turn():
    """Wait for the turn (unless this thread is in one) and hold it until done or past ``SLICE``."""
    depth = getattr(_mine, "depth", 0)
    if depth == 0:
        _turn.acquire()
        _mine.holding, _mine.since = True, time.monotonic()
    _mine.depth = depth + 1
    try:
        yield
    finally:
        _mine.depth = depth
        if depth == 0 and _mine.holding:
            _mine.holding = False
            _turn.release()


def checkpoint() -> None:
    """Give the turn up if this thread has held it for ``SLICE`` seconds; in the background,
    pause while another search has the turn."""
    if getattr(_mine, "holding", False):
        if time.monotonic() - _mine.since > SLICE:
            _mine.holding = False
            _turn.release()
    elif getattr(_mine, "depth", 0) and _turn.locked():
        time.sleep(PAUSE)


def taking_turns(method):
    """Run ``method`` in a turn."""

    @functools.wraps(method)
    def in_turn(*args, **kwargs):
        with turn():
            return method(*args, **kwargs)

    return in_turn
