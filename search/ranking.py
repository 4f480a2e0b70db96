"""Ranking: BM25 over the weighted ``text`` field (BM25F).

``NewsBM25`` is Whoosh's BM25F with one change for speed: the length
normalisation of every document is computed once per segment and kept in
a list, instead of reading each document's field length from disk for
every match. Scores equal Whoosh's (to the last bit or two of rounding).
One ``NewsBM25`` serves one searcher (``state.SearcherState`` makes both)
and keeps the lists of that searcher's segments.
"""

from __future__ import annotations

from whoosh import scoring


class NewsBM25(scoring.BM25F):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # segment reader -> {(field, avgfl): norms}; the readers live as long as their searcher, as does this
        self._norms: dict[object, dict[tuple[str, float], list[float]]] = {}

    def scorer(self, searcher, fieldname, text, qf=1):
        if not searcher.schema[fieldname].scorable:
            return scoring.WeightScorer.for_(searcher, fieldname, text)
        return _CachedLengthScorer(searcher, fieldname, text, self.B, self.K1, qf=qf, norms=self.norms)

    def warm(self, searcher, fieldname: str) -> None:
        """Compute the length norms of every segment now rather than at the first query."""
        avgfl = searcher.avg_field_length(fieldname) or 1
        for sub, _ in searcher.leaf_searchers():
            self.norms(sub, fieldname, avgfl)

    def norms(self, searcher, fieldname: str, avgfl: float) -> list[float]:
        """``K1 * (1 - B + B * length / avgfl)`` for every document of this (sub)searcher's segment."""
        reader = searcher.reader()
        cache = self._norms.setdefault(reader, {})
        key = (fieldname, avgfl)
        if key not in cache:
            B, K1 = self.B, self.K1
            length = reader.doc_field_length
            # Whoosh answers None, not the default, for a document whose field is
            # empty (an article of stop words only); such a document matches nothing.
            cache[key] = [K1 * (1 - B + B * (length(d, fieldname, 1) or 0) / avgfl)
                          for d in range(reader.doc_count_all())]
        return cache[key]


class _CachedLengthScorer(scoring.BM25FScorer):
    def __init__(self, searcher, fieldname, text, B, K1, qf=1, *, norms):
        super().__init__(searcher, fieldname, text, B, K1, qf=qf)
        self._norms = norms(searcher, fieldname, self.avgfl)

    def score(self, matcher) -> float:
        weight = matcher.weight()
        return self.idf * weight * (self.K1 + 1) / (weight + self._norms[matcher.id()])


DAY_MICROSECONDS = 86_400 * 1_000_000
TIE_BREAK = 0.001  # quality and heat only separate otherwise equal scores


def priors(table, weight: float, half_life_days: float) -> list[float]:
    """Per-document score multipliers: a gentle boost for recent articles, and
    ``quality``/``heat`` as tie-breakers.

    Recency is measured from the newest article in the index, not from
    today, so an archive of 1987 news still prefers its newer stories.
    The boost halves every ``half_life_days``: ``1 + weight`` for the
    newest article, tending to 1 for old ones. Cached with the table.
    """
    key = ("priors", weight, half_life_days)
    if key in table.cache:
        return table.cache[key]
    dated = [stamp for stamp in table.published if stamp is not None]
    newest = max(dated) if dated else 0
    half_life = max(half_life_days, 0.01) * DAY_MICROSECONDS
    top_quality = max((q for q in table.quality if q), default=0) or 1
    top_heat = max((h for h in table.heat if h), default=0) or 1
    result = []
    for stamp, quality, heat in zip(table.published, table.quality, table.heat):
        prior = 1.0
        if weight and stamp is not None:
            prior += weight * 0.5 ** ((newest - stamp) / half_life)
        prior += TIE_BREAK * (max(quality or 0, 0) / top_quality + max(heat or 0, 0) / top_heat)
        result.append(prior)
    table.cache[key] = result
    return result
