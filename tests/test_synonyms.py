"""Consistent synonyms (issue 8): one country however it is written, the typed form
first, and a switch that searches exactly the typed words.

A small archive of parallel articles that differ only in how they name the
United States, searched with the shipped synonyms list.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from whoosh import query as Q

from search.cli import main
from search.engine import Engine
from search.querying import DEFAULT_SYNONYMS, SYNONYM_WEIGHT, Synonyms, parse
from search.request import SearchRequest
from web import create_app

from helpers import at_once_and_walked, build_index, write_article

DOTS, CAPS, SPELLED, PRONOUN, OTHER = "us/dots", "us/caps", "us/spelled", "us/pronoun", "us/other"
ARTICLES = {
    DOTS: ("U.S. trade deficit widens in March", "The U.S. trade deficit widened to 15 billion dlrs in March."),
    CAPS: ("US trade deficit widens in April", "The US trade deficit widened to 14 billion dlrs in April."),
    SPELLED: ("Trade deficit of the United States widens",
              "The United States trade deficit widened to 13 billion dlrs in May."),
    PRONOUN: ("Exporters ask for help", 'The trade deficit "hurts us all", exporters said in June.'),
    OTHER: ("Japan trade surplus grows", "Japan's trade surplus grew to 9 billion dlrs in June."),
}
COUNTRY = {DOTS, CAPS, SPELLED}


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("synonyms")
    for number, (doc_id, (title, excerpt)) in enumerate(ARTICLES.items()):
        write_article(root / "data", doc_id + ".md", title=title, excerpt=excerpt,
                      published=f"1987-03-{10 + number:02d}T10:00:00Z")
    build_index(root / "data", root / "index")
    return root / "data", root / "index"


@pytest.fixture(scope="module")
def engine(archive):
    eng = Engine(archive[1], recheck_seconds=60, synonyms=DEFAULT_SYNONYMS, recency_weight=0)
    yield eng
    eng.close()


def search(engine, text, **options):
    return engine.search(SearchRequest(text, page_size=100, collapse=False, **options))


def ranked(engine, text, **options) -> list[str]:
    return [hit.id for hit in search(engine, text, **options).hits]


# ---------------------------------------------------------------- one country, however written


@pytest.mark.parametrize("text", ["US trade deficit", "U.S. trade deficit", "United States trade deficit",
                                  "us trade deficit", "u.s. trade deficit", "united states trade deficit",
                                  "USA trade deficit", "U.S.A. trade deficit"])
def test_every_way_of_writing_the_country_finds_the_same_articles(engine, text):
    assert set(ranked(engine, text)) == COUNTRY


def test_the_pronoun_is_found_when_quoted(engine):
    assert set(ranked(engine, '"us" trade deficit')) == {PRONOUN}


def test_capital_us_is_not_the_pronoun_without_synonyms_either(engine):
    # The analyzer reads capital US as U.S. (the same term), with or without the synonyms list.
    assert set(ranked(engine, "US trade deficit", synonyms=False)) == {DOTS, CAPS}
    assert set(ranked(engine, "U.S. trade deficit", synonyms=False)) == {DOTS, CAPS}


# ---------------------------------------------------------------- the typed form first


@pytest.mark.parametrize("text, typed", [
    ("U.S. trade deficit", {DOTS, CAPS}), ("US trade deficit", {DOTS, CAPS}),
    ("United States trade deficit", {SPELLED}),
])
def test_articles_with_the_typed_form_rank_above_those_with_only_a_synonym(engine, text, typed):
    order = ranked(engine, text)
    assert set(order[:len(typed)]) == typed, order
    # Without the weighting a two-word synonym ("United States") outscored the typed
    # one-word form: a phrase scores the sum of its words.
    scores = {hit.id: hit.score for hit in search(engine, text).hits}
    assert min(scores[d] for d in typed) > max(scores[d] for d in COUNTRY - typed)


def test_synonyms_are_boosted_below_the_typed_form_per_word(engine):
    reading = parse("U.S. trade deficit", engine.state(), synonyms=engine._synonyms())
    group = next(part for part in reading.query.subqueries if isinstance(part, Q.Or))
    boosts = {str(part.words if isinstance(part, Q.Phrase) else part.text): part.boost for part in group.subqueries}
    assert boosts == {"u.s": 1.0, "u.s.a": SYNONYM_WEIGHT, "usa": SYNONYM_WEIGHT,
                      str(["unit", "state"]): SYNONYM_WEIGHT / 2}


def test_weighing_leaves_queries_the_user_wrote_alone():
    synonyms = Synonyms([["ev", "electric vehicle"]])
    oil_or_gas = Q.Or([Q.Term("text", "oil"), Q.Term("text", "gas")])
    assert synonyms.weigh(oil_or_gas) == oil_or_gas
    assert synonyms.weigh(Q.Term("text", "ev")) == Q.Term("text", "ev")


def test_boosted_synonyms_are_scored_at_once_to_the_same_bits(engine):
    state = engine.state()
    context = state.searcher.context()
    for text in ("U.S. trade deficit", "United States", "US OR japan"):
        q = parse(text, state, synonyms=engine._synonyms()).query
        assert any(leaf.boost != 1 for leaf in q.leaves()), q
        for _, at_once, walked in at_once_and_walked(q, state, context):
            assert at_once == walked, text


# ---------------------------------------------------------------- exactly the typed words


def test_without_synonyms_only_the_typed_words_are_searched(engine):
    # Three words: four would be a long query, ranked by how many words match.
    response = search(engine, "United States deficit", synonyms=False)
    assert [hit.id for hit in response.hits] == [SPELLED]
    assert response.read_as == "United States deficit"
    assert {hit.id for hit in search(engine, "United States deficit").hits} == COUNTRY


def test_cli_no_synonyms(archive):
    def run(*args):
        result = CliRunner().invoke(main, ["search", *args, "--index", str(archive[1]), "--json", "--no-collapse"],
                                    env={"NEWSEARCH_SYNONYMS": str(DEFAULT_SYNONYMS)}, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    plain = run("United", "States", "deficit", "--no-synonyms")
    assert [r["id"] for r in plain["results"]] == [SPELLED]
    assert {r["id"] for r in run("United", "States", "deficit")["results"]} == COUNTRY


@pytest.fixture(scope="module")
def client(archive, monkeypatch_module):
    monkeypatch_module.setenv("NEWSEARCH_SYNONYMS", str(DEFAULT_SYNONYMS))
    return create_app(archive[1], archive[0]).test_client()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_api_and_page_take_synonyms_0(client):
    plain = client.get("/api/search", query_string={"q": "United States deficit", "synonyms": "0",
                                                    "collapse": "0"}).get_json()
    assert [r["id"] for r in plain["results"]] == [SPELLED]
    expanded = client.get("/api/search", query_string={"q": "United States deficit", "collapse": "0"}).get_json()
    assert {r["id"] for r in expanded["results"]} == COUNTRY
    page = client.get("/", query_string={"q": "United States deficit", "synonyms": "0", "sort": "newest"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "synonyms=0" in html  # links from the page (paging, sorting, facets) keep it
    assert "Japan" not in html


@pytest.mark.parametrize("value", ["2", "yes", "-1"])
def test_a_bad_synonyms_value_is_a_400_not_a_traceback(client, value):
    response = client.get("/api/search", query_string={"q": "trade", "synonyms": value})
    assert response.status_code == 400
    assert "synonyms" in response.get_json()["error"]["message"]
