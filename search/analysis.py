"""The analyzer: text -> index terms, the same way at index and query time.

One function, ``analyze``, does the work; ``NewsAnalyzer`` wraps it in
Whoosh's analyzer protocol so the query parser and the highlighter use
exactly the terms the index holds, and ``term_positions`` is the fast path
the indexer uses (no Token objects, one dict per field).

What it does, in order:

* tokenises Unicode text, keeping ``U.S.`` (-> ``u.s``), ``COVID-19``,
  ``e-commerce`` and ``AT&T`` whole; at index time the parts of a joined
  word are also indexed at the same position, so ``covid`` finds
  ``COVID-19``;
* folds case and accents (``Zürich`` -> ``zurich``);
* drops English stop words without leaving position gaps, so the phrase
  ``"bank of england"`` still matches;
* stems with NLTK's Snowball (English) stemmer, cached per word.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterator

from nltk.stem.snowball import EnglishStemmer
from whoosh.analysis import Composable, Token

TOKEN = re.compile(
    r"(?P<acronym>(?:[^\W\d_]\.){2,})"  # U.S., U.K., e.g.
    r"|(?P<joined>\w+(?:[-\u2010\u2011&]\w+)+)"  # COVID-19, e-commerce, AT&T
    r"|(?P<number>\d+(?:[.,]\d+)+)"  # 3.5, 1,000
    r"|(?P<word>\w+(?:['\u2019]\w+)*)"
)
_PARTS = re.compile(r"[-\u2010\u2011&]")
_POSSESSIVE = re.compile(r"['\u2019]s$")

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while whom
    why will with would you your yours yourself yourselves s t""".split()
)

_stemmer = EnglishStemmer()
_STEMS: dict[str, str] = {}
MAX_CACHED_STEMS = 500_000


def stem(word: str) -> str:
    """Snowball stem, cached (news vocabularies repeat words endlessly)."""
    term = _STEMS.get(word)
    if term is None:
        if len(_STEMS) >= MAX_CACHED_STEMS:
            _STEMS.clear()
        term = _STEMS[word] = _stemmer.stem(word)
    return term


def fold(text: str) -> str:
    """Lower-case and strip accents (``Société`` -> ``societe``)."""
    text = text.casefold()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _normalise(kind: str, word: str) -> str:
    if kind == "acronym":
        return word.rstrip(".")
    if kind == "word" and ("'" in word or "\u2019" in word):
        return _POSSESSIVE.sub("", word).replace("'", "").replace("\u2019", "")
    return word


def analyze(text: str, mode: str = "index", chars: bool = False) -> Iterator[tuple[str, int, int, int]]:
    """Yield ``(term, position, startchar, endchar)`` for ``text``.

    Character offsets point into the original ``text``: for ASCII we fold
    the whole string (same length); otherwise each token is folded alone.
    """
    whole = text.isascii()
    source = text.lower() if whole else text
    pos = 0
    for match in TOKEN.finditer(source):
        kind = match.lastgroup
        word = match.group()
        if not whole:
            word = fold(word)
        word = _normalise(kind, word)
        if kind == "joined":
            yield word, pos, match.start(), match.end()
            if mode != "query":
                for part in _PARTS.split(word):
                    if part and part not in STOP_WORDS:
                        yield stem(part), pos, match.start(), match.end()
            pos += 1
        elif word in STOP_WORDS or not word:
            continue
        else:
            yield (stem(word) if kind == "word" else word), pos, match.start(), match.end()
            pos += 1


