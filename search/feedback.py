"""Pseudo-relevance feedback for long queries: RM3.

A long, natural-language query names its subject in a few of its words and
leaves out most of the words its answers use. RM3 (Lavrenko and Croft's
relevance model, interpolated with the query as in Abdul-Jaleel et al.,
UMass at TREC 2004; the form Anserini uses beside BM25) takes the best
``FEEDBACK_DOCS`` matches of a first pass as a sample of what is wanted:

* each feedback document's words, as a distribution ``tf / length``, are
  weighted by its share of the feedback documents' scores, each raised to
  ``SCORE_POWER``, and summed (a power above 1 leans on the best matches, as
  RM3's query likelihoods do; it does not depend on the scale of the scores);
* words too common to tell anything (in more than ``MAX_DF_SHARE`` of the
  archive), words in fewer than ``MIN_DOCUMENTS`` of the feedback documents,
  one-character words and numbers are left out, and the
  ``FEEDBACK_TERMS`` heaviest kept, their weights scaled to sum to 1;
* the query's own weights (also summing to 1) and these are mixed,
  ``ORIGINAL_WEIGHT`` of the query and the rest from the feedback.

The cost is bounded by the feedback documents: their stored text is read
and analysed (at most ``MAX_TEXT_CHARS`` of each part), and one document
frequency is looked up per candidate word; nothing depends on the archive's
size. ``expansion`` only
computes the weights; the engine scores the expanded query like any other.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Iterable, Mapping

from .analysis import index_terms

# Chosen on the tuning halves of CISI and Reuters, Cranfield held out whole (tests/relevance/README.md, "Third round").
FEEDBACK_DOCS = 5
FEEDBACK_TERMS = 20
ORIGINAL_WEIGHT = 0.5
SCORE_POWER = 6.0  # 1: plain RM3 over BM25 (the ``bm25-rm3`` baseline's)
MAX_DF_SHARE = 0.1
MIN_DOCUMENTS = 1  # 1: plain RM3; 2 won on the tuning halves but raises off-topic matches (tests/relevance/README.md)
# The parts of a stored article read as its text; the excerpt is most often the body's first lines.
TEXT_FIELDS = ("title", "body")
MAX_TEXT_CHARS = 20_000  # of each part: a 5 MB article costs no more than a long story


def document_terms(stored: Mapping[str, object]) -> Counter:
    """How often each index term occurs in a stored article's text (``TEXT_FIELDS``)."""
    counts: Counter = Counter()
    for name in TEXT_FIELDS:
        value = stored.get(name)
        if isinstance(value, str) and value:
            counts.update(term for term, _position in index_terms(value[:MAX_TEXT_CHARS]))
    return counts


def _usable(term: str) -> bool:
    return len(term) > 1 and not term.isdigit() and term.isprintable()


def relevance_model(documents: Iterable[tuple[Counter, float]], document_share: Callable[[str], float],
                    terms: int | None = None, max_share: float | None = None,
                    power: float | None = None, min_documents: int | None = None) -> dict[str, float]:
    """The feedback words and their weights (summing to 1) from ``(term counts, score)`` of
    each feedback document; ``document_share(term)`` is the share of the archive's
    documents that have the term; a document weighs by ``score ** power`` (``SCORE_POWER``),
    and a word is kept only if ``min_documents`` of them have it (``MIN_DOCUMENTS``)."""
    terms = FEEDBACK_TERMS if terms is None else terms
    max_share = MAX_DF_SHARE if max_share is None else max_share
    power = SCORE_POWER if power is None else power
    documents = [(counts, score ** power) for counts, score in documents if counts and score > 0]
    total_score = sum(score for _, score in documents)
    if not total_score:
        return {}
    needed = min(MIN_DOCUMENTS if min_documents is None else min_documents, len(documents))
    model: Counter = Counter()
    having: Counter = Counter()  # how many feedback documents have each word
    for counts, score in documents:
        length = sum(counts.values())
        share = score / total_score
        having.update(counts.keys())
        for term, count in counts.items():
            model[term] += share * count / length
    kept: list[tuple[str, float]] = []
    # Heaviest first, ties by the term so the choice never depends on dictionary order.
    for term, weight in sorted(model.items(), key=lambda item: (-item[1], item[0])):
        if len(kept) == terms:
            break
        if having[term] >= needed and _usable(term) and document_share(term) <= max_share:
            kept.append((term, weight))
    summed = sum(weight for _, weight in kept)
    return {term: weight / summed for term, weight in kept} if summed else {}


def interpolate(original: Mapping[str, float], feedback: Mapping[str, float],
                original_weight: float | None = None) -> dict[str, float]:
    """``original_weight`` of the query's weights and the rest of the feedback's, each first
    scaled to sum to 1; then scaled so the query's own parts keep their weights
    (``original``'s values, e.g. how often each word was typed)."""
    original_weight = ORIGINAL_WEIGHT if original_weight is None else original_weight
    query_total = sum(original.values())
    if not feedback or not query_total or not 0 < original_weight < 1:
        return dict(original)
    # Keeping the query's weights as they were is the same ranking as mixing the two
    # distributions: every weight is multiplied by query_total / original_weight.
    scale = (1 - original_weight) / original_weight * query_total
    mixed = dict(original)
    for term, weight in feedback.items():
        mixed[term] = mixed.get(term, 0.0) + scale * weight
    return mixed
