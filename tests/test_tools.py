"""The developer tools in tools/ still run, end to end, on the small judged
fixture (their figures are for reading; only their shape is checked)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tools.benchmark import HUGE_BODIES
from tools.make_archive import read_pools, write_archive

ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "tests" / "relevance" / "fixture" / "articles"


def run_tool(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_benchmark_times_newsearch_and_both_baselines():
    table, reading = run_tool("tools.benchmark", str(CORPUS), "--repeat", "1").split("\n\n")
    lines = table.splitlines()
    assert lines[0].startswith(f"corpus {CORPUS} (10 files), 30 queries x 1")
    rows = {line[:14].strip(): line[14:].split() for line in lines[2:]}
    assert list(rows) == ["newsearch", "fts5 page", "fts5 +facets", "plain whoosh"]
    assert all(len(cells) == 7 for cells in rows.values())
    assert rows["fts5 page"][-1] == "1.0"  # the p50 every row is compared with
    assert rows["newsearch"][2] != "-" and rows["plain whoosh"][2] == "-"  # only newsearch updates
    # Both FTS5 rows share one build: the same seconds and documents per second.
    assert rows["fts5 page"][:2] == rows["fts5 +facets"][:2]
    # Then one 5 MB article of each kind read, none skipped for its size.
    read = [line.split() for line in reading.splitlines()[1:]]
    assert [" ".join(cells[:-4]) for cells in read] == list(HUGE_BODIES)
    assert all(cells[-4:-2] == ["5.00", "MB"] and cells[-1] == "s" for cells in read)


def test_loadcheck_serves_searches_without_errors():
    out = run_tool("tools.loadcheck", "--data", str(CORPUS), "--clients", "3", "--hostile", "1", "--seconds", "1",
                   "--threads", "2", "--processes", "2")
    assert out.startswith("10 documents, 3 clients (1 hostile), 2 server process(es) of 2 threads,")
    assert "\nordinary " in out and "\nhostile " in out  # each kind of client's figures, apart
    assert "GET /api/search" in out and out.rstrip().endswith("errors 0")


SCALE_FIGURES = {"articles", "build_s", "build_articles_per_s", "build_peak_rss_mb", "build_largest_process_mb",
                 "build_processes", "index_mb", "update_s", "watch_ready_s", "watched_update_s", "asked_update_s", "open_s", "p50_ms", "p95_ms", "max_ms", "warm_p50_ms",
                 "warm_p95_ms", "server_rss_open_mb", "server_rss_mb", "server_pss_mb", "server_processes", "cli_search_s",
                 "cli_help_s"}


def test_scale_reports_every_figure_and_leaves_the_archive_untouched(tmp_path):
    archive = tmp_path / "a60"
    write_archive(read_pools(ROOT / "tests" / "relevance"), archive, 60, seed=1)
    files_before = {path: path.read_bytes() for path in archive.rglob("*.md")}
    figures = tmp_path / "scale.json"
    out = run_tool("tools.scale", str(archive), "--scratch", str(tmp_path), "--json", str(figures),
                   "--searches", "25", "--cli-runs", "1")

    row = json.loads(figures.read_text())["rows"][0]
    assert SCALE_FIGURES <= set(row) and all(row[key] > 0 for key in SCALE_FIGURES)
    assert row["articles"] == 60
    assert row["update_counts"] == {"indexed": 10, "updated": 10, "removed": 10}
    assert row["watched_update_counts"] == {"indexed": 10, "updated": 10, "removed": 10}
    assert row["asked_update_counts"] == {"indexed": 10, "updated": 10, "removed": 10}
    assert row["asked_update_action"].startswith("update (by the watcher, pid ")
    assert row["p50_ms"] <= row["p95_ms"] <= row["max_ms"]
    # 54 fixed searches, then the 3 topics most counted in their facets, alone and with words.
    assert row["served_searches"] == 60 and len(set(row["topics"])) == 3
    assert row["warm_searches"] == 25 and row["errors"] == 0
    assert out.splitlines()[2].split()[:2] == ["a60", "60"]
    # The update changed, added and removed files in a hard-linked copy, never in the archive.
    assert {path: path.read_bytes() for path in archive.rglob("*.md")} == files_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a60", "scale.json"]  # the scratch folder is gone


def test_soak_serves_and_updates_and_reports_memory_and_descriptors(tmp_path):
    archive = tmp_path / "a40"
    write_archive(read_pools(ROOT / "tests" / "relevance"), archive, 40, seed=2)
    files_before = {path: path.read_bytes() for path in archive.rglob("*.md")}
    out = run_tool("tools.soak", str(archive), "--seconds", "4", "--clients", "2", "--update-every", "1.5")
    assert "after warm-up" in out and "at the end" in out and "RSS growth since warm-up" in out
    own = re.search(r"own memory \(RssAnon, without mapped index pages\) (\d+) MB after warm-up, (\d+) MB", out)
    assert own and 0 < int(own.group(1)) and 0 < int(own.group(2)), out
    # How many updates fit in 4 s depends on the machine's load; each must succeed.
    updates = re.search(r"updates (\d+) \(0 failed\), errors 0$", out, re.M)
    assert updates and int(updates.group(1)) >= 1, out
    assert {path: path.read_bytes() for path in archive.rglob("*.md")} == files_before  # the archive is untouched