def index_terms(text: str, words: dict[str, int] | None = None) -> list[tuple[str, int]]:
    """``analyze(text)`` without character offsets, as a list: the indexer's
    fast path (``findall`` tuples instead of match objects, stems from the
    cache dict). It must give exactly the terms and positions ``analyze`` does.

    Each plain word (before stemming) is counted in ``words``, the writer's
    own tally for the ``vocabulary``."""
    whole = text.isascii()
    source = text.lower() if whole else text
    found: list[tuple[str, int]] = []
    add = found.append
    stems, stop, counts = _STEMS, STOP_WORDS, {} if words is None else words
    pos = 0
    for acronym, joined, number, word in TOKEN.findall(source):
        if word:
            if not whole:
                word = fold(word)
            if "'" in word or "\u2019" in word:
                word = _normalise("word", word)
            if not word or word in stop:
                continue
            add((stems.get(word) or stem(word), pos))
            counts[word] = counts.get(word, 0) + 1
        elif joined:
            if not whole:
                joined = fold(joined)
            add((joined, pos))
            for part in _PARTS.split(joined):
                if part and part not in stop:
                    add((stem(part), pos))
        else:
            token = acronym.rstrip(".") if acronym else number
            if not whole:
                token = fold(token).rstrip(".")
            if not token or token in stop:
                continue
            add((token, pos))
        pos += 1
    return found


def term_positions(text: str) -> dict[str, list[int]]:
    """Index-time fast path: term -> positions (what Whoosh's Positions format stores)."""
    found: dict[str, list[int]] = {}
    for term, pos in index_terms(text):
        positions = found.get(term)
        if positions is None:
            found[term] = [pos]
        elif positions[-1] != pos:
            positions.append(pos)
    return found


FIELD_GAP = 100  # positions between weighted parts: no phrase spans two, and the first part is < FIELD_GAP


def weighted_term_positions(parts: list[tuple[str, float]],
                            words: dict[str, int] | None = None) -> dict[str, tuple[list[int], float]]:
    """Several texts with weights -> term: (positions, summed weight); the
    words read are counted in ``words`` (see ``index_terms``).

    Summing weighted term frequencies across fields before BM25's
    saturation is the BM25F of Robertson et al.: one posting list per term
    instead of one per field, which is also what makes searching fast.
    """
    found: dict[str, tuple[list[int], float]] = {}
    offset = 0
    analysed: list[tuple[str, list[tuple[str, int]]]] = []
    for text, weight in parts:
        terms = _terms_reusing(text, analysed, words)
        analysed.append((text, terms))
        last = None
        for term, pos in terms:
            pos += offset
            last = pos
            entry = found.get(term)
            if entry is None:
                found[term] = ([pos], weight)
            elif entry[0][-1] != pos:
                entry[0].append(pos)
                found[term] = (entry[0], entry[1] + weight)
        offset = (offset if last is None else last + 1) + FIELD_GAP
    return found


def _terms_reusing(text: str, analysed: list[tuple[str, list[tuple[str, int]]]],
                   words: dict[str, int] | None) -> list[tuple[str, int]]:
    """``index_terms(text, words)``, reusing an earlier part that ``text`` starts with.

    News bodies usually open with the excerpt; analysing it once saves a
    sixth of the indexing work and gives exactly the same terms (the
    reused words are not counted again).
    """
    for earlier, terms in analysed:
        if terms and len(earlier) < len(text) and text.startswith(earlier) and text[len(earlier)].isspace():
            shift = terms[-1][1] + 1
            return terms + [(term, pos + shift) for term, pos in index_terms(text[len(earlier):], words)]
    return index_terms(text, words)


class NewsAnalyzer(Composable):
    """``analyze`` in Whoosh's analyzer protocol (reuses one Token, as Whoosh does)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NewsAnalyzer)

    def __hash__(self) -> int:
        return hash(NewsAnalyzer)

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            # Wildcards and prefixes: fold, but do not split or stem.
            token.original = token.text = fold(value)
            token.pos, token.startchar, token.endchar = start_pos, start_char, start_char + len(value)
            token.stopped = False
            yield token
            return
        for term, pos, start, end in analyze(value, mode=mode or "index"):
            token.text = term
            token.stopped = False
            token.boost = 1.0
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token
