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
* reads ``US`` written in capitals as the acronym ``U.S.`` (-> ``u.s``):
  news writes the country both ways, and folding case would otherwise
  make it the pronoun ``us`` (which stays ``us``);
* folds case and accents (``Zürich`` -> ``zurich``);
* drops English stop words without leaving position gaps, so the phrase
  ``"bank of england"`` still matches;
* stems with NLTK's Snowball (English) stemmer, cached per word. The
  stemmer is loaded on the first word to stem (``english_stemmer``), and
  without running NLTK's package ``__init__``, which imports most of NLTK
  (~150 ms): commands that analyse no text do not pay for it, and the
  others pay ~50 ms.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import re
import sys
import threading
import types
import unicodedata
from typing import Callable, Iterator

from whoosh.analysis import Composable, Token

# Possessive ``++``: a word that is not joined fails ``joined`` at once instead of
# giving its letters back one by one (the same tokens, a fifth less time).
TOKEN = re.compile(
    r"(?P<acronym>(?:[^\W\d_]\.){2,})"  # U.S., U.K., e.g.
    r"|(?P<joined>\w++(?:[-\u2010\u2011&]\w++)+)"  # COVID-19, e-commerce, AT&T
    r"|(?P<number>\d++(?:[.,]\d++)+)"  # 3.5, 1,000
    r"|(?P<word>\w++(?:['\u2019]\w++)*)"
)
_PARTS = re.compile(r"[-\u2010\u2011&]")
# ``US`` in capitals, standing alone: the country, the same word as ``U.S.`` (see ``analyze``).
CAPITAL_US = "US"
US_ACRONYM = "u.s"
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

_STEMS: dict[str, str] = {}
MAX_CACHED_STEMS = 500_000
_snowball_stem: Callable[[str], str] | None = None  # EnglishStemmer().stem, made on the first word
_loading_stemmer = threading.Lock()


def stem(word: str) -> str:
    """Snowball stem, cached (news vocabularies repeat words endlessly)."""
    term = _STEMS.get(word)
    if term is None:
        if len(_STEMS) >= MAX_CACHED_STEMS:
            _STEMS.clear()
        term = _STEMS[word] = (_snowball_stem or _load_snowball_stem())(word)
    return term


def _load_snowball_stem() -> Callable[[str], str]:
    global _snowball_stem
    with _loading_stemmer:
        if _snowball_stem is None:
            _snowball_stem = english_stemmer()().stem
    return _snowball_stem


def english_stemmer() -> type:
    """NLTK's ``nltk.stem.snowball.EnglishStemmer`` class, loaded as cheaply as possible.

    ``import nltk.stem.snowball`` first runs ``nltk/__init__.py`` and
    ``nltk/stem/__init__.py``, which import most of NLTK (parsers, corpus
    readers, taggers...: ~150 ms, half of a CLI command's start-up). The
    snowball module itself needs only the leaf modules ``nltk.stem.api``,
    ``.util`` and ``.porter``, ``nltk.redos`` and ``nltk.termsec``, plus the
    name ``nltk.corpus.stopwords``, which it reads only for
    ``ignore_stopwords=True`` (never used here). So the module is imported
    with stand-ins for the three package ``__init__`` modules (checked with
    NLTK 3.10.4): every module that runs is NLTK's own file, unchanged, and
    the stems are NLTK's (a test compares them with the plain import's).
    The stand-ins and the modules loaded under them are then taken out of
    ``sys.modules``, so a later ``import nltk`` anywhere gets the whole,
    ordinary package. If NLTK is already imported, or if its layout
    changes and the cheap import fails, this is the plain import.
    """
    if "nltk" not in sys.modules:
        try:
            return _snowball_without_package_inits().EnglishStemmer
        except Exception:  # another NLTK layout: the plain import below
            pass
    from nltk.stem.snowball import EnglishStemmer

    return EnglishStemmer


