"""Why a search found nothing, as plain data both faces (CLI, page) can present.

``empty_result(request, response, span, ...)`` takes the ``SearchRequest``,
its ``SearchResponse`` (``filters`` hold the bounds in force, the query
language's ``since:``/``until:`` included) and the archive's date span
(``Engine.stats``' ``first_published``/``last_published``, or
``FacetTable.span()``) and returns ``Reason``s, most telling first:

* ``empty_archive``: the index has no documents;
* ``inverted_range``: since is after until;
* ``after_archive`` / ``before_archive``: a date bound falls outside the
  archive's span (its ``way_out`` offers the same window ending on the
  archive's last day, for a relative bound like ``7d``);
* ``filter``: a topic, source or date filter in force, each with the way
  out of dropping it (``unknown`` when the archive has no such label);
* ``words``: nothing matches the words (with or without the filters, when
  the count without them is known).

A ``Reason`` has a ``kind``, a ``message`` in words that suit any face, and a
``way_out``: ``{"action": "drop"|"set"|"swap"|"change"|"build", "filter":
name, "value": ...}`` which each face words with its own option names
(``--since 7d`` on the command line, a link on the page).
``Engine.explain_empty`` calls this with the archive's span and labels.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass


@dataclass
class Reason:
    kind: str
    message: str
    way_out: dict | None = None

    def to_json(self) -> dict:
        return asdict(self)


def _stamp(value) -> dt.datetime | None:
    """A naive UTC datetime from an ISO string (``...Z``) or a datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day(stamp: dt.datetime | None) -> str:
    """A date as people read it, the day in UTC, in any locale: 20 Oct 1987 ('' for none)."""
    if stamp is None:
        return ""
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.timezone.utc)
    return f"{stamp.day} {MONTHS[stamp.month - 1]} {stamp.year}"


def empty_result(request, response, span=None, *, documents: int | None = None,
                 labels: dict[str, list[str]] | None = None, total_without_filters: int | None = None,
                 now: dt.datetime | None = None) -> list[Reason]:
    """Why ``response`` (to ``request``) is empty; [] when it is not.

    ``span``: (first, last) publication of the archive (datetimes or ISO strings), None if unknown
    or none is dated; ``documents``: the archive's size; ``labels``: the archive's ``topic`` and
    ``source`` values; ``total_without_filters``: what the words find with no filter."""
    if response.total:
        return []
    if documents == 0:
        return [Reason("empty_archive", "the archive is empty (0 documents)", {"action": "build"})]
    reasons: list[Reason] = []
    filters = response.filters or {}
    since, until = _stamp(filters.get("since")), _stamp(filters.get("until"))
    typed_since = request.since if isinstance(request.since, str) and request.since else None
    typed_until = request.until if isinstance(request.until, str) and request.until else None
    first, last = (_stamp(span[0]), _stamp(span[1])) if span and span[0] and span[1] else (None, None)
    last_day = until - dt.timedelta(microseconds=1) if until else None  # until is exclusive: shown as its last day
    if since and until and since >= until:
        reasons.append(Reason("inverted_range", f"the date range is inverted: since {day(since)} is after "
                                                f"until {day(last_day)}", {"action": "swap", "filter": "since,until"}))
    if since and last and since > last:
        way_out = {"action": "drop", "filter": "since", "value": typed_since}
        current = _stamp(now or request.now) or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        if typed_since and typed_since[-1:].isalpha() and until is None:  # relative: 7d, 2w, 3m, 1y
            window = current - since
            way_out = {"action": "set", "filter": "since", "value": (last - window).date().isoformat(),
                       "instead_of": typed_since}
        reasons.append(Reason("after_archive", f"the archive ends on {day(last)}, before since {day(since)}", way_out))
    if until and first and until <= first:
        reasons.append(Reason("before_archive", f"the archive starts on {day(first)}, after until {day(last_day)}",
                              {"action": "drop", "filter": "until", "value": typed_until}))
    known = {kind: {label.casefold() for label in values} for kind, values in (labels or {}).items()}
    if "domain" in known:  # a source filter matches a provider's name or its domain (querying.filter_query)
        known["source"] = known.get("source", set()) | known.pop("domain")
    for field, kind, values in (("topics", "topic", response.filters.get("topics") or request.topics),
                                ("sources", "source", response.filters.get("sources") or request.sources)):
        for value in values:
            unknown = kind in known and not _known(value.casefold(), known[kind], domains=kind == "source")
            message = (f"no article has the {kind} '{value}'" if unknown and kind == "topic" else
                       f"no article comes from '{value}'" if unknown else f"only articles with the {kind} '{value}'")
            reasons.append(Reason("unknown" if unknown else "filter", message,
                                  {"action": "drop", "filter": kind, "value": value}))
    if not any(r.kind in ("inverted_range", "after_archive", "before_archive") for r in reasons):
        for name, stamp, typed in (("since", since, typed_since), ("until", until, typed_until)):
            if stamp:
                shown = day(stamp if name == "since" else last_day)
                reasons.append(Reason("filter", f"only articles published {name} {shown}",
                                      {"action": "drop", "filter": name, "value": typed}))
    text = (response.text or "").strip()
    if text:
        if total_without_filters:
            reasons.append(Reason("words", f"without the filters, '{text}' finds {total_without_filters:,} "
                                           f"result{'s' if total_without_filters != 1 else ''}",
                                  {"action": "drop", "filter": "all"}))
        elif not reasons or total_without_filters == 0:
            reasons.append(Reason("words", f"no article matches '{text}'",
                                  {"action": "change", "filter": "words", "value": text}))
    return reasons


def _known(value: str, labels: set[str], domains: bool) -> bool:
    """Whether a filter value matches a label, as ``querying`` matches it (bbc: bbc.co.uk too)."""
    if value in labels:
        return True
    return domains and any(label.startswith(value + ".") or label.endswith("." + value) for label in labels)
