"""Engine: result fields, highlights, facets, sorting, paging, filters,
ranking, articles, option errors and picking up a rebuilt index."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import time
from pathlib import Path

import pytest

from search import indexer
from search.engine import Engine
from search.store import IndexHome, NoIndex

from helpers import (
    AIRSHIP,
    ARTICLES,
    BOE,
    CRUDE,
    HARBOR_IDS,
    HOLIDAY,
    MORTGAGE,
    NOW,
    OILFIELD,
    SHIPPING,
    UTC,
    ZEPPELIN,
    all_ids,
    build_index,
    ids,
    search_for,
    write_article,
)


ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def unmark(markup: str) -> str:
    return html.unescape(markup.replace("<mark>", "").replace("</mark>", ""))


def marked(markup: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r"<mark>(.*?)</mark>", markup)]


# ================================================================ results


def test_result_has_every_documented_field(engine):
    response = search_for(engine, "bank england inflation", now=NOW).to_json()
    assert response["total"] == 1
    [result] = response["results"]
    assert set(result) >= {"id", "title", "excerpt", "url", "provider", "published", "topics", "image", "score",
                           "highlights"}
    assert result["id"] == BOE
    assert result["title"] == "Bank of England raises interest rates again"
    assert result["excerpt"] == ARTICLES[BOE]["excerpt"]
    assert result["url"] == f"https://example.test/{BOE}"
    assert result["provider"] == {"name": "BBC News", "domain": "bbc.co.uk"}
    assert result["published"] == "2022-08-04T11:00:00Z"
    assert result["topics"] == ["Economy", "Markets"]
    assert result["image"] == "https://img.test/boe.jpg"
    assert isinstance(result["score"], float) and result["score"] > 0
    assert set(result["highlights"]) == {"title", "snippet"}
    json.dumps(response)  # the whole response is JSON-ready


def test_every_result_is_well_formed(engine):
    response = search_for(engine, "harbor OR oil OR bank OR zeppelin", page_size=100, now=NOW).to_json()
    assert response["total"] == len(response["results"]) == len(HARBOR_IDS) + 6
    for result in response["results"]:
        source = ARTICLES[result["id"]]
        assert result["title"] == source["title"]
        assert result["provider"] == source["provider"]
        assert result["topics"] == source["topics"]
        assert ISO_UTC.fullmatch(result["published"]), result["published"]
        assert result["published"] == source["published"]
        assert isinstance(result["image"], str)
        assert unmark(result["highlights"]["title"]) == result["title"]


def test_published_is_converted_to_utc(tmp_path):
    data = tmp_path / "data"
    write_article(data, "a.md", title="Walrus spotted", published="2021-03-24T14:05:00+02:00",
                  provider={"name": "Local", "domain": "local.test"})
    build_index(data, tmp_path / "index")
    eng = Engine(tmp_path / "index", recheck_seconds=0)
    [hit] = search_for(eng, "walrus").to_json()["results"]
    assert hit["published"] == "2021-03-24T12:05:00Z"
    assert hit["image"] == ""
    eng.close()


def test_title_highlight_marks_matched_words(engine):
    [result] = search_for(engine, "england inflation", now=NOW).to_json()["results"]
    title = result["highlights"]["title"]
    assert marked(title) == ["England"]
    assert title == "Bank of <mark>England</mark> raises interest rates again"
    snippet = result["highlights"]["snippet"]
    assert marked(snippet) == ["England", "inflation"]
    assert unmark(snippet).strip("… ") in result["excerpt"]


def test_highlight_marks_stemmed_forms(engine):
    results = {r["id"]: r for r in search_for(engine, "rates", now=NOW).to_json()["results"]}
    assert marked(results[MORTGAGE]["highlights"]["title"]) == ["rate"]
    assert marked(results[BOE]["highlights"]["title"]) == ["rates"]
    assert "rate" in marked(results[BOE]["highlights"]["snippet"])


def test_highlight_snippet_comes_from_the_body_when_the_excerpt_has_no_match(engine):
    [result] = search_for(engine, "tankers", now=NOW).to_json()["results"]
    assert result["id"] == SHIPPING
    assert marked(result["highlights"]["snippet"]) == ["Tankers"]
    assert "<mark>" not in result["highlights"]["title"]


def test_highlights_escape_html(engine):
    [result] = search_for(engine, "acme", now=NOW).to_json()["results"]
    assert result["title"] == "Profits < costs & taxes at Acme"
    assert result["highlights"]["title"] == "Profits &lt; costs &amp; taxes at <mark>Acme</mark>"


def test_excluded_words_are_not_highlighted(engine):
    [result] = search_for(engine, "bank -holiday", now=NOW).to_json()["results"]
    assert result["id"] == BOE
    assert marked(result["highlights"]["title"]) == ["Bank"]


def test_filters_only_query_has_no_marks(engine):
    response = search_for(engine, "", topics=["Energy"], now=NOW).to_json()
    assert response["total"] == 2
    for result in response["results"]:
        assert "<mark>" not in result["highlights"]["title"]
        assert "<mark>" not in result["highlights"]["snippet"]


# ================================================================ totals, pages, facets


def test_totals_and_pages(engine):
    response = search_for(engine, "harbor", page_size=3, now=NOW).to_json()
    assert response["total"] == 10
    assert response["page"] == 1 and response["page_size"] == 3 and response["pages"] == 4
    assert len(response["results"]) == 3
    assert isinstance(response["took_ms"], (int, float)) and response["took_ms"] >= 0


def test_no_results_has_zero_pages(engine):
    response = search_for(engine, "xylophone", now=NOW).to_json()
    assert response["total"] == 0 and response["pages"] == 0 and response["results"] == []


def _facet(response, name):
    return {item["value"]: item["count"] for item in response["facets"][name]}


def test_facets_count_the_whole_result_set_not_the_page(engine):
    response = search_for(engine, "harbor", page_size=2, now=NOW).to_json()
    assert len(response["results"]) == 2
    assert _facet(response, "years") == {"2019": 3, "2020": 3, "2021": 2, "2022": 2}
    assert _facet(response, "providers") == {"Port Times": 5, "Dock Daily": 5}
    assert _facet(response, "topics") == {"Ports": 10, "Weather": 4}
    # largest first
    counts = [item["count"] for item in response["facets"]["topics"]]
    assert counts == sorted(counts, reverse=True)


def test_facets_follow_filters(engine):
    response = search_for(engine, "harbor", topics=["weather"], page_size=1, now=NOW).to_json()
    assert response["total"] == 4
    assert _facet(response, "topics") == {"Ports": 4, "Weather": 4}
    assert sum(_facet(response, "years").values()) == 4
    assert sum(_facet(response, "providers").values()) == 4


def test_facets_of_a_mixed_result_set(engine):
    response = search_for(engine, "oil OR bank", page_size=1, now=NOW).to_json()
    assert response["total"] == 4  # crude oil, shipping, boe, bank holiday
    assert _facet(response, "providers") == {"Reuters": 2, "BBC News": 1, "The Guardian": 1}
    assert _facet(response, "years") == {"2020": 1, "2022": 3}
    assert _facet(response, "topics") == {"Markets": 2, "Energy": 1, "Shipping": 1, "Economy": 1, "Travel": 1,
                                          "Weather": 1}


# ================================================================ sorting and paging


def _dates(results):
    return [r["published"] for r in results]


def test_sort_newest_and_oldest(engine):
    newest = search_for(engine, "harbor", sort="newest", page_size=10, now=NOW).to_json()
    oldest = search_for(engine, "harbor", sort="oldest", page_size=10, now=NOW).to_json()
    expected = sorted(ARTICLES[i]["published"] for i in HARBOR_IDS)
    assert _dates(oldest["results"]) == expected
    assert _dates(newest["results"]) == expected[::-1]
    assert newest["sort"] == "newest" and oldest["sort"] == "oldest"


def test_sort_by_date_applies_across_pages(engine):
    # the newest result on page 1 must be the newest of all, not of a relevance-ranked first page
    first = search_for(engine, "oil OR bank OR zeppelin OR mortgage", sort="newest", page_size=2, now=NOW).to_json()
    assert [r["id"] for r in first["results"]] == [ZEPPELIN, MORTGAGE]
    last = search_for(engine, "oil OR bank OR zeppelin OR mortgage", sort="oldest", page_size=2, now=NOW).to_json()
    assert [r["id"] for r in last["results"]] == [CRUDE, AIRSHIP]


def test_sort_relevance_orders_by_score(engine):
    response = search_for(engine, "harbor OR oil OR zeppelin", page_size=100, now=NOW).to_json()
    scores = [r["score"] for r in response["results"]]
    assert scores == sorted(scores, reverse=True)
    assert response["sort"] == "relevance"


@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest"])
def test_page_two_continues_page_one(engine, sort):
    everything = [r["id"] for r in search_for(engine, "harbor", sort=sort, page_size=10, now=NOW).to_json()["results"]]
    pages = [[r["id"] for r in search_for(engine, "harbor", sort=sort, page=page, page_size=3, now=NOW).to_json()["results"]]
             for page in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [3, 3, 3, 1]
    joined = [doc_id for page in pages for doc_id in page]
    assert len(set(joined)) == 10  # no overlap
    assert joined == everything


def test_page_past_the_end_is_empty_but_counts(engine):
    response = search_for(engine, "harbor", page=5, page_size=3, now=NOW).to_json()
    assert response["results"] == [] and response["total"] == 10 and response["page"] == 5


# ================================================================ filters as options


@pytest.mark.parametrize("options, expected", [
    (dict(topics=["Energy"]), {CRUDE, OILFIELD}),
    (dict(topics=["energy"]), {CRUDE, OILFIELD}),
    (dict(topics=["Energy", "Housing"]), {CRUDE, OILFIELD, MORTGAGE}),
    (dict(topics=["Energy"], sources=["Reuters"]), {CRUDE}),
    (dict(sources=["Reuters"]), {CRUDE, "2022/07/shipping"}),
    (dict(sources=["reuters.com"]), {CRUDE, "2022/07/shipping"}),
    (dict(sources=["BLOOMBERG"]), {OILFIELD}),
    (dict(sources=["bloomberg.com", "ft.com"]), {OILFIELD, MORTGAGE}),
    (dict(topics=["Astrology"]), set()),
    (dict(sources=["nosuchpaper.com"]), set()),
    (dict(topics=["  "]), set()),  # a blank value is no filter, and an empty query then finds nothing
])
def test_topic_and_source_options(engine, options, expected):
    assert all_ids(engine, "", **options) == expected


def test_filter_options_combine_with_words(engine):
    assert all_ids(engine, "oil*", topics=["Energy"]) == {CRUDE, OILFIELD}
    assert all_ids(engine, "oil", sources=["Reuters"], topics=["Shipping"]) == {"2022/07/shipping"}
    assert all_ids(engine, "zeppelin", topics=["Travel"]) == {ZEPPELIN}


def test_filters_alone_browse_newest_first(engine):
    response = search_for(engine, "", topics=["Energy", "Housing"], now=NOW).to_json()
    assert [r["id"] for r in response["results"]] == [MORTGAGE, OILFIELD, CRUDE]
    assert response["sort"] == "newest"
    assert response["query"]["filters"]["topics"] == ["Energy", "Housing"]


def test_empty_query_without_filters_finds_nothing(engine):
    response = search_for(engine, "", now=NOW).to_json()
    assert response["total"] == 0 and response["results"] == []


@pytest.mark.parametrize("options, expected", [
    (dict(since="2022-07", until="2022-07"), {HOLIDAY, SHIPPING}),
    (dict(since="2021-07", until="2021-07"), {AIRSHIP, "2021/07/harbor-golf"}),
    (dict(since="2023"), {MORTGAGE, ZEPPELIN}),
    (dict(since="7d"), {ZEPPELIN}),
    (dict(since=dt.datetime(2023, 1, 1, tzinfo=UTC)), {MORTGAGE, ZEPPELIN}),
    (dict(since=dt.datetime(2023, 1, 1)), {MORTGAGE, ZEPPELIN}),  # naive is UTC
    (dict(until=dt.datetime(2019, 1, 10, tzinfo=UTC)), set()),
    (dict(since="2019-01-10", until="2019-01-10"), {"2019/01/harbor-alpha"}),
    (dict(until="2019-01-10"), {"2019/01/harbor-alpha"}),
])
def test_date_options(engine, options, expected):
    assert all_ids(engine, "", **options) == expected


def test_date_option_and_date_in_query_both_apply(engine):
    # the later 'since' and the earlier 'until' win
    assert all_ids(engine, "since:2022", since="2023") == {MORTGAGE, ZEPPELIN}
    assert all_ids(engine, "since:2023", since="2022") == {MORTGAGE, ZEPPELIN}
    assert all_ids(engine, "until:2022-07", until="2020") & {HOLIDAY, SHIPPING} == set()
    response = search_for(engine, "oil", since="2022", now=NOW).to_json()
    assert response["query"]["filters"]["since"] == "2022-01-01T00:00:00Z"
    assert [r["id"] for r in response["results"]] == [SHIPPING]


# ================================================================ ranking


def test_title_match_ranks_above_body_only_match(engine):
    results = search_for(engine, "zeppelin", now=NOW).to_json()["results"]
    assert [r["id"] for r in results] == [ZEPPELIN, AIRSHIP]
    assert results[0]["score"] > results[1]["score"]


def test_title_match_ranks_above_body_match_in_otherwise_equal_articles(tmp_path):
    data = tmp_path / "data"
    body = "The quarterly review covered staffing, budgets and the new wombat enclosure at the zoo."
    write_article(data, "2021/01/in-body.md", title="Quarterly review of the city zoo", body=body,
                  published="2021-01-01T00:00:00Z")
    write_article(data, "2021/01/in-title.md", title="Quarterly review of the wombat zoo",
                  body=body.replace("wombat", "penguin"), published="2021-01-01T00:00:00Z")
    write_article(data, "2021/01/in-excerpt.md", title="Quarterly review of the zoo park",
                  excerpt="A wombat stole the show.", body=body.replace("wombat", "otter"),
                  published="2021-01-01T00:00:00Z")
    build_index(data, tmp_path / "index")
    eng = Engine(tmp_path / "index", recheck_seconds=0)
    try:
        # title over excerpt over body, whatever the order of the files
        assert ids(search_for(eng, "wombat")) == ["2021/01/in-title", "2021/01/in-excerpt", "2021/01/in-body"]
    finally:
        eng.close()


# ================================================================ articles and stats


def test_article_returns_all_stored_fields(engine):
    article = engine.article(BOE)
    source = ARTICLES[BOE]
    assert article["id"] == BOE
    assert article["path"] == BOE + ".md"
    assert article["title"] == source["title"]
    assert article["excerpt"] == source["excerpt"]
    assert article["body"] == source["body"]
    assert article["url"] == f"https://example.test/{BOE}"
    assert article["original_url"] == "https://orig.test/boe"
    assert article["provider"] == {"name": "BBC News", "domain": "bbc.co.uk"}
    assert article["published"] == "2022-08-04T11:00:00Z"
    assert article["updated"] == "2022-08-05T09:00:00Z"
    assert article["topics"] == ["Economy", "Markets"]
    assert article["image"] == "https://img.test/boe.jpg"
    assert article["category"] == "news" and article["type"] == "article"
    assert article["quality"] == 77 and article["heat"] == 12
    assert article["related"] == [{
        "title": "Pound slips after central bank decision",
        "excerpt": "Sterling fell against the dollar.",
        "url": "https://related.test/pound-slips",
        "provider": "Sky News",
        "domain": "news.sky.com",
        "published": "2022-08-04T13:00:00Z",
    }]
    json.dumps(article)


def test_article_without_optional_fields(engine):
    article = engine.article(ZEPPELIN)
    assert article["category"] == "feature" and article["type"] == "video"
    assert article["related"] == []
    assert article["image"] == ""
    assert article["body"] == "Tourists lined up for tickets at the lake."


@pytest.mark.parametrize("doc_id", ["nope", "", "2022/08/boe-rates.md", "2022/08", "2022/08/BOE-RATES"])
def test_unknown_article_is_none(engine, doc_id):
    assert engine.article(doc_id) is None


def test_stats(engine, archive):
    stats = engine.stats()
    assert stats["documents"] == len(ARTICLES)
    assert stats["size_bytes"] > 0
    top = {item["value"]: item["count"] for item in stats["top_topics"]}
    assert top["Ports"] == 10
    providers = {item["value"]: item["count"] for item in stats["top_providers"]}
    assert providers["Port Times"] == 5 and providers["Reuters"] == 2
    dates = sorted(a["published"] for a in ARTICLES.values() if a.get("published"))
    assert (stats["first_published"], stats["last_published"]) == (dates[0], dates[-1])


# ================================================================ option limits


@pytest.mark.parametrize("options", [dict(page=1000), dict(page_size=1), dict(page_size=100)])
def test_option_limits_are_inclusive(engine, options):
    response = search_for(engine, "oil", now=NOW, **options)
    assert (response.page, response.page_size) == (options.get("page", 1), options.get("page_size", 10))
    assert response.total == 2  # CRUDE and SHIPPING
    skipped = (response.page - 1) * response.page_size
    assert len(response.hits) == max(0, min(response.page_size, response.total - skipped))


def test_missing_index(tmp_path):
    eng = Engine(tmp_path / "nothing-here")
    with pytest.raises(NoIndex):
        search_for(eng, "oil")


# ================================================================ a rebuilt or updated index is picked up


def test_engine_sees_a_rebuilt_index(tmp_path):
    data, index = tmp_path / "data", tmp_path / "index"
    write_article(data, "2021/01/first.md", title="First walrus sighting", published="2021-01-01T00:00:00Z")
    build_index(data, index)
    eng = Engine(index, recheck_seconds=0)
    try:
        assert ids(search_for(eng, "walrus")) == ["2021/01/first"]
        assert eng.article("2021/01/second") is None

        write_article(data, "2021/02/second.md", title="Second walrus sighting", published="2021-02-01T00:00:00Z")
        build_index(data, index)
        assert set(ids(search_for(eng, "walrus"))) == {"2021/01/first", "2021/02/second"}
        assert eng.article("2021/02/second")["title"] == "Second walrus sighting"
        assert eng.stats()["documents"] == 2

        (data / "2021/01/first.md").unlink()
        build_index(data, index)
        assert ids(search_for(eng, "walrus")) == ["2021/02/second"]
        assert eng.article("2021/01/first") is None
    finally:
        eng.close()


def test_engine_sees_an_update(tmp_path):
    data, index = tmp_path / "data", tmp_path / "index"
    write_article(data, "2021/01/first.md", title="First walrus sighting", published="2021-01-01T00:00:00Z")
    build_index(data, index)
    eng = Engine(index, recheck_seconds=0)
    try:
        assert search_for(eng, "walrus").total == 1
        write_article(data, "2021/02/second.md", title="Second walrus sighting", published="2021-02-01T00:00:00Z")
        indexer.update(data, IndexHome(index))
        assert search_for(eng, "walrus").total == 2
        assert search_for(eng, "second").to_json()["results"][0]["id"] == "2021/02/second"
    finally:
        eng.close()


def test_engine_rechecks_at_most_every_recheck_seconds(tmp_path):
    data, index = tmp_path / "data", tmp_path / "index"
    write_article(data, "2021/01/first.md", title="First walrus sighting", published="2021-01-01T00:00:00Z")
    build_index(data, index)
    eng = Engine(index, recheck_seconds=3600)
    try:
        assert search_for(eng, "walrus").total == 1
        write_article(data, "2021/02/second.md", title="Second walrus sighting", published="2021-02-01T00:00:00Z")
        build_index(data, index)
        assert search_for(eng, "walrus").total == 1  # still the searcher it had
        eng.recheck_seconds = 0
        assert search_for(eng, "walrus").total == 2
    finally:
        eng.close()


# ================================================================ the sample archive in data/


SAMPLE = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def sample_engine(tmp_path_factory):
    index = tmp_path_factory.mktemp("sample") / "index"
    report = indexer.build(SAMPLE, IndexHome(index), workers=1)
    assert report.indexed == 52 and not report.skipped, report.to_json()
    eng = Engine(index, recheck_seconds=0)
    yield eng
    eng.close()


def test_sample_archive_counts_by_year(sample_engine):
    # data/README.md: 16 articles from 2020, 18 from 2021, 14 from 2022 and 4 from 2023
    response = search_for(sample_engine, "", since="2000", page_size=5, collapse=False).to_json()
    assert response["total"] == 52
    collapsed = search_for(sample_engine, "", since="2000", page_size=5).to_json()
    assert collapsed["total"] < 52  # the syndicated copies are one result each
    assert collapsed["facets"] == response["facets"]  # facets count every article
    assert _facet(response, "years") == {"2020": 16, "2021": 18, "2022": 14, "2023": 4}
    assert sample_engine.stats()["documents"] == 52


@pytest.mark.parametrize("marker", ["quokkaTracker", "gtagConfig", "zebraBanner"])
def test_sample_archive_script_and_style_text_is_not_searchable(sample_engine, marker):
    assert search_for(sample_engine, marker).total == 0


@pytest.mark.parametrize("query, slug", [
    ('"code red for humanity"', "2021-08-09-ipcc-"),
    ('"to the moon"', "2021-01-27-gamestops-to-the-moon"),
    ("CVE-2021-44228", "2021-12-10-log4shell-"),
    ("e-commerce", "2021-03-11-coupang-"),
    ("AT&T", "2020-12-03-at-and-ts-warnermedia"),
    ("societe generale", "2020-02-06-societe-generale-"),
])
def test_sample_archive_words_worth_searching_for(sample_engine, query, slug):
    response = search_for(sample_engine, query, page_size=100)
    assert response.total >= 1
    assert response.hits[0].id.split("/")[-1].startswith(slug), ids(response)


def test_sample_archive_accented_and_plain_spellings_match_alike(sample_engine):
    assert set(ids(search_for(sample_engine, "Zürich", page_size=100))) == set(ids(search_for(sample_engine, "zurich", page_size=100)))
    assert search_for(sample_engine, "zurich").total >= 1


def test_articles_without_a_date(tmp_path):
    data = tmp_path / "data"
    write_article(data, "a.md", title="Walrus one", published="2021-01-01T00:00:00Z")
    write_article(data, "b.md", title="Walrus two")
    write_article(data, "c.md", title="Walrus three", published="2022-01-01T00:00:00Z")
    build_index(data, tmp_path / "index")
    eng = Engine(tmp_path / "index", recheck_seconds=0)
    try:
        response = search_for(eng, "walrus", sort="newest").to_json()
        assert [r["id"] for r in response["results"]] == ["c", "a", "b"]
        assert response["results"][2]["published"] is None
        assert _facet(response, "years") == {"2021": 1, "2022": 1}
        oldest = [r["id"] for r in search_for(eng, "walrus", sort="oldest").to_json()["results"]]
        assert [i for i in oldest if i != "b"] == ["a", "c"]
        # a date filter leaves out articles without a date
        assert set(ids(search_for(eng, "walrus", since="2000"))) == {"a", "c"}
        assert set(ids(search_for(eng, "walrus", until="2030"))) == {"a", "c"}
    finally:
        eng.close()


def test_engine_is_safe_to_share_between_threads(tmp_path):
    # Whoosh readers share file positions: unserialised, concurrent searches
    # over posting lists longer than one block read each other's data.
    import random
    import sys
    import threading

    words = "harbor oil rates bank shipping zeppelin market wheat gold copper".split()
    data, index = tmp_path / "data", tmp_path / "index"
    chooser = random.Random(7)
    for n in range(1500):
        text = " ".join(chooser.choice(words) for _ in range(30))
        (data / f"{n:04d}.md").parent.mkdir(parents=True, exist_ok=True)
        (data / f"{n:04d}.md").write_text(f"---\ntitle: Story {n}\n---\n{text}\n", encoding="utf-8")
    build_index(data, index)
    eng = Engine(index)
    queries = [f"{a} {b}" for a in words for b in words if a < b]
    expected = {q: search_for(eng, q).total for q in queries}
    failures = []

    def hammer(offset):
        for n in range(40):
            q = queries[(n * 7 + offset) % len(queries)]
            try:
                if search_for(eng, q).total != expected[q]:
                    failures.append(f"wrong total for {q}")
            except Exception as exc:  # collected and reported below
                failures.append(repr(exc))

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(6)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, as a busy server does
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    eng.close()
    assert failures == []


def test_a_search_past_its_time_budget_answers_with_what_it_has_marked_partial(tmp_path, monkeypatch):
    from search import engine as engine_module

    data = tmp_path / "data"
    for number in range(40):
        write_article(data, f"2022/01/harbor-{number:02d}.md", title=f"Harbor report {number}",
                      excerpt="Weekly harbor traffic.", published="2022-01-03T10:00:00Z")
    build_index(data, tmp_path / "index")
    slow = Engine(tmp_path / "index", time_budget=0)  # the budget is gone before the first segment
    monkeypatch.setattr(engine_module, "CLOCK_EVERY", 1)
    response = search_for(slow, "title:harbor", now=NOW)  # a title search is walked match by match
    assert response.partial and response.to_json()["partial"] is True
    assert "partial" in [note.code for note in response.notes] and response.total < 40
    roomy = Engine(tmp_path / "index", time_budget=60)
    full = search_for(roomy, "title:harbor", now=NOW)
    assert not full.partial and full.total == 40 and "partial" not in [note.code for note in full.notes]


def test_a_query_of_many_parts_stops_at_its_deadline_between_parts(tmp_path, monkeypatch):
    """A search in the background pauses at every part's checkpoint: past its budget it
    must answer with what it has instead of scoring the rest of its parts."""
    from search import engine as engine_module

    data = tmp_path / "data"
    words = [f"word{number}" for number in range(12)]
    for number, word in enumerate(words):
        write_article(data, f"2022/01/a-{number:02d}.md", title=f"{word} report", excerpt="Weekly.",
                      published="2022-01-03T10:00:00Z")
    build_index(data, tmp_path / "index")
    monkeypatch.setattr(engine_module, "checkpoint", lambda: time.sleep(0.03))  # as if paused for others
    query = " OR ".join(words)
    hurried = search_for(Engine(tmp_path / "index", time_budget=0.1), query, now=NOW)
    assert hurried.partial and "partial" in [note.code for note in hurried.notes]
    roomy = search_for(Engine(tmp_path / "index", time_budget=60), query, now=NOW)
    assert not roomy.partial and roomy.total == 12
