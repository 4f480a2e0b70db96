"""Spelling corrections that don't invent (issue 8).

The rules on the corrector itself (``search.vocabulary``), then the engine,
the CLI and the page on a small archive in tmp_path, then the judged list in
``tests/relevance/spelling.tsv`` over the Reuters archive (skipped when
../shared/corpora is absent).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from search import vocabulary
from search.cli import main
from search.engine import Engine
from search.vocabulary import Correction, Vocabulary, edit_distance, english_words, misspelling_cost
from tools import spelling_eval
from web import create_app

from helpers import build_index, search_for, write_article
from test_corpora import corpus
from test_web_api import page_of

JUDGED = Path(__file__).resolve().parent / "relevance" / "spelling.tsv"
HELD_OUT = JUDGED.with_name("spelling-heldout.tsv")
FRESH = JUDGED.with_name("spelling-fresh.tsv")
NOTHING = "unknown_word"


def vocab(counts: dict[str, int], known=()) -> Vocabulary:
    """A vocabulary of ``counts`` whose real words are ``known`` only (not the shipped list)."""
    return Vocabulary(counts, known=frozenset(known))


# ================================================================ the rules


def test_edit_distance_counts_a_swap_and_a_doubling_slip_as_one():
    assert edit_distance("recieve", "receive") == 1  # two for Levenshtein
    assert edit_distance("tarrif", "tariff") == 1 and edit_distance("comittee", "committee") == 1
    assert edit_distance("brexit", "brent") == 2
    assert edit_distance("internet", "interest") == 2
    assert edit_distance("coffee", "coffee") == 0
    assert edit_distance("", "ab") == 2 and edit_distance("abc", "") == 3


def test_a_clear_misspelling_is_corrected_to_the_commonest_nearest_word():
    words = vocab({"government": 900, "governments": 300, "economy": 500, "receive": 400, "tariff": 80})
    assert words.correct("goverment") == "government"
    assert words.correct("govrenment") == "government"  # swapped letters
    assert words.correct("recieve") == "receive"
    assert words.correct("tarrif") == "tariff"  # a doubling slip counts as one edit
    assert words.correct("econmy") == "economy"


def test_a_real_word_is_never_replaced_however_rare_in_the_archive():
    counts = {"wheat": 1000}
    assert vocab(counts).correct("wheet") == "wheat"
    assert vocab(counts, known={"wheet"}).correct("wheet") is None


def test_the_plural_of_a_real_word_is_real_too():
    words = vocab({"mees": 500, "meme": 1}, known={"meme"})
    assert words.correct("memes") is None and words.trusted("memes")
    assert vocab({"mees": 500}).correct("memes") == "mees"  # what happened without the plural rule


def test_the_shipped_word_list_has_real_words_and_no_judged_misspelling():
    known = english_words()
    assert len(known) > 100_000
    assert {"internet", "purple", "elephant", "google", "obama", "podcast", "vaccine"} <= known
    typos = [typed for path in (JUDGED, HELD_OUT) for typed, expected in spelling_eval.read_list(path) if expected]
    assert len(typos) >= 80
    # "calender" is a real word (a pressing machine) too: a real-word error, which no word list can catch
    assert known & set(typos) == {"calender"}
    assert all(word == word.lower() and word.isalpha() and word.isascii() for word in known)


def test_short_words_are_one_edit_from_their_correction_and_very_short_ones_are_left_alone():
    words = vocab({"brent": 5000, "user": 5000, "wife": 5000, "specify": 5000, "coffee": 5000})
    assert words.correct("brexit") is None  # two edits from brent
    assert words.correct("spotify") is None  # two edits from specify
    assert words.correct("coffe") == "coffee"  # one edit
    assert words.correct("uber") is None and words.correct("wifi") is None  # four letters: too many neighbours
    assert vocab({"government": 900}).correct("govenmant") == "government"  # long words: two edits


def test_a_rare_word_is_never_a_correction():
    counts = {f"filler{n}": 100_000 for n in range(40)} | {"billoin": 1, "billion": 50_000, "opecna": 2}
    words = vocab(counts)
    assert words.frequent_count == 12  # 3 per million of 4 million words
    assert words.correct("bilion") == "billion"
    assert words.correct("billoim") is None  # one edit from billoin, which the archive has once
    assert words.correct("opecnaa") is None


def test_the_correction_must_be_far_commoner_than_the_typed_word():
    assert vocab({"volcker": 394, "volker": 3}).correct("volker") == "volcker"
    assert vocab({"volcker": 30, "volker": 3}).correct("volker") is None  # 10 times: not sure enough


def test_the_frequency_threshold_grows_with_the_archive():
    assert vocab({"a": 1}).frequent_count == vocabulary.MIN_FREQUENT
    big = vocab({f"w{n}": 1000 for n in range(10_000)})  # ten million counted words
    assert big.frequent_count == 10 * vocabulary.FREQUENT_PER_MILLION


def test_completions_never_offer_a_rare_typo():
    counts = {f"filler{n}": 100_000 for n in range(40)} | {
        "billion": 5000, "bills": 900, "billoin": 1, "billon": 1, "billowing": 1, "billingsgate": 1,
        "opec": 600, "opecna": 2}
    words = vocab(counts, known={"billon"})
    # billon: a real word; billingsgate: rare but no near spelling of a commoner word
    assert words.complete("bill") == ["billion", "bills", "billon", "billowing", "billingsgate"]
    assert words.complete("billo") == ["billon", "billowing"]
    assert words.complete("opec") == ["opec"]
    assert not words.trusted("billoin") and not words.trusted("opecna")


def test_misspelling_cost_prices_typical_slips_at_one_and_others_higher():
    for typed, intended in (("recieve", "receive"), ("tarrif", "tariff"), ("barells", "barrels"),
                            ("goverment", "government"), ("seperate", "separate"), ("concensus", "consensus"),
                            ("truely", "truly"), ("happend", "happened"), ("wheet", "wheat")):
        assert misspelling_cost(typed, intended) == 1, typed
    assert misspelling_cost("hangry", "hungry") == vocabulary.UNTYPICAL  # the first vowel is heard clearly
    assert misspelling_cost("nadal", "naval") == vocabulary.UNTYPICAL  # d for v: neither alike nor typical
    assert misspelling_cost("kante", "kane") == vocabulary.UNTYPICAL  # an extra consonant
    assert misspelling_cost("sunak", "sunk") == vocabulary.UNTYPICAL  # an extra vowel in a short word
    assert misspelling_cost("ronaldo", "ronald") == vocabulary.TRAILING  # a letter past the end
    assert misspelling_cost("happend", "happen") == vocabulary.TRAILING
    assert misspelling_cost("coffee", "coffee") == 0


def test_a_name_one_untypical_edit_from_a_word_is_offered_not_replaced():
    words = vocab({"kane": 500, "naval": 500, "ronald": 500, "modern": 900, "hungry": 300, "government": 900})
    assert words.correction("goverment") == Correction("government", True)
    assert words.correction("kante") == Correction("kane", False)
    assert words.correction("nadal") == Correction("naval", False)
    assert words.correction("hangry") == Correction("hungry", False)
    assert words.correction("ronaldo") is None and words.correction("moderna") is None  # not even offered
    assert words.correct("kante") == "kane"  # correct(): replaced or offered


def test_the_slip_is_told_from_a_shorter_word():
    assert vocab({"happen": 900, "happened": 300}).correction("happend") == Correction("happened", True)
    assert vocab({"size": 900, "seize": 100}).correction("sieze") == Correction("seize", True)
    assert vocab({"annual": 900, "annually": 100}).correct("annualy") == "annually"


def test_a_replacement_is_the_clear_choice():
    assert vocab({"modal": 100, "model": 80}).correction("modil") == Correction("modal", False)  # a rival
    assert vocab({"modal": 1000, "model": 80}).correction("modil") == Correction("modal", True)


def test_long_words_take_one_more_slip_to_replace_and_to_offer():
    words = vocab({"government": 900, "announcement": 300})
    assert words.correction("govenmant") == Correction("government", True)  # two slips, 9 letters
    assert words.correction("anouncemant") == Correction("announcement", True)
    assert words.correction("anountement") == Correction("announcement", False)  # 2.5: offered
    assert vocab({"garment": 900}).correction("gaarmnt") is None  # 7 letters: two slips are too many


# ================================================================ the engine, CLI and page


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, Path]:
    data = tmp_path_factory.mktemp("spelling") / "data"
    topics = {"government": "Government borrowing rose by a billion and the government interest bill by a billion.",
              "wheat": "Wheat exports of a billion tonnes and wheat prices: the interest of a billion users.",
              "elephants": "Elephants at the zoo; the interest of visitors, a billion of them, a billion times."}
    for n in range(12):
        key = list(topics)[n % 3]
        write_article(data, f"2023/01/{key}-{n}.md", title=f"{key.title()} report {n}",
                      excerpt=topics[key], published=f"2023-01-{n + 1:02d}T10:00:00Z", body=topics[key])
    write_article(data, "2023/01/typo.md", title="Billoin dollar plantations", excerpt="A one-off typo.",
                  published="2023-01-20T10:00:00Z")
    index = data.parent / "index"
    build_index(data, index)
    return data, index


@pytest.fixture(scope="module")
def engine(archive) -> Engine:
    return Engine(archive[1])


def notes(response, code=NOTHING) -> list[str]:
    return [note.text for note in response.notes if note.code == code]


def test_a_misspelling_finding_nothing_is_corrected(engine):
    response = search_for(engine, "goverment")
    assert response.spelling == {"corrected": "government", "applied": True, "typed_total": 0}
    assert response.total == 4 and not notes(response)


def test_a_real_word_the_archive_lacks_is_said_to_find_nothing_and_not_replaced(engine):
    for text in ("internet", "purple", "bitcoin", "brexit"):
        response = search_for(engine, text)
        assert response.spelling is None and response.total == 0, text
        assert notes(response) == [f"The archive has nothing for '{text}'."], response.notes
    response = search_for(engine, "purple elephant")
    assert notes(response) == ["The archive has nothing for 'purple'."]  # the index has "elephants"
    assert response.fallback and response.total == 4


def test_the_nothing_note_names_each_missing_word_once_and_leaves_known_ones_out(engine):
    response = search_for(engine, "bitcoin wheat Bitcoin -covid")
    assert notes(response) == ["The archive has nothing for 'bitcoin', 'covid'."]
    assert notes(search_for(engine, "wheat government")) == []


def test_the_archives_one_off_typo_is_neither_a_correction_nor_a_completion(engine):
    assert search_for(engine, "billoim").spelling is None
    assert search_for(engine, "plantatons").spelling is None  # "plantations" is in one article only
    texts = [item["text"] for item in engine.suggest("bil", limit=20) if item["kind"] == "term"]
    assert "billoin" not in texts
    assert [item["text"] for item in engine.suggest("wh", limit=20) if item["kind"] == "term"][0] == "wheat"


def test_an_unsure_correction_is_offered_with_the_nothing_note(engine):
    response = search_for(engine, "bitlion")  # t for l: not a slip people make
    assert response.spelling == {"corrected": "billion", "applied": False, "typed_total": 0}
    assert response.total == 0 and notes(response) == ["The archive has nothing for 'bitlion'."]


def test_a_word_typed_with_a_capital_is_taken_for_a_name_and_not_replaced(engine):
    response = search_for(engine, "Goverment")
    assert response.spelling == {"corrected": "government", "applied": False, "typed_total": 0} and response.total == 0
    assert notes(response) == ["The archive has nothing for 'Goverment'."]
    assert search_for(engine, "GOVERMENT").spelling == {"corrected": "government", "applied": True, "typed_total": 0}


def test_no_correct_searches_as_typed_and_still_says_what_is_missing(engine):
    response = search_for(engine, "goverment", correct=False)
    assert response.total == 0 and response.spelling == {"corrected": "government", "applied": False, "typed_total": 0}
    assert notes(search_for(engine, "bitcoin", correct=False)) == ["The archive has nothing for 'bitcoin'."]


def test_the_cli_shows_the_nothing_note_and_keeps_no_correct(archive):
    from click.testing import CliRunner

    index = str(archive[1])
    env = {"NEWSEARCH_DATA": None, "NEWSEARCH_INDEX": None}
    result = CliRunner().invoke(main, ["search", "--index", index, "bitcoin"], env=env)
    assert result.exit_code == 1
    assert "The archive has nothing for 'bitcoin'." in result.output
    assert "showing results for" not in result.output.lower()
    result = CliRunner().invoke(main, ["search", "--index", index, "--no-correct", "goverment"], env=env)
    assert "Did you mean: government?" in result.output and "No results for 'goverment'." in result.output


def test_the_page_shows_the_nothing_note_escaped(archive):
    data, index = archive
    client = create_app(index, data).test_client()
    page = page_of(client.get("/?q=%3Cb%3Ebitcoin%3C/b%3E"))
    main_part = page.markup.split("<main", 1)[1]
    assert "<b>bitcoin" not in main_part and "&lt;b&gt;bitcoin" in main_part
    text = " ".join(html.unescape(re.sub(r"<[^>]*>", " ", main_part)).split())
    assert "The archive has nothing for 'bitcoin'." in text
    assert "Showing results for" not in text


def test_the_cli_and_the_page_offer_an_unsure_correction_beside_the_nothing_note(archive):
    from click.testing import CliRunner

    data, index = archive
    env = {"NEWSEARCH_DATA": None, "NEWSEARCH_INDEX": None}
    result = CliRunner().invoke(main, ["search", "--index", str(index), "bitlion"], env=env)
    assert "Did you mean: billion?" in result.output and "The archive has nothing for 'bitlion'." in result.output
    assert "showing results for" not in result.output.lower()
    page = page_of(create_app(index, data).test_client().get("/?q=bitlion"))
    text = " ".join(html.unescape(re.sub(r"<[^>]*>", " ", page.markup.split("<main", 1)[1])).split())
    assert "Did you mean billion ?" in text or "Did you mean billion?" in text
    assert "The archive has nothing for 'bitlion'." in text and "Showing results for" not in text


# ================================================================ Reuters and the judged list


@pytest.fixture(scope="module")
def reuters(tmp_path_factory) -> Engine:
    data = corpus("reuters-21578")
    index = tmp_path_factory.mktemp("reuters-spelling") / "index"
    build_index(data, index)
    return Engine(index)


@pytest.mark.parametrize("judged", [JUDGED, HELD_OUT])
def test_reuters_judged_lists_meet_the_targets(reuters, judged):
    summary = spelling_eval.score(spelling_eval.judge(reuters, spelling_eval.read_list(judged)))
    misspelled, real = summary["misspellings"], summary["real_words"]
    assert misspelled["words"] >= 40 and real["words"] >= 40
    assert real["replaced"] == 0, real["replaced_words"]
    assert misspelled["recall"] >= 0.9 and misspelled["corrected_wrong"] == 0
    assert real["said_nothing_found"] == real["finding_nothing"] > 0


def test_reuters_fresh_list_corrects_nine_in_ten_and_says_what_is_missing(reuters):
    # Reported, not chosen on (tests/relevance/README.md): the recall target and the note only.
    summary = spelling_eval.score(spelling_eval.judge(reuters, spelling_eval.read_list(FRESH)))
    misspelled, real = summary["misspellings"], summary["real_words"]
    assert misspelled["words"] >= 40 and real["words"] >= 40
    assert misspelled["recall"] >= 0.9 and misspelled["corrected_wrong"] == 0
    assert real["said_nothing_found"] == real["finding_nothing"] > 0


@pytest.mark.parametrize("text", ["ronaldo", "moderna", "nadal", "Nadal", "kante", "hangry"])
def test_reuters_names_near_archive_words_are_not_replaced(reuters, text):
    response = search_for(reuters, text)
    assert response.total == 0 and not (response.spelling or {}).get("applied")
    assert notes(response) == [f"The archive has nothing for '{text}'."]


def test_reuters_slips_are_corrected_to_the_intended_form(reuters):
    assert search_for(reuters, "happend").spelling == {"corrected": "happened", "applied": True, "typed_total": 0}
    assert search_for(reuters, "sieze").spelling["corrected"] == "seize"
    typed = search_for(reuters, "developement")  # indexed as "develop", like the intended word
    assert typed.spelling == {"corrected": "development", "applied": False, "typed_total": typed.total}
    assert typed.total == search_for(reuters, "development").total > 0


@pytest.mark.parametrize("text, missing", [
    ("internet", ["internet"]), ("bitcoin", ["bitcoin"]), ("brexit", ["brexit"]),
    ("purple elephant", ["purple", "elephant"]), ("covid -vaccine", ["covid"]),
])
def test_reuters_issue_examples_are_not_replaced(reuters, text, missing):
    response = search_for(reuters, text)
    assert response.spelling is None and response.total == 0
    listed = ", ".join(f"'{word}'" for word in missing)
    assert notes(response) == [f"The archive has nothing for {listed}."]


def test_reuters_completions_offer_no_rare_typo(reuters):
    words = Vocabulary.load(reuters.home.require_current())
    for prefix, typo in (("bill", "billoin"), ("billo", "billoin"), ("opec", "opecna"), ("opecn", "opecna")):
        assert words.count(typo) > 0  # the archive does have the typo
        texts = [item["text"] for item in reuters.suggest(prefix, limit=50)]
        assert typo not in texts and typo.upper() not in texts, prefix
    terms = [item["text"] for item in reuters.suggest("bil", limit=50) if item["kind"] == "term"]
    assert terms[0] == "billion"
    # None is a near spelling of a far commoner word (checked by brute force, not by the corrector)
    common = [w for w, n in words.counts.items() if w[0] == "b" and n >= words.frequent_count]
    for term in terms:
        if term not in words.known and words.count(term) < words.frequent_count:
            assert not [w for w in common if w != term and edit_distance(term, w) <= 2
                        and words.count(w) > vocabulary.RATIO * words.count(term)], term
