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


@pytest.mark.parametrize("url", ["/api/search?q=bank", f"/api/articles/{BOE}"])
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


def test_health_of_a_broken_engine_is_503_without_its_details(broken, spec):
    response = broken.get("/api/health")
    assert response.status_code == 503 and response.mimetype == "application/json"
    assert "RuntimeError" in response.get_json()["error"]["message"]
    assert SECRET not in response.get_data(as_text=True)
    assert_valid(spec, "Error", response.get_json())
    assert_security_headers(response)


# ---------------------------------------------------------------- hosts and absolute URLs come from configuration

BASE = "https://news.example.org/search"
HOSTILE_HOSTS = ["evil.test", "evil.test:8000", "localhost.evil.test", "localhost\r\nX-Injected: 1",
                 "localhost\r\n", "local host", "[::2]:8000", ".localhost", "", "localhost/../x", "127.0.0.1@evil.test"]
ABSOLUTE_URL_PAGES = ["/feed?q=bank", "/opensearch.xml", "/api/openapi.json"]


def absolute_urls(response) -> list[str]:
    """Every absolute URL in a feed, an OpenSearch description or the OpenAPI servers."""
    if response.mimetype == "application/json":
        return [server["url"] for server in response.get_json()["servers"]]
    root = ET.fromstring(response.data)
    found = []
    for element in root.iter():
        found += [value for name, value in element.attrib.items() if name in ("href", "template")]
        if element.text and element.text.strip().startswith("http"):
            found.append(element.text.strip())
    return [url for url in found if url.startswith(("http://", "https://")) and "example.test/" not in url]  # not articles' own


@pytest.fixture(scope="module")
def configured(web_archive):
    data, index = web_archive
    return create_app(index, data, base_url=BASE + "/", trusted_hosts=["www.example.org, .example.net"])


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
@pytest.mark.parametrize("url", ["/", "/?q=bank", "/api/search?q=bank", "/nope", "/api/nope"] + ABSOLUTE_URL_PAGES)
def test_requests_for_other_hosts_are_400(client, host, url):
    response = client.get(url, environ_overrides={"HTTP_HOST": host})  # headers= refuses CR/LF
    assert response.status_code == 400, (host, url)
    body = response.get_data(as_text=True)
    assert "does not answer requests for that host" in body
    assert "evil" not in body and "X-Injected" not in body and "\r" not in body
    assert all("\r" not in v and "\n" not in v and "evil" not in v for _, v in response.headers.items())
    assert_security_headers(response)
    if url.startswith("/api/"):
        assert response.get_json()["error"]["status"] == 400
        assert response.get_json()["error"]["title"] == "Unknown host"
    else:
        page = page_of(response)
        assert response.mimetype == "text/html" and "/" in [a.get("href") for a in page.find("a")]
        assert "Unknown host" in page.text and "search couldn" not in page.text


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:5000", "[::1]:8000", "LOCALHOST"])
def test_local_names_are_answered_by_default(client, host):
    response = client.get("/feed?q=bank", headers={"Host": host})
    assert response.status_code == 200, host
    urls = absolute_urls(response)
    assert urls and all(u.startswith(f"http://{host.lower()}/") for u in urls), urls


@pytest.mark.parametrize("url", ABSOLUTE_URL_PAGES)
def test_absolute_urls_come_from_the_base_url(configured, url):
    for host in ("localhost:8000", "www.example.org", "news.example.org", "a.b.example.net:8080"):
        response = configured.test_client().get(url, headers={"Host": host})
        assert response.status_code == 200, host
        urls = absolute_urls(response)
        assert urls and all(u == BASE or u.startswith(BASE + "/") or u.startswith(BASE + "?") for u in urls), urls


def test_the_feed_links_through_the_base_url(configured):
    root = ET.fromstring(configured.test_client().get("/feed?q=harbor&size=3", headers={"Host": "localhost"}).data)
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["self"] == f"{BASE}/feed?q=harbor&size=3"
    assert links["alternate"].startswith(f"{BASE}/?q=harbor")


def test_the_feeds_self_link_keeps_odd_parameters_as_parameters(client):
    response = client.get("/feed?q=bank&_external=0&_anchor=x%0D%0Ay&_scheme=javascript&topic=a&topic=b")
    assert response.status_code == 200
    root = ET.fromstring(response.data)
    self_link = next(l.get("href") for l in root.findall(f"{ATOM}link") if l.get("rel") == "self")
    assert self_link == ("http://localhost/feed?q=bank&_external=0&_anchor=x%0D%0Ay&_scheme=javascript"
                         "&topic=a&topic=b")
    assert b"\r" not in response.data and b"\n\n" not in response.data


@pytest.mark.parametrize("host", ["evil.test", "example.net.evil.test", "example.org", "localhost\r\nX: 1"])
def test_configured_hosts_only(configured, host):
    assert configured.test_client().get("/", environ_overrides={"HTTP_HOST": host}).status_code == 400


