"""Posting lists of frequent words as numpy arrays, written with each segment a build writes.

Scoring a word reads its whole posting list. Whoosh keeps postings in
pickled blocks together with their positions, so reading just the document
numbers and weights of a word that is in a fifth of the archive costs
about as much as the rest of a search put together, and grows with the
archive. The build writer (``postings.BuildSegmentWriter``) holds each
word's postings in arrays anyway; it saves those of the words in at least
``FREQUENT`` documents of the segment, which hold most of its postings,
for ``ranking.term_scores`` to read without decoding anything:

* ``<generation>/terms/<segment id>/``: ``docs.npy`` (uint32 segment
  document numbers), ``weights.npy`` (float32: the weights exactly as
  Whoosh's blocks hold them) and ``terms.json`` (term -> [start, end) in
  both);
* ``save(folder, terms)`` writes them at once; ``TermArrays.load(folder)``
  memory-maps them and ``postings(term)`` answers (docs, weights) or None.

Segments without them (an update's, a merge's, an older build's) and the
rarer words are read through Whoosh, as before.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

FOLDER = "terms"
FREQUENT = 1024  # documents of a segment: ~1,300 words of a 50,000-article segment, ~70% of its postings


class TermArrays:
    def __init__(self, spans: dict[bytes, tuple[int, int]], docs: np.ndarray, weights: np.ndarray):
        self._spans, self._docs, self._weights = spans, docs, weights

    @classmethod
    def load(cls, folder: Path) -> "TermArrays | None":
        """The arrays saved in ``folder``, memory-mapped; None if there are none usable."""
        try:
            spans = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
            docs = np.load(folder / "docs.npy", mmap_mode="r")
            weights = np.load(folder / "weights.npy", mmap_mode="r")
        except (OSError, ValueError):
            return None
        if len(docs) != len(weights):
            return None
        return cls({term.encode("utf-8"): (start, end) for term, (start, end) in spans.items()}, docs, weights)

    def postings(self, term: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        """(segment docnums, weights) of ``term``, or None if it was not saved."""
        span = self._spans.get(term)
        if span is None:
            return None
        return self._docs[span[0]:span[1]], self._weights[span[0]:span[1]]


def folder_for(generation: Path, segment_id: str) -> Path:
    return Path(generation) / FOLDER / segment_id


def save(folder: Path, terms: list[tuple[bytes, np.ndarray, np.ndarray]]) -> None:
    """Write ``(term, docnums, float32 weights)`` lists to ``folder`` at once (a temporary folder renamed)."""
    if not terms:
        return
    temp = folder.parent / f".{folder.name}.{os.getpid()}.tmp"
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    try:
        spans, start = {}, 0
        for term, docnums, _ in terms:
            spans[term.decode("utf-8")] = (start, start + len(docnums))
            start += len(docnums)
        np.save(temp / "docs.npy", np.concatenate([docnums for _, docnums, _ in terms]).astype(np.uint32))
        np.save(temp / "weights.npy", np.concatenate([weights for _, _, weights in terms]).astype(np.float32))
        (temp / "terms.json").write_text(json.dumps(spans, ensure_ascii=False), encoding="utf-8")
        os.replace(temp, folder)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
