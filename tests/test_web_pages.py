"""Web pages: landing, results (facets, sort, paging, timeline, notes, empty
state), article, error pages, the Atom feed, OpenSearch, static files and
the app factory. Assertions are on meaning (text, links, parameters), not
on markup or CSS classes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from search.querying import Note
from search.results import SearchResponse
from web import create_app, presenting

from helpers import ALL_COUNT, ARTICLES, BOE, EXTRA, HARBOR_IDS
from test_web_api import Page, local, page_of, params_of, shows_total

ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


def get_page(client, url: str, status: int = 200) -> Page:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "text/html"
    return page_of(response)


def api(client, url: str) -> dict:
    """The API's answer for the same query string as the page ``url``."""
    query = urlsplit(url).query
    response = client.get("/api/search" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def links_with(doc: Page, **wanted) -> list[str]:
    """hrefs whose query has exactly these parameters (values: str or list)."""
    wanted = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    return [href for href in doc.hrefs() if urlsplit(href).path in ("", "/") and "?" in href
            and params_of(href) == wanted]


def published_forms(iso: str) -> list[str]:
    """How a page may show a date: 8 Jul 2022, Jul 8, 2022, 2022-07-08."""
    year, month, day = int(iso[:4]), int(iso[5:7]), int(iso[8:10])
    name = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][month - 1]
    return [f"{day} {name} {year}", f"{name} {day}, {year}", iso[:10], f"{day:02d} {name} {year}"]


# ---------------------------------------------------------------- landing and results


def test_landing_page_has_a_search_form(client):
    page = get_page(client, "/")
    boxes = [attrs for attrs in page.find("input") if attrs.get("name") == "q"]
    assert boxes, "no search box"
    forms = page.find("form")
    assert any(local(f.get("action") or "/") == "/" and f.get("method", "get").lower() == "get" for f in forms)
    # The only articles linked are the newest (tests/test_web_archive.py checks which).
    newest = api(client, "/?since=1900&sort=newest&size=100")["results"]
    assert set(page.article_ids()) <= {r["id"] for r in newest}
    assert page.text


def test_results_show_titles_providers_dates_and_total(client):
    url = "/?q=bank"
    page = get_page(client, url)
    body = api(client, url)
    assert body["total"] >= 2 and shows_total(page, body["total"])
    assert page.article_ids() == [r["id"] for r in body["results"]]
    for result in body["results"]:
        assert result["title"] in page.text
        assert result["provider"]["name"] in page.text
    boe = next(r for r in body["results"] if r["id"] == BOE)
    assert any(form in page.text for form in published_forms(boe["published"])) or \
        any(attrs.get("datetime", "").startswith("2022-08-04") for attrs in page.find("time"))
    # The original article is linked (it is a safe http(s) URL).
    assert f"https://example.test/{BOE}" in page.hrefs()


@pytest.mark.parametrize("q", ["bank", 'bank & "rates"', "café <b>", "since:2022 oil"])
def test_query_is_kept_in_the_search_box(client, q):
    response = client.get("/", query_string={"q": q})
    assert response.status_code == 200
    page = page_of(response)
    assert [attrs.get("value") for attrs in page.find("input") if attrs.get("name") == "q"][0] == q


def test_topic_facet_narrows_and_can_be_removed(client):
    url = "/?q=harbor"
    page = get_page(client, url)
    total = api(client, url)["total"]
    assert total == 10 and shows_total(page, total)
    hrefs = links_with(page, q="harbor", topic="Weather")
    assert hrefs, "no link filtering by the Weather topic"
    assert all(h.startswith(("/?", "?")) for h in hrefs)
    narrowed_url = local(hrefs[0], url)
    narrowed = get_page(client, narrowed_url)
    narrowed_total = api(client, narrowed_url)["total"]
    assert 0 < narrowed_total < total and shows_total(narrowed, narrowed_total)
    assert set(narrowed.article_ids()) == {r["id"] for r in api(client, narrowed_url)["results"]}
    assert all("Weather" in ARTICLES[i]["topics"] for i in narrowed.article_ids())
    assert "Weather" in narrowed.text
    removal = links_with(narrowed, q="harbor")
    assert removal, "the active topic filter has no removal link"
    restored = get_page(client, local(removal[0], narrowed_url))
    assert shows_total(restored, total) and len(restored.article_ids()) == 10


