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
"""

from __future__ import annotations

import functools
import threading
import time
from contextlib import contextmanager

SLICE = 0.05  # seconds a search may hold the turn before it steps aside
PAUSE = 0.005  # seconds a search in the background waits at a checkpoint while another has the turn

_turn = threading.Lock()
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
