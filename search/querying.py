"""User text and filters -> a Whoosh query, and how it was read.

The moving parts:

* ``tidy`` repairs what people really type before Whoosh sees it: it
  bounds the length, pulls out ``since:``/``until:``, turns unknown or
  empty ``field:`` prefixes into words, drops an unbalanced quote or
  parenthesis and reduces wildcards to plain ``prefix*``. Every repair
  adds a ``Note``, so the response can say how the query was read: its
  ``text`` for people, its ``code`` (one per kind of note, listed in
  ``NOTE_CODES`` with the engine's own) for programs and templates.
* ``parse`` runs Whoosh's own parser (words, ``OR``, ``NOT``/``-word``,
  phrases, ``prefix*``, groups, ``field:``) over the default fields with
  their BM25F weights, then resolves what needs the index (an open
  searcher's ``state.SearcherState``): ``topic:`` and ``source:`` match
  the stored names case-insensitively, and prefixes are expanded to at
  most ``MAX_PREFIX_TERMS`` of their most common words.
* ``parse_date_bound`` reads ``2022``, ``2022-07``, ``2022-07-08``, ``7d``,
  ``2w``, ``3m``, ``1y``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from whoosh import query as Q
from whoosh.qparser import OperatorsPlugin, QueryParser, syntax
from whoosh.qparser.plugins import BoostPlugin, EveryPlugin, FieldAliasPlugin, RangePlugin, SingleQuotePlugin
from whoosh.query.spans import SpanFirst, SpanNear2, SpanOr, SpanQuery

from .analysis import FIELD_GAP, analyze
from .schema import DEFAULT_FIELD

if TYPE_CHECKING:
    from .state import SearcherState

MAX_QUERY_CHARS = 400
MAX_PREFIX_TERMS = 64
MAX_EXPANDED_TERMS = 256  # words all the prefixes of one query may stand for
MIN_PREFIX_CHARS = 2
MAX_CLAUSES = 40
LONG_QUERY_WORDS = 4  # from this many required words, read a query as ``verbose`` (see tests/relevance/README.md)
NEAR_SLOP = 3  # chosen on the tuning halves (tests/relevance/README.md, "Third round")
NEAR_BOOST = 0.1
# What an alternative a synonym adds counts for, against the word typed (1), per word of it:
# "U.S." typed ranks the articles that have "U.S." above those with only "United States".
SYNONYM_WEIGHT = 0.5

# What users may write before a colon -> the schema field it means.
# Fields a query may name, and the other names people use for them (applied
# by Whoosh's FieldAliasPlugin; ``tidy`` only folds case and notes unknown names).
FIELD_ALIASES = {
    "title": [], "topic": ["topics"], "source": ["provider", "site", "domain"],
    "category": [], "type": [], "year": [],
}
FIELD_NAMES = frozenset(FIELD_ALIASES) | {alias for aliases in FIELD_ALIASES.values() for alias in aliases}
DATE_FIELDS = ("since", "until")
EXACT_FIELDS = {"topic", "source", "category", "type", "year"}


# One code per kind of note: the repairs made here, then the engine's readings.
NOTE_CODES = (
    "truncated", "empty_date", "bad_date", "unknown_field", "empty_field", "repaired_quote",
    "repaired_parentheses", "ignored_wildcard", "short_prefix", "inner_wildcard", "no_words", "unparsed",
    "many_clauses", "many_prefix_words", "many_prefixes", "unknown_value",
    "long_query", "spelling_applied", "unknown_word", "fallback", "partial",
)


@dataclass(frozen=True)
class Note:
    """Something said about how a query was read: ``code`` (from ``NOTE_CODES``) and the ``text`` people read."""

    code: str
    text: str

    def __str__(self) -> str:
        return self.text


class QueryError(ValueError):
    """A filter or option value that cannot be used (for options, not for typed queries).

    ``option`` names the ``SearchRequest`` field at fault (None if unknown)
    and ``problem`` says what is wrong without naming it, for faces that name
    their options differently."""

    def __init__(self, message: str, *, option: str | None = None, problem: str | None = None):
        super().__init__(message)
        self.option = option
        self.problem = problem or message


@dataclass
class Reading:
    """A query as the engine understood it."""

    text: str
    query: Q.Query
    notes: list[Note] = field(default_factory=list)
    read_as: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


# ---------------------------------------------------------------- dates


_RELATIVE = re.compile(r"(\d{1,4})\s*([hdwmy])", re.I)
_ABSOLUTE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def parse_date_bound(text: str, *, end: bool, now: dt.datetime | None = None) -> dt.datetime:
    """A date filter value -> an aware UTC instant.

    ``end`` picks the end of a calendar period (``until:2022`` includes all
    of 2022). Relative forms count back from now. Raises ``QueryError``.
    """
    value = text.strip().lower()
    now = now or dt.datetime.now(dt.timezone.utc)
    if match := _RELATIVE.fullmatch(value):
        amount, unit = int(match.group(1)), match.group(2)
        if unit in "hdw":
            return now - dt.timedelta(hours=amount * {"h": 1, "d": 24, "w": 24 * 7}[unit])
        months = amount * (12 if unit == "y" else 1)
        year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
        if year < 1:
            raise QueryError(f"'{text}' reaches back before year 1")
        day = min(now.day, calendar.monthrange(year, month + 1)[1])
        return now.replace(year=year, month=month + 1, day=day)
    if match := _ABSOLUTE.fullmatch(value):
        year, month, day = (int(g) if g else None for g in match.groups())
        try:
            start = dt.datetime(year, month or 1, day or 1, tzinfo=dt.timezone.utc)
        except ValueError as exc:
            raise QueryError(f"'{text}' is not a real date ({exc})") from None
        if not end:
            return start
        try:
            if day:
                return start + dt.timedelta(days=1)
            if month:
                return dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=dt.timezone.utc)
            return start.replace(year=year + 1)
        except (ValueError, OverflowError):  # the period ends with the calendar (9999)
            return dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    raise QueryError(f"'{text}' is not a date: use 2022, 2022-07, 2022-07-08, or 7d, 2w, 3m, 1y")


# ---------------------------------------------------------------- tidying


_DATE_TOKEN = re.compile(r"(?<![\w:])(since|until):(\"[^\"]*\"|\S*)", re.I)
_FIELD_TOKEN = re.compile(r"(?<![\w:])([^\W\d_][\w-]*):(?=(\S?))")
_WILDCARD_WORD = re.compile(r"[^\s()\"]*[*?][^\s()\"]*")


@dataclass
class _Tidied:
    text: str
    notes: list[Note]
    since: dt.datetime | None = None
    until: dt.datetime | None = None


# ---------------------------------------------------------------- synonyms


DEFAULT_SYNONYMS = Path(__file__).with_name("synonyms.txt")


def synonyms_file(path: Path | str | None = None) -> Path:
    """``path``, else NEWSEARCH_SYNONYMS, else the shipped list."""
    return Path(path or os.environ.get("NEWSEARCH_SYNONYMS") or DEFAULT_SYNONYMS)


class Synonyms:
    """Groups of interchangeable words and phrases from a synonyms file.

    ``expand`` writes each group into the typed text as an ``OR`` (so the
    reading shows it); ``weigh`` then finds those ``Or``s in the parsed query
    and gives each alternative that is not the typed form a boost of
    ``SYNONYM_WEIGHT`` divided by its number of words (a phrase's score is
    the sum of its words'), so an article with the typed form ranks at
    least as high as one with only a synonym.
    """

    def __init__(self, groups: list[list[str]]):
        self.group_of = {alt.casefold(): group for group in groups for alt in group}
        # Each alternative as the index reads it (a tuple of terms) -> its group's number;
        # matching ignores case, so the folded spelling too ("us" as well as "US").
        self.form_group: dict[tuple[str, ...], int] = {}
        for number, group in enumerate(groups):
            for alt in group:
                for spelling in (alt, alt.casefold()):
                    if form := _terms(spelling):
                        self.form_group.setdefault(form, number)
        alternatives = sorted(self.group_of, key=len, reverse=True)
        self.pattern = re.compile(
            # Not a word inside another, nor one a wildcard follows (``ai*`` stays a prefix).
            r"(?<![\w.:&-])(" + "|".join(re.escape(a) for a in alternatives) + r")(?![\w&*?-])", re.I
        ) if alternatives else None

    @classmethod
    def load(cls, path: Path | str | None = None) -> "Synonyms":
        """The groups in ``synonyms_file(path)``; none if it can't be read."""
        try:
            return cls(_read_groups(synonyms_file(path)))
        except OSError:
            return cls([])

    def expand(self, text: str) -> str:
        """Each known word or phrase (outside quotes) becomes ``(it OR "its synonym" ...)``."""
        if self.pattern is None:
            return text
        pieces = text.split('"')
        for index in range(0, len(pieces), 2):
            pieces[index] = self.pattern.sub(self._group, pieces[index])
        return '"'.join(pieces)

    def weigh(self, q: Q.Query) -> Q.Query:
        """``q`` with the alternatives of each expanded group boosted below the typed form.

        A group is a run of parts of an ``Or`` that are all forms of one group, the
        first the typed form (the parser merges ``(a OR b) OR c`` into one ``Or``);
        alternatives the index reads as the typed form are dropped."""
        if q.is_leaf():
            return q
        if type(q) is not Q.Or:
            return q.apply(self.weigh)
        parts, subs = [], [self.weigh(sub) for sub in q.subqueries]
        groups = [self.form_group.get(form) if (form := _form(sub)) else None for sub in subs]
        start = 0
        while start < len(subs):
            end = start + 1
            while groups[start] is not None and end < len(subs) and groups[end] == groups[start]:
                end += 1
            seen = set()
            for number in range(start, end):
                form = _form(subs[number])
                if number > start and form in seen:
                    continue
                seen.add(form)
                boost = 1.0 if number == start else SYNONYM_WEIGHT / len(form)
                parts.append(subs[number] if boost == 1 else subs[number].with_boost(subs[number].boost * boost))
            start = end
        return Q.Or(parts, boost=q.boost, scale=q.scale) if len(parts) > 1 else parts[0]

    def _group(self, match: re.Match) -> str:
        typed = match.group(1)
        group = self.group_of[typed.casefold()]
        written = next(a for a in group if a.casefold() == typed.casefold())
        if _terms(written) != _terms(typed):
            # Matching ignores case, so the word is the file's even where case changes
            # its reading: "us" is the list's "US" (the country), not the pronoun.
            typed = written
        others = [a for a in group if a.casefold() != typed.casefold()]
        quoted = [a if re.fullmatch(r"[\w.&-]+", a) else f'"{a}"' for a in (typed, *others)]
        return "(" + " OR ".join(quoted) + ")"


def _terms(text: str) -> tuple[str, ...]:
    return tuple(term for term, *_ in analyze(text, mode="query"))


def _form(q: Q.Query) -> tuple[str, ...] | None:
    """A word or phrase of the default field as its tuple of terms; None for anything else."""
    if isinstance(q, Q.Term) and q.fieldname == DEFAULT_FIELD and isinstance(q.text, str):
        return (q.text,)
    if isinstance(q, Q.Phrase) and q.fieldname == DEFAULT_FIELD and q.slop == 1:
        return tuple(q.words)
    return None


def _read_groups(path: Path) -> list[list[str]]:
    groups = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.split("#", 1)[0].strip()
        alternatives = [" ".join(a.split()) for a in line.split("=") if a.strip()]
        if len(alternatives) > 1:
            groups.append(alternatives)
    return groups


def cut_text(text: str) -> str:
    """``text`` with its whitespace made single spaces and cut to its first
    ``MAX_QUERY_CHARS`` characters, at a space: all of a query that is read
    (and spelling-corrected; the rest would only cost time)."""
    text = " ".join(text.replace("\x00", " ").split())
    return text if len(text) <= MAX_QUERY_CHARS else text[:MAX_QUERY_CHARS].rsplit(" ", 1)[0]


def tidy(text: str, now: dt.datetime | None = None) -> _Tidied:
    notes: list[Note] = []
    whole = len(" ".join(text.replace("\x00", " ").split()))
    text = cut_text(text)
    if len(text) < whole:
        notes.append(Note("truncated", f"The query was over {MAX_QUERY_CHARS} characters; only its start was used."))
    tidied = _Tidied(text, notes)
    tidied.text = _DATE_TOKEN.sub(lambda m: _take_date(m, tidied, now), tidied.text)
    tidied.text = _FIELD_TOKEN.sub(lambda m: _check_field(m, notes), tidied.text)
    tidied.text = _balance_quotes(tidied.text, notes)
    tidied.text = _balance_parentheses(tidied.text, notes)
    tidied.text = _WILDCARD_WORD.sub(lambda m: _check_wildcard(m.group(), notes), tidied.text)
    tidied.text = _plus_minus(tidied.text)
    tidied.text = " ".join(tidied.text.split())
    return tidied


def _take_date(match: re.Match, tidied: _Tidied, now) -> str:
    name, value = match.group(1).lower(), match.group(2).strip('"')
    if not value:
        tidied.notes.append(Note("empty_date", f"'{name}:' had no date after it and was ignored."))
        return " "
    try:
        bound = parse_date_bound(value, end=(name == "until"), now=now)
    except QueryError as exc:
        tidied.notes.append(Note("bad_date", f"{name}: {exc}; the date filter was ignored."))
        return " "
    setattr(tidied, name, bound)
    return " "


def _check_field(match: re.Match, notes: list[Note]) -> str:
    name, following = match.group(1), match.group(2)
    if name.lower() not in FIELD_NAMES:
        notes.append(Note("unknown_field", f"'{name}:' is not a field you can search; it was read as the word '{name}'."))
        return name + " "
    if not following or following.isspace():
        notes.append(Note("empty_field", f"'{name}:' had nothing after it; it was read as the word '{name}'."))
        return name + " "
    return name.lower() + ":"  # Whoosh's field names are case-sensitive


def _balance_quotes(text: str, notes: list[Note]) -> str:
    if text.count('"') % 2:
        index = text.rfind('"')
        notes.append(Note("repaired_quote", "A quotation mark was not closed; it was ignored."))
        text = text[:index] + " " + text[index + 1:]
    return text


def _balance_parentheses(text: str, notes: list[Note]) -> str:
    kept, open_at, dropped, in_phrase = [], [], 0, False
    for char in text:
        if char == '"':
            in_phrase = not in_phrase
        elif not in_phrase and char == "(":
            open_at.append(len(kept))
        elif not in_phrase and char == ")":
            if not open_at:
                dropped += 1
                kept.append(" ")
                continue
            open_at.pop()
        kept.append(char)
    for index in open_at:
        kept[index] = " "
        dropped += 1
    if dropped:
        notes.append(Note("repaired_parentheses", "Unbalanced parentheses were ignored."))
    return "".join(kept)


_MINUS = re.compile(r"(?<![^\s(])-(?=[^\s-])")
_PLUS = re.compile(r"(?<![^\s(])\+(?=\S)")


def _plus_minus(text: str) -> str:
    """``-word`` means ``NOT word`` and ``+word`` just ``word`` (all words are
    required anyway), outside phrases; a minus inside a word (``COVID-19``)
    is part of it.

    Not Whoosh's ``PlusMinusPlugin``: it reads ``+a b`` as "a, and b if
    present" (the unmarked words become optional), and acts only on the
    top level of the query, not inside parentheses."""
    pieces = text.split('"')
    for index in range(0, len(pieces), 2):
        pieces[index] = _PLUS.sub("", _MINUS.sub("NOT ", pieces[index]))
    return '"'.join(pieces)


def _check_wildcard(word: str, notes: list[Note]) -> str:
    prefix_field, _, body = word.rpartition(":")
    head = body.rstrip("*")
    if "*" not in head and "?" not in head and len(head) >= MIN_PREFIX_CHARS and body.endswith("*"):
        return f"{prefix_field}:{head}*" if prefix_field else head + "*"
    plain = re.sub(r"[*?]+", " ", body).strip()
    if not plain:
        notes.append(Note("ignored_wildcard", f"'{word}' matches everything; it was ignored."))
    elif body.endswith("*") and len(head) < MIN_PREFIX_CHARS and "*" not in head and "?" not in head:
        notes.append(Note("short_prefix", f"'{word}' is too short a prefix to expand; it was read as the word '{plain}'."))
    else:
        notes.append(Note("inner_wildcard",
                          f"Only trailing wildcards (like 'econ*') are supported; '{word}' was read as '{plain}'."))
    if plain and prefix_field:
        return f"{prefix_field}:{plain}"
    return plain


# ---------------------------------------------------------------- parsing


def make_parser(schema, group=syntax.AndGroup) -> QueryParser:
    parser = QueryParser(DEFAULT_FIELD, schema, group=group)
    for plugin in (SingleQuotePlugin, RangePlugin, BoostPlugin, EveryPlugin):
        parser.remove_plugin_class(plugin)
    parser.replace_plugin(OperatorsPlugin(AndNot=None, AndMaybe=None, Require=None))
    parser.add_plugin(FieldAliasPlugin({field: aliases for field, aliases in FIELD_ALIASES.items() if aliases}))
    return parser


def parse(text: str, state: SearcherState, *, now: dt.datetime | None = None,
          synonyms: Synonyms | None = None) -> Reading:
    """Read ``text`` against the index open in ``state``'s searcher; never raises."""
    tidied = tidy(text, now)
    if synonyms is not None:
        tidied.text = synonyms.expand(tidied.text)
    schema = state.searcher.schema
    notes = tidied.notes
    strict, read_as = _parse_with(make_parser(schema), tidied.text, state, notes,
                                  synonyms.weigh if synonyms is not None else None)
    if tidied.text and strict is Q.NullQuery and not (tidied.since or tidied.until):
        notes.append(Note("no_words", "The query has no searchable words (only stop words or symbols)."))
    return Reading(text=text, query=strict, notes=notes, read_as=read_as,
                   since=tidied.since, until=tidied.until)


def _wanted_and_excluded(reading: Reading) -> tuple[list[Q.Query], list[Q.Query]] | None:
    """A query of required parts -> (its wanted parts, its excluded ones); None unless two or more are wanted."""
    q, excluded = reading.query, []
    if isinstance(q, Q.AndNot):
        q, excluded = q.a, [q.b]
    if not isinstance(q, Q.And):
        return None
    wanted = [sub for sub in q.subqueries if not isinstance(sub, Q.Not)]
    excluded += [sub.query for sub in q.subqueries if isinstance(sub, Q.Not)]
    return (wanted, excluded) if len(wanted) >= 2 else None


def loosen(reading: Reading) -> Q.Query | None:
    """The same query with its required words OR-ed, so documents matching
    more of them rank higher (as Whoosh's ``OrGroup.factory`` does), and
    neighbouring words near each other rank higher still; excluded words stay
    excluded. None when there is nothing to loosen."""
    if (parts := _wanted_and_excluded(reading)) is None:
        return None
    wanted, excluded = parts
    loose = Q.Or(wanted, scale=0.9)
    # Neighbouring words found close together earn a small bonus (tuned with the evaluation).
    words = [sub.text for sub in wanted if isinstance(sub, Q.Term) and sub.fieldname == DEFAULT_FIELD]
    pairs = [Q.Phrase(DEFAULT_FIELD, [a, b], slop=NEAR_SLOP) for a, b in zip(words, words[1:])]
    if pairs:
        loose = Q.AndMaybe(loose, Q.Or(pairs, boost=NEAR_BOOST))
    return Q.AndNot(loose, Q.Or(excluded)) if excluded else loose


LONG_QUERY_PROXIMITY = True  # neighbouring words near each other earn NEAR_BOOST in long queries too
TYPED_WEIGHTS = True  # a word typed twice weighs twice (measured in tests/relevance/README.md)
FEEDBACK_ADDS_MATCHES = False  # feedback words only raise articles that have a typed word (measured: no loss)


def verbose(reading: Reading) -> Q.Query | None:
    """The reading of a long query: any of its words may match, each scoring BM25F
    weighted by how often it was typed (a plain disjunction, not a reward for matching
    more words); neighbouring words found close together earn a small bonus; excluded
    words stay excluded. None when there is nothing to read this way (fewer than two
    wanted parts). The engine then adds feedback words (``feedback``)."""
    if (parts := _wanted_and_excluded(reading)) is None:
        return None
    wanted, excluded = parts
    typed = Counter(term for term, *_ in analyze(cut_text(reading.text), mode="query"))
    parts = []
    for sub in wanted:
        if isinstance(sub, Q.Term) and sub.fieldname == DEFAULT_FIELD and sub.boost == 1:
            parts.append(Q.Term(sub.fieldname, sub.text, boost=float(max(typed.get(sub.text, 1), 1))
                                if TYPED_WEIGHTS else 1.0))
        else:
            parts.append(sub)
    loose: Q.Query = Q.Or(parts)
    words = [sub.text for sub in parts if isinstance(sub, Q.Term) and sub.fieldname == DEFAULT_FIELD]
    if LONG_QUERY_PROXIMITY and len(words) > 1:
        pairs = [Q.Phrase(DEFAULT_FIELD, [a, b], slop=NEAR_SLOP) for a, b in zip(words, words[1:])]
        loose = Q.AndMaybe(loose, Q.Or(pairs, boost=NEAR_BOOST))
    return Q.AndNot(loose, Q.Or(excluded)) if excluded else loose


def _verbose_or(q: Q.Query) -> tuple[Q.Or | None, Callable[[Q.Or], Q.Query]]:
    """The ``Or`` of a ``verbose`` reading's parts, and how to put another in its place."""
    if isinstance(q, Q.AndNot):
        inner, rebuild = _verbose_or(q.a)
        return inner, lambda new: Q.AndNot(rebuild(new), q.b)
    if isinstance(q, Q.AndMaybe):
        inner, rebuild = _verbose_or(q.a)
        return inner, lambda new: Q.AndMaybe(rebuild(new), q.b)
    if type(q) is Q.Or:
        return q, lambda new: new
    return None, lambda new: new


def query_weights(q: Q.Query) -> dict[str, float]:
    """The words of a ``verbose`` reading and their weights (boosts), with the words
    feedback added (``reweighted``); {} for another query."""
    parts, _ = _verbose_or(q)
    if parts is None:
        return {}
    words = {sub.text: sub.boost for sub in parts.subqueries
             if isinstance(sub, Q.Term) and sub.fieldname == DEFAULT_FIELD}
    while isinstance(q, (Q.AndNot, Q.AndMaybe)):  # words that only raise matches: an AndMaybe's Or of words
        if isinstance(q, Q.AndMaybe) and type(q.b) is Q.Or and all(type(sub) is Q.Term for sub in q.b.subqueries):
            words.update((sub.text, sub.boost) for sub in q.b.subqueries)
        q = q.a
    return words


def reweighted(q: Q.Query, weights: dict[str, float]) -> Q.Query:
    """A ``verbose`` reading with its words weighted by ``weights`` (its own words first,
    then the new ones, in the order given); parts that are not single words are kept."""
    parts, rebuild = _verbose_or(q)
    if parts is None:
        return q
    kept, seen = [], set()
    for sub in parts.subqueries:
        if isinstance(sub, Q.Term) and sub.fieldname == DEFAULT_FIELD:
            seen.add(sub.text)
            kept.append(Q.Term(DEFAULT_FIELD, sub.text, boost=weights.get(sub.text, sub.boost)))
        else:
            kept.append(sub)
    added = [Q.Term(DEFAULT_FIELD, term, boost=weight) for term, weight in weights.items() if term not in seen]
    if FEEDBACK_ADDS_MATCHES or not added:
        return rebuild(Q.Or(kept + added))
    # The new words only raise articles that have a typed word: what matches is what was typed.
    return rebuild(Q.AndMaybe(Q.Or(kept), Q.Or(added)))



def wanted_count(q: Q.Query) -> int:
    """How many parts of a query are required (not excluded)."""
    if isinstance(q, Q.AndNot):
        q = q.a
    if isinstance(q, Q.And):
        return sum(1 for sub in q.subqueries if not isinstance(sub, Q.Not))
    return 0 if q is Q.NullQuery else 1


def _parse_with(parser, text: str, state: SearcherState, notes: list[Note],
                weigh=None) -> tuple[Q.Query, str]:
    """The parsed query (normalised) and its description (taken before
    normalising flattens the per-word field spreads); ``weigh`` (``Synonyms.weigh``)
    boosts the synonyms expanded into ``text``."""
    try:
        parsed = parser.parse(text)
    except Exception as exc:  # Whoosh's parser is permissive; this is a last line of defence
        notes.append(Note("unparsed",
                          f"The query could not be parsed ({exc.__class__.__name__}); it was read as plain words."))
        parsed = parser.parse(re.sub(r"[^\w\s]", " ", text))
    read_as = describe(parsed, typed_words(text))
    if weigh is not None:
        parsed = weigh(parsed)
    resolved = _resolve(parsed, state, notes, [MAX_EXPANDED_TERMS])
    if _clause_count(resolved) > MAX_CLAUSES:
        notes.append(Note("many_clauses", f"The query has more than {MAX_CLAUSES} parts; it may be slow."))
    return resolved.normalize(), read_as


def _clause_count(q: Q.Query) -> int:
    return sum(1 for _ in q.leaves())


def _resolve(q: Q.Query, state: SearcherState, notes: list[Note], budget: list[int]) -> Q.Query:
    """Replace what needs the index: title words, exact-value fields and prefixes
    (expanded to at most ``budget[0]`` words in all, which they use up)."""
    if q.is_leaf() and q.field() == "title":
        return _in_title(q, state, notes, budget)
    if isinstance(q, Q.Prefix):
        return _expand_prefix(q, state, notes, budget)
    if isinstance(q, Q.Every):  # what the parser makes of a wildcard after a group, e.g. "(a OR b)*"
        notes.append(Note("ignored_wildcard", "A wildcard after a group would match everything; it was ignored."))
        return Q.NullQuery
    if isinstance(q, (Q.Term, Q.Phrase)) and q.field() in EXACT_FIELDS:
        return _exact_value(q, state, notes)
    if isinstance(q, Q.Phrase) and len(q.words) == 1:
        return Q.Term(q.fieldname, q.words[0], boost=q.boost)
    if q.is_leaf():
        return q
    return q.apply(lambda sub: _resolve(sub, state, notes, budget))


class InTitle(SpanFirst):
    """Matches ``q`` (on ``text``) only within the title's positions."""

    def __init__(self, q: Q.Query, limit: int = FIELD_GAP - 1):
        super().__init__(q, limit=limit)

    def _plain(self) -> Q.Query:
        """The innermost query that can size itself: span wrappers hold theirs in
        ``q``; ``SpanNear2`` (a title phrase) holds a list and sizes itself."""
        inner = self.q
        while isinstance(inner, SpanQuery) and hasattr(inner, "q"):
            inner = inner.q
        return inner

    # Compound queries size their children to order the matching.
    def estimate_size(self, reader) -> int:
        return self._plain().estimate_size(reader)

    def estimate_min_size(self, reader) -> int:
        return 0


def _in_title(q: Q.Query, state: SearcherState, notes: list[Note], budget: list[int]) -> Q.Query:
    """``title:`` words are ``text`` words in the title's positions (see ``schema``)."""
    if isinstance(q, Q.Prefix):
        expanded = _expand_prefix(Q.Prefix(DEFAULT_FIELD, q.text), state, notes, budget)
        if not isinstance(expanded, Q.Or):
            return InTitle(expanded)
        return InTitle(SpanOr(expanded.subqueries))
    if isinstance(q, Q.Phrase):
        terms = [Q.Term(DEFAULT_FIELD, w) for w in q.words]
        return InTitle(terms[0] if len(terms) == 1 else SpanNear2(terms, slop=q.slop, ordered=True))
    if isinstance(q, Q.Term):
        return InTitle(Q.Term(DEFAULT_FIELD, q.text, boost=q.boost))
    return q


def _expand_prefix(q: Q.Prefix, state: SearcherState, notes: list[Note], budget: list[int]) -> Q.Query:
    reader = state.searcher.reader()
    field, prefix = q.fieldname, q.text
    limit = min(MAX_PREFIX_TERMS, budget[0])
    if not limit:
        note = Note("many_prefixes", f"The query's prefixes already stand for {MAX_EXPANDED_TERMS} words; "
                                     "later prefixes were left out.")
        if note not in notes:
            notes.append(note)
        return Q.NullQuery
    if field in EXACT_FIELDS:
        matches = [t for t in state.labels(field) if t.casefold().startswith(prefix.casefold())][:limit]
        budget[0] -= len(matches)
        return Q.Or([Q.Term(field, t) for t in matches]) if matches else _NOTHING(field, prefix)
    words = list(reader.expand_prefix(field, prefix))
    if len(words) > limit:
        words.sort(key=lambda w: -reader.doc_frequency(field, w))
        words = words[:limit]
        note = Note("many_prefix_words", f"'{prefix}*' matches many words; the {limit} most common were used.")
        if note not in notes:
            notes.append(note)
    budget[0] -= len(words)
    words = [w.decode("utf-8") if isinstance(w, bytes) else w for w in words]
    if not words:
        return _NOTHING(field, prefix)
    return Q.Or([Q.Term(field, w, boost=q.boost) for w in words])


def _exact_value(q: Q.Query, state: SearcherState, notes: list[Note]) -> Q.Query:
    field = q.field()
    wanted = " ".join(q.words) if isinstance(q, Q.Phrase) else q.text
    key = wanted.casefold()
    terms = []
    for label in state.labels(field):
        folded = label.casefold()
        if folded == key or (field == "source" and _domain_matches(folded, key)):
            terms.append(Q.Term(field, label))
    if field == "source":
        terms += [Q.Term("domain", d) for d in state.labels("domain") if _domain_matches(d, key)]
    if not terms:
        notes.append(Note("unknown_value", f"No article has {field} '{wanted}'."))
        return _NOTHING(field, wanted)
    return Q.Or(terms) if len(terms) > 1 else terms[0]


def _NOTHING(field: str, text: str) -> Q.Query:  # noqa: N802 - reads as a constant
    """A term no document has. Unlike ``NullQuery`` it is not dropped from an
    AND when the query is normalised, so ``oil topic:unknown`` finds nothing."""
    return Q.Term(field, "\x00" + text)


def _domain_matches(domain: str, wanted: str) -> bool:
    return domain == wanted or domain.startswith(wanted + ".") or domain.endswith("." + wanted)


def filter_query(state: SearcherState, *, topics=(), sources=(), categories=(), types=()) -> list[Q.Query]:
    """Filters from options or facet clicks: each list is OR-ed, lists are AND-ed."""
    filters = []
    for name, values in (("topic", topics), ("source", sources), ("category", categories), ("type", types)):
        values = [v for v in values if v and v.strip()]
        if values:
            notes: list[Note] = []
            filters.append(Q.Or([_exact_value(Q.Term(name, v.strip()), state, notes) for v in values]))
    return filters


# ---------------------------------------------------------------- describing


def typed_words(text: str) -> dict[str, str]:
    """Index term -> the word the user typed, so a reading shows words, not stems."""
    words: dict[str, str] = {}
    for word in re.findall(r"[^\s()\"*:]+", text):
        for number, (term, *_) in enumerate(analyze(word, mode="query")):
            # A word the analyzer splits (oil/gas) is shown once, at its first term.
            words.setdefault(term, word if number == 0 else "")
    return words


def describe(q: Q.Query, typed: dict[str, str] | None = None) -> str:
    """A short human reading of a parsed query, in the words the user typed."""
    if q is Q.NullQuery or isinstance(q, type(Q.NullQuery)):
        return ""
    if isinstance(q, (Q.And, Q.Or)):
        parts = []
        for sub in q.subqueries:
            if part := describe(sub, typed):
                parts.append(f"({part})" if isinstance(sub, (Q.And, Q.Or)) and " " in part else part)
        return (" " if isinstance(q, Q.And) else " OR ").join(parts)
    if isinstance(q, Q.Not):
        return "-" + describe(q.query, typed).lstrip("-")
    if isinstance(q, Q.AndNot):
        return f"{describe(q.a, typed)} -{describe(q.b, typed).lstrip('-')}"
    return _leaf(q, typed or {})


def _leaf(q: Q.Query, typed: dict[str, str]) -> str:
    if isinstance(q, Q.Phrase):
        body = '"' + " ".join(typed.get(w, w) for w in q.words) + '"'
    elif isinstance(q, Q.Prefix):
        body = f"{q.text}*"
    elif isinstance(q, Q.Term):
        text = typed.get(q.text, str(q.text))
        body = f'"{text}"' if " " in text else text
    else:
        return str(q)
    field = q.field()
    return body if field == DEFAULT_FIELD else f"{field}:{body}"
