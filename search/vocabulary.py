"""The archive's own words: for "did you mean" and search-as-you-type.

The index holds stems (``econom``), but people type and read words
(``economy``). While indexing, the analyzer counts every word it sees in
a dict the writer owns (``schema.index_fields(article, words)``);
``merge`` adds up the dicts of parallel workers and ``save`` keeps them in
``vocabulary.json`` beside the index (an update adds to them).
``Vocabulary`` is loaded once per searcher (``state.SearcherState``) and
answers prefix completions and spelling corrections (Whoosh's
Levenshtein-automaton ``ListCorrector``, ranked by distance, then by how
common the word is).
"""

from __future__ import annotations

import bisect
import heapq
import json
import math
from pathlib import Path

from whoosh.spelling import ListCorrector

FILE = "vocabulary.json"
MIN_WORD_CHARS = 2


def merge(into: dict[str, int], counts: dict[str, int]) -> dict[str, int]:
    for word, count in counts.items():
        into[word] = into.get(word, 0) + count
    return into


def save(gen: Path, counts: dict[str, int], previous: dict[str, int] | None = None) -> int:
    """Write the vocabulary of ``gen``: ``counts`` added to ``previous``."""
    words = merge(dict(previous or {}), {w: c for w, c in counts.items()
                                         if len(w) >= MIN_WORD_CHARS and w.isalpha()})
    temp = gen / f".{FILE}.tmp"
    temp.write_text(json.dumps(words, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    temp.replace(gen / FILE)
    return len(words)


def load_counts(gen: Path) -> dict[str, int]:
    try:
        return json.loads((gen / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


class _RankedCorrector(ListCorrector):
    """Whoosh's list corrector, preferring common words at the same distance."""

    def __init__(self, words: list[str], counts: dict[str, int]):
        super().__init__(words)
        self.counts = counts

    def _suggestions(self, text, maxdist, prefix):
        for score, word in super()._suggestions(text, maxdist, prefix):
            yield score + min(0.99, math.log10(self.counts.get(word, 1) + 1) / 10), word


class Vocabulary:
    def __init__(self, counts: dict[str, int]):
        self.counts = counts
        self.words = sorted(counts)
        self._corrector = _RankedCorrector(self.words, counts)

    @classmethod
    def load(cls, gen: Path) -> "Vocabulary":
        """The vocabulary saved with generation ``gen`` (empty if there is none)."""
        return cls(load_counts(gen))

    def count(self, word: str) -> int:
        return self.counts.get(word, 0)

    def complete(self, prefix: str, limit: int = 8) -> list[str]:
        """The most common words starting with ``prefix``."""
        if not prefix:
            return []
        start = bisect.bisect_left(self.words, prefix)
        end = bisect.bisect_left(self.words, prefix + "\uffff", start)
        return heapq.nsmallest(limit, self.words[start:end], key=lambda w: (-self.counts[w], len(w), w))

    def correct(self, word: str) -> str | None:
        """The likeliest intended word for an unknown or rare ``word``, or None."""
        if len(word) < 3 or not word.isalpha():
            return None
        maxdist = 1 if len(word) <= 4 else 2
        suggestions = self._corrector.suggest(word, limit=1, maxdist=maxdist, prefix=1)
        if not suggestions:
            return None
        best = suggestions[0]
        # A correction must be far more common than what was typed.
        return best if self.counts.get(best, 0) > 20 * self.counts.get(word, 0) else None
