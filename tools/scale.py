"""Scale benchmark: what newsearch costs as the archive grows (20k, 200k, 1M articles).

    python -m tools.scale /work/archives/a20k /work/archives/a200k [--json FILE] [--scratch DIR]

For each archive folder, in a scratch folder (the archive is never written):

1. build: ``newsearch index build`` on a hard-linked copy of the archive,
   timed as a whole process, with its memory (below);
2. index size: the live generation on disk after the build;
3. update: 10 files changed, 10 added and 10 removed
   (``benchmark.change_thirty_files``, which never edits a file in place,
   so the hard links keep the archive unchanged), then the whole
   ``newsearch index update`` command timed;
   Then the same again under ``newsearch index watch``: 30 other changes,
   timed from the first of them to the watcher's report of the last
   (``measure_watched_update``), and how long the watcher took to start;
   then 30 more, at once followed by ``newsearch index update``, which asks
   the running watcher to catch up: that command timed as a whole;
4. open: ``newsearch serve`` on a free loopback port, timed from process
   start to the first answered ``/api/search``;
5. served: a fixed mix of 60 searches, one request at a time, collapsing
   on: 30 keyword sets, 10 phrases, 8 newest first, 6 ``since`` a date
   (``search_mix``), then for the 3 topics most counted in those answers'
   facets the topic alone and with words (``topic_searches``); p50/p95/max;
6. server memory: 1,000 more searches cycling the mix, then the server's
   RSS (``VmRSS``);
7. command line: ``newsearch search WORDS`` and ``newsearch --help``, wall
   time of the whole process, median of 5.

Build memory is the peak, over samples every 0.2 s, of the summed RSS of the
build process and all its descendants (found by scanning /proc), so forked
workers count; beside it the largest single process's own peak (``VmHWM``).
Shared pages are counted once per process, so the sum is an upper bound.

Prints one row per archive; ``--json FILE`` writes every figure. Every step
has a timeout, every loop is bounded and the server is only contacted on
127.0.0.1. Linux only (/proc). Not part of the test run: figures to read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

from search.store import IndexHome
from tools.processes import memory_kb, process_tree, proportional_kb
from tools.benchmark import (QUERIES, change_thirty_files, folder_size, newsearch_cli, newsearch_command, percentile,
                             settle, thirty_files)
from tools.loadcheck import free_port

SAMPLE_SECONDS = 0.2
PHRASES = ['"oil prices"', '"interest rates"', '"trade deficit"', '"federal reserve"', '"crude oil"',
           '"money supply"', '"natural gas"', '"stock market"', '"central bank"', '"artificial intelligence"']
SINCE = "2024-01-01"
PROBE = {"q": "oil"}  # the first search, timed from the start of the server
REQUEST_TIMEOUT = 120.0


# ---------------------------------------------------------------- memory of a process tree


class TreeMemory:
    """Peaks of a process tree's memory, from repeated samples."""

    def __init__(self, root: int):
        self.root = root
        self.peak_sum_kb = 0
        self.largest_kb = 0
        self.most_processes = 0

    def sample(self) -> None:
        pids = process_tree(self.root)
        figures = [memory_kb(pid) for pid in pids]
        self.peak_sum_kb = max(self.peak_sum_kb, sum(f.get("VmRSS", 0) for f in figures))
        self.largest_kb = max([self.largest_kb] + [f.get("VmHWM", 0) for f in figures])
        self.most_processes = max(self.most_processes, sum(1 for f in figures if f))

    def kill(self) -> None:
        for pid in process_tree(self.root):
            try:
                os.kill(pid, 9)
            except OSError:
                pass


# ---------------------------------------------------------------- steps


def hard_link_copy(archive: Path, data: Path) -> None:
    """A copy that costs no file data: hard links, or real copies across filesystems."""
    def link_or_copy(source: str, target: str) -> None:
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)

    shutil.copytree(archive, data, copy_function=link_or_copy)


