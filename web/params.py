"""Query-string parameters -> a validated ``SearchParams`` (shared by the page, the API and the feed).

Everything here is untrusted input: lengths and counts are bounded, and
what cannot be read becomes a ``BadParams`` naming the parameter, which
the page shows as a message and the API as a 400. The search options'
own bounds (sort, page, size, dates) are checked by ``SearchRequest``,
which ``SearchParams.search_request`` builds; its ``QueryError`` is reworded here
with the parameter's name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from search.querying import QueryError
from search.request import DEFAULT_PAGE_SIZE, SearchRequest

MAX_Q_CHARS = 1000
MAX_FILTER_VALUES = 10
MAX_VALUE_CHARS = 200
MAX_DATE_CHARS = 40
DEFAULT_SIZE = DEFAULT_PAGE_SIZE
PARAMETER_OF_OPTION = {"page_size": "size"}  # SearchRequest field -> query parameter, where they differ


class BadParams(ValueError):
    """A parameter that cannot be used; the message names it."""


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    topics: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: str = ""
    until: str = ""
    sort: str = "relevance"
    page: int = 1
    size: int = DEFAULT_SIZE
    collapse: bool = True
    correct: bool = True
    synonyms: bool = True

    @property
    def is_empty(self) -> bool:
        return not (self.q.strip() or self.topics or self.sources or self.since or self.until)

    @property
    def has_filters(self) -> bool:
        return bool(self.topics or self.sources or self.since or self.until)

    def changed(self, **changes) -> "SearchParams":
        """A copy with ``changes``; any change but paging goes back to page 1."""
        if "page" not in changes:
            changes["page"] = 1
        return replace(self, **changes)

    def query_string(self) -> str:
        return urlencode(self.pairs())

    def pairs(self) -> list[tuple[str, str]]:
        """``(parameter, value)`` for every parameter not at its default, in query-string order."""
        pairs: list[tuple[str, str]] = []
        if self.q:
            pairs.append(("q", self.q))
        pairs += [("topic", t) for t in self.topics]
        pairs += [("source", s) for s in self.sources]
        for name in ("since", "until"):
            if value := getattr(self, name):
                pairs.append((name, value))
        if self.sort != "relevance":
            pairs.append(("sort", self.sort))
        if self.page != 1:
            pairs.append(("page", str(self.page)))
        if self.size != DEFAULT_SIZE:
            pairs.append(("size", str(self.size)))
        if not self.collapse:
            pairs.append(("collapse", "0"))
        if not self.correct:
            pairs.append(("correct", "0"))
        if not self.synonyms:
            pairs.append(("synonyms", "0"))
        return pairs

    def search_request(self) -> SearchRequest:
        """The engine's request for these parameters; raises ``BadParams`` naming the parameter."""
        try:
            return SearchRequest(self.q, topics=self.topics, sources=self.sources, since=self.since or None,
                                 until=self.until or None, sort=self.sort, page=self.page, page_size=self.size,
                                 collapse=self.collapse, correct=self.correct, synonyms=self.synonyms)
        except QueryError as exc:
            name = PARAMETER_OF_OPTION.get(exc.option, exc.option)
            if exc.option in ("since", "until"):
                raise BadParams(f"'{name}': {exc}") from None
            raise BadParams(f"'{name}' {exc.problem}") from None


def _text(args, name: str, limit: int) -> str:
    value = args.get(name, "") or ""
    if len(value) > limit:
        raise BadParams(f"'{name}' is longer than {limit} characters")
    return value.replace("\x00", "").strip()


def _values(args, name: str) -> tuple[str, ...]:
    values = [v.replace("\x00", "").strip() for v in args.getlist(name) if v and v.strip()]
    if len(values) > MAX_FILTER_VALUES:
        raise BadParams(f"at most {MAX_FILTER_VALUES} '{name}' values are allowed")
    if any(len(v) > MAX_VALUE_CHARS for v in values):
        raise BadParams(f"a '{name}' value is longer than {MAX_VALUE_CHARS} characters")
    return tuple(dict.fromkeys(values))


def _number(args, name: str, default: int) -> int:
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadParams(f"'{name}' must be a whole number, not '{raw[:20]}'") from None


def _switch(args, name: str) -> bool:
    """A 0/1 parameter, on when absent."""
    value = _number(args, name, 1)
    if value not in (0, 1):
        raise BadParams(f"'{name}' must be between 0 and 1")
    return value == 1


def parse_params(args) -> SearchParams:
    """``request.args`` -> ``SearchParams`` whose ``search_request()`` works; raises ``BadParams``."""
    params = SearchParams(
        q=_text(args, "q", MAX_Q_CHARS),
        topics=_values(args, "topic"),
        sources=_values(args, "source"),
        since=_text(args, "since", MAX_DATE_CHARS),
        until=_text(args, "until", MAX_DATE_CHARS),
        sort=args.get("sort") or "relevance",
        page=_number(args, "page", 1),
        size=_number(args, "size", DEFAULT_SIZE),
        collapse=_switch(args, "collapse"),
        correct=_switch(args, "correct"),
        synonyms=_switch(args, "synonyms"),
    )
    params.search_request()  # checks the search options' bounds
    return params
