"""The command line for daily use (issue 9): reading, exporting, browsing, terminal manners,
empty and half-built indexes, truthful figures and explained empty results.

Every test drives the real ``newsearch`` command through click's CliRunner."""

from __future__ import annotations

import collections
import csv
import io
import json
import os
from pathlib import Path

import pytest

from search import cli

from helpers import ARTICLES, BOE, CRUDE, HARBOR_IDS, SHIPPING, run_cli as run, write_archive, write_article

REPO_DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The repository's sample archive (it has syndicated copies of stories)."""
    index = tmp_path_factory.mktemp("sample") / "index"
    result = run("index", "build", "--data", REPO_DATA, "--index", index, "--workers", 1)
    assert result.exit_code == 0, result.output
    return index


# ================================================================ show


def test_show_prints_fields_body_and_related_coverage(built):
    _, index = built
    result = run("show", BOE, "--index", index)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.splitlines()[0] == ARTICLES[BOE]["title"]
    assert "BBC News" in out and "2022-08-04 11:00 UTC" in out
    assert "https://example.test/2022/08/boe-rates" in out
    assert "Economists expect further increases" in out
    assert "Related coverage (1)" in out and "Pound slips after central bank decision" in out
    assert "https://related.test/pound-slips" in out
    assert all(len(line) <= 80 for line in out.splitlines() if not line.startswith(("http", "    http")))


