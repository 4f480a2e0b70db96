"""Turning engine values into what a page shows: safe links, dates, highlights, the timeline chart.

Article fields are untrusted. ``safe_url`` lets only http(s) URLs become
links or image sources; ``highlighted`` escapes every piece of text and
adds only ``<mark>``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from markupsafe import Markup

from search.explain import MONTHS, day as day_label  # one way to write a day, for both faces
from search.highlighting import Segments, repeats
from search.results import highlight_html

CHART_WIDTH = 640
CHART_HEIGHT = 80


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None (no javascript:, data:, relative tricks)."""
    if not url or not isinstance(url, str):
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(c in url for c in "\x00\r\n\t<>\"'`") or " " in url:
        return None
    return url


def highlighted(segments: Segments) -> Markup:
    # The same markup as the API's highlights; highlight_html escapes every piece of text.
    return Markup(highlight_html(segments))


def lede(article: dict) -> str:
    """The excerpt to show above an article's body, or "" when it would only
    repeat what the page shows anyway: the body's opening (news bodies
    usually start with the excerpt, often cut short there) or the title."""
    excerpt = (article.get("excerpt") or "").strip()
    if not excerpt or repeats(excerpt, article.get("body") or "") or repeats(excerpt, article.get("title") or ""):
        return ""
    return excerpt


def parse_iso(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def when(value: str | None, now: dt.datetime | None = None) -> str:
    """"3 days ago" for recent dates, "8 Jul 2022" otherwise."""
    stamp = parse_iso(value)
    if stamp is None:
        return ""
    now = now or dt.datetime.now(dt.timezone.utc)
    age = now - stamp
    seconds = age.total_seconds()
    if 0 <= seconds < 60:
        return "just now"
    if 0 <= seconds < 3600:
        return _ago(int(seconds // 60), "minute")
    if 0 <= seconds < 86400:
        return _ago(int(seconds // 3600), "hour")
    if 0 <= age.days < 30:
        return _ago(age.days, "day")
    return day_label(stamp)


def date_inputs(since_at: dt.datetime | None, until_at: dt.datetime | None) -> tuple[str, str]:
    """The first and last day (``YYYY-MM-DD``, UTC) of a search's date range, for the page's date
    inputs: ``since=2022-07`` shows 2022-07-01, ``until=2022`` 2022-12-31 (``until_at`` is exclusive),
    ``since=7d`` the day a week ago; "" where there is no bound or it is beyond what an input holds."""
    def day(stamp: dt.datetime | None) -> str:
        if stamp is None:
            return ""
        day = stamp.astimezone(dt.timezone.utc).date() if stamp.tzinfo else stamp.date()
        return day.isoformat() if 1900 <= day.year <= 2100 else ""

    return day(since_at), day(until_at - dt.timedelta(microseconds=1) if until_at else None)


def _ago(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'} ago"


def period_label(period: str) -> str:
    """``2022-07`` -> ``Jul 2022``; ``2022`` stays."""
    if len(period) == 7:
        return f"{MONTHS[int(period[5:]) - 1]} {period[:4]}"
    return period


@dataclass
class Bar:
    period: str
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float


def timeline_bars(timeline: dict) -> list[Bar]:
    """Bar geometry for the server-drawn SVG timeline."""
    buckets = timeline.get("buckets") or []
    if not buckets:
        return []
    tallest = max(b["count"] for b in buckets) or 1
    slot = CHART_WIDTH / len(buckets)
    width = max(1.0, slot * 0.8)
    bars = []
    for number, bucket in enumerate(buckets):
        height = 0 if not bucket["count"] else max(2.0, (CHART_HEIGHT - 4) * bucket["count"] / tallest)
        bars.append(Bar(period=bucket["period"], label=period_label(bucket["period"]), count=bucket["count"],
                        x=round(number * slot + (slot - width) / 2, 2), y=round(CHART_HEIGHT - height, 2),
                        width=round(width, 2), height=round(height, 2)))
    return bars
