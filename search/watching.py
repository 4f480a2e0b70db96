"""Keeping the index up to date as files change: ``newsearch index watch``.

An update compares every file in scope with the manifest, and at a million
files that is a ``stat`` each, over 2 s on this machine (README, "Scale").
A watcher hears from the kernel what changed and updates only that.

The moving parts:

* ``Inotify``: Linux's inotify through ctypes (no dependency): one watch per
  folder, events read as ``(watch, mask, name)``. ``WatchUnavailable`` where
  there is none, or when the system's limit on watches is reached.
* ``FolderWatches``: which folder each watch is on. It watches a folder and
  the folders under it by the build's rule (``documents.sort_entries``) as
  they appear, and forgets them as they go.
* ``Pending``: what the events named since the last update (files and
  folders, as paths in the data folder), or everything (the kernel's queue
  overflowed, or the watcher has just started), and when it is due: once
  events have paused for ``settle`` seconds, or ``longest`` seconds after
  the first of them.
* ``watch``: watches first, then a whole update (what changed while nothing
  watched), then, whenever pending changes are due, an update of just their
  paths. ``indexer.update`` does every update, so the index ends as
  ``newsearch index update PATH...`` would leave it. It holds the writer's
  lock only while it updates, and waits its turn while a build or an update
  runs (``IndexBusy``).
* ``Mailbox``: how ``newsearch index update`` asks a running watcher to catch
  up instead of comparing every file itself (``update``; what git's
  fsmonitor does). The watcher holds a lock in the index folder and says
  there what it watches; an update leaves an ask there, which the watcher
  hears through the same inotify queue as the data folder's changes. The
  queue keeps the order of events, so every change made before the ask is
  pending when the watcher reads it: it updates them at once and answers
  with its report.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno
import json
import os
import select
import stat
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from whoosh.util.filelock import FileLock

from . import indexer, processes
from .changes import is_under
from .documents import DEFAULT_MAX_BYTES, Problem, is_article_name, sort_entries
from .manifest import join_id
from .store import IndexBusy, IndexHome, read_json

SETTLE_SECONDS = 0.5  # events must pause this long before an update starts
LONGEST_SECONDS = 5.0  # ... or this long after the first of them (a copy that goes on and on)
BUSY_RETRY_SECONDS = 1.0  # another writer holds the index: try again after this
MAX_PATHS = 10_000  # more changed paths than this: a whole update costs less than naming them all
ANSWER_SECONDS = 120.0  # an update waits this long at most for a running watcher to catch up

# From <sys/inotify.h>.
IN_ATTRIB, IN_CLOSE_WRITE = 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_DELETE_SELF, IN_MOVE_SELF = 0x400, 0x800
IN_Q_OVERFLOW, IN_IGNORED = 0x4000, 0x8000
IN_ONLYDIR, IN_DONT_FOLLOW, IN_EXCL_UNLINK, IN_ISDIR = 0x01000000, 0x02000000, 0x04000000, 0x40000000
FOLDER_EVENTS = (IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
                 | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)
# A file counts once it is closed after writing, not while it is written (nor
# when it is created, unless as a link): an update must not read half of it.
FILE_EVENTS = IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE
_EVENT = struct.Struct("iIII")  # watch, mask, cookie, length of the name that follows


class WatchUnavailable(OSError):
    """The system cannot watch the data folder (no inotify, or its limit reached)."""


class Inotify:
    """An inotify instance: ``add`` a folder, ``read`` what happened in the watched ones."""

    def __init__(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)  # the C library Python runs on
        try:
            self._add_watch, self._rm_watch = libc.inotify_add_watch, libc.inotify_rm_watch
            init = libc.inotify_init1
        except AttributeError:
            raise WatchUnavailable("watching needs Linux's inotify, which this system lacks; "
                                   "run 'newsearch index update' instead (from cron, say)") from None
        self._add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self.fd = init(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise WatchUnavailable(f"cannot start watching: {os.strerror(ctypes.get_errno())}")

    def add(self, path: str, mask: int) -> int | None:
        """Watch the folder ``path``; None if it is gone or cannot be watched (unreadable)."""
        watch = self._add_watch(self.fd, os.fsencode(path), mask)
        if watch >= 0:
            return watch
        code = ctypes.get_errno()
        if code == errno.ENOSPC:
            raise WatchUnavailable(f"cannot watch {path}: the system's limit on watched folders is reached "
                                   f"({_watch_limit()}); raise fs.inotify.max_user_watches (sysctl) "
                                   "or run 'newsearch index update' instead")
        if code == errno.ENOMEM:
            raise MemoryError(f"cannot watch {path}: {os.strerror(code)}")
        return None

    def remove(self, watch: int) -> None:
        self._rm_watch(self.fd, watch)  # fails only for a watch the kernel already dropped

    def read(self, timeout: float) -> list[tuple[int, int, str]]:
        """The events that came, waiting up to ``timeout`` seconds for the first."""
        if not select.select([self.fd], [], [], max(0.0, timeout))[0]:
            return []
        events = []
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return events
            offset = 0
            while offset < len(data):
                watch, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                offset += _EVENT.size
                name = os.fsdecode(data[offset:offset + length].split(b"\0", 1)[0])
                offset += length
                events.append((watch, mask, name))

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> "Inotify":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def _watch_limit() -> str:
    try:
        with open("/proc/sys/fs/inotify/max_user_watches") as file:
            return f"fs.inotify.max_user_watches is {int(file.read()):,}"
    except (OSError, ValueError):
        return "fs.inotify.max_user_watches"


class FolderWatches:
    """The watched folders of a data folder (``/``-separated paths, "" for the folder itself)."""

    def __init__(self, inotify: Inotify, data: str, follow_links: bool) -> None:
        self.inotify, self.data, self.follow_links = inotify, data, follow_links
        self.folder_of: dict[int, str] = {}
        self.watch_of: dict[str, int] = {}

    def add_tree(self, top: str) -> None:
        """Watch ``top`` and every folder under it that a build would enter."""
        pending = [top]
        while pending:
            folder = pending.pop()
            path = os.path.join(self.data, folder) if folder else self.data
            # A link a build enters (--follow-links) is watched where it leads; the data folder always is.
            mask = FOLDER_EVENTS | (0 if self.follow_links or not folder else IN_DONT_FOLLOW)
            watch = self.inotify.add(path, mask)
            if watch is None:
                continue
            self.folder_of[watch], self.watch_of[folder] = folder, watch
            try:
                with os.scandir(path) as entries:
                    found = sort_entries(self.data, folder, entries, self.follow_links)
            except OSError:
                continue  # an update says that it cannot be read
            pending.extend(join_id(folder, name) for name in found.folders)

    def forget_tree(self, top: str) -> None:
        """Stop watching ``top`` and the folders under it (removed, or moved away)."""
        for folder in [f for f in self.watch_of if is_under(f, top)]:
            watch = self.watch_of.pop(folder)
            if self.folder_of.get(watch) == folder:
                del self.folder_of[watch]
                self.inotify.remove(watch)

    def dropped(self, watch: int) -> None:
        """The kernel ended ``watch`` (its folder was removed)."""
        folder = self.folder_of.pop(watch, None)
        if folder is not None and self.watch_of.get(folder) == watch:
            del self.watch_of[folder]

    def __len__(self) -> int:
        return len(self.watch_of)


class Taken(NamedTuple):
    """What one update is to do: everything, or these paths; and the asks it answers."""

    everything: bool
    paths: list[str]
    asks: list[str] = []


@dataclass
class Pending:
    """Changes heard of and not yet indexed, and updates waiting for them (``asks``)."""

    paths: set[str] = field(default_factory=set)  # files and folders, as paths in the data folder
    everything: bool = False  # a whole update is needed
    asks: list[str] = field(default_factory=list)  # updates waiting for the watcher to catch up (``Mailbox``)
    first: float = 0.0  # when the first of them was heard of
    last: float = 0.0  # ... and the last
    not_before: float = 0.0  # a busy index: not before this time

    def note(self, path: str | None, now: float) -> None:
        """Heard of a change at ``path`` (None: anything may have changed)."""
        if not self:
            self.first = now
        self.last = now
        if path is None or len(self.paths) >= MAX_PATHS:
            self.everything = True
            self.paths.clear()
        elif not self.everything:
            self.paths.add(path)

    def ask(self, name: str) -> None:
        """An update asks for every change heard of so far: they are due now."""
        self.asks.append(name)

    def due_in(self, now: float, settle: float, longest: float) -> float | None:
        """Seconds until an update should start (0: now); None if nothing is pending."""
        if not self:
            return None
        due = now if self.asks else min(self.last + settle, self.first + longest)
        return max(0.0, due - now, self.not_before - now)

    def take(self) -> Taken:
        """What to update, forgetting it."""
        taken = Taken(self.everything, sorted(self.paths), self.asks)
        self.paths, self.everything, self.asks = set(), False, []
        return taken

    def give_back(self, taken: Taken, now: float, not_before: float) -> None:
        """An update that could not run: what it was to do is pending again."""
        for path in ([None] if taken.everything else taken.paths):
            self.note(path, now)
        self.asks.extend(taken.asks)
        self.not_before = not_before

    def __bool__(self) -> bool:
        return self.everything or bool(self.paths) or bool(self.asks)


def note_event(pending: Pending, watches: FolderWatches, watch: int, mask: int, name: str, now: float) -> None:
    """What one inotify event means for the pending changes and the watches."""
    if mask & IN_Q_OVERFLOW:  # events were lost
        pending.note(None, now)
        return
    folder = watches.folder_of.get(watch)
    if folder is None:
        return
    if mask & IN_IGNORED:
        watches.dropped(watch)
        return
    if mask & (IN_DELETE_SELF | IN_MOVE_SELF):
        if folder == "":  # the data folder itself: the update says what became of it
            pending.note(None, now)
        return  # otherwise its parent's event names it
    path = join_id(folder, name)
    if mask & IN_ISDIR:
        if name.startswith("."):
            return
        if mask & (IN_DELETE | IN_MOVED_FROM):
            watches.forget_tree(path)
        if mask & (IN_CREATE | IN_MOVED_TO):
            watches.add_tree(path)  # before the update lists it: nothing written into it meanwhile is missed
        pending.note(path, now)
    elif is_article_name(name) and (mask & FILE_EVENTS or mask & IN_CREATE and _is_link(watches.data, path)):
        pending.note(path, now)


def _is_link(data: str, path: str) -> bool:
    """Whether the file created at ``path`` is a link (``ln``), which no close after writing follows."""
    try:
        st = os.lstat(os.path.join(data, path))
    except OSError:
        return False
    return stat.S_ISLNK(st.st_mode) or st.st_nlink > 1


def watch(data: Path, home: IndexHome, *, on_report: Callable[[indexer.Report], None],
          on_ready: Callable[[int], None] = lambda folders: None,
          on_busy: Callable[[str], None] = lambda message: None,
          should_stop: Callable[[], bool] = lambda: False,
          settle: float = SETTLE_SECONDS, longest: float = LONGEST_SECONDS,
          max_bytes: int = DEFAULT_MAX_BYTES, follow_links: bool = False, poll: float = 0.5) -> None:
    """Keep the index of ``data`` in ``home`` up to date until ``should_stop()``
    (asked every ``poll`` seconds at least). ``on_report`` gets each update's
    report; ``on_ready`` the number of folders watched once the first, whole
    update is done; ``on_busy`` why an update has to wait."""
    indexer.require_data_folder(Path(data))
    data = os.path.abspath(data)
    clock = time.monotonic
    with Inotify() as inotify, Mailbox(home).opened(inotify, data, follow_links, max_bytes) as mailbox:
        watches = FolderWatches(inotify, data, follow_links)
        watches.add_tree("")
        pending, ready = Pending(everything=True), False  # what changed while nothing watched: due at once
        while not should_stop():
            due_in = pending.due_in(clock(), settle, longest)
            if due_in != 0:
                for watch_id, mask, name in inotify.read(poll if due_in is None else min(due_in, poll)):
                    if watch_id == mailbox.watch:
                        if mailbox.is_ask(name):
                            pending.ask(name)
                    else:
                        note_event(pending, watches, watch_id, mask, name, clock())
                continue
            taken = pending.take()
            try:
                report = _update(data, home, taken, max_bytes, follow_links)
            except IndexBusy as exc:
                pending.give_back(taken, clock(), clock() + BUSY_RETRY_SECONDS)
                on_busy(str(exc))
                continue
            if report.action:
                on_report(report)
            mailbox.answer(taken.asks, report)
            if not ready:
                ready = True
                on_ready(len(watches))


def _update(data: str, home: IndexHome, taken: Taken, max_bytes: int, follow_links: bool) -> indexer.Report:
    """The update of what was taken; with nothing to update (only asks), a report with no action."""
    if not taken.everything and not taken.paths:
        gen = home.require_current()
        documents = read_json(gen / "meta.json", {}).get("documents", 0)
        return indexer.Report("", data, str(gen), files=documents, unchanged=documents, documents=documents)
    return indexer.update(Path(data), home, paths=[] if taken.everything else [os.path.join(data, p) for p in taken.paths],
                          max_bytes=max_bytes, follow_links=follow_links, skip_unusable_paths=True)


# ---------------------------------------------------------------- catching up


class Mailbox:
    """The folder ``.watcher`` in the index folder, where updates ask the running watcher to catch up.

    The watcher holds ``lock`` for as long as it runs, and says in
    ``watcher.json`` what it watches. An update that finds the lock held
    writes ``NAME.ask`` (renamed into place: one inotify event); the watcher
    answers with ``NAME.json``, the report of its catch-up, once it is done."""

    NOTE, LOCK, ASK, ANSWER = "watcher.json", "lock", ".ask", ".json"

    def __init__(self, home: IndexHome) -> None:
        self.folder = home.path / ".watcher"
        self.watch: int | None = None

    # ------------------------------------------------------------ the watcher's side

    @contextlib.contextmanager
    def opened(self, inotify: Inotify, data: str, follow_links: bool, max_bytes: int) -> Iterator["Mailbox"]:
        """Take the lock, clear what an earlier watcher left, and listen for asks."""
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.folder / self.LOCK))
        if not lock.acquire(blocking=False):
            note = read_json(self.folder / self.NOTE, {})
            raise WatchUnavailable(f"another watcher (pid {note.get('pid', '?')}) already keeps the index at "
                                   f"{self.folder.parent} up to date")
        processes.hold_in_parent(lock.fd)  # an update's workers close their copies
        try:
            for old in self.folder.iterdir():
                if old.name != self.LOCK:
                    old.unlink(missing_ok=True)
            self.watch = inotify.add(str(self.folder), IN_MOVED_TO | IN_ONLYDIR)
            if self.watch is not None:  # otherwise no ask would be heard: updates compare every file
                indexer.write_json(self.folder / self.NOTE, {"pid": os.getpid(), "data": os.path.realpath(data),
                                                             "follow_links": follow_links, "max_bytes": max_bytes})
            yield self
        finally:
            (self.folder / self.NOTE).unlink(missing_ok=True)
            processes.let_go_in_parent(lock.fd)
            lock.release()

    def is_ask(self, name: str) -> bool:
        return name.endswith(self.ASK) and not name.startswith(".")

    def answer(self, asks: list[str], report: indexer.Report) -> None:
        """Give each update that asked the report of the catch-up."""
        for name in asks:
            if not (self.folder / name).exists():
                continue  # the update stopped waiting
            _write_atomically(self.folder / (name[:-len(self.ASK)] + self.ANSWER), dataclasses.asdict(report))
            (self.folder / name).unlink(missing_ok=True)

    # ------------------------------------------------------------ an update's side

    def watcher(self) -> dict | None:
        """What the running watcher watches (``watcher.json``), or None if none runs."""
        if not self.alive():
            return None
        note = read_json(self.folder / self.NOTE, None)
        return note if isinstance(note, dict) else None

    def alive(self) -> bool:
        if not (self.folder / self.LOCK).exists():
            return False
        lock = FileLock(str(self.folder / self.LOCK))
        try:
            if lock.acquire(blocking=False):
                lock.release()
                return False
        except OSError:  # not ours to open (a read-only index folder): no asking
            return False
        return True

    def ask(self, wait: float) -> dict | None:
        """Ask the watcher to catch up; its report's fields, or None if it
        stopped (or took longer than ``wait`` seconds) before answering."""
        name = f"{os.getpid()}-{time.time_ns()}"
        answer = self.folder / (name + self.ANSWER)
        try:
            _write_atomically(self.folder / (name + self.ASK), {"pid": os.getpid()})
        except OSError:  # the index folder is not ours to write: the update says so itself
            return None
        deadline = time.monotonic() + wait
        checked_alive = time.monotonic()
        while time.monotonic() < deadline:
            fields = read_json(answer, None)
            if fields is not None:
                answer.unlink(missing_ok=True)
                return fields
            if time.monotonic() - checked_alive > 0.5:
                if not self.alive():
                    break
                checked_alive = time.monotonic()
            time.sleep(0.005)
        (self.folder / (name + self.ASK)).unlink(missing_ok=True)
        return None


def _write_atomically(path: Path, value) -> None:
    partial = path.with_name("." + path.name + ".partial")  # a name no ask or answer has
    partial.write_text(json.dumps(value), encoding="utf-8")
    os.replace(partial, path)


def update(data: Path, home: IndexHome, *, paths=(), max_bytes: int = DEFAULT_MAX_BYTES,
           progress: indexer.Progress | None = None, follow_links: bool = False,
           every_problem: bool = False) -> indexer.Report:
    """``indexer.update``; but for the whole data folder, if a watcher keeps
    this index of it up to date (with the same options), the watcher's
    catch-up instead: every change made before the call is indexed when it
    returns, without a look at every file. Its report counts the index's
    articles as the files, and lists only the problems of the files it read
    now. ``every_problem``: the caller needs every skipped file listed
    (``--strict``), which only a look at every file gives."""
    if not paths and not every_problem:
        report = catch_up(Path(data), home, max_bytes, follow_links)
        if report is not None:
            return report
    return indexer.update(data, home, paths=paths, max_bytes=max_bytes, progress=progress,
                          follow_links=follow_links)


def catch_up(data: Path, home: IndexHome, max_bytes: int, follow_links: bool) -> indexer.Report | None:
    """The running watcher's catch-up report, or None if no watcher (with these options) answers."""
    started = time.perf_counter()
    mailbox = Mailbox(home)
    note = mailbox.watcher()
    if (note is None or note.get("data") != os.path.realpath(data) or note.get("max_bytes") != max_bytes
            or (follow_links and not note.get("follow_links"))):
        return None
    if home.building() not in (None, note.get("pid")):
        return None  # a build or another update holds the index: the watcher would wait for it, the update says so
    fields = mailbox.ask(ANSWER_SECONDS)
    if fields is None:
        return None
    problems = [Problem(**problem) for problem in fields.pop("problems")]
    report = indexer.Report(**{**fields, "problems": problems})
    report.action = f"update (by the watcher, pid {note.get('pid')})"
    report.data = str(data)
    report.files = report.documents
    report.unchanged = report.documents - report.indexed - report.updated
    report.seconds = time.perf_counter() - started
    return report
