"""The ``newsearch`` command, run in-process with click's CliRunner."""

from __future__ import annotations

import json
import re

import pytest


from helpers import (
    AIRSHIP,
    ARTICLES,
    BOE,
    CRUDE,
    HARBOR_IDS,
    OILFIELD,
    SHIPPING,
    ZEPPELIN,
    run_cli as run,
    write_archive,
    write_article,
)


SEARCH_KEYS = {"query", "total", "page", "results", "facets", "took_ms"}


def search(index, *args):
    return run("search", *args, "--index", index)


def search_json(index, *args):
    result = search(index, *args, "--json")
    return result, json.loads(result.stdout)


# ================================================================ index build


def test_build_prints_a_summary(tmp_path):
    data = write_archive(tmp_path / "data")
    result = run("index", "build", "--data", data, "--index", tmp_path / "index")
    assert result.exit_code == 0, result.output
    summary = result.stdout
    assert re.search(rf"\bindexed {len(ARTICLES)}\b", summary), summary
    assert re.search(r"\bskipped 0\b", summary), summary
    assert re.search(r"\bwarnings 0\b", summary), summary
    assert re.search(r"\b\d+\.\d+s\b", summary), summary
    assert f"{len(ARTICLES)} documents" in summary
    assert (tmp_path / "index" / "CURRENT").is_file()


