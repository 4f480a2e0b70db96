"""The baselines newsearch is measured against: plain Whoosh, SQLite FTS5 and BM25.

``newsearch evaluate`` ranks judged queries with them, and the benchmark in
``tools/`` times them; both build them from the same articles, read by
``read_corpus`` exactly as the indexer reads them. The moving parts:

* ``read_corpus`` yields every readable article of a corpus folder (and
  notes the files it had to skip);
* ``PlainWhoosh``: Whoosh with its defaults -- StandardAnalyzer ``TEXT``
  fields title, excerpt, body and topics (all stored, so a hit costs what a
  result page costs), ``MultifieldParser`` over them (every word required)
  and BM25F;
* ``Fts5``: SQLite FTS5 (columns title, excerpt, body, topics; tokenizer
  ``porter unicode61 remove_diacritics 2``), every word of the query quoted
  as a term by ``fts5_match`` and all of them required, ranked by ``bm25()``;
* ``Bm25``: plain BM25 with every word optional over one field of title,
  excerpt and body (newsearch's analyzer), optionally with RM3 feedback;
  the reference for long queries, which the two above mostly fail.

All answer ``search(text, depth)`` with article ids, best first, and are
built from any iterable of articles, so a caller timing a build can hand
them ``read_corpus`` itself and time the reading too.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterable, Iterator

from .documents import Article, find_article_files, read_article

FIELDS = ("title", "excerpt", "body", "topics")


def read_corpus(corpus: Path, skipped: list[str] | None = None) -> Iterator[Article]:
    """Every readable article under ``corpus`` as the indexer reads it, in file
    order; the paths of files that cannot be read are appended to ``skipped``."""
    for rel in find_article_files(Path(corpus)):
        article, _problems = read_article(Path(corpus), rel)
        if article is not None:
            yield article
        elif skipped is not None:
            skipped.append(rel)


class PlainWhoosh:
    """Whoosh with its defaults: StandardAnalyzer TEXT fields, MultifieldParser (AND), BM25F."""

    name = "whoosh"

    def __init__(self, folder: Path, articles: Iterable[Article]):
        """Index ``articles`` in ``folder`` (created; it must not exist yet) and open a searcher."""
        from whoosh import fields
        from whoosh import index as whoosh_index
        from whoosh.qparser import MultifieldParser

        schema = fields.Schema(id=fields.ID(stored=True),
                               **{name: fields.TEXT(stored=True) for name in FIELDS})
        Path(folder).mkdir()
        ix = whoosh_index.create_in(str(folder), schema)
        writer = ix.writer()
        for a in articles:
            writer.add_document(id=a.id, title=a.title, excerpt=a.excerpt, body=a.body, topics=", ".join(a.topics))
        writer.commit()
        self.searcher = ix.searcher()
        self.parser = MultifieldParser(list(FIELDS), schema)

    def search(self, text: str, depth: int) -> list[str]:
        return [hit["id"] for hit in self.searcher.search(self.parser.parse(text), limit=depth)]

    def close(self) -> None:
        self.searcher.close()


# The baseline's RM3: 5 documents each weighing by its score (power 1), 40 words in at most 10%
# of the archive, the query weighing 0.5. Fixed, so that tuning newsearch never moves its baseline.
RM3 = {"docs": 5, "terms": 40, "max_share": 0.1, "power": 1.0, "min_documents": 1, "original_weight": 0.5}


class Bm25:
    """Plain BM25 with every word optional, the usual reference for long queries: one
    field of title, excerpt and body (newsearch's analyzer: English stop words and
    Snowball stems), k1 1.2 and b 0.75, each word of the query weighted by how often
    it is typed (no query syntax). With ``rm3``, pseudo-relevance feedback as
    ``feedback`` computes it, from the first pass's best documents, each weighing
    by its score, any word of any of them a candidate: plain RM3 with fixed
    settings (``RM3``), whatever newsearch's own feedback settings are."""

    name = "bm25"

    def __init__(self, folder: Path, articles: Iterable[Article], rm3: bool = False):
        """Index ``articles`` in ``folder`` (created; it must not exist yet) and open a searcher."""
        from whoosh import fields, scoring
        from whoosh import index as whoosh_index

        from .analysis import NewsAnalyzer

        self.rm3 = rm3
        schema = fields.Schema(id=fields.ID(stored=True), text=fields.TEXT(analyzer=NewsAnalyzer()),
                               title=fields.STORED(), body=fields.STORED())
        Path(folder).mkdir()
        ix = whoosh_index.create_in(str(folder), schema)
        writer = ix.writer()
        for a in articles:
            writer.add_document(id=a.id, text="\n".join(filter(None, (a.title, a.excerpt, a.body))),
                                title=a.title, body=a.body)
        writer.commit()
        self.searcher = ix.searcher(weighting=scoring.BM25F(B=0.75, K1=1.2))

    def _query(self, weights: dict[str, float]):
        from whoosh import query as Q

        return Q.Or([Q.Term("text", term, boost=weight) for term, weight in weights.items()])

    def search(self, text: str, depth: int) -> list[str]:
        from collections import Counter

        from . import feedback
        from .analysis import analyze

        weights = {term: float(n) for term, n in Counter(t for t, *_ in analyze(text, mode="query")).items()}
        if not weights:
            return []
        if self.rm3:
            first = self.searcher.search(self._query(weights), limit=RM3["docs"])
            archive = max(self.searcher.doc_count(), 1)
            model = feedback.relevance_model(
                [(feedback.document_terms(hit.fields()), hit.score) for hit in first],
                lambda term: self.searcher.doc_frequency("text", term) / archive, terms=RM3["terms"],
                max_share=RM3["max_share"], power=RM3["power"], min_documents=RM3["min_documents"])
            weights = feedback.interpolate(weights, model, RM3["original_weight"])
        return [hit["id"] for hit in self.searcher.search(self._query(weights), limit=depth)]

    def close(self) -> None:
        self.searcher.close()


