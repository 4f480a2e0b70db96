"""Relevance evaluation: newsearch beside plain Whoosh, SQLite FTS5 and BM25 on judged queries.

    newsearch evaluate CORPUS QUERIES QRELS [--index DIR] [--depth 100] [--system S]
                       [--queries-half odd|even] [--per-query] [--json]

Inputs:

* ``CORPUS`` a folder of articles in the archive format;
* ``QUERIES`` one query a line, ``<qid>TAB<query text>``;
* ``QRELS`` TREC relevance judgments, ``<qid> <iteration> <doc-id> <grade>``
  a line (the iteration column is ignored). A doc id is the article id: its
  path under the corpus without ``.md``. Grade 1 or more is relevant; higher
  grades are worth more in nDCG. Documents not judged count as not relevant.

Blank lines and lines starting with ``#`` are skipped in both files; any
other line that cannot be read stops the run with an error naming the file
and the line.

``--queries-half`` keeps one half of the queries (``query_half``): the
tuning half (``odd``) or the held-out half (``even``) of the protocol in
``tests/relevance/README.md``.

The articles are read once and every query runs through five systems over
the same articles:

* ``newsearch`` exactly as the command line searches: an index built with
  ``indexer.build`` (in a scratch folder, or in ``--index``; an index that is
  already there is reused as it is), then ``Engine.search`` with its
  defaults, paging to ``--depth``;
* ``whoosh``: plain Whoosh with its defaults -- StandardAnalyzer ``TEXT``
  fields title, excerpt, body and topics, ``MultifieldParser`` over them
  (every word required) and BM25F (``baselines.PlainWhoosh``);
* ``fts5``: SQLite FTS5 (columns title, excerpt, body, topics; tokenizer
  ``porter unicode61 remove_diacritics 2``), every word of the query quoted
  as a term and all of them required, ranked by ``bm25()`` (``baselines.Fts5``);
* ``bm25``: plain BM25 with every word optional (k1 1.2, b 0.75, one field
  of title, excerpt and body, newsearch's analyzer), the fair reference for
  long queries, which the two above mostly fail (``baselines.Bm25``);
* ``bm25-rm3``: the same with RM3 pseudo-relevance feedback (``feedback``).

Metrics, averaged over the queries with at least one relevant judgment:
MAP (average precision over all relevant documents, to ``--depth``),
nDCG@10 (gain = grade, log2 discount, ideal ranking from the judgments) and
P@10; and, over all queries, how many returned nothing. Queries without a
relevant judgment still run (they count for zero-result queries) and are
named in a warning.
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from . import baselines, indexer
from .request import SearchRequest

SYSTEMS = ("newsearch", "whoosh", "fts5", "bm25", "bm25-rm3")
HALVES = ("odd", "even")
CUTOFF = 10  # for nDCG@10 and P@10
DEFAULT_DEPTH = 100
MAX_DEPTH = 10_000
NEWSEARCH_PAGE_SIZE = 100  # the engine's largest page

Log = Callable[[str], None]


class InputError(ValueError):
    """A queries or qrels file (or the corpus) that cannot be used; the message names the file and line."""


# ---------------------------------------------------------------- reading the inputs


@dataclass(frozen=True)
class Query:
    qid: str
    text: str


def _content_lines(path: Path) -> Iterable[tuple[int, str]]:
    """(line number, line) for every line that is not blank or a ``#`` comment."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, line


def read_queries(path: Path | str) -> list[Query]:
    """The queries in file order. Each line is ``<qid>TAB<query text>``."""
    queries: list[Query] = []
    seen: dict[str, int] = {}
    for number, line in _content_lines(Path(path)):
        where = f"{path}:{number}"
        qid, tab, text = line.partition("\t")
        qid, text = qid.strip(), text.strip()
        if not tab:
            raise InputError(f"{where}: expected '<qid><TAB><query text>', found no tab in {line.strip()[:60]!r}")
        if not qid or any(ch.isspace() for ch in qid):
            raise InputError(f"{where}: the query id {qid!r} is empty or contains spaces")
        if not text:
            raise InputError(f"{where}: query {qid} has no text")
        if qid in seen:
            raise InputError(f"{where}: query id {qid} is already used on line {seen[qid]}")
        seen[qid] = number
        queries.append(Query(qid, text))
    return queries


