"""One open searcher and everything read from it once, kept together.

Searching needs per-document tables and word lists that are slow to read
and never change while a searcher is open. ``SearcherState`` holds them
beside the searcher they were read from, so they are dropped with it when
the engine reopens the index (``Engine._install`` makes one per searcher
and hands it to whoever needs it):

* ``searcher``: the Whoosh searcher on ``generation`` (an ``IndexHome``
  generation folder), scored by ``weighting``;
* ``weighting``: its ``NewsBM25``, with the length norms of its segments
  and the posting lists of their frequent words (``termarrays``);
* ``facets``: the ``FacetTable`` (topics, providers, years, dates,
  stories, quality and heat per document; ids, titles and urls);
* ``vocabulary``: the archive's words (``Vocabulary``), read on first use;
* ``labels(field)``: every value of an exact field (``topic``, ``source``,
  ``domain``...), read on first use, for ``querying`` and suggestions.

The facets and norms are made when the state is made, so a request never
waits for them, from the per-segment arrays stored with the index
(``arrays``: memory-mapped, so this costs milliseconds); the vocabulary
and labels when first asked for.

Whoosh's readers keep file positions, so two threads must not search with one
searcher at once. ``lane()`` gives each thread a ``Lane``: a searcher of its
own on the same segments (opening one reads only their headers), scored by a
``NewsBM25`` that shares this state's norms and term arrays; everything else
is this state's. The first lane takes the state's own searcher.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher

from . import arrays, termarrays
from .facets import FacetTable
from .ranking import NewsBM25
from .schema import DEFAULT_FIELD
from .termarrays import TermArrays
from .vocabulary import Vocabulary


class SearcherState:
    def __init__(self, searcher, generation: Path):
        """``searcher`` must be scored by a ``NewsBM25`` of its own (``open`` makes such a pair)."""
        self.searcher = searcher
        self.generation = generation
        self.weighting: NewsBM25 = searcher.weighting
        segments = arrays.for_searcher(searcher, generation)
        self.facets = FacetTable(searcher, segments, arrays.Derived(generation, searcher.reader().generation()))
        for (sub, _), (stored, _) in zip(searcher.leaf_searchers(), segments):
            self.weighting.use_lengths(sub.reader(), DEFAULT_FIELD, stored.length)
            frequent = TermArrays.load(termarrays.folder_for(generation, sub.reader().segment().segment_id()))
            if frequent is not None:
                self.weighting.use_term_arrays(sub.reader(), DEFAULT_FIELD, frequent)
        self.weighting.warm(searcher, DEFAULT_FIELD)
        self._labels: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._own_searcher_lent = False

    @classmethod
    def open(cls, generation: Path) -> "SearcherState":
        """A new searcher on the index in ``generation``, with its state."""
        # Without mmap, Whoosh reads a compound segment through the file; with
        # it, it copies the whole segment into memory at every open.
        storage = FileStorage(str(generation), supports_mmap=False)
        searcher = storage.open_index().searcher(weighting=NewsBM25())
        return cls(searcher, generation)

    @functools.cached_property
    def vocabulary(self) -> Vocabulary:
        return Vocabulary.load(self.generation)

    def labels(self, field: str, searcher=None) -> list[str]:
        """Every distinct value of the exact field ``field`` (none if the schema has no such field),
        read with ``searcher`` (the caller's lane's) the first time."""
        with self._lock:
            if field not in self._labels:
                reader = (searcher or self.searcher).reader()
                names = reader.lexicon(field) if field in reader.schema else []
                self._labels[field] = [n.decode("utf-8") if isinstance(n, bytes) else n for n in names]
            return self._labels[field]

    def lane(self) -> "Lane":
        """A searcher for one thread: this state's own the first time, then new ones on the same segments."""
        with self._lock:
            if not self._own_searcher_lent:
                self._own_searcher_lent = True
                return Lane(self, self.searcher, owned=False)
        return Lane(self, self._another_searcher(), owned=True)

    def _another_searcher(self) -> Searcher:
        storage = FileStorage(str(self.generation), supports_mmap=False)
        mine = self.searcher.reader()
        leaves = [reader for reader, _ in mine.leaf_readers()] if mine.segments() else []
        copies = [SegmentReader(storage, reader.schema, reader.segment(), generation=reader.generation())
                  for reader in leaves]
        if not copies:
            reader = EmptyReader(self.searcher.schema)
        elif len(copies) == 1:
            reader = copies[0]
        else:
            reader = MultiReader(copies, generation=mine.generation())
        weighting = self.weighting.for_readers(zip(leaves, copies))
        return Searcher(reader, weighting=weighting, fromindex=self.searcher._ix)

    def close(self) -> None:
        self.searcher.close()


class Lane:
    """One thread's ``searcher`` (and its ``weighting``) on a ``SearcherState``'s segments,
    with the state's facets, vocabulary, labels and generation."""

    def __init__(self, state: SearcherState, searcher, *, owned: bool):
        self.state = state
        self.searcher = searcher
        self.weighting: NewsBM25 = searcher.weighting
        self.facets = state.facets
        self.generation = state.generation
        self._owned = owned

    @property
    def vocabulary(self) -> Vocabulary:
        return self.state.vocabulary

    def labels(self, field: str) -> list[str]:
        return self.state.labels(field, self.searcher)

    def close(self) -> None:
        """Close this lane's searcher if it opened one (the state closes its own)."""
        if self._owned:
            self.searcher.close()