def test_provider_facet_narrows(client):
    url = "/?q=harbor"
    page = get_page(client, url)
    hrefs = links_with(page, q="harbor", source="Port Times") + links_with(page, q="harbor", source="porttimes.com")
    assert hrefs
    narrowed_url = local(hrefs[0], url)
    narrowed = get_page(client, narrowed_url)
    assert shows_total(narrowed, 5)
    assert {ARTICLES[i]["provider"]["name"] for i in narrowed.article_ids()} == {"Port Times"}
    assert links_with(narrowed, q="harbor"), "the active source filter has no removal link"


def test_year_facet_narrows_to_that_year(client):
    url = "/?q=harbor"
    page = get_page(client, url)
    years = {item["value"]: item["count"] for item in api(client, url)["facets"]["years"]}
    assert years == {"2019": 3, "2020": 3, "2021": 2, "2022": 2}
    for year, count in years.items():
        hrefs = [link["href"] for link in page.links if link["href"] and not link["in_svg"]
                 and params_of(link["href"]).get("q") == ["harbor"]
                 and params_of(link["href"]).get("since", [""])[0].startswith(year)
                 and params_of(link["href"]).get("until", [""])[0].startswith(year)]
        assert hrefs, f"no link for the year {year}"
        narrowed_url = local(hrefs[0], url)
        body = api(client, narrowed_url)
        assert body["total"] == count
        assert all(r["published"].startswith(year) for r in body["results"])
        assert shows_total(get_page(client, narrowed_url), count)


def test_sort_links_change_the_order(client):
    url = "/?q=harbor"
    page = get_page(client, url)
    orders = {}
    for sort in ("newest", "oldest"):
        hrefs = links_with(page, q="harbor", sort=sort)
        assert hrefs, f"no link sorting by {sort}"
        sorted_url = local(hrefs[0], url)
        ids = get_page(client, sorted_url).article_ids()
        assert ids == [r["id"] for r in api(client, sorted_url)["results"]]
        orders[sort] = ids
    assert orders["newest"] == orders["oldest"][::-1]
    assert orders["newest"] == sorted(HARBOR_IDS, key=lambda i: ARTICLES[i]["published"], reverse=True)
    newest = get_page(client, "/?q=harbor&sort=newest")
    back = links_with(newest, q="harbor") + links_with(newest, q="harbor", sort="relevance")
    assert back, "no link back to relevance order"
    assert get_page(client, local(back[0], "/?q=harbor&sort=newest")).article_ids() == page.article_ids()


def test_pagination_links_keep_the_query_and_filters(client):
    url = "/?q=harbor&topic=Ports&size=3"
    page = get_page(client, url)
    paged = [h for h in page.hrefs() if "page" in params_of(h)]
    assert paged, "no pagination links"
    for href in paged:
        params = params_of(href)
        assert params["q"] == ["harbor"] and params["topic"] == ["Ports"] and params["size"] == ["3"], href
    second = links_with(page, q="harbor", topic="Ports", size="3", page="2")
    assert second
    second_url = local(second[0], url)
    page2 = get_page(client, second_url)
    assert page2.article_ids() == [r["id"] for r in api(client, second_url)["results"]]
    assert len(page2.article_ids()) == 3 and not set(page2.article_ids()) & set(page.article_ids())
    first = links_with(page2, q="harbor", topic="Ports", size="3") + \
        links_with(page2, q="harbor", topic="Ports", size="3", page="1")
    assert first and get_page(client, local(first[0], second_url)).article_ids() == page.article_ids()
    last = links_with(page, q="harbor", topic="Ports", size="3", page="4")
    assert last and len(get_page(client, local(last[0], url)).article_ids()) == 1