def read_qrels(path: Path | str) -> dict[str, dict[str, int]]:
    """``{qid: {doc_id: grade}}`` from a TREC qrels file (``<qid> <iteration> <doc-id> <grade>``)."""
    qrels: dict[str, dict[str, int]] = {}
    lines: dict[tuple[str, str], int] = {}
    for number, line in _content_lines(Path(path)):
        where = f"{path}:{number}"
        parts = line.split()
        if len(parts) != 4:
            raise InputError(f"{where}: expected 4 fields '<qid> 0 <doc-id> <grade>', found {len(parts)}")
        qid, _iteration, doc_id, grade_text = parts
        try:
            grade = int(grade_text)
        except ValueError:
            raise InputError(f"{where}: the grade {grade_text!r} is not a whole number") from None
        judged = qrels.setdefault(qid, {})
        if doc_id in judged and judged[doc_id] != grade:
            raise InputError(f"{where}: {qid} {doc_id} is judged {grade} here but {judged[doc_id]} "
                             f"on line {lines[qid, doc_id]}")
        judged[doc_id] = grade
        lines.setdefault((qid, doc_id), number)
    return qrels


# ---------------------------------------------------------------- metrics


def _distinct(ranked: Sequence[str]) -> list[str]:
    """The ranking with repeats of a document dropped (only its first rank counts)."""
    seen: set[str] = set()
    return [doc for doc in ranked if not (doc in seen or seen.add(doc))]


def gain(judgments: Mapping[str, int], doc_id: str) -> int:
    """The graded gain of a document: its grade if positive; 0 if not relevant or not judged."""
    return max(0, judgments.get(doc_id, 0))


def relevant_count(judgments: Mapping[str, int]) -> int:
    return sum(1 for grade in judgments.values() if grade >= 1)


def average_precision(ranked: Sequence[str], judgments: Mapping[str, int]) -> float:
    """Sum of the precision at the rank of each relevant document retrieved,
    divided by the number of relevant documents judged (retrieved or not).
    0.0 when nothing is judged relevant."""
    total = relevant_count(judgments)
    if not total:
        return 0.0
    found, summed = 0, 0.0
    for rank, doc in enumerate(_distinct(ranked), 1):
        if gain(judgments, doc):
            found += 1
            summed += found / rank
    return summed / total


def dcg(gains: Sequence[float], k: int = CUTOFF) -> float:
    return sum(g / math.log2(rank + 1) for rank, g in enumerate(gains[:k], 1))


def ndcg(ranked: Sequence[str], judgments: Mapping[str, int], k: int = CUTOFF) -> float:
    """nDCG@k with gain = grade and discount log2(rank + 1); the ideal is the
    judged grades in decreasing order. 0.0 when nothing is judged relevant."""
    ideal = dcg(sorted((gain(judgments, doc) for doc in judgments), reverse=True), k)
    if not ideal:
        return 0.0
    return dcg([gain(judgments, doc) for doc in _distinct(ranked)[:k]], k) / ideal


def precision_at(ranked: Sequence[str], judgments: Mapping[str, int], k: int = CUTOFF) -> float:
    """Relevant documents among the first k, divided by k (a short list is not rewarded)."""
    return sum(1 for doc in _distinct(ranked)[:k] if gain(judgments, doc)) / k


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


# ---------------------------------------------------------------- the systems


