"""Reliability: the reproductions of the attack report (issue 10) as regression
tests. An ordinary article, date or query must never break a build, an
update or the searches after it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from search import indexer
from search.cli import INTERNAL_ERROR, main
from search.documents import read_article
from search.engine import Engine
from web import create_app

from helpers import search_for, write_article

GOOD_TITLE = "Ferries resume crossings after the storm"


def run(*args):
    env = {"NEWSEARCH_DATA": None, "NEWSEARCH_INDEX": None, "NEWSEARCH_DEBUG": None}
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


def good_article(data):
    write_article(data, "good.md", title=GOOD_TITLE, excerpt="Ferry services to the islands restarted.",
                  published="2023-02-01T08:00:00Z", topics=["Travel"])


def wordless(data, title: str, name: str = "wordless.md"):
    (data / name).write_text(f'---\ntitle: {json.dumps(title)}\n---\n', encoding="utf-8")


# ---------------------------------------------------------------- 1. a wordless article


@pytest.mark.parametrize("title", ["The", "!!!", "😀"])
def test_an_article_without_searchable_words_does_not_break_search(tmp_path, title):
    data = tmp_path / "data"
    good_article(data)
    wordless(data, title)
    result = run("index", "build", "--data", data, "--index", tmp_path / "index", "--workers", 1)
    assert result.exit_code == 0, result.output
    found = run("search", "ferries", "--index", tmp_path / "index", "--json")
    assert found.exit_code == 0, found.output
    assert [hit["title"] for hit in json.loads(found.stdout)["results"]] == [GOOD_TITLE]


def test_a_wordless_article_added_by_update_does_not_break_a_running_server(tmp_path):
    data, home = tmp_path / "data", indexer.IndexHome(tmp_path / "index")
    good_article(data)
    indexer.build(data, home, workers=1)
    engine = Engine(home.path, recheck_seconds=0)
    client = create_app(home.path, data, engine=engine).test_client()
    assert client.get("/api/search?q=ferries").get_json()["total"] == 1
    wordless(data, "The")
    write_article(data, "more.md", title="More ferries next week", published="2023-02-02T08:00:00Z", topics=["Travel"])
    indexer.update(data, home)  # one new segment: a wordless article beside one with words
    response = client.get("/api/search?q=ferries")
    assert response.status_code == 200
    assert response.get_json()["total"] == 2
    assert search_for(engine, "", sort="newest", topics=["Travel"]).total == 2


# ---------------------------------------------------------------- 2. dates past the ends of the calendar


EXTREME_DATES = ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"]


@pytest.mark.parametrize("stamp", EXTREME_DATES)
@pytest.mark.parametrize("quoted", [False, True], ids=["yaml-timestamp", "string"])
def test_a_date_outside_the_calendar_in_utc_is_kept_without_a_date(tmp_path, stamp, quoted):
    value = json.dumps(stamp) if quoted else stamp
    (tmp_path / "far.md").write_text(f"---\ntitle: Ferries of the far future\npublishedDateTime: {value}\n---\n",
                                     encoding="utf-8")
    article, problems = read_article(tmp_path, "far.md")
    assert article is not None and article.title == "Ferries of the far future"
    assert article.published is None
    assert [p.message for p in problems if "publishedDateTime" in p.message and "impossible" in p.message]


@pytest.mark.parametrize("command", ["build", "update", "check"])
def test_extreme_dates_do_not_abort_a_build_update_or_check(tmp_path, command):
    data = tmp_path / "data"
    good_article(data)
    for n, stamp in enumerate(EXTREME_DATES):
        (data / f"far{n}.md").write_text(f"---\ntitle: Far ferries {n}\npublishedDateTime: {stamp}\n---\n",
                                         encoding="utf-8")
    args = ["index", command, "--data", data, "--json"]
    if command != "check":
        args += ["--index", tmp_path / "index"]
    result = run(*args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["indexed"] == 3
    assert sum("impossible" in w["message"] for w in report["warnings"]) == 2
    if command != "check":
        found = json.loads(run("search", "ferries", "--index", tmp_path / "index", "--json").stdout)
        assert found["total"] == 3


def test_an_update_with_an_extreme_date_leaves_no_stray_segments(tmp_path):
    data, home = tmp_path / "data", indexer.IndexHome(tmp_path / "index")
    good_article(data)
    indexer.build(data, home, workers=1)
    gen = home.current()
    before = sorted(p.name for p in gen.iterdir())
    (data / "far.md").write_text(f"---\ntitle: Far ferries\npublishedDateTime: {EXTREME_DATES[0]}\n---\n",
                                 encoding="utf-8")
    report = indexer.update(data, home)
    assert report.indexed == 1
    after = sorted(p.name for p in gen.iterdir())
    assert len([n for n in after if n.endswith(".trm")]) == len([n for n in before if n.endswith(".trm")]) + 1


# ---------------------------------------------------------------- 3. fielded phrases beside other words


QUERIES_THAT_CRASHED = [
    'title:"oil prices" gas',
    'gas title:"oil prices"',
    '"oil prices" title:"crude oil" zurich bank rates',
    'title:"ferries resume" crossings',
    'title:"ferries resume" OR storm',
    'title:"ferries resume" -harbour',
    'title:(ferries resume) storm',
    'title:ferr* storm',
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("reliability")
    data = root / "data"
    good_article(data)
    write_article(data, "oil.md", title="Oil prices rise as crude stocks fall",
                  excerpt="Gas and oil prices rose in Zurich trading; bank rates held.", published="2023-01-05T10:00:00Z")
    write_article(data, "storm.md", title="Storm closes the harbour", excerpt="Ferries stayed in port.",
                  published="2023-01-20T10:00:00Z")
    indexer.build(data, indexer.IndexHome(root / "index"), workers=1)
    return data, root / "index"


@pytest.mark.parametrize("text", QUERIES_THAT_CRASHED)
def test_fielded_phrases_next_to_other_words_search(archive, text):
    engine = Engine(archive[1], recheck_seconds=0)
    response = search_for(engine, text)
    assert response.total == len(response.hits) >= 1
    client = create_app(archive[1], archive[0], engine=engine).test_client()
    assert client.get("/api/search", query_string={"q": text}).status_code == 200


def test_title_phrase_beside_a_word_requires_both(archive):
    engine = Engine(archive[1], recheck_seconds=0)
    assert [h.title for h in search_for(engine, 'title:"oil prices" zurich').hits] == ["Oil prices rise as crude stocks fall"]
    assert [h.title for h in search_for(engine, 'title:"ferries resume" storm').hits] == [GOOD_TITLE]


# ---------------------------------------------------------------- exit status of a fault


def test_an_internal_error_exits_3_with_one_line(archive, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(Engine, "search", broken)
    result = run("search", "ferries", "--index", archive[1])
    assert result.exit_code == INTERNAL_ERROR == 3
    assert result.stderr.strip().count("\n") == 0
    assert "internal error (RuntimeError: boom second line)" in result.stderr


# ---------------------------------------------------------------- files that hang or never end


def test_a_named_pipe_is_skipped_without_blocking(tmp_path):
    import os

    good_article(tmp_path)
    os.mkfifo(tmp_path / "pipe.md")
    article, problems = read_article(tmp_path, "pipe.md")
    assert article is None
    assert [p.message for p in problems] == ["is not a regular file (a named pipe); skipped"]
    report = indexer.check(tmp_path)
    assert report.indexed == 1 and [p.path for p in report.skipped] == ["pipe.md"]


def test_a_link_to_an_endless_device_is_skipped(tmp_path):
    (tmp_path / "zero.md").symlink_to("/dev/zero")
    article, problems = read_article(tmp_path, "zero.md")
    assert article is None
    assert [p.message for p in problems] == ["is not a regular file (a character device); skipped"]


@pytest.mark.parametrize("markup, expected", [
    ("](" + "[" * 200_000, "](" + "[" * 200_000),
    ("[a](" * 50_000 + "x", "[a](" * 50_000 + "x"),
    ("<div" * 50_000, "<div" * 50_000),
    ("<script>" * 50_000 + "after", ""),
    ("<noscript>" * 20_000 + "seen", "<noscript>" * 20_000 + "seen"),
    ("a<script>x</script>b<noscript>c</noscript>d<style>hidden", "a b d"),
    ("see [the report](http://x.test/a) and ![a chart](c.png)", "see the report and a chart"),
])
def test_pathological_markup_is_cleaned_as_before(markup, expected):
    # The cleaning patterns are linear (bounded quantifiers); these inputs took
    # minutes with the unbounded ones. Their timing is in tools/benchmark.
    from search.documents import plain_text

    assert plain_text(markup) == expected


def test_an_article_replaced_by_a_named_pipe_does_not_block_an_update(tmp_path):
    import os

    data, home = tmp_path / "data", indexer.IndexHome(tmp_path / "index")
    good_article(data)
    write_article(data, "pipe.md", title="Soon a pipe")
    indexer.build(data, home, workers=1)
    (data / "pipe.md").unlink()
    os.mkfifo(data / "pipe.md")
    report = indexer.update(data, home)
    assert [p.path for p in report.skipped] == ["pipe.md"]
    assert search_for(Engine(home.path, recheck_seconds=0), "ferries").total == 1


def test_a_number_too_large_for_a_float_is_ignored_with_a_warning(tmp_path):
    # Found by tests/test_fuzz.py: it stopped the whole build with OverflowError.
    (tmp_path / "big.md").write_text("---\ntitle: Big numbers\nquality: " + "10" * 200 + "\n---\nBody words.\n")
    article, problems = read_article(tmp_path, "big.md")
    assert article is not None and article.quality is None
    assert [problem.message for problem in problems] == ["'quality' is too large a number; ignored"]


def test_a_file_the_reader_fails_on_is_skipped_with_the_reason(tmp_path, monkeypatch):
    from search import documents

    def broken(*args):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(documents, "parse_article", broken)
    (tmp_path / "x.md").write_text("---\ntitle: Anything\n---\n")
    article, problems = read_article(tmp_path, "x.md")
    assert article is None and "could not be read (RecursionError" in problems[0].message


# ---------------------------------------------------------------- the archive is the boundary


SECRET = "Zanzibar launch codes"


def archive_with_a_way_out(tmp_path):
    """A data folder with a good article, a link to a file outside it and a link to a folder outside it."""
    data, outside = tmp_path / "data", tmp_path / "outside"
    good_article(data)
    write_article(outside, "shadow.md", title=SECRET)
    write_article(outside / "folder", "more.md", title=f"More {SECRET}")
    (data / "shadow.md").symlink_to(outside / "shadow.md")
    (data / "elsewhere").symlink_to(outside / "folder")
    return data


@pytest.mark.parametrize("command", ["build", "check"])
def test_links_out_of_the_data_folder_are_skipped_and_reported(tmp_path, command):
    data = archive_with_a_way_out(tmp_path)
    args = ["index", command, "--data", data, "--json"] + (["--index", tmp_path / "index"] if command == "build" else [])
    report = json.loads(run(*args).stdout)
    assert report["indexed"] == 1
    assert {s["path"]: s["reason"] for s in report["skipped"]} == {
        "shadow.md": "is a link to a file outside the data folder; skipped (--follow-links follows links)",
        "elsewhere": "is a link to a folder outside the data folder; skipped (--follow-links follows links)",
    }
    if command == "build":
        assert json.loads(run("search", "zanzibar", "--index", tmp_path / "index", "--json").stdout)["total"] == 0
        client = create_app(tmp_path / "index", data).test_client()
        assert client.get("/api/articles/shadow").status_code == 404


def test_follow_links_reads_them_and_later_updates_keep_following(tmp_path):
    data = archive_with_a_way_out(tmp_path)
    index = tmp_path / "index"
    built = json.loads(run("index", "build", "--data", data, "--index", index, "--follow-links", "--json").stdout)
    assert built["indexed"] == 3 and built["skipped"] == []
    write_article(tmp_path / "outside/folder", "third.md", title=f"Third {SECRET}")
    updated = json.loads(run("index", "update", "--data", data, "--index", index, "--json").stdout)
    assert (updated["indexed"], updated["removed"], updated["documents"]) == (1, 0, 4)
    assert json.loads(run("search", "zanzibar", "--index", index, "--no-collapse", "--json").stdout)["total"] == 3


def test_an_update_refuses_a_link_out_even_when_named_as_a_path(tmp_path):
    data, home = tmp_path / "data", indexer.IndexHome(tmp_path / "index")
    good_article(data)
    indexer.build(data, home, workers=1)
    archive_with_a_way_out(tmp_path)
    report = indexer.update(data, home, paths=[data / "elsewhere/more.md", data / "shadow.md"])
    assert report.indexed == 0
    assert sorted(p.path for p in report.skipped) == ["elsewhere/more.md", "shadow.md"]
    assert all("outside the data folder" in p.message for p in report.skipped)


def test_a_folder_link_loop_never_hangs(tmp_path):
    data = tmp_path / "data"
    good_article(data / "2023")
    (data / "2023/again").symlink_to(data / "2023")
    (data / "2023/up").symlink_to(data)
    for follow in ([], ["--follow-links"]):
        result = run("index", "build", "--data", data, "--index", tmp_path / "index", "--json", *follow)
        report = json.loads(result.stdout)
        assert report["indexed"] == 1
        messages = {w["path"]: w["message"] for w in report["warnings"]}
        assert set(messages) == {"2023/again", "2023/up"}
        assert all(("a loop" in m) == bool(follow) for m in messages.values())


# ---------------------------------------------------------------- unreadable files and folders


def _deny(monkeypatch, name: str):
    """Make the file or folder called ``name`` unreadable, as permissions do for a user other than root."""
    import builtins
    import io
    import os

    def locked(path) -> bool:
        if isinstance(path, int):
            try:
                path = os.readlink(f"/proc/self/fd/{path}")
            except OSError:
                return False
        return os.path.basename(os.fsdecode(path)) == name

    scandir, open_file, os_open = os.scandir, io.open, os.open

    def guarded_scandir(path="."):
        if locked(path):
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    def guarded_open(path, *args, **kwargs):
        if not isinstance(path, int) and locked(path):
            raise PermissionError(13, "Permission denied", str(path))
        return open_file(path, *args, **kwargs)

    def guarded_os_open(path, *args, **kwargs):
        if locked(path):
            raise PermissionError(13, "Permission denied", str(path))
        return os_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", guarded_scandir)
    monkeypatch.setattr(os, "open", guarded_os_open)
    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(builtins, "open", guarded_open)


def test_unreadable_files_and_folders_are_skipped_with_a_reason(tmp_path, monkeypatch):
    data, home = tmp_path / "data", indexer.IndexHome(tmp_path / "index")
    good_article(data)
    write_article(data / "locked", "inside.md", title="Locked away")
    write_article(data, "private.md", title="Private")
    _deny(monkeypatch, "locked")
    _deny(monkeypatch, "private.md")
    for report in (indexer.check(data), indexer.build(data, home, workers=1)):
        assert report.indexed == 1
        assert {p.path: p.message for p in report.skipped} == {
            "locked": "is a folder that cannot be read (Permission denied); its articles are skipped",
            "private.md": "cannot be read: Permission denied",
        }


def test_an_update_keeps_the_articles_of_a_folder_it_cannot_read(tmp_path, monkeypatch):
    data, home = tmp_path / "data", indexer.IndexHome(tmp_path / "index")
    good_article(data)
    write_article(data / "locked/deeper", "inside.md", title="Ferries locked away")
    indexer.build(data, home, workers=1)
    _deny(monkeypatch, "locked")
    report = indexer.update(data, home)
    assert report.removed == 0 and report.documents == 2
    assert [(p.path, p.message) for p in report.skipped] == [
        ("locked", "is a folder that cannot be read (Permission denied); its indexed articles are kept as they were")]
    assert search_for(Engine(home.path, recheck_seconds=0), "ferries").total == 2


# ---------------------------------------------------------------- names that are not UTF-8


def _non_utf8_archive(tmp_path):
    import os

    data = tmp_path / "data"
    good_article(data)
    raw = os.path.join(os.fsencode(data), b"caf\xe9.md")
    with open(raw, "wb") as file:
        file.write(b"---\ntitle: Cafe\n---\n")
    return data


@pytest.mark.parametrize("command", ["build", "update", "check"])
def test_a_name_that_is_not_utf8_is_reported_escaped_in_valid_utf8(tmp_path, command):
    import os
    import subprocess
    import sys

    data = _non_utf8_archive(tmp_path)
    index = ["--index", str(tmp_path / "index")] if command != "check" else []
    if command == "update":
        indexer.build(data, indexer.IndexHome(tmp_path / "index"), workers=1)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict", "PYTHONUTF8": "0", "LC_ALL": "C.UTF-8"}
    base = [sys.executable, "-m", "search.cli", "index", command, "--data", str(data), *index]
    as_json = subprocess.run([*base, "--json"], capture_output=True, env=env, timeout=120)
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout.decode("utf-8"))  # strict: valid UTF-8
    assert [(s["path"], "not UTF-8" in s["reason"]) for s in report["skipped"]] == [("caf\\xe9.md", True)]
    as_text = subprocess.run(base, capture_output=True, env=env, timeout=120)
    assert as_text.returncode == 0, as_text.stderr
    assert "skipped  caf\\xe9.md: is a file whose name is not UTF-8" in as_text.stderr.decode("utf-8")


# ---------------------------------------------------------------- hidden files and other-case extensions


def test_hidden_files_and_other_case_extensions_are_left_out_and_counted(tmp_path):
    data = tmp_path / "data"
    good_article(data)
    for name in (".hidden.md", "..md", "UPPER.MD", "x.Md", ".git/objects.md"):
        write_article(data, name, title=f"Ferries in {name}")
    report = json.loads(run("index", "check", "--data", data, "--json").stdout)
    assert (report["files"], report["indexed"], report["skipped"]) == (1, 1, [])
    assert sorted(w["path"] for w in report["warnings"]) == ["..md", ".git", ".hidden.md", "UPPER.MD", "x.Md"]
    text = run("index", "check", "--data", data)
    assert "warning  UPPER.MD: ends in '.MD', not '.md'; not read" in text.stderr
    assert "warning  .hidden.md: is a hidden file (its name starts with '.'); not read" in text.stderr


def test_a_data_folder_that_cannot_be_read_is_refused_and_the_index_kept(tmp_path, monkeypatch):
    data, home = tmp_path / "data", indexer.IndexHome(tmp_path / "index")
    good_article(data)
    indexer.build(data, home, workers=1)
    live = home.current()
    _deny(monkeypatch, "data")
    for command in (["build"], ["update"], ["check"]):
        index = ["--index", home.path] if command != ["check"] else []
        result = run("index", *command, "--data", data, *index)
        assert result.exit_code == 2, result.output
        assert f"data folder {data} cannot be read (Permission denied)" in result.stderr
    assert home.current() == live and search_for(Engine(home.path, recheck_seconds=0), "ferries").total == 1


def test_data_and_index_folders_named_in_other_bytes_print_in_strict_utf8(tmp_path):
    import os
    import subprocess
    import sys

    data, index = os.path.join(os.fsencode(tmp_path), b"d\xe9"), os.path.join(os.fsencode(tmp_path), b"ix\xe9")
    good_article(tmp_path / os.fsdecode(b"d\xe9"))
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    for command in (["build", "--data", data], ["build", "--data", data, "--json"], ["stats"], ["stats", "--json"]):
        result = subprocess.run([sys.executable, "-m", "search.cli", "index", *command, "--index", index],
                                capture_output=True, env=env, timeout=120)
        assert result.returncode == 0, result.stderr
        shown = result.stdout.decode("utf-8")
        if "--json" in command:
            assert "ix\\xe9" in json.loads(shown)["index"]
        else:
            assert "ix\\xe9" in shown


def test_a_data_folder_link_switched_to_another_release_is_read_there(tmp_path):
    data, home = tmp_path / "current", indexer.IndexHome(tmp_path / "index")
    good_article(tmp_path / "release-1")
    write_article(tmp_path / "release-2", "other.md", title="Ferries in the second release")
    data.symlink_to(tmp_path / "release-1")
    assert indexer.build(data, home, workers=1).indexed == 1
    data.unlink()
    data.symlink_to(tmp_path / "release-2")
    report = indexer.update(data, home)
    assert (report.indexed, report.removed, report.skipped) == (1, 1, [])