@pytest.mark.parametrize("q", ["harbor", "bank"])
def test_timeline_bars_link_to_their_period(client, q):
    url = f"/?q={q}"
    page = get_page(client, url)
    assert page.find("svg")
    timeline = api(client, url)["timeline"]
    counts = {b["period"]: b["count"] for b in timeline["buckets"]}
    bars = [link["href"] for link in page.links if link["in_svg"] and link["href"]
            and {"since", "until"} <= set(params_of(link["href"]))]
    assert len(bars) == sum(1 for c in counts.values() if c), bars
    for href in bars:
        params = params_of(href)
        assert params["q"] == [q]
        period = params["since"][0]
        assert period in counts and params["until"] == [period]
        narrowed_url = local(href, url)
        body = api(client, narrowed_url)
        assert body["total"] == counts[period]
        assert all(r["published"].startswith(period) for r in body["results"])
        assert set(get_page(client, narrowed_url).article_ids()) == {r["id"] for r in body["results"]}


def test_empty_result_shows_the_text_and_a_way_to_broaden(client):
    url = "/?q=bank&topic=Aviation"
    assert api(client, url)["total"] == 0
    page = get_page(client, url)
    assert "bank" in page.text and page.article_ids() == []
    assert shows_total(page, 0)
    broader = links_with(page, q="bank")
    assert broader, "no link to search without the filters"
    wider = get_page(client, local(broader[0], url))
    assert wider.article_ids() and shows_total(wider, api(client, "/?q=bank")["total"])
    plain = get_page(client, "/?q=zzyzxqq")
    assert "zzyzxqq" in plain.text and plain.article_ids() == []


@pytest.mark.parametrize("q", ['"bank', "bank zzyzxqq", "(bank", "since:nonsense bank"])
def test_notes_are_shown(client, q):
    response = client.get("/", query_string={"q": q})
    page = page_of(response)
    notes = client.get("/api/search", query_string={"q": q}).get_json()["query"]["notes"]
    assert notes
    for note in notes:
        assert note in page.text


def test_notes_are_chosen_by_their_code_not_their_wording(app, client, monkeypatch):
    """The applied correction's note is left out (the spelling line says it), whatever its wording;
    a note of another kind is shown even if it reads like one."""
    answer = SearchResponse(
        text="cofee", read_as="coffee", fallback=True, sort="relevance", total=0, page=1, page_size=10,
        filters={"topics": [], "sources": [], "since": None, "until": None},
        notes=[Note("spelling_applied", "Corrected cofee to coffee."),
               Note("fallback", "No results for 'cofee' with every word.")],
        spelling={"corrected": "coffee", "applied": True},
    )
    monkeypatch.setattr(app.config["ENGINE"], "search", lambda request: answer)
    page = get_page(client, "/?q=cofee")
    assert "No results for 'cofee' with every word." in page.text
    assert "Corrected cofee to coffee." not in page.text
    answer.spelling = {"corrected": "coffee", "applied": False}
    assert "Corrected cofee to coffee." in get_page(client, "/?q=cofee").text


def hidden_fields_per_form(markup: str) -> list[list[tuple[str, str]]]:
    return [re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form)
            for form in re.findall(r"<form\b.*?</form>", markup, re.S)]


def test_both_forms_carry_the_whole_search_state_but_their_own_fields(client):
    state = [("q", "harbor"), ("topic", "Ports"), ("source", "Port Times"), ("since", "2019"), ("until", "2022"),
             ("sort", "newest"), ("size", "5"), ("collapse", "0"), ("correct", "0")]
    response = client.get("/", query_string=state + [("page", "2")])
    header, date_range = hidden_fields_per_form(response.get_data(as_text=True))
    assert header == [pair for pair in state if pair[0] != "q"]  # the box is the header form's own q
    assert date_range == [pair for pair in state if pair[0] not in ("since", "until")]


