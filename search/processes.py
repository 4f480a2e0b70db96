"""Worker processes that never outlive the command that started them.

A build and a big update fork worker processes (``indexer`` and ``changes``
use ``multiprocessing`` pools). A forked worker inherits the parent's open
files, among them the writer lock (``indexer.writer_lock``, an ``flock``
that the OS drops only when every copy of it is closed), so a worker left
behind by a ``kill -9`` of its parent kept the index locked. The moving parts:

* ``hold_in_parent(fd)`` / ``let_go_in_parent(fd)``: the writer lock's file
  descriptor, known to the workers forked while it is held.
* ``start_worker(parent_pid)``: the first thing a worker does. It closes its
  copy of the lock (so even a stuck worker never holds it) and asks Linux to
  kill it when its parent dies (``prctl(PR_SET_PDEATHSIG)``); if the parent
  is already gone, it exits. Elsewhere the pool's own shutdown applies.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_held_fds: set[int] = set()


def hold_in_parent(fd: int) -> None:
    """Remember ``fd`` (the writer lock) so that workers close their copies of it."""
    _held_fds.add(fd)


def let_go_in_parent(fd: int) -> None:
    _held_fds.discard(fd)


def start_worker(parent_pid: int) -> None:
    """Run first in every worker: let go of the lock and die with the parent."""
    for fd in list(_held_fds):
        try:
            os.close(fd)  # only this process's copy: the parent keeps the lock
        except OSError:
            pass
    _held_fds.clear()
    _die_with_parent()
    if os.getppid() != parent_pid:  # the parent died before the request was made
        os._exit(1)


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no usable libc: the pool's own shutdown still applies
        pass
