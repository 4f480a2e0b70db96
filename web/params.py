"""Query-string parameters -> a validated ``SearchParams`` (shared by the page, the API and the feed).

Everything here is untrusted input: lengths and counts are bounded, and
what cannot be read becomes a ``BadParams`` naming the parameter, which
the page shows as a message and the API as a 400.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlencode

from search.engine import MAX_PAGE, MAX_PAGE_SIZE, SORTS
from search.querying import QueryError, parse_date_bound

MAX_Q_CHARS = 1000
MAX_FILTER_VALUES = 10
MAX_VALUE_CHARS = 200
MAX_DATE_CHARS = 40
DEFAULT_SIZE = 10


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
        return urlencode(pairs)

    def engine_options(self) -> dict:
        return {"topics": self.topics, "sources": self.sources, "since": self.since or None,
                "until": self.until or None, "sort": self.sort, "page": self.page, "page_size": self.size,
                "collapse": self.collapse, "correct": self.correct}


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


def _number(args, name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParams(f"'{name}' must be a whole number, not '{raw[:20]}'") from None
    if not low <= value <= high:
        raise BadParams(f"'{name}' must be between {low} and {high}")
    return value


def _date(args, name: str) -> str:
    value = _text(args, name, MAX_DATE_CHARS)
    if value:
        try:
            parse_date_bound(value, end=(name == "until"))
        except QueryError as exc:
            raise BadParams(f"'{name}': {exc}") from None
    return value


def parse_params(args) -> SearchParams:
    """``request.args`` -> ``SearchParams``; raises ``BadParams``."""
    sort = args.get("sort") or "relevance"
    if sort not in SORTS:
        raise BadParams(f"'sort' must be one of {', '.join(SORTS)}")
    return SearchParams(
        q=_text(args, "q", MAX_Q_CHARS),
        topics=_values(args, "topic"),
        sources=_values(args, "source"),
        since=_date(args, "since"),
        until=_date(args, "until"),
        sort=sort,
        page=_number(args, "page", 1, 1, MAX_PAGE),
        size=_number(args, "size", DEFAULT_SIZE, 1, MAX_PAGE_SIZE),
        collapse=_number(args, "collapse", 1, 0, 1) == 1,
        correct=_number(args, "correct", 1, 0, 1) == 1,
    )
