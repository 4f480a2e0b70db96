"""Web JSON API: /api/search parameters, filters and paging, errors as JSON,
articles, health, and agreement with the OpenAPI description it serves.

The HTML and OpenAPI helpers at the top are shared with
tests/test_web_pages.py and tests/test_web_security.py; the fixtures
(``web_archive``, ``app``, ``client``, ``spec``) are in tests/conftest.py.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import pytest
from jsonschema import Draft202012Validator
from werkzeug.datastructures import MultiDict

from search.engine import Engine
from search.results import iso_utc
from web import create_app
from web.params import parse_params

from helpers import (
    ALL_COUNT,
    ARTICLES,
    BOE,
    EXTRA,
    HARBOR_IDS,
    HOSTILE,
    HOSTILE_PROVIDER,
    HOSTILE_RAW,
    HOSTILE_TITLE,
    HOSTILE_TOPIC,
    IMG,
    SCRIPT,
    UNDATED,
    search_for,
)


@pytest.fixture(scope="module")
def web_engine(web_archive):
    eng = Engine(web_archive[1], recheck_seconds=0)
    yield eng
    eng.close()


class Page(HTMLParser):
    """An HTML page as elements, links (with their text), scripts and visible text."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.markup = markup
        self.elements: list[tuple[str, dict[str, str], list[tuple[str, str | None]]]] = []
        self.links: list[dict] = []
        self.scripts: list[dict] = []
        self._open_links: list[dict] = []
        self._raw: dict | None = None
        self._svg_depth = 0
        self._text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag, attrs):
        self._start(tag, attrs, closed=True)

    def _start(self, tag, attrs, closed):
        named = {k: (v or "") for k, v in attrs}
        self.elements.append((tag, named, attrs))
        if tag == "svg" and not closed:
            self._svg_depth += 1
        if tag == "a":
            link = {"href": named.get("href") or named.get("xlink:href"), "text": "", "attrs": named,
                    "in_svg": self._svg_depth > 0}
            self.links.append(link)
            if not closed:
                self._open_links.append(link)
        if tag in ("script", "style") and not closed:
            self._raw = {"tag": tag, "attrs": named, "content": ""}
            if tag == "script":
                self.scripts.append(self._raw)
        elif tag == "script":
            self.scripts.append({"tag": tag, "attrs": named, "content": ""})

    def handle_endtag(self, tag):
        if tag == "svg" and self._svg_depth:
            self._svg_depth -= 1
        if tag == "a" and self._open_links:
            self._open_links.pop()
        if self._raw is not None and tag == self._raw["tag"]:
            self._raw = None

    def handle_data(self, data):
        if self._raw is not None:
            self._raw["content"] += data
            return
        self._text.append(data)
        for link in self._open_links:
            link["text"] += data

    @property
    def text(self) -> str:
        return " ".join(" ".join(self._text).split())

    def find(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs, _ in self.elements if name == tag]

    def hrefs(self) -> list[str]:
        return [link["href"] for link in self.links if link["href"]]

    def article_ids(self) -> list[str]:
        """Ids of /article/... links, in page order, without repeats."""
        found: dict[str, None] = {}
        for href in self.hrefs():
            path = urlsplit(href).path
            if path.startswith("/article/"):
                found.setdefault(unquote(path[len("/article/"):]), None)
        return list(found)


def page_of(response) -> Page:
    return Page(response.get_data(as_text=True))


def params_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query, keep_blank_values=True)


def local(href: str, base: str = "/") -> str:
    """``href`` as a path + query for the test client (relative hrefs resolved against ``base``)."""
    parts = urlsplit(urljoin("http://localhost" + base, html.unescape(href)))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def shows_total(page: Page, total: int) -> bool:
    """The page says how many results there are (``12 results``, ``Results: 12``, ``of 12 articles``)."""
    text = page.text.replace("\u00a0", " ")
    number = rf"(?<![\d.,]){total:,}(?![\d.,])|(?<![\d.,]){total}(?![\d.,])"
    words = r"(results?|articles?|match(es)?|hits?|stor(y|ies))"
    return bool(re.search(rf"({number})\D{{0,30}}?{words}", text, re.I)
                or re.search(rf"{words}\D{{0,15}}?({number})", text, re.I))


