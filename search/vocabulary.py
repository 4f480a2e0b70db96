"""The archive's own words: for "did you mean" and search-as-you-type.

The index holds stems (``econom``), but people type and read words
(``economy``). While indexing, the analyzer counts every word it sees in
a dict the writer owns (``schema.index_fields(article, words)``);
``merge`` adds up the dicts of parallel workers and ``save`` keeps them in
``vocabulary.json`` beside the index (an update adds to them).
``Vocabulary`` is loaded once per searcher (``state.SearcherState``) and
answers prefix completions and spelling corrections.

A correction must be a confident one, never an invention (issue 8):

* a real English word (or its plural) is never replaced, whether or not the
  archive has it (``english_words``: the list shipped in
  ``english_words.txt.gz``, made by ``tools/make_wordlist.py`` from
  pyspellchecker's MIT-licensed dictionary);
* candidates are only the archive's *frequent* words (``frequent_count``:
  at least ``FREQUENT_PER_MILLION`` per million counted words), so its own
  rare typos (``billoin``, ``opecna``) are never offered, nor completed;
* words shorter than ``MIN_CORRECTED_CHARS`` are left alone (``uber`` is
  one letter from ``user``, ``wifi`` from ``wife``);
* Whoosh's Levenshtein-automaton ``ListCorrector`` finds the candidates
  within two edits; each is then measured with a swap of neighbouring
  letters (``recieve``) or a doubling slip (``tarrif``, ``barells``)
  counting as one edit, and a word of at most ``SHORT_WORD`` letters may be
  one edit away only (``brexit`` is two from ``brent``, ``spotify`` from
  ``specify``);
* the correction is far commoner than what was typed (``RATIO`` times),
  the nearest wins, then the commonest.
"""

from __future__ import annotations

import bisect
import functools
import gzip
import itertools
import json
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


DICTIONARY = Path(__file__).with_name("english_words.txt.gz")
MIN_CORRECTED_CHARS = 5   # shorter words are mostly acronyms or names, and every short string has neighbours
SHORT_WORD = 8            # letters: a word this short may be one edit away from its correction, not two
RATIO = 20                # a correction is this many times commoner than what was typed
FREQUENT_PER_MILLION = 3  # a candidate is seen this often per million counted words ...
MIN_FREQUENT = 2          # ... and at least twice (small archives: a one-off is no candidate)
CANDIDATES = 64           # looked at within two edits, before measuring them


@functools.cache
def english_words() -> frozenset[str]:
    """Real English words and names (folded) that are never "corrected"; empty if the list is missing."""
    try:
        return frozenset(gzip.decompress(Path(DICTIONARY).read_bytes()).decode("ascii").split())
    except (OSError, ValueError):
        return frozenset()


def edit_distance(a: str, b: str) -> int:
    """Edits from ``a`` to ``b``: insertions, deletions, substitutions and
    swaps of neighbouring letters (optimal string alignment). A doubled
    letter written single, or the other way round, anywhere in the word is
    one slip (``tarrif``, ``barells``, ``comittee``)."""
    if a != b and _single(a) == _single(b):
        return 1
    before, row = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (ca != cb))
            if before is not None and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        before, row = row, current
    return row[-1]


def _single(word: str) -> str:
    """``word`` with each run of one letter written once (``barrels`` -> ``barels``)."""
    return "".join(c for i, c in enumerate(word) if i == 0 or c != word[i - 1])


class Vocabulary:
    def __init__(self, counts: dict[str, int], known: frozenset[str] | None = None):
        """``known``: the real words never corrected (``english_words()`` unless given)."""
        self.counts = counts
        self.words = sorted(counts)
        self.known = english_words() if known is None else known
        total = sum(counts.values())
        self.frequent_count = max(MIN_FREQUENT, round(total * FREQUENT_PER_MILLION / 1_000_000))
        self._corrector = ListCorrector([w for w in self.words if counts[w] >= self.frequent_count])

    @classmethod
    def load(cls, gen: Path) -> "Vocabulary":
        """The vocabulary saved with generation ``gen`` (empty if there is none)."""
        return cls(load_counts(gen))

    def count(self, word: str) -> int:
        return self.counts.get(word, 0)

    def is_real(self, word: str) -> bool:
        """Is ``word`` a real word: listed, or the plural of one (the list lacks ``memes``)?"""
        return word in self.known or (word.endswith("s") and word[:-1] in self.known)

    def trusted(self, word: str) -> bool:
        """Is ``word`` worth offering: frequent in the archive, a real word, or at least
        not a rare near spelling of a far commoner word (``billoin``, ``opecna``)?"""
        count = self.counts.get(word, 0)
        if count >= self.frequent_count or self.is_real(word):
            return True
        return not any(edit_distance(word, candidate) <= 2 and self.counts[candidate] > RATIO * count
                       for candidate in self._candidates(word))

    def complete(self, prefix: str, limit: int = 8) -> list[str]:
        """The most common words starting with ``prefix`` (never a rare typo)."""
        if not prefix:
            return []
        start = bisect.bisect_left(self.words, prefix)
        end = bisect.bisect_left(self.words, prefix + "\uffff", start)
        ranked = sorted(self.words[start:end], key=lambda w: (-self.counts[w], len(w), w))
        return list(itertools.islice(filter(self.trusted, ranked), limit))

    def correct(self, word: str) -> str | None:
        """The intended word for an unknown or rare ``word`` when that is clear, or None.

        None for a real word (``known``), however rare in the archive."""
        if len(word) < MIN_CORRECTED_CHARS or not word.isalpha() or self.is_real(word):
            return None
        typed = self.counts.get(word, 0)
        allowed = 1 if len(word) <= SHORT_WORD else 2
        ranked = []
        for candidate in self._candidates(word):
            distance = edit_distance(word, candidate)
            if distance <= allowed and self.counts[candidate] > RATIO * typed:
                ranked.append((distance, -self.counts[candidate], candidate))
        return min(ranked)[2] if ranked else None

    def _candidates(self, word: str) -> list[str]:
        """The archive's frequent words within two edits of ``word`` (same first letter)."""
        return self._corrector.suggest(word, limit=CANDIDATES, maxdist=2, prefix=1)
