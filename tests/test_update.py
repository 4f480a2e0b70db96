"""Incremental updates: the manifest, finding changes in one pass, updates limited to PATHs."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from search import changes, documents, manifest
from search.changes import Scope, ScopeProblem, scan
from search.documents import find_article_files
from search.engine import Engine
from search.indexer import build, update
from search.store import IndexHome, IndexProblem

from helpers import search_for
from test_cli import run
from test_indexer import manifest_of, write_article


def stored_documents(home: IndexHome) -> dict[str, dict]:
    with whoosh_index.open_dir(str(home.require_current())).searcher() as searcher:
        found = {fields["id"]: fields for fields in searcher.all_stored_fields()}
        assert len(found) == searcher.doc_count(), "an article indexed twice"
    return found


def assert_same_as_a_fresh_build(data: Path, home: IndexHome, tmp_path: Path) -> None:
    fresh = IndexHome(tmp_path / "fresh")
    build(data, fresh, workers=1)
    assert stored_documents(home) == stored_documents(fresh)
    assert manifest_of(home.require_current()) == manifest_of(fresh.require_current())
    with sqlite3.connect(home.require_current() / "manifest.sqlite") as mine, \
            sqlite3.connect(fresh.require_current() / "manifest.sqlite") as theirs:
        query = "SELECT folder, files, digest FROM folders ORDER BY folder"
        assert mine.execute(query).fetchall() == theirs.execute(query).fetchall()


def replace_file(path: Path, title: str) -> None:
    """Write ``path`` anew in place: same inode and folder, another size and mtime."""
    text = path.read_text(encoding="utf-8").replace("title:", f"title: {title} #", 1)
    with open(path, "w", encoding="utf-8") as file:
        file.write(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    for month in (1, 2, 3):
        for number in range(4):
            write_article(data / f"2022/{month:02d}", f"story-{month}-{number}", f"Harbour story {month} {number}",
                          month=month)
    write_article(data, "top-level", "A story at the top")
    return data


# ---------------------------------------------------------------- the manifest


def test_the_build_writes_one_row_per_article_and_a_digest_per_folder(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    gen = home.require_current()
    rows = manifest_of(gen)
    assert set(rows) == set(stored_documents(home)) and len(rows) == 13
    stat = (archive / "2022/01/story-1-0.md").stat()
    assert rows["2022/01/story-1-0"][:2] == (stat.st_mtime_ns, stat.st_size)
    with manifest.Manifest.open(gen) as opened:
        assert opened.count() == 13
        assert set(opened.digests()) == {"", "2022/01", "2022/02", "2022/03"}
        on_disk = scan(archive, "", {}).differing
        assert {folder: manifest.folder_digest(stamps) for folder, stamps in on_disk.items()} == opened.digests()


def test_a_folder_digest_changes_with_any_name_mtime_or_size() -> None:
    digest = manifest.folder_digest
    base = {"a": (1, 10), "b": (2, 20)}
    assert digest(base) == digest(dict(reversed(base.items())))
    others = [{"a": (1, 10)}, {"a": (1, 10), "c": (2, 20)}, {"a": (1, 10), "b": (3, 20)},
              {"a": (1, 10), "b": (2, 21)}, {"a": (2, 20), "b": (1, 10)}]  # the last: two files swapped
    assert len({digest(base), *map(digest, others)}) == 1 + len(others)
    assert digest({"a": None}) == b""
    assert digest({"a": (1 << 63, 10)}) == b""  # a date beyond 2262


def test_a_folder_digest_is_the_one_earlier_versions_stored() -> None:
    """Manifests written before keep matching: the value folder_digest gave with array.array packing."""
    stamps = {"2022-01-01-story": (1640995200123456789, 4096), "a-b": (-5, 0), "é": (2**63 - 1, 2**40)}
    assert manifest.folder_digest(stamps).hex() == "d1f7c59dc6323af386180e0a46e712b1"


def test_a_scan_digests_a_folder_as_the_manifest_does(tmp_path: Path) -> None:
    """Names in the order of their ids ("a" before "a-b"), not of their file names ("a-b.md" first)."""
    data = tmp_path / "data"
    for name in ["a", "a-b", "a b", "a.b", "B", "é", "z"]:
        write_article(data / "2022", name, name)
    (data / "2022/broken.md").symlink_to(data / "nowhere.md")
    stamps = scan(data, "", {}).differing["2022"]
    assert set(stamps) == {"a", "a-b", "a b", "a.b", "B", "é", "z", "broken"} and stamps["broken"] is None
    (data / "2022/broken.md").unlink()
    stamps = scan(data, "", {}).differing["2022"]
    assert scan(data, "", {"2022": manifest.folder_digest(stamps)}).differing == {}
    assert scan(data, "", {"2022": manifest.folder_digest({**stamps, "z": (1, 1)})}).differing == {"2022": stamps}


def test_an_index_with_an_earlier_manifest_json_keeps_working(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    gen = home.require_current()
    rows = manifest_of(gen)
    (gen / "manifest.json").write_text(json.dumps({doc_id: list(entry) for doc_id, entry in rows.items()}))
    (gen / "manifest.sqlite").unlink()
    write_article(archive / "2022/04", "new-story", "Wind farm approved", month=4)
    report = update(archive, home)
    assert (report.indexed, report.updated, report.removed, report.unchanged) == (1, 0, 0, 13)
    assert not (gen / "manifest.json").exists()
    assert_same_as_a_fresh_build(archive, home, tmp_path)


def test_an_update_killed_before_its_manifest_was_written_is_repaired_by_the_next(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    before = (home.require_current() / "manifest.sqlite").read_bytes()
    write_article(archive / "2022/04", "new-story", "Wind farm approved", month=4)
    (archive / "2022/01/story-1-0.md").unlink()
    update(archive, home)
    (home.require_current() / "manifest.sqlite").write_bytes(before)  # as if killed after the Whoosh commit
    report = update(archive, home)
    assert (report.indexed, report.removed) == (1, 1)
    assert_same_as_a_fresh_build(archive, home, tmp_path)
    assert search_for(Engine(home.path), "wind farm").total == 1


def test_an_unreadable_manifest_asks_for_a_rebuild(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    (home.require_current() / "manifest.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(IndexProblem, match="run 'newsearch index build'"):
        update(archive, home)


# ---------------------------------------------------------------- finding changes


def test_a_scan_sees_exactly_the_files_a_build_reads(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_article(data / "2022/01", "kept", "Kept")
    write_article(data / "2022/01/deeper/still", "deep", "Deep")
    write_article(data / ".hidden", "secret", "Hidden folder")
    write_article(data / "2022/01", ".draft", "Hidden file")
    write_article(data, "README", "Readme")
    write_article(data / "2022/02", "ReadMe", "Readme in any case")
    (data / "2022/01/notes.txt").write_text("not an article")
    (data / "2022/01/folder.md").mkdir()  # a folder named like an article
    write_article(data / "2022/01/folder.md", "inside", "Inside")
    (data / "linked").symlink_to(data / "2022/01")  # os.walk does not follow it
    (data / "2022/alias.md").symlink_to(data / "2022/01/kept.md")
    (data / "2022/broken.md").symlink_to(data / "nowhere.md")
    found = scan(data, "", {})
    seen = {manifest.join_id(folder, name) + ".md" for folder, stamps in found.differing.items() for name in stamps}
    assert seen == set(find_article_files(data))
    assert sum(found.counts.values()) == len(seen)
    assert found.differing["2022"]["broken"] is None and found.differing["2022"]["alias"] is not None


def odd_archive(tmp_path: Path) -> Path:
    """A data folder with every kind of entry the rule sorts: hidden, other-case,
    non-UTF-8 names, links in and out of it, a loop, a folder that cannot be read."""
    data = tmp_path / "data"
    write_article(data / "2022", "kept", "Kept")
    write_article(data / "2022", ".draft", "Hidden file")
    write_article(data / "2022", ".", "Two dots")  # ..md
    write_article(data / "2022", "UPPER", "Upper")
    os.rename(data / "2022/UPPER.md", data / "2022/UPPER.MD")
    write_article(data / "2022", "mixed", "Mixed")
    os.rename(data / "2022/mixed.md", data / "2022/mixed.Md")
    write_article(data / ".git", "object", "Hidden folder")
    os.close(os.open(os.path.join(os.fsencode(data / "2022"), b"caf\xe9.md"), os.O_CREAT | os.O_WRONLY))
    os.mkdir(os.path.join(os.fsencode(data), b"d\xe9"))
    write_article(tmp_path / "outside", "secret", "Outside")
    (data / "out").symlink_to(tmp_path / "outside")
    (data / "2022/secret.md").symlink_to(tmp_path / "outside/secret.md")
    (data / "2022/loop").symlink_to(data / "2022")
    (data / "2022/alias").symlink_to(data / "2022")  # also a loop: it contains itself
    return data


@pytest.mark.parametrize("follow_links", [False, True])
def test_a_scan_and_a_build_follow_one_rule_for_odd_names_and_links(tmp_path: Path, follow_links: bool) -> None:
    data = odd_archive(tmp_path)
    survey = documents.survey_archive(data, follow_links)
    found = scan(data, "", {}, follow_links=follow_links)
    seen = {manifest.join_id(folder, name) + ".md" for folder, stamps in found.differing.items() for name in stamps}
    assert seen == set(survey.relpaths) == set(find_article_files(data, follow_links))
    assert sorted(map(str, found.problems)) == sorted(map(str, survey.problems))
    expected = {"2022/kept.md", "2022/secret.md"} | ({"out/secret.md"} if follow_links else set())
    assert set(survey.relpaths) == expected
    left_out = {p.path: (p.level, p.message) for p in survey.problems}
    assert left_out["2022/.draft.md"][0] == left_out["2022/..md"][0] == left_out[".git"][0] == "warning"
    assert "hidden" in left_out["2022/.draft.md"][1] and "hidden folder" in left_out[".git"][1]
    assert left_out["2022/UPPER.MD"] == ("warning", "ends in '.MD', not '.md'; not read (only *.md files are "
                                                    "articles): rename it to index it")
    assert "ends in '.Md'" in left_out["2022/mixed.Md"][1]
    assert left_out["2022/caf\\xe9.md"][0] == left_out["d\\xe9"][0] == "error"
    assert "not UTF-8" in left_out["2022/caf\\xe9.md"][1]
    if follow_links:
        assert "a loop" in left_out["2022/loop"][1] and "a loop" in left_out["2022/alias"][1]
        assert "out" not in left_out
    else:
        assert left_out["out"][0] == "error" and "outside the data folder" in left_out["out"][1]
        assert left_out["2022/loop"][0] == "warning" and "not followed" in left_out["2022/loop"][1]


def test_a_scan_in_several_processes_finds_what_one_finds(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "data"
    for year in range(2001, 2006):
        for month in (1, 2):
            write_article(data / f"{year}/{month:02d}", f"s-{year}-{month}", f"Story {year}")
    write_article(data, "top", "Top")
    one = scan(data, "", {})
    digests = {folder: manifest.folder_digest(stamps) for folder, stamps in one.differing.items()}
    del digests["2003/02"]
    monkeypatch.setattr(changes, "SCAN_JOBS_PER_WORKER", 2)  # so that the workers get subtrees
    several = scan(data, "", digests, workers=2)
    assert several.counts == one.counts
    assert several.differing == {"2003/02": one.differing["2003/02"]}


def test_a_big_archive_is_scanned_by_one_process_per_core(monkeypatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert changes.scan_workers(changes.PARALLEL_SCAN_FILES - 1) == 1
    assert changes.scan_workers(changes.PARALLEL_SCAN_FILES) == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert changes.scan_workers(10**6) == changes.MAX_SCAN_WORKERS


def test_an_update_that_scans_in_several_processes_ends_as_a_fresh_build(archive: Path, tmp_path: Path,
                                                                           monkeypatch) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    monkeypatch.setattr(changes, "PARALLEL_SCAN_FILES", 1)
    monkeypatch.setattr(changes, "SCAN_JOBS_PER_WORKER", 1)  # the months are the workers' subtrees
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    pools = []
    real_context = changes.multiprocessing.get_context
    monkeypatch.setattr(changes.multiprocessing, "get_context", lambda method: pools.append(method) or real_context(method))
    replace_file(archive / "2022/03/story-3-3.md", "Rewritten")
    (archive / "2022/02/story-2-2.md").unlink()
    write_article(archive / "2022/01", "added", "Added")
    report = update(archive, home)
    assert (report.indexed, report.updated, report.removed, report.unchanged) == (1, 1, 1, 11)
    assert pools  # the scan did start worker processes
    assert_same_as_a_fresh_build(archive, home, tmp_path)


def test_a_file_rewritten_in_place_is_found(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    folder_mtime = (archive / "2022/02").stat().st_mtime_ns
    replace_file(archive / "2022/02/story-2-1.md", "Lighthouse")
    assert (archive / "2022/02").stat().st_mtime_ns == folder_mtime  # the folder cannot tell
    report = update(archive, home)
    assert (report.indexed, report.updated, report.removed, report.unchanged) == (0, 1, 0, 12)
    assert search_for(Engine(home.path), "lighthouse").total == 1
    assert_same_as_a_fresh_build(archive, home, tmp_path)


def test_a_skipped_file_is_tried_again_by_every_update(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    (archive / "2022/01/empty.md").write_bytes(b"")
    build(archive, home)
    for _ in range(2):
        report = update(archive, home)
        assert [p.path for p in report.skipped] == ["2022/01/empty.md"] and report.indexed == 0
    write_article(archive / "2022/01", "empty", "No longer empty")
    assert update(archive, home).indexed == 1
    assert_same_as_a_fresh_build(archive, home, tmp_path)


def test_updates_of_every_kind_end_as_a_fresh_build(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    replace_file(archive / "2022/01/story-1-0.md", "Rewritten")
    (archive / "2022/01/story-1-1.md").unlink()
    write_article(archive / "2022/05", "new", "A new month")
    for path in (archive / "2022/03").iterdir():
        path.unlink()
    (archive / "2022/03").rmdir()
    os.utime(archive / "top-level.md", ns=(5, 5))  # touched, same content
    report = update(archive, home)
    assert (report.indexed, report.updated, report.removed, report.unchanged) == (1, 1, 5, 7)
    assert manifest_of(home.require_current())["top-level"].mtime_ns == 5
    assert_same_as_a_fresh_build(archive, home, tmp_path)


# ---------------------------------------------------------------- updates limited to PATHs


def test_an_update_of_a_folder_looks_only_there(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    write_article(archive / "2022/02", "inside", "Inside the scope")
    (archive / "2022/02/story-2-0.md").unlink()
    write_article(archive / "2022/03", "outside", "Outside the scope")
    (archive / "2022/03/story-3-0.md").unlink()
    report = update(archive, home, paths=[archive / "2022/02"])
    assert (report.files, report.indexed, report.removed, report.unchanged) == (4, 1, 1, 3)
    ids = set(stored_documents(home))
    assert "2022/02/inside" in ids and "2022/02/story-2-0" not in ids
    assert "2022/03/outside" not in ids and "2022/03/story-3-0" in ids
    report = update(archive, home)  # the rest is found by a full update
    assert (report.indexed, report.removed) == (1, 1)
    assert_same_as_a_fresh_build(archive, home, tmp_path)


def test_an_update_of_files_reads_them_and_drops_the_removed_ones(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    replace_file(archive / "2022/01/story-1-2.md", "Rewritten")
    (archive / "2022/01/story-1-3.md").unlink()
    write_article(archive / "2022/01", "added", "Added")
    replace_file(archive / "2022/01/story-1-0.md", "Not named")
    report = update(archive, home, paths=[archive / "2022/01/story-1-2.md", archive / "2022/01/story-1-3.md",
                                          archive / "2022/01/added.md", archive / "2022/01/story-1-2.md"])
    assert (report.files, report.indexed, report.updated, report.removed) == (2, 1, 1, 1)
    assert update(archive, home).updated == 1  # story-1-0: its folder's digest still differs
    assert_same_as_a_fresh_build(archive, home, tmp_path)


def test_an_update_of_a_removed_folder_drops_its_articles(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    for path in (archive / "2022/03").iterdir():
        path.unlink()
    (archive / "2022/03").rmdir()
    report = update(archive, home, paths=[archive / "2022/03"])
    assert (report.files, report.removed) == (0, 4)
    assert_same_as_a_fresh_build(archive, home, tmp_path)


@pytest.mark.parametrize("path, message", [
    ("../elsewhere", "is not inside the data folder"),
    ("2022/09", "does not exist and nothing under it is indexed"),
    ("2022/01/notes.txt", "is not an article file"),
    ("2022/01/README.md", "is not an article file"),
    ("2022/01/UPPER.MD", r"is not an article file \(\*\.md,"),
    (".drafts", "is hidden"),
])
def test_a_path_the_update_cannot_use_is_named(archive: Path, tmp_path: Path, path: str, message: str) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    (archive / "2022/01/notes.txt").write_text("notes")
    (archive / "2022/01/UPPER.MD").write_text("---\ntitle: Upper\n---\n")
    write_article(archive / "2022/01", "README", "About this folder")
    write_article(archive / ".drafts", "draft", "Not yet")
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(ScopeProblem, match=message):
        update(archive, home, paths=[archive / path])


def test_scopes_inside_others_are_dropped() -> None:
    scope = Scope._outermost(["2022/01", "2022", "2023/01"], ["2022/01/a.md", "2024/b.md"])
    assert (scope.folders, scope.files) == (["2022", "2023/01"], ["2024/b.md"])
    assert Scope._outermost(["", "2022"], ["a.md"]).folders == [""]
    assert Scope._outermost(["2022"], ["20221/a.md"]).files == ["20221/a.md"]


# ---------------------------------------------------------------- the command


def test_the_update_command_takes_paths(archive: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert run("index", "build", "--data", archive, "--index", index).exit_code == 0
    write_article(archive / "2022/02", "inside", "Inside the scope")
    write_article(archive / "2022/03", "outside", "Outside the scope")
    result = run("index", "update", "--data", archive, "--index", index, "--json", archive / "2022/02")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["files"], report["indexed"], report["documents"]) == (5, 1, 14)


def test_the_update_command_names_a_path_outside_the_data_folder(archive: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert run("index", "build", "--data", archive, "--index", index).exit_code == 0
    result = run("index", "update", "--data", archive, "--index", index, tmp_path)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"Error: {tmp_path} is not inside the data folder {archive}"]
