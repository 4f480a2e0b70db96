"""Article -> index fields: the Whoosh schema and the mapping into it.

Searchable text goes through the one analyzer into ``text``: title,
topics, excerpt, body and related coverage, each occurrence weighted by
``FIELD_WEIGHTS`` (BM25F), with positions for phrases. The title comes
first and every later part starts at least ``FIELD_GAP`` positions on, so
``title:`` searches are "within the first FIELD_GAP positions of text" and
need no index of their own. Exact values for filters and facets:
``topic`` (one term per topic, original spelling), ``source`` (provider
name), ``domain``, ``category``, ``type``, ``year``. ``published`` is a
sortable date. Everything a result or an article page shows is stored.
``secured`` never reaches the index.
"""

from __future__ import annotations

import datetime as dt
from itertools import takewhile
from typing import TYPE_CHECKING

from whoosh import fields

from .analysis import FIELD_GAP, NewsAnalyzer, term_positions, weighted_term_positions
from .stories import story_key

if TYPE_CHECKING:  # only annotations: searching need not load the file reader (and YAML)
    from .documents import Article

SCHEMA_VERSION = 5  # 5: capital "US" is indexed as "u.s" (an older index must be rebuilt)

# BM25F weights of each part of an article in ``text``: title over excerpt over body/related.
FIELD_WEIGHTS = {"title": 4.0, "topics": 2.0, "excerpt": 1.6, "body": 1.0, "related": 0.4}
DEFAULT_FIELD = "text"

NO_DATE = dt.datetime(1, 1, 1)


class NewsText(fields.TEXT):
    """TEXT with positions whose indexing bypasses the Token machinery.

    ``term_positions`` yields exactly the terms ``NewsAnalyzer`` does, so
    queries and highlights agree with the index; it is just much cheaper
    per token, which is most of the cost of a build.
    """

    def __init__(self, stored: bool = False, sortable: bool = False):
        super().__init__(analyzer=NewsAnalyzer(), stored=stored, phrase=True, sortable=sortable)

    def index(self, value, **kwargs):
        if isinstance(value, (list, tuple)):
            value = "\n".join(value)
        encode = self.format.encode
        boost = self.format.field_boost
        for term, positions in term_positions(value).items():
            yield term.encode("utf-8"), len(positions), len(positions) * boost, encode(positions)


class WeightedText(NewsText):
    """Indexes a list of ``(text, weight)`` parts as one field (see ``weighted_term_positions``),
    or the dict that function returns, when it was already computed."""

    def index(self, value, **kwargs):
        encode = encoder(self.format)
        for term, (positions, weight) in self.term_positions(value).items():
            yield term.encode("utf-8"), len(positions), weight, encode(positions)

    @staticmethod
    def term_positions(value) -> dict[str, tuple[list[int], float]]:
        """term: (positions, weight) of ``value`` (the build writer encodes
        the positions when it writes the segment)."""
        if isinstance(value, dict):
            return value
        if isinstance(value, str):  # plain text, e.g. from Whoosh's more-like-this
            value = [(value, 1.0)]
        return weighted_term_positions(value)


def encoder(format_):
    """``format_.encode`` of a positions list, reusing the encoding of a single position
    (most terms occur once in an article)."""
    encode, single = format_.encode, _SINGLE_POSITIONS

    def encoded(positions) -> bytes:
        if len(positions) != 1:
            return encode(positions)
        vbytes = single.get(positions[0])
        if vbytes is None:
            vbytes = single[positions[0]] = encode(positions)
        return vbytes

    return encoded


_SINGLE_POSITIONS: dict[int, bytes] = {}


def not_indexed(field: fields.FieldType) -> fields.FieldType:
    """Stored (and a column if sortable), but without index terms.

    Numeric and date fields index several range terms per value; we filter
    and sort dates from the column instead (see ``facets``). The title keeps
    its analyzer for parsing ``title:`` queries, which search ``text``.
    Every posting not written makes builds faster. (``id``, ``url`` and
    ``title`` columns let a result list other copies of its story without
    reading their stored fields.)
    """
    field.indexed = False
    return field


def build_schema() -> fields.Schema:
    return fields.Schema(
        id=fields.ID(stored=True, unique=True, sortable=True),
        path=fields.STORED(),
        text=WeightedText(),
        title=not_indexed(NewsText(stored=True, sortable=True)),  # the column feeds title suggestions
        excerpt=fields.STORED(),
        body=fields.STORED(),
        topic=fields.KEYWORD(stored=True, scorable=False),
        source=fields.ID(stored=True),
        domain=fields.ID(stored=True),
        category=fields.ID(stored=True),
        type=fields.ID(stored=True),
        year=fields.ID(stored=True, sortable=True),
        story=not_indexed(fields.ID(sortable=True)),  # a column: cheaper than a term per story
        published=not_indexed(fields.DATETIME(stored=True, sortable=True)),
        url=not_indexed(fields.ID(stored=True, sortable=True)),
        image=fields.STORED(),
        details=fields.STORED(),
        quality=not_indexed(fields.NUMERIC(float, stored=True, sortable=True)),
        heat=not_indexed(fields.NUMERIC(float, stored=True, sortable=True)),
        fingerprint=fields.STORED(),
    )


def _iso(stamp: dt.datetime | None) -> str | None:
    return stamp.isoformat().replace("+00:00", "Z") if stamp else None


def index_fields(article: Article, words: dict[str, int] | None = None) -> dict:
    """The keyword arguments for ``writer.add_document``; the article's words
    are counted in ``words`` (the writer's tally for the vocabulary)."""
    related_text = " \n".join(" ".join(filter(None, (r.title, r.excerpt, r.provider))) for r in article.related)
    parts = {"title": article.title, "topics": " \n".join(article.topics), "excerpt": article.excerpt,
             "body": article.body, "related": related_text}
    # Terms computed once: the title comes first, so its terms are those at positions below FIELD_GAP.
    text = weighted_term_positions([(parts[name], weight) for name, weight in FIELD_WEIGHTS.items() if parts[name]],
                                   words)
    doc = {
        "id": article.id,
        "path": article.path,
        "text": text,
        "title": article.title,
        "excerpt": article.excerpt,
        "body": article.body,
        "topic": article.topics,
        "url": article.url,
        "image": article.image,
        "fingerprint": article.fingerprint,
        "details": details(article),
    }
    for name in ("category", "type"):
        if value := getattr(article, name):
            doc[name] = value
    if article.provider:
        doc["source"] = article.provider
    if article.domain:
        doc["domain"] = article.domain
    # The first part's terms come first in ``text`` and are the only ones below FIELD_GAP.
    if key := story_key(term for term, _ in takewhile(_first_part, text.items())):
        doc["story"] = key
    if article.published:
        # Whoosh's DATETIME stores naive UTC.
        doc["published"] = article.published.replace(tzinfo=None)
        doc["year"] = str(article.published.year)
    for name in ("quality", "heat"):
        if (value := getattr(article, name)) is not None:
            doc[name] = value
    return doc


def _first_part(item: tuple[str, list]) -> bool:
    return item[1][0][0] < FIELD_GAP


def details(article: Article) -> dict:
    """Stored-only fields an article page shows, JSON-ready."""
    return {
        "original_url": article.original_url,
        "updated": _iso(article.updated),
        "published_flag": article.is_published,
        "related": [
            {
                "title": r.title,
                "excerpt": r.excerpt,
                "url": r.url,
                "provider": r.provider,
                "domain": r.domain,
                "published": _iso(r.published),
            }
            for r in article.related
        ],
        "extra": article.extra,
    }
