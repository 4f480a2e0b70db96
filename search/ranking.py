"""Ranking: BM25 over the weighted ``text`` field (BM25F).

``NewsBM25`` is Whoosh's BM25F with one change for speed: the length
normalisation of every document is computed once per segment and kept in
a list, instead of reading each document's field length from disk for
every match. Scores equal Whoosh's (to the last bit or two of rounding).
One ``NewsBM25`` serves one searcher (``state.SearcherState`` makes both)
and keeps the lists of that searcher's segments; given the segments' stored
field lengths (``use_lengths``, from ``arrays``) it computes them with numpy.
``priors`` are the per-document multipliers of the scores, as an array.

A long query's reading is scored with other BM25 parameters than a short
query's (``VERBOSE_K1``, ``VERBOSE_B``; ``NewsBM25.retuned``): the length
norms are cached per parameters, so both share a searcher's lengths.

``term_scores`` scores a whole posting list of one term at once, a block of
postings at a time with numpy (or, for a frequent word, straight from the
arrays ``termarrays`` keeps: ``use_term_arrays``), where walking the
matcher costs a few Python calls per posting; the scores are the bits
``score()`` would give.
"""

from __future__ import annotations

import copy

import numpy as np
from whoosh import scoring
from whoosh.codec.whoosh3 import W3LeafMatcher

from .termarrays import Stored, TermArrays

# BM25's parameters for the reading of a long query (``querying.verbose``): a word repeated in
# an article counts for more than for a short query (Whoosh's 1.2 and 0.75, kept for those).
# Chosen on the tuning halves of CISI and Reuters, Cranfield held out whole; measured in
# tests/relevance/README.md ("Third round"; a higher k1 for all queries cost "oil prices" its top 10).
VERBOSE_K1 = 1.8
VERBOSE_B = 0.75


class NewsBM25(scoring.BM25F):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # segment reader -> {(field, avgfl, K1, B): norms}; the readers live as long as their searcher, as does this
        self._norms: dict[object, dict[tuple, list[float] | np.ndarray]] = {}
        self._lengths: dict[object, tuple[str, np.ndarray]] = {}  # segment reader -> (field, stored lengths)
        self._term_arrays: dict[object, tuple[str, TermArrays]] = {}  # segment reader -> (field, frequent words)
        self._average_lengths: dict[tuple, float] = {}  # (top reader, field) -> average field length

    def for_readers(self, pairs) -> NewsBM25:
        """This weighting for another searcher on the same segments: ``pairs`` maps each of
        our segment readers to its reader; norms and term arrays are shared, not copied."""
        other = copy.copy(self)
        other._norms, other._lengths, other._term_arrays, other._average_lengths = {}, {}, {}, {}
        for mine, theirs in pairs:
            other._norms[theirs] = self._norms.setdefault(mine, {})
            for name in ("_lengths", "_term_arrays"):
                if mine in getattr(self, name):
                    getattr(other, name)[theirs] = getattr(self, name)[mine]
        return other

    def retuned(self, K1: float, B: float) -> NewsBM25:
        """This weighting with other parameters, sharing the searcher's lengths, term arrays
        and norm cache (its norms are kept under its own parameters)."""
        other = copy.copy(self)
        other.K1, other.B = K1, B
        return other

    def use_lengths(self, reader, fieldname: str, lengths: np.ndarray) -> None:
        """The field lengths of ``reader``'s documents, as ``doc_field_length(d, fieldname, 1) or 0`` reads them."""
        self._lengths[reader] = (fieldname, lengths)

    def use_term_arrays(self, reader, fieldname: str, found: TermArrays) -> None:
        """The posting lists of ``reader``'s frequent words of ``fieldname``, as ``termarrays`` saved them."""
        self._term_arrays[reader] = (fieldname, found)

    def scorer(self, searcher, fieldname, text, qf=1):
        if not searcher.schema[fieldname].scorable:
            return scoring.WeightScorer.for_(searcher, fieldname, text)
        scorer = _CachedLengthScorer(searcher, fieldname, text, self.B, self.K1, qf=qf,
                                     avgfl=self._average_length(searcher, fieldname), norms=self.norms,
                                     norm_array=self.norm_array)
        stored = self._term_arrays.get(searcher.reader())
        if stored is not None and stored[0] == fieldname:
            scorer.stored = stored[1].stored(text.encode("utf-8") if isinstance(text, str) else text)
        return scorer

    def _average_length(self, searcher, fieldname: str) -> float:
        """Whoosh's ``avg_field_length`` of the top searcher, or 1: read once, not per term and segment."""
        parent = searcher.get_parent()
        key = (parent.reader(), fieldname)
        if key not in self._average_lengths:
            self._average_lengths[key] = parent.avg_field_length(fieldname) or 1
        return self._average_lengths[key]

    def warm(self, searcher, fieldname: str) -> None:
        """Compute the length norms of every segment now rather than at the first query."""
        avgfl = searcher.avg_field_length(fieldname) or 1
        for sub, _ in searcher.leaf_searchers():
            self.norm_array(sub, fieldname, avgfl)

    def norm_array(self, searcher, fieldname: str, avgfl: float) -> np.ndarray:
        """``norms`` as a numpy array (made on first use, kept beside the list)."""
        cache = self._norms.setdefault(searcher.reader(), {})
        key = ("array", fieldname, avgfl, self.K1, self.B)
        if key not in cache:
            cache[key] = np.array(self.norms(searcher, fieldname, avgfl), dtype=np.float64)
        return cache[key]

    def norms(self, searcher, fieldname: str, avgfl: float) -> list[float]:
        """``K1 * (1 - B + B * length / avgfl)`` for every document of this (sub)searcher's segment."""
        reader = searcher.reader()
        cache = self._norms.setdefault(reader, {})
        key = (fieldname, avgfl, self.K1, self.B)
        if key not in cache:
            B, K1 = self.B, self.K1
            stored = self._lengths.get(reader)
            if stored is not None and stored[0] == fieldname:
                # The same operations in the same order as below, so the same bits.
                cache[key] = (K1 * (1 - B + B * stored[1] / avgfl)).tolist()
                return cache[key]
            length = reader.doc_field_length
            # Whoosh answers None, not the default, for a document whose field is
            # empty (an article of stop words only); such a document matches nothing.
            cache[key] = [K1 * (1 - B + B * (length(d, fieldname, 1) or 0) / avgfl)
                          for d in range(reader.doc_count_all())]
        return cache[key]


