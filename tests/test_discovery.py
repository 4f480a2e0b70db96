"""Relevance and discovery, at engine and CLI level: spelling correction,
suggestions, collapsing copies of one story, similar articles, synonyms,
recency and long natural-language queries.

Every archive here is small and hand-written, so each test can say exactly
which articles a query must (and must not) return.
"""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from search.cli import main
from search.engine import Engine
from search.analysis import index_terms
from search.stories import story_key
from search.vocabulary import load_counts

from helpers import P, build_index, ids, search_for, write_archive, write_article

ENV_VARS = ("NEWSEARCH_DATA", "NEWSEARCH_INDEX", "NEWSEARCH_SYNONYMS", "NEWSEARCH_RECENCY_WEIGHT",
            "NEWSEARCH_RECENCY_HALF_LIFE_DAYS")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """Settings must come from the test, never from the caller's shell."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def run(*args, env=None):
    base = {name: None for name in ENV_VARS}
    base.update(env or {})
    return CliRunner().invoke(main, [str(a) for a in args], env=base, catch_exceptions=False)


def build(root, articles):
    data = write_archive(root / "data", articles)
    index = root / "index"
    report = build_index(data, index)
    assert report.indexed == len(articles) and not report.problems, report.to_json()
    return index


# ================================================================ the main archive

REUTERS = P("Reuters", "reuters.com")
AP = P("Associated Press", "apnews.com")
COFCO = P("Cofco Daily", "cofcodaily.example")
GAZETTE = P("Civic Gazette", "gazette.example")
TECH = P("Tech Wire", "techwire.example")

GOVERNMENT_TOPICS = ["housing", "schools", "railways", "hospitals", "water", "energy", "farming", "borders"]

DISCOVERY = {
    # --- coffee: spelling, suggestions, long questions
    "coffee/frost-brazil": dict(
        title="Frost damages coffee crops in Brazil",
        excerpt="Coffee prices jumped after a severe frost hit plantations in Minas Gerais, Brazil.",
        body="Growers said the frost was the worst in decades for coffee trees.",
        published="2023-06-01T08:00:00Z", provider=REUTERS, topics=["Coffee Trade"],
    ),
    "coffee/vietnam-outlook": dict(
        title="Coffee price outlook for Vietnam",
        excerpt="Analysts expect the coffee price to ease as Vietnam's harvest grows.",
        body="Robusta coffee from Vietnam is in demand.",
        published="2023-05-20T08:00:00Z", provider=COFCO, topics=["Coffee Trade"],
    ),
    "coffee/coffeehouse": dict(
        title="A coffeehouse revival in Vienna",
        excerpt="The old coffeehouse culture draws tourists again.",
        body="Each coffeehouse serves coffee with a glass of water.",
        published="2023-04-02T08:00:00Z", provider=GAZETTE, topics=["Culture"],
    ),
    "coffee/startup": dict(
        title="Startup cofounder opens a roastery",
        excerpt="A former engineer roasts coffee beans in a garage.",
        published="2023-03-15T08:00:00Z", provider=TECH, topics=["Business"],
    ),
    "misc/brazil-election": dict(
        title="Brazil elects a new president",
        excerpt="Voters in Brazil went to the polls on Sunday.",
        published="2022-10-30T20:00:00Z", provider=AP, topics=["Politics"],
    ),
    "misc/stopwords": dict(
        title="What happened after the final whistle",
        excerpt="What happened to them is what it is, and that was that.",
        body="They were there and then they were not; it was what it was, and what happened, happened to all of us.",
        published="2023-06-02T08:00:00Z", provider=GAZETTE, topics=["Sport"],
    ),
    # --- one article with a typo in the archive ("goverment", once)
    "politics/budget-talks": dict(
        title="Budget talks stall in parliament",
        excerpt="Negotiators left without a deal.",
        body="The goverment said talks would resume next week.",
        published="2023-02-01T08:00:00Z", provider=GAZETTE, topics=["Politics"],
    ),
    # --- collapsing: one story from two providers, a day apart, words in another order and case
    "stories/port-strike-reuters": dict(
        title="Port strike halts grain exports",
        excerpt="Dock workers walked out at the main grain terminal.",
        body="Ships waited offshore as the strike entered its second day.",
        published="2023-05-10T09:00:00Z", provider=REUTERS, topics=["Shipping", "Agriculture"],
    ),
    "stories/port-strike-ap": dict(
        title="GRAIN EXPORTS HALTED BY PORT STRIKE",
        excerpt="A walkout by dock workers stopped grain shipments.",
        body="The strike left ships waiting offshore.",
        published="2023-05-11T15:00:00Z", provider=AP, topics=["Shipping"],
    ),
    "stories/dock-workers": dict(
        title="Dock workers strike spreads to more ports",
        excerpt="Unions at three more ports joined the walkout of dock workers.",
        body="Shipping lines diverted ships while the strike continued.",
        published="2023-05-14T09:00:00Z", provider=GAZETTE, topics=["Shipping"],
    ),
    # --- a weekly column: the same title every week is a new story each week
    "stories/cocoa-review-1": dict(
        title="Cocoa review", excerpt="Cocoa futures were steady this week.",
        published="2023-04-07T17:00:00Z", provider=REUTERS, topics=["Commodities"],
    ),
    "stories/cocoa-review-2": dict(
        title="Cocoa review", excerpt="Cocoa futures rose this week on dry weather.",
        published="2023-04-14T17:00:00Z", provider=REUTERS, topics=["Commodities"],
    ),
    "stories/cocoa-review-3": dict(
        title="Cocoa review", excerpt="Cocoa futures fell this week as rains returned.",
        published="2023-04-21T17:00:00Z", provider=REUTERS, topics=["Commodities"],
    ),
    # --- one-word titles are never a story
    "stories/earnings-a": dict(
        title="Earnings", excerpt="Quarterly earnings beat forecasts at the bank.",
        published="2023-05-02T12:00:00Z", provider=REUTERS, topics=["Business"],
    ),
    "stories/earnings-b": dict(
        title="Earnings", excerpt="The retailer reported lower earnings.",
        published="2023-05-02T13:00:00Z", provider=AP, topics=["Business"],
    ),
    # --- synonyms
    "cars/carmaker": dict(
        title="Carmaker unveils an electric vehicle for city drivers",
        excerpt="The small electric vehicle has a range of 300 km.",
        published="2023-03-01T08:00:00Z", provider=TECH, topics=["Cars"],
    ),
    "cars/norway": dict(
        title="EV sales double in Norway",
        excerpt="Nine in ten new cars sold were an EV.",
        body="The battery of each EV is made abroad.",
        published="2023-03-02T08:00:00Z", provider=TECH, topics=["Cars"],
    ),
    "gadgets/phone-battery": dict(
        title="Phone battery lasts two days",
        excerpt="The new handset has a bigger battery.",
        published="2023-03-03T08:00:00Z", provider=TECH, topics=["Gadgets"],
    ),
    "tech/ai-headlines": dict(
        title="Artificial intelligence writes local headlines",
        excerpt="A newsroom tested artificial intelligence for sports results.",
        published="2023-03-04T08:00:00Z", provider=TECH, topics=["Media"],
    ),
    "tech/ai-chips": dict(
        title="AI chip demand soars",
        excerpt="Data centres order more AI accelerators.",
        published="2023-03-05T08:00:00Z", provider=TECH, topics=["Technology"],
    ),
}
# Eight articles using "government" three times each: 24 occurrences, far commoner than "goverment" (1).
for _i, _topic in enumerate(GOVERNMENT_TOPICS):
    DISCOVERY[f"politics/government-{_topic}"] = dict(
        title=f"Government plan for {_topic}",
        excerpt=f"The government published its {_topic} plan.",
        body=f"Critics said the government moved too slowly on {_topic}.",
        published=f"2023-01-{_i + 10:02d}T08:00:00Z", provider=GAZETTE, topics=["Politics"],
    )

FROST = "coffee/frost-brazil"
VIETNAM = "coffee/vietnam-outlook"
COFFEEHOUSE = "coffee/coffeehouse"
STARTUP = "coffee/startup"
ELECTION = "misc/brazil-election"
STOPWORDS = "misc/stopwords"
BUDGET = "politics/budget-talks"
GOVERNMENT = {f"politics/government-{t}" for t in GOVERNMENT_TOPICS}
STRIKE_REUTERS = "stories/port-strike-reuters"
STRIKE_AP = "stories/port-strike-ap"
DOCK_WORKERS = "stories/dock-workers"
COCOA = ["stories/cocoa-review-1", "stories/cocoa-review-2", "stories/cocoa-review-3"]
EARNINGS = {"stories/earnings-a", "stories/earnings-b"}
CARMAKER = "cars/carmaker"
NORWAY = "cars/norway"
PHONE = "gadgets/phone-battery"
AI_HEADLINES = "tech/ai-headlines"
AI_CHIPS = "tech/ai-chips"
COFFEE_IDS = {FROST, VIETNAM, COFFEEHOUSE, STARTUP}


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return build(tmp_path_factory.mktemp("discovery"), DISCOVERY)


@pytest.fixture(scope="module")
def engine(index):
    eng = Engine(index, recheck_seconds=60)
    yield eng
    eng.close()


def everything(engine, text, **options):
    response = search_for(engine, text, page_size=100, **options)
    assert response.total == len(response.hits)
    return response


def title_key(title):
    return story_key(term for term, _ in index_terms(title))


def test_fixture_story_keys_are_as_intended():
    assert title_key(DISCOVERY[STRIKE_REUTERS]["title"]) == title_key(DISCOVERY[STRIKE_AP]["title"])
    assert title_key("Cocoa review") is not None
    assert title_key("Earnings") is None


# ================================================================ spelling


def test_misspelled_word_finding_nothing_is_corrected(engine):
    response = everything(engine, "cofee")
    assert response.spelling == {"corrected": "coffee", "applied": True, "typed_total": 0}
    assert set(ids(response)) == COFFEE_IDS
    assert response.total == len(COFFEE_IDS)
    assert response.read_as == "coffee"
    assert any(note.code == "spelling_applied" and "cofee" in note.text and "coffee" in note.text
               for note in response.notes), response.notes
    assert response.to_json()["query"]["spelling"] == {"corrected": "coffee", "applied": True, "typed_total": 0}


def test_correction_keeps_the_other_words(engine):
    response = everything(engine, "cofee Brazil")
    assert response.spelling == {"corrected": "coffee Brazil", "applied": True, "typed_total": 2}
    assert ids(response) == [FROST]


def test_without_correct_results_are_empty_but_the_correction_is_offered(engine):
    response = everything(engine, "cofee", correct=False)
    assert response.total == 0 and response.hits == []
    assert response.spelling == {"corrected": "coffee", "applied": False, "typed_total": 0}
    assert not any(note.code == "spelling_applied" or "showing results for" in note.text for note in response.notes)


def test_rare_typed_word_keeps_its_results_and_only_offers_the_correction(engine):
    response = everything(engine, "goverment")
    assert ids(response) == [BUDGET]  # the archive's own typo still finds its article
    assert response.spelling == {"corrected": "government", "applied": False, "typed_total": 1}
    assert response.read_as == "goverment"
    # The offered correction really finds more.
    assert set(ids(everything(engine, "government"))) == GOVERNMENT


def test_correct_queries_get_no_spelling(engine):
    for text in ("coffee", "government", "Brazil coffee frost", "cocoa review", "coffeehouse"):
        assert search_for(engine, text).spelling is None, text


def test_words_are_only_corrected_to_words_in_the_archive(engine, index):
    response = search_for(engine, "elephnt")  # no elephant anywhere in the archive
    assert response.spelling is None and response.total == 0
    counts = load_counts(next(p for p in index.iterdir() if p.name.startswith("gen-")))
    # ("plantatons" is not corrected: "plantations" is in one article only, and a
    # correction must be a frequent word, never an archive's one-off; see test_spelling.py)
    for typed in ("cofee", "goverment", "cofee brazl"):
        spelling = search_for(engine, typed).spelling
        assert spelling is not None, typed
        for word in spelling["corrected"].split():
            assert counts.get(word.casefold(), 0) > 0, (typed, spelling)


def test_stop_words_are_left_alone(engine):
    # "the" is a stop word, never a correction; and three letters are too few to
    # correct with confidence ("ten" is in the archive but "teh" is left alone)
    assert search_for(engine, "teh").spelling is None
    assert search_for(engine, "cofee of the").spelling == {"corrected": "coffee of the", "applied": True, "typed_total": 0}




def test_typo_in_a_long_question_is_offered(engine):
    response = search_for(engine, QUESTION.replace("coffee", "cofee"), page_size=50)
    assert response.spelling == {"corrected": QUESTION, "applied": False, "typed_total": 4}


def test_typo_next_to_an_unknown_word_is_corrected(engine):
    response = search_for(engine, "cofee zebra", page_size=50)
    assert response.spelling is not None and response.spelling["corrected"] == "coffee zebra"
    assert set(ids(response)) == COFFEE_IDS  # the articles with most of the (corrected) words


def test_correction_applies_within_filters(engine):
    response = everything(engine, "cofee", topics=["Culture"])
    assert response.spelling == {"corrected": "coffee", "applied": True, "typed_total": 0}
    assert ids(response) == [COFFEEHOUSE]


def test_correction_inside_a_phrase_and_with_exclusions(engine):
    response = everything(engine, '"cofee crops"')
    assert response.spelling == {"corrected": '"coffee crops"', "applied": True, "typed_total": 0}
    assert ids(response) == [FROST]
    response = everything(engine, "cofee -brazil")
    assert response.spelling["applied"] is True
    assert set(ids(response)) == COFFEE_IDS - {FROST}


def test_cli_search_shows_the_corrected_results(index):
    result = run("search", "cofee", "--index", index)
    assert result.exit_code == 0, result.output
    assert "Showing results for 'coffee'" in result.output
    assert "Frost damages coffee crops in Brazil" in result.stdout


def test_cli_search_no_correct_exits_1_with_did_you_mean(index):
    result = run("search", "cofee", "--no-correct", "--index", index)
    assert result.exit_code == 1, result.output
    assert "Did you mean: coffee?" in result.output
    assert "No results for 'cofee'" in result.stdout


def test_cli_search_json_carries_the_spelling(index):
    result = run("search", "goverment", "--index", index, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["query"]["spelling"] == {"corrected": "government", "applied": False, "typed_total": 1}
    assert [r["id"] for r in payload["results"]] == [BUDGET]


def test_cli_search_no_correct_keeps_results_of_a_rare_word(index):
    result = run("search", "goverment", "--no-correct", "--index", index)
    assert result.exit_code == 0, result.output
    assert "Did you mean: government?" in result.output
    assert "Budget talks stall in parliament" in result.stdout


# ================================================================ suggestions


def texts(items, kind=None):
    return [item["text"] for item in items if kind is None or item["kind"] == kind]


def test_suggest_completes_words_most_common_first(engine):
    found = engine.suggest("cof", limit=50)
    assert texts(found, "term")[:3] == ["coffee", "coffeehouse", "cofounder"]
    assert all(item["kind"] in {"term", "topic", "source", "title"} for item in found)


def test_suggest_offers_topics_and_sources_case_insensitively(engine):
    found = engine.suggest("COF", limit=50)
    assert {"text": "Coffee Trade", "kind": "topic"} in found
    assert {"text": "Cofco Daily", "kind": "source"} in found
    assert found == engine.suggest("cof", limit=50)
    assert {"text": "Civic Gazette", "kind": "source"} in engine.suggest("civ", limit=50)


def test_suggest_offers_titles_with_a_word_starting_with_the_prefix(engine):
    titles = texts(engine.suggest("coffeeh", limit=50), "title")
    assert titles == ["A coffeehouse revival in Vienna"]
    titles = texts(engine.suggest("vietn", limit=50), "title")
    assert titles == ["Coffee price outlook for Vietnam"]


def test_suggest_only_words_from_the_archive(engine, index):
    counts = load_counts(next(p for p in index.iterdir() if p.name.startswith("gen-")))
    for item in engine.suggest("co", limit=50):
        if item["kind"] == "term":
            assert counts.get(item["text"], 0) > 0, item
            assert item["text"].startswith("co")
    assert engine.suggest("zqxw") == []


def test_suggest_multi_word_prefix_completes_the_last_word(engine):
    found = engine.suggest("brazil cof", limit=50)
    terms = texts(found, "term")
    assert terms and terms[0] == "brazil coffee"
    assert all(t.startswith("brazil cof") for t in terms)
    assert "Frost damages coffee crops in Brazil" not in texts(found, "title")  # "brazil cof" is not in it
    # Extra spaces do not matter; the earlier words are kept.
    assert texts(engine.suggest("  frost   damages  cof ", limit=50), "term")[0] == "frost damages coffee"


def test_suggest_multi_word_prefix_finds_titles_with_that_phrase(engine):
    found = engine.suggest("coffee cr", limit=50)
    assert "Frost damages coffee crops in Brazil" in texts(found, "title")
    assert "coffee crops" in texts(found, "term")


@pytest.mark.parametrize("prefix", ["", " ", "   \t\n "])
def test_suggest_empty_prefix_gives_nothing(engine, prefix):
    assert engine.suggest(prefix) == []


def test_suggest_respects_the_limit(engine):
    assert len(engine.suggest("c", limit=50)) > 8
    assert len(engine.suggest("c", limit=3)) == 3
    assert len(engine.suggest("c")) == 8


def test_suggest_over_long_input_is_bounded(engine):
    found = engine.suggest("coffee " * 20_000 + "cof")
    assert isinstance(found, list) and found  # completions of the (cut) last word
    assert all(len(item["text"]) <= 200 for item in found)
    assert engine.suggest("x" * 100_000) == []


def test_cli_suggest_prints_completions(index):
    result = run("suggest", "cof", "--index", index)
    assert result.exit_code == 0, result.output
    assert "coffee  (term)" in result.stdout
    assert "Coffee Trade  (topic)" in result.stdout


def test_cli_suggest_exits_1_without_completions(index):
    result = run("suggest", "zqxw", "--index", index)
    assert result.exit_code == 1
    assert result.stdout.strip() == ""


def test_cli_suggest_json_is_one_object(index):
    result = run("suggest", "cof", "--index", index, "--json", "--limit", 3)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["query"] == "cof"
    assert len(payload["suggestions"]) == 3
    assert all(set(item) == {"text", "kind"} for item in payload["suggestions"])


# ================================================================ collapsing copies of one story


def test_copies_of_one_story_are_one_result(engine):
    response = everything(engine, "grain exports")
    assert response.total == 1
    [only] = response.hits
    assert {only.id, *(c["id"] for c in only.duplicates)} == {STRIKE_REUTERS, STRIKE_AP}
    assert len(only.duplicates) == 1
    [copy] = only.duplicates
    expected = DISCOVERY[copy["id"]]["provider"]
    assert copy["provider"] == expected
    assert copy["title"] == DISCOVERY[copy["id"]]["title"]
    assert copy["published"] == DISCOVERY[copy["id"]]["published"]
    assert only.to_json()["duplicates"] == [copy]


def test_total_counts_stories_not_articles(engine):
    response = everything(engine, "strike")
    assert response.total == 2  # the grain story (two copies) and the dock workers story
    assert {h.id for h in response.hits} & {STRIKE_REUTERS, STRIKE_AP}
    assert DOCK_WORKERS in ids(response)
    assert sum(1 + len(h.duplicates) for h in response.hits) == 3


def test_no_collapse_lists_every_copy(engine):
    response = everything(engine, "grain exports", collapse=False)
    assert response.total == 2
    assert set(ids(response)) == {STRIKE_REUTERS, STRIKE_AP}
    assert all(h.duplicates == [] for h in response.hits)


def test_facets_count_every_article_when_collapsed(engine):
    response = everything(engine, "grain exports")
    providers = {f["value"]: f["count"] for f in response.facets["providers"]}
    assert providers == {"Reuters": 1, "Associated Press": 1}
    topics = {f["value"]: f["count"] for f in response.facets["topics"]}
    assert topics == {"Shipping": 2, "Agriculture": 1}
    assert sum(b["count"] for b in response.timeline["buckets"]) == 2


def test_weekly_column_with_the_same_title_is_not_collapsed(engine):
    response = everything(engine, "cocoa review")
    assert response.total == 3
    assert set(ids(response)) == set(COCOA)
    assert all(h.duplicates == [] for h in response.hits)


def test_one_word_titles_are_never_collapsed(engine):
    response = everything(engine, "earnings")
    assert response.total == 2
    assert set(ids(response)) == EARNINGS
    assert all(h.duplicates == [] for h in response.hits)


def test_collapsing_also_applies_when_sorted_by_date(engine):
    for sort in ("newest", "oldest"):
        response = everything(engine, "grain exports", sort=sort)
        assert response.total == 1 and len(response.hits[0].duplicates) == 1, sort


def test_paging_collapsed_results_shows_each_story_once(engine):
    query = "strike OR cocoa OR earnings"
    first = search_for(engine, query, page_size=2)
    assert first.total == 7  # grain story (2 copies), dock workers, three cocoa reviews, two "Earnings"
    seen = []
    for page in range(1, first.pages + 1):
        response = search_for(engine, query, page_size=2, page=page)
        assert response.total == first.total
        seen += [h.id for h in response.hits] + [c["id"] for h in response.hits for c in h.duplicates]
    assert len(seen) == len(set(seen)) == 8  # every article once, as a result or as a copy


def test_cli_shows_and_1_more(index):
    result = run("search", "grain", "exports", "--index", index)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 story (2 articles) for 'grain exports'")  # truthful totals (issue 9)
    assert "and 1 more: " in result.stdout
    more = next(line for line in result.stdout.splitlines() if "and 1 more" in line)
    assert "Reuters" in more or "Associated Press" in more


def test_cli_no_collapse_lists_both(index):
    result = run("search", "grain", "exports", "--no-collapse", "--index", index)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("2 results for 'grain exports'")
    assert "and 1 more" not in result.stdout
    assert "Port strike halts grain exports" in result.stdout
    assert "GRAIN EXPORTS HALTED BY PORT STRIKE" in result.stdout


# ================================================================ similar articles


def test_similar_returns_related_articles(engine):
    found = engine.similar(STRIKE_REUTERS)
    assert found, "no similar articles"
    assert found[0].id == DOCK_WORKERS
    assert all(h.title for h in found)


def test_similar_never_returns_the_article_or_its_copies(engine):
    for doc_id in (STRIKE_REUTERS, STRIKE_AP):
        found = ids_of(engine.similar(doc_id, limit=50))
        assert STRIKE_REUTERS not in found and STRIKE_AP not in found
    for doc_id in (FROST, COCOA[0]):
        assert doc_id not in ids_of(engine.similar(doc_id, limit=50))


def ids_of(hits):
    return [h.id for h in hits]


def test_similar_respects_the_limit(engine):
    assert len(engine.similar(FROST, limit=50)) > 2
    assert len(engine.similar(FROST, limit=2)) == 2


def test_similar_unknown_id_is_none(engine):
    assert engine.similar("no/such/article") is None
    assert engine.similar("") is None


def test_cli_similar_prints_titles(index):
    result = run("similar", STRIKE_REUTERS, "--index", index)
    assert result.exit_code == 0, result.output
    assert "Dock workers strike spreads to more ports" in result.stdout
    assert DOCK_WORKERS in result.stdout
    assert "GRAIN EXPORTS HALTED BY PORT STRIKE" not in result.stdout


def test_cli_similar_json(index):
    result = run("similar", STRIKE_REUTERS, "--index", index, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["id"] == STRIKE_REUTERS
    assert payload["similar"][0]["id"] == DOCK_WORKERS


def test_cli_similar_unknown_id_exits_2(index):
    result = run("similar", "no/such/article", "--index", index)
    assert result.exit_code == 2
    assert "no article with id 'no/such/article'" in result.output


# ================================================================ synonyms


@pytest.fixture(scope="module")
def synonyms_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("synonyms") / "synonyms.txt"
    path.write_text("# test list\nev = electric vehicle = electric vehicles\nphone = handset\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def synonym_engine(index, synonyms_file):
    eng = Engine(index, recheck_seconds=60, synonyms=synonyms_file)
    yield eng
    eng.close()


def test_abbreviation_finds_the_spelled_out_phrase(synonym_engine):
    response = everything(synonym_engine, "EV")
    assert set(ids(response)) == {CARMAKER, NORWAY}
    assert "electric vehicle" in response.read_as
    assert "EV" in response.read_as




def test_an_edited_synonyms_file_is_read_again(index, tmp_path):
    path = tmp_path / "synonyms.txt"
    path.write_text("phone = handset\n", encoding="utf-8")
    eng = Engine(index, recheck_seconds=60, synonyms=path)
    try:
        before = everything(eng, "EV")
        assert "electric vehicle" not in before.read_as and set(ids(before)) != {CARMAKER, NORWAY}
        path.write_text("ev = electric vehicle\n", encoding="utf-8")
        os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)  # a later mtime, whatever the clock's grain
        after = everything(eng, "EV")
        assert "electric vehicle" in after.read_as and set(ids(after)) == {CARMAKER, NORWAY}
    finally:
        eng.close()


def test_phrase_finds_the_abbreviation(synonym_engine):
    response = everything(synonym_engine, "electric vehicle")
    assert set(ids(response)) == {CARMAKER, NORWAY}


def test_phrase_read_as_shows_the_abbreviation_as_an_alternative(synonym_engine):
    read_as = search_for(synonym_engine, "electric vehicle").read_as
    assert '"electric vehicle"' in read_as and "electric (" not in read_as, read_as


def test_quoted_phrase_is_not_expanded(synonym_engine):
    assert set(ids(everything(synonym_engine, '"electric vehicles"'))) == {CARMAKER}


def test_synonym_and_another_word(synonym_engine):
    assert set(ids(everything(synonym_engine, "EV battery"))) == {NORWAY}
    assert set(ids(everything(synonym_engine, "EV Norway"))) == {NORWAY}
    assert set(ids(everything(synonym_engine, "electric vehicle city"))) == {CARMAKER}


def test_excluded_synonym_excludes_every_alternative(synonym_engine):
    assert set(ids(everything(synonym_engine, "battery"))) == {NORWAY, PHONE}
    assert set(ids(everything(synonym_engine, "battery -ev"))) == {PHONE}
    assert set(ids(everything(synonym_engine, "battery -ev", collapse=False))) == {PHONE}
    assert set(ids(everything(synonym_engine, "cars -ev"))) == set()  # both car articles use an alternative


def test_single_word_synonyms(synonym_engine):
    assert set(ids(everything(synonym_engine, "handset"))) == {PHONE}
    assert set(ids(everything(synonym_engine, "phone"))) == {PHONE}


def test_synonyms_file_from_the_environment(index, synonyms_file, monkeypatch):
    plain = Engine(index)
    assert NORWAY not in ids(everything(plain, "handset")) and ids(everything(plain, "handset")) == [PHONE]
    monkeypatch.setenv("NEWSEARCH_SYNONYMS", str(synonyms_file))
    assert set(ids(everything(Engine(index), "handset"))) == {PHONE}
    assert set(ids(everything(Engine(index), "phone"))) == {PHONE}
    assert set(ids(everything(Engine(index), "EV"))) == {CARMAKER, NORWAY}
    # The test list has no "ai" group, so the shipped one is not in use.
    assert set(ids(everything(Engine(index), "AI"))) == {AI_CHIPS}


def test_cli_uses_the_synonyms_from_the_environment(index, synonyms_file):
    result = run("search", "phone", "--index", index, "--json", env={"NEWSEARCH_SYNONYMS": str(synonyms_file)})
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [r["id"] for r in payload["results"]] == [PHONE]
    assert "handset" in payload["query"]["read_as"]


def test_shipped_list_expands_ai(engine):
    response = everything(engine, "AI")
    assert set(ids(response)) == {AI_HEADLINES, AI_CHIPS}
    assert "artificial intelligence" in response.read_as


def test_shipped_list_expands_artificial_intelligence_to_ai(engine):
    response = everything(engine, "artificial intelligence")
    assert set(ids(response)) == {AI_HEADLINES, AI_CHIPS}


def test_shipped_list_expands_ev(engine):
    assert set(ids(everything(engine, "EV"))) == {CARMAKER, NORWAY}
    assert set(ids(everything(engine, "battery -ev"))) == {PHONE}


# ================================================================ recency


RECENCY = {
    # Identical text, differing only in date (and so in index order: a- before b- before c-).
    "a/saffron-2023": dict(title="Saffron harvest report", excerpt="Saffron growers counted the crop.",
                           published="2023-05-01T08:00:00Z"),
    "b/saffron-2021": dict(title="Saffron harvest report", excerpt="Saffron growers counted the crop.",
                           published="2021-05-01T08:00:00Z"),
    "c/saffron-2022": dict(title="Saffron harvest report", excerpt="Saffron growers counted the crop.",
                           published="2022-05-01T08:00:00Z"),
    # Vanilla in an old title against a new passing mention.
    "d/vanilla-title": dict(title="Vanilla prices climb in Madagascar", excerpt="Exporters raised their prices.",
                            published="2019-01-10T08:00:00Z"),
    "e/vanilla-mention": dict(title="Spice market weekly", excerpt="Pepper and cinnamon traded steadily.",
                              body="Traders also noted some vanilla in the warehouse.",
                              published="2023-05-01T09:00:00Z"),
    # Same text, same date: quality, then heat, break the tie (the better one is later in index order).
    "f/nutmeg-low": dict(title="Nutmeg auction results", excerpt="Nutmeg lots sold at auction.",
                         published="2022-09-01T08:00:00Z", quality=10),
    "g/nutmeg-high": dict(title="Nutmeg auction results", excerpt="Nutmeg lots sold at auction.",
                          published="2022-09-01T08:00:00Z", quality=90),
    "h/clove-cold": dict(title="Clove shipments arrive", excerpt="Clove cargo reached the port.",
                         published="2022-09-02T08:00:00Z", heat=1),
    "i/clove-hot": dict(title="Clove shipments arrive", excerpt="Clove cargo reached the port.",
                        published="2022-09-02T08:00:00Z", heat=50),
    # Newest in the index.
    "j/ginger": dict(title="Ginger exports", excerpt="Ginger exports grew.", published="2023-05-01T08:00:00Z"),
}


@pytest.fixture(scope="module")
def recency_index(tmp_path_factory):
    return build(tmp_path_factory.mktemp("recency"), RECENCY)


def test_newer_of_identical_articles_ranks_first(recency_index):
    response = search_for(Engine(recency_index), "saffron", collapse=False)
    assert ids(response) == ["a/saffron-2023", "c/saffron-2022", "b/saffron-2021"]
    scores = [h.score for h in response.hits]
    assert scores[0] > scores[1] > scores[2]


def test_newer_ranks_first_whatever_the_index_order(recency_index):
    # 2021 is indexed before 2022; the newer 2022 one must still come first.
    response = search_for(Engine(recency_index), "saffron", collapse=False, page_size=3)
    assert ids(response).index("c/saffron-2022") < ids(response).index("b/saffron-2021")


def test_without_recency_identical_articles_tie_in_index_order(recency_index):
    eng = Engine(recency_index, recency_weight=0)
    response = search_for(eng, "saffron", collapse=False)
    scores = {h.score for h in response.hits}
    assert len(scores) == 1  # exact ties
    searcher = eng.searcher()
    order = sorted(ids(response), key=lambda i: searcher.document_number(id=i))
    assert ids(response) == order


def test_recency_weight_from_the_environment(recency_index, monkeypatch):
    monkeypatch.setenv("NEWSEARCH_RECENCY_WEIGHT", "0")
    response = search_for(Engine(recency_index), "saffron", collapse=False)
    assert len({h.score for h in response.hits}) == 1


def test_recency_is_gentle(recency_index):
    response = search_for(Engine(recency_index), "vanilla")
    assert ids(response) == ["d/vanilla-title", "e/vanilla-mention"]


def test_recency_boost_size_and_half_life(recency_index):
    weight = Engine(recency_index).recency_weight  # the default
    assert 0 < weight <= 0.2  # gentle
    base = {h.id: h.score for h in search_for(Engine(recency_index, recency_weight=0), "saffron", collapse=False).hits}
    boosted = {h.id: h.score for h in
               search_for(Engine(recency_index, recency_half_life_days=365), "saffron", collapse=False).hits}
    # The newest article in the index gets 1 + weight; one about a year older half of that, two years a quarter.
    assert boosted["a/saffron-2023"] / base["a/saffron-2023"] == pytest.approx(1 + weight, abs=1e-3)
    assert boosted["c/saffron-2022"] / base["c/saffron-2022"] == pytest.approx(1 + weight / 2, abs=1e-3)
    assert boosted["b/saffron-2021"] / base["b/saffron-2021"] == pytest.approx(1 + weight / 4, abs=1e-3)
    short = {h.id: h.score for h in
             search_for(Engine(recency_index, recency_half_life_days=1), "saffron", collapse=False).hits}
    assert short["c/saffron-2022"] / base["c/saffron-2022"] == pytest.approx(1.0, abs=1e-6)
    strong = {h.id: h.score for h in
              search_for(Engine(recency_index, recency_weight=0.5), "saffron", collapse=False).hits}
    assert strong["a/saffron-2023"] / base["a/saffron-2023"] == pytest.approx(1.5, abs=1e-3)


def test_quality_breaks_exact_ties(recency_index):
    response = search_for(Engine(recency_index), "nutmeg", collapse=False)
    assert ids(response) == ["g/nutmeg-high", "f/nutmeg-low"]
    low, high = response.hits[1].score, response.hits[0].score
    assert high > low and high / low < 1.01  # a tie-breaker, not a boost


def test_heat_breaks_exact_ties(recency_index):
    response = search_for(Engine(recency_index), "clove", collapse=False)
    assert ids(response) == ["i/clove-hot", "h/clove-cold"]


def test_quality_ties_collapsed_keep_the_better_copy(recency_index):
    response = search_for(Engine(recency_index), "nutmeg")
    assert ids(response) == ["g/nutmeg-high"]
    assert [c["id"] for c in response.hits[0].duplicates] == ["f/nutmeg-low"]


OLD_NEWS = {
    "1987/02/cocoa-old": dict(title="Cocoa talks in London", excerpt="Cocoa producers met in London.",
                              published="1987-02-26T10:00:00Z"),
    "1987/10/cocoa-new": dict(title="Cocoa talks in London", excerpt="Cocoa producers met in London.",
                              published="1987-10-20T10:00:00Z"),
}


def test_recency_is_relative_to_the_newest_article(tmp_path_factory):
    index = build(tmp_path_factory.mktemp("oldnews"), OLD_NEWS)
    response = search_for(Engine(index), "cocoa", collapse=False)
    assert ids(response) == ["1987/10/cocoa-new", "1987/02/cocoa-old"]
    base = {h.id: h.score for h in search_for(Engine(index, recency_weight=0), "cocoa", collapse=False).hits}
    boosted = {h.id: h.score for h in response.hits}
    weight = Engine(index).recency_weight
    # The newest article of a 1987 archive gets the full boost, as if it were today's news;
    # one 236 days older still most of it (half-life 365 days).
    assert boosted["1987/10/cocoa-new"] / base["1987/10/cocoa-new"] == pytest.approx(1 + weight, abs=1e-4)
    expected_old = 1 + weight * 0.5 ** (236 / 365)
    assert boosted["1987/02/cocoa-old"] / base["1987/02/cocoa-old"] == pytest.approx(expected_old, abs=1e-4)


# ================================================================ long questions


QUESTION = "what happened to the price of coffee in brazil after the frost"


def test_long_question_finds_the_best_matching_article_first(engine):
    response = search_for(engine, QUESTION, page_size=20)
    assert response.total > 0
    assert response.hits[0].id == FROST  # price, coffee, brazil, frost: all but "happened"
    assert {FROST, VIETNAM, ELECTION, STOPWORDS} <= set(ids(response))


def test_long_question_stop_words_do_not_drive_the_ranking(engine):
    response = search_for(engine, QUESTION, page_size=50)
    order = ids(response)
    assert STOPWORDS in order  # it does mention "happened"
    assert order.index(FROST) < order.index(STOPWORDS)
    assert order.index(VIETNAM) < order.index(STOPWORDS)  # coffee and price beat "happened" + stop words


def test_long_question_partly_matching_never_gives_zero(engine):
    response = search_for(engine, "is there any news about the coffee harvest in kenya this year", page_size=50)
    assert response.total > 0
    assert response.hits[0].id == VIETNAM  # the only one with both coffee and harvest
    assert set(ids(response)) == COFFEE_IDS  # nothing has news, kenya or year


def test_long_question_whose_words_all_match_ranks_that_article_first(engine):
    response = search_for(engine, "why did the frost in brazil damage the coffee crops")
    assert response.fallback is False
    assert ids(response)[0] == FROST
    first, second = response.hits[0].score, response.hits[1].score
    assert first > 2 * second  # all five words against at most two


def test_question_made_of_stop_words_only_finds_nothing(engine):
    response = search_for(engine, "what was it that they were doing there")
    assert response.total == 0
    assert any(note.code == "no_words" and "stop words" in note.text for note in response.notes), response.notes


def test_cli_long_question(index):
    result = run("search", *QUESTION.split(), "--index", index, "--limit", 3)
    assert result.exit_code == 0, result.output
    first = next(line for line in result.stdout.splitlines() if line.strip().startswith("1."))
    assert "Frost damages coffee crops in Brazil" in first


def test_undated_articles_with_one_title_are_not_copies(tmp_path):
    # Without dates there is no telling a re-published copy from another paper or review
    # with the same title (the Cranfield abstracts have several such pairs).
    data, index = tmp_path / "data", tmp_path / "index"
    for name, body in (("a.md", "Creep buckling of columns under load."), ("b.md", "Creep buckling of shells.")):
        write_article(data, name, title="Creep buckling of structures", body=body)
    write_article(data, "c.md", title="Creep buckling of structures", body="Creep buckling of plates.",
                  published="2021-01-01T00:00:00Z")
    write_article(data, "d.md", title="Creep buckling of structures", body="Creep buckling of beams.",
                  published="2021-01-02T00:00:00Z")
    build_index(data, index)
    eng = Engine(index, recheck_seconds=0)
    try:
        response = search_for(eng, "creep buckling")
        assert response.total == 3 and response.articles == 4
        by_id = {hit.id: {copy["id"] for copy in hit.duplicates} for hit in response.hits}
        assert by_id["a"] == by_id["b"] == set() and by_id.get("c", by_id.get("d")) == {"c", "d"} - set(by_id)
    finally:
        eng.close()