def fts5_match(text: str) -> str | None:
    """The FTS5 query for typed text: every word quoted as a term (all
    required, FTS5's default). Double quotes are removed (they would end the
    term); words without a letter or digit are dropped. None when no word is left."""
    words = [w for w in text.replace('"', " ").split() if any(ch.isalnum() for ch in w)]
    return " ".join(f'"{w}"' for w in words) or None


class Fts5:
    """SQLite FTS5 with the porter/unicode61 tokenizer, ranked by bm25().

    The table is ``docs``; an article's rowid is its position in the
    articles it was built from (from 1), and ``ids`` maps rowids back to
    article ids. A subclass can keep more per article by extending
    ``create_tables`` and ``add``.
    """

    name = "fts5"

    def __init__(self, path: Path, articles: Iterable[Article]):
        """Write the articles to a new SQLite database at ``path``."""
        self.db = sqlite3.connect(str(path))
        self.create_tables()
        self.ids: dict[int, str] = {}
        for rowid, article in enumerate(articles, 1):
            self.ids[rowid] = article.id
            self.add(rowid, article)
        self.db.commit()

    def create_tables(self) -> None:
        self.db.execute(f"CREATE VIRTUAL TABLE docs USING fts5({', '.join(FIELDS)}, "
                        "tokenize='porter unicode61 remove_diacritics 2')")

    def add(self, rowid: int, a: Article) -> None:
        self.db.execute("INSERT INTO docs (rowid, title, excerpt, body, topics) VALUES (?, ?, ?, ?, ?)",
                        (rowid, a.title, a.excerpt, a.body, ", ".join(a.topics)))

    def search(self, text: str, depth: int) -> list[str]:
        match = fts5_match(text)
        if match is None:
            return []
        rows = self.db.execute("SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs), rowid LIMIT ?",
                               (match, depth)).fetchall()
        return [self.ids[rowid] for (rowid,) in rows]

    def close(self) -> None:
        self.db.close()
