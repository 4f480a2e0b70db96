"""Benchmark: newsearch beside SQLite FTS5 and plain Whoosh on one corpus.

    python -m tools.benchmark ../shared/corpora/reuters-21578

Prints, for each system: full build time and throughput, index size, and
keyword query latency p50/p95 over a fixed query set (the ratio column
compares each p50 with FTS5 ranking a page); for newsearch also
the end-to-end time of ``newsearch index update`` after 30 changed, added
and removed files. The corpus is copied to a scratch folder first (the
update step edits files), so the source is never touched. Last, the time
to read one 5 MB article (the largest ``index build`` reads by default) of
prose and of each kind of pathological markup, which must stay under 1 s:
reading is linear in a file's size. The baselines
are the ones ``newsearch evaluate`` ranks with (``search.baselines``), each
timed from reading the files to a committed index. Not part of the test
run: these are figures to read, not assertions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from search.baselines import Fts5, PlainWhoosh, fts5_match, read_corpus
from search.documents import DEFAULT_MAX_BYTES, find_article_files, read_article

QUERIES = [
    "oil prices", "coffee", "interest rates", "trade deficit", "gold", "bank merger", "wheat exports",
    "opec production", "stock split", "dollar yen", "federal reserve", "takeover bid", "crude oil",
    "quarterly earnings", "japan", "sugar", "strike", "inflation", "shipping", "tin", "copper prices",
    "grain", "corn", "bonds", "acquisition", "dividend", "money supply", "unemployment", "soybeans",
    "natural gas",
]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def time_queries(run, queries: list[str], repeat: int) -> tuple[float, float]:
    for q in queries:  # warm-up: open files, fill caches once
        run(q)
    timings = []
    for _ in range(repeat):
        for q in queries:
            started = time.perf_counter()
            run(q)
            timings.append((time.perf_counter() - started) * 1000)
    return percentile(timings, 50), percentile(timings, 95)


def settle() -> None:
    """Flush earlier steps' writes so they are not paid for by the next timed step."""
    if hasattr(os, "sync"):
        os.sync()


def newsearch_command() -> list[str]:
    """The ``newsearch`` script installed beside this interpreter (what a user
    runs), else ``python -m search.cli``."""
    script = Path(sys.executable).with_name("newsearch")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "search.cli"]


def newsearch_cli(*args: str, timeout: float = 3600, statuses: tuple[int, ...] = (0,)) -> float:
    """Wall time of one whole ``newsearch`` command; raises unless it exits with one of ``statuses``."""
    settle()
    started = time.perf_counter()
    done = subprocess.run([*newsearch_command(), *args], stdout=subprocess.DEVNULL, timeout=timeout)
    seconds = time.perf_counter() - started
    if done.returncode not in statuses:
        raise subprocess.CalledProcessError(done.returncode, done.args)
    return seconds


# ---------------------------------------------------------------- systems


def bench_newsearch(data: Path, work: Path, queries: list[str], repeat: int) -> dict:
    from search.engine import Engine
    from search.request import SearchRequest

    index = work / "newsearch-index"
    seconds = newsearch_cli("index", "build", "--data", str(data), "--index", str(index))
    count = len(find_article_files(data))
    update_seconds = bench_update(data, index)
    engine = Engine(index)
    p50, p95 = time_queries(lambda q: engine.search(SearchRequest(q)), queries, repeat)
    gen = engine.home.require_current()
    return {"system": "newsearch", "build_s": seconds, "docs_per_s": count / seconds, "update_s": update_seconds,
            "size_mb": folder_size(gen) / 1e6, "p50_ms": p50, "p95_ms": p95}


def bench_update(data: Path, index: Path) -> float:
    """Change 10 files, add 10, remove 10; time the whole update command."""
    change_thirty_files(data)
    return newsearch_cli("index", "update", "--data", str(data), "--index", str(index))


