"""The relevance evaluation: metrics on hand-computed examples, reading the
queries and qrels files, a run of all three systems over the judged fixture
in tests/relevance/fixture/, and the ``newsearch evaluate`` command."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from search import cli, evaluation
from search.baselines import read_corpus
from search.evaluation import (InputError, Query, average_precision, evaluate, ndcg, precision_at, read_qrels,
                               read_queries)

FIXTURE = Path(__file__).parent / "relevance" / "fixture"
CORPUS = FIXTURE / "articles"
QUERIES = FIXTURE / "fixture-queries.tsv"
QRELS = FIXTURE / "fixture-qrels.txt"


# ---------------------------------------------------------------- metrics


def test_average_precision_divides_by_all_relevant_documents():
    # Relevant: a, b, c, d (d never retrieved). Hits at ranks 1, 3, 5:
    # (1/1 + 2/3 + 3/5) / 4.
    judgments = {"a": 1, "b": 2, "c": 1, "d": 1, "x": 0}
    assert average_precision(["a", "x", "b", "y", "c"], judgments) == pytest.approx((1 + 2 / 3 + 3 / 5) / 4)


def test_average_precision_perfect_and_empty():
    judgments = {"a": 2, "b": 1}
    assert average_precision(["a", "b", "z"], judgments) == 1.0
    assert average_precision(["b", "a"], judgments) == 1.0  # grades do not matter for AP
    assert average_precision([], judgments) == 0.0
    assert average_precision(["a"], {}) == 0.0  # nothing judged relevant
    assert average_precision(["a"], {"a": 0}) == 0.0


def test_ndcg_uses_graded_gains_and_log2_discount():
    judgments = {"a": 2, "b": 1, "c": 0, "d": 2}
    # DCG of b, c, a: 1/log2(2) + 0/log2(3) + 2/log2(4) = 2.
    # Ideal: 2, 2, 1 -> 2/1 + 2/log2(3) + 1/2.
    ideal = 2 + 2 / math.log2(3) + 0.5
    assert ndcg(["b", "c", "a"], judgments) == pytest.approx(2 / ideal)
    assert ndcg(["b", "c", "a"], judgments) == pytest.approx(0.5316522, abs=1e-6)
    assert ndcg(["a", "d", "b"], judgments) == pytest.approx(1.0)
    assert ndcg(["d", "a", "b", "c"], judgments) == pytest.approx(1.0)  # ties in the ideal order


def test_ndcg_counts_only_the_first_ten():
    judgments = {"rel": 1}
    late = [f"n{i}" for i in range(10)] + ["rel"]
    assert ndcg(late, judgments) == 0.0
    assert ndcg(late[1:], judgments) == pytest.approx(1 / math.log2(11))
    assert ndcg(late, judgments, k=11) == pytest.approx(1 / math.log2(12))


def test_ndcg_ideal_comes_from_the_judgments_not_the_ranking():
    # Only one of two relevant documents found, at rank 1.
    judgments = {"a": 1, "b": 1}
    assert ndcg(["a"], judgments) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_precision_at_10_divides_by_ten():
    judgments = {"a": 1, "b": 2, "c": 0, "z": 1}
    assert precision_at(["a", "c", "b", "q"], judgments) == pytest.approx(0.2)
    assert precision_at([f"n{i}" for i in range(10)] + ["z"], judgments) == 0.0  # z is 11th
    assert precision_at([], judgments) == 0.0
    assert precision_at(["a", "b"], judgments, k=2) == 1.0


def test_unjudged_and_negative_grades_count_as_not_relevant():
    judgments = {"a": 1, "spam": -2}
    for ranked in (["unjudged", "a"], ["spam", "a"]):
        assert average_precision(ranked, judgments) == pytest.approx(0.5)
        assert precision_at(ranked, judgments) == pytest.approx(0.1)
        assert ndcg(ranked, judgments) == pytest.approx(1 / math.log2(3))


def test_empty_results_score_zero():
    judgments = {"a": 2}
    assert (average_precision([], judgments), ndcg([], judgments), precision_at([], judgments)) == (0.0, 0.0, 0.0)


def test_a_repeated_document_counts_once():
    judgments = {"a": 1, "b": 1}
    assert precision_at(["a", "a", "a"], judgments) == pytest.approx(0.1)
    assert average_precision(["a", "a", "b"], judgments) == 1.0
    assert ndcg(["a", "a", "b"], judgments) == pytest.approx(1.0)


# ---------------------------------------------------------------- reading the files


def test_read_queries_skips_comments_and_blank_lines(tmp_path):
    path = tmp_path / "q.tsv"
    path.write_text("\ufeff# a comment\n\nq1\toil prices\n  # indented comment\nq2\t  \"U.S.\" trade deficit  \n\n",
                    encoding="utf-8")
    assert read_queries(path) == [Query("q1", "oil prices"), Query("q2", '"U.S." trade deficit')]


@pytest.mark.parametrize("line, message", [
    ("q1 oil prices", "found no tab"),
    ("\toil", "query id '' is empty"),
    ("q 1\toil", "contains spaces"),
    ("q1\t   ", "query q1 has no text"),
])
def test_read_queries_names_file_and_line_of_a_bad_line(tmp_path, line, message):
    path = tmp_path / "q.tsv"
    path.write_text(f"# header\nq0\tfine\n{line}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_queries(path)
    assert f"{path}:3:" in str(caught.value)
    assert message in str(caught.value)


def test_read_queries_rejects_a_repeated_id(tmp_path):
    path = tmp_path / "q.tsv"
    path.write_text("q1\toil\nq1\tgas\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"q\.tsv:2: query id q1 is already used on line 1"):
        read_queries(path)


def test_read_qrels(tmp_path):
    path = tmp_path / "qrels.txt"
    path.write_text("# comment\nq1 0 2023/01/a 2\n\nq1 0 b 0\nq2\t0\tc\t1\nq1 0 b 0\n", encoding="utf-8")
    assert read_qrels(path) == {"q1": {"2023/01/a": 2, "b": 0}, "q2": {"c": 1}}


@pytest.mark.parametrize("line, message", [
    ("q1 0 doc", "expected 4 fields"),
    ("q1 0 doc 1 extra", "expected 4 fields"),
    ("q1 0 doc high", "grade 'high' is not a whole number"),
    ("q1 0 doc 1.5", "is not a whole number"),
    ("q1 0 a 0", "q1 a is judged 0 here but 2 on line 1"),
])
def test_read_qrels_names_file_and_line_of_a_bad_line(tmp_path, line, message):
    path = tmp_path / "qrels.txt"
    path.write_text(f"q1 0 a 2\n\n{line}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_qrels(path)
    assert f"{path}:3:" in str(caught.value)
    assert message in str(caught.value)


def test_missing_or_undecodable_files_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_queries(tmp_path / "absent.tsv")
    binary = tmp_path / "bad.txt"
    binary.write_bytes(b"q1 0 a \xff\n")
    with pytest.raises(InputError, match="not UTF-8"):
        read_qrels(binary)


# ---------------------------------------------------------------- end to end on the fixture


@pytest.fixture(scope="module")
def fixture_result(tmp_path_factory):
    index = tmp_path_factory.mktemp("eval") / "index"
    return evaluate(CORPUS, QUERIES, QRELS, index=index)


def test_fixture_files_agree_with_the_corpus():
    skipped = []
    articles = list(read_corpus(CORPUS, skipped))
    assert skipped == [] and 6 <= len(articles) <= 12
    known = {a.id for a in articles}
    judged = {doc for docs in read_qrels(QRELS).values() for doc in docs}
    assert judged <= known
    assert 4 <= len(read_queries(QUERIES)) <= 6


def test_evaluate_reports_every_system(fixture_result):
    result = fixture_result
    assert list(result["systems"]) == ["newsearch", "whoosh", "fts5", "bm25", "bm25-rm3"]
    assert result["articles"] == 10 and result["queries"] == 6 and result["judged_queries"] == 5
    for name, figures in result["systems"].items():
        for metric in ("map", "ndcg_at_10", "p_at_10"):
            assert 0.0 <= figures[metric] <= 1.0, (name, metric)
        assert figures["errors"] == {}
        assert figures["query_seconds"] >= 0 and figures["setup_seconds"] >= 0
    for row in result["per_query"]:
        for figures in row["systems"].values():
            assert figures["returned"] <= result["depth"]
            if row["judged"]:
                assert all(0.0 <= figures[m] <= 1.0 for m in ("ap", "ndcg_at_10", "p_at_10"))
            else:
                assert figures["ndcg_at_10"] is None
    json.dumps(result)  # --json prints it as it is


def test_zero_result_queries(fixture_result):
    systems = fixture_result["systems"]
    # q6 has only words no article has: nobody finds anything.
    # q4 is a question with a word no article has: the baselines require
    # every word and find nothing; newsearch reads long queries as any of
    # their words (so it needs no fallback).
    # q2 needs stemming (vehicle/vehicles, batteries/battery), which plain Whoosh lacks.
    assert systems["newsearch"]["zero_result_qids"] == ["q6"]
    assert systems["newsearch"]["zero_result_queries"] == 1
    assert systems["newsearch"]["fallback_queries"] == 0
    assert systems["fts5"]["zero_result_qids"] == ["q4", "q6"]
    assert systems["whoosh"]["zero_result_qids"] == ["q2", "q4", "q6"]
    # BM25 with every word optional finds q4 too, with or without feedback.
    assert systems["bm25"]["zero_result_qids"] == systems["bm25-rm3"]["zero_result_qids"] == ["q6"]
    q4 = next(row for row in fixture_result["per_query"] if row["qid"] == "q4")
    assert q4["systems"]["newsearch"]["ndcg_at_10"] == 1.0
    assert q4["systems"]["fts5"]["ndcg_at_10"] == 0.0


def test_unjudged_queries_are_left_out_of_the_means_and_named(fixture_result):
    rows = [row for row in fixture_result["per_query"] if row["judged"]]
    for name, figures in fixture_result["systems"].items():
        assert figures["ndcg_at_10"] == pytest.approx(sum(r["systems"][name]["ndcg_at_10"] for r in rows) / len(rows))
        assert figures["map"] == pytest.approx(sum(r["systems"][name]["ap"] for r in rows) / len(rows))
    assert any("q6" in warning and "no relevant judgment" in warning for warning in fixture_result["warnings"])


def test_report_text(fixture_result):
    text = evaluation.format_report(fixture_result, per_query=True)
    assert "MAP" in text and "nDCG@10" in text and "zero-result queries" in text
    for name in evaluation.SYSTEMS:
        assert any(line.split()[0] == name for line in text.splitlines() if line.strip())
    assert "zyxxqa flurbonic" in text  # the per-query table


def test_an_existing_index_is_reused_and_depth_is_respected(fixture_result):
    index = Path(fixture_result["systems"]["newsearch"]["index"])
    again = evaluate(CORPUS, QUERIES, QRELS, index=index, depth=1, systems=("newsearch", "fts5"))
    assert list(again["systems"]) == ["newsearch", "fts5"]
    assert again["systems"]["newsearch"]["index_reused"] is True
    assert fixture_result["systems"]["newsearch"]["index_reused"] is False
    assert all(s["returned"] <= 1 for row in again["per_query"] for s in row["systems"].values())
    assert not any("index holds" in w or "was built from" in w for w in again["warnings"])


def test_evaluate_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="systems must be"):
        evaluate(CORPUS, QUERIES, QRELS, systems=("lucene",))
    with pytest.raises(ValueError, match="depth"):
        evaluate(CORPUS, QUERIES, QRELS, depth=0)
    with pytest.raises(InputError, match="corpus folder does not exist"):
        evaluate(tmp_path / "nowhere", QUERIES, QRELS)


def test_warnings_name_judged_documents_missing_from_the_corpus(tmp_path):
    qrels = tmp_path / "qrels.txt"
    qrels.write_text(QRELS.read_text(encoding="utf-8") + "q3 0 2099/01/no-such-article 1\nq9 0 x 1\n",
                     encoding="utf-8")
    result = evaluate(CORPUS, QUERIES, qrels, systems=("fts5",))
    assert any("2099/01/no-such-article" in w and "not in the corpus" in w for w in result["warnings"])
    assert any("q9" in w and "not in the queries file" in w for w in result["warnings"])


def test_reusing_an_index_from_older_code_is_flagged(tmp_path):
    index = tmp_path / "index"
    first = evaluate(CORPUS, QUERIES, QRELS, index=index, systems=("newsearch",))
    assert not any("schema version" in w for w in first["warnings"])
    meta_path = next(index.glob("gen-*/meta.json"))
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["schema_version"] = -1
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    again = evaluate(CORPUS, QUERIES, QRELS, index=index, systems=("newsearch",))
    assert any("schema version -1" in w for w in again["warnings"])


# ---------------------------------------------------------------- newsearch evaluate


def run_evaluate(*args):
    return CliRunner().invoke(cli.main, ["evaluate", str(CORPUS), str(QUERIES), str(QRELS), *map(str, args)],
                              catch_exceptions=False)


def test_evaluate_command_prints_the_figures_as_json():
    result = run_evaluate("--system", "fts5", "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert list(printed["systems"]) == ["fts5"]
    assert (printed["articles"], printed["queries"], printed["judged_queries"], printed["depth"]) == (10, 6, 5, 100)
    fts5 = printed["systems"]["fts5"]
    # FTS5 ranks every relevant document it finds first (AP 1) for q1, q2, q3 and q5
    # and finds nothing for q4: MAP = nDCG@10 = 4/5. P@10: (3 + 2 + 1 + 0 + 2) / 10 / 5.
    assert fts5["map"] == pytest.approx(0.8)
    assert fts5["ndcg_at_10"] == pytest.approx(0.8)
    assert fts5["p_at_10"] == pytest.approx(0.16)
    assert fts5["zero_result_qids"] == ["q4", "q6"]
    assert [row["systems"]["fts5"]["returned"] for row in printed["per_query"]] == [4, 2, 1, 0, 2, 0]


def test_evaluate_command_prints_a_table_for_every_system(tmp_path):
    result = run_evaluate("--index", tmp_path / "index", "--depth", 5, "--per-query")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"corpus {CORPUS}: 10 articles; 6 queries (5 with relevant judgments); depth 5"
    assert lines[2].split() == ["system", "MAP", "nDCG@10", "P@10", "zero-result", "queries", "setup", "s", "ms/query"]
    rows = {line.split()[0]: line.split()[1:5] for line in lines[3:8]}
    assert {name: rows.pop(name) for name in ("newsearch", "whoosh", "fts5")} == {
        "newsearch": ["0.9611", "0.9872", "0.1800", "1"], "whoosh": ["0.5833", "0.5956", "0.1200", "3"],
        "fts5": ["0.8000", "0.8000", "0.1600", "2"]}
    assert list(rows) == ["bm25", "bm25-rm3"] and all(row[3] == "1" for row in rows.values())
    assert f"newsearch: index built in {tmp_path / 'index'}" in result.output
    q4 = next(line for line in lines if line.startswith("q4 "))
    assert q4.split()[1:7] == ["1.0000", "(4)", "0.0000", "(0)", "0.0000", "(0)"]
    assert q4.split()[8] != "(0)" and q4.split()[10] != "(0)"  # bm25 and bm25-rm3 find it
    assert "warning: 1 queries have no relevant judgment" in result.output


def test_evaluate_command_reports_unusable_input_as_a_usage_error(tmp_path):
    bad = tmp_path / "q.tsv"
    bad.write_text("q1 no tab here\n", encoding="utf-8")
    result = CliRunner().invoke(cli.main, ["evaluate", str(CORPUS), str(bad), str(QRELS)])
    assert result.exit_code == 2
    assert f"{bad}:1: expected '<qid><TAB><query text>'" in result.output
    assert run_evaluate("--depth", 0).exit_code == 2
    assert run_evaluate("--system", "lucene").exit_code == 2


def test_evaluate_command_offers_what_the_evaluation_accepts():
    assert cli.EVALUATED_SYSTEMS == evaluation.SYSTEMS == tuple(evaluation.RUNNERS)
    assert cli.EVALUATION_HALVES == evaluation.HALVES
    assert (cli.EVALUATION_DEPTH, cli.EVALUATION_MAX_DEPTH) == (evaluation.DEFAULT_DEPTH, evaluation.MAX_DEPTH)


# ---------------------------------------------------------------- halves of the queries


def test_query_halves_split_by_the_number_ending_each_id():
    queries = [Query(qid, "text") for qid in ("q01", "q02", "7", "10", "alpha", "beta", "q3x")]
    odd = evaluation.query_half(queries, "odd")
    even = evaluation.query_half(queries, "even")
    # No number at the end: the place among the queries decides (alpha 5th: odd, beta 6th: even, q3x 7th: odd).
    assert [q.qid for q in odd] == ["q01", "7", "alpha", "q3x"]
    assert [q.qid for q in even] == ["q02", "10", "beta"]
    with pytest.raises(ValueError, match="odd, even"):
        evaluation.query_half(queries, "first")


def test_evaluate_on_one_half_keeps_its_queries_and_judgments():
    whole = evaluate(CORPUS, QUERIES, QRELS, systems=("fts5",))
    for half in evaluation.HALVES:
        part = evaluate(CORPUS, QUERIES, QRELS, systems=("fts5",), half=half)
        expected = [row["qid"] for row in whole["per_query"] if (int(row["qid"][1:]) % 2 == 1) == (half == "odd")]
        assert [row["qid"] for row in part["per_query"]] == expected and part["half"] == half
        judged = [row["systems"]["fts5"]["ap"] for row in whole["per_query"] if row["qid"] in expected and row["judged"]]
        assert part["systems"]["fts5"]["map"] == pytest.approx(sum(judged) / len(judged))
        assert not any("not in the queries file" in w for w in part["warnings"])  # the other half's judgments


def test_evaluate_command_runs_one_half():
    result = run_evaluate("--system", "fts5", "--queries-half", "even")
    assert result.exit_code == 0, result.output
    assert "3 queries (2 with relevant judgments); the even half;" in result.output.splitlines()[0]
    assert run_evaluate("--queries-half", "third").exit_code == 2


# ---------------------------------------------------------------- BM25 with every word optional


def test_bm25_needs_only_some_of_the_words(tmp_path):
    from search.baselines import Bm25

    system = Bm25(tmp_path / "bm25", read_corpus(CORPUS))
    try:
        both = system.search("coffee harvest frost", 10)
        assert both and both == system.search("coffee harvest frost zyxxqa", 10)  # a missing word costs nothing
        assert set(system.search("coffee", 10)) <= set(both)
        assert system.search("the of and", 10) == [] and system.search("", 10) == []
    finally:
        system.close()
