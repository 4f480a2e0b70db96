"""Watching the data folder: inotify events become updates of just the paths they name."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from search import watching
from search.changes import Scope
from search.documents import DEFAULT_MAX_BYTES
from search.indexer import build, writer_lock
from search.manifest import Manifest
from search.store import IndexBusy, IndexHome
from search.watching import (IN_CLOSE_WRITE, IN_CREATE, IN_DELETE, IN_ISDIR, IN_MOVED_TO, IN_Q_OVERFLOW, Pending,
                             note_event)

from helpers import run_cli, write_article
from test_update import assert_same_as_a_fresh_build, stored_documents

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")

WAIT = 20.0  # seconds an expected update may take on a loaded machine


class Watcher:
    """``watching.watch`` in a thread, its reports in a queue."""

    def __init__(self, data: Path, home: IndexHome, settle: float = 0.05, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.settle, self.max_bytes = settle, max_bytes
        self.reports: queue.Queue = queue.Queue()
        self.busy: list[str] = []
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(data, home), daemon=True)

    def _run(self, data: Path, home: IndexHome) -> None:
        try:
            watching.watch(data, home, on_report=self.reports.put, on_ready=lambda folders: self.ready.set(),
                           on_busy=self.busy.append, should_stop=self.stop.is_set, settle=self.settle, poll=0.05,
                           max_bytes=self.max_bytes)
        except BaseException as exc:  # shown by the test that waits
            self.failure = exc
            self.ready.set()

    def __enter__(self) -> "Watcher":
        self.thread.start()
        assert self.ready.wait(WAIT) and self.failure is None, self.failure
        self.reports.get(timeout=WAIT)  # the first, whole update
        return self

    def next_report(self):
        try:
            return self.reports.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError(f"no update within {WAIT} s (watcher failure: {self.failure!r})") from None

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        self.thread.join(WAIT)


def counts(report) -> tuple[int, int, int]:
    return report.indexed, report.updated, report.removed


@pytest.fixture
def archive(tmp_path):
    data = tmp_path / "data"
    for year in ("2021", "2022"):
        for n in range(3):
            write_article(data, f"{year}/{n:02d}/story-{n}.md", title=f"Story {year} {n}", excerpt="harbour news")
    home = IndexHome(tmp_path / "index")
    build(data, home, workers=1)
    return data, home


def test_changes_are_indexed_as_they_happen(archive, tmp_path):
    data, home = archive
    with Watcher(data, home) as watcher:
        write_article(data, "2021/00/story-0.md", title="Story rewritten", excerpt="zeppelin sighted")
        write_article(data, "2022/02/added.md", title="Added", excerpt="walrus")
        (data / "2022/01/story-1.md").unlink()
        seen = [0, 0, 0]
        while seen != [1, 1, 1]:  # the changes may come in one update or several
            seen = [a + b for a, b in zip(seen, counts(watcher.next_report()))]
    documents = stored_documents(home)
    assert "2022/01/story-1" not in documents
    assert documents["2021/00/story-0"]["title"] == "Story rewritten"
    assert documents["2022/02/added"]["title"] == "Added"
    assert_same_as_a_fresh_build(data, home, tmp_path)


def test_new_folders_are_watched_and_removed_folders_dropped(archive, tmp_path):
    data, home = archive
    with Watcher(data, home) as watcher:
        write_article(data, "2023/01/first.md", title="A new year", excerpt="first")
        assert counts(watcher.next_report()) == (1, 0, 0)
        write_article(data, "2023/01/second.md", title="Written into the new folder", excerpt="second")
        assert counts(watcher.next_report()) == (1, 0, 0)
        for path in sorted((data / "2021").rglob("*"), reverse=True):  # a whole year removed
            path.unlink() if path.is_file() else path.rmdir()
        (data / "2021").rmdir()
        removed = 0
        while removed < 3:
            removed += watcher.next_report().removed
    assert sorted(stored_documents(home)) == ["2022/00/story-0", "2022/01/story-1", "2022/02/story-2",
                                              "2023/01/first", "2023/01/second"]
    assert_same_as_a_fresh_build(data, home, tmp_path)


def test_a_folder_moved_in_is_indexed_whole(archive, tmp_path):
    data, home = archive
    outside = tmp_path / "incoming"
    write_article(outside, "one.md", title="Moved in one", excerpt="x")
    write_article(outside, "deeper/two.md", title="Moved in two", excerpt="y")
    with Watcher(data, home) as watcher:
        os.rename(outside, data / "2022" / "incoming")
        assert counts(watcher.next_report()) == (2, 0, 0)
        write_article(data, "2022/incoming/deeper/three.md", title="Written after the move", excerpt="z")
        assert counts(watcher.next_report()) == (1, 0, 0)
    assert_same_as_a_fresh_build(data, home, tmp_path)


def test_links_and_touches_count(archive, tmp_path):
    data, home = archive
    with Watcher(data, home) as watcher:
        os.link(data / "2021/00/story-0.md", data / "2021/00/linked.md")
        assert counts(watcher.next_report()) == (1, 0, 0)
        os.utime(data / "2021/01/story-1.md", (1_000_000_000, 1_000_000_000))
        report = watcher.next_report()
        assert (report.files, report.unchanged) == (1, 1)  # the same content: only its stamp is stored
    assert_same_as_a_fresh_build(data, home, tmp_path)


def test_what_is_not_an_article_is_left_alone(archive):
    data, home = archive
    with Watcher(data, home) as watcher:
        (data / "2021/00/notes.txt").write_text("not an article")
        (data / "2021/00/.draft.md").write_text("---\ntitle: hidden\n---\n")
        (data / "2021/00/README.md").write_text("about this folder")
        write_article(data, "2021/00/real.md", title="Real", excerpt="r")
        report = watcher.next_report()
    assert (report.files, report.indexed) == (1, 1)  # only the article's path was looked at
    assert "2021/00/.draft" not in stored_documents(home)


def test_a_file_gone_before_its_update_is_no_problem(archive):
    data, home = archive
    with Watcher(data, home) as watcher:
        scratch = write_article(data, "2021/00/brief.md", title="Here and gone", excerpt="g")
        scratch.unlink()
        write_article(data, "2021/00/kept.md", title="Kept", excerpt="k")
        indexed = 0
        while indexed < 1:
            report = watcher.next_report()
            indexed += report.indexed
        assert watcher.failure is None
    assert "2021/00/kept" in stored_documents(home) and "2021/00/brief" not in stored_documents(home)


def test_waits_its_turn_while_another_writer_runs(archive):
    data, home = archive
    with Watcher(data, home) as watcher:
        with writer_lock(home):
            write_article(data, "2022/00/while-locked.md", title="Written while a build ran", excerpt="w")
            deadline = time.monotonic() + WAIT
            while not watcher.busy and time.monotonic() < deadline:
                time.sleep(0.02)
            assert watcher.busy and "another build or update" in watcher.busy[0]
            assert watcher.reports.empty()
        assert counts(watcher.next_report()) == (1, 0, 0)
    assert "2022/00/while-locked" in stored_documents(home)


# ---------------------------------------------------------------- an update asks the watcher


def test_an_update_asks_the_running_watcher_to_catch_up(archive, tmp_path):
    data, home = archive
    with Watcher(data, home, settle=60) as watcher:  # it would not update on its own within the test
        write_article(data, "2021/00/story-0.md", title="Story rewritten", excerpt="zeppelin sighted")
        write_article(data, "2022/02/added.md", title="Added", excerpt="walrus")
        (data / "2022/01/story-1.md").unlink()
        report = watching.update(data, home)
        assert report.action.startswith("update (by the watcher, pid ")
        assert counts(report) == (1, 1, 1) and (report.documents, report.files, report.unchanged) == (6, 6, 4)
        documents = stored_documents(home)  # indexed when the update returns
        assert documents["2021/00/story-0"]["title"] == "Story rewritten" and "2022/01/story-1" not in documents
        assert_same_as_a_fresh_build(data, home, tmp_path)
        assert counts(watcher.next_report()) == (1, 1, 1)  # the watcher reports its catch-up as usual
        again = watching.update(data, home)  # nothing changed since
        assert again.action.startswith("update (by the watcher") and counts(again) == (0, 0, 0)
        assert watcher.reports.empty()  # ... and an update of nothing is not reported
    assert watching.update(data, home).action == "update"  # it stopped: the update compares every file


def test_an_update_the_watcher_cannot_answer_compares_every_file(archive):
    data, home = archive
    with Watcher(data, home, settle=60, max_bytes=50_000):
        write_article(data, "2022/02/added.md", title="Added", excerpt="walrus")
        assert watching.update(data, home).action == "update"  # another --max-size
        assert watching.update(data, home, max_bytes=50_000, every_problem=True).action == "update"  # --strict
        assert watching.update(data, home, max_bytes=50_000, paths=[data / "2021"]).action == "update"
        assert watching.update(data, home, max_bytes=50_000, follow_links=True).action == "update"
        assert watching.update(data, home, max_bytes=50_000).action.startswith("update (by the watcher")
        with pytest.raises(watching.WatchUnavailable, match="another watcher"):
            watching.watch(data, home, on_report=lambda report: None)


def test_an_update_while_another_writer_runs_says_so_at_once(archive):
    data, home = archive
    with Watcher(data, home, settle=60), subprocess.Popen(["sleep", "60"]) as other:
        try:
            with writer_lock(home):
                (home.path / ".writer.json").write_text(json.dumps({"action": "build", "pid": other.pid}))
                started = time.monotonic()
                with pytest.raises(IndexBusy, match="another build or update"):
                    watching.update(data, home)
                assert time.monotonic() - started < 5  # not the watcher's wait for the writer to finish
        finally:
            other.kill()


def test_a_watcher_that_cannot_hear_asks_is_not_asked(archive, monkeypatch):
    data, home = archive
    real_add = watching.Inotify.add
    monkeypatch.setattr(watching.Inotify, "add",
                        lambda self, path, mask: None if path.endswith(".watcher") else real_add(self, path, mask))
    with Watcher(data, home, settle=60):
        assert not (home.path / ".watcher" / "watcher.json").exists()
        started = time.monotonic()
        assert watching.update(data, home).action == "update"
        assert time.monotonic() - started < 5


def test_a_watcher_that_died_is_not_asked(archive):
    data, home = archive
    mailbox = home.path / ".watcher"
    mailbox.mkdir()
    (mailbox / "lock").touch()  # what a killed watcher leaves: no one holds the lock
    (mailbox / "watcher.json").write_text(json.dumps({"pid": 999_999, "data": os.path.realpath(data),
                                                      "follow_links": False, "max_bytes": DEFAULT_MAX_BYTES}))
    started = time.monotonic()
    assert watching.update(data, home).action == "update"
    assert time.monotonic() - started < WAIT


# ---------------------------------------------------------------- events to paths


class FakeWatches(watching.FolderWatches):
    def __init__(self, folders: dict[int, str]) -> None:
        self.folder_of = dict(folders)
        self.watch_of = {folder: watch for watch, folder in folders.items()}
        self.added: list[str] = []
        self.removed: list[int] = []
        self.inotify = self  # ``remove`` below stands for inotify's
        self.data = "/nonexistent"  # a file created there is not a link

    def remove(self, watch: int) -> None:
        self.removed.append(watch)

    def add_tree(self, top: str) -> None:
        self.added.append(top)


def test_events_name_article_files_and_folders():
    watches, pending = FakeWatches({1: "", 2: "2021/05", 3: "2022"}), Pending()
    note_event(pending, watches, 2, IN_CLOSE_WRITE, "a.md", 1.0)
    note_event(pending, watches, 2, IN_CLOSE_WRITE, "a.md.swp", 1.0)
    note_event(pending, watches, 2, IN_CREATE, "being-written.md", 1.0)  # not yet: when it is closed
    note_event(pending, watches, 2, IN_MOVED_TO, ".b.md", 1.0)
    note_event(pending, watches, 1, IN_CREATE | IN_ISDIR, "2030", 1.0)
    note_event(pending, watches, 1, IN_CREATE | IN_ISDIR, ".git", 1.0)
    note_event(pending, watches, 9, IN_DELETE, "unknown-watch.md", 1.0)
    assert pending.take() == (False, ["2021/05/a.md", "2030"], [])
    assert watches.added == ["2030"]
    note_event(pending, watches, 1, IN_DELETE | IN_ISDIR, "2021", 2.0)
    assert "2021/05" not in watches.watch_of and watches.removed == [2] and pending.paths == {"2021"}


def test_lost_events_mean_a_whole_update():
    pending = Pending()
    note_event(pending, FakeWatches({1: ""}), -1, IN_Q_OVERFLOW, "", 1.0)
    assert pending.take() == (True, [], [])


def test_an_update_starts_when_changes_pause_or_after_the_longest_wait():
    pending = Pending()
    assert pending.due_in(0.0, settle=0.5, longest=5.0) is None
    pending.note("a.md", 10.0)
    assert pending.due_in(10.2, 0.5, 5.0) == pytest.approx(0.3)
    for t in range(1, 60):  # a change every 0.1 s: never a pause
        pending.note("a.md", 10.0 + t / 10)
    assert pending.due_in(15.9, 0.5, 5.0) == 0.0
    taken = pending.take()
    assert not pending
    pending.give_back(taken, 20.0, not_before=21.0)
    assert pending.paths == {"a.md"} and pending.due_in(20.6, 0.5, 5.0) == pytest.approx(0.4)


def test_an_ask_makes_what_is_pending_due_at_once():
    pending = Pending()
    pending.note("a.md", 10.0)
    pending.ask("1-2.ask")
    assert pending.due_in(10.0, settle=0.5, longest=5.0) == 0.0
    taken = pending.take()
    assert taken == (False, ["a.md"], ["1-2.ask"]) and not pending
    pending.give_back(taken, 11.0, not_before=12.0)  # the index was busy: the ask waits with the changes
    assert pending.asks == ["1-2.ask"] and pending.due_in(11.0, 0.5, 5.0) == pytest.approx(1.0)
    pending.take()
    pending.ask("3-4.ask")  # nothing changed: still answered at once
    assert pending.due_in(20.0, 0.5, 5.0) == 0.0 and pending.take() == (False, [], ["3-4.ask"])


def test_too_many_paths_become_a_whole_update():
    pending = Pending()
    for n in range(watching.MAX_PATHS + 1):
        pending.note(f"{n}.md", 1.0)
    assert pending.take() == (True, [], [])


def test_a_scope_can_skip_paths_it_cannot_use(archive):
    data, home = archive
    manifest = Manifest.open(home.require_current())
    with manifest:
        paths = [data / "2021/00/never-there.md", data / "2021/00/notes.txt", data / "2022/01/story-1.md"]
        assert Scope.of(data, paths, manifest, skip_unusable=True) == Scope([], ["2022/01/story-1.md"])
        assert Scope.of(data, paths[:1], manifest, skip_unusable=True) == Scope([], [])  # not the whole folder


# ---------------------------------------------------------------- the command


def test_index_watch_command(archive):
    data, home = archive
    command = [sys.executable, "-m", "search.cli", "index", "watch", "--data", str(data), "--index", str(home.path),
               "--json", "--settle", "0.1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as process:
        try:
            first = json.loads(process.stdout.readline())
            assert first["action"] == "update" and first["documents"] == 6
            assert "watching 9 folders" in process.stderr.readline()
            write_article(data, "2022/00/live.md", title="Live", excerpt="l")
            second = json.loads(process.stdout.readline())
            assert (second["files"], second["indexed"], second["documents"]) == (1, 1, 7)
            write_article(data, "2022/00/asked.md", title="Asked", excerpt="a")
            asked = run_cli("index", "update", "--data", data, "--index", home.path, "--json")
            assert asked.exit_code == 0, asked.output
            answer = json.loads(asked.output)
            assert answer["action"] == f"update (by the watcher, pid {process.pid})"
            assert (answer["indexed"], answer["documents"]) == (1, 8)
        finally:
            process.send_signal(2)  # Ctrl-C
            assert process.wait(WAIT) == 0
        assert "stopped watching" in process.stderr.read()
    assert not (home.path / ".watcher" / "watcher.json").exists()  # it says it no longer watches


def test_index_watch_stops_cleanly_when_told_to_terminate(archive):
    data, home = archive
    command = [sys.executable, "-m", "search.cli", "index", "watch", "--data", str(data), "--index", str(home.path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert "watching" in process.stderr.readline()
        process.terminate()  # SIGTERM, as a service manager stops it
        assert process.wait(WAIT) == 0
        assert "stopped watching" in process.stderr.read()
    assert not (home.path / ".watcher" / "watcher.json").exists()


def test_the_systems_watch_limit_is_a_clear_message(archive, monkeypatch):
    data, home = archive

    def refused(fd, path, mask):
        ctypes.set_errno(errno.ENOSPC)
        return -1

    real_init = watching.Inotify.__init__

    def limited_init(self):
        real_init(self)
        self._add_watch = refused

    monkeypatch.setattr(watching.Inotify, "__init__", limited_init)
    result = run_cli("index", "watch", "--data", data, "--index", home.path)
    assert result.exit_code == 2
    assert "limit on watched folders" in result.output and "max_user_watches" in result.output
    assert "Traceback" not in result.output
