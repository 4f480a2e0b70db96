"""The query language: how typed text is tidied, parsed and matched.

Unit tests cover ``tidy`` and ``parse_date_bound``; the rest run queries
through ``Engine.search`` over the small archive in ``helpers`` and check
exactly which articles come back and how the query was read.
"""

from __future__ import annotations

import datetime as dt

import pytest
from whoosh import query as Q

from search import querying
from search.querying import (MAX_CLAUSES, MAX_PREFIX_TERMS, MAX_QUERY_CHARS, NOTE_CODES, QueryError, parse,
                             parse_date_bound, tidy)

from helpers import (
    ACME,
    AIRSHIP,
    ARTICLES,
    BATTERY,
    BOE,
    CRUDE,
    GLOSSARY,
    HOLIDAY,
    MORTGAGE,
    NOW,
    OILFIELD,
    SHIPPING,
    UTC,
    ZEPPELIN,
    all_ids,
    published,
    search_for,
)



def search_json(engine, text, **options):
    options.setdefault("now", NOW)
    options.setdefault("page_size", 100)
    return search_for(engine, text, **options).to_json()


# ================================================================ parse_date_bound


def utc(*args):
    return dt.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("text, start", [
    ("2022", utc(2022, 1, 1)),
    ("2022-07", utc(2022, 7, 1)),
    ("2022-7", utc(2022, 7, 1)),
    ("2022-07-08", utc(2022, 7, 8)),
    (" 2022-07-08 ", utc(2022, 7, 8)),
])
def test_absolute_date_start_is_first_instant_of_the_period(text, start):
    value = parse_date_bound(text, end=False)
    assert value == start
    assert value.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("text, last_inside, first_outside", [
    ("2022", utc(2022, 12, 31, 23, 59, 59), utc(2023, 1, 1)),
    ("2022-07", utc(2022, 7, 31, 23, 59, 59), utc(2022, 8, 1)),
    ("2022-12", utc(2022, 12, 31, 23, 59, 59), utc(2023, 1, 1)),
    ("2024-02", utc(2024, 2, 29, 12), utc(2024, 3, 1)),
    ("2022-07-08", utc(2022, 7, 8, 23, 59, 59), utc(2022, 7, 9)),
])
def test_absolute_date_end_covers_the_whole_period(text, last_inside, first_outside):
    # ``until`` bounds are exclusive: the whole named period is inside, the next instant after is not.
    bound = parse_date_bound(text, end=True)
    assert last_inside < bound <= first_outside


@pytest.mark.parametrize("text, expected", [
    ("7d", NOW - dt.timedelta(days=7)),
    ("2w", NOW - dt.timedelta(days=14)),
    ("12h", NOW - dt.timedelta(hours=12)),
    ("3m", utc(2022, 12, 15, 12)),
    ("1y", utc(2022, 3, 15, 12)),
    ("15m", utc(2021, 12, 15, 12)),
    ("7D", NOW - dt.timedelta(days=7)),
])
def test_relative_dates_count_back_from_now(text, expected):
    assert parse_date_bound(text, end=False, now=NOW) == expected
    # relative bounds are instants: same value as an end bound
    assert parse_date_bound(text, end=True, now=NOW) == expected


def test_relative_months_clamp_to_the_end_of_a_shorter_month():
    now = utc(2023, 3, 31, 8)
    assert parse_date_bound("1m", end=False, now=now) == utc(2023, 2, 28, 8)
    assert parse_date_bound("1y", end=False, now=utc(2024, 2, 29)) == utc(2023, 2, 28)


@pytest.mark.parametrize("text", ["bogus", "", "2022-13", "2022-02-30", "2022-07-08T10:00", "7x", "d7", "22", "-1d"])
def test_unreadable_dates_raise_query_error(text):
    with pytest.raises(QueryError):
        parse_date_bound(text, end=False, now=NOW)


# ================================================================ tidy