class Newsearch:
    """newsearch as the CLI runs it: ``indexer.build`` then ``Engine.search`` with default parameters."""

    name = "newsearch"

    def __init__(self, corpus: Path, articles: list, scratch: Path, index: Path | None, log: Log):
        from .engine import Engine

        self.fallbacks = 0
        home = indexer.IndexHome(index if index is not None else scratch / "newsearch-index")
        self.reused = index is not None and home.current() is not None
        self.warnings: list[str] = []
        if self.reused:
            log(f"newsearch: using the index in {home.path}")
            from .schema import SCHEMA_VERSION

            meta = indexer.read_json(home.require_current() / "meta.json", {})
            built_from = meta.get("data")
            if built_from and Path(built_from) != corpus.resolve():
                self.warnings.append(f"newsearch: the index in {home.path} was built from {built_from}, not {corpus}")
            if meta.get("schema_version") != SCHEMA_VERSION:
                self.warnings.append(f"newsearch: the index in {home.path} has schema version "
                                     f"{meta.get('schema_version')}, but this code writes {SCHEMA_VERSION}; "
                                     "the figures are for the old index (rebuild it, or leave out --index)")
        else:
            log(f"newsearch: building an index in {home.path}")
            indexer.build(corpus, home)
        self.index = str(home.path) if index is not None else None  # None: a scratch folder, removed after
        self.engine = Engine(home.path)
        documents = self.engine.warm()
        if documents != len(articles):
            self.warnings.append(f"newsearch: the index holds {documents:,} documents but the corpus has "
                                 f"{len(articles):,} readable articles")

    def search(self, text: str, depth: int) -> list[str]:
        ids: list[str] = []
        page = 1
        while len(ids) < depth:
            response = self.engine.search(SearchRequest(text, page=page, page_size=NEWSEARCH_PAGE_SIZE))
            if page == 1 and response.fallback:
                self.fallbacks += 1
            ids.extend(hit.id for hit in response.hits)
            if not response.hits or page * NEWSEARCH_PAGE_SIZE >= response.total:
                break
            page += 1
        return ids[:depth]

    def details(self) -> dict:
        return {"index": self.index, "index_reused": self.reused, "fallback_queries": self.fallbacks}

    def close(self) -> None:
        self.engine.close()


def _plain_whoosh(corpus: Path, articles: list, scratch: Path, index: Path | None, log: Log) -> baselines.PlainWhoosh:
    log("whoosh: building an index")
    return baselines.PlainWhoosh(scratch / "plain-whoosh", articles)


def _fts5(corpus: Path, articles: list, scratch: Path, index: Path | None, log: Log) -> baselines.Fts5:
    log("fts5: building an index")
    return baselines.Fts5(scratch / "fts5.sqlite", articles)


def _bm25(corpus: Path, articles: list, scratch: Path, index: Path | None, log: Log) -> baselines.Bm25:
    log("bm25: building an index")
    return baselines.Bm25(scratch / "bm25", articles)


def _bm25_rm3(corpus: Path, articles: list, scratch: Path, index: Path | None, log: Log) -> baselines.Bm25:
    log("bm25-rm3: building an index")
    return baselines.Bm25(scratch / "bm25-rm3", articles, rm3=True)


# What opens each system over the articles; each answers search(text, depth) and close().
RUNNERS = {"newsearch": Newsearch, "whoosh": _plain_whoosh, "fts5": _fts5, "bm25": _bm25, "bm25-rm3": _bm25_rm3}


def query_half(queries: Sequence[Query], half: str) -> list[Query]:
    """The queries of one half: ``odd`` or ``even`` by the number that ends the query id
    (``q07``, ``7``: odd), or, for an id not ending in a number, by its line's place
    among the queries (first: odd). The split is fixed by the ids alone, so every
    run and every system sees the same halves."""
    if half not in HALVES:
        raise ValueError(f"the half must be one of {', '.join(HALVES)}, not {half!r}")
    kept = []
    for place, query in enumerate(queries, 1):
        number = re.search(r"(\d+)$", query.qid)
        if (int(number.group(1)) if number else place) % 2 == (half == "odd"):
            kept.append(query)
    return kept


# ---------------------------------------------------------------- evaluate


