"""The developer tools in tools/ still run, end to end, on the small judged
fixture (their figures are for reading; only their shape is checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "tests" / "relevance" / "fixture" / "articles"


def run_tool(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_benchmark_times_newsearch_and_both_baselines():
    lines = run_tool("tools.benchmark", str(CORPUS), "--repeat", "1").splitlines()
    assert lines[0].startswith(f"corpus {CORPUS} (10 files), 30 queries x 1")
    rows = {line[:14].strip(): line[14:].split() for line in lines[2:]}
    assert list(rows) == ["newsearch", "fts5 page", "fts5 +facets", "plain whoosh"]
    assert all(len(cells) == 7 for cells in rows.values())
    assert rows["fts5 page"][-1] == "1.0"  # the p50 every row is compared with
    assert rows["newsearch"][2] != "-" and rows["plain whoosh"][2] == "-"  # only newsearch updates
    # Both FTS5 rows share one build: the same seconds and documents per second.
    assert rows["fts5 page"][:2] == rows["fts5 +facets"][:2]


def test_loadcheck_serves_searches_without_errors():
    out = run_tool("tools.loadcheck", "--data", str(CORPUS), "--clients", "2", "--seconds", "1", "--threads", "2")
    assert out.startswith("10 documents, 2 clients, 2 server threads,")
    assert "GET /api/search" in out and out.rstrip().endswith("errors 0")