def test_tidy_removes_nul_bytes_and_collapses_space():
    tidied = tidy("oil\x00crude   \t prices\x00")
    assert "\x00" not in tidied.text
    assert tidied.text == "oil crude prices"
    assert tidied.notes == []


def test_tidy_bounds_the_length_with_a_note():
    tidied = tidy("economy " * 1250)  # 10,000 characters
    assert len(tidied.text) <= MAX_QUERY_CHARS
    assert tidied.text.split() and set(tidied.text.split()) == {"economy"}  # cut at a word boundary
    assert [note.code for note in tidied.notes] == ["truncated"]


def test_tidy_takes_out_date_filters():
    tidied = tidy("oil since:2022 until:2022-07", now=NOW)
    assert tidied.text == "oil"
    assert tidied.since == utc(2022, 1, 1)
    assert utc(2022, 7, 31, 23) < tidied.until <= utc(2022, 8, 1)
    assert tidied.notes == []


def test_tidy_notes_a_bad_date_and_ignores_it():
    tidied = tidy("oil since:bogus", now=NOW)
    assert tidied.text == "oil"
    assert tidied.since is None
    [note] = tidied.notes
    assert note.code == "bad_date" and "since" in note.text and "bogus" in note.text
    assert [note.code for note in tidy("oil since:", now=NOW).notes] == ["empty_date"]


@pytest.mark.parametrize("text, expected_text, note_word, code", [
    ("foo:bar", "foo bar", "foo", "unknown_field"),
    ("title:", "title", "title", "empty_field"),
    ("title: oil", "title oil", "title", "empty_field"),
    ('"bank of england', "bank of england", "quotation", "repaired_quote"),
    ("(oil OR gas", "oil OR gas", "parenthes", "repaired_parentheses"),
    ("oil) gas", "oil gas", "parenthes", "repaired_parentheses"),
    ("*oil", "oil", "*oil", "inner_wildcard"),
    ("a*", "a", "a*", "short_prefix"),
    ("???", "", "???", "ignored_wildcard"),
])
def test_tidy_repairs_and_says_so(text, expected_text, note_word, code):
    tidied = tidy(text)
    assert tidied.text == expected_text
    [note] = tidied.notes
    assert note_word in note.text and note.code == code


@pytest.mark.parametrize("text", ["oil", "title:oil", 'title:"bank of england"', "oil* (gas OR coal) NOT crude", "COVID-19"])
def test_tidy_leaves_well_formed_queries_alone(text):
    tidied = tidy(text)
    assert tidied.text == text
    assert tidied.notes == []


def test_tidy_spells_out_minus_as_not_outside_phrases():
    tidied = tidy('oil -crude "price -cap" +gas COVID-19')
    assert tidied.text == 'oil NOT crude "price -cap" gas COVID-19'
    assert tidied.notes == []


def test_parse_reads_against_an_open_searcher(engine):
    reading = parse("bank of england since:2022", engine.state(), now=NOW)
    assert reading.since == utc(2022, 1, 1)
    assert "bank" in reading.read_as and "england" in reading.read_as
    assert reading.notes == []


# ================================================================ words, operators, phrases


