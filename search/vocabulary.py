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
  within two edits that are far commoner than what was typed (``RATIO``
  times); ``misspelling_cost`` prices each by how people misspell (a swap,
  a doubling slip, a letter left out, a vowel for a vowel cost 1; an
  untypical edit more; a letter past the end of the intended word most);
  the cheapest wins, then the commonest (``correction``);
* it *replaces* the typed word only when it is confident: one typical slip
  for a word of at most ``SHORT_WORD`` letters (two for longer ones) and no
  rival as cheap and nearly as common; up to ``OFFERED_COST`` it is only
  *offered* ("did you mean"); beyond that there is no correction
  (``brexit`` is 2.5 from ``brent``, ``ronaldo`` 2 from ``ronald``).
"""

from __future__ import annotations

import bisect
import functools
import gzip
import itertools
import json
from pathlib import Path
from typing import NamedTuple

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
CONFIDENT_COST = 1.0      # replaced: one typical slip (``misspelling_cost``) for a word of up to SHORT_WORD letters
OFFERED_COST = 1.5        # offered ("did you mean"), not replaced, up to this
LONG_EXTRA = 1.0          # a longer word may take this much more, for either
RIVAL_SHARE = 0.2         # a replacement has no rival as cheap and at least this share as common
UNTYPICAL = 1.5           # an edit people seldom make when they misspell a word
TRAILING = 2.0            # a letter typed after the end of the intended word (ronaldo, moderna)
VOWELS = frozenset("aeiouy")
# consonants people write for one another by sound (concensus, budjet)
SOUNDS_ALIKE = frozenset(frozenset(pair) for pair in ("cs", "ck", "sz", "gj", "kq", "cq", "dt", "mn", "fv", "iy"))


class Correction(NamedTuple):
    word: str
    confident: bool  # sure enough to replace the typed word; else only offered


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


def misspelling_cost(typed: str, intended: str) -> float:
    """What it takes to misspell ``intended`` as ``typed``, priced by how people misspell
    (lists of common misspellings; Birkbeck-style errors). One typical slip costs 1:

    * swapping neighbouring letters (``recieve``) or a doubling slip (``tarrif``,
      ``comittee``; a doubling moved, ``barells``, is one slip too);
    * leaving a letter out (``goverment``, ``probaly``);
    * a vowel for another (``seperate``), or a consonant for one that sounds alike
      (``concensus``, ``budjet``), except in the word's first vowel, which people hear
      clearly (``hangry`` is not ``hungry``);
    * an extra vowel inside a word of 6 letters or more (``truely``, ``arguement``).

    Anything else costs ``UNTYPICAL`` (another consonant, an extra consonant, an extra
    letter in a short word), and a letter typed after the end of the intended word
    costs ``TRAILING``: misspellings seldom grow a word, names often differ so
    (``ronaldo``/ronald, ``moderna``/modern), and it is what tells ``happend`` from
    *happen* (the slip is *happened*)."""
    if typed == intended:
        return 0.0
    if _single(typed) == _single(intended):
        return 1.0
    first_vowel = next((i for i, c in enumerate(typed) if c in VOWELS), -1)
    n, m = len(typed), len(intended)

    def extra(i: int) -> float:  # typed[i] is not in the intended word
        c = typed[i]
        if (i and typed[i - 1] == c) or (i + 1 < n and typed[i + 1] == c):
            return 1.0
        if i == n - 1:
            return TRAILING
        return 1.0 if c in VOWELS and n >= 6 else UNTYPICAL

    def swap(i: int, a: str, b: str) -> float:  # typed[i] == a written for b
        if a in VOWELS and b in VOWELS:
            return UNTYPICAL if i == first_vowel else 1.0
        return 1.0 if frozenset((a, b)) in SOUNDS_ALIKE else UNTYPICAL

    before: list[float] | None = None
    row = [float(j) for j in range(m + 1)]  # leading letters left out: one each
    for i in range(1, n + 1):
        current = [row[0] + extra(i - 1)]
        for j in range(1, m + 1):
            a, b = typed[i - 1], intended[j - 1]
            cost = min(row[j] + extra(i - 1), current[j - 1] + 1.0,
                       row[j - 1] + (0.0 if a == b else swap(i - 1, a, b)))
            if before is not None and j > 1 and a == intended[j - 2] and typed[i - 2] == b:
                cost = min(cost, before[j - 2] + 1.0)
            current.append(cost)
        before, row = row, current
    return row[-1]


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
        """The intended word for an unknown or rare ``word`` (replaced or only offered), or None.

        None for a real word (``known``), however rare in the archive."""
        found = self.correction(word)
        return found.word if found else None

    def correction(self, word: str) -> "Correction | None":
        """The likeliest intended word for ``word``, and whether it is sure enough to replace it.

        Candidates are priced by ``misspelling_cost``: a word of at most ``SHORT_WORD`` letters
        is replaced only at the cost of one typical slip (``CONFIDENT_COST``) and offered up to
        ``OFFERED_COST``; a longer one may take one more of each (``LONG_EXTRA``). A
        replacement must also be the one clear choice: no other candidate as cheap is within
        ``RIVAL_SHARE`` of its count."""
        if len(word) < MIN_CORRECTED_CHARS or not word.isalpha() or self.is_real(word):
            return None
        typed = self.counts.get(word, 0)
        extra = LONG_EXTRA if len(word) > SHORT_WORD else 0
        ranked = []
        for candidate in self._candidates(word):
            if self.counts[candidate] > RATIO * typed:
                cost = misspelling_cost(word, candidate)
                if cost <= OFFERED_COST + extra:
                    ranked.append((cost, -self.counts[candidate], candidate))
        if not ranked:
            return None
        ranked.sort()
        cost, count, best = ranked[0]
        rival = any(c <= cost and -n >= RIVAL_SHARE * -count for c, n, _ in ranked[1:])
        return Correction(best, cost <= CONFIDENT_COST + extra and not rival)

    def _candidates(self, word: str) -> list[str]:
        """The archive's frequent words within two edits of ``word`` (same first letter)."""
        return self._corrector.suggest(word, limit=CANDIDATES, maxdist=2, prefix=1)
