"""Building and updating the index: build, update, swap, lock.

The moving parts:

* The index folder (``store.IndexHome``) holds generations, each a
  complete Whoosh index with ``meta.json`` and ``manifest.sqlite`` (``manifest``);
  ``CURRENT`` names the live one. Reading them is ``store``'s job; making
  a new generation and switching ``CURRENT`` to it is this module's.
* ``build`` writes a new generation beside the live one, using worker
  processes that each take the next run of files as they become free and
  write it as one Whoosh segment of at most ``SEGMENT_FILES`` files
  (``write_own_segment``, with postings held by term, see ``postings``),
  then commits them all and switches ``CURRENT`` in one atomic rename.
  ``Phases`` times each phase and reports progress as it goes. Bounded segments keep a
  writer's memory and its cost per article the same however big the
  archive is. A search running meanwhile keeps the old generation; a killed
  build leaves it untouched.
* ``update`` finds what was added, changed or removed (``changes``: one
  pass that lists and stats the files, compared folder by folder with the
  manifest; optionally only under the PATHs given) and re-indexes only that,
  in one Whoosh commit on the live generation (Whoosh commits are atomic for
  readers too), then writes the changed manifest rows in one SQLite
  transaction. The commit merges small segments of earlier updates as
  Whoosh does, never a big one (``merge_small_segments``), so the writing
  costs the same at any size; the stat of every file in scope is what grows.
* ``writer_lock`` makes sure only one build or update runs at a time. Its
  worker processes close their copy of the lock and die with the command
  (``processes``), so a ``kill -9`` frees the index at once; the next build
  or update removes the killed build's generation (``drop_unfinished``).
* ``disk_full_reported``: running out of space anywhere in a build or update
  becomes one ``DiskFull``, after the new generation is removed or the
  update's commit cancelled, so the live index is as it was.
* Every writer counts the words it indexes in a dict of its own (see
  ``analysis.index_terms``) and saves them as the ``vocabulary``.
* ``check`` reads every file and reports problems without indexing.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import multiprocessing
import os
import shutil
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from whoosh import index as whoosh_index
from whoosh.util.filelock import FileLock
from whoosh.codec.whoosh3 import W3Codec
from whoosh.writing import MERGE_SMALL, SegmentWriter

from .documents import (DEFAULT_MAX_BYTES, ERROR, Problem, ReadAhead, article_id, read_article, shown_path,
                        survey_archive)
from . import arrays, processes, vocabulary
from .changes import Changes, Scope, ScopeProblem, find_changes, scan_workers  # noqa: F401 (ScopeProblem: for the CLI)
from .manifest import Entry, Manifest, write as write_manifest
from .postings import BuildSegmentWriter
from .schema import SCHEMA_VERSION, build_schema, index_fields
from .store import GENERATION_PREFIX, DiskFull, IndexBusy, IndexHome, IndexProblem, read_json

PARALLEL_THRESHOLD = 2000  # fewer files than this are indexed in-process
# Files per segment of a build: a writer holds one segment's postings in memory
# (a few hundred MB at this size), and a million articles make 16 segments.
SEGMENT_FILES = 64_000
UPDATE_MERGE_LIMIT = 2_000  # an update merges only segments with fewer documents than this


def writer_options() -> dict:
    """Options for every Whoosh writer we open.

    A large posting pool avoids spilling sorted runs to disk; uncompressed
    posting blocks build about 7% faster (and read a little faster) for an
    index about a fifth larger. Segments are left as separate files, not
    assembled into one compound file: assembling copies every segment once
    more, and Whoosh reads a file of a compound segment by copying it into
    memory (``BufferFile``), so an update's deletions read the whole index
    (2.9 GB of memory for an update at 200,000 articles).
    """
    return {"limitmb": 1024, "codec": W3Codec(compression=0), "compound": False}

# progress(phase, done, total): called as each phase starts and as it goes; total 0 means unknown
Progress = Callable[[str, int, int], None]


@dataclass
class Report:
    """What a build, update or check did; every command prints one."""

    action: str
    data: str
    index: str = ""
    files: int = 0
    indexed: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    documents: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds each phase took, in order

    @property
    def skipped(self) -> list[Problem]:
        return [p for p in self.problems if p.level == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level != ERROR]

    def to_json(self) -> dict:
        return {
            "action": self.action,
            "data": shown_path(self.data),
            "index": shown_path(self.index),
            "files": self.files,
            "indexed": self.indexed,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "documents": self.documents,
            "skipped": [{"path": p.path, "reason": p.message} for p in self.skipped],
            "warnings": [{"path": p.path, "message": p.message} for p in self.warnings],
            "seconds": round(self.seconds, 3),
            "phases": self.phases,
        }


class Phases:
    """Times the phases of a build, update or check into ``report.phases``
    and tells ``progress`` which phase runs and how far it has got."""

    def __init__(self, report: Report, progress: Progress | None) -> None:
        self.report, self.progress, self.name = report, progress, ""

    @contextmanager
    def __call__(self, name: str, total: int = 0) -> Iterator["Phases"]:
        self.name = name
        started = time.perf_counter()
        self.show(0, total)
        try:
            yield self
        finally:
            self.report.phases[name] = round(time.perf_counter() - started, 3)

    def show(self, done: int, total: int) -> None:
        if self.progress:
            self.progress(self.name, done, total)

    def step(self, what: str) -> None:
        """Say what the running phase is doing now (``indexing changes: merging and committing``),
        without timing it as a phase of its own."""
        if self.progress:
            self.progress(f"{self.name}: {what}", 0, 0)


# ---------------------------------------------------------------- the folder


def new_generation(home: IndexHome) -> Path:
    """A new, empty generation folder, numbered after every existing one."""
    gens = home.generations()
    number = int(gens[-1].name[len(GENERATION_PREFIX):]) + 1 if gens else 1
    gen = home.path / f"{GENERATION_PREFIX}{number:06d}"
    gen.mkdir(parents=True)
    return gen


def switch_to(home: IndexHome, gen: Path) -> None:
    """Make ``gen`` live in one atomic rename, then drop all but the previous generation."""
    previous = home.current()
    temp = home.path / f".{home.pointer.name}.{os.getpid()}"
    temp.write_text(gen.name + "\n", encoding="utf-8")
    os.replace(temp, home.pointer)
    keep = {gen, previous}
    for old in home.generations():
        if old not in keep:
            shutil.rmtree(old, ignore_errors=True)


def drop_unfinished(home: IndexHome) -> None:
    """Remove generations newer than the live one: builds that were killed."""
    live = home.current()
    for gen in home.generations():
        if live is None or gen.name > live.name:
            shutil.rmtree(gen, ignore_errors=True)


def write_json(path: Path, value) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    temp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    os.replace(temp, path)


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@contextmanager
def writer_lock(home: IndexHome) -> Iterator[None]:
    """One writer at a time. The OS drops the lock if the holder dies."""
    home.path.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(home.path / ".writer.lock"))
    if not lock.acquire(blocking=False):
        holder = read_json(home.path / ".writer.json", {})
        who = f" ({holder.get('action', 'a writer')}, pid {holder.get('pid', '?')}, since {holder.get('since', '?')})"
        raise IndexBusy(f"another build or update is already running on {home.path}{who}; try again when it finishes")
    lock_fd = lock.fd
    processes.hold_in_parent(lock_fd)  # workers close their copies (see processes)
    try:
        yield
    finally:
        try:  # readers take the note for a build in progress (store.IndexHome.building)
            (home.path / ".writer.json").unlink(missing_ok=True)
        except OSError:
            pass
        processes.let_go_in_parent(lock_fd)
        lock.release()


class DataFolderProblem(FileNotFoundError):
    """The data folder is missing, not a folder, or cannot be listed."""


def require_data_folder(data: Path) -> None:
    """Raise ``DataFolderProblem`` unless ``data`` is a folder that can be listed:
    a build from a folder it cannot read would replace the index with an empty one."""
    if not data.is_dir():
        raise DataFolderProblem(f"data folder {data} does not exist or is not a folder")
    try:
        with os.scandir(data):
            pass
    except OSError as exc:
        raise DataFolderProblem(f"data folder {data} cannot be read ({exc.strerror or exc})") from None


_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` says the disk (or the user's quota) is full; SQLite says it in words."""
    if isinstance(error, OSError):
        return error.errno in _NO_SPACE
    return isinstance(error, sqlite3.OperationalError) and "disk is full" in str(error)