def _input_warnings(queries: list[Query], qrels: dict[str, dict[str, int]], known: set[str]) -> list[str]:
    warnings = []
    unjudged = [q.qid for q in queries if not relevant_count(qrels.get(q.qid, {}))]
    if unjudged:
        warnings.append(f"{len(unjudged)} queries have no relevant judgment and are left out of MAP, nDCG@10 "
                        f"and P@10 (they still count for zero-result queries): {_some(unjudged)}")
    asked = {q.qid for q in queries}
    orphans = [qid for qid in qrels if qid not in asked]
    if orphans:
        warnings.append(f"the qrels judge {len(orphans)} queries that are not in the queries file: {_some(orphans)}")
    missing = sorted({doc for judged in qrels.values() for doc in judged if doc not in known})
    if missing:
        warnings.append(f"the qrels name {len(missing)} documents that are not in the corpus "
                        f"(no system can find them): {_some(missing)}")
    return warnings


def _some(items: Sequence[str], shown: int = 5) -> str:
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def _quiet(_message: str) -> None:
    pass


def evaluate(corpus, queries_path, qrels_path, index=None, depth: int = DEFAULT_DEPTH,
             systems: Sequence[str] = SYSTEMS, log: Log | None = None, half: str | None = None) -> dict:
    """Run every query through each system and return the figures (see ``format_report``).

    Raises ``InputError`` for unusable inputs, ``ValueError`` for a bad
    ``depth`` or system name, and ``indexer.IndexProblem`` if ``index`` is busy.
    """
    log = log or _quiet
    unknown = [name for name in systems if name not in RUNNERS]
    if unknown or not systems:
        raise ValueError(f"systems must be some of {', '.join(SYSTEMS)}, not {', '.join(unknown) or 'none'}")
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be between 1 and {MAX_DEPTH}")
    started = time.perf_counter()
    corpus = Path(corpus)
    if not corpus.is_dir():
        raise InputError(f"{corpus}: the corpus folder does not exist or is not a folder")
    queries = read_queries(queries_path)
    qrels = read_qrels(qrels_path)
    if not queries:
        raise InputError(f"{queries_path}: no queries")
    if half is not None:
        queries = query_half(queries, half)
        if not queries:
            raise InputError(f"{queries_path}: no queries in the {half} half")
        asked = {q.qid for q in queries}
        qrels = {qid: judged for qid, judged in qrels.items() if qid in asked}
    log(f"reading {corpus}")
    skipped: list[str] = []
    articles = list(baselines.read_corpus(corpus, skipped))
    read_seconds = time.perf_counter() - started
    warnings = _input_warnings(queries, qrels, {a.id for a in articles})
    if skipped:
        warnings.append(f"{len(skipped)} files in the corpus could not be read and are in no system's index")

    rankings: dict[str, dict[str, list[str]]] = {}
    figures: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="newsearch-eval-") as scratch:
        for name in dict.fromkeys(systems):
            setup_started = time.perf_counter()
            runner = RUNNERS[name](corpus, articles, Path(scratch), Path(index) if index else None, log)
            try:
                setup_seconds = time.perf_counter() - setup_started
                log(f"{name}: running {len(queries)} queries")
                ranked, errors = {}, {}
                query_started = time.perf_counter()
                for query in queries:
                    try:
                        ranked[query.qid] = runner.search(query.text, depth)
                    except Exception as exc:  # reported, and the query counts as finding nothing
                        ranked[query.qid] = []
                        errors[query.qid] = f"{exc.__class__.__name__}: {exc}"
                query_seconds = time.perf_counter() - query_started
            finally:
                runner.close()
            details = {}
            if isinstance(runner, Newsearch):  # only newsearch has an index (maybe reused) to report on
                details = runner.details()
                warnings.extend(runner.warnings)
            warnings.extend(f"{name}: query {qid} failed ({message})" for qid, message in errors.items())
            rankings[name] = ranked
            figures[name] = {"setup_seconds": setup_seconds, "query_seconds": query_seconds,
                             "ms_per_query": query_seconds / len(queries) * 1000, "errors": errors, **details}

    per_query = []
    for query in queries:
        judgments = qrels.get(query.qid, {})
        judged = relevant_count(judgments) > 0
        row = {"qid": query.qid, "query": query.text, "relevant": relevant_count(judgments), "judged": judged,
               "systems": {}}
        for name, ranked in rankings.items():
            ids = ranked[query.qid]
            row["systems"][name] = {
                "returned": len(ids),
                "ap": average_precision(ids, judgments) if judged else None,
                "ndcg_at_10": ndcg(ids, judgments) if judged else None,
                "p_at_10": precision_at(ids, judgments) if judged else None,
            }
        per_query.append(row)

    judged_rows = [row for row in per_query if row["judged"]]
    if not judged_rows:
        warnings.append("no query has a relevant judgment, so MAP, nDCG@10 and P@10 cannot be computed")
    for name, summary in figures.items():
        zero = [row["qid"] for row in per_query if row["systems"][name]["returned"] == 0]
        summary.update({
            "map": mean([row["systems"][name]["ap"] for row in judged_rows]),
            "ndcg_at_10": mean([row["systems"][name]["ndcg_at_10"] for row in judged_rows]),
            "p_at_10": mean([row["systems"][name]["p_at_10"] for row in judged_rows]),
            "zero_result_queries": len(zero),
            "zero_result_qids": zero,
        })
        # The metrics first, then the timings and details, when printed as JSON.
        figures[name] = {key: summary[key] for key in
                         ("map", "ndcg_at_10", "p_at_10", "zero_result_queries", "zero_result_qids")} | summary

    return {
        "corpus": str(corpus), "queries_file": str(queries_path), "qrels_file": str(qrels_path), "half": half,
        "articles": len(articles), "skipped_files": len(skipped),
        "queries": len(queries), "judged_queries": len(judged_rows), "depth": depth, "cutoff": CUTOFF,
        "systems": figures, "per_query": per_query, "warnings": warnings,
        "read_seconds": read_seconds, "seconds": time.perf_counter() - started,
    }


