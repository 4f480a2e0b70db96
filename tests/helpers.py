"""Shared test helpers: a small hand-written archive with known contents.

Every article the engine/query/CLI tests rely on is described here, so a
test can state exactly which ids a query must (and must not) return.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from search import indexer
from search.request import SearchRequest

UTC = dt.timezone.utc

# A fixed "now" for relative dates (7d, 3m, 1y).
NOW = dt.datetime(2023, 3, 15, 12, 0, tzinfo=UTC)


def write_article(root: Path, relpath: str, *, title, excerpt="", published=None, provider=None, topics=(),
                  url=None, body="", **extra) -> Path:
    """Write one article file in the archive format (YAML front matter + optional body)."""
    meta = {"category": extra.pop("category", "news"), "title": title, "excerpt": excerpt}
    if published is not None:
        meta["publishedDateTime"] = published
    meta["webUrl"] = url if url is not None else f"https://example.test/{relpath[:-3]}"
    meta["type"] = extra.pop("type", "article")
    if provider is not None:
        meta["provider"] = provider
    meta["topics"] = list(topics)
    meta.update(extra)
    text = "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n"
    if body:
        text += "\n" + body + "\n"
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def P(name, domain):
    return {"name": name, "domain": domain}


# Words made only of letters that the stemmer leaves distinct: 'quux' + 3 letters.
MANY_QUUX = [f"quux{a}o{b}" for a in "bcdfghjklm" for b in "bcdfgk"]  # 60 ...
MANY_QUUX += [f"quux{a}a{b}" for a in "bcdfg" for b in "bcdfk"]  # ... + 25 = 85 words

ARTICLES = {
    "2022/08/boe-rates": dict(
        title="Bank of England raises interest rates again",
        excerpt="The Bank of England lifted its key rate by half a point to fight inflation.",
        published="2022-08-04T11:00:00Z", provider=P("BBC News", "bbc.co.uk"), topics=["Economy", "Markets"],
        body="Economists expect further increases before the end of the year.",
        related=[{
            "title": "Pound slips after central bank decision",
            "excerpt": "Sterling fell against the dollar.",
            "webUrl": "https://related.test/pound-slips",
            "publishedDateTime": "2022-08-04T13:00:00Z",
            "provider": P("Sky News", "news.sky.com"),
        }],
        images=[{"url": "https://img.test/boe.jpg", "width": 640, "height": 360}],
        quality=77, heat=12, updatedDateTime="2022-08-05T09:00:00Z", originalUrl="https://orig.test/boe",
    ),
    "2022/07/bank-holiday": dict(
        title="Bank holiday crowds flock to England's beaches",
        excerpt="Visitors packed the coast during a hot weekend.",
        published="2022-07-08T09:30:00Z", provider=P("The Guardian", "theguardian.com"), topics=["Travel", "Weather"],
    ),
    "2020/04/crude-oil": dict(
        title="Crude oil prices turn negative",
        excerpt="Oil futures fell below zero as storage ran out.",
        published="2020-04-20T18:00:00Z", provider=P("Reuters", "reuters.com"), topics=["Energy", "Markets"],
    ),
    "2021/03/oilfield": dict(
        title="Oilfield services firm cuts jobs",
        excerpt="The company blamed weak demand for drilling.",
        published="2021-03-15T08:00:00Z", provider=P("Bloomberg", "bloomberg.com"), topics=["Energy", "Jobs"],
    ),
    "2022/07/shipping": dict(
        title="Shipping costs soar in the Gulf",
        excerpt="Freight companies are passing costs to customers.",
        body="Tankers carrying oil now charge double.",
        published="2022-07-20T10:00:00Z", provider=P("Reuters", "reuters.com"), topics=["Shipping"],
    ),
    "2023/01/mortgage": dict(
        title="Mortgage rate climbs to a ten-year high",
        excerpt="Home buyers face higher monthly payments.",
        published="2023-01-20T07:00:00Z", provider=P("Financial Times", "ft.com"), topics=["Housing", "Economy"],
    ),
    "2023/03/zeppelin": dict(
        title="Zeppelin returns to the skies over Friedrichshafen",
        excerpt="An airship made its first passenger flight in decades.",
        body="Tourists lined up for tickets at the lake.",
        published="2023-03-10T12:00:00Z", provider=P("Deutsche Welle", "dw.com"), topics=["Aviation", "Travel"],
        category="feature", type="video",
    ),
    "2021/07/airship": dict(
        title="Airship tourism takes off in Germany",
        excerpt="Operators report strong bookings for the summer.",
        body="The old zeppelin hangar near the lake was restored for visitors and tourists lined up for tickets.",
        published="2021-07-01T12:00:00Z", provider=P("Deutsche Welle", "dw.com"), topics=["Aviation"],
    ),
    "2022/12/acme": dict(
        title="Profits < costs & taxes at Acme",
        excerpt="The accountants were puzzled by the numbers.",
        body="Hackers injected &lt;script&gt;alert(1)&lt;/script&gt; into the zanzibar portal last week.",
        published="2022-12-01T00:00:00Z", provider=P("Wired", "wired.com"), topics=["Cybersecurity"],
    ),
    "2020/06/glossary": dict(
        title="A glossary of invented words",
        excerpt="Nonsense words for a dictionary test.",
        body=" ".join(MANY_QUUX),
        published="2020-06-01T00:00:00Z", provider=P("Example Wire", "example.org"), topics=["Language"],
    ),
    "2021/11/battery": dict(
        title="Battery maker opens a plant in Nevada",
        excerpt="The factory will supply cells for pickup trucks.",
        published="2021-11-05T15:00:00Z", provider=P("Ars Technica", "arstechnica.com"),
        topics=["Electric Vehicles", "Manufacturing"],
    ),
}

# Ten "harbor" articles with known dates, providers and topics (for sorting, paging and facets).
HARBOR_WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
for _i, _word in enumerate(HARBOR_WORDS):
    _year = 2019 + _i % 4
    ARTICLES[f"{_year}/{_i + 1:02d}/harbor-{_word}"] = dict(
        title=f"Harbor report {_word}",
        excerpt=f"Weekly harbor traffic summary, edition {_word}.",
        published=f"{_year}-{_i + 1:02d}-{10 + _i:02d}T06:00:00Z",
        provider=P("Port Times", "porttimes.com") if _i % 2 == 0 else P("Dock Daily", "dockdaily.net"),
        topics=["Ports"] + (["Weather"] if _i % 3 == 0 else []),
    )

HARBOR_IDS = [doc_id for doc_id in ARTICLES if "/harbor-" in doc_id]


def published(doc_id: str) -> dt.datetime:
    return dt.datetime.fromisoformat(ARTICLES[doc_id]["published"].replace("Z", "+00:00"))


def write_archive(root: Path, articles: dict | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for doc_id, fields in (articles or ARTICLES).items():
        write_article(root, doc_id + ".md", **dict(fields))
    return root


def run_cli(*args, env=None):
    """``newsearch ARGS`` in-process through click's CliRunner; the caller's NEWSEARCH_* settings kept out."""
    from click.testing import CliRunner

    from search.cli import main

    base = {"NEWSEARCH_DATA": None, "NEWSEARCH_INDEX": None}
    base.update(env or {})
    return CliRunner().invoke(main, [str(a) for a in args], env=base, catch_exceptions=False)


def at_once_and_walked(q, state, context=None):
    """Per segment of ``state``'s searcher: (the segment's searcher, the (docnum, score) pairs
    ``engine._scored_at_once`` gives or None, the pairs walking Whoosh's matcher gives)."""
    from search.engine import _scored_at_once

    context = context or state.searcher.context()
    for sub, offset in state.searcher.leaf_searchers():
        live = state.facets.live[offset:offset + sub.reader().doc_count_all()]
        found = _scored_at_once(q, sub, context, live)
        matcher, walked = q.matcher(sub, context), []
        while matcher.is_active():
            walked.append((matcher.id(), matcher.score()))
            matcher.next()
        yield sub, None if found is None else list(zip(found[0].tolist(), found[1].tolist())), walked


