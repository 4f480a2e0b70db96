"""What the page says about the archive (issue 9): totals that say what they count, date inputs that
show the active range, empty results that explain themselves, date presets that stay relative to
today but know where the archive ends, and a home page made from the archive itself.

Two small archives built here: ``OLD`` ends on 20 Feb 2023 (long before today), with one story
syndicated three times; ``recent`` (made at test time) ends two days before today.
"""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import urlsplit

import pytest

from search.engine import Engine
from search.indexer import IndexHome, update
from web import create_app

from helpers import P, build_index, write_archive
from test_web_api import Page, local, page_of, params_of, shows_total

UTC = dt.timezone.utc

OLD = {
    "2021/01/grain-first": dict(
        title="Grain exports climb as harvest beats forecasts", excerpt="Wheat and corn shipments rose.",
        published="2021-01-05T09:00:00Z", provider=P("Reuters", "reuters.com"), topics=["Grain", "Trade"]),
    "2022/06/grain-prices": dict(
        title="Grain prices steady after record wheat harvest", excerpt="Farmers sold more wheat than ever.",
        published="2022-06-10T09:00:00Z", provider=P("BBC News", "bbc.co.uk"), topics=["Grain"]),
    "2022/11/port-congestion": dict(
        title="Port congestion eases as container ships clear backlog", excerpt="Harbour queues shortened.",
        published="2022-11-02T09:00:00Z", provider=P("Reuters", "reuters.com"), topics=["Ports", "Trade"]),
    "2023/02/strike-reuters": dict(
        title="Harbour strike ends after dockers accept pay deal", excerpt="Dockers voted to return to work.",
        published="2023-02-18T08:00:00Z", provider=P("Reuters", "reuters.com"), topics=["Ports"]),
    "2023/02/strike-bbc": dict(
        title="Harbour strike ends after dockers accept pay deal", excerpt="The harbour reopens on Monday.",
        published="2023-02-19T08:00:00Z", provider=P("BBC News", "bbc.co.uk"), topics=["Ports"]),
    "2023/02/strike-ap": dict(
        title="Dockers accept pay deal, harbour strike ends", excerpt="Union members backed the offer.",
        published="2023-02-20T08:00:00Z", provider=P("Associated Press", "apnews.com"), topics=["Ports"]),
}


@pytest.fixture(scope="module")
def old_archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("old-archive")
    data = write_archive(root / "data", OLD)
    build_index(data, root / "index")
    return data, root / "index"


@pytest.fixture(scope="module")
def old(old_archive):
    data, index = old_archive
    return create_app(index, data, engine=Engine(index, recheck_seconds=0)).test_client()


def get(client, url: str) -> Page:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return page_of(response)


def api(client, url: str) -> dict:
    query = urlsplit(url).query
    response = client.get("/api/search?" + query)
    assert response.status_code == 200
    return response.get_json()


def input_value(page: Page, name: str) -> str:
    (found,) = [attrs for attrs in page.find("input") if attrs.get("name") == name and attrs.get("type") == "date"]
    return found.get("value", "")


def link(page: Page, text: str) -> str:
    """The href of the one link whose text contains ``text``."""
    found = [item["href"] for item in page.links if text in " ".join(item["text"].split())]
    assert len(found) == 1, (text, found)
    return found[0]


# ---------------------------------------------------------------- date inputs


@pytest.mark.parametrize("query, since, until", [
    ("since=2022-07-08", "2022-07-08", ""),
    ("since=2022-07&until=2022", "2022-07-01", "2022-12-31"),
    ("until=2023-02", "", "2023-02-28"),
    ("since=2022&until=2022-06-10", "2022-01-01", "2022-06-10"),
    ("", "", ""),
])
def test_the_date_inputs_show_the_active_range(old, query, since, until):
    page = get(old, f"/?q=grain&{query}")
    assert (input_value(page, "since"), input_value(page, "until")) == (since, until)


def test_the_date_inputs_show_a_relative_range_as_its_first_day(old):
    before = (dt.datetime.now(UTC) - dt.timedelta(days=7)).date().isoformat()
    page = get(old, "/?q=grain&since=7d")
    after = (dt.datetime.now(UTC) - dt.timedelta(days=7)).date().isoformat()
    assert input_value(page, "since") in (before, after) and input_value(page, "until") == ""


# ---------------------------------------------------------------- totals


def test_totals_say_stories_and_articles_when_copies_are_folded(old):
    page = get(old, "/?q=harbour")
    body = api(old, "/?q=harbour")
    assert body["total"] == 2  # the strike (three copies) and the port story
    assert "2 stories (4 articles)" in page.text
    # The facet counts count articles, and the page says so.
    assert "counts below are articles" in page.text and "every copy of a story counts" in page.text
    ports = next(item for item in body["facets"]["topics"] if item["value"] == "Ports")
    assert ports["count"] == 4
    # Every copy listed: articles only.
    unfolded = get(old, "/?q=harbour&collapse=0")
    assert "4 articles" in unfolded.text and "stories" not in unfolded.text.split("·")[0]
    # Nothing folded: articles only.
    grain = get(old, "/?q=grain")
    assert shows_total(grain, 2) and "2 articles" in grain.text and "stor" not in grain.text


