"""The manifest of a generation: what every indexed file looked like when it was read.

An update compares the data folder with it to find what changed, so its
cost must follow the change, not the archive. The moving parts:

* ``manifest.sqlite`` in the generation folder (SQLite from the standard
  library). Table ``files``: one row per indexed article -- its folder and
  name (the article id split at the last ``/``), the file's mtime in
  nanoseconds, its size, and the SHA-1 of its bytes (``fingerprint``), kept
  in folder order (``WITHOUT ROWID``, keyed by folder and name). Table
  ``folders``: per folder, how many of its articles are indexed and the
  ``digest`` of their names, mtimes and sizes (``folder_digest``).
* A folder whose files on disk have the digest stored for it holds exactly
  the indexed files, unchanged; only the other folders' names and stamps are
  read (``Manifest.stamps_in``). A skipped (unreadable) file has no row, so its
  folder's digest differs and the file is retried, as a changed file is.
* ``write`` stores a build's entries in one transaction; ``Manifest.apply``
  writes an update's changed rows (and the digests of their folders) in one.
* ``Manifest.open`` converts the ``manifest.json`` of an index built by an
  earlier version (``{id: [mtime_ns, size, sha1]}``) once, so that index
  keeps working.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sqlite3
import struct
from pathlib import Path
from typing import Iterable, Mapping, NamedTuple, Sequence

from .store import IndexProblem

FILE = "manifest.sqlite"
LEGACY_FILE = "manifest.json"

Stamp = tuple[int, int]  # (mtime_ns, size) of a file

_SCHEMA = """
CREATE TABLE files (folder TEXT NOT NULL, name TEXT NOT NULL, mtime_ns INTEGER NOT NULL,
                    size INTEGER NOT NULL, fingerprint TEXT NOT NULL, PRIMARY KEY (folder, name)) WITHOUT ROWID;
CREATE TABLE folders (folder TEXT PRIMARY KEY, files INTEGER NOT NULL, digest BLOB NOT NULL) WITHOUT ROWID;
"""


class Entry(NamedTuple):
    """One indexed file as it was read."""

    mtime_ns: int
    size: int
    fingerprint: str

    @property
    def stamp(self) -> Stamp:
        return (self.mtime_ns, self.size)


def split_id(doc_id: str) -> tuple[str, str]:
    """``2022/07/foo`` -> (``2022/07``, ``foo``); a file at the top has folder ``""``."""
    folder, _, name = doc_id.rpartition("/")
    return folder, name


def join_id(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def folder_digest(stamps: Mapping[str, Stamp | None]) -> bytes:
    """A digest of one folder's files: their names (article ids' last part),
    mtimes and sizes, in name order. A file that could not be stat'ed
    (``None``) gives a digest no manifest has (``b""``)."""
    names = sorted(stamps)
    try:
        numbers = list(itertools.chain.from_iterable(map(stamps.__getitem__, names)))
    except TypeError:  # a None stamp
        return b""
    return sorted_folder_digest(names, numbers)


def sorted_folder_digest(names: Sequence[str], numbers: Sequence[int | None]) -> bytes:
    """``folder_digest`` of the files ``names``, sorted, whose mtimes and sizes
    are ``numbers`` in the same order (mtime, size, mtime, size...; ``None``
    for a file that could not be stat'ed)."""
    try:  # packed as native 64-bit integers, not formatted: most of the digest's cost was formatting
        packed = struct.pack(f"{len(numbers)}q", *numbers)  # array.array("q", numbers).tobytes(), in less time
    except struct.error:  # a None, or a date beyond 2262
        return b""
    digest = hashlib.blake2b("\0".join(names).encode("utf-8", "surrogateescape"), digest_size=16)
    digest.update(packed)
    return digest.digest()


def write(gen: Path, entries: Mapping[str, Sequence]) -> None:
    """Store a build's ``entries`` ({article id: Entry or [mtime_ns, size, fingerprint]})
    as the manifest of ``gen``, in one transaction."""
    path = Path(gen) / FILE
    temp = path.with_name(f".{FILE}.{os.getpid()}")
    temp.unlink(missing_ok=True)
    by_folder: dict[str, dict[str, Entry]] = {}
    for doc_id, entry in entries.items():
        folder, name = split_id(doc_id)
        by_folder.setdefault(folder, {})[name] = Entry(*entry)
    db = sqlite3.connect(temp)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)  # a new file, renamed when done
        with db:
            for folder in sorted(by_folder):
                rows = by_folder[folder]
                db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?)",
                               [(folder, name, e.mtime_ns, e.size, e.fingerprint) for name, e in sorted(rows.items())])
                db.execute("INSERT INTO folders VALUES (?, ?, ?)", (folder, len(rows), _digest_of(rows)))
    finally:
        db.close()
    os.replace(temp, path)


