"""What the pages say about the archive as a whole, asked of the engine once per searcher.

The moving parts:

* ``span`` (the first and last publication dates, from ``Engine.stats``)
  and ``front`` (stats, the newest stories and example searches for the
  home page) are cached per index state: ``Engine.state().state`` (the
  ``SearcherState`` every thread's lane shares) is a new object
  whenever a build or update changed the index, so a cached value is
  recomputed exactly then, by the first request that needs it (the home
  page keeps showing the previous one while a thread computes it). They
  cost the engine's stats and a few searches, never a pass over the
  articles in Python: the newest stories are a newest-first search with
  no words over the archive's last month (widened if that has too few).
* ``date_presets``: the "Past day/week/month/year" links, relative to
  today, and for an archive that ends earlier the same windows counted
  back from its last article ("the archive's last week"); a preset that
  can only be empty is hidden.
* ``examples``: searches made from the archive's own top topics, sources
  and newest titles, each kept only if the engine finds results for it
  with all its words.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass, field

from flask import current_app

from search.analysis import STOP_WORDS
from search.request import SearchRequest
from search.results import Hit

from .answers import engine

DATE_PRESETS = [("Past day", "1d"), ("Past week", "7d"), ("Past month", "1m"), ("Past year", "1y")]
ARCHIVE_LABELS = {"1d": "The archive's last day", "7d": "The archive's last week",
                  "1m": "The archive's last month", "1y": "The archive's last year"}
NEWEST_SHOWN = 6
EXAMPLES_SHOWN = 6
TRIES_PER_EXAMPLE = 3  # candidates searched per kind of example, at most
_WORD = re.compile(r"[^\W\d_]+")


@dataclass
class Span:
    first: dt.datetime
    last: dt.datetime  # aware UTC


@dataclass
class Front:
    stats: dict | None
    span: Span | None
    newest: list[Hit] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)


@dataclass
class Preset:
    label: str
    since: str
    relative_to_archive: bool = False


@dataclass
class Presets:
    shown: list[Preset]  # today's windows that can find something, then the archive's own
    ends_on: dt.datetime | None  # set when some window relative to today can only be empty

    @property
    def labels(self) -> list[tuple[str, str]]:
        """(label, since value) of every preset, for naming an active filter."""
        return [(p.label, p.since) for p in self.shown] + DATE_PRESETS


# ---------------------------------------------------------------- cache per searcher

_lock = threading.Lock()


def _cached(name: str, compute, *, stale_ok: bool = False):
    """``compute()``, remembered until the engine's searcher changes (a build or update).

    With ``stale_ok``, a value computed for an earlier searcher is returned at once while a
    thread computes the new one, so only the very first request waits for it. The key is the
    searcher state every thread's lane shares, not the thread's own lane."""
    state = engine().state().state
    app = current_app._get_current_object()
    cache = app.extensions.setdefault("newsearch_archive", {})
    with _lock:
        held = cache.get(name)
        if held is not None and held[0] is state:
            return held[1]
        if held is not None and stale_ok:
            if cache.get(name + ".refreshing") is not state:
                cache[name + ".refreshing"] = state
                threading.Thread(target=_refresh, args=(app, name, compute, state), daemon=True).start()
            return held[1]
    value = compute()
    with _lock:
        cache[name] = (state, value)
    return value


def _refresh(app, name: str, compute, state) -> None:
    with app.app_context():
        try:
            value = (state, compute())
        except Exception:
            app.logger.exception("refreshing %s", name)
            value = None
        with _lock:
            cache = app.extensions["newsearch_archive"]
            if value is not None:
                cache[name] = value
            cache.pop(name + ".refreshing", None)


def span() -> Span | None:
    """The archive's first and last publication dates, or None (no dated article, no index)."""
    try:
        return _cached("span", lambda: _span_of(engine().stats(top=0)))
    except Exception:  # a page must render even if the archive cannot be described
        current_app.logger.exception("the archive's date span")
        return None


def front() -> Front | None:
    """What the home page shows about the archive, or None if it cannot be read."""
    try:
        return _cached("front", _front, stale_ok=True)
    except Exception:  # the landing page must render even if stats cannot be read
        current_app.logger.exception("the front page")
        return None


def _span_of(stats: dict) -> Span | None:
    first, last = _instant(stats.get("first_published")), _instant(stats.get("last_published"))
    return Span(first, last) if first and last else None


def _instant(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.timezone.utc)


