"""Per-document values for facets, the timeline, date filters and copies, as numpy arrays.

``FacetTable`` joins the per-segment arrays of one searcher (``arrays``,
stored with the index, so opening costs milliseconds) into arrays over
the searcher's document numbers, applying its deletions:

* ``pairs[name]``: the (document, label id) pairs of a facet (topics,
  providers, years) and ``labels[name]`` the label of each id; ``count``
  counts a set of matching documents with one ``np.bincount`` per facet;
* ``stamps`` (raw published microseconds) with ``dated``, and ``months``;
  ``date_mask`` turns a date range into a boolean mask, ``timeline``
  counts matches per month or year;
* ``having(field, label)``: the documents with a topic, provider...
  (filters), from the same pairs;
* ``stories``: the story of each document (-1: none, ``stories.story_ids``);
* ``quality`` and ``heat`` (NaN: none), for ``ranking.priors``;
* per-document views for results (``values``, ``domains``, ``published``,
  ``ids``, ``titles``, ``urls``), read only for the few documents shown.

Counts and order equal what Whoosh's ``groupedby`` would give, at the cost
of the matches rather than of the archive.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Iterable

import numpy as np
from whoosh.util.times import datetime_to_long, long_to_datetime

from .analysis import fold
from .arrays import Derived, SegmentArrays
from .stories import story_ids

FACETS = {"topics": "topic", "providers": "source", "years": "year"}
FACET_SIZE = 20
MAX_MONTHS = 36  # a longer timeline is drawn per year
_DAY = 86_400 * 1_000_000
_EPOCH_DAYS = 719_162  # days from 0001-01-01 (where Whoosh dates count from) to 1970-01-01


class FacetTable:
    def __init__(self, searcher, segments: list[tuple[SegmentArrays, int]], derived: Derived | None = None):
        self.size = size = searcher.reader().doc_count_all()
        deleted = _deleted(searcher, size)
        self.live = ~deleted
        self.labels: dict[str, list[str]] = {}
        self.pairs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for field in ("topic", "source", "year", "domain"):
            self.labels[field], self.pairs[field] = _join_pairs(segments, field)
        joined = lambda name, dtype: _join(segments, name, size, dtype)  # noqa: E731
        self.stamps = joined("published", np.int64)
        # Undated articles hold a default that is no date at all, so they are recognised by having no year.
        self.dated = np.zeros(size, dtype=bool)
        self.dated[self.pairs["year"][0]] = True
        self.dated &= ~deleted
        days = np.where(self.dated, self.stamps // _DAY, 0) - _EPOCH_DAYS
        months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
        self.months = np.where(self.dated, months, -1)
        self.derived = derived or Derived(None, None)  # whole-index arrays (e.g. ranking priors), kept and saved
        self.stories = self.derived.get("stories", lambda: story_ids(joined("story", np.uint64), self.stamps, self.dated))
        self.quality = joined("quality", np.float64)
        self.heat = joined("heat", np.float64)
        self.lengths = [(arrays.length, offset) for arrays, offset in segments]
        self._searcher = searcher
        self._numbers: dict[str, dict[str, int]] = {}  # field -> label -> its number, made when first filtered on

    # ------------------------------------------------------------ per-document views, for results

    @functools.cached_property
    def values(self) -> dict[str, "_PerDoc"]:
        return {name: _PerDoc(self.labels[field], *self.pairs[field]) for name, field in FACETS.items()}

    @functools.cached_property
    def domains(self) -> "_First":
        return _First(_PerDoc(self.labels["domain"], *self.pairs["domain"]))

    @functools.cached_property
    def published(self) -> "_Stamps":
        return _Stamps(self.stamps, self.dated)

    @functools.cached_property
    def titles(self) -> "_Column":
        return _Column(self._searcher, "title", self.size)

    @functools.cached_property
    def ids(self) -> "_Column":
        return _Column(self._searcher, "id", self.size)

    @functools.cached_property
    def urls(self) -> "_Column":
        return _Column(self._searcher, "url", self.size)

    @functools.cached_property
    def folded_titles(self) -> list[str]:
        """Every title folded (read on first use, by suggestions)."""
        return [fold(title) if title else "" for title in self.titles.all()]

    # ------------------------------------------------------------ per search

    def having(self, field: str, label: str) -> np.ndarray | None:
        """Which live documents have ``label`` in the exact field ``field`` (None: not a field kept here)."""
        if field not in self.pairs:
            return None
        if field not in self._numbers:
            self._numbers[field] = {name: number for number, name in enumerate(self.labels[field])}
        number = self._numbers[field].get(label)
        mask = np.zeros(self.size, dtype=bool)
        if number is not None:
            pair_docs, pair_labels = self.pairs[field]
            mask[pair_docs[pair_labels == number]] = True
        return mask & self.live

    def span(self) -> tuple[dt.datetime, dt.datetime] | None:
        """The first and last publication dates of the live dated articles (naive UTC), None if none is dated."""
        stamps = self.stamps[self.dated & self.live]
        if not stamps.size:
            return None
        return long_to_datetime(int(stamps.min())), long_to_datetime(int(stamps.max()))

    def date_mask(self, since: dt.datetime | None, until: dt.datetime | None) -> np.ndarray:
        """Which documents were published ``since <= published < until`` (naive UTC bounds)."""
        mask = self.dated.copy()
        if since:
            mask &= self.stamps >= datetime_to_long(since)
        if until:
            mask &= self.stamps < datetime_to_long(until)
        return mask

    def count(self, docnums: Iterable[int], size: int = FACET_SIZE) -> dict[str, list[dict]]:
        """The top ``size`` values of each facet among ``docnums`` (every article counted)."""
        matching = np.zeros(self.size, dtype=bool)
        matching[_as_array(docnums)] = True
        counted = {}
        for name, field in FACETS.items():
            pair_docs, pair_labels = self.pairs[field]
            found = pair_labels[matching[pair_docs]]
            counts = np.bincount(found, minlength=len(self.labels[field]))
            counted[name] = _top(self.labels[field], counts, found, size)
        return counted

    def timeline(self, docnums: Iterable[int], max_months: int = MAX_MONTHS) -> dict:
        """Matches per month, gaps filled with zeros; per year when the span
        is longer than ``max_months``. Undated articles are not counted."""
        months = self.months[_as_array(docnums)]
        months = months[months >= 0]
        if not len(months):
            return {"unit": "month", "buckets": []}
        first, last = int(months.min()), int(months.max())
        if last - first + 1 <= max_months:
            counts = np.bincount(months - first, minlength=last - first + 1).tolist()
            return {"unit": "month", "buckets": [{"period": _month_name(first + i), "count": c}
                                                 for i, c in enumerate(counts)]}
        years = months // 12
        counts = np.bincount(years - first // 12).tolist()
        return {"unit": "year", "buckets": [{"period": f"{first // 12 + i:04d}", "count": c}
                                            for i, c in enumerate(counts)]}


def _top(labels: list[str], counts: np.ndarray, found: np.ndarray, size: int) -> list[dict]:
    """The ``size`` commonest labels, ties by label ignoring case, then by first appearance."""
    present = np.flatnonzero(counts)
    folded = [labels[i].casefold() for i in present.tolist()]
    if len(set(folded)) < len(folded):
        # Labels equal but for case: the one appearing first among the matches goes first.
        ids, first = np.unique(found, return_index=True)
        present = ids[np.argsort(first, kind="stable")]
        folded = [labels[i].casefold() for i in present.tolist()]
    ranked = sorted(zip(present.tolist(), folded), key=lambda item: (-counts[item[0]], item[1]))[:size]
    return [{"value": labels[i], "count": int(counts[i])} for i, _ in ranked]


def _month_name(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def _as_array(docnums: Iterable[int]) -> np.ndarray:
    if isinstance(docnums, np.ndarray):
        return docnums
    if isinstance(docnums, range):
        return np.arange(docnums.start, docnums.stop, docnums.step, dtype=np.int64)
    return np.fromiter(docnums, dtype=np.int64)


def _deleted(searcher, size: int) -> np.ndarray:
    deleted = np.zeros(size, dtype=bool)
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        if reader.has_deletions():
            deleted[offset + np.fromiter(reader.deleted_docs_set, dtype=np.int64)] = True
    return deleted


def _join(segments: list[tuple[SegmentArrays, int]], name: str, size: int, dtype) -> np.ndarray:
    joined = np.empty(size, dtype=dtype)
    for arrays, offset in segments:
        joined[offset:offset + arrays.size] = getattr(arrays, name)
    return joined


def _join_pairs(segments: list[tuple[SegmentArrays, int]], field: str) -> tuple[list[str], tuple[np.ndarray, np.ndarray]]:
    """All segments' labels of ``field`` (sorted, as Whoosh's lexicon) and pairs renumbered to them."""
    labels = sorted(set().union(*(arrays.labels[field] for arrays, _ in segments)))
    number = {label: i for i, label in enumerate(labels)}
    docs, ids = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for arrays, offset in segments:
        renumber = np.array([number[label] for label in arrays.labels[field]], dtype=np.int64)
        docs.append(arrays.pair_docs[field].astype(np.int64) + offset)
        ids.append(renumber[arrays.pair_labels[field]] if len(renumber) else np.zeros(0, np.int64))
    return labels, (np.concatenate(docs), np.concatenate(ids))


class _PerDoc:
    """Each document's labels of one field, as a tuple, in label order."""

    def __init__(self, labels: list[str], pair_docs: np.ndarray, pair_labels: np.ndarray):
        self.labels, self.pair_docs, self.pair_labels = labels, pair_docs, pair_labels

    def __getitem__(self, docnum: int) -> tuple[str, ...]:
        low, high = np.searchsorted(self.pair_docs, [docnum, docnum + 1])
        return tuple(self.labels[i] for i in self.pair_labels[low:high].tolist())