def measure_build(data: Path, index: Path, timeout: float) -> dict:
    settle()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        build = subprocess.Popen([*newsearch_command(), "index", "build", "--data", str(data), "--index", str(index),
                                  "--json"], stdout=out, stderr=err)
        memory = TreeMemory(build.pid)
        try:
            while True:
                memory.sample()
                try:
                    build.wait(SAMPLE_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    if time.perf_counter() - started > timeout:
                        raise SystemExit(f"the build of {data} took over {timeout:.0f} s; stopped") from None
        except BaseException:  # the timeout, or Ctrl+C: leave no build running
            memory.kill()
            build.wait()
            raise
        seconds = time.perf_counter() - started
        if build.returncode != 0:
            err.seek(0)
            raise SystemExit(f"the build of {data} failed: {err.read().decode(errors='replace')[-2000:]}")
        out.seek(0)
        summary = json.loads(out.read())
    return {"articles": summary["documents"], "build_s": seconds,
            "build_articles_per_s": summary["documents"] / seconds,
            "build_peak_rss_mb": memory.peak_sum_kb / 1024, "build_largest_process_mb": memory.largest_kb / 1024,
            "build_processes": memory.most_processes, "build_phases": summary.get("phases", {})}


def measure_update(data: Path, index: Path) -> dict:
    """Time ``index update`` after 30 file changes, and say what it did (so a fast
    update that missed the changes shows)."""
    change_thirty_files(data)
    settle()
    started = time.perf_counter()
    done = subprocess.run([*newsearch_command(), "index", "update", "--data", str(data), "--index", str(index),
                           "--json"], capture_output=True, timeout=600, check=True)
    seconds = time.perf_counter() - started
    summary = json.loads(done.stdout)
    return {"update_s": seconds, "update_counts": {key: summary[key] for key in ("indexed", "updated", "removed")},
            "update_phases": summary.get("phases", {})}


def measure_watched_update(data: Path, index: Path, timeout: float = 120) -> dict:
    """Start ``newsearch index watch``; once it watches, make 30 changes (as
    ``measure_update``, other files) and time from the first of them to the
    watcher's report of the last: from a change on disk to the change searchable.
    Then 30 more changes, at once followed by ``newsearch index update``,
    which asks the watcher to catch up: that command timed as a whole."""
    chosen, chosen_too = thirty_files(data, sets=2)  # before the clock starts: a walk of the archive
    settle()
    started = time.perf_counter()
    watcher = subprocess.Popen([*newsearch_command(), "index", "watch", "--data", str(data), "--index", str(index),
                                "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = _lines_of(watcher.stdout), _lines_of(watcher.stderr)
    try:
        while "watching" not in err.get(timeout=timeout):
            pass
        ready_s = time.perf_counter() - started
        while not out.empty():  # the whole update it starts with
            out.get()
        changed = time.perf_counter()
        change_thirty_files(data, chosen, added=f"watch-added-{time.time_ns()}")  # names no earlier run used
        done, updates = _reports_until_thirty(out, timeout)
        seconds = time.perf_counter() - changed
        asked = _asked_update(data, index, chosen_too, out, timeout)
    finally:
        watcher.send_signal(signal.SIGINT)
        try:
            watcher.wait(60)
        except subprocess.TimeoutExpired:
            watcher.kill()
            watcher.wait()
    return {"watch_ready_s": ready_s, "watched_update_s": seconds, "watched_update_counts": done,
            "watched_updates": updates, **asked}


def _reports_until_thirty(out: queue.Queue, timeout: float) -> tuple[dict, int]:
    """The watcher's reports (lines of JSON) until they add up to 30 changes: their counts, and how many."""
    done, updates = {"indexed": 0, "updated": 0, "removed": 0}, 0
    while sum(done.values()) < 30:
        report = json.loads(out.get(timeout=timeout))
        updates += 1
        for key in done:
            done[key] += report[key]
    return done, updates


def _asked_update(data: Path, index: Path, chosen: list[str], out: queue.Queue, timeout: float) -> dict:
    """30 changes, then at once ``newsearch index update``, timed; the watcher
    reports each update before it answers, so all 30 must be reported by the
    time the command ends (checked)."""
    settle()
    started = time.perf_counter()
    change_thirty_files(data, chosen, added=f"asked-added-{time.time_ns()}")
    done = subprocess.run([*newsearch_command(), "index", "update", "--data", str(data), "--index", str(index),
                           "--json"], capture_output=True, timeout=timeout, check=True)
    seconds = time.perf_counter() - started
    answer = json.loads(done.stdout)
    counts, _updates = _reports_until_thirty(out, timeout=1.0)  # a second's grace for the pipe
    return {"asked_update_s": seconds, "asked_update_action": answer["action"], "asked_update_counts": counts}


def _lines_of(stream) -> queue.Queue:
    """The lines of ``stream`` as they come, read by a thread."""
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    return lines


def search_mix() -> list[dict]:
    """54 searches: 30 keyword sets, 10 phrases, 8 newest first, 6 since a date."""
    mix = [{"q": q} for q in QUERIES]
    mix += [{"q": phrase} for phrase in PHRASES]
    mix += [{"q": q, "sort": "newest"} for q in QUERIES[:8]]
    mix += [{"q": q, "since": SINCE} for q in QUERIES[8:14]]
    return mix


def topic_searches(answers: list[dict]) -> list[dict]:
    """For the 3 topics most counted in the answers' facets: the topic alone and with words."""
    counts: dict[str, int] = defaultdict(int)
    for answer in answers:
        for item in answer.get("facets", {}).get("topics", []):
            counts[item["value"]] += item["count"]
    topics = sorted(counts, key=lambda topic: (-counts[topic], topic))[:3]
    return [search for topic, words in zip(topics, QUERIES[14:17])
            for search in ({"topic": topic}, {"q": words, "topic": topic})]


class Server:
    """``newsearch serve`` on a free loopback port, asked one request at a time."""

    def __init__(self, data: Path, index: Path):
        self.port = free_port()
        self.started = time.perf_counter()
        self.process = subprocess.Popen([*newsearch_command(), "serve", "--data", str(data), "--index", str(index),
                                         "--host", "127.0.0.1", "--port", str(self.port)], stdout=subprocess.DEVNULL)
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        self.errors: list[str] = []

    def first_answer(self, timeout: float) -> tuple[float, dict]:
        """Seconds from process start to the first answered search, and that answer."""
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            try:
                _, answer = self.search(PROBE)
                return time.perf_counter() - self.started, answer
            except (OSError, http.client.HTTPException):
                self.connection.close()
                if self.process.poll() is not None:
                    raise SystemExit(f"newsearch serve exited with status {self.process.returncode}")
                time.sleep(0.05)
        raise SystemExit(f"newsearch serve answered no search within {timeout:.0f} s")

    def search(self, params: dict) -> tuple[float, dict]:
        """Milliseconds of one ``/api/search`` round trip, and its JSON."""
        url = "/api/search?" + urlencode(params)
        started = time.perf_counter()
        self.connection.request("GET", url)
        reply = self.connection.getresponse()
        body = reply.read()
        elapsed = (time.perf_counter() - started) * 1000
        if reply.status != 200:
            self.errors.append(f"{reply.status} {url}")
            return elapsed, {}
        return elapsed, json.loads(body)

    def run(self, searches: list[dict], count: int) -> tuple[list[float], list[dict]]:
        """``count`` searches cycling ``searches``: milliseconds and answers."""
        done = [self.search(searches[n % len(searches)]) for n in range(count)]
        return [ms for ms, _ in done], [answer for _, answer in done]

    def rss_mb(self) -> float:
        """The summed RSS of the server's processes (pages they share counted in each)."""
        return sum(memory_kb(pid).get("VmRSS", 0) for pid in process_tree(self.process.pid)) / 1024

    def pss_mb(self) -> float:
        """The summed PSS of the server's processes: each shared page divided among its sharers."""
        return sum(proportional_kb(pid) for pid in process_tree(self.process.pid)) / 1024

    def stop(self) -> None:
        self.connection.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def measure_serving(data: Path, index: Path, searches: int, open_timeout: float) -> dict:
    server = Server(data, index)
    try:
        open_s, _ = server.first_answer(open_timeout)
        rss_open = server.rss_mb()
        fixed = search_mix()
        served, answers = server.run(fixed, len(fixed))
        by_topic = topic_searches(answers)
        served += server.run(by_topic, len(by_topic))[0]
        mix = fixed + by_topic
        warm = server.run(mix, searches)[0]
        return {"open_s": open_s, "topics": [search["topic"] for search in by_topic[::2]],
                "served_searches": len(served), "p50_ms": percentile(served, 50), "p95_ms": percentile(served, 95),
                "max_ms": max(served), "warm_searches": len(warm),
                "warm_p50_ms": percentile(warm, 50) if warm else None,
                "warm_p95_ms": percentile(warm, 95) if warm else None,
                "server_rss_open_mb": rss_open, "server_rss_mb": server.rss_mb(), "server_pss_mb": server.pss_mb(),
                "server_processes": len(process_tree(server.process.pid)),
                "errors": len(server.errors), "error_examples": server.errors[:10]}
    finally:
        server.stop()


def measure_cli(index: Path, words: list[str], runs: int) -> dict:
    # Status 1 (nothing matched) is still a whole search.
    search = [newsearch_cli("search", *words, "--index", str(index), timeout=600, statuses=(0, 1)) for _ in range(runs)]
    helps = [newsearch_cli("--help", timeout=60) for _ in range(runs)]
    return {"cli_search_s": statistics.median(search), "cli_help_s": statistics.median(helps)}


def bench_archive(archive: Path, scratch: Path, args: argparse.Namespace) -> dict:
    data, index = scratch / "data", scratch / "index"
    hard_link_copy(archive, data)
    row = {"archive": str(archive)}
    row.update(measure_build(data, index, args.build_timeout))
    row["index_mb"] = folder_size(IndexHome(index).require_current()) / 1e6
    say(f"{archive.name}: built {row['articles']:,} articles in {row['build_s']:.1f} s")
    row.update(measure_update(data, index))
    row.update(measure_watched_update(data, index))
    row.update(measure_serving(data, index, args.searches, args.open_timeout))
    say(f"{archive.name}: served, p50 {row['p50_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms")
    row.update(measure_cli(index, args.words.split(), args.cli_runs))
    row["load_average"] = os.getloadavg()  # 1, 5, 15 minutes: how busy the machine was (figures are noisy)
    return row


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- report


COLUMNS = [  # heading, key, width, format
    ("archive", "archive", 10, ""), ("articles", "articles", 10, ","), ("build s", "build_s", 9, ".1f"),
    ("art/s", "build_articles_per_s", 7, ".0f"), ("peak MB", "build_peak_rss_mb", 8, ".0f"),
    ("1proc MB", "build_largest_process_mb", 9, ".0f"), ("index MB", "index_mb", 9, ".0f"),
    ("update s", "update_s", 9, ".2f"), ("watched s", "watched_update_s", 10, ".2f"),
    ("asked s", "asked_update_s", 8, ".2f"), ("open s", "open_s", 7, ".2f"), ("p50 ms", "p50_ms", 7, ".0f"),
    ("p95 ms", "p95_ms", 7, ".0f"), ("max ms", "max_ms", 7, ".0f"), ("RSS MB", "server_rss_mb", 7, ".0f"),
    ("PSS MB", "server_pss_mb", 7, ".0f"),
    ("search s", "cli_search_s", 9, ".2f"), ("help s", "cli_help_s", 7, ".2f"),
]


def print_rows(rows: list[dict]) -> None:
    print("".join(f"{heading:{'<' if key == 'archive' else '>'}{width}}" for heading, key, width, _ in COLUMNS))
    for row in rows:
        shown = dict(row, archive=Path(row["archive"]).name)
        print("".join(f"{shown[key]:{'<' if key == 'archive' else '>'}{width}{spec}}"
                      for _, key, width, spec in COLUMNS))
    for row in rows:
        for action in ("build", "update"):
            phases = row.get(f"{action}_phases") or {}
            print(f"{Path(row['archive']).name} {action} phases: "
                  + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in phases.items()))
    for row in rows:
        if row["errors"]:
            print(f"{Path(row['archive']).name}: {row['errors']} failed searches, e.g. {row['error_examples'][0]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archives", type=Path, nargs="+", help="archive folders (read, never written)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--scratch", type=Path, help="where the copies and indexes go (default: the temp folder); "
                        "on the archives' filesystem the copy is hard links")
    parser.add_argument("--searches", type=int, default=1000, help="searches before the server's RSS is read")
    parser.add_argument("--cli-runs", type=int, default=5, help="runs of each timed command (median)")
    parser.add_argument("--words", default="oil", help="what the timed 'newsearch search' looks for")
    parser.add_argument("--build-timeout", type=float, default=3 * 3600)
    parser.add_argument("--open-timeout", type=float, default=600)
    args = parser.parse_args(argv)
    rows = []
    for archive in args.archives:
        with tempfile.TemporaryDirectory(prefix="newsearch-scale-", dir=args.scratch) as scratch:
            rows.append(bench_archive(archive, Path(scratch), args))
    print(f"newsearch at scale, {os.cpu_count()} cores, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print_rows(rows)
    if args.json:
        args.json.write_text(json.dumps({"cores": os.cpu_count(), "rows": rows}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