def _digest_of(rows: Mapping[str, Entry]) -> bytes:
    return folder_digest({name: entry.stamp for name, entry in rows.items()})


class Manifest:
    """The manifest of one generation, open for an update."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._read: dict[str, dict[str, Stamp]] = {}  # the stamps of folders read so far, as they are stored

    @classmethod
    def open(cls, gen: Path) -> "Manifest":
        """The manifest of ``gen``, converted first if ``gen`` has only an earlier version's ``manifest.json``.

        Raises ``IndexProblem`` if it cannot be read."""
        gen = Path(gen)
        if not (gen / FILE).exists():
            legacy = _read_legacy(gen / LEGACY_FILE)
            write(gen, legacy)
            (gen / LEGACY_FILE).unlink(missing_ok=True)
        db = sqlite3.connect(gen / FILE)
        # No fsync, like the Whoosh files beside it: the rollback journal still
        # makes a transaction all-or-nothing if the process is killed; after a
        # power loss a torn manifest asks for a rebuild (see below), and a stale
        # one is repaired by the next update. Under a busy disk an fsync cost 0.1 s.
        try:
            db.execute("PRAGMA synchronous=OFF")
            db.execute("SELECT folder, files, digest FROM folders LIMIT 1").fetchall()
            db.execute("SELECT folder, name, mtime_ns, size, fingerprint FROM files LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            db.close()
            raise IndexProblem(f"the manifest of the index at {gen} cannot be read ({exc}); "
                               "run 'newsearch index build'") from None
        return cls(db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Manifest":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def digests(self) -> dict[str, bytes]:
        """{folder: digest of its indexed files} for every folder with an indexed file."""
        return dict(self.db.execute("SELECT folder, digest FROM folders"))

    def count(self) -> int:
        """How many articles are indexed."""
        return self.db.execute("SELECT coalesce(sum(files), 0) FROM folders").fetchone()[0]

    def stamps_in(self, folder: str) -> dict[str, Stamp]:
        """{name: stamp} of the indexed files directly in ``folder`` (not to be changed by the caller).
        Without their fingerprints (``entry``): an update needs those of the few changed files only."""
        if folder not in self._read:
            rows = self.db.execute("SELECT name, mtime_ns, size FROM files WHERE folder = ?", (folder,))
            self._read[folder] = {name: (mtime, size) for name, mtime, size in rows}
        return self._read[folder]

    def entry(self, doc_id: str) -> Entry | None:
        row = self.db.execute("SELECT mtime_ns, size, fingerprint FROM files WHERE folder = ? AND name = ?",
                              split_id(doc_id)).fetchone()
        return Entry(*row) if row else None

    def apply(self, put: Mapping[str, Entry], drop: Iterable[str]) -> None:
        """Store ``put`` ({article id: Entry}, new or replacing) and delete the ids in ``drop``,
        with the digests of the folders they are in, in one transaction."""
        changed: dict[str, dict[str, Entry | None]] = {}  # folder -> {name: new entry, or None: dropped}
        for doc_id in drop:
            folder, name = split_id(doc_id)
            changed.setdefault(folder, {})[name] = None
        for doc_id, entry in put.items():
            folder, name = split_id(doc_id)
            changed.setdefault(folder, {})[name] = entry
        with self.db:
            for folder, names in changed.items():
                stamps = dict(self.stamps_in(folder))  # read before the rows change (most were read to compare)
                for name, entry in names.items():
                    if entry is None:
                        stamps.pop(name, None)
                        self.db.execute("DELETE FROM files WHERE folder = ? AND name = ?", (folder, name))
                    else:
                        stamps[name] = entry.stamp
                        self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", (folder, name, *entry))
                self._read[folder] = stamps
                if stamps:
                    self.db.execute("INSERT OR REPLACE INTO folders VALUES (?, ?, ?)",
                                    (folder, len(stamps), folder_digest(stamps)))
                else:
                    self.db.execute("DELETE FROM folders WHERE folder = ?", (folder,))


def _read_legacy(path: Path) -> dict[str, Entry]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no manifest: every file looks new, and an update re-indexes it
    return {doc_id: Entry(int(value[0]), int(value[1]), str(value[2])) for doc_id, value in found.items()}
