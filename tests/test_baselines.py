"""The baselines: reading a corpus, and plain Whoosh and SQLite FTS5 ranking
the judged fixture in tests/relevance/fixture/."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.baselines import Fts5, PlainWhoosh, fts5_match, read_corpus

from helpers import write_article

CORPUS = Path(__file__).parent / "relevance" / "fixture" / "articles"
RATES = [  # the four fixture articles with both "interest" and "rate"
    "2023/02/2023-02-01-central-bank-raises-interest-rates-by-a-quarter-point",
    "2023/03/2023-03-02-mortgage-rates-climb-to-highest-level-in-a-decade",
    "2023/03/2023-03-20-savers-see-better-returns-as-banks-lift-deposit-rates",
    "2023/01/2023-01-12-city-crime-rates-fall-for-a-third-year",
]
HARVEST = "2023/05/2023-05-22-brazil-coffee-harvest-shrinks-after-frost"
BATTERY_CARS = {"2022/11/2022-11-08-carmaker-opens-battery-plant-for-electric-vehicles-in-ohio",
                "2022/12/2022-12-14-startup-says-solid-state-battery-could-double-electric-car-range"}


def test_read_corpus_yields_readable_articles_and_notes_the_rest(tmp_path):
    write_article(tmp_path, "2024/01/b.md", title="Second", topics=["oil", "gas"])
    write_article(tmp_path, "2024/01/a.md", title="First", body="Body text.")
    (tmp_path / "2024" / "broken.md").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    skipped = []
    articles = list(read_corpus(tmp_path, skipped))
    assert [(a.id, a.title) for a in articles] == [("2024/01/a", "First"), ("2024/01/b", "Second")]
    assert articles[1].topics == ["oil", "gas"] and articles[0].body == "Body text."
    assert skipped == ["2024/broken.md"]
    assert len(list(read_corpus(tmp_path))) == 2  # without a list to note them in


def test_fts5_match_quotes_every_word_and_drops_unusable_ones():
    assert fts5_match("oil prices") == '"oil" "prices"'
    assert fts5_match('"interest rates" - U.S.') == '"interest" "rates" "U.S."'
    assert fts5_match('oil OR -gas') == '"oil" "OR" "-gas"'  # query syntax is not FTS5's: all words are terms
    assert fts5_match('"" -- ?!') is None
    assert fts5_match("   ") is None


@pytest.fixture(scope="module")
def fts5(tmp_path_factory):
    system = Fts5(tmp_path_factory.mktemp("fts5") / "fts5.sqlite", read_corpus(CORPUS))
    yield system
    system.close()


@pytest.fixture(scope="module")
def whoosh(tmp_path_factory):
    system = PlainWhoosh(tmp_path_factory.mktemp("whoosh") / "plain-whoosh", read_corpus(CORPUS))
    yield system
    system.close()


def test_fts5_requires_every_word_and_stems_them(fts5):
    assert fts5.search("interest rates", 10) == RATES  # the crime story names "interest" only once
    assert fts5.search("coffee harvest", 10) == [HARVEST]
    assert set(fts5.search("electric vehicle batteries", 10)) == BATTERY_CARS  # porter: batteries = battery
    assert fts5.search("coffee zyxxqa", 10) == []
    assert fts5.search('"" ?!', 10) == []


def test_fts5_keeps_the_first_depth_results(fts5):
    assert fts5.search("interest rates", 2) == RATES[:2]
    assert len(fts5.ids) == 10


def test_plain_whoosh_requires_every_word_without_stemming(whoosh):
    assert set(whoosh.search("interest rates", 10)) == set(RATES)
    assert whoosh.search("coffee harvest", 10) == [HARVEST]
    assert whoosh.search("electric vehicle batteries", 10) == []  # no stemming: "batteries" is not "battery"
    assert len(whoosh.search("interest rates", 1)) == 1


def test_plain_whoosh_stores_what_a_result_page_shows(whoosh):
    hit = whoosh.searcher.search(whoosh.parser.parse("coffee harvest"), limit=1)[0]
    assert hit["id"] == HARVEST
    assert "frost" in hit["title"].lower() and hit["body"] and hit["excerpt"]