def build_index(data: Path, index: Path) -> indexer.Report:
    return indexer.build(data, indexer.IndexHome(index), workers=1)


def ids(response) -> list[str]:
    return [hit.id for hit in response.hits]


def search_for(engine, text="", **options):
    """``engine.search`` of a ``SearchRequest`` for ``text`` with ``options`` (its fields)."""
    return engine.search(SearchRequest(text, **options))


def all_ids(engine, text="", **options) -> set[str]:
    """Every id a search returns (up to 100)."""
    response = search_for(engine, text, page_size=100, now=options.pop("now", NOW), **options)
    assert response.total == len(response.hits), "more than one page; raise page_size"
    return set(ids(response))


# Ids of the fixture articles the tests refer to by name.
ACME = "2022/12/acme"
AIRSHIP = "2021/07/airship"
BATTERY = "2021/11/battery"
BOE = "2022/08/boe-rates"
CRUDE = "2020/04/crude-oil"
GLOSSARY = "2020/06/glossary"
HOLIDAY = "2022/07/bank-holiday"
MORTGAGE = "2023/01/mortgage"
OILFIELD = "2021/03/oilfield"
SHIPPING = "2022/07/shipping"
ZEPPELIN = "2023/03/zeppelin"


# ---------------------------------------------------------------- the web archive: ARTICLES plus hostile and odd articles

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
IMG = "<img src=x onerror=alert(1)>"
HOSTILE_TITLE = f'{SCRIPT} & "quotes" wombat'
HOSTILE_TOPIC = '<b>Bold</b> "topic"'
HOSTILE_PROVIDER = '<b>Evil</b> "Prov"'