@pytest.mark.parametrize("query, expected", [
    # every word is required by default
    ("bank england", {BOE, HOLIDAY}),
    ("bank england inflation", {BOE}),
    ("crude oil", {CRUDE}),
    ("oil", {CRUDE, SHIPPING}),
    ("OIL", {CRUDE, SHIPPING}),
    # OR
    ("oil OR zeppelin", {CRUDE, SHIPPING, ZEPPELIN, AIRSHIP}),
    ("oilfield OR mortgage OR zanzibar", {OILFIELD, MORTGAGE, ACME}),
    # NOT and -word
    ("oil -crude", {SHIPPING}),
    ("oil NOT crude", {SHIPPING}),
    ("zeppelin -friedrichshafen", {AIRSHIP}),
    ("bank -holiday", {BOE}),
    # parentheses
    ("(crude OR mortgage) prices", {CRUDE}),
    ("(crude OR mortgage) (prices OR payments)", {CRUDE, MORTGAGE}),
    ("tourists (zeppelin OR airship) -friedrichshafen", {AIRSHIP}),
    # prefixes
    ("oil*", {CRUDE, OILFIELD, SHIPPING}),
    ("zepp*", {ZEPPELIN, AIRSHIP}),
    ("OILF*", {OILFIELD}),
    # stemming: plural and singular, verb forms
    ("rates", {BOE, MORTGAGE}),
    ("rate", {BOE, MORTGAGE}),
    ("raising", {BOE}),
    ("climbing", {MORTGAGE}),
    # text in the body and in related coverage is searchable
    ("tankers", {SHIPPING}),
    ("sterling", {BOE}),
])
def test_query_language(engine, query, expected):
    assert all_ids(engine, query) == expected


@pytest.mark.parametrize("query, expected", [
    ('"bank of england"', {BOE}),  # the stop word "of" does not break the phrase
    ('"Bank of England raises"', {BOE}),
    ('"bank england"', {BOE}),
    ('"oil prices"', {CRUDE}),
    ('"crude prices"', set()),  # both words are in the title, but not next to each other
    ('"prices oil"', set()),  # order matters
    ('"bank holiday"', {HOLIDAY}),
    ('"holiday bank"', set()),
    ('"england bank"', set()),
    ('"zeppelin hangar"', {AIRSHIP}),
    ('"tourists lined up for tickets"', {ZEPPELIN, AIRSHIP}),
])
def test_exact_phrases_match_only_adjacent_words(engine, query, expected):
    assert all_ids(engine, query) == expected


def test_phrase_does_not_match_words_that_are_apart(engine):
    # the holiday article has both words, but "holiday crowds flock to" sits between them
    assert HOLIDAY in all_ids(engine, "bank england")
    assert HOLIDAY not in all_ids(engine, '"bank of england"')


def test_phrase_does_not_span_two_parts_of_an_article(engine):
    # the title ends with "negative", the excerpt starts with "Oil"
    assert all_ids(engine, "negative oil") == {CRUDE}
    assert all_ids(engine, '"negative oil"') == set()


# ================================================================ fields


@pytest.mark.parametrize("query, expected", [
    ("title:oil", {CRUDE}),  # SHIPPING has "oil" only in its body
    ("title:zeppelin", {ZEPPELIN}),  # AIRSHIP has it only in its body
    ("title:Zeppelin", {ZEPPELIN}),
    ('title:"bank of england"', {BOE}),
    ("title:rates", {BOE, MORTGAGE}),  # stemmed: "rate" in the mortgage title
    ("title:oil*", {CRUDE, OILFIELD}),
    ("title:(oil OR zeppelin)", {CRUDE, ZEPPELIN}),
    ("title:zeppelin OR title:mortgage", {ZEPPELIN, MORTGAGE}),
    ("title:bank -title:holiday", {BOE}),
    ("title:tankers", set()),
])
def test_title_field_matches_only_titles(engine, query, expected):
    assert all_ids(engine, query) == expected


@pytest.mark.parametrize("query, expected", [
    ("topic:energy", {CRUDE, OILFIELD}),
    ("topic:Energy", {CRUDE, OILFIELD}),
    ("topic:ENERGY", {CRUDE, OILFIELD}),
    ("topics:energy", {CRUDE, OILFIELD}),
    ('topic:"electric vehicles"', {BATTERY}),
    ('topic:"Electric Vehicles"', {BATTERY}),
    ("topic:energy topic:markets", {CRUDE}),
    ("topic:energy OR topic:housing", {CRUDE, OILFIELD, MORTGAGE}),
    ("oil topic:shipping", {SHIPPING}),
    ("oil -topic:markets", {SHIPPING}),
])
def test_topic_field_is_exact_and_case_insensitive(engine, query, expected):
    assert all_ids(engine, query) == expected


