"""What a search answers, as plain data, and its documented JSON.

The moving parts:

* ``Hit`` is one result: the article's stored fields, its score, and its
  title and snippet as highlight *segments* (``(text, matched)`` pairs from
  ``highlighting``), not markup; ``hit_of`` makes one from stored fields, and
  ``copy_of`` lists another copy of the same story from the facet table's
  columns (no stored-field read).
* ``SearchResponse`` is a whole answer: how the query was read and the
  notes about it (``querying.Note``: a code and a text), the page of hits, the facets and timeline, the spelling
  correction, the timing.
* ``to_json`` on both is the documented schema (``web/openapi.py``) that
  the API and ``newsearch search --json`` print; it is the one place that
  turns segments into HTML (``highlight_html``: text escaped, matched words
  in ``<mark>``), because the schema's ``highlights`` are HTML. The pages
  and the terminal render segments their own way.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import dataclass, field

from whoosh.util.times import long_to_datetime

from . import highlighting
from .facets import FACETS, FacetTable
from .querying import Note

SNIPPET_SOURCE_CHARS = 20_000  # a body snippet looks no further than this
MAX_COPIES_LISTED = 5  # a wire story can have dozens of copies; each listed one costs a stored-field read


def iso_utc(stamp: dt.datetime | None) -> str | None:
    if stamp is None:
        return None
    if stamp.tzinfo is None:  # the index's dates: naive UTC, written as they are (each hit and copy has one)
        return stamp.isoformat() + "Z"
    return stamp.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def highlight_html(segments: highlighting.Segments) -> str:
    return "".join(f"<mark>{html.escape(t)}</mark>" if hit else html.escape(t) for t, hit in segments)


@dataclass
class Hit:
    id: str
    title: str
    excerpt: str
    url: str
    provider: str
    domain: str
    published: str | None
    topics: list[str]
    image: str
    score: float
    title_segments: highlighting.Segments
    snippet_segments: highlighting.Segments
    duplicates: list[dict] = field(default_factory=list)  # other copies of the same story (the first few)
    duplicate_count: int = 0  # how many other copies there are in all

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "excerpt": self.excerpt,
            "url": self.url,
            "provider": {"name": self.provider, "domain": self.domain},
            "published": self.published,
            "topics": self.topics,
            "image": self.image,
            "score": round(self.score, 4),
            "highlights": {
                "title": highlight_html(self.title_segments),
                "snippet": highlight_html(self.snippet_segments),
            },
            "duplicates": self.duplicates,
            "duplicate_count": self.duplicate_count,
        }


@dataclass
class SearchResponse:
    text: str
    read_as: str
    notes: list[Note]  # how the query was read; the JSON lists their texts
    fallback: bool
    filters: dict
    sort: str
    total: int
    page: int
    page_size: int
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[dict]] = field(default_factory=lambda: {name: [] for name in FACETS})
    timeline: dict = field(default_factory=lambda: {"unit": "month", "buckets": []})
    # {"corrected": text, "applied": bool, "typed_total": what the words as typed found} when a correction finds more
    spelling: dict | None = None
    partial: bool = False  # the time budget ran out: total, facets and hits come from part of the archive
    articles: int = 0  # matching articles, every copy counted (``total`` counts stories when copies are folded)
    took_ms: float = 0.0

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size)) if self.total else 0

    def to_json(self) -> dict:
        return {
            "query": {
                "text": self.text,
                "read_as": self.read_as,
                "notes": [note.text for note in self.notes],
                "fallback": self.fallback,
                "filters": self.filters,
                "spelling": self.spelling,
            },
            "sort": self.sort,
            "total": self.total,
            "page": self.page,
            "page_size": self.page_size,
            "pages": self.pages,
            "results": [hit.to_json() for hit in self.hits],
            "facets": self.facets,
            "timeline": self.timeline,
            "partial": self.partial,
            "took_ms": round(self.took_ms, 2),
        }


def hit_of(stored: dict, score: float, terms: frozenset[str], table: FacetTable, others=()) -> Hit:
    """A result from an article's stored fields, with ``terms`` marked and its other copies ``others`` listed."""
    title = stored.get("title", "")
    excerpt = stored.get("excerpt", "")
    snippet = highlighting.hit_snippet(title, excerpt, stored.get("body", "")[:SNIPPET_SOURCE_CHARS], terms)
    return Hit(
        id=stored["id"], title=title, excerpt=excerpt, url=stored.get("url", ""),
        provider=stored.get("source", ""), domain=stored.get("domain", ""),
        published=iso_utc(stored.get("published")), topics=list(stored.get("topic") or []),
        image=stored.get("image", ""), score=float(score),
        title_segments=highlighting.whole(title, terms),
        snippet_segments=snippet,
        duplicates=[copy_of(table, other) for other in others[:MAX_COPIES_LISTED]],
        duplicate_count=len(others),
    )


def copy_of(table: FacetTable, docnum: int) -> dict:
    """Another copy of a story, as a result lists it (from columns: no stored-field read)."""
    stamp = table.published[docnum]
    providers = table.values["providers"][docnum]
    return {"id": table.ids[docnum] or "", "title": table.titles[docnum] or "", "url": table.urls[docnum] or "",
            "provider": {"name": providers[0] if providers else "", "domain": table.domains[docnum]},
            "published": iso_utc(long_to_datetime(stamp)) if stamp is not None else None}
