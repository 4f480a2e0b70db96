"""One search as it is asked: ``SearchRequest``, checked once, with the bounds of its options.

The moving parts:

* ``SearchRequest`` is everything a face (CLI, web, a script) asks of
  ``Engine.search``: the typed text, topic and source filters, date
  bounds, sort, page and page size, whether copies of a story are
  collapsed, whether a spelling correction may replace the query and
  whether synonyms are searched too (False: exactly the typed words), and
  the "now" relative dates count back from. It is frozen and checked when
  it is made: a value that cannot be used raises ``QueryError`` naming the
  option (``option``) and what is wrong with it (``problem``), so each face
  can word the message for its own option names.
* The bounds -- ``SORTS``, ``MAX_PAGE_SIZE``, ``MAX_PAGE``,
  ``DEFAULT_PAGE_SIZE`` -- live here only; the faces read them for their
  option parsers and documentation but do not check them again.
* ``since``/``until`` are typed values (``2022``, ``2022-07``,
  ``2022-07-08``, ``7d``, ``2w``, ``3m``, ``1y``: ``querying.parse_date_bound``)
  or datetimes; ``since_at``/``until_at`` hold them as aware UTC instants
  (None: no bound).

``querying`` (which loads Whoosh's parser) is imported only when a request
is checked, so that reading the bounds is cheap: ``newsearch --help`` needs
them and nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

SORTS = ("relevance", "newest", "oldest")
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
MAX_PAGE = 1000


@dataclass(frozen=True)
class SearchRequest:
    """A search; raises ``QueryError`` when made with a value out of bounds."""

    text: str = ""
    topics: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: str | dt.datetime | None = None
    until: str | dt.datetime | None = None
    sort: str = "relevance"
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    collapse: bool = True  # each story once, its other copies in the result's duplicates
    correct: bool = True  # a spelling correction may replace a query that finds nothing
    synonyms: bool = True  # words and phrases of the synonyms file also find their synonyms
    now: dt.datetime | None = None  # None: the current time
    since_at: dt.datetime | None = field(init=False, repr=False, compare=False)
    until_at: dt.datetime | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            from .querying import QueryError

            problem = f"must be one of {', '.join(SORTS)}"
            raise QueryError(f"sort {problem}, not '{self.sort}'", option="sort", problem=problem)
        _check_between("page_size", "page size", self.page_size, MAX_PAGE_SIZE)
        _check_between("page", "page", self.page, MAX_PAGE)
        for name, value in (("text", self.text or ""), ("topics", tuple(self.topics)),
                            ("sources", tuple(self.sources)),
                            ("since_at", _bound("since", self.since, end=False, now=self.now)),
                            ("until_at", _bound("until", self.until, end=True, now=self.now))):
            object.__setattr__(self, name, value)  # frozen: set once, here


def _check_between(option: str, label: str, value: int, high: int) -> None:
    if not 1 <= value <= high:
        from .querying import QueryError

        problem = f"must be between 1 and {high}"
        raise QueryError(f"{label} {problem}", option=option, problem=problem)


def _bound(option: str, value, *, end: bool, now: dt.datetime | None) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    from .querying import QueryError, parse_date_bound

    try:
        return parse_date_bound(str(value), end=end, now=now)
    except QueryError as exc:
        raise QueryError(str(exc), option=option) from None