@pytest.mark.parametrize("query, expected", [
    ("source:reuters", {CRUDE, SHIPPING}),
    ("source:REUTERS", {CRUDE, SHIPPING}),
    ("source:Reuters", {CRUDE, SHIPPING}),
    ("source:reuters.com", {CRUDE, SHIPPING}),
    ("source:Reuters.COM", {CRUDE, SHIPPING}),
    ("source:bbc.co.uk", {BOE}),
    ('source:"financial times"', {MORTGAGE}),
    ("source:ft.com", {MORTGAGE}),
    ("provider:bloomberg", {OILFIELD}),
    ("site:dw.com", {ZEPPELIN, AIRSHIP}),
    ("domain:wired.com", {ACME}),
    ("oil source:reuters", {CRUDE, SHIPPING}),
    ("zeppelin source:dw.com -title:zeppelin", {AIRSHIP}),
])
def test_source_field_matches_provider_name_or_domain(engine, query, expected):
    assert all_ids(engine, query) == expected


@pytest.mark.parametrize("query, expected", [
    ("category:feature", {ZEPPELIN}),
    ("category:FEATURE", {ZEPPELIN}),
    ("type:video", {ZEPPELIN}),
    ("zeppelin category:news", {AIRSHIP}),
    ("zeppelin -type:video", {AIRSHIP}),
    ("oil type:article", {CRUDE, SHIPPING}),
])
def test_category_and_type_fields(engine, query, expected):
    assert all_ids(engine, query) == expected


def test_unknown_exact_value_matches_nothing_and_says_so(engine):
    response = search_json(engine, "topic:astrology")
    assert response["total"] == 0
    assert any("astrology" in note for note in response["query"]["notes"])


# ================================================================ dates


def _published_between(since=None, until=None):
    return {doc_id for doc_id in ARTICLES
            if (since is None or published(doc_id) >= since) and (until is None or published(doc_id) < until)}


@pytest.mark.parametrize("query, since, until", [
    ("since:2022", utc(2022, 1, 1), None),
    ("until:2021", None, utc(2022, 1, 1)),
    ("since:2021 until:2021", utc(2021, 1, 1), utc(2022, 1, 1)),
    ("since:2022-07 until:2022-07", utc(2022, 7, 1), utc(2022, 8, 1)),
    ("since:2022-07-08 until:2022-07-20", utc(2022, 7, 8), utc(2022, 7, 21)),
    ("since:7d", NOW - dt.timedelta(days=7), None),
    ("since:3m", utc(2022, 12, 15, 12), None),
    ("since:1y", utc(2022, 3, 15, 12), None),
    ("until:1y", None, utc(2022, 3, 15, 12)),
])
def test_date_filters_in_the_query(engine, query, since, until):
    expected = _published_between(since, until)
    assert expected  # the fixture has articles in every tested period
    assert all_ids(engine, query) == expected


def test_date_filters_with_known_answers(engine):
    assert all_ids(engine, "since:2022-07-08 until:2022-07-08") == {HOLIDAY}
    assert all_ids(engine, "since:7d") == {ZEPPELIN}
    assert all_ids(engine, "since:3m") == {MORTGAGE, ZEPPELIN}
    assert all_ids(engine, "oil since:2022") == {SHIPPING}
    assert all_ids(engine, "oil until:2021") == {CRUDE}
    assert all_ids(engine, "since:2022-07-09 until:2022-07-19 bank") == set()


def test_relative_dates_depend_on_now(engine):
    later = NOW + dt.timedelta(days=30)
    assert all_ids(engine, "since:7d", now=NOW) == {ZEPPELIN}
    assert all_ids(engine, "since:7d", now=later) == set()
    assert all_ids(engine, "since:2m", now=later) == {ZEPPELIN}