def _snowball_without_package_inits() -> types.ModuleType:
    """``nltk.stem.snowball`` imported with empty stand-ins for ``nltk``,
    ``nltk.stem`` and ``nltk.corpus`` (see ``english_stemmer``); leaves no
    ``nltk`` module in ``sys.modules``."""
    spec = importlib.util.find_spec("nltk")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("nltk is not installed as a package")
    root = spec.submodule_search_locations[0]
    corpus = types.ModuleType("nltk.corpus")
    corpus.stopwords = _Unavailable()
    stand_ins = {"nltk": _package("nltk", root), "nltk.stem": _package("nltk.stem", os.path.join(root, "stem")),
                 "nltk.corpus": corpus}
    before = set(sys.modules)
    sys.modules.update(stand_ins)
    try:
        return importlib.import_module("nltk.stem.snowball")
    finally:
        for name in set(sys.modules) - before:
            if name == "nltk" or name.startswith("nltk."):
                del sys.modules[name]


def _package(name: str, folder: str) -> types.ModuleType:
    """An empty package whose submodules are found in ``folder``."""
    package = types.ModuleType(name)
    package.__path__ = [folder]
    package.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
    package.__spec__.submodule_search_locations = [folder]
    return package


class _Unavailable:
    """Stands in for ``nltk.corpus.stopwords`` (fails if ever used)."""

    def __getattr__(self, name: str):
        raise RuntimeError("nltk.corpus.stopwords is not loaded by search.analysis.english_stemmer")


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
        elif word == "us" and text[match.start():match.end()] == CAPITAL_US:
            yield US_ACRONYM, pos, match.start(), match.end()
            pos += 1
        else:
            yield (stem(word) if kind == "word" else word), pos, match.start(), match.end()
            pos += 1


# What the indexer's fast path splits a text into first: a run of word
# characters and the characters a token holds between them, with a dot after.
# Every ``TOKEN`` match lies inside one piece (its matches start with a word
# character and hold only these characters, each followed by a word character
# but for an acronym's last dot), so a piece has the same tokens alone as in its
# text. Pieces repeat (most are one plain word), so each distinct piece is
# analysed once (``_piece_entry``), and this simpler pattern takes a third of
# ``TOKEN``'s time.
PIECE = re.compile(r"\w++(?:[-\u2010\u2011&.,'\u2019]\w++)*+\.?")
_SEVERAL = object()  # a piece entry's first item when the piece holds several tokens

# Each piece seen at index time -> its terms and the words counted in the
# vocabulary tally: (term, word) for a piece that is one counted word (term
# None: a stop word or nothing left), (_SEVERAL, ((terms, word or None), ...))
# otherwise, a group per position. Keyed by the piece as found: lower-cased
# already in ASCII text, as written otherwise (``fold`` of a lower-case ASCII
# piece is the piece itself, so the keys agree).
_PIECES: dict[str, tuple] = {}


def _piece_entry(piece: str) -> tuple:
    groups: list[tuple[tuple[str, ...], str | None]] = []
    for acronym, joined, number, word in TOKEN.findall(piece):
        if word == CAPITAL_US:  # only in a text that was not lower-cased for it (see ``_piece_entries``)
            groups.append(((US_ACRONYM,), None))
        elif word:
            word = fold(word)
            if "'" in word or "\u2019" in word:
                word = _normalise("word", word)
            if word and word not in STOP_WORDS:
                groups.append(((stem(word),), word))
        elif joined:
            joined = fold(joined)
            groups.append(((joined, *(stem(part) for part in _PARTS.split(joined) if part and part not in STOP_WORDS)),
                           None))
        else:
            token = fold(acronym or number).rstrip(".")
            if token and token not in STOP_WORDS:
                groups.append(((token,), None))
    entry = _entry_of_groups(groups)
    if len(_PIECES) >= MAX_CACHED_STEMS:
        _PIECES.clear()
    _PIECES[piece] = entry
    return entry


def _entry_of_groups(groups: list[tuple[tuple[str, ...], str | None]]) -> tuple:
    if not groups:
        return None, None
    if len(groups) == 1 and groups[0][1] is not None:  # one word (one term)
        return groups[0][0][0], groups[0][1]
    return _SEVERAL, tuple(groups)


def index_terms(text: str, words: dict[str, int] | None = None) -> list[tuple[str, int]]:
    """``analyze(text)`` without character offsets, as a list: the indexer's
    fast path (each distinct ``PIECE`` analysed once, from a cache dict). It
    must give exactly the terms and positions ``analyze`` does.

    Each plain word (before stemming) is counted in ``words``, the writer's
    own tally for the ``vocabulary``."""
    terms, positions = _index_lists(text, words)
    return list(zip(terms, positions))


