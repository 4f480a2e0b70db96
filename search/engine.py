"""Searching the index: the one place the faces (CLI, web) get answers from.

The moving parts:

* ``Engine`` owns an open Whoosh searcher on the live generation (in a
  ``state.SearcherState``, with what was read from it once) and
  reopens it when the index changes on disk (a new build swapped in, or an
  update committed), so a long-running server never needs a restart.
* ``Engine.search`` answers a ``SearchRequest`` (``request``, checked when
  it was made): it reads the query (``querying``), applies filters, runs
  it with BM25F (a long query as any of its words, with pseudo-relevance
  feedback from its best matches: ``_expanded``, ``feedback``), falls back
  to "most of the words" when all of them find nothing, tries a spelling
  correction, counts facets over the whole result set, and returns a
  ``SearchResponse`` (``results``: plain data, its ``to_json`` the
  documented schema).
* ``Engine.article`` and ``Engine.similar`` serve the article page;
  ``Engine.suggest`` hands this searcher's labels, titles and vocabulary to
  ``suggestions``; ``Engine.health`` and ``Engine.stats`` to ``status``.

Every index access goes through here, so the index can later be split
(for example by year) or served differently without touching the faces.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from whoosh import query as Q
from whoosh.matching.mcore import NullMatcherClass
from whoosh.matching.wrappers import FilterMatcher, WrappingMatcher

from . import highlighting, stories, status, suggestions
from .phrases import phrase_scores
from .ranking import VERBOSE_B, VERBOSE_K1, NewsBM25, priors, term_scores
from .schema import DEFAULT_FIELD
from .sorted_sets import common, common_at, isin_sorted, places, union
from .analysis import STOP_WORDS, analyze, fold
from . import feedback
from .querying import (LONG_QUERY_WORDS, Note, Synonyms, cut_text, filter_query, loosen, parse, query_weights,
                       reweighted, synonyms_file, verbose, wanted_count)
from .request import SearchRequest
from .results import SNIPPET_SOURCE_CHARS, Hit, SearchResponse, hit_of, iso_utc
from .state import Lane, SearcherState
from .turns import checkpoint, taking_turns
from .store import IndexHome, IndexUnreadable


STREAM_CHUNK = 100  # stored fields read at a time when streaming every result (Engine.stream)


class Engine:
    """Search over the index in ``index_path`` (an ``IndexHome`` folder). Safe to share between threads."""

    def __init__(self, index_path: Path | str, *, recheck_seconds: float = 0.5,
                 recency_weight: float | None = None, recency_half_life_days: float | None = None,
                 synonyms: Path | str | None = None, time_budget: float | None = None):
        self.home = IndexHome(index_path)
        # Seconds a search may take scoring matches one by one before it answers with what it has.
        self.time_budget = _setting(time_budget, "NEWSEARCH_TIME_BUDGET", DEFAULT_TIME_BUDGET)
        self.recheck_seconds = recheck_seconds
        # A gentle boost for newer articles among equally relevant ones (see ranking.priors).
        self.recency_weight = _setting(recency_weight, "NEWSEARCH_RECENCY_WEIGHT", DEFAULT_RECENCY_WEIGHT)
        self.recency_half_life_days = _setting(recency_half_life_days, "NEWSEARCH_RECENCY_HALF_LIFE_DAYS",
                                               DEFAULT_RECENCY_HALF_LIFE_DAYS)
        self.synonyms_path = synonyms  # None: NEWSEARCH_SYNONYMS or the shipped list
        self._lock = threading.Lock()  # guards reopening
        # The open searcher and what was read from it, replaced when the index changes.
        self._shared: SearcherState | None = None
        # Each thread's lane on it (its own Whoosh searcher), taken again after a reopen.
        # A method asks for it once (``state()``), so it sees one state throughout.
        self._local = threading.local()
        self._generation: Path | None = None
        self._checked = 0.0
        self._synonyms_read: tuple[int | None, Synonyms] | None = None  # (file mtime, its synonyms)

    # ------------------------------------------------------------ searcher

    def searcher(self):
        """The current searcher, reopened if the index changed on disk."""
        return self.state().searcher

    @property
    def _state(self) -> Lane:
        """This thread's lane, as the last ``state()`` call of this thread left it."""
        return self._local.lane

    def state(self) -> Lane:
        """This thread's searcher with what was read from the index, reopened if the index changed on disk."""
        shared = self._current()
        lane = getattr(self._local, "lane", None)
        if lane is None or lane.state is not shared:
            if lane is not None:
                lane.close()
            lane = self._local.lane = shared.lane()
        return lane

    def _current(self) -> SearcherState:
        now = time.monotonic()
        if self._shared is not None and now - self._checked < self.recheck_seconds:
            return self._shared
        with self._lock:
            self._checked = now
            gen = self.home.require_current()
            if self._shared is None or gen != self._generation or not self._shared.searcher.up_to_date():
                # A new searcher rather than Searcher.refresh(), which closes
                # the old one under requests still using it; the old one is
                # left to the garbage collector.
                try:
                    self._install(SearcherState.open(gen))
                except Exception as exc:
                    self._checked = 0.0  # a generation that cannot open is tried, and reported, on every call
                    raise IndexUnreadable(gen, exc) from exc
            return self._shared

    def _install(self, state: SearcherState) -> None:
        """Swap in a new searcher. Its state (facets, dates, length norms) was
        read when it was made, before requests see it, so reopening never
        slows a request down."""
        self._shared, self._generation = state, state.generation

    @taking_turns
    def warm(self) -> int:
        """Open the searcher now (with its caches); returns the document count."""
        return self.searcher().doc_count()

    def close(self) -> None:
        with self._lock:
            if (lane := getattr(self._local, "lane", None)) is not None:
                lane.close()
                self._local.lane = None
            if self._shared is not None:
                self._shared.close()
                self._shared = None

    def _synonyms(self) -> Synonyms:
        """The synonyms file, read again when it changes."""
        path = synonyms_file(self.synonyms_path)
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            stamp = None
        if self._synonyms_read is None or self._synonyms_read[0] != stamp:
            self._synonyms_read = (stamp, Synonyms.load(path))
        return self._synonyms_read[1]

    # ------------------------------------------------------------ search

    @taking_turns
    def search(self, request: SearchRequest) -> SearchResponse:
        """Answer ``request`` (already checked when it was made; typed text is never an error).

        ``collapse`` shows each story once, with its other copies in ``duplicates``.
        ``correct`` lets a spelling correction replace a query that finds nothing
        (it is still offered as a suggestion when ``correct`` is False)."""
        return self._answer(request)[0]

    @taking_turns
    def stream(self, request: SearchRequest, chunk: int = STREAM_CHUNK) -> tuple[SearchResponse, "Iterator[Hit]"]:
        """Every result of ``request`` in rank order, without the page cap: the response
        (total, notes, facets...; its ``hits`` empty) and an iterator of its hits. Matches
        are scored and ranked once, as numbers; the hits' stored fields are read
        ``chunk`` at a time as the iterator is consumed, so memory does not grow with
        the stored fields of the results. The iterator reads them with a searcher of
        its own on the segments it ranked (closed when it ends), so an index swapped in
        meanwhile does not mix two archives."""
        response, results, terms = self._answer(request, everything=True)
        return response, self._hits_of(self._state.state, results.ranked, terms, chunk)

    @staticmethod
    def _hits_of(state: SearcherState, ranked, terms: frozenset[str], chunk: int) -> "Iterator[Hit]":
        if ranked is None or not len(ranked[0]):
            return
        docnums, scores, copies = ranked
        lane = state.lane()
        try:
            for start in range(0, len(docnums), chunk):
                hits = [hit_of(lane.searcher.stored_fields(docnum), score, terms, state.facets, copies.get(docnum))
                        for docnum, score in zip(docnums[start:start + chunk].tolist(),
                                                 scores[start:start + chunk].tolist())]
                yield from hits
        finally:
            lane.close()

    def _answer(self, request: SearchRequest, everything: bool = False) -> tuple[SearchResponse, "_Results", frozenset]:
        """``search``'s answer, with the results it came from and the words it marks;
        ``everything``: rank every result (``_Results.ranked``) and read no page of hits."""
        started = time.perf_counter()
        text, topics, sources, now = request.text, request.topics, request.sources, request.now
        sort, page, page_size = request.sort, request.page, request.page_size
        searcher = self.searcher()
        synonyms = self._synonyms() if request.synonyms else None  # None: exactly the typed words
        reading = parse(text, self._state, now=now, synonyms=synonyms)
        since = max(filter(None, (request.since_at, reading.since)), default=None)
        until = min(filter(None, (request.until_at, reading.until)), default=None)
        scope = _Scope()
        if filters := filter_query(self._state, topics=topics, sources=sources):
            scope.restrict_to(_filter_mask(searcher, Q.And(filters), self._state.facets))
        if since or until:
            scope.restrict_to(self._state.facets.date_mask(_naive(since), _naive(until)))
        response = SearchResponse(
            text=text, read_as=reading.read_as, notes=list(reading.notes), fallback=False,
            filters={"topics": list(topics), "sources": list(sources), "since": iso_utc(since), "until": iso_utc(until)},
            sort=sort, total=0, page=page, page_size=page_size,
        )
        q = reading.query
        if q is Q.NullQuery:
            if scope.mask is None:
                response.took_ms = (time.perf_counter() - started) * 1000
                return response, _Results(0, [], response.facets, response.timeline), frozenset()
            q = Q.Every()  # filters alone: browse them, newest first by default
            if sort == "relevance":
                sort = response.sort = "newest"
        long_query = wanted_count(q) >= LONG_QUERY_WORDS
        deadline = time.monotonic() + self.time_budget
        shown = None  # a long query's words as typed, highlighted rather than the words feedback added
        # A long query's reading is scored with BM25 parameters of its own (``ranking.VERBOSE_K1``).
        weighting = searcher.weighting.retuned(VERBOSE_K1, VERBOSE_B) if long_query else searcher.weighting
        if long_query:
            # A sentence rarely has all its words in one article: any may match, and the best
            # matches lend it the words its answers use (pseudo-relevance feedback).
            shown = q = verbose(reading) or q
            q = _expanded(searcher, q, scope, self._state.facets.live, deadline, weighting)
            checkpoint()
            response.notes.append(Note("long_query", "A long query: articles need not have all of its words, "
                                                     "and words from the best matches help rank them."))
        run = functools.partial(self._run, searcher, scope=scope, sort=sort, page=page, page_size=page_size,
                                collapse=request.collapse, deadline=deadline, everything=everything,
                                weighting=weighting)
        results, q, fell_back = self._with_fallback(run, q, reading)
        corrected, missing, confident = (self._correction(cut_text(text)) if text and time.monotonic() < deadline
                                         else (None, [], False))
        if corrected:
            better = parse(corrected, self._state, now=now, synonyms=synonyms)
            first = better_shown = better.query
            if long_query:
                better_shown = verbose(better) or first
                first = _expanded(searcher, better_shown, scope, self._state.facets.live, deadline, weighting)
            found, better_q, better_fell_back = self._with_fallback(run, first, better)
            # A sure correction that reads as the same words (``developement``, ``development``:
            # both ``develop``) finds the same articles: offered, so the reader sees the spelling.
            same_words = confident and found.total > 0 and better.query == reading.query
            if same_words or _standing(found, better_fell_back) > _standing(results, fell_back):
                # Applied only when every change is a confident one and the typed query found
                # nothing with all its words; otherwise only offered ("did you mean").
                applied = request.correct and confident and (results.total == 0 or (fell_back and not better_fell_back))
                response.spelling = {"corrected": corrected, "applied": applied, "typed_total": results.total}
                if applied:
                    results, q, fell_back = found, better_q, better_fell_back
                    shown = better_shown if long_query else None
                    response.read_as = better.read_as
                    response.notes.append(Note("spelling_applied", f"No results for '{text}'; showing results for '{corrected}'."))
        if missing:
            # A real word the archive lacks is not a typo: say so rather than replace it.
            listed = ", ".join(f"'{word}'" for word in missing)
            response.notes.append(Note("unknown_word", f"The archive has nothing for {listed}."))
        if results.partial:
            response.partial = True
            response.notes.append(Note("partial", f"The search took longer than {self.time_budget:g} s; its count, "
                                                  "facets and results come from part of the archive."))
        if fell_back:
            response.fallback = True
            response.notes.append(Note("fallback",
                                        "No article has all of the words; showing articles that match most of them."))
        checkpoint()
        response.total = results.total
        response.articles = results.articles
        terms = highlighting.query_terms(q if shown is None or fell_back else shown)
        response.hits = [self._hit(searcher, docnum, score, terms, others)
                         for docnum, score, others in results.page_hits]
        response.facets = results.facets
        response.timeline = results.timeline
        response.took_ms = (time.perf_counter() - started) * 1000
        return response, results, terms

    @staticmethod
    def _with_fallback(run, q: Q.Query, reading) -> tuple["_Results", Q.Query, bool]:
        """Run ``q``; if it needs every word and finds nothing, run the loosened query instead."""
        results = run(q)
        if results.total == 0 and q is reading.query and (loose := loosen(reading)) is not None:
            fallback = run(loose)
            if fallback.total:
                return fallback, loose, True
        return results, q, False

    def _correction(self, text: str) -> tuple[str | None, list[str], bool]:
        """``text`` with unknown or rare words replaced by their likeliest corrections (None if
        none is), the typed words that no article has and that no confident correction replaces,
        and whether every correction is confident enough to replace what was typed. A word
        typed with a capital (``Nadal``, not ``NADAL``) is taken for a name: offered at most."""
        words = self._state.vocabulary
        changed, confident = False, True
        missing: list[str] = []
        said: set[str] = set()

        def fix(match: re.Match) -> str:
            nonlocal changed, confident
            word = match.group()
            folded = fold(word)
            if folded in STOP_WORDS or word in ("AND", "OR", "NOT") or words.count(folded) >= RARE_WORD:
                return word
            better = words.correction(folded)
            sure = better is not None and better.confident and not (word[:1].isupper() and not word.isupper())
            if better is not None:
                changed, confident = True, confident and sure
            if not sure and not words.count(folded) and folded not in said and not self._indexed(folded):
                said.add(folded)
                missing.append(word)
            return better.word if better else word

        corrected = _WORD.sub(fix, text)
        return (corrected if changed else None), missing, changed and confident

    def _indexed(self, word: str) -> bool:
        """Does any article have ``word`` (as the index has it: ``elephants`` for ``elephant``)?"""
        searcher = self._state.searcher
        return any(searcher.doc_frequency(DEFAULT_FIELD, term) for term, *_ in analyze(word, mode="query"))

    def _run(self, searcher, q: Q.Query, *, scope: "_Scope", sort: str, page: int, page_size: int,
             collapse: bool, deadline: float = math.inf, everything: bool = False,
             weighting: NewsBM25 | None = None) -> "_Results":
        """One pass over every match to score it; then, on arrays, count and facet the
        matches, collapse copies and rank the page (``everything``: rank every result, in
        ``_Results.ranked``, and leave the page empty)."""
        table = self._state.facets
        docnums, scores, partial = _score_all(searcher, q, scope, table.live, deadline, weighting)
        if not len(docnums):
            return _Results(0, [], table.count(docnums), table.timeline(docnums), partial)
        scores *= priors(table, self.recency_weight, self.recency_half_life_days)[docnums]
        kept, copies = stories.collapse(scores, docnums, table.stories) if collapse else (None, stories.NO_COPIES)
        groups, group_scores = (docnums, scores) if kept is None else (docnums[kept], scores[kept])
        if everything:
            ranked = _ranked(groups, group_scores, table, sort, len(groups))
            return _Results(total=len(groups), page_hits=[], facets=table.count(docnums),
                            timeline=table.timeline(docnums), partial=partial, articles=len(docnums),
                            ranked=(groups[ranked], group_scores[ranked], copies))
        ranked = _ranked(groups, group_scores, table, sort, page * page_size)[(page - 1) * page_size:]
        page_hits = [(docnum, score, copies.get(docnum))
                     for docnum, score in zip(groups[ranked].tolist(), group_scores[ranked].tolist())]
        return _Results(total=len(groups), page_hits=page_hits, facets=table.count(docnums),
                        timeline=table.timeline(docnums), partial=partial, articles=len(docnums))

    def _hit(self, searcher, docnum: int, score: float, terms: frozenset[str], others=()) -> Hit:
        return hit_of(searcher.stored_fields(docnum), score, terms, self._state.facets, others)

    # ------------------------------------------------------------ articles and stats

    @taking_turns
    def article(self, doc_id: str) -> dict | None:
        stored = self.searcher().document(id=doc_id)
        if stored is None:
            return None
        details = stored.get("details") or {}
        return {
            "id": stored["id"], "path": stored.get("path"), "title": stored.get("title", ""),
            "excerpt": stored.get("excerpt", ""), "body": stored.get("body", ""),
            "url": stored.get("url", ""), "original_url": details.get("original_url", ""),
            "provider": {"name": stored.get("source", ""), "domain": stored.get("domain", "")},
            "published": iso_utc(stored.get("published")), "updated": details.get("updated"),
            "topics": list(stored.get("topic") or []), "image": stored.get("image", ""),
            "category": stored.get("category", ""), "type": stored.get("type", ""),
            "quality": stored.get("quality"), "heat": stored.get("heat"),
            "published_flag": details.get("published_flag"), "related": details.get("related", []),
            "extra": details.get("extra", {}),
        }

    @taking_turns
    def similar(self, doc_id: str, limit: int = 5) -> list[Hit] | None:
        """Articles like ``doc_id`` by its key terms (Whoosh's more-like-this), without
        the article itself or its copies (the same story); None if the id is unknown."""
        searcher = self.searcher()
        docnum = searcher.document_number(id=doc_id)
        if docnum is None:
            return None
        stored = searcher.stored_fields(docnum)
        text = "\n".join((stored.get("title", ""), stored.get("excerpt", ""), stored.get("body", "")[:SNIPPET_SOURCE_CHARS]))
        table = self._state.facets
        story = table.stories[docnum]
        found = searcher.more_like(docnum, DEFAULT_FIELD, text=text, top=limit + SIMILAR_SPARE, numterms=12)
        hits = [(hit.docnum, hit.score or 0.0) for hit in found
                if hit.docnum != docnum and (story < 0 or table.stories[hit.docnum] != story)]
        return [self._hit(searcher, number, score, frozenset()) for number, score in hits[:limit]]

    @taking_turns
    def suggest(self, prefix: str, limit: int = 8) -> list[dict]:
        """Completions for what has been typed so far: topics, sources, titles and words."""
        text = suggestions.typed(prefix)
        if not text:
            return []
        state = self.state()
        return suggestions.complete(text, limit, labels={kind: state.labels(kind) for kind in ("topic", "source")},
                                    table=state.facets, vocabulary=state.vocabulary)

    @taking_turns
    def explain_empty(self, request: SearchRequest, response: SearchResponse) -> list:
        """Why ``response`` (to ``request``) found nothing (``explain.empty_result``: the filters in
        force, the archive's date span, the way out); [] when it found something. When filters
        were in force beside words, the words are searched again without them to say what
        dropping the filters would find."""
        from . import explain

        if response.total:
            return []
        state = self.state()
        without = None
        filtered = request.topics or request.sources or request.since or request.until
        if response.text.strip() and filtered and state.searcher.doc_count():
            without = self.search(SearchRequest(response.text, page_size=1, now=request.now,
                                                correct=request.correct)).total
        return explain.empty_result(request, response, state.facets.span(), documents=state.searcher.doc_count(),
                                    labels={kind: state.labels(kind) for kind in ("topic", "source", "domain")},
                                    total_without_filters=without, now=request.now)

    @taking_turns
    def health(self) -> dict:
        """For monitoring: is there an index, how big, how fresh."""
        lane = self.state()
        return status.health(lane.searcher, lane.generation)

    @taking_turns
    def stats(self, top: int = 10) -> dict:
        lane = self.state()
        table = lane.facets
        return status.stats(lane.searcher, lane.generation, self.home.path, top, span=table.span(),
                            counts=table.count(np.flatnonzero(table.live), size=top))