def test_date_words_are_not_searched_as_words(engine):
    response = search_json(engine, "oil since:2022")
    assert "since" not in response["query"]["read_as"]
    assert response["query"]["filters"]["since"] == "2022-01-01T00:00:00Z"


@pytest.mark.parametrize("query", ["oil since:bogus", "oil until:2022-13-01", "oil since:", "oil since:2022-02-30"])
def test_bad_dates_in_the_query_are_ignored_with_a_note(engine, query):
    response = search_json(engine, query)
    assert {r["id"] for r in response["results"]} == {CRUDE, SHIPPING}
    assert response["query"]["notes"], "a note must say the date was ignored"
    assert response["query"]["filters"]["since"] is None and response["query"]["filters"]["until"] is None


# ================================================================ malformed queries never raise


HOSTILE = [
    '"bank of england',
    'bank of england"',
    '"oil" "',
    "(oil OR zeppelin",
    "oil)",
    "((((oil",
    "title:",
    "title: oil",
    "foo:bar",
    "x" * 10_000,
    "oil " * 2_500,
    "*oil",
    "?il",
    "o*l",
    "a*",
    "quux*",
    "the of and",
    "!!! ??? ...",
    "*",
    "oil\x00crude",
    "\x00",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "title:<b>oil</b>",
    "AND OR NOT",
    "oil AND",
    "NOT",
    "-",
    "--oil",
    "+",
    ":",
    "::::",
    "topic:",
    'source:"',
    "since:since:2022",
    "title:title:oil",
    "oil^5",
    "oil~2",
    "[a TO z]",
    "{a TO z}",
    "'bank of england'",
    "\\",
    "\u200b\ufeff",
    "😀 oil",
    "Zürich",
    "ø" * 500,
]


@pytest.mark.parametrize("query", HOSTILE, ids=lambda q: repr(q[:30]))
def test_malformed_queries_never_raise(engine, query):
    response = search_json(engine, query, page_size=10)
    assert isinstance(response["query"]["read_as"], str)
    assert isinstance(response["query"]["notes"], list)
    assert response["query"]["text"] == query
    assert response["total"] >= len(response["results"])
    for result in response["results"]:
        _assert_safe_html(result["highlights"]["title"])
        _assert_safe_html(result["highlights"]["snippet"])


def _assert_safe_html(markup: str) -> None:
    """Only <mark> tags; every other '<' is escaped."""
    without_marks = markup.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in without_marks and ">" not in without_marks, markup


@pytest.mark.parametrize("query, note_word, expected_ids", [
    ('"bank of england', "quotation", {BOE, HOLIDAY}),
    ('bank of england"', "quotation", {BOE, HOLIDAY}),
    ("(oil OR zeppelin", "parenthes", {CRUDE, SHIPPING, ZEPPELIN, AIRSHIP}),
    ("oil)", "parenthes", {CRUDE, SHIPPING}),
    ("foo:oil", "foo", None),
    ("*oil", "*oil", {CRUDE, SHIPPING}),
    ("a*", "a*", set()),
    ("o*", "o*", None),
    ("the of and", "stop words", set()),
    ("!!! ??? ...", None, set()),
])
def test_repairs_are_explained_in_notes(engine, query, note_word, expected_ids):
    response = search_json(engine, query)
    notes = response["query"]["notes"]
    assert notes
    if note_word:
        assert any(note_word in note for note in notes), notes
    if expected_ids is not None:
        assert {r["id"] for r in response["results"]} == expected_ids


def test_unbalanced_quote_is_read_as_plain_words(engine):
    response = search_json(engine, '"bank of england')
    assert '"' not in response["query"]["read_as"]
    assert "bank" in response["query"]["read_as"] and "england" in response["query"]["read_as"]


def test_unknown_field_is_read_as_a_word(engine):
    response = search_json(engine, "mortgage:climbs")
    assert {r["id"] for r in response["results"]} == {MORTGAGE}
    assert any("mortgage" in note for note in response["query"]["notes"])
    assert "mortgage" in response["query"]["read_as"] and "climbs" in response["query"]["read_as"]