# ---------------------------------------------------------------- report


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def format_report(result: dict, per_query: bool = False) -> str:
    """The result of ``evaluate`` as a text table (plus per-query nDCG@10 if asked)."""
    lines = [
        f"corpus {result['corpus']}: {result['articles']:,} articles; {result['queries']} queries "
        f"({result['judged_queries']} with relevant judgments)"
        f"{'; the ' + result['half'] + ' half' if result.get('half') else ''}; depth {result['depth']}",
        "",
        f"{'system':<11}{'MAP':>8}{'nDCG@10':>9}{'P@10':>8}{'zero-result queries':>21}{'setup s':>9}{'ms/query':>10}",
    ]
    for name, s in result["systems"].items():
        lines.append(f"{name:<11}{_figure(s['map']):>8}{_figure(s['ndcg_at_10']):>9}{_figure(s['p_at_10']):>8}"
                     f"{s['zero_result_queries']:>21}{s['setup_seconds']:>9.2f}{s['ms_per_query']:>10.2f}")
    lines.append("")
    news = result["systems"].get("newsearch")
    if news:
        where = f"in {news['index']}" if news["index"] else "in a scratch folder"
        lines.append(f"newsearch: index {'reused' if news['index_reused'] else 'built'} {where}; "
                     f"most-of-the-words fallback used for {news['fallback_queries']} of {result['queries']} queries")
    lines.append(f"read the corpus in {result['read_seconds']:.2f}s; {result['seconds']:.2f}s in all")
    if per_query:
        names = list(result["systems"])
        lines += ["", "nDCG@10 per query ('-': no relevant judgment; returned counts in brackets)",
                  f"{'qid':<10}" + "".join(f"{name:>16}" for name in names) + "  query"]
        for row in result["per_query"]:
            cells = "".join(f"{_figure(row['systems'][n]['ndcg_at_10']) + ' (' + str(row['systems'][n]['returned']) + ')':>16}"
                            for n in names)
            text = row["query"] if len(row["query"]) <= 60 else row["query"][:57] + "..."
            lines.append(f"{row['qid']:<10}{cells}  {text}")
    if result["warnings"]:
        lines.append("")
        lines += [f"warning: {message}" for message in result["warnings"]]
    return "\n".join(lines)
