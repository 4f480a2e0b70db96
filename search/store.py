"""The index folder as readers see it: which generation is live, and its files.

The moving parts:

* ``IndexHome`` is the index folder. It holds generations (``gen-000001``
  ...), each a complete Whoosh index with ``meta.json`` (when and from what
  it was built) and ``manifest.sqlite`` (per article: file mtime, size and
  content fingerprint; see ``manifest``). ``CURRENT`` names the live generation.
* ``read_json`` reads those files, with a default for a missing or broken one.
* ``IndexProblem`` and its kinds ``NoIndex``, ``IndexBusy`` and ``DiskFull``
  are the problems with the index itself that the faces report.

Both sides import this module: the engine (searching) and the indexer,
which also writes generations and switches ``CURRENT`` (see ``indexer``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from whoosh import index as whoosh_index

POINTER = "CURRENT"
WRITER_LOCK = ".writer.lock"  # held by the one build or update running (indexer.writer_lock)
WRITER_NOTE = ".writer.json"  # what it is and its pid (indexer._announce)
GENERATION_PREFIX = "gen-"


class IndexProblem(Exception):
    """A problem with the index itself (missing, locked, incompatible)."""


class IndexBusy(IndexProblem):
    pass


class NoIndex(IndexProblem):
    pass


class BuildInProgress(NoIndex):
    """There is no live index yet because the first build is still running (``pid``)."""

    def __init__(self, path: Path, pid: int):
        self.pid = pid
        super().__init__(f"a build is in progress (pid {pid}) on {path}; there is no index to search until "
                         "it finishes: try again then")


class DiskFull(IndexProblem):
    """A build or update ran out of disk space (or quota); the live index is as it was."""


class IndexUnreadable(IndexProblem):
    """The live generation exists but cannot be opened (a damaged or missing file);
    ``reason`` says what failed without the index's path."""

    def __init__(self, generation: Path, error: Exception):
        if isinstance(error, OSError) and error.strerror:
            self.reason = error.strerror + (f" ({Path(str(error.filename)).name})" if error.filename else "")
        else:
            self.reason = type(error).__name__
        super().__init__(f"the index at {generation} cannot be opened: {self.reason}; "
                         "run 'newsearch index build' to rebuild it")


class IndexHome:
    """The index folder and its generations."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    @property
    def pointer(self) -> Path:
        return self.path / POINTER

    def current(self) -> Path | None:
        """The live generation, or None if there is none (yet)."""
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        gen = self.path / name
        return gen if name and whoosh_index.exists_in(gen) else None

    def require_current(self) -> Path:
        gen = self.current()
        if gen is None:
            if (pid := self.building()) is not None:
                raise BuildInProgress(self.path, pid)
            raise NoIndex(f"no index at {self.path}; run 'newsearch index build' first")
        return gen

    def building(self) -> int | None:
        """The process id of a build or update running on this folder (from the note the
        indexer writes beside its lock, ``.writer.json``), None if none runs."""
        if not (self.path / WRITER_LOCK).exists():
            return None
        pid = read_json(self.path / WRITER_NOTE, {}).get("pid")
        if not isinstance(pid, int) or pid <= 0:
            return None
        try:
            os.kill(pid, 0)  # no signal sent: only asks whether the process exists
        except ProcessLookupError:
            return None  # the writer died; its lock went with it
        except OSError:
            pass  # it exists, owned by someone else
        return pid

    def generations(self) -> list[Path]:
        """Every generation folder, oldest first (live, previous and unfinished ones)."""
        if not self.path.is_dir():
            return []
        return sorted(p for p in self.path.iterdir() if p.is_dir() and p.name.startswith(GENERATION_PREFIX))


def read_json(path: Path, default):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default