class _First:
    """Each document's first label of one field ("" for none)."""

    def __init__(self, per_doc: _PerDoc):
        self.per_doc = per_doc

    def __getitem__(self, docnum: int) -> str:
        values = self.per_doc[docnum]
        return values[0] if values else ""


class _Stamps:
    """Each document's raw published value, None for undated ones."""

    def __init__(self, stamps: np.ndarray, dated: np.ndarray):
        self.stamps, self.dated = stamps, dated

    def __len__(self) -> int:
        return len(self.stamps)

    def __getitem__(self, docnum: int) -> int | None:
        return int(self.stamps[docnum]) if self.dated[docnum] else None


class _Column:
    """One stored column, read a document at a time (None for a missing value)."""

    def __init__(self, searcher, field: str, size: int):
        self.size = size
        self.reader = _column_reader(searcher.reader(), field) if field in searcher.schema else None

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, docnum: int):
        return self.reader[docnum] or None if self.reader is not None else None

    def all(self) -> list:
        values = list(self.reader) if self.reader is not None else []
        return values if len(values) == self.size else [None] * self.size


def _column_reader(reader, field: str):
    """``reader``'s column of ``field``, None when it has none: the reader of an empty
    index (a build of an empty folder) has no columns, and Whoosh raises for it."""
    try:
        return reader.column_reader(field)
    except NotImplementedError:
        return None
