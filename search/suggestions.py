"""Search as you type: completions for what has been typed so far.

The moving parts: ``typed`` tidies the prefix (spaces collapsed, length
bounded by ``MAX_SUGGEST_CHARS``); ``complete`` matches it, folded, against
the archive's topics and sources (every distinct label), its titles (from
the facet table, the shortest ``TITLE_SUGGESTIONS``) and, for the last word,
its vocabulary (most common words first), and returns ``{"text", "kind"}``
items without case-insensitive repeats. The engine hands in the per-searcher
labels, table and vocabulary, so nothing here reads the index.
"""

from __future__ import annotations

from .analysis import fold
from .facets import FacetTable
from .vocabulary import Vocabulary

MAX_SUGGEST_CHARS = 100
TITLE_SUGGESTIONS = 3
KINDS = ("topic", "source", "title", "term")


def typed(prefix: str) -> str:
    """What to complete: ``prefix`` with spaces collapsed, at most ``MAX_SUGGEST_CHARS``; "" for nothing."""
    return " ".join(prefix.split())[:MAX_SUGGEST_CHARS]


def complete(text: str, limit: int, *, labels: dict[str, list[str]], table: FacetTable,
             vocabulary: Vocabulary) -> list[dict]:
    """Completions of ``text`` (from ``typed``); ``labels`` holds the "topic" and "source" values."""
    wanted = fold(text)
    head, _, last = wanted.rpartition(" ")
    found: list[dict] = []
    for kind in ("topic", "source"):
        found += [{"text": label, "kind": kind} for label in labels[kind] if _starts(fold(label), wanted)]
    titles = [table.titles[d] for d, title in enumerate(table.folded_titles) if title and _starts(title, wanted)]
    found += [{"text": title, "kind": "title"} for title in sorted(set(titles), key=len)[:TITLE_SUGGESTIONS]]
    if last:
        words = vocabulary.complete(last, limit)
        found += [{"text": f"{head} {word}".strip(), "kind": "term"} for word in words if word != last or head]
    unique = {}
    for item in found:
        unique.setdefault(item["text"].casefold(), item)
    return list(unique.values())[:limit]


def _starts(text: str, wanted: str) -> bool:
    """Does ``text`` start with ``wanted``, or have a word that does?"""
    return text.startswith(wanted) or f" {wanted}" in text
