"""Web security: headers on every response, no inline script, hostile article
fields and query text escaped everywhere they are shown, only http(s) and
local links, and unexpected errors answered without a traceback.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest

from web import create_app

from helpers import (
    BOE,
    ESCAPED_SCRIPT,
    HOSTILE,
    HOSTILE_PROVIDER,
    HOSTILE_RAW,
    HOSTILE_TITLE,
    HOSTILE_TOPIC,
    IMG,
    SCRIPT,
)
from test_web_api import assert_valid, page_of

ATOM = "{http://www.w3.org/2005/Atom}"
ATTACK = '"><script>alert(1)</script>'

HTML_PAGES = [
    "/", "/?q=bank", "/?q=harbor&topic=Weather&size=3&page=2", "/?q=wombat", "/?q=quokka", "/?q=zzyzxqq",
    f"/article/{BOE}", f"/article/{HOSTILE}", f"/article/{HOSTILE_RAW}", "/article/nope", "/?page=0",
    "/?sort=bogus", "/?" + "&".join(f"topic=t{n}" for n in range(11)),
    "/?topic=" + quote(HOSTILE_TOPIC), "/?source=evil.test", "/?source=" + quote(HOSTILE_PROVIDER),
    "/?q=" + quote(ATTACK), "/?q=" + quote(f'topic:"{SCRIPT}"'), "/?q=" + quote("<script>alert?</script>"),
    "/?q=pelican", "/?q=wombat&sort=newest",
]
OTHER_RESPONSES = [
    "/api/search?q=bank", f"/api/articles/{BOE}", "/api/health", "/api/openapi.json", "/api/nope",
    "/api/search?page=0", "/api/articles/nope", "/feed?q=bank", "/feed?q=wombat", "/opensearch.xml",
    "/static/style.css", "/static/app.js", "/feed?sort=bogus",
]


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives.setdefault(words[0].lower(), [w.lower() for w in words[1:]])
    return directives


def assert_security_headers(response) -> None:
    csp = response.headers.get("Content-Security-Policy")
    assert csp, "no Content-Security-Policy"
    directives = csp_directives(csp)
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts is not None, "CSP does not restrict scripts"
    assert "'unsafe-inline'" not in scripts and "*" not in scripts and "data:" not in scripts
    assert "'unsafe-inline'" not in directives.get("script-src-elem", [])
    assert "'unsafe-inline'" not in directives.get("script-src-attr", [])
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") not in (None, "", "unsafe-url")


@pytest.mark.parametrize("url", HTML_PAGES + OTHER_RESPONSES)
def test_every_response_has_security_headers(client, url):
    response = client.get(url)
    assert_security_headers(response)
    response.close()


def test_error_responses_for_methods_have_security_headers(client):
    for response in (client.post("/api/search"), client.post("/"), client.delete(f"/article/{BOE}")):
        assert response.status_code == 405
        assert_security_headers(response)


# ---------------------------------------------------------------- inline script, event handlers, links


ALLOWED_URL_STARTS = ("http://", "https://", "/", "?", "#")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "cite", "data", "background",
                  "longdesc", "manifest", "ping", "icon"}
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")


def _html(client, url):
    response = client.get(url)
    assert response.mimetype == "text/html", url
    return response, page_of(response)


@pytest.mark.parametrize("url", HTML_PAGES)
def test_no_inline_script_or_event_handler(client, url):
    _, page = _html(client, url)
    for script in page.scripts:
        assert script["attrs"].get("src"), f"inline <script> on {url}: {script['content'][:80]!r}"
        assert not script["content"].strip()
    for tag, attrs, _ in page.elements:
        handlers = [name for name in attrs if name.startswith("on")]
        assert not handlers, f"<{tag}> has event handler attributes {handlers} on {url}"
    # What CSP's style-src 'self' would block (and so would silently not work).
    assert not page.find("style") and not [a for _, a, _ in page.elements if "style" in a], url


@pytest.mark.parametrize("url", HTML_PAGES)
def test_links_and_sources_are_only_http_or_local(client, url):
    _, page = _html(client, url)
    for tag, attrs, raw in page.elements:
        for name, value in raw:
            value = (value or "").strip()
            lowered = "".join(value.lower().split())
            assert not lowered.startswith(BAD_SCHEMES), f"<{tag} {name}={value!r}> on {url}"
            if name in URL_ATTRIBUTES or name == "srcset":
                assert value.startswith(ALLOWED_URL_STARTS), f"<{tag} {name}={value!r}> on {url}"
                assert not value.startswith("//"), f"protocol-relative <{tag} {name}={value!r}> on {url}"


def test_hostile_urls_are_not_links(client):
    for doc_id in (HOSTILE, HOSTILE_RAW):
        _, page = _html(client, f"/article/{doc_id}")
        values = [v or "" for _, _, raw in page.elements for _, v in raw]
        assert not any("alert(" in v for v in values), doc_id  # javascript:alert(1/2/3) nowhere in an attribute
        assert "related" in page.text.lower() and "related" in page.text  # the related item is still shown
    _, results = _html(client, "/?q=wombat")
    assert HOSTILE in results.article_ids()  # the hit links to its local page instead of javascript:
    assert not any("alert(" in (v or "") for _, _, raw in results.elements for _, v in raw)


# ---------------------------------------------------------------- hostile fields are escaped


def assert_escaped(markup: str, where: str, *, shows_script: bool = True) -> None:
    assert SCRIPT not in markup, f"raw {SCRIPT} in {where}"
    assert "<script>alert" not in markup.lower(), where
    assert "<img src=x" not in markup and "onerror=alert(1)>" not in markup.replace("&gt;", ""), where
    assert "<b>Bold</b>" not in markup and "<b>Evil</b>" not in markup, where
    assert "&amp;lt;" not in markup, f"double-escaped text in {where}"
    if shows_script:
        assert ESCAPED_SCRIPT in markup, f"the escaped script text is missing from {where}"


def test_hostile_fields_escaped_in_search_results(client):
    response, page = _html(client, "/?q=wombat")
    markup = page.markup
    assert_escaped(markup, "search results")
    assert "&lt;img src=x onerror=alert(1)&gt;" in markup
    assert "&lt;b&gt;Bold&lt;/b&gt;" in markup and "&lt;b&gt;Evil&lt;/b&gt;" in markup
    assert '<script>alert(1)</script> & "quotes"' in page.text  # shown as text, exactly once escaped
    assert HOSTILE_TOPIC in page.text and HOSTILE_PROVIDER in page.text
    assert IMG in page.text


def test_hostile_fields_escaped_in_the_article_page(client):
    _, page = _html(client, f"/article/{HOSTILE}")
    assert_escaped(page.markup, "the article page")
    assert HOSTILE_TITLE in page.text and IMG in page.text
    assert HOSTILE_TOPIC in page.text and HOSTILE_PROVIDER in page.text
    assert f"{SCRIPT} wombat related" in page.text
    _, raw = _html(client, f"/article/{HOSTILE_RAW}")
    assert_escaped(raw.markup, "the raw article page", shows_script=False)


@pytest.mark.parametrize("url", ["/?topic=" + quote(HOSTILE_TOPIC), "/?source=evil.test",
                                 "/?source=" + quote(HOSTILE_PROVIDER), "/?q=wombat&sort=newest"])
def test_hostile_facets_and_filters_escaped(client, url):
    _, page = _html(client, url)
    assert_escaped(page.markup, url)
    assert HOSTILE in page.article_ids()
    assert HOSTILE_TOPIC in page.text


def test_hostile_fields_escaped_in_the_feed(client):
    response = client.get("/feed?q=wombat")
    assert response.status_code == 200
    assert SCRIPT.encode() not in response.data and b"<b>Evil</b>" not in response.data
    root = ET.fromstring(response.data)
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [HOSTILE_TITLE]
    assert entries[0].findtext(f"{ATOM}summary").startswith("Wombat <img")
    assert entries[0].find(f"{ATOM}author").findtext(f"{ATOM}name") == HOSTILE_PROVIDER
    for element in root.iter():
        for name, value in element.attrib.items():
            assert not value.strip().lower().startswith(BAD_SCHEMES), (element.tag, name, value)
        if element.tag == f"{ATOM}link":
            assert element.get("href").startswith(("http://", "https://"))


def test_hostile_fields_escaped_in_api_highlights(client):
    body = client.get("/api/search", query_string={"q": f"{SCRIPT} wombat"}).get_json()
    hit = next(r for r in body["results"] if r["id"] == HOSTILE)
    for fragment in hit["highlights"].values():
        bare = fragment.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in bare and ">" not in bare, fragment
    assert html.unescape(hit["highlights"]["title"].replace("<mark>", "").replace("</mark>", "")) == HOSTILE_TITLE
    assert "<mark>wombat</mark>" in hit["highlights"]["title"]


# ---------------------------------------------------------------- hostile query text is escaped where echoed


def test_hostile_query_escaped_in_the_search_box_and_title(client):
    response = client.get("/", query_string={"q": ATTACK})
    page = page_of(response)
    assert_escaped(page.markup, "a page for a hostile query", shows_script=False)
    boxes = [a.get("value") for a in page.find("input") if a.get("name") == "q"]
    assert boxes and set(boxes) == {ATTACK}
    assert "&lt;script&gt;" in page.markup


def test_hostile_query_escaped_in_notes_and_empty_state(client):
    q = f'topic:"{SCRIPT}"'
    body = client.get("/api/search", query_string={"q": q}).get_json()
    assert body["total"] == 0 and any(SCRIPT in note for note in body["query"]["notes"])
    page = page_of(client.get("/", query_string={"q": q}))
    assert_escaped(page.markup, "notes and the empty state")
    for note in body["query"]["notes"]:
        assert note in page.text
    assert page.markup.count(ESCAPED_SCRIPT) >= 3  # search box, note, empty state (and more)
    wildcard = "<script>alert?</script>"
    notes = client.get("/api/search", query_string={"q": wildcard}).get_json()["query"]["notes"]
    assert notes and wildcard in notes[0]
    page = page_of(client.get("/", query_string={"q": wildcard}))
    assert_escaped(page.markup, "a wildcard note", shows_script=False)
    assert "&lt;script&gt;alert?&lt;/script&gt;" in page.markup
    assert notes[0] in page.text


@pytest.mark.parametrize("query", [f"page={quote(SCRIPT)}", f"since={quote(SCRIPT)}", f"sort={quote(SCRIPT)}",
                                   f"until={quote(SCRIPT)}&q=bank"])
def test_hostile_parameters_escaped_in_400_pages(client, query):
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    markup = response.get_data(as_text=True)
    assert "<script>alert" not in markup.lower() and "Traceback" not in markup


def test_hostile_query_escaped_in_the_feed_title(client):
    response = client.get("/feed", query_string={"q": ATTACK})
    assert response.status_code == 200
    assert b"<script>" not in response.data
    root = ET.fromstring(response.data)
    assert ATTACK in root.findtext(f"{ATOM}title")


@pytest.mark.parametrize("path", ["/article/" + SCRIPT, "/article/" + quote(SCRIPT, safe=""),
                                  "/article/" + quote(ATTACK)])
def test_404_page_escapes_the_id(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.mimetype == "text/html"
    markup = response.get_data(as_text=True)
    assert SCRIPT not in markup and "<script>alert" not in markup
    assert ESCAPED_SCRIPT in markup
    assert_security_headers(response)


# ---------------------------------------------------------------- unexpected errors


SECRET = "secret-detail-of-the-boom"


class BrokenEngine:
    """An engine whose every answer fails."""

    def _boom(self, *args, **kwargs):
        raise RuntimeError(SECRET)

    search = article = similar = health = stats = warm = _boom


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    app = create_app(tmp_path_factory.mktemp("no-index"), engine=BrokenEngine())
    return app.test_client()


@pytest.mark.parametrize("url", ["/?q=bank", f"/article/{BOE}", "/feed?q=bank"])
def test_unexpected_errors_render_a_500_page_without_traceback(broken, url):
    response = broken.get(url)
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    markup = response.get_data(as_text=True)
    assert SECRET not in markup and "Traceback" not in markup and "RuntimeError" not in markup
    assert "/" in [a.get("href") for a in page_of(response).find("a")]
    assert_security_headers(response)


@pytest.mark.parametrize("url", ["/api/search?q=bank", f"/api/articles/{BOE}", "/api/health"])
def test_unexpected_api_errors_are_500_json(broken, spec, url):
    response = broken.get(url)
    assert response.status_code == 500 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"]["status"] == 500 and SECRET not in response.get_data(as_text=True)
    assert_valid(spec, "Error", body)
    assert_security_headers(response)


def test_landing_page_survives_a_broken_engine(broken):
    response = broken.get("/")
    assert response.status_code == 200
    assert SECRET not in response.get_data(as_text=True)