@dataclass
class _Results:
    total: int
    page_hits: list
    facets: dict
    timeline: dict
    partial: bool = False  # the time budget ran out before every match was scored
    articles: int = 0  # the matching articles, every copy counted (``total`` counts stories when collapsed)
    ranked: tuple | None = None  # everything: (docnums, scores, copies) of every result in rank order


@dataclass
class _Scope:
    """Which documents may match: a boolean mask over document numbers (None: any)."""

    mask: np.ndarray | None = None

    def restrict_to(self, mask: np.ndarray) -> None:
        self.mask = mask if self.mask is None else self.mask & mask


def _standing(results: "_Results", fell_back: bool) -> tuple[int, int]:
    """How good an answer is: nothing < only most of the words < all of them; then how many."""
    if not results.total:
        return (0, 0)
    return (1 if fell_back else 2, results.total)


def _score_all(searcher, q: Q.Query, scope: _Scope, live: np.ndarray | None = None,
               deadline: float = math.inf, weighting: NewsBM25 | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """The document numbers matching ``q`` within ``scope`` (ascending), their BM25F
    scores (by ``weighting``, else the searcher's), and whether the ``deadline``
    (``time.monotonic()``) stopped it before the last segment's last match (a partial
    answer); ``live`` marks the documents not deleted."""
    if isinstance(q, Q.Every) and scope.mask is not None and live is not None:
        # Browsing filters: every allowed live document, each scoring what Whoosh's Every gives (1).
        docnums = np.flatnonzero(scope.mask & live)
        return docnums, np.ones(len(docnums), dtype=np.float64), False
    found: list[int] = []
    scored: list[float] = []
    allowed = scope.mask.tobytes() if scope.mask is not None else None  # bytes: the fastest test per match
    context = searcher.context(weighting=weighting or searcher.weighting)
    whole: list[tuple[np.ndarray, np.ndarray]] = []  # segments scored at once (one or two words)
    partial = False
    for sub, offset in searcher.leaf_searchers():
        checkpoint()
        if time.monotonic() > deadline:
            partial = True
            break
        segment_live = live[offset:offset + sub.reader().doc_count_all()] if live is not None else None
        try:
            _searching.deadline = deadline
            at_once = _scored_at_once(q, sub, context, segment_live) if segment_live is not None else None
        except _OutOfTime:
            partial = True
            break
        finally:
            _searching.deadline = math.inf  # only while this search scores
        if at_once is not None:
            whole.append((at_once[0] + offset, at_once[1]))
            continue
        if not _walk(q.matcher(sub, context), offset, allowed, deadline, found, scored):
            partial = True
            break
    docnums = np.concatenate([np.array(found, dtype=np.int64)] + [d for d, _ in whole])
    scores = np.concatenate([np.array(scored, dtype=np.float64)] + [s for _, s in whole])
    if whole:
        if found:  # else the segments' numbers, in segment order, are ascending already
            order = np.argsort(docnums, kind="stable")
            docnums, scores = docnums[order], scores[order]
        if scope.mask is not None:
            inside = scope.mask[docnums]
            docnums, scores = docnums[inside], scores[inside]
    return docnums, scores, partial


def _expanded(searcher, q: Q.Query, scope: _Scope, live: np.ndarray | None, deadline: float,
              weighting: NewsBM25 | None = None) -> Q.Query:
    """A long query's ``verbose`` reading with RM3 feedback (``feedback``): its best
    ``FEEDBACK_DOCS`` matches (within ``scope``) lend it their most telling words.
    ``q`` as it was if it is not such a reading, finds nothing, or time ran out."""
    original = query_weights(q)
    if not original or not feedback.FEEDBACK_DOCS or not feedback.FEEDBACK_TERMS:
        return q
    docnums, scores, partial = _score_all(searcher, q, scope, live, deadline, weighting)
    if partial or not len(docnums) or time.monotonic() > deadline:
        return q
    wanted = min(feedback.FEEDBACK_DOCS, len(scores))
    best = _ranked(docnums, scores, None, "relevance", wanted)
    documents = [(feedback.document_terms(searcher.stored_fields(int(docnums[i]))), float(scores[i])) for i in best]
    archive = max(searcher.doc_count(), 1)
    model = feedback.relevance_model(documents, lambda term: searcher.doc_frequency(DEFAULT_FIELD, term) / archive)
    # Parts that are not single words (phrases, synonym groups) keep a weight of 1 in the mix.
    others = _part_count(q) - len(original)
    mixed = feedback.interpolate({**original, **{f"\x00{n}": 1.0 for n in range(others)}}, model)
    return reweighted(q, {term: weight for term, weight in mixed.items() if not term.startswith("\x00")})


def _part_count(q: Q.Query) -> int:
    while isinstance(q, (Q.AndNot, Q.AndMaybe)):
        q = q.a
    return len(q.subqueries) if type(q) is Q.Or else 0


CLOCK_EVERY = 2048  # matches walked between looks at the clock


def _walk(matcher, offset: int, allowed: bytes | None, deadline: float, found: list[int], scored: list[float]) -> bool:
    """Add each match of ``matcher`` (one segment's, numbered from ``offset``) that
    ``allowed`` allows to ``found``, its score to ``scored``; False if the deadline
    passed first."""
    # This loop runs once per match: methods are bound once, and the
    # common unfiltered case has a loop of its own.
    is_active, current, score, advance = matcher.is_active, matcher.id, matcher.score, matcher.next
    add, note = found.append, scored.append
    walked = 0
    if allowed is None:
        while is_active():
            add(current() + offset)
            note(score())
            advance()
            walked += 1
            if not walked % CLOCK_EVERY:
                checkpoint()
                if time.monotonic() > deadline:
                    return False
        return True
    while is_active():
        docnum = current() + offset
        if allowed[docnum]:
            add(docnum)
            note(score())
        advance()
        walked += 1
        if not walked % CLOCK_EVERY:
            checkpoint()
            if time.monotonic() > deadline:
                return False
    return True


def _filter_mask(searcher, q: Q.Query, table) -> np.ndarray:
    """The documents matching a filter of exact values (``querying.filter_query``): from the
    facet table's arrays for terms and their ANDs and ORs, from Whoosh for anything else."""
    if isinstance(q, Q.Term) and (mask := table.having(q.fieldname, q.text)) is not None:
        return mask
    if isinstance(q, (Q.And, Q.Or)) and q.subqueries:
        masks = [_filter_mask(searcher, part, table) for part in q.subqueries]
        return functools.reduce(np.logical_and if isinstance(q, Q.And) else np.logical_or, masks)
    mask = np.zeros(table.size, dtype=bool)
    mask[np.fromiter(searcher.docs_for_query(q), np.int64)] = True
    return mask


def _scored_at_once(q: Q.Query, sub, context, live: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(docnums, scores) in one segment of a word or a phrase, of several of them
    that must all appear, or any of which may (``Or``, as synonyms expand), from
    whole posting lists (``ranking.term_scores``,
    ``phrases.phrase_scores``); None for any other query. ``live`` marks the
    segment's documents that are not deleted."""
    if not (isinstance(q, Q.And) and q.boost == 1 and q.subqueries):
        return _part_scores(q, sub, context, live)
    parts = [_part_scores(part, sub, context, live) for part in q.subqueries]
    if any(part is None for part in parts):
        return None
    docnums = functools.reduce(lambda a, b: common(a, b, len(live)), [found for found, _ in parts])
    scores = [part_scores[np.searchsorted(found, docnums)] for found, part_scores in parts]
    weights = [-part.estimate_size(sub.reader()) for part in q.subqueries]
    return docnums, _added_as_whoosh_adds(weights, scores)


def _added_as_whoosh_adds(weights: list[int], parts: list[np.ndarray]) -> np.ndarray:
    """The parts' sum in the order Whoosh's ``And`` (or ``Or``) adds them: it nests its
    intersection (union) matchers as a Huffman tree of the parts' weights
    (``make_weighted_tree``), and a sum of floats depends on that nesting
    (``a + b`` does not depend on the order of the two). Ties keep their order:
    Whoosh's matchers never compare less than one another, so its sort is
    stable among equal weights and ``insort`` puts a new node after them."""
    pending = [(weight, parts[number]) for weight, number in sorted(zip(weights, range(len(parts))))]
    while len(pending) > 1:
        (first_weight, first), (second_weight, second) = pending.pop(0), pending.pop(0)
        bisect.insort(pending, (first_weight + second_weight, first + second), key=lambda item: item[0])
    return pending[0][1]


class _OutOfTime(Exception):
    """A segment scored at once ran past the search's deadline (a partial answer)."""


# The deadline of the search this thread is scoring, for ``_part_scores`` (set by ``_score_all``).
_searching = threading.local()


def _part_scores(q: Q.Query, sub, context, live: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    checkpoint()  # a query of hundreds of words is long work: give others their turn between parts
    if time.monotonic() > getattr(_searching, "deadline", math.inf):
        raise _OutOfTime  # a search in the background pauses at each part: it must still end in its budget
    term_scores_of = lambda term: _live_term_scores(term.matcher(sub, context), live)  # noqa: E731
    if isinstance(q, (Q.Term, Q.Phrase)) and q.boost != 1:
        # A boosted word or phrase (a synonym): Whoosh wraps its matcher, scoring it times the boost.
        found = _part_scores(q.with_boost(1.0), sub, context, live)
        return None if found is None else (found[0], found[1] * q.boost)
    if isinstance(q, Q.Term) and q.boost == 1:
        return term_scores_of(q)
    if type(q) is Q.Term:
        return _boosted_term_scores(q, sub, context, live)
    if isinstance(q, Q.Phrase):
        return phrase_scores(q, sub, context, term_scores_of)
    if type(q) is Q.Or and q.subqueries:
        if len(q.subqueries) == 1:  # Whoosh matches a one-part Or as its part, boost and all ignored
            return _part_scores(q.subqueries[0], sub, context, live)
        return _any_of(q, sub, context, live)
    if type(q) is Q.AndMaybe and q.boost == 1:
        return _maybe_also(q, sub, context, live)
    if type(q) is Q.AndNot and q.boost == 1:
        return _all_but(q, sub, context, live)
    return None


def _all_but(q: Q.AndNot, sub, context, live: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``a ANDNOT b`` at once: ``a``'s documents that ``b`` does not match, each scoring
    what ``a`` gives it (``AndNotMatcher.score``; ``b`` only excludes)."""
    kept, excluded = _part_scores(q.a, sub, context, live), _part_scores(q.b, sub, context, live)
    if kept is None or excluded is None:
        return None
    outside = ~isin_sorted(kept[0], excluded[0], len(live))
    return kept[0][outside], kept[1][outside]


def _maybe_also(q: Q.AndMaybe, sub, context, live: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``a ANDMAYBE b`` at once: ``a``'s documents, each scoring ``a + b`` where ``b``
    matches it too and ``a`` alone elsewhere (``AndMaybeMatcher.score``)."""
    first, second = _part_scores(q.a, sub, context, live), _part_scores(q.b, sub, context, live)
    if first is None or second is None:
        return None
    docnums, scores = first
    both, in_first, in_second = common_at(docnums, second[0], len(live))
    scores = scores.copy()
    scores[in_first] = scores[in_first] + second[1][in_second]
    return docnums, scores


def _any_of(q: Q.Or, sub, context, live: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(docnums, scores) of an ``Or`` of parts scored at once, each document's score
    the sum of its parts' added as Whoosh adds them: Whoosh picks a matcher for an
    ``Or`` (``Or._matcher``) that either nests unions as a Huffman tree of the parts'
    sizes or adds the parts into an array one after another, in order. A part a
    document lacks counts 0.0, which leaves any sum's bits as they were."""
    parts = [_part_scores(part, sub, context, live) for part in q.subqueries]
    if any(part is None for part in parts):
        return None
    docnums = union([found for found, _ in parts], len(live))
    place = places(docnums, len(live))
    leaves = []
    for found, scores in parts:
        leaf = np.zeros(len(docnums), dtype=np.float64)
        leaf[place[found]] = scores
        leaves.append(leaf)
    subs, boost = q.subqueries, q.boost
    one_by_one = len(subs) >= Q.Or.TOO_MANY_CLAUSES or not (
        context.needs_current or q.scale or len(subs) == 2 or sub.doc_count_all() > 5000)
    if one_by_one:  # PreloadedOr: each part's score times the boost, added into an array in turn
        return docnums, functools.reduce(lambda total, leaf: total + leaf * boost, leaves, np.zeros(len(docnums)))
    total = _added_as_whoosh_adds([part.estimate_size(sub.reader()) for part in subs], leaves)  # DefaultOr
    if boost != 1:
        total = total * boost  # its WrappingMatcher
    if q.scale:
        return _coordinated(q, sub, context, live, docnums, total, leaves)
    return docnums, total


def _coordinated(q: Q.Or, sub, context, live: np.ndarray, docnums: np.ndarray, total: np.ndarray,
                 leaves: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """An ``Or`` with a ``scale`` (the loose reading of a long query): Whoosh wraps its
    matcher in a ``CoordMatcher``, which rewards documents matching more of its words
    (``CoordMatcher._sqr``), the same operations here. For an ``Or`` of words, phrases
    and ``Or``s of them (synonyms, prefixes), whose term matchers are the words the
    segment has (a phrase's, one per word)."""
    counted = [_words_matching(part, sub, context, live, docnums) for part in q.subqueries]
    if any(found is None for found in counted):
        return None
    termcount = sum(words for words, _ in counted)
    scale = q.scale
    if termcount <= 1 or termcount == scale:
        return docnums, total
    matching = functools.reduce(np.add, [found for _, found in counted])
    return docnums, (total + ((matching - 1) / (termcount - scale) ** 2)) * ((termcount - 1) / termcount)


def _words_matching(q: Q.Query, sub, context, live: np.ndarray,
                    docnums: np.ndarray) -> tuple[int, np.ndarray] | None:
    """How many term matchers ``q`` makes in this segment, and how many of them match
    each of ``docnums`` (Whoosh's ``matching_terms``); None for anything but words,
    phrases and ``Or``s of them."""
    if isinstance(q, Q.Term):
        matcher = q.with_boost(1.0).matcher(sub, context)  # a boost changes the score, not what matches
        if isinstance(matcher, NullMatcherClass):
            return 0, np.zeros(len(docnums), dtype=np.int64)
        found = _live_term_scores(matcher, live)
        return None if found is None else (1, isin_sorted(docnums, found[0], len(live)).astype(np.int64))
    if isinstance(q, Q.Phrase):
        found = _part_scores(q, sub, context, live)
        if found is None:
            return None
        if isinstance(q.matcher(sub, context), NullMatcherClass):  # a word the segment lacks
            return 0, np.zeros(len(docnums), dtype=np.int64)
        return len(q.words), isin_sorted(docnums, found[0], len(live)).astype(np.int64) * len(q.words)
    if type(q) is Q.Or and q.subqueries:
        counted = [_words_matching(part, sub, context, live, docnums) for part in q.subqueries]
        if any(found is None for found in counted):
            return None
        return sum(words for words, _ in counted), functools.reduce(np.add, [found for _, found in counted])
    return None


def _boosted_term_scores(q: Q.Term, sub, context, live: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """A word with a boost (a long query's weights): Whoosh wraps its postings in a
    ``WrappingMatcher`` whose score is the posting's times the boost, the same here."""
    matcher = q.matcher(sub, context)
    if isinstance(matcher, NullMatcherClass):
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    if type(matcher) is not WrappingMatcher or matcher.boost != q.boost:
        return None
    found = _live_term_scores(matcher.child, live)
    return None if found is None else (found[0], found[1] * matcher.boost)


def _live_term_scores(matcher, live: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``term_scores`` of a term's matcher; in a segment with deletions Whoosh wraps the
    postings in a ``FilterMatcher`` (its score is the child's times a boost of 1),
    so the child's postings are read and the deleted documents dropped here. A word
    the segment lacks (Whoosh's ``NullMatcher``) has no postings."""
    if isinstance(matcher, NullMatcherClass):
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    filtered = isinstance(matcher, FilterMatcher) and matcher.boost == 1
    found = term_scores(matcher.child if filtered else matcher)
    if found is None or not filtered:
        return found
    kept = live[found[0]]
    return found[0][kept], found[1][kept]


def _ranked(docnums: np.ndarray, scores: np.ndarray, table, sort: str, wanted: int) -> np.ndarray:
    """Positions of the first ``wanted`` of ``docnums`` in ``sort`` order.

    Relevance: highest score first, ties to the lower docnum. Newest: latest
    first, ties to the lower docnum; oldest: earliest first, ties to the
    higher docnum. Undated articles go last either way.
    """
    if sort == "relevance":
        candidates = np.arange(len(scores))
        if len(scores) > wanted:
            threshold = np.partition(scores, len(scores) - wanted)[len(scores) - wanted]
            candidates = np.flatnonzero(scores >= threshold)
        return candidates[np.lexsort((docnums[candidates], -scores[candidates]))][:wanted]
    undated = ~table.dated[docnums]
    stamps = np.where(undated, 0, table.stamps[docnums])
    if sort == "newest":
        return np.lexsort((docnums, -stamps, undated))[:wanted]
    return np.lexsort((-docnums, stamps, undated))[:wanted]


SIMILAR_SPARE = 10  # extra candidates, so excluding copies still leaves enough
RARE_WORD = 50  # a word seen fewer times than this may be a typo (archives have typos too)
_WORD = re.compile(r"(?<![\w:*])[^\W\d_]{3,}(?![\w*:])")
DEFAULT_TIME_BUDGET = 2.0
DEFAULT_RECENCY_WEIGHT = 0.05  # chosen with the evaluation: 0.05 helps a little, 0.2 costs
DEFAULT_RECENCY_HALF_LIFE_DAYS = 365.0


def _setting(value: float | None, variable: str, default: float) -> float:
    if value is not None:
        return float(value)
    try:
        return float(os.environ.get(variable, default))
    except ValueError:
        return default


def _naive(stamp: dt.datetime | None) -> dt.datetime | None:
    return stamp.astimezone(dt.timezone.utc).replace(tzinfo=None) if stamp else None
