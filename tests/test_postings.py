"""TermPostings: the build writer's pool yields exactly what Whoosh's own pool yields."""

from __future__ import annotations

import random

from whoosh.filedb.filestore import RamStorage
from whoosh.writing import PostingPool

from search.postings import TermPostings


def whoosh_pool(postings) -> list:
    pool = PostingPool(RamStorage(), None, limitmb=64)
    for posting in postings:
        pool.add(posting)
    return list(pool.iter_postings())


def ours(postings) -> list:
    pool = TermPostings()
    for posting in postings:
        pool.add(posting)
    assert pool.count == len(postings)
    return list(pool.iter_postings())


def test_postings_come_out_sorted_by_field_term_and_document_as_whoosh_sorts_them() -> None:
    rng = random.Random(7)
    postings = []
    for docnum in range(300):  # documents are added in order, each term once per field
        for fieldname in ("text", "topic", "id"):
            for term in rng.sample(range(500), rng.randint(0, 40)):
                postings.append((fieldname, f"t{term}".encode(), docnum, rng.choice((1.0, 1.6, 5.6, 0.4)),
                                 rng.choice((None, b"", bytes([docnum % 256, term % 256])))))
    assert ours(postings) == whoosh_pool(postings)


def test_a_posting_out_of_document_order_is_sorted_with_its_term() -> None:
    postings = [("text", b"oil", 5, 1.0, b"a"), ("text", b"gas", 1, 2.0, b"b"), ("text", b"oil", 2, 1.0, b"c"),
                ("text", b"oil", 9, 4.0, b"d"), ("body", b"oil", 3, 1.0, None)]
    assert ours(postings) == whoosh_pool(postings)


def test_postings_are_released_once_yielded() -> None:
    pool = TermPostings()
    pool.add(("text", b"oil", 0, 1.0, b""))
    assert len(list(pool.iter_postings())) == 1
    assert list(pool.iter_postings()) == [] and pool.count == 0