def test_the_timeline_is_drawn_at_the_size_presenting_gives(client):
    markup = client.get("/?q=harbor").get_data(as_text=True)
    assert f'viewBox="0 0 {presenting.CHART_WIDTH} {presenting.CHART_HEIGHT}"' in markup
    assert f'height="{presenting.CHART_HEIGHT}"/>' in markup


def test_filters_alone_browse_newest_first(client):
    url = "/?topic=Energy"
    page = get_page(client, url)
    body = api(client, url)
    assert body["total"] == 2 and page.article_ids() == [r["id"] for r in body["results"]]
    assert "Energy" in page.text


# ---------------------------------------------------------------- article and error pages


def test_article_page(client):
    page = get_page(client, f"/article/{BOE}")
    fields = ARTICLES[BOE]
    assert fields["title"] in page.text
    assert fields["body"] in page.text
    assert fields["excerpt"] in page.text
    assert "BBC News" in page.text
    assert any(form in page.text for form in published_forms(fields["published"])) or \
        any(attrs.get("datetime", "").startswith("2022-08-04") for attrs in page.find("time"))
    related = fields["related"][0]
    link = next((l for l in page.links if l["href"] == related["webUrl"]), None)
    assert link and related["title"] in link["text"]
    similar = client.get(f"/api/articles/{BOE}").get_json()["similar"]
    assert similar
    shown = [i for i in page.article_ids() if i != BOE]
    assert shown == [hit["id"] for hit in similar]
    for hit in similar:
        assert hit["title"] in page.text
    assert not page.find("img")  # thumbnails are off by default (see test_web_security)


def test_article_page_shows_extra_fields(client):
    page = get_page(client, f"/article/{EXTRA}")
    assert "Pelican census counts record numbers" in page.text
    for text in ("tags", "birds", "estuary", "observers", "score_card"):
        assert text in page.text


@pytest.mark.parametrize("path", ["/article/nope", "/article/2022/08/nope", "/nowhere"])
def test_missing_pages_are_friendly_404s(client, path):
    page = get_page(client, path, status=404)
    assert "Traceback" not in page.markup and "werkzeug" not in page.markup.lower()
    assert "/" in [local(h) for h in page.hrefs()], "no way back to the search page"
    if path.startswith("/article/"):
        assert path[len("/article/"):] in page.text
    assert page.find("input"), "the error page keeps the search box"


@pytest.mark.parametrize("query, name", [("page=0", "page"), ("sort=bogus", "sort"), ("size=1000", "size"),
                                         ("since=notadate", "since"), ("page=abc", "page")])
def test_bad_parameters_are_friendly_400_pages(client, query, name):
    page = get_page(client, f"/?q=bank&{query}", status=400)
    assert name in page.text
    assert "Traceback" not in page.markup
    assert "/" in [local(h) for h in page.hrefs()]


# ---------------------------------------------------------------- feed, OpenSearch, static files


def _feed(client, url: str) -> ET.Element:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    return root


def test_feed_is_atom_newest_first(client):
    root = _feed(client, "/feed?q=harbor")
    assert "harbor" in root.findtext(f"{ATOM}title")
    assert root.findtext(f"{ATOM}id") and root.findtext(f"{ATOM}updated")
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 10
    stamps = [e.findtext(f"{ATOM}published") or e.findtext(f"{ATOM}updated") for e in entries]
    assert stamps == sorted(stamps, reverse=True)
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    expected = sorted(HARBOR_IDS, key=lambda i: ARTICLES[i]["published"], reverse=True)
    assert titles == [ARTICLES[i]["title"] for i in expected]
    for entry in entries:
        assert entry.findtext(f"{ATOM}id")
        hrefs = [link.get("href") for link in entry.findall(f"{ATOM}link")]
        assert hrefs and all(h.startswith(("http://", "https://")) for h in hrefs)
    assert len(_feed(client, "/feed?q=harbor&size=3").findall(f"{ATOM}entry")) == 3


