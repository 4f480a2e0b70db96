"""Why a search found nothing, for the page to say: the filters in force, each with a link that
drops it, a date range that is back to front or outside the archive's span, and the way out.

It reads only what the engine answered (the response's filters, the date bounds as the engine
read them) and the archive's span (``archive.span``); it never searches again. Whether the dates
are back to front or outside the span is ``search.explain``'s verdict, as the command line gives it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from search.explain import empty_result
from search.request import SearchRequest
from search.results import SearchResponse

from .archive import Span
from .params import SearchParams
from .presenting import day_label, parse_iso


@dataclass
class Filter:
    kind: str  # Topic, Source, From, Until
    value: str  # as the page shows it
    drop: dict  # the change to the parameters that removes it


@dataclass
class Why:
    filters: list[Filter] = field(default_factory=list)
    span: Span | None = None
    inverted: tuple[str, str] | None = None  # (from, until) labels when from comes after until
    after_end: str | None = None  # the asked start, when it is after the archive's last article
    before_start: str | None = None  # the asked end, when it is before the archive's first article

    @property
    def dates_outside(self) -> bool:
        return bool(self.after_end or self.before_start)


def why_empty(params: SearchParams, wanted: SearchRequest, response: SearchResponse, span: Span | None,
              presets: list[tuple[str, str]] = ()) -> Why:
    """What to tell the reader when ``response`` (for ``params``, asked as ``wanted``) found nothing."""
    named = dict((value, label) for label, value in presets)
    why = Why(span=span)
    why.filters += [Filter("Topic", topic, {"topics": tuple(t for t in params.topics if t != topic)})
                    for topic in params.topics]
    why.filters += [Filter("Source", source, {"sources": tuple(s for s in params.sources if s != source)})
                    for source in params.sources]
    # The bounds as the engine applied them (the query's own since:/until: included).
    since, until = parse_iso(response.filters.get("since")), parse_iso(response.filters.get("until"))
    last_day = until - dt.timedelta(microseconds=1) if until else None  # until is exclusive
    if params.since:
        label = day_label(since) if since else params.since
        why.filters.append(Filter("From", f"{named[params.since]} (from {label})" if params.since in named else label,
                                  {"since": ""}))
    if params.until:
        why.filters.append(Filter("Until", day_label(last_day) if last_day else params.until, {"until": ""}))
    verdicts = {reason.kind for reason in empty_result(wanted, response, span and (span.first, span.last))}
    if "inverted_range" in verdicts:
        why.inverted = (day_label(since), day_label(last_day))
    else:
        why.after_end = day_label(since) if "after_archive" in verdicts else None
        why.before_start = day_label(last_day) if "before_archive" in verdicts else None
    return why
