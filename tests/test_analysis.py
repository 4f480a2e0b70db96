"""The analyzer: tokenising, folding, stop words, stemming, offsets, and agreement between
``analyze``, ``term_positions``, ``NewsAnalyzer`` and the schema's ``NewsText.index``."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from whoosh import fields

from search.analysis import (STOP_WORDS, NewsAnalyzer, analyze, fold, stem, term_positions,
                             weighted_term_positions as weighted)
from search import analysis
from search.schema import NewsText, build_schema


def terms(text: str, mode: str = "index") -> list[str]:
    return [t for t, _, _, _ in analyze(text, mode=mode)]


def term_pos(text: str, mode: str = "index") -> list[tuple[str, int]]:
    return [(t, p) for t, p, _, _ in analyze(text, mode=mode)]


def tokens(analyzer, text, **kwargs) -> list[tuple]:
    """Copy out of the reused Token object."""
    return [(t.text, t.pos, t.startchar, t.endchar) for t in analyzer(text, **kwargs)]


MIXED = (
    "ZÜRICH (Reuters) - The U.S. Bank of England said COVID-19 hit e-commerce at AT&T, "
    "and Société Générale’s rates were running at 3.5% after José's talk in Düsseldorf."
)


# ---------------------------------------------------------------- tokenising


@pytest.mark.parametrize("mode", ["index", "query"])
def test_dotted_acronyms_stay_whole(mode):
    assert term_pos("U.S. oil", mode) == [("u.s", 0), ("oil", 1)]
    assert terms("the U.K. and the U.S.A.", mode) == ["u.k", "u.s.a"]
    # Not split into single letters.
    assert "u" not in terms("U.S.", mode)


def test_joined_words_index_whole_and_parts_at_same_position():
    found = term_pos("COVID-19 hit e-commerce at AT&T today")
    assert found[:3] == [("covid-19", 0), ("covid", 0), ("19", 0)]
    assert ("e-commerce", 2) in found
    assert ("commerc", 2) in found  # the part is stemmed
    assert ("at&t", 3) in found
    # Parts take no position of their own: the next word follows directly.
    assert ("today", 4) in found
    # "at" and "t" are stop words, so AT&T has no separate parts.
    assert ("at", 3) not in found and ("t", 3) not in found
    # The whole joined word is not stemmed ("e-commerce", not "e-commerc").
    assert "e-commerc" not in terms("e-commerce")


def test_joined_words_query_mode_only_whole_word():
    assert term_pos("COVID-19 hit e-commerce at AT&T today", "query") == [
        ("covid-19", 0),
        ("hit", 1),
        ("e-commerce", 2),
        ("at&t", 3),
        ("today", 4),
    ]


@pytest.mark.parametrize("dash", ["-", "\u2010", "\u2011"])
def test_unicode_hyphens_join_words(dash):
    word = f"e{dash}commerce"
    found = terms(word)
    assert found[0] == fold(word)
    assert "commerc" in found
    assert terms(word, "query") == [fold(word)]


def test_identifier_with_several_parts():
    assert terms("CVE-2021-44228", "query") == ["cve-2021-44228"]
    assert set(terms("CVE-2021-44228")) == {"cve-2021-44228", "cve", "2021", "44228"}


def test_decimal_numbers_stay_whole():
    assert terms("3.5% and 1,000 barrels") == ["3.5", "1,000", "barrel"]


def test_empty_and_punctuation_only():
    assert list(analyze("")) == []
    assert list(analyze(" -- ... !! ")) == []
    assert term_positions("") == {}


# ---------------------------------------------------------------- folding


@pytest.mark.parametrize(
    "word, term",
    [
        ("Zürich", "zurich"),
        ("ZÜRICH", "zurich"),
        ("zurich", "zurich"),
        ("Société", "societ"),
        ("Générale", "general"),
        ("José", "jose"),
        ("Düsseldorf", "dusseldorf"),
    ],
)
def test_case_and_accent_folding(word, term):
    assert terms(word) == [term]
    assert terms(word, "query") == [term]


def test_fold_function():
    assert fold("Société Générale") == "societe generale"
    assert fold("ZÜRICH") == "zurich"
    assert fold("plain ascii") == "plain ascii"


def test_accented_and_plain_spellings_meet():
    assert terms("Zurich Societe Generale Jose Dusseldorf") == terms("Zürich Société Générale José Düsseldorf")


# ---------------------------------------------------------------- stop words


def test_stop_words_dropped_without_position_gaps():
    assert term_pos("bank of england") == [("bank", 0), ("england", 1)]
    assert term_pos("The Bank of the England") == [("bank", 0), ("england", 1)]
    assert term_pos("bank of england", "query") == [("bank", 0), ("england", 1)]


def test_only_stop_words_give_nothing():
    assert terms("to the of and it is") == []


def test_stop_word_list_is_lower_case_and_keeps_us():
    assert {"the", "of", "and", "a", "to"} <= STOP_WORDS
    assert all(w == w.lower() for w in STOP_WORDS)
    # "US" (the country) must stay searchable.
    assert "us" not in STOP_WORDS
    assert terms("US troops") == ["u.s", "troop"]


@pytest.mark.parametrize("mode", ["index", "query"])
def test_capital_us_is_the_same_word_as_u_s(mode):
    # The country written either way is one term; the pronoun stays itself (issue 8).
    assert terms("US trade deficit", mode) == terms("U.S. trade deficit", mode) == ["u.s", "trade", "deficit"]
    assert terms("US SAYS ZÜRICH", mode) == ["u.s", "say", "zurich"]  # the non-ASCII path too
    assert terms("They told us. Us too", mode) == ["told", "us", "us"]
    assert terms("USDA and USX", mode) == ["usda", "usx"]


@pytest.mark.parametrize("text", ["US trade", "Let us see the US. US-made goods", "US Zürich us", "USA US"])
def test_index_terms_agree_with_analyze_on_capital_us(text):
    assert analysis.index_terms(text) == [(t, p) for t, p, _, _ in analyze(text)]


def test_capitalised_stop_words_are_dropped_in_non_ascii_text_too():
    # Non-ASCII text takes the per-token folding path; stop words must still go.
    assert terms("THE Zürich OF") == ["zurich"]


# ---------------------------------------------------------------- stemming


@pytest.mark.parametrize(
    "word, term",
    [("rates", "rate"), ("rate", "rate"), ("running", "run"), ("runs", "run"), ("Markets", "market")],
)
def test_stemming(word, term):
    assert terms(word) == [term]
    assert stem(word.lower()) == term


# Words whose stems the index stores: every distinct word of the sample archive and the
# relevance fixture, plus words that exercise the Snowball rules' corners.
STEMMED_WORDS_FROM = [Path(__file__).parent.parent / "data", Path(__file__).parent / "relevance" / "fixture"]
CORNER_WORDS = ["generously", "generate", "skies", "dying", "news", "howe'er", "cañon", "ßtraße", "arsenal",
                "communism", "y", "yes", "bye", "ied", "succeeded", "proceeding", "exceed", "inning", "outing",
                "canning", "herring", "earring", "andes", "atlas", "cosmos", "bias", "gently", "ugly", "early",
                "only", "singly", "sky", "idly", "cycling", "ableness", "'"]


def test_the_stemmer_loaded_without_nltk_init_stems_exactly_as_the_plain_import():
    import json
    import re
    import subprocess
    import sys

    from nltk.stem.snowball import EnglishStemmer

    words = set(CORNER_WORDS)
    for folder in STEMMED_WORDS_FROM:
        for path in folder.rglob("*.md"):
            words.update(re.findall(r"\w+", fold(path.read_text(encoding="utf-8", errors="replace"))))
    words = sorted(words)
    assert len(words) > 3000
    # A fresh interpreter, where nltk is not imported yet (here it is).
    code = """if True:
        import json, sys
        from search import analysis
        stemmer = analysis._snowball_without_package_inits().EnglishStemmer()
        loaded = analysis.english_stemmer()
        print(json.dumps({"stems": [stemmer.stem(word) for word in json.load(sys.stdin)],
                          "left in sys.modules": sorted(m for m in sys.modules if m.split(".")[0] == "nltk"),
                          "cheap path taken": loaded.__module__ == "nltk.stem.snowball"
                                              and "nltk" not in sys.modules}))
    """
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(words), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    plain = EnglishStemmer()
    assert found["stems"] == [plain.stem(word) for word in words]
    assert found["left in sys.modules"] == [] and found["cheap path taken"]


def test_the_stemmer_is_nltks_own_class_once_nltk_is_imported():
    import nltk.stem.snowball

    assert analysis.english_stemmer() is nltk.stem.snowball.EnglishStemmer


def test_possessive_s_is_dropped():
    assert terms("Apple's shares") == terms("Apple shares")
    assert terms("Apple\u2019s shares") == terms("Apple shares")
    assert terms("Zürich\u2019s bank") == ["zurich", "bank"]
    assert terms("Brazil's") == terms("Brazil")


def test_ascii_and_non_ascii_paths_agree():
    ascii_text = "The U.S. Bank of England said COVID-19 hit e-commerce at AT&T; Apple's rates were running."
    plain = list(analyze(ascii_text))
    with_accent = list(analyze(ascii_text + " café"))
    assert with_accent[: len(plain)] == plain
    assert with_accent[len(plain):][0][0] == "cafe"


# ---------------------------------------------------------------- offsets


@pytest.mark.parametrize(
    "text",
    [
        "U.S. rates, running COVID-19 e-commerce AT&T Apple's",
        MIXED,
        "Straße and İstanbul then Zürich",  # casefold changes the length of "ß" and "İ"
        "ﬁnance café naïve",
    ],
)
def test_offsets_point_at_the_original_text(text):
    for term, _, start, end in analyze(text):
        original = text[start:end]
        assert original, term
        assert not original[0].isspace() and not original[-1].isspace()
        # Re-analysing the original slice in query mode gives back the whole-word term.
        whole = terms(original, "query")
        assert whole and (term == whole[0] or term in terms(original))


def test_offsets_exact_values():
    text = "Société Générale’s Zürich office"
    spans = [(t, text[s:e]) for t, _, s, e in analyze(text)]
    assert spans == [
        ("societ", "Société"),
        ("general", "Générale’s"),
        ("zurich", "Zürich"),
        ("offic", "office"),
    ]
    text = "Straße in Zürich"
    assert [text[s:e] for _, _, s, e in analyze(text)] == ["Straße", "Zürich"]


def test_parts_of_joined_word_share_its_span():
    text = "big e-commerce push"
    spans = {t: text[s:e] for t, _, s, e in analyze(text)}
    assert spans["e-commerce"] == spans["commerc"] == "e-commerce"


# ---------------------------------------------------------------- term_positions


@pytest.mark.parametrize(
    "text",
    [MIXED, "rates rates rates", "covid-covid COVID-19 covid", "Bank of England. bank of England!", ""],
)
def test_term_positions_agrees_with_analyze(text):
    expected: dict[str, list[int]] = {}
    for term, pos, _, _ in analyze(text):
        expected.setdefault(term, [])
        if pos not in expected[term]:
            expected[term].append(pos)
    assert term_positions(text) == expected
    for positions in term_positions(text).values():
        assert positions == sorted(set(positions))


def test_term_positions_deduplicates_same_position():
    # "covid-covid" yields the part "covid" twice at position 0; it is stored once.
    assert term_positions("covid-covid covid")["covid"] == [0, 1]
    assert term_positions("covid-covid covid") == {"covid-covid": [0], "covid": [0, 1]}
    # Different words with one stem share a term, one position each.
    assert term_positions("rates rate") == {"rate": [0, 1]}


# ---------------------------------------------------------------- Whoosh protocol


@pytest.mark.parametrize("mode", ["index", "query"])
@pytest.mark.parametrize("text", [MIXED, "U.S. rates", "Straße in Zürich", "AT&T e-commerce"])
def test_news_analyzer_matches_analyze(text, mode):
    got = tokens(NewsAnalyzer(), text, positions=True, chars=True, mode=mode)
    assert got == list(analyze(text, mode=mode))


def test_news_analyzer_default_mode_is_index():
    got = [t for t, _, _, _ in tokens(NewsAnalyzer(), "COVID-19 cases", positions=True, chars=True)]
    assert got == terms("COVID-19 cases")
    assert "covid" in got


def test_news_analyzer_start_pos_start_char_and_original():
    text = "Zürich's COVID-19"
    got = [
        (t.text, t.pos, t.startchar, t.endchar, t.original)
        for t in NewsAnalyzer()(text, positions=True, chars=True, keeporiginal=True, start_pos=10, start_char=100)
    ]
    assert got[0] == ("zurich", 10, 100, 108, "Zürich's")
    assert got[1] == ("covid-19", 11, 109, 117, "COVID-19")
    assert all(t[1] == 11 and t[4] == "COVID-19" for t in got[1:])


def test_news_analyzer_tokenize_false_folds_without_splitting_or_stemming():
    got = list(NewsAnalyzer()("Running Zürich", tokenize=False, positions=True, chars=True))
    assert len(got) == 1
    token = got[0]
    assert token.text == "running zurich"
    assert (token.pos, token.startchar, token.endchar) == (0, 0, len("Running Zürich"))


def test_news_analyzer_equality():
    assert NewsAnalyzer() == NewsAnalyzer()
    assert hash(NewsAnalyzer()) == hash(NewsAnalyzer())
    assert NewsAnalyzer() != fields.TEXT().analyzer


# ---------------------------------------------------------------- schema


def decoded_index(field: NewsText, value) -> dict[str, tuple[int, list[int]]]:
    decode = field.format.decoder("positions")
    out = {}
    for term, freq, weight, encoded in field.index(value):
        assert isinstance(term, bytes)
        assert weight == freq * field.format.field_boost
        out[term.decode("utf-8")] = (freq, list(decode(encoded)))
    return out


@pytest.mark.parametrize("text", [MIXED, "rates rates rate", "Straße in Zürich", "", "U.S."])
def test_news_text_index_matches_analyzer(text):
    field = NewsText()
    got = decoded_index(field, text)
    expected: dict[str, list[int]] = {}
    for term, pos, _, _ in tokens(NewsAnalyzer(), text, positions=True, chars=True, mode="index"):
        expected.setdefault(term, [])
        if pos not in expected[term]:
            expected[term].append(pos)
    assert {t: pos for t, (_, pos) in got.items()} == expected
    assert all(freq == len(pos) for freq, pos in got.values())


def test_news_text_index_equals_whoosh_text_indexing():
    # The fast path must produce exactly what Whoosh's own TEXT indexing does with the analyzer.
    field = NewsText()
    assert sorted(field.index(MIXED)) == sorted(fields.TEXT.index(field, MIXED))


def test_news_text_index_joins_lists_as_lines():
    field = NewsText()
    items = ["Climate", "Electric Vehicles", "COVID-19"]
    assert decoded_index(field, items) == decoded_index(field, "\n".join(items))
    got = decoded_index(field, items)
    assert got["electr"][1] == [1] and got["vehicl"][1] == [2] and got["covid"][1] == [3]


def test_schema_title_field_uses_the_news_analyzer_with_positions():
    schema = build_schema()
    title = schema["title"]
    assert isinstance(title, NewsText)
    assert title.analyzer == NewsAnalyzer()
    assert title.format.supports("positions")
    # Every analysed field of the schema uses the same analyzer (query terms == index terms).
    for name in schema.names():
        field = schema[name]
        if isinstance(field, fields.TEXT):
            assert field.analyzer == NewsAnalyzer(), name


# ---------------------------------------------------------------- weighted parts (BM25F field)


def test_weighted_parts_sum_weights_and_keep_terms():
    found = weighted([("Bank of England rates", 4.0), ("rates rise", 1.0)])
    # Same terms as analysing each part alone.
    assert set(found) == set(term_positions("Bank of England rates")) | set(term_positions("rates rise"))
    # One occurrence in the first part (4.0) and one in the second (1.0).
    assert found["rate"][1] == pytest.approx(5.0)
    assert found["bank"][1] == pytest.approx(4.0)
    assert found["rise"][1] == pytest.approx(1.0)


def test_weighted_parts_do_not_let_phrases_span_parts():
    found = weighted([("alpha beta", 4.0), ("gamma", 1.0)])
    (beta,), (gamma,) = found["beta"][0], found["gamma"][0]
    assert gamma - beta > 1  # "beta gamma" is not a phrase across two fields
    for positions, _ in found.values():
        assert positions == sorted(set(positions))


def test_weighted_part_without_terms_does_not_rewind_positions():
    title = " ".join(f"w{i}x" for i in range(150))  # 150 distinct terms at positions 0..149
    found = weighted([(title, 4.0), ("The", 1.6), ("zeta", 1.0)])
    title_last = max(p for term, (ps, _) in found.items() if term != "zeta" for p in ps)
    assert found["zeta"][0][0] > title_last + 1


def test_index_terms_counts_words_in_the_callers_tally():
    words: dict[str, int] = {}
    analysis.index_terms("Oil prices: oil rises, the oil-price index too", words)
    analysis.index_terms("Oil exports", words)
    assert words == {"oil": 3, "prices": 1, "rises": 1, "index": 1, "exports": 1}  # words as typed, stop words not
    assert analysis.index_terms("Oil exports") == analysis.index_terms("Oil exports", {})  # counting changes no term


BACKTRACKING_TOKEN = re.compile(  # analysis.TOKEN as first written, before its possessive quantifiers
    r"(?P<acronym>(?:[^\W\d_]\.){2,})"
    r"|(?P<joined>\w+(?:[-\u2010\u2011&]\w+)+)"
    r"|(?P<number>\d+(?:[.,]\d+)+)"
    r"|(?P<word>\w+(?:['\u2019]\w+)*)"
)
CORPORA = Path(os.environ.get("NEWSEARCH_CORPORA", Path(__file__).resolve().parents[2] / "shared" / "corpora"))


def test_possessive_tokenizer_finds_the_tokens_the_backtracking_one_did():
    texts = ["U.S.-Japan AT&T's co-op 1,000.5 don't e-commerce-- -x 3.5. a.b.c ab&&cd l'été U.K. 12-", "ÉTÉ-2020 x\u2019y"]
    texts += [path.read_text("utf-8", errors="replace") for path in sorted(CORPORA.rglob("*.md"))[:3000]]
    for text in texts:
        for source in (text, text.lower()):
            assert analysis.TOKEN.findall(source) == BACKTRACKING_TOKEN.findall(source)


def test_index_terms_split_into_pieces_give_what_analyze_gives_over_the_corpora():
    # ``index_terms`` analyses each ``PIECE`` of a text alone; that must not change a term or position.
    texts = ["U.S.-Japan AT&T's co-op 1,000.5 don't e-commerce-- x.y.z u.s.-based US. US's US-led l'été ÉTÉ-2020 US"]
    texts += [path.read_text("utf-8", errors="replace") for path in sorted(CORPORA.rglob("*.md"))[::7]]
    for text in texts:
        for source in (text, text.upper()):
            assert analysis.index_terms(source) == [(term, pos) for term, pos, _, _ in analyze(source)]


def weighted_by_analyze(parts: list[tuple[str, float]]) -> dict[str, list]:
    """``weighted_term_positions`` the plain way: ``analyze`` each part, FIELD_GAP on after its last position."""
    found: dict[str, list] = {}
    offset = 0
    for text, weight in parts:
        last = None
        for term, pos, _, _ in analyze(text):
            last = pos = pos + offset
            entry = found.setdefault(term, [[], 0.0])
            if pos not in entry[0]:
                entry[0].append(pos)
                entry[1] += weight
        offset = (offset if last is None else last + 1) + analysis.FIELD_GAP
    return found


@pytest.mark.parametrize("parts", [
    [(MIXED, 4.0), ("covid-covid COVID-19 covid", 1.6), ("US rates, U.S. rates and us", 1.0)],
    [("Oil rises", 4.0), ("The Oil-price index", 1.6), ("The Oil-price index rose 3.5% in the U.S. on oil", 1.0)],
    [("Title", 4.0), ("the of", 1.6), ("the of and then 1,000 barrels", 1.0)],  # an excerpt without terms
    [("Zürich", 4.0), ("Société Générale’s", 1.6), ("Société Générale’s rates, Zürich's AT&T", 1.0)],
])
def test_weighted_parts_agree_with_analyze_and_count_a_reused_part_once(parts):
    # The body (last part) starts with the excerpt: its pieces are reused, not looked up or counted again.
    words: dict[str, int] = {}
    found = weighted(parts, words)
    assert found == weighted_by_analyze(parts)
    expected: dict[str, int] = {}
    excerpt, body = parts[1][0], parts[2][0]
    reused = body.startswith(excerpt + " ") and term_positions(excerpt)
    for text in [parts[0][0], excerpt, body[len(excerpt):] if reused else body]:
        analysis.index_terms(text, expected)
    assert words == expected