def test_feed_escapes_titles(client):
    title = "Profits < costs & taxes at Acme"
    root = _feed(client, "/feed?q=acme")
    assert [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")] == [title]
    assert b"Profits &lt; costs &amp; taxes" in client.get("/feed?q=acme").data


def test_results_page_links_its_feed(client):
    page = get_page(client, "/?q=harbor&topic=Weather")
    feeds = [attrs["href"] for attrs in page.find("link") if attrs.get("type") == "application/atom+xml"]
    feeds += [h for h in page.hrefs() if urlsplit(h).path == "/feed"]
    assert feeds
    root = _feed(client, local(feeds[0]))
    assert len(root.findall(f"{ATOM}entry")) == api(client, "/?q=harbor&topic=Weather")["total"]


def test_feed_bad_parameters_are_400(client):
    assert client.get("/feed?q=bank&sort=bogus").status_code == 400


def test_opensearch_description(client):
    response = client.get("/opensearch.xml")
    assert response.status_code == 200 and "xml" in response.mimetype
    root = ET.fromstring(response.data)
    assert root.tag == f"{OPENSEARCH}OpenSearchDescription"
    assert root.findtext(f"{OPENSEARCH}ShortName")
    templates = {u.get("type"): u.get("template") for u in root.findall(f"{OPENSEARCH}Url")}
    assert "{searchTerms}" in templates["text/html"]
    page = get_page(client, local(templates["text/html"].replace("{searchTerms}", "harbor")))
    assert shows_total(page, 10)


@pytest.mark.parametrize("url", ["/", "/?q=bank", f"/article/{BOE}", "/article/nope"])
def test_pages_link_the_opensearch_description(client, url):
    page = page_of(client.get(url))
    found = [attrs for attrs in page.find("link") if "search" in attrs.get("rel", "").split()]
    assert found and found[0].get("type") == "application/opensearchdescription+xml"
    assert client.get(local(found[0]["href"])).status_code == 200


@pytest.mark.parametrize("path, kind", [("/static/style.css", "text/css"), ("/static/app.js", "javascript")])
def test_static_files_are_served(client, path, kind):
    response = client.get(path)
    assert response.status_code == 200 and response.data
    assert kind in response.mimetype
    response.close()


def test_pages_use_the_served_stylesheet_and_script(client):
    page = get_page(client, "/?q=bank")
    sources = [attrs.get("src") for attrs in page.find("script")] + \
        [attrs.get("href") for attrs in page.find("link") if "stylesheet" in attrs.get("rel", "")]
    assert sources
    for source in sources:
        response = client.get(local(source))
        assert response.status_code == 200, source
        response.close()


# ---------------------------------------------------------------- the app factory


def test_factory_reads_the_index_from_the_environment(web_archive, monkeypatch):
    data, index = web_archive
    monkeypatch.setenv("NEWSEARCH_INDEX", str(index))
    monkeypatch.setenv("NEWSEARCH_DATA", str(data))
    app = create_app()
    assert Path(app.config["INDEX"]) == Path(index) and Path(app.config["DATA"]) == Path(data)
    assert app.test_client().get("/api/health").get_json()["documents"] == ALL_COUNT
    assert shows_total(page_of(app.test_client().get("/?q=harbor")), 10)


def test_flask_cli_discovers_the_factory(web_archive, monkeypatch):
    """What ``flask --app web run`` does: import ``web`` and call ``create_app()``."""
    from flask.cli import ScriptInfo

    monkeypatch.setenv("NEWSEARCH_INDEX", str(web_archive[1]))
    app = ScriptInfo(app_import_path="web").load_app()
    assert app.test_client().get("/api/search?q=harbor").get_json()["total"] == 10


def test_test_config_overrides_settings(web_archive):
    app = create_app(web_archive[1], test_config={"SITE_NAME": "Testsearch"})
    assert app.config["SITE_NAME"] == "Testsearch"
    assert "Testsearch" in page_of(app.test_client().get("/")).text


# ---------------------------------------------------------------- the lede, once (issue 8)


LEDE = "Federal Reserve Board Chairman Paul Volcker said the trade deficit is a challenge."
LEDE_ARTICLES = {
    # News bodies usually open with the excerpt ...
    "lede/opens-body": dict(title="Volcker says deficit is a challenge", excerpt=LEDE,
                            body=LEDE + "\n\nHe spoke to Florida educators on Friday."),
    # ... or the excerpt is the body's opening cut short, mid-word.
    "lede/cut-short": dict(title="Volcker speaks", excerpt=LEDE[:50],
                           body=LEDE + "\n\nHe spoke to Florida educators on Friday."),
    # A title-only wire flash: the excerpt is the headline.
    "lede/flash": dict(title="ARCO RAISES CRUDE OIL PRICES 50 CTS", excerpt="ARCO RAISES CRUDE OIL PRICES 50 CTS"),
    # An excerpt that says something the body doesn't start with is shown.
    "lede/own": dict(title="Cocoa review", excerpt="Showers continued throughout the week in the cocoa zone.",
                     body="Dry weather is expected next month, traders said."),
}


@pytest.fixture(scope="module")
def lede_client(tmp_path_factory):
    from helpers import build_index, write_archive

    root = tmp_path_factory.mktemp("lede")
    data = write_archive(root / "data", {k: dict(v, published="1987-03-20T08:45:18Z") for k, v in LEDE_ARTICLES.items()})
    build_index(data, root / "index")
    return create_app(root / "index", data).test_client()


def _lede_of(page: Page) -> list[str]:
    return re.findall(r'<p class="story__lede">(.*?)</p>', page.markup, re.S)


@pytest.mark.parametrize("doc_id", ["lede/opens-body", "lede/cut-short"])
def test_article_page_shows_the_lede_once(lede_client, doc_id):
    page = get_page(lede_client, f"/article/{doc_id}")
    assert page.text.count(LEDE[:50]) == 1, page.text
    assert "He spoke to Florida educators" in page.text
    assert not _lede_of(page)


def test_article_page_does_not_repeat_a_flashs_title(lede_client):
    page = get_page(lede_client, "/article/lede/flash")
    assert "ARCO RAISES CRUDE OIL PRICES 50 CTS" in page.text
    assert "story__lede" in get_page(lede_client, "/article/lede/own").markup and not _lede_of(page)


def test_article_page_keeps_an_excerpt_the_body_does_not_open_with(lede_client):
    page = get_page(lede_client, "/article/lede/own")
    assert _lede_of(page) == [LEDE_ARTICLES["lede/own"]["excerpt"]]
    assert "Dry weather is expected" in page.text


def test_lede_of_article_fields():
    assert presenting.lede({"title": "T", "excerpt": " An excerpt. ", "body": "A body."}) == "An excerpt."
    assert presenting.lede({"title": "T", "excerpt": "A body.", "body": "A body. More."}) == ""
    assert presenting.lede({"title": "Flash NEWS", "excerpt": "FLASH news", "body": ""}) == ""
    assert presenting.lede({"title": "T", "excerpt": "", "body": "A body."}) == ""


@pytest.mark.parametrize("script_root", ["", "/news"])
def test_search_links_are_built_once_per_request_and_the_same(app, script_root):
    # search_url builds the page's URL once per request; every link must still be what
    # url_for gives, under a mount point too, and a new request builds it anew.
    from flask import url_for

    from web.pages import search_url
    from web.params import SearchParams

    params = SearchParams(q="harbor", topics=("Weather",))
    for root in (script_root, "/elsewhere"):
        with app.test_request_context("/?q=harbor", base_url=f"http://localhost{root}/"):
            base = url_for("pages.search")
            assert base == root + "/"
            for changes, query in (({}, "q=harbor&topic=Weather"), ({"page": 3}, "q=harbor&topic=Weather&page=3"),
                                   ({"q": "", "topics": ()}, "")):
                assert search_url(params, **changes) == base + (f"?{query}" if query else "")
