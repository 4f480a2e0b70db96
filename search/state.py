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
"""

from __future__ import annotations

import functools
from pathlib import Path

from whoosh.filedb.filestore import FileStorage

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

    def labels(self, field: str) -> list[str]:
        """Every distinct value of the exact field ``field`` (none if the schema has no such field)."""
        if field not in self._labels:
            names = self.searcher.reader().lexicon(field) if field in self.searcher.schema else []
            self._labels[field] = [n.decode("utf-8") if isinstance(n, bytes) else n for n in names]
        return self._labels[field]

    def close(self) -> None:
        self.searcher.close()