def test_a_later_page_counts_the_same_way(old):
    page = get(old, "/?q=harbour&size=1&page=2")
    assert "2–2 of 2 stories (4 articles)" in page.text


# ---------------------------------------------------------------- empty results


def test_empty_results_name_each_filter_with_a_link_that_drops_it(old):
    url = "/?q=wheat&topic=Ports&source=Reuters&until=2022-12"
    page = get(old, url)
    assert api(old, url)["total"] == 0
    text = page.text
    for shown in ("Topic: Ports", "Source: Reuters", "Until: 31 Dec 2022"):
        assert shown in text
    drops = [item["href"] for item in page.links if "without it" in item["text"]]
    assert sorted(map(params_of, drops), key=sorted) == sorted([
        {"q": ["wheat"], "source": ["Reuters"], "until": ["2022-12"]},
        {"q": ["wheat"], "topic": ["Ports"], "until": ["2022-12"]},
        {"q": ["wheat"], "topic": ["Ports"], "source": ["Reuters"]},
    ], key=sorted)
    # Without every filter, the words find articles.
    everything = link(page, "Search all articles for")
    assert params_of(everything) == {"q": ["wheat"]} and api(old, local(everything))["total"] == 2


def test_a_date_after_the_archive_says_where_it_ends_and_offers_its_own_dates(old):
    page = get(old, "/?q=harbour&since=2025-01")
    assert "this archive ends on 20 Feb 2023" in page.text
    assert "covers 5 Jan 2021 to 20 Feb 2023" in page.text
    drop = next(item["href"] for item in page.links if "without it" in item["text"])
    assert params_of(drop) == {"q": ["harbour"]}
    # "its last month": the same words over the archive's own last month find the strike.
    last_month = [item["href"] for item in page.links if item["text"].strip() == "its last month"]
    assert last_month and params_of(last_month[0]) == {"q": ["harbour"], "since": ["2023-01-20"]}
    assert api(old, local(last_month[0]))["total"] == 1


def test_a_date_typed_in_the_words_is_explained_too(old):
    page = get(old, "/?q=harbour+since:2030")
    assert "this archive ends on 20 Feb 2023" in page.text and "out of the search words" in page.text
    # No link that keeps the typed date and adds another: it could only be empty too.
    assert not [item for item in page.links if item["text"].strip().startswith("its last")]


def test_a_date_before_the_archive_says_where_it_begins(old):
    page = get(old, "/?q=harbour&until=2020-06")
    assert "this archive begins on 5 Jan 2021" in page.text and "covers 5 Jan 2021 to 20 Feb 2023" in page.text


def test_a_back_to_front_range_says_so_and_offers_to_swap(old):
    page = get(old, "/?q=grain&since=2022-12&until=2022-01")
    assert "back to front" in page.text and "starts on 1 Dec 2022" in page.text and "ends on 31 Jan 2022" in page.text
    swap = link(page, "Swap the dates")
    assert params_of(swap) == {"q": ["grain"], "since": ["2022-01"], "until": ["2022-12"]}
    assert api(old, local(swap))["total"] == 1


def test_filters_alone_that_find_nothing_explain_themselves(old):
    page = get(old, "/?topic=Grain&since=2023")
    assert "No articles match these filters" in page.text
    assert "Topic: Grain" in page.text and "browse without it" in page.text
    assert "From: 1 Jan 2023" in page.text


def test_an_explained_filter_is_escaped(old):
    page = old.get("/?q=wheat&topic=<b>bold</b>&source=\"><script>x</script>").get_data(as_text=True)
    assert "<b>bold</b>" not in page and "<script>x</script>" not in page
    assert "Topic: &lt;b&gt;bold&lt;/b&gt;" in page


# ---------------------------------------------------------------- date presets


def preset_links(page: Page) -> dict[str, dict]:
    labels = ("Past day", "Past week", "Past month", "Past year", "The archive's last")
    return {" ".join(item["text"].split()): params_of(item["href"]) for item in page.links
            if any(" ".join(item["text"].split()).startswith(label) for label in labels)}


def test_presets_that_can_only_be_empty_give_way_to_the_archive_s_own(old):
    page = get(old, "/?q=harbour")
    presets = preset_links(page)
    assert not any(label.startswith("Past") for label in presets)
    assert "This archive ends on 20 Feb 2023" in page.text
    assert presets["The archive's last week"] == {"q": ["harbour"], "since": ["2023-02-13"]}
    assert presets["The archive's last year"] == {"q": ["harbour"], "since": ["2022-02-20"]}
    assert api(old, "/?q=harbour&since=2023-02-13")["total"] == 1
    # Chosen, it is named as such.
    chosen = get(old, "/?q=harbour&since=2023-02-13")
    assert "The archive's last week" in chosen.text and "1 story (3 articles)" in chosen.text