class _CachedLengthScorer(scoring.BM25FScorer):
    stored: Stored | None = None  # the term's postings, if ``termarrays`` has them
    _maxquality: float | None = None

    def __init__(self, searcher, fieldname, text, B, K1, qf=1, *, avgfl, norms, norm_array):
        # What Whoosh's BM25FScorer.__init__ and setup() set, without two lookups per term and
        # segment that scoring every match never needs: the average length (``avgfl``, read once
        # per searcher) and the term's best quality (read if block skipping asks for it).
        self.idf = searcher.get_parent().idf(fieldname, text)
        self.avgfl = avgfl
        self.B, self.K1, self.qf = B, K1, qf
        self.dfl = lambda docid: searcher.doc_field_length(docid, fieldname, 1)
        self._term = (searcher, fieldname, text)
        self._norms = norms(searcher, fieldname, avgfl)
        self._norm_array = lambda: norm_array(searcher, fieldname, avgfl)

    def max_quality(self) -> float:
        if self._maxquality is None:
            searcher, fieldname, text = self._term
            info = searcher.term_info(fieldname, text)
            self._maxquality = self._score(info.max_weight(), info.min_length())
        return self._maxquality

    def scores(self, ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``score`` of every posting at once: the same operations in the same order."""
        return self.idf * weights * (self.K1 + 1) / (weights + self._norm_array()[ids])

    def score(self, matcher) -> float:
        weight = matcher.weight()
        return self.idf * weight * (self.K1 + 1) / (weight + self._norms[matcher.id()])


def term_scores(matcher) -> tuple[np.ndarray, np.ndarray] | None:
    """(segment docnums, scores) of every posting of a one-term ``matcher`` fresh from
    ``Term.matcher``, or None when it is not a plain posting list scored by ``NewsBM25``
    (postings filtered for deletions, inlined, or another scorer): walk it then.

    Reads the posting blocks through ``W3LeafMatcher``'s private block
    attributes (``_read_ids``/``_ids``, ``_read_weights``/``_weights``,
    ``_next_block``), used here and nowhere else; checked against whoosh3 3.54.0.
    A frequent word's postings come from ``termarrays`` instead, when the
    build saved them: the same numbers without decoding a block.
    """
    if type(matcher) is not W3LeafMatcher or not isinstance(matcher.scorer, _CachedLengthScorer):
        return None
    if matcher.scorer.stored is not None:
        docnums = matcher.scorer.stored.docs.astype(np.int64)
        return docnums, matcher.scorer.scores(docnums, matcher.scorer.stored.weights.astype(np.float64))
    ids, weights = [], []
    while matcher.is_active():
        matcher._read_ids()
        matcher._read_weights()
        ids.append(np.asarray(matcher._ids[matcher._i:], dtype=np.int64))
        weights.append(np.asarray(matcher._weights[matcher._i:], dtype=np.float64))
        matcher._next_block()
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    docnums, weights = np.concatenate(ids), np.concatenate(weights)
    return docnums, matcher.scorer.scores(docnums, weights)


DAY_MICROSECONDS = 86_400 * 1_000_000
TIE_BREAK = 0.001  # quality and heat only separate otherwise equal scores


def priors(table, weight: float, half_life_days: float) -> np.ndarray:
    """Per-document score multipliers: a gentle boost for recent articles, and
    ``quality``/``heat`` as tie-breakers.

    Recency is measured from the newest article in the index, not from
    today, so an archive of 1987 news still prefers its newer stories.
    The boost halves every ``half_life_days``: ``1 + weight`` for the
    newest article, tending to 1 for old ones. Kept with the table, and saved
    with the index (``arrays.Derived``).
    """
    return table.derived.get(f"priors-{weight!r}-{half_life_days!r}",
                             lambda: _priors(table, weight, half_life_days))


def _priors(table, weight: float, half_life_days: float) -> np.ndarray:
    dated = table.dated
    newest = int(table.stamps[dated].max()) if dated.any() else 0
    half_life = max(half_life_days, 0.01) * DAY_MICROSECONDS
    result = np.ones(len(dated), dtype=np.float64)
    if weight:
        ages = (newest - table.stamps[dated]) / half_life
        result[dated] += weight * _halvings(ages)
    result += TIE_BREAK * (_share(table.quality) + _share(table.heat))
    return result


def _halvings(ages: np.ndarray) -> np.ndarray:
    """``0.5 ** age`` for each age, computed by the C library's ``pow`` as Python's float power is
    (numpy's vectorised power may differ in the last bit, and scores must not)."""
    return np.frompyfunc((0.5).__pow__, 1, 1)(ages).astype(np.float64) if len(ages) else ages


def _share(values: np.ndarray) -> np.ndarray:
    """``max(value, 0) / top`` (none counting 0), ``top`` the largest non-zero value, or 1."""
    known = np.nan_to_num(values, nan=0.0)
    nonzero = known[known != 0]
    top = (float(nonzero.max()) if len(nonzero) else 0) or 1
    return np.maximum(known, 0) / top