def thirty_files(data: Path, sets: int = 1) -> list[list[str]] | list[str]:
    """30 article files spread over the folder (a walk of it: slow at a million);
    with ``sets`` > 1, that many lists of 30, no file in two."""
    files = find_article_files(data)
    spread = files[::max(1, len(files) // (40 * sets))][:30 * sets]
    return spread if sets == 1 else [spread[n::sets] for n in range(sets)]


def change_thirty_files(data: Path, chosen: list[str] | None = None, added: str = "bench-added") -> None:
    """Change 10 article files, add 10 and remove 10, spread over the folder
    (``chosen``: ``thirty_files``); the added ones are named ``added-N.md``.

    A changed file is written anew and renamed over the old one, never edited
    in place, so the data folder may be a tree of hard links to a read-only
    archive (``tools.scale``) without the archive changing."""
    chosen = thirty_files(data) if chosen is None else chosen
    for rel in chosen[:10]:
        edited = (data / rel).read_bytes() + b"\nAn added closing paragraph mentions benchmarkium.\n"
        scratch = (data / rel).with_suffix(".edited")
        scratch.write_bytes(edited)
        os.replace(scratch, data / rel)
    for number, rel in enumerate(chosen[10:20]):
        source = (data / rel).read_bytes()
        (data / rel).with_name(f"{added}-{number}.md").write_bytes(source)
    for rel in chosen[20:30]:
        (data / rel).unlink()


class Fts5WithFacets(Fts5):
    """The FTS5 baseline plus each article's provider, year and topics in
    plain tables, to count them over all matches as a newsearch response does."""

    def __init__(self, path: Path, articles):
        super().__init__(path, articles)
        self.db.execute("CREATE INDEX topics_id ON topics (id)")
        self.db.commit()

    def create_tables(self) -> None:
        super().create_tables()
        self.db.execute("CREATE TABLE meta (id INTEGER PRIMARY KEY, provider TEXT, year TEXT)")
        self.db.execute("CREATE TABLE topics (id INTEGER, topic TEXT)")

    def add(self, rowid: int, a) -> None:
        super().add(rowid, a)
        self.db.execute("INSERT INTO meta VALUES (?, ?, ?)", (rowid, a.provider, str(a.published.year) if a.published else None))
        self.db.executemany("INSERT INTO topics VALUES (?, ?)", [(rowid, t) for t in a.topics])


def bench_fts5(data: Path, work: Path, queries: list[str], repeat: int) -> list[dict]:
    """Two rows: FTS5 ranking a page (top 10 by bm25 + snippet + total), and
    FTS5 doing what a newsearch response also holds (plus topic, provider
    and year counts over the whole result set)."""
    db_path = work / "fts5.sqlite"
    settle()
    started = time.perf_counter()
    fts = Fts5WithFacets(db_path, read_corpus(data))
    seconds = time.perf_counter() - started
    db = fts.db
    count = db.execute("SELECT count(*) FROM docs").fetchone()[0]

    def page(q: str):
        match = fts5_match(q)
        if match is None:
            return match, [], 0
        rows = db.execute("SELECT rowid, title, snippet(docs, 2, '[', ']', '…', 20) FROM docs WHERE docs MATCH ? "
                          "ORDER BY bm25(docs, 4.0, 1.6, 1.0, 2.0) LIMIT 10", (match,)).fetchall()
        total = db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (match,)).fetchone()[0]
        return match, rows, total

    def with_facets(q: str):
        match, rows, total = page(q)
        if match is None:
            return rows, total
        hits = "SELECT rowid FROM docs WHERE docs MATCH ?"
        for sql in (f"SELECT topic, count(*) c FROM topics WHERE id IN ({hits}) GROUP BY topic ORDER BY c DESC LIMIT 20",
                    f"SELECT provider, count(*) c FROM meta WHERE id IN ({hits}) GROUP BY provider ORDER BY c DESC LIMIT 20",
                    f"SELECT year, count(*) c FROM meta WHERE id IN ({hits}) GROUP BY year ORDER BY c DESC LIMIT 20"):
            db.execute(sql, (match,)).fetchall()
        return rows, total

    size = db_path.stat().st_size / 1e6
    rows = []
    for name, run in (("fts5 page", page), ("fts5 +facets", with_facets)):
        p50, p95 = time_queries(run, queries, repeat)
        rows.append({"system": name, "build_s": seconds, "docs_per_s": count / seconds, "update_s": None,
                     "size_mb": size, "p50_ms": p50, "p95_ms": p95})
    fts.close()
    return rows


def bench_plain_whoosh(data: Path, work: Path, queries: list[str], repeat: int) -> dict:
    folder = work / "plain-whoosh"
    settle()
    started = time.perf_counter()
    whoosh = PlainWhoosh(folder, read_corpus(data))
    seconds = time.perf_counter() - started
    # A page: the top 10 with their stored fields (a hit's id loads them all).
    p50, p95 = time_queries(lambda q: whoosh.search(q, 10), queries, repeat)
    row = {"system": "plain whoosh", "build_s": seconds, "docs_per_s": whoosh.searcher.doc_count() / seconds,
           "update_s": None, "size_mb": folder_size(folder) / 1e6, "p50_ms": p50, "p95_ms": p95}
    whoosh.close()
    return row


# ---------------------------------------------------------------- report


def print_table(rows: list[dict], fts_p50: float) -> None:
    print(f"{'system':<14}{'build s':>9}{'docs/s':>9}{'update s':>10}{'size MB':>9}{'p50 ms':>9}{'p95 ms':>9}{'p50/fts5':>10}")
    for row in rows:
        update = f"{row['update_s']:.2f}" if row["update_s"] is not None else "-"
        print(f"{row['system']:<14}{row['build_s']:>9.2f}{row['docs_per_s']:>9.0f}{update:>10}{row['size_mb']:>9.1f}"
              f"{row['p50_ms']:>9.2f}{row['p95_ms']:>9.2f}{row['p50_ms'] / fts_p50:>10.1f}")


# Bodies of the largest size read by default: prose, and the markup that once made reading quadratic.
HUGE_BODIES = {
    "prose": "Crude oil prices rose as OPEC ministers met in Vienna. ",
    "nested brackets": "](" + "[",
    "unclosed links": "[a](",
    "unclosed tags": "<div",
    "unclosed scripts": "<script>",
    "unclosed noscripts": "<noscript>",
    "block tags": "<div>",
    "inline tags": "<b>x</b> ",
}


def bench_reading(work: Path) -> None:
    folder = work / "huge"
    folder.mkdir()
    print(f"\nreading one article of {DEFAULT_MAX_BYTES / 2**20:.0f} MB (must stay under 1 s)")
    for name, unit in HUGE_BODIES.items():
        front = "---\ntitle: A huge article\n---\n"
        body = unit * ((DEFAULT_MAX_BYTES - len(front) - 1) // len(unit))
        path = folder / f"{name.replace(' ', '-')}.md"
        path.write_text(front + body, encoding="utf-8")
        started = time.perf_counter()
        article, _ = read_article(folder, path.name)
        took = time.perf_counter() - started
        print(f"  {name:<20}{path.stat().st_size / 2**20:>6.2f} MB{took:>8.2f} s{'' if article else '  (skipped)'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--queries", type=Path, help="file with one query per line (default: a built-in set)")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes over the query set")
    parser.add_argument("--skip", action="append", default=[], choices=["fts5", "whoosh"], help="leave a baseline out")
    args = parser.parse_args(argv)
    queries = QUERIES
    if args.queries:
        queries = [line.strip() for line in args.queries.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory(prefix="newsearch-bench-") as scratch:
        work = Path(scratch)
        data = work / "data"
        shutil.copytree(args.corpus, data)
        count = len(find_article_files(data))
        print(f"corpus {args.corpus} ({count:,} files), {len(queries)} queries x {args.repeat}, {os.cpu_count()} cores")
        rows = []
        if "fts5" not in args.skip:
            rows.extend(bench_fts5(data, work, queries, args.repeat))
        if "whoosh" not in args.skip:
            rows.append(bench_plain_whoosh(data, work, queries, args.repeat))
        rows.insert(0, bench_newsearch(data, work, queries, args.repeat))
        fts = next((r["p50_ms"] for r in rows if r["system"] == "fts5 page"), rows[0]["p50_ms"])
        print_table(rows, fts)
        bench_reading(work)


if __name__ == "__main__":
    main()