def test_an_active_preset_stays_visible_even_if_empty(old):
    presets = preset_links(get(old, "/?q=harbour&since=7d"))
    assert presets["Past week"] == {"q": ["harbour"], "since": ["7d"]}
    assert "Past day" not in presets


@pytest.fixture(scope="module")
def recent(tmp_path_factory):
    """An archive whose newest article is two days old, and another from 200 days ago."""
    now = dt.datetime.now(UTC)
    root = tmp_path_factory.mktemp("recent")
    data = write_archive(root / "data", {
        "new/ferry": dict(title="Ferry service resumes", published=(now - dt.timedelta(days=2)).isoformat(),
                          provider=P("Reuters", "reuters.com"), topics=["Ports"]),
        "old/ferry": dict(title="Ferry service halted", published=(now - dt.timedelta(days=200)).isoformat(),
                          provider=P("Reuters", "reuters.com"), topics=["Ports"]),
    })
    build_index(data, root / "index")
    return create_app(root / "index", data).test_client()


def test_presets_stay_relative_to_today_where_they_can_find_something(recent):
    page = get(recent, "/?q=ferry")
    presets = preset_links(page)
    for label, value in (("Past week", "7d"), ("Past month", "1m"), ("Past year", "1y")):
        assert presets[label] == {"q": ["ferry"], "since": [value]}
    assert api(recent, "/?q=ferry&since=7d")["total"] == 1
    # Only the past day can only be empty: it is hidden, and the archive's last day offered.
    assert "Past day" not in presets and "The archive's last day" in presets
    assert "The archive's last week" not in presets
    assert "This archive ends on" in page.text


# ---------------------------------------------------------------- home page


def test_the_home_page_shows_the_archive_s_span_and_its_newest_stories(old):
    page = get(old, "/")
    assert "6 articles published from 5 Jan 2021 to 20 Feb 2023" in page.text
    newest = api(old, "/?since=2021&sort=newest")["results"]
    # Newest first, each story once (the strike's copies folded into one).
    assert page.article_ids() == [r["id"] for r in newest]
    assert page.article_ids()[0].startswith("2023/02/strike-") and len(page.article_ids()) == 4
    assert "and 2 more sources" in page.text


def test_every_example_search_finds_results_with_all_its_words(old, recent):
    for client in (old, recent):
        page = get(client, "/")
        examples = [item["href"] for item in page.links if item["attrs"].get("class") == "example"]
        assert len(examples) >= 3
        for href in examples:
            body = api(client, local(href))
            assert body["total"] > 0 and not body["query"]["fallback"], (href, body["query"])
            assert not (body["query"]["spelling"] or {}).get("applied")
    # Made of the archive's own words: nothing from a hard-coded list of other years' news.
    texts = [params_of(href)["q"][0] for href in examples]
    assert not any("covid" in text or "2022" in text for text in texts)


def test_the_home_page_follows_an_update(tmp_path):
    data = write_archive(tmp_path / "data", dict(list(OLD.items())[:2]))
    index = tmp_path / "index"
    build_index(data, index)
    client = create_app(index, data, engine=Engine(index, recheck_seconds=0)).test_client()
    assert "to 10 Jun 2022" in get(client, "/").text
    assert "ends on 10 Jun 2022" in get(client, "/?q=grain").text
    write_archive(data, {"2023/03/late": dict(title="Late grain shipment arrives", published="2023-03-01T00:00:00Z",
                                              provider=P("Reuters", "reuters.com"), topics=["Grain"])})
    update(data, IndexHome(index))
    # The results page asks for the span again at once; the home page shows the new one when computed.
    assert "ends on 1 Mar 2023" in get(client, "/?q=grain").text
    for _ in range(200):
        if "to 1 Mar 2023" in get(client, "/").text:
            break
        time.sleep(0.05)  # polling for the home page's refresh thread; no timing is asserted
    page = get(client, "/")
    assert "to 1 Mar 2023" in page.text and page.article_ids()[0] == "2023/03/late"


def test_the_home_page_renders_without_an_index(tmp_path):
    client = create_app(tmp_path / "none", tmp_path).test_client()
    response = client.get("/")
    assert response.status_code == 200
    assert page_of(response).article_ids() == []


def test_the_home_page_is_worked_out_once_for_every_server_thread(tmp_path, monkeypatch):
    # Each thread searches with a lane of its own; the cache belongs to the index state they share.
    from concurrent.futures import ThreadPoolExecutor

    from web import archive

    data = write_archive(tmp_path / "data", OLD)
    index = tmp_path / "index"
    build_index(data, index)
    client = create_app(index, data, engine=Engine(index, recheck_seconds=60)).test_client()
    computed = []
    real_front = archive._front
    monkeypatch.setattr(archive, "_front", lambda: computed.append(1) or real_front())
    first = get(client, "/")  # get() asserts a 200
    with ThreadPoolExecutor(4) as pool:
        pages = list(pool.map(lambda _: get(client, "/"), range(8)))
    assert len(computed) == 1 and all(page.article_ids() == first.article_ids() for page in pages)