def test_bare_field_name_is_read_as_a_word(engine):
    response = search_json(engine, "title:")
    assert any("title" in note for note in response["query"]["notes"])
    assert response["query"]["read_as"] == "title"


def test_very_long_query_uses_its_start(engine):
    response = search_json(engine, "oil " * 2_500)
    assert {r["id"] for r in response["results"]} == {CRUDE, SHIPPING}
    assert any(str(MAX_QUERY_CHARS) in note for note in response["query"]["notes"])
    assert len(response["query"]["read_as"]) <= MAX_QUERY_CHARS


def test_very_long_single_word_does_not_raise(engine):
    response = search_json(engine, "x" * 10_000)
    assert response["total"] == 0
    assert response["query"]["notes"]
    assert len(response["query"]["read_as"]) <= MAX_QUERY_CHARS


def test_nul_bytes_separate_words(engine):
    response = search_json(engine, "oil\x00crude")
    assert {r["id"] for r in response["results"]} == {CRUDE}
    assert "\x00" not in response["query"]["read_as"]


def test_prefix_of_very_many_words_is_capped_with_a_note(engine):
    response = search_json(engine, "quux*")
    assert {r["id"] for r in response["results"]} == {GLOSSARY}
    assert any("quux*" in note for note in response["query"]["notes"])
    # a prefix of only a few words is not noted
    assert search_json(engine, "oil*")["query"]["notes"] == []


def test_one_letter_prefix_is_not_expanded(engine):
    response = search_json(engine, "z*")
    # 'z*' would match zeppelin and zanzibar; it is read as the word 'z' instead
    assert {r["id"] for r in response["results"]} == set()
    assert any("z*" in note for note in response["query"]["notes"])


def test_wildcard_inside_a_word_is_not_a_wildcard(engine):
    response = search_json(engine, "zep*lin")
    assert response["query"]["notes"]
    assert ZEPPELIN not in {r["id"] for r in response["results"]}


def test_only_stop_words_finds_nothing_and_says_so(engine):
    response = search_json(engine, "the of and")
    assert response["total"] == 0 and response["results"] == []
    assert response["query"]["notes"]
    assert response["query"]["fallback"] is False


def test_hostile_markup_in_the_query_is_not_reflected_in_highlights(engine):
    response = search_json(engine, "<script>alert(1)</script> zanzibar")
    assert ACME in {r["id"] for r in response["results"]}  # its body has "script", "alert" and "zanzibar"
    for result in response["results"]:
        for markup in result["highlights"].values():
            assert "<script" not in markup
            _assert_safe_html(markup)


def test_markup_in_article_text_is_escaped_in_highlights(engine):
    # the body holds the literal text "<script>alert(1)</script>" (written as entities in the file)
    response = search_json(engine, "zanzibar")
    [result] = response["results"]
    snippet = result["highlights"]["snippet"]
    assert "<mark>zanzibar</mark>" in snippet
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in snippet
    _assert_safe_html(snippet)
    assert result["highlights"]["title"] == "Profits &lt; costs &amp; taxes at Acme"


# ================================================================ how the query was read


@pytest.mark.parametrize("query, read_as", [
    ("oil", "oil"),
    ("OIL prices", "OIL prices"),
    ("oil OR zeppelin", "oil OR zeppelin"),
    ("oil -crude", "oil -crude"),
    ("oil NOT crude", "oil -crude"),
    ("oil*", "oil*"),
    ("title:oil", "title:oil"),
    ('"bank of england"', '"bank england"'),
])
def test_read_as_describes_the_query(engine, query, read_as):
    assert search_json(engine, query)["query"]["read_as"] == read_as


def test_read_as_shows_the_words_typed_not_their_stems(engine):
    read_as = search_json(engine, "raising rates")["query"]["read_as"]
    assert read_as == "raising rates"