def _index_lists(text: str, words: dict[str, int] | None = None) -> tuple[list[str], list[int]]:
    """``index_terms`` as two lists, terms and their positions (no tuple per token)."""
    terms: list[str] = []
    positions: list[int] = []
    add, at = terms.append, positions.append
    several, counts = _SEVERAL, {} if words is None else words
    pos = 0
    for term, word in _piece_entries(text):
        if term is None:
            continue
        if term is not several:
            add(term)
            at(pos)
            counts[word] = counts.get(word, 0) + 1
            pos += 1
            continue
        for group, counted in word:
            for term in group:
                add(term)
                at(pos)
            if counted is not None:
                counts[counted] = counts.get(counted, 0) + 1
            pos += 1
    return terms, positions


def _piece_entries(text: str) -> list[tuple]:
    """The ``_PIECES`` entry of each piece of ``text``, in order (looked up in one call)."""
    # ``US`` in capitals is a term of its own, so a text that has it keeps its case.
    source = text.lower() if text.isascii() and CAPITAL_US not in text else text
    pieces = PIECE.findall(source)
    entries = list(map(_PIECES.get, pieces))
    if None in entries:
        entries = [entry or _piece_entry(piece) for entry, piece in zip(entries, pieces)]
    return entries


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
                            words: dict[str, int] | None = None) -> dict[str, list]:
    """Several texts with weights -> term: [positions, summed weight]; the
    words read are counted in ``words`` (see ``index_terms``).

    Summing weighted term frequencies across fields before BM25's
    saturation is the BM25F of Robertson et al.: one posting list per term
    instead of one per field, which is also what makes searching fast.
    (Each value is a two-item list, updated in place, rather than a tuple
    made again for every repeated word.) Each part's pieces are placed
    straight into the dict (``_place``), with no list of terms in between.
    """
    found: dict[str, list] = {}
    counts = {} if words is None else words
    pos = 0
    analysed: list[tuple[str, list[tuple], bool]] = []  # (text, its piece entries, whether it had terms)
    for text, weight in parts:
        start = pos
        entries = _reused_entries(text, analysed)
        if entries is None:
            entries = _piece_entries(text)
            pos = _place(found, entries, weight, pos, counts)
        else:
            earlier, more = entries
            pos = _place(found, earlier, weight, pos, {})  # already counted
            pos = _place(found, more, weight, pos, counts)
            entries = earlier + more
        analysed.append((text, entries, pos > start))
        pos += FIELD_GAP
    return found


def _reused_entries(text: str, analysed: list[tuple[str, list[tuple], bool]]) -> tuple[list, list] | None:
    """(an earlier part's entries, those of the rest of ``text``) if ``text`` starts
    with that part and a space, else None.

    News bodies often open with the excerpt; its pieces are looked up once
    and its words counted once (the same terms as analysing the whole text).
    """
    for earlier, entries, placed in analysed:
        if placed and len(earlier) < len(text) and text.startswith(earlier) and text[len(earlier)].isspace():
            return entries, _piece_entries(text[len(earlier):])
    return None


def _place(found: dict[str, list], entries: list[tuple], weight: float, pos: int, counts: dict[str, int]) -> int:
    """Add the terms of ``entries`` (``_piece_entries``) from position ``pos`` on
    to ``found`` (term: [positions, summed weight]), counting words in ``counts``;
    returns the position after the last. A plain word is always at a new
    position; only a piece of several terms can repeat a term at one."""
    get, several = found.get, _SEVERAL
    for term, word in entries:
        if term is None:
            continue
        if term is not several:
            entry = get(term)
            if entry is None:
                found[term] = [[pos], weight]
            else:
                entry[0].append(pos)
                entry[1] += weight
            counts[word] = counts.get(word, 0) + 1
            pos += 1
            continue
        for group, counted in word:
            for term in group:
                entry = get(term)
                if entry is None:
                    found[term] = [[pos], weight]
                else:
                    located = entry[0]
                    if located[-1] != pos:
                        located.append(pos)
                        entry[1] += weight
            if counted is not None:
                counts[counted] = counts.get(counted, 0) + 1
            pos += 1
    return pos


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
