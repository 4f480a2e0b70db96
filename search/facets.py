"""Per-document values for facets, the timeline and date filters.

``FacetTable`` reads, once per searcher (``state.SearcherState`` makes
it), which topics, provider and year each document has (from the
postings of the exact-value fields, so no stored fields are loaded), when
it was published (from the sortable column) and which story it belongs
to (``stories``), then counts any set of matching documents with dict
look-ups and checks date ranges with list look-ups. Whoosh's ``groupedby`` and
``DateRange`` do the same jobs, but an order of magnitude slower per
search on a 20,000-article archive.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter

from whoosh.util.times import datetime_to_long, long_to_datetime

from .analysis import fold
from .stories import story_ids
from typing import Iterable

FACETS = {"topics": "topic", "providers": "source", "years": "year"}
FACET_SIZE = 20
MAX_MONTHS = 36  # a longer timeline is drawn per year


def _per_doc_terms(searcher, field: str, size: int) -> list[tuple[str, ...]]:
    """Each document's terms in an exact-value field, read from the postings."""
    per_doc: list[tuple[str, ...]] = [()] * size
    if field in searcher.schema:
        reader = searcher.reader()
        for term in reader.lexicon(field):
            label = term.decode("utf-8") if isinstance(term, bytes) else term
            for docnum in reader.postings(field, term).all_ids():
                per_doc[docnum] += (label,)
    return per_doc


def _column(searcher, field: str, size: int, missing: tuple = ()) -> list:
    """A column's values; missing ones (NaN for numbers, or any of ``missing``) become None."""
    values = list(searcher.reader().column_reader(field)) if field in searcher.schema else []
    if len(values) != size:  # a column no document filled may be empty
        return [None] * size
    return [None if value is None or value != value or value in missing else value for value in values]


class FacetTable:
    def __init__(self, searcher):
        reader = searcher.reader()
        size = reader.doc_count_all()
        self.values: dict[str, list[tuple[str, ...]]] = {}
        for name, field in FACETS.items():
            self.values[name] = _per_doc_terms(searcher, field, size)
        story_keys = _column(searcher, "story", size, missing=("",))
        self.domains = [values[0] if values else "" for values in _per_doc_terms(searcher, "domain", size)]
        dated = self.values["years"]
        # Raw column values (microseconds): undated articles hold a default
        # that is no date at all, so they are recognised by having no year.
        column = list(reader.column_reader("published", translate=False)) if "published" in searcher.schema else [0] * size
        self.published = [stamp if dated[d] else None for d, stamp in enumerate(column)]
        self.months = [long_to_datetime(stamp).strftime("%Y-%m") if stamp is not None else None
                       for stamp in self.published]
        self._searcher = searcher
        self.stories = story_ids(story_keys, self.published)
        self.quality = _column(searcher, "quality", size)
        self.heat = _column(searcher, "heat", size)
        self.cache: dict = {}  # values derived from these (e.g. ranking priors), kept with the table

    @functools.cached_property
    def titles(self) -> list[str]:
        """Every title (from the column; loaded on first use, by suggestions)."""
        searcher = self._searcher
        return list(searcher.reader().column_reader("title")) if "title" in searcher.schema else []

    @functools.cached_property
    def ids(self) -> list[str]:
        return _column(self._searcher, "id", len(self.published), missing=("",))

    @functools.cached_property
    def urls(self) -> list[str]:
        return _column(self._searcher, "url", len(self.published), missing=("",))

    @functools.cached_property
    def folded_titles(self) -> list[str]:
        return [fold(title) if title else "" for title in self.titles]

    def date_check(self, since: dt.datetime | None, until: dt.datetime | None):
        """A ``docnum -> bool`` test for ``since <= published < until`` (naive UTC bounds)."""
        published = self.published
        low = datetime_to_long(since) if since else -(2**63)
        high = datetime_to_long(until) if until else 2**63
        return lambda docnum: (stamp := published[docnum]) is not None and low <= stamp < high

    def count(self, docnums: Iterable[int], size: int = FACET_SIZE) -> dict[str, list[dict]]:
        docnums = list(docnums)
        counted = {}
        for name, per_doc in self.values.items():
            # Count each document's tuple of values at C speed, then split the tuples.
            combos = Counter(map(per_doc.__getitem__, docnums))
            counter: Counter[str] = Counter()
            for values, count in combos.items():
                for value in values:
                    counter[value] += count
            top = sorted(counter.items(), key=lambda item: (-item[1], item[0].casefold()))[:size]
            counted[name] = [{"value": value, "count": count} for value, count in top]
        return counted

    def timeline(self, docnums: Iterable[int], max_months: int = MAX_MONTHS) -> dict:
        """Matches per month, gaps filled with zeros; per year when the span
        is longer than ``max_months``. Undated articles are not counted."""
        per_month = Counter(map(self.months.__getitem__, docnums))
        per_month.pop(None, None)
        if not per_month:
            return {"unit": "month", "buckets": []}
        first, last = min(per_month), max(per_month)
        months = _month_range(first, last)
        if len(months) <= max_months:
            return {"unit": "month", "buckets": [{"period": m, "count": per_month.get(m, 0)} for m in months]}
        per_year: Counter[str] = Counter()
        for month, count in per_month.items():
            per_year[month[:4]] += count
        years = [str(y) for y in range(int(first[:4]), int(last[:4]) + 1)]
        return {"unit": "year", "buckets": [{"period": y, "count": per_year.get(y, 0)} for y in years]}



def _month_range(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