# ---------------------------------------------------------------- OpenAPI helpers


def validator(spec: dict, name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]})


def assert_valid(spec: dict, name: str, instance) -> None:
    errors = sorted(validator(spec, name).iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def search_parameters(spec: dict) -> dict[str, dict]:
    return {p["name"]: p for p in spec["paths"]["/api/search"]["get"]["parameters"]}


def api_error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    assert body["error"]["title"] and isinstance(body["error"]["message"], str)
    return body["error"]


# ---------------------------------------------------------------- /api/search


RESULT_KEYS = {"id", "title", "excerpt", "url", "provider", "published", "topics", "image", "score", "highlights", "duplicates", "duplicate_count"}


def _without_timing(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "took_ms"}


def test_search_returns_the_engines_json(client, web_engine):
    response = client.get("/api/search?q=bank")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert {"query", "total", "page", "page_size", "pages", "results", "facets", "timeline", "took_ms"} <= set(body)
    assert body["total"] >= 2 and body["results"]
    assert all(set(r) == RESULT_KEYS for r in body["results"])
    assert BOE in [r["id"] for r in body["results"]]
    assert body["took_ms"] >= 0
    assert _without_timing(body) == _without_timing(search_for(web_engine, "bank").to_json())


@pytest.mark.parametrize("query", [
    "q=harbor&topic=Weather&sort=newest&page=2&size=2",
    "q=harbor&source=Port+Times&source=dockdaily.net&since=2020&until=2021-12&sort=oldest&size=3",
    "topic=Energy&topic=Economy",
    "q=pelican&sort=newest",
])
def test_search_passes_every_parameter_to_the_engine(client, web_engine, query):
    args = MultiDict(parse_qs(query))
    body = client.get(f"/api/search?{query}").get_json()
    expected = search_for(web_engine,
        args.get("q", ""), topics=tuple(args.getlist("topic")), sources=tuple(args.getlist("source")),
        since=args.get("since"), until=args.get("until"), sort=args.get("sort", "relevance"),
        page=int(args.get("page", 1)), page_size=int(args.get("size", 10)),
    ).to_json()
    assert _without_timing(body) == _without_timing(expected)


def _search(client, query: str) -> dict:
    response = client.get(f"/api/search?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_topic_filter_narrows_and_repeats_as_or(client):
    everything = _search(client, "q=harbor")
    weather = _search(client, "q=harbor&topic=Weather")
    assert 0 < weather["total"] < everything["total"]
    assert all("Weather" in r["topics"] for r in weather["results"])
    assert weather["query"]["filters"]["topics"] == ["Weather"]
    energy = _search(client, "topic=Energy")
    economy = _search(client, "topic=Economy")
    both = _search(client, "topic=Energy&topic=Economy&size=50")
    assert energy["total"] and economy["total"]
    assert {r["id"] for r in both["results"]} == {
        r["id"] for r in _search(client, "topic=Energy&size=50")["results"] + _search(client, "topic=Economy&size=50")["results"]}
    assert both["query"]["filters"]["topics"] == ["Energy", "Economy"]


def test_source_filter_by_name_or_domain_repeatable(client):
    by_name = _search(client, "q=harbor&source=Port+Times")
    by_domain = _search(client, "q=harbor&source=porttimes.com")
    assert by_name["total"] == by_domain["total"] == 5
    assert all(r["provider"]["name"] == "Port Times" for r in by_name["results"])
    both = _search(client, "q=harbor&source=Port+Times&source=dockdaily.net")
    assert both["total"] == 10
    assert both["query"]["filters"]["sources"] == ["Port Times", "dockdaily.net"]


def test_since_and_until_narrow_to_the_period(client):
    body = _search(client, "q=harbor&since=2020&until=2021&size=50")
    assert 0 < body["total"] < 10
    assert all(r["published"][:4] in ("2020", "2021") for r in body["results"])
    assert body["query"]["filters"]["since"] == "2020-01-01T00:00:00Z"
    assert body["query"]["filters"]["until"] == "2022-01-01T00:00:00Z"
    month = _search(client, "since=2022-08&until=2022-08")
    assert {r["id"] for r in month["results"]} == {BOE, "2022/08/harbor-hotel"}
    relative = _search(client, "q=harbor&since=7d")
    assert relative["total"] == 0 and relative["query"]["filters"]["since"]


def test_sorts_order_by_date(client):
    newest = _search(client, "q=harbor&sort=newest&size=20")
    oldest = _search(client, "q=harbor&sort=oldest&size=20")
    relevance = _search(client, "q=harbor&sort=relevance&size=20")
    dates = [r["published"] for r in newest["results"]]
    assert dates == sorted(dates, reverse=True) and len(dates) == 10
    assert [r["id"] for r in oldest["results"]] == [r["id"] for r in newest["results"]][::-1]
    assert newest["sort"] == "newest" and oldest["sort"] == "oldest" and relevance["sort"] == "relevance"
    assert {r["id"] for r in relevance["results"]} == set(HARBOR_IDS)


def test_undated_articles_sort_last(client):
    for sort in ("newest", "oldest"):
        ids = [r["id"] for r in _search(client, f"q=pelican&sort={sort}")["results"]]
        assert ids == [EXTRA, UNDATED]


def test_paging(client):
    pages = [_search(client, f"q=harbor&size=3&page={n}") for n in range(1, 5)]
    assert [p["pages"] for p in pages] == [4] * 4
    assert [p["page"] for p in pages] == [1, 2, 3, 4]
    assert [p["page_size"] for p in pages] == [3] * 4
    assert [len(p["results"]) for p in pages] == [3, 3, 3, 1]
    seen = [r["id"] for p in pages for r in p["results"]]
    assert len(seen) == len(set(seen)) and set(seen) == set(HARBOR_IDS)
    beyond = _search(client, "q=harbor&size=3&page=5")
    assert beyond["results"] == [] and beyond["total"] == 10


def test_fallback_and_notes_are_reported(client):
    fallback = _search(client, "q=bank+zzyzxqq")
    assert fallback["query"]["fallback"] is True and fallback["total"] > 0 and fallback["query"]["notes"]
    unbalanced = _search(client, "q=%22bank")
    assert any("quotation" in note for note in unbalanced["query"]["notes"])
    empty = _search(client, "q=zzyzxqq")
    assert empty["total"] == 0 and empty["results"] == [] and empty["pages"] == 0


@pytest.mark.parametrize("query, name", [
    ("page=0", "page"),
    ("page=abc", "page"),
    ("page=100000", "page"),
    ("page=-1", "page"),
    ("size=0", "size"),
    ("size=1000", "size"),
    ("size=ten", "size"),
    ("sort=bogus", "sort"),
    ("since=notadate", "since"),
    ("until=2021-13", "until"),
    ("since=2021-02-30", "since"),
    ("q=" + "a" * 1001, "q"),
    ("&".join(f"topic=t{n}" for n in range(11)), "topic"),
    ("&".join(f"source=s{n}" for n in range(11)), "source"),
    ("topic=" + "t" * 201, "topic"),
])
def test_bad_parameters_are_400_json_naming_the_parameter(client, spec, query, name):
    response = client.get(f"/api/search?q=bank&{query}" if not query.startswith("q=") else f"/api/search?{query}")
    error = api_error(response, 400)
    assert re.search(rf"(?<![\w]){name}(?![\w])", error["message"]), error["message"]
    assert_valid(spec, "Error", response.get_json())


@pytest.mark.parametrize("value", ["9999-12", "9999-12-31"])
def test_until_at_the_end_of_the_calendar_is_400_not_500(client, value):
    response = client.get(f"/api/search?q=bank&until={value}")
    # Either a valid search (the end of time) or a 400 naming the parameter; never a 500.
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "until" in api_error(response, 400)["message"]


@pytest.mark.parametrize("q", ["bank until:9999-12", "bank until:9999-12-31"])
def test_typed_end_of_calendar_date_is_a_note_not_a_500(client, q):
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code == 200
    assert response.get_json()["query"]["notes"] or response.get_json()["query"]["filters"]["until"]


# ---------------------------------------------------------------- articles and health


def test_article_has_every_stored_field_and_similar(client, spec, web_engine):
    response = client.get(f"/api/articles/{BOE}")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    expected = web_engine.article(BOE)
    assert {k: v for k, v in body.items() if k != "similar"} == expected
    assert body["id"] == BOE and body["path"] == BOE + ".md"
    assert body["title"] == ARTICLES[BOE]["title"]
    assert body["body"] == ARTICLES[BOE]["body"]
    assert body["provider"] == {"name": "BBC News", "domain": "bbc.co.uk"}
    assert body["published"] == "2022-08-04T11:00:00Z"
    assert body["updated"] == "2022-08-05T09:00:00Z"
    assert body["original_url"] == "https://orig.test/boe"
    assert body["image"] == "https://img.test/boe.jpg"
    assert body["quality"] == 77 and body["heat"] == 12
    assert body["related"][0]["url"] == "https://related.test/pound-slips"
    assert body["related"][0]["provider"] == "Sky News"
    similar = body["similar"]
    assert isinstance(similar, list) and similar
    assert all(set(hit) == RESULT_KEYS for hit in similar)
    assert BOE not in [hit["id"] for hit in similar]
    assert [hit["id"] for hit in similar] == [hit.id for hit in web_engine.similar(BOE, limit=6)]
    assert_valid(spec, "Article", body)


def test_article_extra_fields_are_returned(client):
    body = client.get(f"/api/articles/{EXTRA}").get_json()
    assert body["extra"] == {"tags": ["birds", "estuary"], "survey": {"observers": 12, "nested": {"ok": True}},
                             "score_card": 3.5}
    assert body["related"] == []
    assert EXTRA not in [hit["id"] for hit in body["similar"]]


@pytest.mark.parametrize("doc_id", ["nope", "2022/08/nope", "2022/08/boe-rates.md", "<script>alert(1)</script>"])
def test_unknown_article_is_404_json(client, spec, doc_id):
    response = client.get(f"/api/articles/{doc_id}")
    error = api_error(response, 404)
    assert doc_id in error["message"]
    assert_valid(spec, "Error", response.get_json())


def test_health(client, spec):
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["documents"] == ALL_COUNT
    assert isinstance(body["generation"], str) and body["generation"]
    assert isinstance(body["age_seconds"], int) and 0 <= body["age_seconds"] < 3600
    assert_valid(spec, "Health", body)


def _small_index(tmp_path):
    """(data, index) of the helper articles, built in ``tmp_path``."""
    from helpers import build_index, write_archive

    data = write_archive(tmp_path / "data")
    build_index(data, tmp_path / "index")
    return data, tmp_path / "index"


def _remove_term_files(index) -> list[str]:
    """Delete the live generation's term dictionaries (a segment damaged on disk); their names."""
    from search.store import IndexHome

    removed = sorted(IndexHome(index).require_current().glob("*.trm"))
    assert removed
    for path in removed:
        path.unlink()
    return [path.name for path in removed]


def test_health_is_503_with_the_reason_when_the_searcher_cannot_open(tmp_path, spec):
    from web.security import security_headers

    data, index = _small_index(tmp_path)
    removed = _remove_term_files(index)
    client = create_app(index, data).test_client()
    response = client.get("/api/health")
    error = api_error(response, 503)
    assert "cannot be opened" in error["message"] and removed[0] in error["message"]
    assert str(tmp_path) not in response.get_data(as_text=True)  # the file's name, not where it lives
    assert_valid(spec, "Error", response.get_json())
    for name, value in security_headers():
        assert response.headers[name] == value
    assert client.get("/api/search?q=bank").status_code >= 500  # what the health check warned about


def test_health_notices_a_new_generation_that_cannot_open(tmp_path):
    from helpers import build_index

    data, index = _small_index(tmp_path)
    engine = Engine(index, recheck_seconds=60)
    client = create_app(index, data, engine=engine).test_client()
    before = client.get("/api/health")
    assert before.status_code == 200 and before.get_json()["status"] == "ok"
    build_index(data, index)  # a new generation is swapped in...
    _remove_term_files(index)  # ...and is damaged before the server opens it
    engine._checked = 0.0  # as when the re-check interval has passed
    for _ in range(2):  # reported on every call, not only the first after the interval
        after = client.get("/api/health")
        assert "cannot be opened" in api_error(after, 503)["message"]
    assert client.get("/api/search?q=bank").status_code == 503


@pytest.mark.parametrize("path", ["/api/nope", "/api/search/extra", "/api/articles/", "/api/"])
def test_unknown_api_path_is_404_json(client, spec, path):
    response = client.get(path)
    api_error(response, 404)
    assert_valid(spec, "Error", response.get_json())


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_wrong_method_is_405_json(client, spec, method):
    response = getattr(client, method)("/api/search?q=bank")
    api_error(response, 405)
    assert_valid(spec, "Error", response.get_json())


def test_405_says_which_methods_are_allowed(client):
    response = client.post("/api/search?q=bank")
    assert response.status_code == 405
    assert "GET" in response.headers.get("Allow", "")


# ---------------------------------------------------------------- OpenAPI


def test_openapi_document_shape(spec):
    assert spec["openapi"].startswith("3.1")
    assert spec["info"]["title"] and spec["info"]["version"]
    for path in ("/api/search", "/api/articles/{id}", "/api/health"):
        assert "get" in spec["paths"][path], path
        assert "200" in spec["paths"][path]["get"]["responses"]
    for name, schema in spec["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
    # Every $ref points at a schema that exists.
    refs = re.findall(r'"\$ref":\s*"#/components/schemas/([^"]+)"', str(spec).replace("'", '"'))
    assert refs and set(refs) <= set(spec["components"]["schemas"])
    article_params = spec["paths"]["/api/articles/{id}"]["get"]["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in article_params] == [("id", "path", True)]


class _RecordingArgs(MultiDict):
    """Query args that note every parameter name the code asks for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked: set[str] = set()

    def get(self, key, *args, **kwargs):
        self.asked.add(key)
        return super().get(key, *args, **kwargs)

    def getlist(self, key, *args, **kwargs):
        self.asked.add(key)
        return super().getlist(key, *args, **kwargs)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.asked.add(key)
        return super().__contains__(key)


def test_documented_parameters_are_exactly_the_ones_the_api_reads(spec):
    documented = search_parameters(spec)
    args = _RecordingArgs()
    parse_params(args)
    assert set(documented) == args.asked
    assert all(p["in"] == "query" for p in documented.values())
    for name in ("topic", "source"):
        assert documented[name]["schema"]["type"] == "array"
        assert documented[name].get("explode", True) is True and documented[name].get("style", "form") == "form"


def test_every_documented_parameter_is_validated_by_the_api(client, spec):
    """A value the spec forbids is a 400 naming that parameter."""
    bad = {}
    for name, param in search_parameters(spec).items():
        schema = param["schema"]
        if "maxLength" in schema:
            bad[name] = f"{name}={'x' * (schema['maxLength'] + 1)}"
        elif "maxItems" in schema:
            bad[name] = "&".join(f"{name}=v{n}" for n in range(schema["maxItems"] + 1))
        elif "enum" in schema:
            bad[name] = f"{name}=not-{schema['enum'][0]}"
        elif schema.get("type") == "integer":
            bad[name] = f"{name}={schema['minimum'] - 1}"
        else:
            bad[name] = f"{name}=not-a-date"
    assert set(bad) == set(search_parameters(spec))
    for name, query in bad.items():
        error = api_error(client.get(f"/api/search?{query}"), 400)
        assert name in error["message"], (query, error)


def test_documented_limits_match_the_enforced_ones(client, spec):
    params = search_parameters(spec)
    max_size = params["size"]["schema"]["maximum"]
    max_page = params["page"]["schema"]["maximum"]
    max_q = params["q"]["schema"]["maxLength"]
    max_topics = params["topic"]["schema"]["maxItems"]
    max_sources = params["source"]["schema"]["maxItems"]
    assert params["size"]["schema"]["minimum"] == params["page"]["schema"]["minimum"] == 1
    assert params["sort"]["schema"]["default"] == "relevance"
    at_limit = [f"q=bank&size={max_size}", f"q=bank&page={max_page}", "q=" + "a" * max_q,
                "q=" + "bank+" * (max_q // 5), "&".join(f"topic=t{n}" for n in range(max_topics)),
                "&".join(f"source=s{n}" for n in range(max_sources)), "q=bank&size=1&page=1"]
    over_limit = [f"q=bank&size={max_size + 1}", f"q=bank&page={max_page + 1}", "q=" + "a" * (max_q + 1),
                  "&".join(f"topic=t{n}" for n in range(max_topics + 1)),
                  "&".join(f"source=s{n}" for n in range(max_sources + 1)), "q=bank&size=0", "q=bank&page=0"]
    for query in at_limit:
        response = client.get(f"/api/search?{query}")
        assert response.status_code == 200, query[:80]
        assert_valid(spec, "SearchResponse", response.get_json())
    for query in over_limit:
        response = client.get(f"/api/search?{query}")
        assert response.status_code == 400, query[:80]
        assert_valid(spec, "Error", response.get_json())
    for value in params["sort"]["schema"]["enum"]:
        assert client.get(f"/api/search?q=bank&sort={value}").status_code == 200
    big = client.get(f"/api/search?q=harbor&size={max_size}").get_json()
    assert big["page_size"] == max_size


def test_topic_value_length_limit_is_documented(client, spec):
    params = search_parameters(spec)
    assert client.get("/api/search?topic=" + "t" * 201).status_code == 400
    for name in ("topic", "source"):
        assert params[name]["schema"]["items"].get("maxLength") == 200


SEARCHES = [
    "q=bank", "q=harbor&topic=Weather", "q=harbor&source=Port+Times&source=dockdaily.net",
    "q=harbor&since=2020&until=2021", "q=bank+zzyzxqq", "q=%22bank", "q=zzyzxqq", "q=harbor&size=3&page=2",
    "q=harbor&sort=newest", "q=harbor&sort=oldest", "topic=Energy", "since=2022-07&until=2022-08",
    "q=pelican&sort=newest", "q=wombat", "q=quokka", f"q={SCRIPT}", f"q=%22%3E{SCRIPT}",
    f"q=topic:%22{SCRIPT}%22", f"q={IMG}", "q=since:nonsense+bank", "q=%3Cscript%3Ex%3F%3C/script%3E",
    "q=bank&page=50", "q=zeppelin&size=1", "q=title:bank OR oil", "q=(bank", "q=%00%01bank",
    "topic=%3Cb%3EBold%3C/b%3E+%22topic%22", "source=evil.test",
]

# Nothing to search for still answers with the documented shape (empty facets and timeline).
SEARCHES += ["", "q=", "q=*", "q=the", "q=%22%22"]


@pytest.mark.parametrize("query", SEARCHES)
def test_real_search_responses_match_the_schema(client, spec, query):
    response = client.get(f"/api/search?{query}")
    assert response.status_code == 200
    assert_valid(spec, "SearchResponse", response.get_json())


@pytest.mark.parametrize("doc_id", [BOE, EXTRA, UNDATED, HOSTILE, HOSTILE_RAW, "2023/03/zeppelin", HARBOR_IDS[0]])
def test_real_articles_match_the_schema(client, spec, doc_id):
    response = client.get(f"/api/articles/{doc_id}")
    assert response.status_code == 200
    assert_valid(spec, "Article", response.get_json())


def test_openapi_servers_and_error_responses_documented(spec):
    search = spec["paths"]["/api/search"]["get"]["responses"]
    article = spec["paths"]["/api/articles/{id}"]["get"]["responses"]
    assert search["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert article["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert spec["servers"] and spec["servers"][0]["url"].startswith("http://localhost")


# ---------------------------------------------------------------- hostile queries and fields in JSON


def _only_escaped_plus_mark(fragment: str) -> str:
    """``fragment`` without its <mark> tags; fails if any other markup is left."""
    bare = fragment.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in bare and ">" not in bare, fragment
    return html.unescape(bare)


@pytest.mark.parametrize("q, hostile_id, raw_title", [
    (f"{SCRIPT} wombat", HOSTILE, HOSTILE_TITLE),
    ('"><script>alert(1)</script>', HOSTILE, HOSTILE_TITLE),
    (IMG, HOSTILE, HOSTILE_TITLE),
    ("wombat", HOSTILE, HOSTILE_TITLE),
    ("quokka", HOSTILE_RAW, '& "quotes" quokka'),  # literal tags in the file are stripped by the reader
])
def test_api_highlights_are_escaped_text_plus_mark(client, q, hostile_id, raw_title):
    body = client.get("/api/search", query_string={"q": q}).get_json()
    assert body["query"]["text"] == q
    assert body["total"] > 0
    for result in body["results"]:
        assert _only_escaped_plus_mark(result["highlights"]["title"]) == result["title"]
        snippet = _only_escaped_plus_mark(result["highlights"]["snippet"])
        stored = client.get(f"/api/articles/{result['id']}").get_json()
        for piece in filter(None, (p.strip() for p in snippet.split("…"))):
            assert piece in stored["excerpt"] or piece in stored["body"], piece
    hostile = [r for r in body["results"] if r["id"] == hostile_id]
    assert hostile, [r["id"] for r in body["results"]]
    marked_title = hostile[0]["highlights"]["title"]
    assert "&amp;" in marked_title and ("&lt;" in marked_title) == ("<" in raw_title)
    assert hostile[0]["title"] == raw_title  # the raw field is data, for clients to escape


def test_hostile_fields_are_returned_as_data(client):
    body = client.get(f"/api/articles/{HOSTILE}").get_json()
    assert body["title"] == HOSTILE_TITLE
    assert body["excerpt"] == f"Wombat {IMG} excerpt"
    assert body["topics"] == [HOSTILE_TOPIC]
    assert body["provider"]["name"] == HOSTILE_PROVIDER
    assert body["url"] == "javascript:alert(1)"
    assert body["extra"] == {"mood": SCRIPT}
    raw = client.get(f"/api/articles/{HOSTILE_RAW}").get_json()
    assert SCRIPT not in raw["title"] and "onerror" not in raw["excerpt"]  # the reader stripped literal tags
    assert raw["image"] == "javascript:alert(2)"


def test_no_index_yet_is_503_json_and_the_landing_page_still_renders(tmp_path, spec):
    empty = create_app(tmp_path / "no-index").test_client()
    for url in ("/api/health", "/api/search?q=bank"):
        response = empty.get(url)
        error = api_error(response, 503)
        assert "index" in error["message"]
        assert_valid(spec, "Error", response.get_json())
    assert empty.get("/").status_code == 200
    page = empty.get("/?q=bank")
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "Traceback" not in page.get_data(as_text=True)


# ---------------------------------------------------------------- suggest


@pytest.mark.parametrize("prefix", ["ha", "harbor", "bank of", "BANK", "", "   ", "<script>", "zzzzzz", "é"])
def test_suggest_matches_the_schema_and_completes_prefixes(client, spec, prefix):
    response = client.get("/api/suggest", query_string={"q": prefix})
    assert response.status_code == 200
    body = response.get_json()
    assert_valid(spec, "Suggestions", body)
    assert body["query"] == prefix
    from search.analysis import fold

    wanted = fold(" ".join(prefix.split()))  # case and accents do not matter
    for item in body["suggestions"]:
        text = fold(item["text"])
        assert text.startswith(wanted) or f" {wanted}" in text


def test_suggest_offers_words_and_titles_from_the_archive(client):
    kinds = {item["kind"] for item in client.get("/api/suggest?q=harb").get_json()["suggestions"]}
    assert {"term", "title"} <= kinds


def test_suggest_bounds_its_input(client):
    assert api_error(client.get("/api/suggest", query_string={"q": "x" * 101}), 400)["message"]
    assert client.get("/api/suggest", query_string={"q": "x" * 100}).status_code == 200
    assert "/api/suggest" in client.get("/api/openapi.json").get_json()["paths"]


@pytest.mark.parametrize("stamp", [
    dt.datetime(2023, 3, 15, 12, 0), dt.datetime(1987, 10, 20, 0, 0, 0, 123456), dt.datetime(1, 1, 1),
    dt.datetime(2023, 3, 15, 12, 0, tzinfo=dt.timezone.utc),
    dt.datetime(2023, 3, 15, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
])
def test_dates_in_the_json_are_utc_with_a_z(stamp):
    # The index's dates are naive UTC and now skip the round trip through a time zone: same text.
    aware = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.timezone.utc)
    assert iso_utc(stamp) == aware.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    assert iso_utc(stamp).endswith("Z") and dt.datetime.fromisoformat(iso_utc(stamp)[:-1] + "+00:00") == aware
