"""Index lifecycle: atomic builds, killed builds, incremental updates, one writer."""

from __future__ import annotations

import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from whoosh import fields
from whoosh import index as whoosh_index

from search import indexer, termarrays, vocabulary
from search.engine import Engine
from search.manifest import Entry, join_id

from helpers import NOW, search_for
from search.indexer import build, check, update, writer_lock
from search.store import DiskFull, IndexBusy, IndexHome

ARTICLE = """---
title: "{title}"
excerpt: "{excerpt}"
publishedDateTime: 2022-0{month}-0{day}T10:00:00Z
provider:
  name: {provider}
  domain: {domain}
topics:
  - {topic}
---

{body}
"""


def write_article(folder: Path, name: str, title: str, *, body: str = "", topic: str = "Energy",
                  provider: str = "Reuters", month: int = 1) -> Path:
    path = folder / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ARTICLE.format(title=title, excerpt=f"About {title.lower()}.", month=month, day=1 + len(name) % 8,
                                   provider=provider, domain=provider.lower().replace(" ", "") + ".com",
                                   topic=topic, body=body or f"The story of {title.lower()}."), encoding="utf-8")
    return path


def make_archive(folder: Path, count: int, prefix: str = "story") -> None:
    for number in range(count):
        write_article(folder / f"2022/{number % 12 + 1:02d}", f"{prefix}-{number:05d}",
                      f"Story {number} about wind power {prefix}", body=f"Turbine number {number}. " * 20)


def ids_in(home: IndexHome) -> set[str]:
    ix = whoosh_index.open_dir(str(home.require_current()))
    with ix.searcher() as searcher:
        return {fields["id"] for fields in searcher.all_stored_fields()}


def manifest_of(gen: Path) -> dict[str, Entry]:
    """Every row of a generation's manifest, read with SQLite directly."""
    with sqlite3.connect(gen / "manifest.sqlite") as db:
        rows = db.execute("SELECT folder, name, mtime_ns, size, fingerprint FROM files").fetchall()
    return {join_id(folder, name): Entry(*values) for folder, name, *values in rows}


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    write_article(data / "2022/01", "oil-rises", "Oil prices rise", topic="Energy")
    write_article(data / "2022/02", "solar-boom", "Solar panels boom", topic="Climate", provider="BBC News")
    write_article(data / "2022/03", "chip-plant", "New chip plant opens", topic="Semiconductors", provider="Bloomberg")
    return data