@pytest.mark.parametrize("form", ["id", "id.md", "relative", "absolute"])
def test_show_takes_an_id_with_or_without_md_or_a_path(built, form, monkeypatch):
    data, index = built
    given = {"id": BOE, "id.md": BOE + ".md", "absolute": str(data / (BOE + ".md")),
             "relative": os.path.join(data.name, BOE + ".md")}[form]
    if form == "relative":  # a path from the current folder
        monkeypatch.chdir(data.parent)
    result = run("show", given, "--index", index, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == BOE


def test_show_json_is_the_article(built):
    _, index = built
    article = json.loads(run("show", CRUDE, "--index", index, "--json").stdout)
    assert article["id"] == CRUDE and article["title"] == ARTICLES[CRUDE]["title"]
    assert article["path"] == CRUDE + ".md"


def test_show_open_launches_the_web_address(built, monkeypatch):
    _, index = built
    opened = []
    monkeypatch.setattr("click.launch", lambda url, **kw: opened.append(url) or 0)
    result = run("show", BOE, "--open", "--index", index)
    assert result.exit_code == 0, result.output
    assert opened == ["https://example.test/2022/08/boe-rates"]


def test_show_an_unknown_id_is_a_usage_error(built):
    _, index = built
    result = run("show", "no/such/article", "--index", index)
    assert result.exit_code == 2 and "no article with id 'no/such/article'" in result.output
    result = run("show", "no/such/article", "--index", index, "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["kind"] == "not_found"


def test_similar_accepts_an_id_with_md(built):
    _, index = built
    plain = run("similar", CRUDE, "--index", index, "--json")
    with_md = run("similar", CRUDE + ".md", "--index", index, "--json")
    assert with_md.exit_code == plain.exit_code
    assert json.loads(with_md.stdout) == json.loads(plain.stdout)


# ================================================================ export


def _everything(index, *args):
    result = run("search", *args, "--all", "--format", "jsonl", "--index", index)
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_all_streams_every_result_in_rank_order_past_the_page_size(built, monkeypatch):
    _, index = built
    pages = []
    for page in (1, 2, 3):
        found = json.loads(run("search", "harbor", "--limit", 4, "--page", page, "--json", "--index", index).stdout)
        pages += [hit["id"] for hit in found["results"]]
    monkeypatch.setattr("search.engine.STREAM_CHUNK", 3)  # several chunks of stored fields
    rows = _everything(index, "harbor")
    assert [row["id"] for row in rows] == pages and len(rows) == len(HARBOR_IDS)
    assert [row["rank"] for row in rows] == list(range(1, len(rows) + 1))


def test_jsonl_and_csv_have_one_row_per_article_with_the_documented_fields(built):
    data, index = built
    rows = _everything(index, "oil")
    assert {row["id"] for row in rows} == {CRUDE, SHIPPING}
    from search.output import RECORD_FIELDS

    assert all(tuple(row) == RECORD_FIELDS for row in rows)
    result = run("search", "oil", "--all", "--format", "csv", "--index", index)
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["id"] for row in table] == [row["id"] for row in rows]
    assert tuple(table[0]) == RECORD_FIELDS
    crude = next(row for row in table if row["id"] == CRUDE)
    assert crude["topics"] == "; ".join(ARTICLES[CRUDE]["topics"])
    assert Path(crude["path"]) == (data / (CRUDE + ".md")).resolve()


def test_ids_prints_one_existing_file_path_per_line(built):
    data, index = built
    result = run("search", "harbor", "--format", "ids", "--all", "--index", index)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == len(HARBOR_IDS)
    assert all(Path(line).is_file() for line in lines)


def test_md_is_a_numbered_list_of_linked_titles(built):
    _, index = built
    result = run("search", "crude", "oil", "--format", "md", "--index", index)
    first = result.stdout.splitlines()[0]
    assert first.startswith("1. [Crude oil prices turn negative](<https://example.test/2020/04/crude-oil>)")


def test_json_all_is_one_object_with_every_result(built):
    _, index = built
    result = run("search", "harbor", "--all", "--json", "--index", index)
    found = json.loads(result.stdout)
    assert found["total"] == len(HARBOR_IDS) == len(found["results"])
    assert found["pages"] == 1


def test_json_and_another_format_together_are_a_usage_error(built):
    _, index = built
    result = run("search", "oil", "--json", "--format", "csv", "--index", index)
    assert result.exit_code == 2


# ================================================================ browsing


def test_a_filter_alone_lists_its_articles_newest_first(built):
    _, index = built
    found = json.loads(run("search", "--topic", "Energy", "--json", "--index", index).stdout)
    dates = [hit["published"] for hit in found["results"]]
    assert found["total"] > 1 and dates == sorted(dates, reverse=True)
    assert found["sort"] == "newest"
    assert all("Energy" in hit["topics"] for hit in found["results"])
    text = run("search", "--source", "bbc.co.uk", "--index", index)
    assert text.exit_code == 0 and "BBC News" in text.stdout


def test_no_words_and_no_filter_is_a_usage_error(built):
    _, index = built
    for args in ([], ["  "]):
        result = run("search", *args, "--index", index)
        assert result.exit_code == 2 and "a filter to browse" in result.output


# ================================================================ pager


def test_long_text_goes_through_the_pager_only_on_a_terminal(built, monkeypatch):
    _, index = built
    paged = []
    monkeypatch.setattr("click.echo_via_pager", lambda text, **kw: paged.append("".join(text)))
    monkeypatch.setattr("shutil.get_terminal_size", lambda *a: os.terminal_size((80, 10)))
    assert run("search", "harbor", "--index", index).exit_code == 0
    assert paged == []  # not a terminal
    monkeypatch.setattr(cli, "_is_terminal", lambda: True)
    result = run("search", "harbor", "--index", index)
    assert len(paged) == 1 and "report hotel" in paged[0] and "report hotel" not in result.stdout
    run("search", "harbor", "--no-pager", "--index", index)
    run("search", "harbor", "--json", "--index", index)
    run("search", "harbor", "--format", "csv", "--all", "--index", index)
    assert len(paged) == 1
    run("search", "harbor", "--all", "--index", index)
    assert len(paged) == 2


# ================================================================ JSON errors


@pytest.mark.parametrize("args, kind, code", [
    (["search", "oil", "--since", "bogus"], "bad_option", 2),
    (["search", "oil", "--limit", "0"], "bad_option", 2),
    (["search"], "usage", 2),
    (["suggest", ""], "usage", 2),
    (["stats-none"], "usage", 2),
])
def test_json_errors_are_objects_with_the_same_exit_status(built, args, kind, code):
    _, index = built
    if args == ["stats-none"]:
        args = ["index", "stats"]
        index = index.parent / "missing"
        kind = "no_index"
    result = run(*args, "--json", "--index", index)
    assert result.exit_code == code
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == kind and error["message"]


# ================================================================ empty and half-built


COMMANDS = [
    ["search", "oil"], ["search", "--topic", "Energy"], ["search", "oil", "--all", "--format", "csv"],
    ["search", "oil", "--format", "ids"], ["suggest", "oi"], ["similar", "a/b"], ["show", "a/b"],
    ["index", "stats"],
]


def test_every_command_answers_clearly_on_an_empty_archive(tmp_path):
    (tmp_path / "data").mkdir()
    index = tmp_path / "index"
    built = run("index", "build", "--data", tmp_path / "data", "--index", index)
    assert built.exit_code == 0 and "0 documents" in built.stdout and "empty" in built.stdout
    for command in COMMANDS:
        for extra in ([], ["--json"]):
            if "--format" in command and extra:
                continue
            result = run(*command, *extra, "--index", index)
            assert result.exit_code in (0, 1, 2), (command, result.output)
            assert "Traceback" not in result.output and "internal error" not in result.output, command
            if extra:
                json.loads(result.stdout)
    assert "documents  0" in run("index", "stats", "--index", index).stdout
    assert "archive is empty" in run("search", "oil", "--index", index).stdout
    updated = run("index", "update", "--data", tmp_path / "data", "--index", index)
    assert updated.exit_code == 0, updated.output


def test_while_the_first_build_runs_commands_say_so(tmp_path):
    """The index folder as the first build leaves it while it runs: its lock and the
    note naming its process (this test's own, which is alive), no generation yet."""
    index = tmp_path / "index"
    index.mkdir()
    (index / ".writer.lock").write_text("")
    (index / ".writer.json").write_text(json.dumps({"action": "build", "pid": os.getpid(), "since": "now"}))
    for command in COMMANDS:
        result = run(*command, "--index", index)
        assert result.exit_code == 2, command
        assert f"a build is in progress (pid {os.getpid()})" in result.output, command
    error = json.loads(run("search", "oil", "--json", "--index", index).stdout)["error"]
    assert error["kind"] == "build_in_progress"
    (index / ".writer.json").write_text(json.dumps({"action": "build", "pid": 2**22 + 12345}))  # no such process
    assert "no index" in run("search", "oil", "--index", index).output


def test_a_finished_build_leaves_no_note_of_a_build_in_progress(built):
    _, index = built
    assert not (index / ".writer.json").exists()


# ================================================================ figures


def test_stats_are_exact_after_updates_and_show_the_date_span(tmp_path):
    data = write_archive(tmp_path / "data")
    index = tmp_path / "index"
    run("index", "build", "--data", data, "--index", index, "--workers", 1)

    def topics():
        stats = json.loads(run("index", "stats", "--json", "--index", index, ).stdout)
        return {item["value"]: item["count"] for item in stats["top_topics"]}, stats

    def expected(articles):
        return collections.Counter(topic for article in articles.values() for topic in article.get("topics", ()))

    articles = dict(ARTICLES)
    before, stats = topics()
    assert before == {topic: expected(articles)[topic] for topic in before}
    for step in range(2):  # removed, then replaced, then updated again
        (data / (CRUDE + ".md")).unlink(missing_ok=True)  # removed
        articles.pop(CRUDE, None)
        write_article(data, BOE + ".md", title=f"Bank of England holds rates {step}", topics=["Weather"],
                      published="2022-08-04T11:00:00Z")  # replaced: its topics change
        articles[BOE] = {"topics": ["Weather"]}
        assert run("index", "update", "--data", data, "--index", index).exit_code == 0
        after, stats = topics()
        assert after == {topic: expected(articles)[topic] for topic in after}
        assert stats["documents"] == len(articles)
    assert after["Weather"] == before["Weather"] + 1
    text = run("index", "stats", "--index", index).stdout
    assert f"published  {stats['first_published'][:10]} to {stats['last_published'][:10]}" in text


def test_totals_say_stories_and_articles_when_copies_are_folded(sample):
    collapsed = json.loads(run("search", "--since", "2000", "--json", "--index", sample).stdout)
    every = json.loads(run("search", "--since", "2000", "--no-collapse", "--json", "--index", sample).stdout)
    assert collapsed["total"] < every["total"]
    text = run("search", "--since", "2000", "--index", sample).stdout
    assert f"of {collapsed['total']:,} stories ({every['total']:,} articles)" in text.splitlines()[0]


def test_grammar_of_one_result_one_file_and_a_page_past_the_end(tmp_path, built):
    data = tmp_path / "data"
    write_article(data, "2022/01/one.md", title="Zeppelin rally", published="2022-01-01T00:00:00Z")
    index = tmp_path / "index"
    out = run("index", "build", "--data", data, "--index", index).stdout
    assert "1 file," in out and "1 document)" in out
    first = run("search", "zeppelin", "--index", index).stdout.splitlines()[0]
    assert first.startswith("1 result for 'zeppelin'")
    _, big = built
    result = run("search", "harbor", "--limit", 5, "--page", 500, "--index", big)
    assert result.exit_code == 1
    assert f"page 500 is past the end: {len(HARBOR_IDS)} results in 2 pages" in result.stdout


def test_suggest_without_a_prefix_is_a_usage_error(built):
    _, index = built
    result = run("suggest", "", "--index", index)
    assert result.exit_code == 2 and "start of a word" in result.output


def test_the_spelling_note_is_printed_once(built):
    _, index = built
    result = run("search", "zepelin", "--index", index)
    shown = result.stderr.lower()
    assert "showing results for" in shown
    assert shown.count("zeppelin") == 1, result.stderr


# ================================================================ empty results explained


def test_empty_results_name_the_filters_the_archive_span_and_the_way_out(built):
    _, index = built
    out = run("search", "oil", "--since", "7d", "--index", index).stdout
    assert "the archive ends on" in out and "instead of --since 7d" in out
    assert "without the filters, 'oil' finds 2 results" in out
    out = run("search", "oil", "--source", "nosuchsource", "--index", index).stdout
    assert "no article comes from 'nosuchsource': drop --source nosuchsource" in out
    out = run("search", "oil", "--since", "2022", "--until", "2021", "--index", index).stdout
    assert "inverted" in out and "swap --since and --until" in out
    out = run("search", "xylophone", "--index", index).stdout
    assert "no article matches 'xylophone'" in out


def test_explanations_come_from_the_engine_for_any_face(built):
    from search.engine import Engine
    from search.request import SearchRequest

    _, index = built
    engine = Engine(index)
    request = SearchRequest("oil", sources=("bbc.co.uk",), until="1990")
    reasons = engine.explain_empty(request, engine.search(request))
    kinds = [reason.kind for reason in reasons]
    assert "before_archive" in kinds and "unknown" not in kinds
    assert all(set(reason.to_json()) == {"kind", "message", "way_out"} for reason in reasons)
    found = SearchRequest("oil")
    assert engine.explain_empty(found, engine.search(found)) == []


def test_update_progress_counts_its_files_and_names_the_commit(tmp_path, monkeypatch):
    data = write_archive(tmp_path / "data")
    index = tmp_path / "index"
    run("index", "build", "--data", data, "--index", index, "--workers", 1)
    for number in range(3):
        write_article(data, f"2023/09/new-{number}.md", title=f"New article {number}", published="2023-09-01T00:00:00Z")
    seen = []

    class Recorder:
        def __call__(self, phase, done, total):
            seen.append((phase, done, total))

        def close(self):
            seen.append("closed")

    monkeypatch.setattr(cli, "_progress", lambda as_json: Recorder())
    assert run("index", "update", "--data", data, "--index", index).exit_code == 0
    phases = [item[0] for item in seen if item != "closed"]
    assert phases[:3] == ["reading the manifest", "finding changes", "indexing changes"]
    assert ("indexing changes", 3, 3) in seen
    assert "indexing changes: merging and committing" in phases and phases[-1] == "finishing"
    assert seen[-1] == "closed"


def test_text_output_never_passes_control_characters_to_the_terminal(tmp_path):
    data = tmp_path / "data"
    write_article(data, "2022/01/evil.md", title="Evil \x1b]0;pwned\x07 title", published="2022-01-01T00:00:00Z",
                  body="Body with \x1b[2J a clear-screen.")
    index = tmp_path / "index"
    run("index", "build", "--data", data, "--index", index)
    for command in (["search", "evil"], ["show", "2022/01/evil"], ["search", "evil", "--format", "md"]):
        result = run(*command, "--index", index)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout, command
        assert "title" in result.stdout


def test_a_closed_pipe_ends_quietly(built, monkeypatch):
    _, index = built

    def closed(*args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli.click, "echo", closed)
    result = run("search", "harbor", "--format", "ids", "--index", index)
    assert result.exit_code == cli.BROKEN_PIPE
    assert "internal error" not in result.output


def test_show_prints_an_excerpt_once_when_the_body_opens_with_it(tmp_path):
    data = tmp_path / "data"
    opening = "Wheat prices rose sharply on Monday after the harvest failed."
    write_article(data, "2022/01/wheat.md", title="Wheat rises", excerpt=opening,
                  body=opening + "\n\nTraders said more rises were likely.", published="2022-01-01T00:00:00Z")
    write_article(data, "2022/01/corn.md", title="Corn falls", excerpt="Corn fell on a large crop.",
                  body="Farmers in Iowa reported record yields.", published="2022-01-02T00:00:00Z")
    index = tmp_path / "index"
    run("index", "build", "--data", data, "--index", index)
    wheat = run("show", "2022/01/wheat", "--index", index).stdout
    assert wheat.count("Wheat prices rose sharply") == 1 and "Traders said more rises" in wheat
    corn = run("show", "2022/01/corn", "--index", index).stdout
    assert "Corn fell on a large crop." in corn and "Farmers in Iowa" in corn