@pytest.mark.parametrize("query, word", [("oil/gas", "oil/gas"), ("<script>alert(1)</script>", "<script>alert")])
def test_read_as_names_each_typed_word_once(engine, query, word):
    read_as = search_json(engine, query)["query"]["read_as"]
    assert read_as.count(word) == 1, read_as


# ================================================================ fallback


def test_fallback_when_no_article_has_all_the_words(engine):
    response = search_json(engine, "crude oil zeppelin")
    found = [r["id"] for r in response["results"]]
    assert response["query"]["fallback"] is True
    assert len(response["query"]["notes"]) == 1
    assert response["total"] == len(found) > 0
    # the article with most of the words comes first
    assert found[0] == CRUDE
    # each result has at least one of the words; none is unrelated
    assert set(found) <= {CRUDE, SHIPPING, ZEPPELIN, AIRSHIP}
    assert {CRUDE, ZEPPELIN}.issubset(found)


def test_fallback_result_highlights_the_words_it_has(engine):
    response = search_json(engine, "zanzibar mortgage")
    assert response["query"]["fallback"] is True
    by_id = {r["id"]: r for r in response["results"]}
    assert set(by_id) == {ACME, MORTGAGE}
    assert "<mark>Mortgage</mark>" in by_id[MORTGAGE]["highlights"]["title"]
    assert "<mark>zanzibar</mark>" in by_id[ACME]["highlights"]["snippet"]


def test_no_fallback_when_all_words_match(engine):
    response = search_json(engine, "crude oil")
    assert response["query"]["fallback"] is False
    assert response["query"]["notes"] == []


def test_no_fallback_for_a_single_unknown_word(engine):
    response = search_json(engine, "xylophone")
    assert response["total"] == 0
    assert response["query"]["fallback"] is False


def test_fallback_respects_filters(engine):
    response = search_json(engine, "crude oil zeppelin", sources=["dw.com"])
    assert response["query"]["fallback"] is True
    assert {r["id"] for r in response["results"]} == {ZEPPELIN, AIRSHIP}


# ================================================================ required parts that match nothing


@pytest.mark.parametrize("query", ["oil topic:astrology", "oil source:nosuchpaper"])
def test_required_exact_value_that_matches_nothing_is_not_dropped(engine, query):
    response = search_json(engine, query)
    # 'topic:astrology' alone finds nothing; adding a required word must not find more
    assert response["total"] == 0 or response["query"]["fallback"] is True, response


def test_required_prefix_that_matches_nothing_is_not_dropped(engine):
    response = search_json(engine, "oil qqqzz*")
    # compare with the plain word 'oil qqqzz', which finds nothing with all words and falls back
    assert response["total"] == 0 or response["query"]["fallback"] is True, response


def test_minus_and_not_mean_the_same_alone(engine):
    minus = search_json(engine, "-oil")
    not_ = search_json(engine, "NOT oil")
    assert minus["query"]["read_as"] == not_["query"]["read_as"]
    assert minus["total"] == not_["total"]


@pytest.mark.parametrize("query", ["crude zeppelin NOT tourists", "crude zeppelin -tourists"])
def test_fallback_keeps_excluded_words_excluded(engine, query):
    # no article has both 'crude' and 'zeppelin'; both zeppelin articles mention tourists
    response = search_json(engine, query)
    assert response["query"]["fallback"] is True
    assert {r["id"] for r in response["results"]} == {CRUDE}


# ================================================================ note codes