def test_build_indexes_every_article_and_names_them_by_path(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    report = build(archive, home)
    assert report.indexed == report.documents == 3
    assert ids_in(home) == {"2022/01/oil-rises", "2022/02/solar-boom", "2022/03/chip-plant"}
    gen = home.require_current()
    assert (home.path / "CURRENT").read_text().strip() == gen.name
    assert set(manifest_of(gen)) == ids_in(home)
    assert not (gen / "manifest.json").exists()
    meta = json.loads((gen / "meta.json").read_text())
    assert meta["documents"] == 3 and meta["built"]


def test_a_broken_file_is_reported_and_the_rest_indexed(archive: Path, tmp_path: Path) -> None:
    (archive / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    (archive / "empty.md").write_bytes(b"")
    report = build(archive, IndexHome(tmp_path / "index"))
    assert report.indexed == 3
    assert {p.path for p in report.skipped} == {"broken.md", "empty.md"}
    assert all(p.message for p in report.skipped)


def test_rebuild_swaps_generations_and_keeps_only_the_previous_one(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    first = build(archive, home).index
    second = build(archive, home).index
    third = build(archive, home).index
    assert len({first, second, third}) == 3
    assert [g.name for g in home.generations()] == [Path(second).name, Path(third).name]
    assert home.require_current() == Path(third)


def test_parallel_build_matches_a_single_process_build(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "data"
    make_archive(data, 60)
    (data / "bad.md").write_bytes(b"\x00\x01binary")
    monkeypatch.setattr(indexer, "PARALLEL_THRESHOLD", 1)
    parallel = build(data, IndexHome(tmp_path / "parallel"), workers=2)
    single = build(data, IndexHome(tmp_path / "single"), workers=1)
    assert parallel.indexed == single.indexed == 60
    assert [p.path for p in parallel.skipped] == ["bad.md"]
    assert ids_in(IndexHome(tmp_path / "parallel")) == ids_in(IndexHome(tmp_path / "single"))
    segments = whoosh_index.open_dir(str(IndexHome(tmp_path / "parallel").require_current())).reader()
    assert segments.doc_count() == 60


def test_search_during_a_rebuild_never_sees_a_partial_index(tmp_path: Path) -> None:
    data = tmp_path / "data"
    make_archive(data, 300)
    home = IndexHome(tmp_path / "index")
    build(data, home)
    make_archive(data, 300, prefix="extra")
    engine = Engine(home.path, recheck_seconds=0)
    seen, errors = set(), []
    builder = threading.Thread(target=lambda: build(data, home, workers=1))
    builder.start()
    while builder.is_alive():
        try:
            seen.add(search_for(engine, "wind power").total)
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)
    builder.join()
    seen.add(search_for(engine, "wind power").total)
    assert not errors
    assert seen <= {300, 600} and 600 in seen


def test_a_killed_build_leaves_the_previous_index_intact(tmp_path: Path) -> None:
    data = tmp_path / "data"
    make_archive(data, 40)
    home = IndexHome(tmp_path / "index")
    build(data, home)
    live = home.require_current()
    make_archive(data, 6000, prefix="bulk")
    proc = subprocess.Popen([sys.executable, "-m", "search.cli", "index", "build", "--data", str(data),
                             "--index", str(home.path), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not any(g != live for g in home.generations()) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert home.require_current() == live
    assert search_for(Engine(home.path), "wind power").total == 40
    report = build(data, home)  # the next build cleans up and succeeds
    assert report.indexed == 6040
    assert [g.name for g in home.generations()] == [live.name, Path(report.index).name]


def test_update_adds_changes_and_removes_only_what_changed(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    gen = home.require_current()
    write_article(archive / "2022/04", "new-story", "Wind farm approved")
    write_article(archive / "2022/02", "solar-boom", "Solar panels slump", topic="Climate", provider="BBC News")
    (archive / "2022/03/chip-plant.md").unlink()
    report = update(archive, home)
    assert (report.indexed, report.updated, report.removed, report.unchanged) == (1, 1, 1, 1)
    assert home.require_current() == gen  # updated in place, no rebuild
    assert ids_in(home) == {"2022/01/oil-rises", "2022/02/solar-boom", "2022/04/new-story"}
    engine = Engine(home.path)
    assert search_for(engine, "slump").total == 1
    assert search_for(engine, "boom").total == 0
    assert search_for(engine, "chip plant").total == 0


def test_update_with_nothing_changed_writes_nothing(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    ix = whoosh_index.open_dir(str(home.require_current()))
    generation = ix.latest_generation()
    os.utime(archive / "2022/01/oil-rises.md", ns=(1, 1))  # touched, same content
    report = update(archive, home)
    assert (report.indexed, report.updated, report.removed) == (0, 0, 0)
    assert report.unchanged == 3
    assert ix.latest_generation() == generation
    assert manifest_of(home.require_current())["2022/01/oil-rises"].mtime_ns == 1  # the new mtime is remembered


def test_update_drops_an_article_whose_file_became_unreadable(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    (archive / "2022/01/oil-rises.md").write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    report = update(archive, home)
    assert [p.path for p in report.skipped] == ["2022/01/oil-rises.md"]
    assert report.removed == 1
    assert "2022/01/oil-rises" not in ids_in(home)


def test_update_without_an_index_builds_one(archive: Path, tmp_path: Path) -> None:
    report = update(archive, IndexHome(tmp_path / "index"))
    assert report.indexed == 3
    assert report.action.startswith("update")


def test_only_one_writer_at_a_time(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    with writer_lock(home):
        with pytest.raises(IndexBusy, match="already running"):
            build(archive, home)
        with pytest.raises(IndexBusy):
            update(archive, home)
    assert update(archive, home).unchanged == 3  # the lock is released afterwards


def test_a_second_process_gets_a_clear_busy_message(archive: Path, tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    with writer_lock(home):
        result = subprocess.run([sys.executable, "-m", "search.cli", "index", "update", "--data", str(archive),
                                 "--index", str(home.path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "already running" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_reports_problems_and_writes_no_index(archive: Path, tmp_path: Path) -> None:
    (archive / "binary.md").write_bytes(b"\x89PNG\x00\x00")
    (archive / "notitle.md").write_text("---\nexcerpt: no title here\n---\nFirst line of body\n", encoding="utf-8")
    report = check(archive)
    assert report.files == 5 and report.indexed == 4
    assert [p.path for p in report.skipped] == ["binary.md"]
    assert any(p.path == "notitle.md" and "no title" in p.message for p in report.warnings)
    assert not (tmp_path / "index").exists()


def test_missing_data_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build(tmp_path / "nope", IndexHome(tmp_path / "index"))


def test_own_segments_are_written_without_the_write_lock_and_committed_at_once(tmp_path: Path) -> None:
    ix = whoosh_index.create_in(tmp_path, fields.Schema(id=fields.ID(stored=True)))

    def adding(*doc_ids):
        def fill(writer) -> bool:
            for doc_id in doc_ids:
                writer.add_document(id=doc_id)
            return bool(doc_ids)
        return fill

    lock = ix.lock("WRITELOCK")
    assert lock.acquire()  # held, as by another writer: segments are written all the same
    try:
        first = indexer.write_own_segment(ix, adding("a", "b"))
        second = indexer.write_own_segment(ix, adding("c"))
        assert indexer.write_own_segment(ix, adding()) is None  # nothing added, nothing kept
        assert ix.doc_count() == 0  # written, not committed
    finally:
        lock.release()
    indexer.commit_segments(ix, [first, second])
    reader = ix.reader()
    assert {stored["id"] for stored in reader.all_stored_fields()} == {"a", "b", "c"}
    assert len(reader.leaf_readers()) == 2


SAMPLE = Path(__file__).resolve().parent.parent / "data"
SAMPLE_SEARCHES = [dict(text="oil prices"), dict(text="electric vehicles", page_size=50),
                   dict(text="new", sort="newest", page_size=50), dict(text="ai", sort="oldest", collapse=False),
                   dict(text='"electric vehicles"', topics=("Electric Vehicles",)),
                   dict(text="market", since="2022-01", page_size=50),
                   dict(text="econ*"), dict(text="bank OR energy -crude", page_size=50)]


def answers(index: Path) -> list[dict]:
    engine = Engine(index)
    found = []
    for options in SAMPLE_SEARCHES:
        response = search_for(engine, now=NOW, **options).to_json()
        response.pop("took_ms")
        found.append(response)
    return found


def test_a_build_in_many_segments_answers_exactly_as_one_in_a_single_segment(tmp_path: Path, monkeypatch) -> None:
    single = build(SAMPLE, IndexHome(tmp_path / "single"), workers=1)
    monkeypatch.setattr(indexer, "SEGMENT_FILES", 8)
    monkeypatch.setattr(indexer, "PARALLEL_THRESHOLD", 1)
    split = build(SAMPLE, IndexHome(tmp_path / "split"), workers=2)
    assert split.documents == single.documents > 40
    segments = whoosh_index.open_dir(split.index).reader().leaf_readers()
    assert len(segments) == 8 and all(reader.doc_count() <= 8 for reader, _ in segments)
    first = answers(tmp_path / "single")
    assert first == answers(tmp_path / "split")
    assert all(response["total"] for response in first)


def test_updates_merge_their_own_small_segments_and_never_the_builds(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(indexer, "SEGMENT_FILES", 8)
    monkeypatch.setattr(indexer, "UPDATE_MERGE_LIMIT", 5)  # build segments have 6 to 8 documents
    data, home = tmp_path / "data", IndexHome(tmp_path / "index")
    make_archive(data, 40)
    build(data, home, workers=1)

    def segments() -> dict[str, int]:
        ix = whoosh_index.open_dir(str(home.require_current()))
        return {segment.segment_id(): segment.doc_count_all() for segment in ix._segments()}

    built = segments()
    assert len(built) == 5 and min(built.values()) >= 5
    counts = []
    for number in range(8):
        write_article(data / "2022/12", f"late-{number}", f"Late story {number}")
        update(data, home)
        now = segments()
        assert set(built) <= set(now) and all(now[name] == count for name, count in built.items())
        counts.append(len(now) - len(built))
    assert counts[:4] == [1, 2, 3, 4] and max(counts) < 8  # Whoosh merged the updates' segments
    assert search_for(Engine(home.path), "late story").total == 8


def every_posting(home: IndexHome) -> list[tuple]:
    """(field, term, article id, weight, encoded value) of every posting of the live index, sorted."""
    ix = whoosh_index.open_dir(str(home.require_current()))
    found = []
    with ix.reader() as reader:
        ids = {docnum: reader.stored_fields(docnum)["id"] for docnum in reader.all_doc_ids()}
        for fieldname, text in reader.all_terms():
            matcher = reader.postings(fieldname, text)
            while matcher.is_active():
                found.append((fieldname, text, ids[matcher.id()], matcher.weight(), matcher.value()))
                matcher.next()
    return sorted(found)


def test_updates_that_merge_segments_hold_every_posting_a_fresh_build_holds(tmp_path: Path, monkeypatch) -> None:
    """An update writes and merges segments with the build's writer (``postings.BuildSegmentWriter``)."""
    monkeypatch.setattr(indexer, "SEGMENT_FILES", 8)
    monkeypatch.setattr(indexer, "UPDATE_MERGE_LIMIT", 5)  # at first no segment is small enough to merge
    monkeypatch.setattr(termarrays, "FREQUENT", 2)
    data, home = tmp_path / "data", IndexHome(tmp_path / "index")
    make_archive(data, 40)
    build(data, home, workers=1)
    built = {segment.segment_id() for segment in whoosh_index.open_dir(str(home.require_current()))._segments()}
    assert {folder.name for folder in (home.require_current() / termarrays.FOLDER).iterdir()} == built
    for number in range(6):
        for copy in range(3 if number == 0 else 1):  # the first update adds three at once
            write_article(data / "2022/12", f"late-{number}-{copy}", f"Late story {number} about wind power",
                          body=f"Turbine prices rose. Late number {number}. " * 3)
        if number == 0:
            update(data, home)  # an update's segment gets no term arrays (it may be merged away)
            now = {segment.segment_id() for segment in whoosh_index.open_dir(str(home.require_current()))._segments()}
            assert len(now - built) == 1
            assert {folder.name for folder in (home.require_current() / termarrays.FOLDER).iterdir()} == built
            monkeypatch.setattr(indexer, "UPDATE_MERGE_LIMIT", 100)  # every segment is small: the build's merged too
            continue
        if number == 2:
            (data / "2022/01/story-00000.md").unlink()
            write_article(data / "2022/02", "story-00001", "Story 1 rewritten about solar power")
        update(data, home)
    assert len(whoosh_index.open_dir(str(home.require_current()))._segments()) < len(built)  # merged
    fresh = IndexHome(tmp_path / "fresh")
    build(data, fresh, workers=1)
    postings = every_posting(home)
    assert postings == every_posting(fresh)
    assert {"late-0-2", "late-5-0", "story-00001"} <= {posting[2].rsplit("/", 1)[-1] for posting in postings}


def test_segment_runs_are_contiguous_even_and_bounded(monkeypatch) -> None:
    monkeypatch.setattr(indexer, "SEGMENT_FILES", 4)
    files = [f"{n:02d}.md" for n in range(10)]
    runs = indexer._segment_runs(files)
    assert [len(run) for run in runs] == [3, 3, 4] and sum(runs, []) == files
    assert indexer._segment_runs(files[:4]) == [files[:4]]
    assert indexer._segment_runs([]) == []
    assert [len(run) for run in indexer._segment_runs(files, multiple_of=2)] == [2, 3, 2, 3]  # two workers
    assert [len(run) for run in indexer._segment_runs(files[:3], multiple_of=4)] == [1, 1, 1]


def test_vocabulary_counts_belong_to_one_build(tmp_path: Path, monkeypatch) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_article(first / "2022/01", "walrus", "Walrus colony grows")
    make_archive(second, 40)
    build(first, IndexHome(tmp_path / "index-first"))
    monkeypatch.setattr(indexer, "PARALLEL_THRESHOLD", 1)
    homes = [IndexHome(tmp_path / name) for name in ("single", "parallel")]
    build(second, homes[0], workers=1)
    build(second, homes[1], workers=2)
    single, parallel = (vocabulary.load_counts(home.require_current()) for home in homes)
    assert single == parallel and single["wind"] == 80  # in each title and excerpt
    assert "walrus" not in single  # nothing carried over from the build before


def test_build_update_and_check_report_their_phases_as_they_go(archive: Path, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    home = IndexHome(tmp_path / "index")
    report = build(archive, home, progress=lambda *call: seen.append(call))
    assert list(report.phases) == ["finding files", "indexing", "committing", "finishing"]
    assert all(seconds >= 0 for seconds in report.phases.values()) and report.to_json()["phases"] == report.phases
    assert [phase for phase, _, _ in seen if phase == "indexing"][:1] == ["indexing"]
    assert ("indexing", 3, 3) in seen  # the last count of the indexing phase is the whole archive
    write_article(archive / "2022/04", "new-story", "A new story")
    report = update(archive, home, progress=lambda *call: seen.append(call))
    assert list(report.phases) == ["reading the manifest", "finding changes", "indexing changes", "finishing"]
    assert list(check(archive).phases) == ["finding files", "reading files"]


def test_a_parallel_build_shows_the_workers_progress(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(indexer, "PARALLEL_THRESHOLD", 10)
    make_archive(tmp_path / "data", 40)
    seen: list[tuple[str, int, int]] = []
    report = build(tmp_path / "data", IndexHome(tmp_path / "index"), workers=2,
                   progress=lambda *call: seen.append(call))
    assert list(report.phases) == ["finding files", "indexing", "committing", "finishing"] and report.indexed == 40
    assert seen[-1][0] == "finishing" and ("indexing", 40, 40) in seen


# ---------------------------------------------------------------- a killed build's workers and leftovers


SLOW_PARALLEL_BUILD = """
import sys, time
from pathlib import Path
from search import indexer, processes
indexer.PARALLEL_THRESHOLD = 1
if sys.argv[3] == "lock-only":
    processes._die_with_parent = lambda: None  # as where Linux's prctl is missing
read = indexer.read_article
def slow_read(*args, **kwargs):
    time.sleep(0.1)
    return read(*args, **kwargs)
indexer.read_article = slow_read
indexer.build(Path(sys.argv[1]), indexer.IndexHome(sys.argv[2]), workers=2)
"""


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has let go of everything


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
@pytest.mark.parametrize("how", ["die-with-parent", "lock-only"])
def test_after_kill_9_of_a_build_its_workers_let_go_and_the_next_command_runs_at_once(tmp_path: Path, how) -> None:
    data, home = tmp_path / "data", IndexHome(tmp_path / "index")
    make_archive(data, 200)  # 100 files a worker at 0.1 s each: 10 s if the workers outlived the build
    build(data, home, workers=1)
    live = home.require_current()
    proc = subprocess.Popen([sys.executable, "-c", SLOW_PARALLEL_BUILD, str(data), str(home.path), how],
                            cwd=Path(__file__).parent.parent)
    deadline = time.monotonic() + 30
    while (len(_children(proc.pid)) < 2 or len(home.generations()) < 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert len(workers) >= 2 and len(home.generations()) == 2
    time.sleep(0.5)  # the workers are reading
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    started = time.monotonic()
    report = update(data, home)  # not refused: nothing holds the lock
    assert time.monotonic() - started < 5
    assert report.unchanged == 200
    assert home.generations() == [live]  # the killed build's folder is gone
    if how == "die-with-parent":
        time.sleep(0.5)
        assert not [pid for pid in workers if _alive(pid)]
    for pid in workers:  # lock-only: a worker outliving its parent must still not hold the index
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------- a full disk


class _FillingFile:
    """A file being written on a disk with ``budget[0]`` bytes left: past them, ENOSPC."""

    def __init__(self, file, budget: list[int]) -> None:
        self._file, self._budget = file, budget

    def write(self, data) -> int:
        self._budget[0] -= len(data)
        if self._budget[0] < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self._file.write(data)

    def __getattr__(self, name):
        return getattr(self._file, name)


def fill_disk_after(monkeypatch, free_bytes: int) -> None:
    """From now on, every index file shares ``free_bytes`` of space (Whoosh's storage and SQLite)."""
    from whoosh.filedb import filestore, structfile

    budget = [free_bytes]
    create = filestore.FileStorage.create_file

    def create_file(self, name, *args, **kwargs):
        made = create(self, name, *args, **kwargs)
        made.file = _FillingFile(made.file, budget)
        return made

    monkeypatch.setattr(filestore.FileStorage, "create_file", create_file)
    assert structfile.StructFile.write  # StructFile writes through .file


@pytest.mark.parametrize("free_bytes, workers", [(0, 1), (20_000, 1), (20_000, 2)])
def test_a_full_disk_during_a_build_says_so_and_leaves_the_live_index(archive: Path, tmp_path: Path, monkeypatch,
                                                                      free_bytes: int, workers: int) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    live = home.require_current()
    make_archive(archive, 300, prefix="more")
    monkeypatch.setattr(indexer, "PARALLEL_THRESHOLD", 1)  # workers=2: the workers run out of space
    fill_disk_after(monkeypatch, free_bytes)
    with pytest.raises(DiskFull, match=r"^disk full: the build could not write .*No space left on device.*"
                                       r"the live index is unchanged"):
        build(archive, home, workers=workers)
    assert home.generations() == [live] and home.require_current() == live
    assert len(ids_in(home)) == 3


@pytest.mark.parametrize("free_bytes", [0, 20_000])
def test_a_full_disk_during_an_update_says_so_and_leaves_the_live_index(archive: Path, tmp_path: Path, monkeypatch,
                                                                        free_bytes: int) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    live = home.require_current()
    make_archive(archive, 300, prefix="more")
    fill_disk_after(monkeypatch, free_bytes)
    with pytest.raises(DiskFull, match=r"^disk full: the update could not write .*No space left on device"):
        update(archive, home)
    assert home.require_current() == live and len(ids_in(home)) == 3
    assert search_for(Engine(home.path), "wind power").total == 0
    monkeypatch.undo()
    assert update(archive, home).indexed == 300  # and the next update, with space again, does it all
    assert len(ids_in(home)) == 303


def test_a_full_disk_while_the_update_writes_its_manifest_says_so(archive: Path, tmp_path: Path, monkeypatch) -> None:
    home = IndexHome(tmp_path / "index")
    build(archive, home)
    make_archive(archive, 3, prefix="more")

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(indexer.Manifest, "apply", full)
    with pytest.raises(DiskFull, match="^disk full: the update"):
        update(archive, home)
    monkeypatch.undo()
    report = update(archive, home)  # the articles are in the index; the manifest catches up, no duplicates
    assert len(ids_in(home)) == 6 and report.documents == 6


def test_the_cli_says_disk_full_in_one_line_with_exit_2(archive: Path, tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from search.cli import main

    home = IndexHome(tmp_path / "index")
    build(archive, home)
    make_archive(archive, 30, prefix="more")
    fill_disk_after(monkeypatch, 0)
    for command in ("build", "update"):
        result = CliRunner().invoke(main, ["index", command, "--data", str(archive), "--index", str(home.path)],
                                    env={"NEWSEARCH_DEBUG": None})
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1 and "disk full" in result.stderr, result.stderr
        assert "Traceback" not in result.output
    assert len(ids_in(home)) == 3


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 2 MB tmpfs (needs root and mount); the test is skipped where it cannot be mounted."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
                                 capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        mounted = False
    if not mounted:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=10)


def test_a_really_full_disk_stops_build_and_update_with_the_live_index_intact(archive: Path, small_disk: Path) -> None:
    from click.testing import CliRunner

    from search.cli import main

    home = IndexHome(small_disk / "index")
    build(archive, home, workers=1)
    live = home.require_current()
    make_archive(archive, 4000, prefix="bulk")  # an index of several MB
    for command in (["update"], ["build", "--workers", "1"]):
        result = CliRunner().invoke(main, ["index", *command, "--data", str(archive), "--index", str(home.path)],
                                    env={"NEWSEARCH_DEBUG": None})
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: disk full"), result.stderr
        assert home.generations() == [live] and home.require_current() == live
        assert search_for(Engine(home.path), "oil prices").total == 1


SLOW_UPDATE = """
import sys, time
from pathlib import Path
from search import indexer
read = indexer.read_article
def slow_read(*args, **kwargs):
    time.sleep(0.02)
    return read(*args, **kwargs)
indexer.read_article = slow_read
indexer.update(Path(sys.argv[1]), indexer.IndexHome(sys.argv[2]))
"""


def test_the_leftovers_of_a_killed_update_are_removed_by_the_next_one(tmp_path: Path) -> None:
    data, home = tmp_path / "data", IndexHome(tmp_path / "index")
    make_archive(data, 100)
    build(data, home, workers=1)
    gen = home.require_current()
    files_of_a_build = {path.name for path in gen.iterdir()}
    make_archive(data, 300, prefix="new")
    proc = subprocess.Popen([sys.executable, "-c", SLOW_UPDATE, str(data), str(home.path)],
                            cwd=Path(__file__).parent.parent)
    deadline = time.monotonic() + 30
    while not {p.name for p in gen.iterdir()} - files_of_a_build - {"MAIN.tmp"} and time.monotonic() < deadline:
        time.sleep(0.05)  # until the killed update has started writing its segment
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stray = {p.name for p in gen.iterdir()} - files_of_a_build
    assert stray and len(ids_in(home)) == 100
    report = update(data, home)
    assert (report.indexed, report.documents) == (300, 400) and len(ids_in(home)) == 400
    segments = {segment.segment_id() for segment in whoosh_index.open_dir(str(gen))._segments()}
    left = {p.name for p in gen.iterdir()} - files_of_a_build - {"_MAIN_2.toc"}
    assert left and all(name.split(".")[0] in segments for name in left), left  # only the new segment's files