# Stored as written: markup is stripped from fields when indexing, so the
# hostile text is written with entities, which the reader decodes into the
# literal characters the web face must then escape.
HOSTILE = "2022/05/hostile-enc"
# Written with literal tags (the reader strips them); hostile URLs all the same.
HOSTILE_RAW = "2022/05/hostile-raw"
EXTRA = "2022/06/extra-fields"
UNDATED = "misc/undated-note"


def _entities(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")


WEB_ARTICLES = {
    HOSTILE: dict(
        title=_entities(HOSTILE_TITLE),
        excerpt=f"Wombat {_entities(IMG)} excerpt",
        body=f"Wombat body {_entities(SCRIPT)} and more wombat text.",
        published="2022-05-06T10:00:00Z",
        provider=P(_entities(HOSTILE_PROVIDER), "evil.test"),
        topics=[_entities(HOSTILE_TOPIC)],
        url="javascript:alert(1)",
        images=[{"url": "data:text/html,<script>alert(2)</script>"}],
        related=[{"title": f"{_entities(SCRIPT)} wombat related", "excerpt": _entities(IMG),
                  "webUrl": "javascript:alert(3)", "provider": P(_entities(HOSTILE_PROVIDER), "evil.test"),
                  "publishedDateTime": "2022-05-07T10:00:00Z"}],
        mood=SCRIPT,
    ),
    HOSTILE_RAW: dict(
        title=f'{SCRIPT} & "quotes" quokka',
        excerpt=f"Quokka {IMG} excerpt",
        published="2022-05-05T10:00:00Z",
        provider=P(HOSTILE_PROVIDER, "evil.test"),
        topics=[HOSTILE_TOPIC],
        url="javascript:alert(1)",
        images=[{"url": "javascript:alert(2)"}],
        related=[{"title": "quokka related", "webUrl": "javascript:alert(3)"}],
    ),
    EXTRA: dict(
        title="Pelican census counts record numbers",
        excerpt="Volunteers counted pelicans along the estuary.",
        body="The pelican count rose for the third year.",
        published="2022-06-12T08:00:00Z", provider=P("Coast Post", "coastpost.test"), topics=["Wildlife"],
        tags=["birds", "estuary"], survey={"observers": 12, "nested": {"ok": True}}, score_card=3.5,
    ),
    UNDATED: dict(
        title="Pelican notes without a date",
        excerpt="An undated note about pelicans.",
        provider=P("Coast Post", "coastpost.test"), topics=["Wildlife"],
    ),
}

ALL_COUNT = len(ARTICLES) + len(WEB_ARTICLES)