# A query that makes each kind of note (all but "unparsed", tested on its own).
NOTE_EXAMPLES = [
    ("oil " * 200, "truncated"),
    ("oil since:", "empty_date"),
    ("oil since:bogus", "bad_date"),
    ("foo:oil", "unknown_field"),
    ("title:", "empty_field"),
    ('"oil', "repaired_quote"),
    ("(oil", "repaired_parentheses"),
    ("???", "ignored_wildcard"),
    ("a*", "short_prefix"),
    ("*oil", "inner_wildcard"),
    ("the of and", "no_words"),
    (" OR ".join(f"w{n}x" for n in range(MAX_CLAUSES + 1)), "many_clauses"),
    ("quux*", "many_prefix_words"),
    ("topic:nothere oil", "unknown_value"),
    ("bank england interest rates inflation", "long_query"),
    ("zepelin", "spelling_applied"),
    ("bitcoin", "unknown_word"),
    ("zeppelin mortgage", "fallback"),
]


@pytest.mark.parametrize("query, code", NOTE_EXAMPLES)
def test_each_kind_of_note_has_its_code(engine, query, code):
    response = search_for(engine, query, now=NOW)
    assert code in [note.code for note in response.notes], response.notes
    assert all(note.code in NOTE_CODES for note in response.notes)
    # the JSON keeps the documented shape: the notes' texts
    assert response.to_json()["query"]["notes"] == [note.text for note in response.notes]


def test_a_query_whoosh_cannot_parse_is_read_as_plain_words_with_a_note(engine, monkeypatch):
    real = querying.make_parser

    class Failing:
        def __init__(self):
            self.parser, self.calls = real(engine.searcher().schema), 0

        def parse(self, text):
            self.calls += 1
            if self.calls == 1:
                raise ValueError("unreadable")
            return self.parser.parse(text)

    monkeypatch.setattr(querying, "make_parser", lambda schema: Failing())
    reading = parse("oil (gas)", engine.state(), now=NOW)
    assert [note.code for note in reading.notes] == ["unparsed"]
    assert "ValueError" in reading.notes[0].text and "oil" in reading.read_as


def test_every_note_code_is_tested_above():
    tested = {code for _, code in NOTE_EXAMPLES} | {"unparsed", "many_prefixes", "partial"}  # tests of their own
    assert tested == set(NOTE_CODES)


def test_a_synonym_with_a_wildcard_stays_a_bounded_prefix_and_keeps_the_other_words(engine):
    # Once read as "text:*": every article, and the other words dropped.
    state = engine.state()
    for text in ("ai*", "EV* battery", "jobless*", "fed* rates"):
        reading = parse(text, state, synonyms=engine._synonyms())
        assert not any(isinstance(part, Q.Every) for part in reading.query.leaves()), text
        words = [leaf.text for leaf in reading.query.leaves() if isinstance(leaf, Q.Term)]
        assert len(words) <= MAX_PREFIX_TERMS + 2, text
    assert "batteri" in str(parse("EV* battery", state, synonyms=engine._synonyms()).query)
    assert "rate" in str(parse("fed* rates", state, synonyms=engine._synonyms()).query)


def test_a_wildcard_after_a_group_is_ignored_with_a_note(engine):
    reading = parse("(harbor OR zeppelin)* report", engine.state())
    assert str(reading.query) == "((text:harbor OR text:zeppelin) AND text:report)"
    assert "ignored_wildcard" in [note.code for note in reading.notes]


def test_prefixes_together_stand_for_a_bounded_number_of_words(engine, monkeypatch):
    monkeypatch.setattr(querying, "MAX_EXPANDED_TERMS", 3)
    reading = parse("ha* report ba*", engine.state())
    assert str(reading.query) == "((text:harbor OR text:hacker OR text:half) AND text:report)"  # report is kept
    assert "many_prefixes" in [note.code for note in reading.notes]


def test_spelling_is_corrected_on_the_cut_query_only(engine, monkeypatch):
    seen = []
    real = type(engine)._correction
    monkeypatch.setattr(type(engine), "_correction", lambda self, text: seen.append(text) or real(self, text))
    response = search_for(engine, "zepelin " * 20_000, now=NOW)
    assert seen and all(len(text) <= MAX_QUERY_CHARS for text in seen)
    assert "truncated" in [note.code for note in response.notes]
