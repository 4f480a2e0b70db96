"""The postings of a segment being built, held by term (``TermPostings``).

A Whoosh ``SegmentWriter`` collects the postings of its new segment in a
pool and, when the segment is finished, hands them to the codec sorted by
field, term and document. Whoosh's own ``PostingPool`` keeps one tuple per
posting (about 190 bytes each in CPython), sorts all of them at the end, and
past ``limitmb`` pickles sorted runs to disk and merges them back. For a
worker's share of a big archive that is gigabytes of tuples, a sort of tens
of millions of them and a run merge: the cost of an article grows with the
size of the segment.

A writer numbers documents in the order they are added (merged segments
come after them, with higher numbers), so the postings of one term arrive
already in document order. ``TermPostings`` keeps them per term in arrays
(about 25 bytes a posting) and sorts only the terms. It yields exactly what
the pool yields; a posting that does arrive out of order is sorted with
its term's others, as the pool would.
"""

from __future__ import annotations

from array import array
from typing import Iterator

Posting = tuple[str, bytes, int, float, "bytes | None"]


class TermPostings:
    """The pool a ``SegmentWriter`` writes into (``add``, ``iter_postings``, ``cleanup``)."""

    def __init__(self) -> None:
        # field -> term -> (document numbers, weights, encoded values), in arrival order
        self._fields: dict[str, dict[bytes, tuple[array, array, list]]] = {}
        self._unordered: set[tuple[str, bytes]] = set()
        self.count = 0

    def add(self, item: Posting) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        terms = self._fields.get(fieldname)
        if terms is None:
            terms = self._fields[fieldname] = {}
        postings = terms.get(tbytes)
        if postings is None:
            terms[tbytes] = (array("I", (docnum,)), array("d", (weight,)), [vbytes])
        else:
            docnums, weights, values = postings
            if docnum <= docnums[-1]:
                self._unordered.add((fieldname, tbytes))
            docnums.append(docnum)
            weights.append(weight)
            values.append(vbytes)
        self.count += 1

    def iter_postings(self) -> Iterator[Posting]:
        """Every posting, sorted as Whoosh's pool sorts them; each term is
        released once yielded, so memory falls while the segment is written."""
        fields, self._fields = self._fields, {}
        for fieldname in sorted(fields):
            terms = fields.pop(fieldname)
            for tbytes in sorted(terms):
                docnums, weights, values = terms.pop(tbytes)
                triples = zip(docnums, weights, values)
                if (fieldname, tbytes) in self._unordered:
                    triples = sorted(triples)
                for docnum, weight, vbytes in triples:
                    yield fieldname, tbytes, docnum, weight, vbytes
        self._unordered.clear()
        self.count = 0

    def cleanup(self) -> None:
        self._fields.clear()
        self._unordered.clear()
        self.count = 0
