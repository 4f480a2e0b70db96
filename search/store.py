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
from pathlib import Path

from whoosh import index as whoosh_index

POINTER = "CURRENT"
GENERATION_PREFIX = "gen-"


class IndexProblem(Exception):
    """A problem with the index itself (missing, locked, incompatible)."""


class IndexBusy(IndexProblem):
    pass


class NoIndex(IndexProblem):
    pass


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
            raise NoIndex(f"no index at {self.path}; run 'newsearch index build' first")
        return gen

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
