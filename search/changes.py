"""What changed in the data folder since the manifest: the first step of an update.

The moving parts:

* ``Scope``: where to look -- the whole data folder, or the files and
  folders a user named (``newsearch index update PATH...``), checked to lie
  inside it (``Scope.of``). Removals are found only within the scope.
* ``scan``: one pass over the scope's folders that lists and stats files
  together (``os.scandir``; the same files as
  ``documents.find_article_files``, by the same rule, ``documents.sort_entries``,
  and the same problems with what it leaves out), in several processes for a big
  archive (each takes whole subtrees). A folder whose files have the digest
  the manifest holds for it (``manifest.folder_digest``) is unchanged and
  costs nothing more; for the others the listing is kept.
* ``find_changes``: compares those listings with the manifest's rows of
  their folders (``manifest.Manifest.stamps_in``) and answers ``Changes``:
  files to read again (new, or with another mtime or size), indexed files
  whose mtime moved but content did not (``touched``, only their stamp is
  stored), and ids whose file is gone. A folder that cannot be listed is
  not gone: what is indexed from it stays.

A file edited in place keeps its folder's mtime but not its own, so every
file in scope is stat'ed; what an unchanged file costs is that stat.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from . import processes
from .documents import Problem, article_id, is_article_name, sort_entries, unreadable_folder
from .manifest import Entry, Manifest, Stamp, join_id, sorted_folder_digest, split_id

# Below this many indexed files one process scans about as fast as several
# (20k: 0.06-0.10 s either way; 200k: 0.83 s alone, 0.59-0.72 s with two).
PARALLEL_SCAN_FILES = 100_000
MAX_SCAN_WORKERS = 8
SCAN_JOBS_PER_WORKER = 4  # subtrees per worker, so that workers finish together


def scan_workers(indexed_files: int) -> int:
    """How many processes to scan an archive of about ``indexed_files`` with: one per core."""
    return min(MAX_SCAN_WORKERS, os.cpu_count() or 1) if indexed_files >= PARALLEL_SCAN_FILES else 1


class ScopeProblem(ValueError):
    """A PATH given to an update that it cannot look at (outside the data folder, not an article...)."""


@dataclass
class Scope:
    """Where an update looks: ``folders`` are scanned whole (``""``: the data
    folder), ``files`` one by one; both as ``/``-separated paths in the data folder."""

    folders: list[str] = field(default_factory=lambda: [""])
    files: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, data: Path, paths: Iterable[Path | str], manifest: Manifest, skip_unusable: bool = False) -> "Scope":
        """The scope of the PATHs a user named, or the whole data folder if none.
        A PATH it cannot look at raises ``ScopeProblem``, or is left out if
        ``skip_unusable`` (a watcher's: a file written and removed before the update)."""
        paths = list(paths)
        if not paths:
            return cls()
        indexed_folders = manifest.digests()
        folders, files = [], []
        for path in paths:
            try:
                relpath, is_folder = cls._place(data, path, manifest, indexed_folders)
            except ScopeProblem:
                if skip_unusable:
                    continue
                raise
            (folders if is_folder else files).append(relpath)
        return cls._outermost(folders, files)

    @staticmethod
    def _place(data: Path, path: Path | str, manifest: Manifest, indexed_folders: dict) -> tuple[str, bool]:
        """``path`` in the data folder, and whether it is (or was) a folder."""
        relpath = _inside(data, path)
        full = os.path.join(data, relpath)
        if any(part.startswith(".") for part in relpath.split("/")):
            raise ScopeProblem(f"{path} is hidden: newsearch skips hidden files and folders")
        if os.path.isdir(full):
            return relpath, True
        if os.path.exists(full) or manifest.entry(article_id(relpath)) is not None:
            if not _is_article_path(relpath):
                raise ScopeProblem(f"{path} is not an article file (*.md, not README.md, a name in UTF-8)")
            return relpath, False
        if relpath in indexed_folders or any(f.startswith(relpath + "/") for f in indexed_folders):
            return relpath, True  # a folder that was removed
        raise ScopeProblem(f"{path} does not exist and nothing under it is indexed")

    @classmethod
    def _outermost(cls, folders: list[str], files: list[str]) -> "Scope":
        """Without the folders and files that are inside another folder of the scope."""
        def within_another(path: str) -> bool:
            return any(is_under(path, top) for top in folders if top != path)

        return cls(sorted({f for f in folders if not within_another(f)}),
                   sorted({f for f in files if not within_another(f)}))


def is_under(path: str, top: str) -> bool:
    """Whether ``path`` is ``top`` or inside it (``/``-separated paths in the data folder)."""
    return top == "" or path == top or path.startswith(top + "/")


def _inside(data: Path, path: Path | str) -> str:
    """``path`` as a ``/``-separated path in the data folder ("" for the folder itself)."""
    for resolve in (os.path.abspath, os.path.realpath):
        relpath = os.path.relpath(resolve(path), resolve(data))
        if relpath != os.pardir and not relpath.startswith(os.pardir + os.sep):
            return "" if relpath == os.curdir else relpath.replace(os.sep, "/")
    raise ScopeProblem(f"{path} is not inside the data folder {data}")


def _is_article_path(relpath: str) -> bool:
    return is_article_name(relpath.rpartition("/")[2])


# ---------------------------------------------------------------- scanning


@dataclass
class Scan:
    """What ``scan`` saw: article files per folder, the listing of every
    folder that differs from the manifest ({name: stamp or None}), the
    folders it could not read, and what it left out (``documents.sort_entries``)."""

    counts: dict[str, int] = field(default_factory=dict)
    differing: dict[str, dict[str, Stamp | None]] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def add(self, other: "Scan") -> None:
        self.counts.update(other.counts)
        self.differing.update(other.differing)
        self.unreadable.extend(other.unreadable)
        self.problems.extend(other.problems)


@dataclass
class _Listing:
    names: list[str]  # the article files directly in the folder, without .md, sorted
    numbers: list[int | None]  # their mtimes and sizes: mtime, size, mtime, size... (None, None: no stat)
    subfolders: list[str]
    problems: list[Problem]

    def stamps(self) -> dict[str, Stamp | None]:
        """{name: stamp}, as a differing folder is kept."""
        numbers = self.numbers
        return {name: None if mtime is None else (mtime, size)
                for name, mtime, size in zip(self.names, numbers[0::2], numbers[1::2])}


def _list_folder(data: str, folder: str, follow_links: bool) -> _Listing:
    """The article files directly in ``folder`` of ``data``, with their
    stamps, and its subfolders, by the rule the build's walk follows
    (``documents.sort_entries``). Raises OSError if the folder cannot be listed.

    Files are stat'ed relative to the open folder (``dir_fd``), not by their
    whole path: a third less time per file, and the stat is most of a scan.
    They are stat'ed in the digest's order, into the flat list it packs."""
    path = os.path.join(data, folder) if folder else data
    folder_fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if _BY_FD else None
    try:
        with os.scandir(path if folder_fd is None else folder_fd) as entries:
            found = sort_entries(data, folder, entries, follow_links)
        names = [name[:-3] for name in found.files]
        names.sort()
        numbers: list[int | None] = []
        for name in names:
            try:
                st = os.stat(name + ".md", dir_fd=folder_fd) if _BY_FD else os.stat(os.path.join(path, name + ".md"))
            except OSError:
                numbers += None, None
            else:
                numbers += st.st_mtime_ns, st.st_size
    finally:
        if folder_fd is not None:
            os.close(folder_fd)
    return _Listing(names, numbers, found.folders, found.problems)


def _list_into(found: Scan, data: str, folder: str, digests: dict[str, bytes], follow_links: bool) -> list[str]:
    """List ``folder`` into ``found``; returns the subfolders to scan next (as paths in ``data``)."""
    try:
        listing = _list_folder(data, folder, follow_links)
    except (FileNotFoundError, NotADirectoryError):
        return []  # gone since its parent was listed, or a PATH that was removed: its articles are removed
    except OSError as exc:
        found.unreadable.append(folder)
        found.problems.append(unreadable_folder(folder, exc, "its indexed articles are kept as they were"))
        return []
    found.problems.extend(listing.problems)
    _note_folder(found, folder, listing, digests)
    return [join_id(folder, name) for name in listing.subfolders]


_BY_FD = os.stat in os.supports_dir_fd and os.scandir in os.supports_fd  # not on Windows


def _scan_tree(data: str, top: str, digests: dict[str, bytes], follow_links: bool) -> Scan:
    """Scan the folder ``top`` of ``data`` and everything under it."""
    found = Scan()
    pending = [top]
    while pending:
        pending.extend(_list_into(found, data, pending.pop(), digests, follow_links))
    return found


def _note_folder(found: Scan, folder: str, listing: _Listing, digests: dict[str, bytes]) -> None:
    known = digests.get(folder)
    if not listing.names and known is None:
        return  # no articles now or before: a folder of folders
    found.counts[folder] = len(listing.names)
    if known is None or known != sorted_folder_digest(listing.names, listing.numbers):
        found.differing[folder] = listing.stamps()


_worker_digests: dict[str, bytes] = {}


def _init_scan_worker(digests: dict[str, bytes], parent_pid: int) -> None:
    global _worker_digests
    processes.start_worker(parent_pid)
    _worker_digests = digests


def _scan_tree_in_worker(data: str, top: str, follow_links: bool) -> Scan:
    return _scan_tree(data, top, _worker_digests, follow_links)


def scan(data: Path, top: str, digests: dict[str, bytes], workers: int = 1, follow_links: bool = False) -> Scan:
    """Scan folder ``top`` of ``data`` (``""``: all of it), comparing each folder with ``digests``.

    With several workers, the parent lists the first levels until there are
    ``SCAN_JOBS_PER_WORKER`` subtrees per worker, and the workers scan those."""
    data_path = str(data)
    if workers <= 1:
        return _scan_tree(data_path, top, digests, follow_links)
    found, frontier = Scan(), [top]
    while frontier and len(frontier) < workers * SCAN_JOBS_PER_WORKER:
        level, frontier = frontier, []
        for folder in level:
            frontier.extend(_list_into(found, data_path, folder, digests, follow_links))
    if frontier:
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        with context.Pool(workers, initializer=_init_scan_worker, initargs=(digests, os.getpid())) as pool:
            jobs = [(data_path, folder, follow_links) for folder in frontier]
            for part in pool.starmap(_scan_tree_in_worker, jobs, chunksize=1):
                found.add(part)
    return found


# ---------------------------------------------------------------- comparing


@dataclass
class Changes:
    """What an update has to do."""

    files: int = 0  # article files in scope
    changed: list[str] = field(default_factory=list)  # relpaths to read: new, or another mtime or size
    known: set[str] = field(default_factory=set)  # ids among ``changed`` that are indexed now
    touched: dict[str, Entry] = field(default_factory=dict)  # id -> new stamp, same content
    removed: list[str] = field(default_factory=list)  # ids whose file is gone
    problems: list[Problem] = field(default_factory=list)  # what the scan left out, and why


def find_changes(data: Path, manifest: Manifest, scope: Scope, workers: int = 1,
                 follow_links: bool = False) -> Changes:
    """Compare the files in ``scope`` with ``manifest``. What is in a folder
    that cannot be read is kept as it is indexed (it is not known to be gone)."""
    digests = manifest.digests()
    changes = Changes()
    for top in scope.folders:
        found = scan(data, top, digests, workers, follow_links)
        changes.files += sum(found.counts.values())
        changes.problems.extend(found.problems)
        for folder, stamps in sorted(found.differing.items()):
            _compare(data, folder, stamps, manifest.stamps_in(folder), manifest, changes)
        gone = [f for f in digests if f not in found.counts and is_under(f, top)
                and not any(is_under(f, unreadable) for unreadable in found.unreadable)]
        for folder in sorted(gone):
            changes.removed.extend(join_id(folder, name) for name in sorted(manifest.stamps_in(folder)))
    for relpath in scope.files:
        doc_id = article_id(relpath)
        folder, name = split_id(doc_id)
        full = os.path.join(data, relpath)
        on_disk = os.path.lexists(full)
        known = manifest.entry(doc_id)
        changes.files += on_disk
        _compare(data, folder, {name: _stat(full)} if on_disk else {}, {name: known.stamp} if known else {},
                 manifest, changes)
    changes.changed.sort()
    changes.removed.sort()
    return changes


def _stat(path: str) -> Stamp | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _compare(data: Path, folder: str, stamps: dict[str, Stamp | None], indexed: dict[str, Stamp],
             manifest: Manifest, changes: Changes) -> None:
    """Sort one folder's files (``stamps``) against the stamps of its indexed ones into ``changes``."""
    for name, stamp in stamps.items():
        indexed_stamp = indexed.get(name)
        if indexed_stamp is None:
            changes.changed.append(join_id(folder, name) + ".md")  # new
            continue
        if stamp == indexed_stamp:
            continue
        doc_id = join_id(folder, name)
        if stamp is not None:
            fingerprint = manifest.entry(doc_id).fingerprint
            if _same_content(os.path.join(data, doc_id + ".md"), fingerprint):
                changes.touched[doc_id] = Entry(stamp[0], stamp[1], fingerprint)
                continue
        changes.changed.append(doc_id + ".md")
        changes.known.add(doc_id)
    changes.removed.extend(join_id(folder, name) for name in indexed if name not in stamps)


def _same_content(path: str, fingerprint: str) -> bool:
    try:
        if not os.path.isfile(path):  # a FIFO would block
            return False
        with open(path, "rb") as file:
            return hashlib.sha1(file.read()).hexdigest() == fingerprint
    except OSError:
        return False