def _front() -> Front:
    stats = engine().stats(top=12)
    archive = _span_of(stats)
    newest = _newest(archive) if archive else []
    return Front(stats=stats, span=archive, newest=newest, examples=examples(stats, archive, newest))


def _newest(archive: Span) -> list[Hit]:
    """The newest stories: a newest-first search with no words over the archive's last month,
    widened to its last year, then to all of it, if that finds too few."""
    hits: list[Hit] = []
    for window in ("1m", "1y", None):
        since = SearchRequest(since=window, now=archive.last).since_at if window else archive.first
        response = engine().search(SearchRequest(since=since, sort="newest", page_size=NEWEST_SHOWN))
        hits = response.hits
        if len(hits) >= NEWEST_SHOWN:
            break
    return hits


# ---------------------------------------------------------------- date presets


def date_presets(archive: Span | None, active: str = "", now: dt.datetime | None = None) -> Presets:
    """The date presets to offer. A window relative to ``now`` that starts after the archive's last
    article can only be empty: it is hidden (unless it is the ``active`` since) and the same window
    counted back from the archive's last article is offered instead."""
    now = now or dt.datetime.now(dt.timezone.utc)
    kept: list[Preset] = []
    instead: list[Preset] = []
    for label, value in DATE_PRESETS:
        start = SearchRequest(since=value, now=now).since_at
        if archive is None or archive.last >= start:
            kept.append(Preset(label, value))
            continue
        if value == active:
            kept.append(Preset(label, value))
        since = SearchRequest(since=value, now=archive.last).since_at.date().isoformat()
        instead.append(Preset(ARCHIVE_LABELS[value], since, relative_to_archive=True))
    return Presets(shown=kept + instead, ends_on=archive.last if instead else None)


# ---------------------------------------------------------------- example searches


def examples(stats: dict, archive: Span | None, newest: list[Hit]) -> list[str]:
    """Up to ``EXAMPLES_SHOWN`` searches that show the query language with the archive's own
    words (its top topics and sources, its newest titles); each finds results with all its words."""
    topic_words = _unique(w for item in stats.get("top_topics") or [] for w in _words(item["value"], 3))
    title_words = _unique(w for hit in newest for w in _words(hit.title, 4))
    phrases = _unique(pair for hit in newest for pair in _pairs(hit.title))
    providers = [item["value"] for item in stats.get("top_providers") or []]
    year = archive.last.year if archive else None
    topic_phrases = _unique(" ".join(_words(item["value"], 1)) for item in stats.get("top_topics") or [])
    kinds = [
        [f"{a} OR {b}" for a, b in zip(topic_words, topic_words[1:])],
        [f'"{phrase}"' for phrase in [p for p in topic_phrases if " " in p] + phrases],
        [f"title:{word}" for word in title_words],
        [f"{a} -{b}" for a, b in zip(topic_words, topic_words[2:])],
        [f"{word[:4]}* since:{year}" for word in title_words if len(word) >= 6 and year],
        [f"source:{_quoted(name)} {word}" for name in providers[:2] for word in topic_words[:2]],
    ]
    found: list[str] = []
    for number, candidates in enumerate(kinds):
        # A phrase must be found in two articles at least: a phrase only its own title has says little.
        fewest = 2 if number == 1 else 1
        for text in candidates[:TRIES_PER_EXAMPLE * (2 if number == 1 else 1)]:
            if text not in found and _finds_results(text, fewest):
                found.append(text)
                break
    return found[:EXAMPLES_SHOWN]


def _finds_results(text: str, fewest: int = 1) -> bool:
    """Whether ``text`` finds at least ``fewest`` articles with all its words, as typed."""
    response = engine().search(SearchRequest(text, page_size=1, correct=False, collapse=False))
    return response.total >= fewest and not response.fallback and not response.partial


def _words(text: str, shortest: int) -> list[str]:
    return [w.lower() for w in _WORD.findall(text or "") if len(w) >= shortest and w.lower() not in STOP_WORDS]


def _pairs(title: str) -> list[str]:
    """Two neighbouring words of a title, neither a stop word."""
    words = (title or "").split()
    pairs = []
    for a, b in zip(words, words[1:]):
        if all(_WORD.fullmatch(w) and len(w) >= 3 and w.lower() not in STOP_WORDS for w in (a, b)):
            pairs.append(f"{a.lower()} {b.lower()}")
    return pairs


def _quoted(name: str) -> str:
    return name if re.fullmatch(r"[\w.&-]+", name) else '"' + name.replace('"', "") + '"'


def _unique(items) -> list:
    return list(dict.fromkeys(items))
