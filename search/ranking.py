"""Ranking: BM25 over the weighted ``text`` field (BM25F).

``NewsBM25`` is Whoosh's BM25F with one change for speed: the length
normalisation of every document is computed once per segment and kept in
a list, instead of reading each document's field length from disk for
every match. Scores are identical to Whoosh's.
"""

from __future__ import annotations

from whoosh import scoring


class NewsBM25(scoring.BM25F):
    def scorer(self, searcher, fieldname, text, qf=1):
        if not searcher.schema[fieldname].scorable:
            return scoring.WeightScorer.for_(searcher, fieldname, text)
        return _CachedLengthScorer(searcher, fieldname, text, self.B, self.K1, qf=qf)

    def warm(self, searcher, fieldname: str) -> None:
        """Compute the length norms of every segment now rather than at the first query."""
        avgfl = searcher.avg_field_length(fieldname) or 1
        for sub, _ in searcher.leaf_searchers():
            _norms(sub, fieldname, self.B, self.K1, avgfl)


class _CachedLengthScorer(scoring.BM25FScorer):
    def __init__(self, searcher, fieldname, text, B, K1, qf=1):
        super().__init__(searcher, fieldname, text, B, K1, qf=qf)
        self._norms = _norms(searcher, fieldname, B, K1, self.avgfl)

    def score(self, matcher) -> float:
        weight = matcher.weight()
        return self.idf * weight * (self.K1 + 1) / (weight + self._norms[matcher.id()])


def _norms(searcher, fieldname: str, B: float, K1: float, avgfl: float) -> list[float]:
    """``K1 * (1 - B + B * length / avgfl)`` for every document of this (sub)searcher's segment."""
    reader = searcher.reader()
    cache = reader.__dict__.setdefault("_newsearch_norms", {})
    key = (fieldname, B, K1, avgfl)
    if key not in cache:
        length = reader.doc_field_length
        cache[key] = [K1 * (1 - B + B * length(d, fieldname, 1) / avgfl) for d in range(reader.doc_count_all())]
    return cache[key]