def test_build_json_summary(tmp_path):
    data = write_archive(tmp_path / "data")
    result = run("index", "build", "--data", data, "--index", tmp_path / "index", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["indexed"] == len(ARTICLES)
    assert report["skipped"] == [] and report["warnings"] == []
    assert isinstance(report["seconds"], (int, float)) and report["seconds"] >= 0


def test_build_reads_data_and_index_from_the_environment(tmp_path):
    data = write_archive(tmp_path / "data")
    index = tmp_path / "env-index"
    result = run("index", "build", "--json", env={"NEWSEARCH_DATA": str(data), "NEWSEARCH_INDEX": str(index)})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["indexed"] == len(ARTICLES)
    result = run("search", "zeppelin", "--json", env={"NEWSEARCH_INDEX": str(index)})
    assert result.exit_code == 0, result.output
    assert {r["id"] for r in json.loads(result.stdout)["results"]} == {ZEPPELIN, AIRSHIP}


def test_build_of_a_missing_data_folder_is_a_usage_error(tmp_path):
    result = run("index", "build", "--data", tmp_path / "nope", "--index", tmp_path / "index")
    assert result.exit_code == 2
    assert "nope" in result.output
    assert not (tmp_path / "index" / "CURRENT").exists()


# ================================================================ a folder with broken files

BROKEN = {
    "2021/01/empty.md": b"",
    "2021/01/binary.md": b"---\ntitle: Binary\n---\n\x00\x01\x02\x00",
    "2021/01/bad-yaml.md": b"---\ntitle: [unclosed\nexcerpt: x\n---\nbody\n",
    "2021/01/list-front-matter.md": b"---\n- one\n- two\n---\nbody\n",
}
WARNED = {
    "2021/02/bom.md": b"\xef\xbb\xbf---\ntitle: With a BOM\npublishedDateTime: 2021-02-01T00:00:00Z\n---\n",
    "2021/02/impossible-date.md": b"---\ntitle: Leap day\npublishedDateTime: 2021-02-30T00:00:00Z\n---\n",
}


@pytest.fixture()
def broken(tmp_path):
    data = tmp_path / "broken"
    write_article(data, "2021/03/fine.md", title="A perfectly fine walrus", published="2021-03-01T00:00:00Z")
    for relpath, raw in {**BROKEN, **WARNED}.items():
        path = data / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
    return data


def test_check_lists_every_problem(broken, tmp_path, monkeypatch):
    index = tmp_path / "must-not-exist"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    result = run("index", "check", "--data", broken, env={"NEWSEARCH_INDEX": str(index)})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for relpath in BROKEN:
        assert any(relpath in line and "skipped" in line for line in lines), (relpath, result.output)
    for relpath in WARNED:
        assert any(relpath in line and "warning" in line for line in lines), (relpath, result.output)
    assert not any("fine.md" in line for line in lines)
    assert re.search(rf"\bskipped {len(BROKEN)}\b", result.stdout), result.stdout
    assert re.search(rf"\bwarnings {len(WARNED)}\b", result.stdout), result.stdout
    # nothing was indexed: not at NEWSEARCH_INDEX, not at the default ./index, not in the data folder
    assert not index.exists()
    assert list(cwd.iterdir()) == []
    assert sorted(p.name for p in broken.iterdir()) == ["2021"]


def test_check_json_lists_skipped_and_warned_files(broken):
    result = run("index", "check", "--data", broken, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {item["path"] for item in report["skipped"]} == set(BROKEN)
    assert {item["path"] for item in report["warnings"]} == set(WARNED)
    assert all(item["reason"] for item in report["skipped"])
    assert report["files"] == 1 + len(BROKEN) + len(WARNED)


@pytest.mark.parametrize("command", ["check", "build"])
def test_strict_exits_1_when_a_file_is_skipped(broken, tmp_path, command):
    args = ["index", command, "--data", broken, "--strict"]
    if command == "build":
        args += ["--index", tmp_path / "index"]
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert "strict" in result.output


def test_strict_exits_0_when_nothing_is_skipped(tmp_path):
    data = tmp_path / "data"
    write_article(data, "2021/03/fine.md", title="A perfectly fine walrus", published="2021-03-01T00:00:00Z")
    # a warning alone is not a skipped file
    (data / "2021/02").mkdir(parents=True)
    (data / "2021/02/impossible-date.md").write_bytes(WARNED["2021/02/impossible-date.md"])
    assert run("index", "check", "--data", data, "--strict").exit_code == 0
    assert run("index", "build", "--data", data, "--index", tmp_path / "index", "--strict").exit_code == 0


def test_build_with_broken_files_indexes_the_readable_ones(broken, tmp_path):
    index = tmp_path / "index"
    result = run("index", "build", "--data", broken, "--index", index, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["indexed"] == 1 + len(WARNED)
    assert {item["path"] for item in report["skipped"]} == set(BROKEN)
    assert {item["path"] for item in report["warnings"]} == set(WARNED)
    result = run("search", "walrus", "--index", index, "--json")
    assert [r["id"] for r in json.loads(result.stdout)["results"]] == ["2021/03/fine"]


def test_update_indexes_new_files(tmp_path):
    data, index = tmp_path / "data", tmp_path / "index"
    write_article(data, "2021/03/a.md", title="First walrus", published="2021-03-01T00:00:00Z")
    assert run("index", "build", "--data", data, "--index", index).exit_code == 0
    write_article(data, "2021/03/b.md", title="Second walrus", published="2021-03-02T00:00:00Z")
    result = run("index", "update", "--data", data, "--index", index, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["indexed"] == 1 and report["documents"] == 2
    _, found = search_json(index, "walrus")
    assert found["total"] == 2


# ================================================================ index stats


def test_stats_json(built):
    _, index = built
    result = run("index", "stats", "--index", index, "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["documents"] == len(ARTICLES)


def test_stats_text(built):
    _, index = built
    result = run("index", "stats", "--index", index)
    assert result.exit_code == 0, result.output
    assert re.search(rf"documents\s+{len(ARTICLES)}\b", result.stdout), result.stdout
    assert "Ports (10)" in result.stdout


def test_stats_without_an_index_is_a_usage_error(tmp_path):
    result = run("index", "stats", "--index", tmp_path / "none")
    assert result.exit_code == 2
    assert "no index" in result.output


# ================================================================ search


def test_search_prints_title_source_date_and_url(built):
    _, index = built
    result = search(index, "bank", "england", "inflation")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Bank of England raises interest rates again" in out
    assert "BBC News" in out
    assert "2022-08-04" in out
    assert "https://example.test/2022/08/boe-rates" in out
    assert "\x1b[" not in out  # no terminal styling when not a terminal


def test_search_prints_every_result_of_the_page(built):
    _, index = built
    result = search(index, "harbor", "--limit", 4, "--sort", "oldest")
    assert result.exit_code == 0, result.output
    titles = re.findall(r"Harbor report (\w+)", result.stdout)
    assert titles == ["alpha", "echo", "india", "bravo"]
    assert "--page 2" in result.stdout


def test_search_nothing_matched_exits_1_with_a_message(built):
    _, index = built
    result = search(index, "xylophone")
    assert result.exit_code == 1
    assert "No results" in result.stdout
    assert "xylophone" in result.stdout


def test_search_nothing_matched_json_exits_1(built):
    _, index = built
    result, response = search_json(index, "xylophone")
    assert result.exit_code == 1
    assert response["total"] == 0 and response["results"] == []


@pytest.mark.parametrize("args, message", [
    (["oil", "--since", "bogus"], "bogus"),
    (["oil", "--until", "2022-13"], "2022-13"),
    (["oil", "--sort", "random"], "random"),
    (["oil", "--limit", "0"], "--limit"),
    (["oil", "--limit", "101"], "--limit"),
    (["oil", "--page", "0"], "--page"),
    ([], "WORDS"),
])
def test_search_usage_errors_exit_2(built, args, message):
    _, index = built
    result = search(index, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_search_without_an_index_exits_2(tmp_path):
    result = run("search", "oil", "--index", tmp_path / "none")
    assert result.exit_code == 2
    assert "no index" in result.output
    assert "Traceback" not in result.output


def test_search_json_is_one_object(built):
    _, index = built
    result = search(index, "oil", "--json")
    assert result.exit_code == 0, result.output
    response = json.loads(result.stdout)  # fails on anything but exactly one JSON value
    assert isinstance(response, dict)
    assert set(response) >= SEARCH_KEYS
    assert response["total"] == 2
    assert {r["id"] for r in response["results"]} == {CRUDE, SHIPPING}
    assert all("id" in r for r in response["results"])


def test_search_json_with_notes_is_still_one_object(built):
    _, index = built
    result = search(index, '"bank', "foo:bar", "*oil", "--json")
    response = json.loads(result.stdout)
    assert set(response) >= SEARCH_KEYS
    assert len(response["query"]["notes"]) >= 3


def test_search_text_prints_notes(built):
    _, index = built
    result = search(index, "*oil")
    assert result.exit_code == 0
    assert "note:" in result.output and "*oil" in result.output


def test_search_words_use_the_query_language(built):
    _, index = built
    _, response = search_json(index, '"bank of england"')
    assert [r["id"] for r in response["results"]] == [BOE]
    _, response = search_json(index, "title:oil")
    assert [r["id"] for r in response["results"]] == [CRUDE]
    _, response = search_json(index, "oil -crude")
    assert [r["id"] for r in response["results"]] == [SHIPPING]
    result = run("search", "--index", index, "--json", "--", "oil", "-crude")
    assert [r["id"] for r in json.loads(result.stdout)["results"]] == [SHIPPING]
    _, response = search_json(index, "zeppelin", "OR", "oilfield")
    assert {r["id"] for r in response["results"]} == {ZEPPELIN, AIRSHIP, OILFIELD}


def test_search_minus_word_as_its_own_argument(built):
    _, index = built
    result = search(index, "oil", "-crude", "--json")
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in json.loads(result.stdout)["results"]] == [SHIPPING]


def test_search_a_mistyped_option_is_an_error_not_a_word(built):
    _, index = built
    result = search(index, "oil", "--limt", "3")
    assert result.exit_code == 2
    assert "No such option '--limt'" in result.output and "--limit" in result.output
    result = search(index, "oil", "--data", "x", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["kind"] == "usage"
    assert "--data" in json.loads(result.stdout)["error"]["message"]
    # an option's value and anything after -- are not options
    result = search(index, "oil", "--topic", "--energy", "--json")
    assert json.loads(result.stdout)["query"]["filters"]["topics"] == ["--energy"]
    result = run("search", "--index", index, "--json", "--limit=1", "--", "--oil")
    assert result.exit_code in (0, 1) and json.loads(result.stdout)["query"]["text"] == "--oil"


@pytest.mark.parametrize("args, expected", [
    (["oil*", "--topic", "Energy"], {CRUDE, OILFIELD}),
    (["oil*", "--topic", "energy", "--topic", "shipping"], {CRUDE, OILFIELD, SHIPPING}),
    (["oil", "--source", "reuters"], {CRUDE, SHIPPING}),
    (["oil*", "--source", "bloomberg.com"], {OILFIELD}),
    (["oil*", "--source", "Bloomberg", "--source", "reuters.com"], {CRUDE, OILFIELD, SHIPPING}),
    (["oil*", "--topic", "Energy", "--source", "Reuters"], {CRUDE}),
    (["oil*", "--since", "2021"], {OILFIELD, SHIPPING}),
    (["oil*", "--until", "2021-03"], {CRUDE, OILFIELD}),
    (["oil*", "--since", "2021-03-16", "--until", "2022-07-20"], {SHIPPING}),
    (["zeppelin", "--until", "2021-06-30"], set()),
])
def test_search_filter_options(built, args, expected):
    _, index = built
    result, response = search_json(index, *args)
    assert {r["id"] for r in response["results"]} == expected
    assert result.exit_code == (0 if expected else 1)


@pytest.mark.parametrize("sort, reverse", [("newest", True), ("oldest", False)])
def test_search_sort_option(built, sort, reverse):
    _, index = built
    _, response = search_json(index, "harbor", "--sort", sort, "--limit", 10)
    dates = [r["published"] for r in response["results"]]
    assert len(dates) == 10
    assert dates == sorted(dates, reverse=reverse)
    assert response["sort"] == sort


def test_search_limit_and_page_options(built):
    _, index = built
    _, everything = search_json(index, "harbor", "--sort", "newest", "--limit", 10)
    _, first = search_json(index, "harbor", "--sort", "newest", "--limit", 4)
    _, second = search_json(index, "harbor", "--sort", "newest", "--limit", 4, "--page", 2)
    _, third = search_json(index, "harbor", "--sort", "newest", "--limit", 4, "--page", 3)
    assert (first["page"], second["page"], third["page"]) == (1, 2, 3)
    pages = [[r["id"] for r in page["results"]] for page in (first, second, third)]
    assert [len(p) for p in pages] == [4, 4, 2]
    assert sum(pages, []) == [r["id"] for r in everything["results"]]
    assert first["total"] == second["total"] == len(HARBOR_IDS)


def test_search_page_past_the_end(built):
    _, index = built
    result, response = search_json(index, "harbor", "--limit", 5, "--page", 3)
    assert response["results"] == [] and response["total"] == 10
    result = search(index, "harbor", "--limit", 5, "--page", 3)
    assert "Traceback" not in result.output


def test_serve_builds_a_missing_index_then_serves(tmp_path):
    import http.client
    import socket
    import subprocess
    import sys
    import time

    data = tmp_path / "data"
    write_archive(data, {BOE: ARTICLES[BOE]})
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "search.cli", "serve", "--data", str(data),
                               "--index", str(tmp_path / "index"), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, health = time.monotonic() + 60, None
        while time.monotonic() < deadline and health is None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/api/health")
                health = json.loads(conn.getresponse().read())
            except OSError:
                time.sleep(0.2)
        assert health and health["documents"] == 1
        conn.request("GET", "/?q=bank")
        page = conn.getresponse()
        assert page.status == 200 and "Bank of England" in page.read().decode()
        conn.request("GET", "/opensearch.xml", headers={"Host": "evil.test"})
        refused = conn.getresponse()
        assert refused.status == 400 and b"evil" not in refused.read()
        assert refused.getheader("Content-Security-Policy")
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert "building it" in output and f"http://127.0.0.1:{port}/" in output
    assert "Answering requests for: localhost, 127.0.0.1, ::1" in output


@pytest.mark.parametrize("args, env, message", [
    (["--base-url", "ftp://example.org"], {}, "--base-url"),
    (["--base-url", "https://example.org/?q=1"], {}, "query"),
    ([], {"NEWSEARCH_BASE_URL": "example.org"}, "NEWSEARCH_BASE_URL"),
    (["--trusted-host", "evil_host"], {}, "not a host name: 'evil_host'"),
    ([], {"NEWSEARCH_TRUSTED_HOSTS": "good.example.org,bad host!"}, "not a host name: 'host!'"),
])
def test_serve_refuses_a_bad_base_url_or_host_before_starting(tmp_path, args, env, message):
    result = run("serve", "--data", tmp_path / "data", "--index", tmp_path / "index", *args, env=env)
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "index").exists()  # refused before building or serving anything


def test_the_max_size_default_is_the_readers_own():
    from search import cli, documents

    assert cli.DEFAULT_MAX_BYTES == documents.DEFAULT_MAX_BYTES


def test_each_command_loads_only_what_it_needs(built):
    import subprocess
    import sys
    from pathlib import Path

    # In a fresh interpreter, since this one has long imported everything.
    fixture = Path(__file__).parent / "relevance" / "fixture"
    index = str(built[1])
    code = f"""if True:
        import json, pkgutil, sys
        from click.testing import CliRunner
        import search, search.cli

        HEAVY = ("whoosh", "nltk", "flask", "web", "yaml", "search.evaluation", "search.baselines",
                 "search.indexer", "search.engine", "search.analysis")

        def loaded():
            return sorted({{name for name in HEAVY for module in sys.modules
                           if module == name or module.startswith(name + ".")}})

        def run(*args):
            result = CliRunner().invoke(search.cli.main, list(args), catch_exceptions=False)
            assert result.exit_code in (0, 1), result.output
            return loaded()

        stages = {{"import": loaded()}}
        for args in (["--help"], ["index", "--help"], ["index", "build", "--help"], ["search", "--help"],
                     ["evaluate", "--help"]):
            stages["help"] = sorted(set(stages.get("help", [])) | set(run(*args)))
        stages["stats"] = run("index", "stats", "--index", {index!r})
        stages["stemmer after stats"] = search.analysis._snowball_stem is not None
        stages["search"] = run("search", "oil", "--index", {index!r})
        stages["stemmer after search"] = search.analysis._snowball_stem is not None
        stages["evaluate"] = run("evaluate", {str(fixture / "articles")!r}, {str(fixture / "fixture-queries.tsv")!r},
                                 {str(fixture / "fixture-qrels.txt")!r}, "--system", "fts5")
        for module in pkgutil.iter_modules(search.__path__, "search."):
            __import__(module.name)
        stages["every module"] = loaded()
        print(json.dumps(stages))
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    stages = json.loads(done.stdout)
    assert stages["import"] == stages["help"] == []  # --help loads neither Whoosh nor NLTK
    assert stages["stats"] == ["search.analysis", "search.engine", "whoosh"]
    assert stages["stemmer after stats"] is False  # no text analysed, so no stemmer loaded
    # Searching stems the words, through the NLTK stemmer loaded without leaving nltk in sys.modules.
    assert stages["search"] == stages["stats"] and stages["stemmer after search"] is True
    assert stages["evaluate"] == ["search.analysis", "search.baselines", "search.engine", "search.evaluation",
                                  "search.indexer", "whoosh", "yaml"]
    assert stages["every module"] == stages["evaluate"]  # no module of search/ imports web


def test_the_progress_line_shows_each_phase_with_a_rate_and_time_left(capsys) -> None:
    from search.cli import ProgressLine

    now = [0.0]
    line = ProgressLine(clock=lambda: now[0])
    line("finding files", 0, 0)
    line("indexing", 0, 1000)
    now[0] = 10.0
    line("indexing", 250, 1000)  # 25/s, 750 to go: 30 s
    now[0] = 10.1
    line("indexing", 260, 1000)  # too soon after the last one: not shown
    now[0] = 100.0
    line("committing", 0, 0)
    line.close()
    shown = capsys.readouterr().err
    assert "finding files..." in shown
    assert "indexing: 250/1,000 (25%), 25/s, about 30s left" in shown
    assert "260/1,000" not in shown
    assert "\n" not in shown  # one line, rewritten in place across the phases
    assert shown.rstrip("\r").endswith("committing...") and shown.endswith("\r")  # cleared for the report


def test_the_progress_line_is_not_redrawn_while_the_count_stays_at_its_total(capsys) -> None:
    """A build waiting for its last workers reports done == total over and over; it once
    printed the line again each time (65-155 times)."""
    from search.cli import ProgressLine

    now = [0.0]
    line = ProgressLine(clock=lambda: now[0])
    for tick in range(100):
        now[0] = tick * 0.1
        line("indexing", 500, 500)
    line("committing", 0, 0)
    line.close()
    shown = capsys.readouterr().err
    assert shown.count("indexing: 500/500 (100%)") == 1
    assert shown.count("committing...") == 1 and "\n" not in shown


def test_a_damaged_index_is_a_one_line_error_naming_the_file(tmp_path):
    from search.store import IndexHome

    data = write_archive(tmp_path / "data")
    run("index", "build", "--data", data, "--index", tmp_path / "index")
    damaged = sorted(IndexHome(tmp_path / "index").require_current().glob("*.trm"))[0]
    damaged.unlink()
    result = run("search", "oil", "--index", tmp_path / "index")
    assert result.exit_code == 2
    assert "cannot be opened" in result.stderr and damaged.name in result.stderr
    assert "Traceback" not in result.output
    assert [line for line in result.stderr.splitlines() if "cannot be opened" in line][0].startswith("Error: ")