@contextmanager
def disk_full_reported(home: IndexHome, action: str) -> Iterator[None]:
    """Turns running out of space anywhere in ``action`` into one ``DiskFull``
    (callers have already put the live index back as it was)."""
    try:
        yield
    except (OSError, sqlite3.OperationalError) as exc:
        if not is_disk_full(exc):
            raise
        raise DiskFull(f"disk full: the {action} could not write to {home.path} "
                       f"({getattr(exc, 'strerror', None) or exc}); the live index is unchanged. "
                       "Free some space and run it again") from exc


def _announce(home: IndexHome, action: str) -> None:
    write_json(home.path / ".writer.json", {"action": action, "pid": os.getpid(), "since": now_iso()})


# ---------------------------------------------------------------- reading files


def _stat(path: Path | str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def _index_files(writer, data: Path, relpaths: list[str], max_bytes: int, tick,
                 words: dict[str, int], follow_links: bool = False) -> tuple[dict, list[Problem]]:
    """Read, normalise and add ``relpaths``, counting their words in ``words``;
    returns (manifest entries, problems)."""
    manifest: dict[str, list] = {}
    problems: list[Problem] = []
    with ReadAhead(data, relpaths) as ahead:
        for number, relpath in enumerate(relpaths, 1):
            stamp = _stat(data / relpath)
            article, found = read_article(data, relpath, max_bytes, follow_links=follow_links)
            ahead.next()
            problems.extend(found)
            _add_article(writer, article, stamp, relpath, words, manifest, problems)
            if number % 200 == 0:
                tick(200)
    tick(len(relpaths) % 200)
    return manifest, problems


def _add_article(writer, article, stamp, relpath: str, words: dict[str, int], manifest: dict,
                 problems: list[Problem]) -> None:
    if article is None:
        return
    try:
        writer.add_document(**index_fields(article, words))
    except OSError:
        raise  # the disk, not the article: it would fail every article after it
    except Exception as exc:  # a value Whoosh refuses must not stop the build
        problems.append(Problem(relpath, ERROR, f"could not be indexed: {exc}"))
    else:
        manifest[article.id] = (stamp or [0, 0]) + [article.fingerprint]


_progress_counter = None


def _init_worker(counter, parent_pid: int) -> None:
    global _progress_counter
    processes.start_worker(parent_pid)
    _progress_counter = counter


def _worker_tick(n: int) -> None:
    if _progress_counter is not None and n:
        with _progress_counter.get_lock():
            _progress_counter.value += n


def write_own_segment(ix, fill: Callable[[SegmentWriter], bool]):
    """A new segment of ``ix`` filled by ``fill(writer)``, written but not
    committed, or None if ``fill`` answers False (nothing worth keeping).

    The parallel build's workers write segments at the same time, which
    Whoosh's write lock would forbid (``writer_lock`` keeps other builds and
    updates out), and the parent commits them all at once
    (``commit_segments``). Whoosh's own ``whoosh.multiproc`` writers work
    the same way, with two private means that are used here and nowhere
    else: ``_lk=False`` (do not take the write lock) and
    ``_finalize_segment()`` (finish the segment's files without a commit).
    The writer is a ``BuildSegmentWriter`` (see ``postings``).
    Checked against whoosh3 3.54.0.
    """
    writer = BuildSegmentWriter(ix, _lk=False, **writer_options())
    if not fill(writer):
        writer.cancel()
        return None
    return writer._finalize_segment()


def commit_segments(ix, segments: list) -> None:
    """Commit ``segments`` (from ``write_own_segment``) into ``ix`` beside those it has."""
    ix.writer().commit(mergetype=lambda _writer, existing: list(existing) + segments)


def _segment_runs(relpaths: list[str], multiple_of: int = 1) -> list[list[str]]:
    """``relpaths`` in contiguous runs of about equal length, at most
    ``SEGMENT_FILES`` each, as many as a multiple of ``multiple_of``."""
    count = max(1, -(-len(relpaths) // SEGMENT_FILES))
    count = -(-count // multiple_of) * multiple_of
    bounds = [len(relpaths) * number // count for number in range(count + 1)]
    return [relpaths[start:end] for start, end in zip(bounds, bounds[1:]) if end > start]


def _index_segments(gen: Path, data: Path, relpaths: list[str], max_bytes: int, tick,
                    words: dict[str, int], follow_links: bool = False) -> tuple[list, dict, list[Problem]]:
    """Index ``relpaths`` into new segments of ``gen`` (written, not committed),
    counting words in ``words``; returns (segments, manifest entries, problems)."""
    ix = whoosh_index.open_dir(gen)
    segments: list = []
    manifest: dict[str, list] = {}
    problems: list[Problem] = []
    for run in _segment_runs(relpaths):
        def fill(writer, run=run) -> bool:
            entries, found = _index_files(writer, data, run, max_bytes, tick, words, follow_links)
            manifest.update(entries)
            problems.extend(found)
            return bool(entries)

        segment = write_own_segment(ix, fill)
        if segment is not None:
            segments.append(segment)
    return segments, manifest, problems


def _index_run(number: int, gen: str, data: str, relpaths: list[str], max_bytes: int, follow_links: bool):
    """Worker process: index one run of files into (at most) one new segment."""
    words: dict[str, int] = {}
    segments, manifest, problems = _index_segments(Path(gen), Path(data), relpaths, max_bytes, _worker_tick, words,
                                                   follow_links)
    return number, segments, manifest, problems, words if segments else {}


def _start_method() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


# ---------------------------------------------------------------- build


def build(data: Path, home: IndexHome, *, workers: int | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
          progress: Progress | None = None, follow_links: bool = False) -> Report:
    """Full rebuild into a new generation, swapped in only when complete.
    ``follow_links``: read links that lead outside ``data`` (and enter links
    to folders); the index remembers it for its updates."""
    started = time.perf_counter()
    data = Path(data)
    require_data_folder(data)
    report = Report("build", str(data), str(home.path))
    phase = Phases(report, progress)
    with writer_lock(home), disk_full_reported(home, "build"):
        _announce(home, "build")
        drop_unfinished(home)
        gen = new_generation(home)
        try:
            with phase("finding files"):
                survey = survey_archive(data, follow_links)
            relpaths = survey.relpaths
            report.files = len(relpaths)
            report.problems.extend(survey.problems)
            manifest = _build_into(gen, data, relpaths, workers, max_bytes, phase, report, follow_links)
            report.indexed = report.documents = len(manifest)
            with phase("finishing"):
                write_manifest(gen, manifest)
                write_json(gen / "meta.json", {
                    "schema_version": SCHEMA_VERSION, "data": shown_path(str(data.resolve())), "built": now_iso(),
                    "updated": None, "documents": report.documents, "follow_links": follow_links,
                    "build_seconds": round(time.perf_counter() - started, 3),
                })
                arrays.save_missing(gen)  # what searchers read at open, computed once here
                switch_to(home, gen)
        except BaseException:
            shutil.rmtree(gen, ignore_errors=True)
            raise
    report.index = str(gen)
    report.seconds = time.perf_counter() - started
    return report


def _build_into(gen: Path, data: Path, relpaths: list[str], workers: int | None, max_bytes: int,
                phase: Phases, report: Report, follow_links: bool) -> dict:
    ix = whoosh_index.create_in(gen, build_schema())
    total = len(relpaths)
    workers = workers or (os.cpu_count() or 1)
    words: dict[str, int] = {}
    if workers <= 1 or total < PARALLEL_THRESHOLD:
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            phase.show(done[0], total)

        with phase("indexing", total):
            segments, manifest, problems = _index_segments(gen, data, relpaths, max_bytes, tick, words, follow_links)
        report.problems.extend(problems)
    else:
        segments, manifest = _build_parallel(gen, data, relpaths, workers, max_bytes, phase, report, words,
                                             follow_links)
    with phase("committing"):
        commit_segments(ix, segments)
        vocabulary.save(gen, words)
    return manifest


def _build_parallel(gen: Path, data: Path, relpaths: list[str], workers: int, max_bytes: int,
                    phase: Phases, report: Report, words: dict[str, int], follow_links: bool) -> tuple[list, dict]:
    """Workers take runs of files (a segment each) as they become free, so
    they finish together; segments are committed in file (date) order."""
    context = _start_method()
    counter = context.Value("i", 0)
    runs = _segment_runs(relpaths, multiple_of=workers)
    manifest: dict = {}
    segments: dict[int, list] = {}
    with phase("indexing", len(relpaths)), \
            context.Pool(min(workers, len(runs)), initializer=_init_worker, initargs=(counter, os.getpid())) as pool:
        pending = [pool.apply_async(_index_run, (number, str(gen), str(data), run, max_bytes, follow_links))
                   for number, run in enumerate(runs)]
        while pending:
            phase.show(counter.value, len(relpaths))
            for result in [p for p in pending if p.ready()]:
                pending.remove(result)
                number, run_segments, entries, problems, counts = result.get()
                segments[number] = run_segments
                manifest.update(entries)
                report.problems.extend(problems)
                vocabulary.merge(words, counts)
            time.sleep(0.1)
        phase.show(len(relpaths), len(relpaths))
    return [segment for number in sorted(segments) for segment in segments[number]], manifest


# ---------------------------------------------------------------- update


def update(data: Path, home: IndexHome, *, paths: Iterable[Path | str] = (), max_bytes: int = DEFAULT_MAX_BYTES,
           progress: Progress | None = None, follow_links: bool = False, skip_unusable_paths: bool = False) -> Report:
    """Add new files, re-index changed ones, remove deleted ones; nothing else.

    ``paths`` (files or folders inside ``data``) limit where it looks: only
    they are compared with the manifest, and only files under them can be
    found removed. Without them the whole data folder is compared.
    Links are followed if ``follow_links`` or the index was built or updated
    so (an update that stopped would remove what the links lead to).
    A PATH it cannot look at stops it (``ScopeProblem``) unless
    ``skip_unusable_paths``, when it is left out (``changes.Scope.of``)."""
    started = time.perf_counter()
    data = Path(data)
    require_data_folder(data)
    if home.current() is None:
        report = build(data, home, max_bytes=max_bytes, progress=progress, follow_links=follow_links)
        report.action = "update (no index yet: full build)"
        return report
    report = Report("update", str(data), str(home.path))
    phase = Phases(report, progress)
    with writer_lock(home), disk_full_reported(home, "update"):
        _announce(home, "update")
        drop_unfinished(home)  # a build killed before it finished left its folder
        gen = home.require_current()
        meta = read_json(gen / "meta.json", {})
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise IndexProblem(f"the index at {gen} was built by another version of newsearch; run 'newsearch index build'")
        follow_links = follow_links or bool(meta.get("follow_links"))
        with phase("reading the manifest"):
            manifest = Manifest.open(gen)  # converts an earlier version's manifest.json once
        with manifest:
            scope = Scope.of(data, paths, manifest, skip_unusable_paths)
            with phase("finding changes"):
                changes = find_changes(data, manifest, scope, scan_workers(manifest.count()), follow_links)
            report.files = changes.files
            report.problems.extend(changes.problems)
            with phase("indexing changes", len(changes.changed) + len(changes.removed)):
                entries, dropped = _apply_changes(gen, data, changes, max_bytes, report, follow_links, phase)
            report.unchanged = changes.files - len(changes.changed)
            with phase("finishing"):
                manifest.apply({**changes.touched, **entries}, dropped)
                meta.update(updated=now_iso(), documents=manifest.count(), follow_links=follow_links)
                write_json(gen / "meta.json", meta)
            report.documents = meta["documents"]
        report.index = str(gen)
    report.seconds = time.perf_counter() - started
    return report


def merge_small_segments(writer, segments: list) -> list:
    """Whoosh's default merge policy (``MERGE_SMALL``) over the segments of
    fewer than ``UPDATE_MERGE_LIMIT`` documents; the others stay as they are.

    Over many segments of equal size (a build's), ``MERGE_SMALL`` sometimes
    merges everything up to its merge point, i.e. rewrites the whole index in
    one update; this way the updates' own small segments are merged and the
    build's never.
    """
    small = [segment for segment in segments if segment.doc_count_all() < UPDATE_MERGE_LIMIT]
    kept = {id(segment) for segment in MERGE_SMALL(writer, small)}
    return [segment for segment in segments if id(segment) in kept or segment.doc_count_all() >= UPDATE_MERGE_LIMIT]


def _apply_changes(gen: Path, data: Path, changes: Changes, max_bytes: int,
                   report: Report, follow_links: bool, phase: Phases | None = None) -> tuple[dict[str, Entry], list[str]]:
    """Remove, re-index and add in one Whoosh commit, counting into ``report`` (and
    telling ``phase`` how far it has got); returns the manifest entries of the files
    indexed and the ids to drop from it."""
    if not changes.changed and not changes.removed:
        return {}, []
    ix = whoosh_index.open_dir(gen)
    writer = BuildSegmentWriter(ix, term_arrays=False, **writer_options())  # ``ix.writer()``, writing as a build does
    words: dict[str, int] = {}
    try:
        for doc_id in changes.removed:
            writer.delete_by_term("id", doc_id)
        for relpath in changes.changed:  # new ones too: an update killed before its manifest was written added them
            writer.delete_by_term("id", article_id(relpath))
        done, total = [len(changes.removed)], len(changes.changed) + len(changes.removed)

        def tick(n: int) -> None:
            done[0] += n
            if phase:
                phase.show(done[0], total)

        found, problems = _index_files(writer, data, changes.changed, max_bytes, tick, words, follow_links)
        report.problems.extend(problems)
        entries = {doc_id: Entry(*value) for doc_id, value in found.items()}
        unreadable = sorted(changes.known - set(entries))  # their old versions are gone too
        report.removed = len(changes.removed) + len(unreadable)
        report.updated = sum(1 for doc_id in entries if doc_id in changes.known)
        report.indexed = len(entries) - report.updated
        if phase:
            phase.step("merging and committing")
        writer.commit(mergetype=merge_small_segments)
    except BaseException:
        _cancel_quietly(writer)
        raise
    if changes.changed:  # removed articles' words stay counted: the vocabulary only ranks suggestions
        vocabulary.save(gen, words, vocabulary.load_counts(gen))
    return entries, changes.removed + unreadable


def _cancel_quietly(writer) -> None:
    """Cancel a writer after a failure without hiding that failure: a commit
    that failed half-way has already closed the writer, and cancelling it
    again raises ("This writer is closed")."""
    try:
        writer.cancel()
    except Exception:  # noqa: BLE001 - the error being raised is the one to report
        pass


# ---------------------------------------------------------------- check


def check(data: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, progress: Progress | None = None,
          follow_links: bool = False) -> Report:
    """Read every file as a build would, index nothing, report every problem."""
    started = time.perf_counter()
    data = Path(data)
    require_data_folder(data)
    report = Report("check", str(data))
    phase = Phases(report, progress)
    with phase("finding files"):
        survey = survey_archive(data, follow_links)
    relpaths = survey.relpaths
    report.files = len(relpaths)
    report.problems.extend(survey.problems)
    with phase("reading files", len(relpaths)):
        for number, relpath in enumerate(relpaths, 1):
            article, problems = read_article(data, relpath, max_bytes, follow_links=follow_links)
            report.problems.extend(problems)
            report.indexed += article is not None
            if number % 200 == 0:
                phase.show(number, len(relpaths))
    report.seconds = time.perf_counter() - started
    return report