@pytest.mark.parametrize("base_url", ["ftp://example.org", "example.org", "https://", "https://a b.org",
                                      "https://example.org/\r\nX: 1", "https://user@example.org",
                                      "https://example.org/?q=1", "https://example.org/#top", "https://example.org:99999",
                                      "https://example.org/<script>"])
def test_a_bad_base_url_is_refused_with_a_reason(web_archive, base_url):
    with pytest.raises(ValueError, match="base URL"):
        create_app(web_archive[1], base_url=base_url)


@pytest.mark.parametrize("name", ["evil!test", "a/b", "exa_mple.org", "[::1", "x" * 300, "\r\nX: 1", "::g"])
def test_a_bad_trusted_host_is_refused_with_a_reason(web_archive, name):
    with pytest.raises(ValueError, match="not a host name"):
        create_app(web_archive[1], trusted_hosts=[name])


def test_the_environment_configures_hosts_and_base_url(web_archive, monkeypatch):
    monkeypatch.setenv("NEWSEARCH_BASE_URL", "http://search.example.org:8080")
    monkeypatch.setenv("NEWSEARCH_TRUSTED_HOSTS", "a.example.org b.example.org,c.example.org")
    client = create_app(web_archive[1], web_archive[0]).test_client()
    for host in ("a.example.org", "b.example.org", "c.example.org:80", "search.example.org"):
        assert client.get("/api/openapi.json", headers={"Host": host}).get_json()["servers"] == [
            {"url": "http://search.example.org:8080"}], host
    assert client.get("/", headers={"Host": "d.example.org"}).status_code == 400


# ---------------------------------------------------------------- thumbnails: off unless asked for, and the CSP says so


def test_no_image_from_another_site_by_default(client):
    for url in ("/?q=bank", f"/article/{BOE}"):
        response = client.get(url)
        images = csp_directives(response.headers["Content-Security-Policy"])["img-src"]
        assert images == ["'self'"]
        page = page_of(response)
        assert not [a for a in page.find("img") if not a.get("src", "").startswith("/")], url


def test_thumbnails_on_request_widen_img_src(web_archive, monkeypatch):
    monkeypatch.setenv("NEWSEARCH_THUMBNAILS", "1")
    client = create_app(web_archive[1], web_archive[0]).test_client()
    for url in ("/?q=bank", f"/article/{BOE}"):
        response = client.get(url)
        assert "https://img.test/boe.jpg" in [a.get("src") for a in page_of(response).find("img")], url
        images = csp_directives(response.headers["Content-Security-Policy"])["img-src"]
        assert set(images) == {"'self'", "https:", "http:"}
    _, page = _html(client, f"/article/{HOSTILE_RAW}")  # a javascript: image is still never a source
    assert not [a for a in page.find("img") if "javascript" in a.get("src", "")]
    off = create_app(web_archive[1], web_archive[0], thumbnails=False).test_client()
    assert not page_of(off.get("/?q=bank")).find("img")


# ---------------------------------------------------------------- waitress's own replies carry the headers too


def raw_exchange(url: str, request: bytes) -> tuple[int, dict[str, str]]:
    """Send ``request`` as bytes to the server at ``url``; its status and headers (names lowercased)."""
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(request)
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    head = reply.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(head[0].split()[1]), headers


@pytest.fixture(scope="module")
def over_http(app):
    from browsing import served

    with served(app, max_request_header_size=4096, max_request_body_size=1024) as url:
        yield url


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nno colon here\r\n\r\n", 400),  # waitress: malformed header
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n", 431),  # waitress: headers too large
    (b"POST /api/search HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\n\r\n", 413),  # waitress: body too large
    (b"GET / HTTP/1.1\r\nHost: evil.test\r\n\r\n", 400),  # the app: untrusted host
    (b"GET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n", 404),
    (b"DELETE / HTTP/1.1\r\nHost: localhost\r\n\r\n", 405),
    (b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n", 200),
    (b"GET /api/health HTTP/1.0\r\n\r\n", 200),  # no Host: the server's own name stands in
    (b"GET /api/health HTTP/1.1\r\nHost: localhost\r\nHost: evil.test\r\n\r\n", 400),  # two Hosts
])
def test_every_reply_over_http_has_the_security_headers(over_http, request_bytes, status):
    from web.security import security_headers

    got, headers = raw_exchange(over_http, request_bytes)
    assert got == status
    for name, value in security_headers():
        assert headers.get(name.lower()) == value, (status, name)


def test_500_and_503_have_the_security_headers(broken, tmp_path):
    assert_security_headers(broken.get("/?q=bank"))  # 500
    response = create_app(tmp_path / "no-index").test_client().get("/?q=bank")
    assert response.status_code == 503
    assert_security_headers(response)


def test_waitress_own_500_has_the_security_headers(web_archive):
    """When the application fails outside Flask's handlers, waitress answers 500 itself."""
    from browsing import served
    from web.security import security_headers

    app = create_app(web_archive[1], web_archive[0])

    def failing(environ, start_response):
        raise RuntimeError(SECRET)

    app.wsgi_app = failing
    with served(app) as url:
        status, headers = raw_exchange(url, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert status == 500
    for name, value in security_headers():
        assert headers.get(name.lower()) == value, name
