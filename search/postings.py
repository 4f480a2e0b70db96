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

The postings of the positions field (``add_positions``, most of a build's)
are not even held per term while the segment fills: each document's go to
the end of a few flat arrays (term number, document, weight, count,
positions: about 20 bytes a posting and 4 a position) in one call per
array, and the flush sorts them by term and document with numpy
(``_located_terms``). Appending to four arrays of each term cost the
writer half of its time per article.
"""

from __future__ import annotations

from array import array
from itertools import chain, repeat
from operator import itemgetter, sub
from typing import Iterator

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3PostingsWriter
from whoosh.analysis import IDTokenizer
from whoosh.fields import FieldType
from whoosh.formats import Existence
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

from . import termarrays
from .schema import _SINGLE_POSITIONS, DEFAULT_FIELD, encoder

Posting = tuple[str, bytes, int, float, "bytes | None"]


class TermPostings:
    """The pool a ``SegmentWriter`` writes into (``add``, ``iter_postings``, ``cleanup``)."""

    def __init__(self) -> None:
        # field -> term -> (document numbers, weights, encoded values), in arrival order
        self._fields: dict[str, dict[bytes, tuple[array, array, list]]] = {}
        self._unordered: set[tuple[str, bytes]] = set()
        self._located: dict[str, _Located] = {}  # field -> its postings with positions (``add_positions``)
        self.count = 0

    def add(self, item: Posting) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        self.add_field(fieldname, docnum, ((tbytes, 0, weight, vbytes),))

    def add_field(self, fieldname: str, docnum: int, items) -> int:
        """Add one document's ``(text, freq, weight, vbytes)`` items of a field
        (what ``FieldType.index`` yields); returns the sum of their freqs."""
        terms = self._fields.get(fieldname)
        if terms is None:
            terms = self._fields[fieldname] = {}
        length = added = 0
        for tbytes, freq, weight, vbytes in items:
            length += freq
            added += 1
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
        self.count += added
        return length

    def add_positions(self, fieldname: str, docnum: int, found: dict) -> int:
        """Add one document's terms of a field as ``WeightedText.term_positions``
        gives them (term: (positions, weight)), positions kept as numbers until
        ``sorted_terms`` encodes them; returns the sum of their freqs.

        The postings go to the end of flat arrays, a term as a number
        (``_Located``), in a few calls that each take the whole document:
        no Python step per term beyond its number's lookup."""
        located = self._located.get(fieldname)
        if located is None:
            located = self._located[fieldname] = _Located()
        numbers = list(map(located.numbers.get, found))
        if None in numbers:
            terms, known = located.terms, located.numbers
            for at, term in enumerate(found):
                if numbers[at] is None:
                    numbers[at] = known[term] = len(terms)
                    terms.append(term)
        entries = list(found.values())
        lists = list(map(_first, entries))
        before = len(located.positions)
        located.tids.extend(numbers)
        located.docs.extend(repeat(docnum, len(numbers)))
        located.weights.extend(map(_second, entries))
        located.counts.extend(map(len, lists))
        located.positions.extend(chain.from_iterable(lists))
        self.count += len(numbers)
        return len(located.positions) - before

    def iter_postings(self) -> Iterator[Posting]:
        """Every posting, sorted as Whoosh's pool sorts them (Whoosh's pool protocol,
        for postings added with ``add``/``add_field``); each term is released once
        yielded, so memory falls while the segment is written."""
        for fieldname, terms in self.sorted_terms():
            for tbytes, docnums, weights, values, _ in terms:
                for docnum, weight, vbytes in zip(docnums, weights, values):
                    yield fieldname, tbytes, docnum, weight, vbytes

    def cleanup(self) -> None:
        self._fields.clear()
        self._unordered.clear()
        self._located.clear()
        self.count = 0

    def sorted_terms(self, schema=None) -> Iterator[tuple[str, Iterator[tuple]]]:
        """``(field, terms)`` in field order, each term ``(text, docnums, weights,
        values, located)`` in term order with its postings in document order,
        ``values`` encoded; ``located`` is ``(counts, positions)`` for terms added
        with ``add_positions`` (positions encoded with ``schema``'s format) in
        ``termarrays.FREQUENT`` documents or more, else None. Terms are released
        as they go."""
        fields, self._fields = self._fields, {}
        located, self._located = self._located, {}
        unordered, self._unordered = self._unordered, set()
        self.count = 0
        for fieldname in sorted(fields.keys() | located.keys()):
            field = schema[fieldname] if schema is not None and fieldname in schema else None
            encode = encoder(field.format) if field is not None and hasattr(field, "term_positions") else None
            if fieldname not in fields:
                yield fieldname, _located_terms(located.pop(fieldname), encode)
                continue
            if fieldname in located:  # both ways in one field (not a build's): as plain postings
                _add_as_plain(fieldname, fields[fieldname], located.pop(fieldname), unordered, encode)
            yield fieldname, self._field_terms(fieldname, fields.pop(fieldname), unordered, encode)

    @staticmethod
    def _field_terms(fieldname: str, terms: dict, unordered: set, encode):
        for tbytes in sorted(terms):
            docnums, weights, values = terms.pop(tbytes)
            if (fieldname, tbytes) in unordered:
                triples = sorted(zip(docnums, weights, values))
                docnums = array("I", (t[0] for t in triples))
                weights = array("d", (t[1] for t in triples))
                values = [t[2] for t in triples]
            yield tbytes, docnums, weights, values, None


_first, _second = itemgetter(0), itemgetter(1)


class _Located:
    """One field's postings with positions in arrival order: each posting's term
    number, document, weight and count of positions, and all the positions."""

    __slots__ = ("numbers", "terms", "tids", "docs", "weights", "counts", "positions")

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}  # term -> its number
        self.terms: list[str] = []  # number -> term
        self.tids, self.docs, self.counts, self.positions = array("I"), array("I"), array("I"), array("I")
        self.weights = array("d")


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for keys in [0, 2**32): two radix sorts of
    16-bit halves (numpy sorts 16-bit keys by radix, wider ones by timsort: twice the time)."""
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    high = (keys >> 16).astype(np.uint16)[order]
    if high.any():
        order = order[np.argsort(high, kind="stable")]
    return order


def _offsets_dtype(typecode: str) -> type:
    return np.uint32 if typecode == "I" else np.int64


def _located_terms(located: _Located, encode) -> Iterator[tuple]:
    """``_field_terms`` for a ``_Located`` field: the postings put in order of
    term (as UTF-8 bytes, as Whoosh sorts them) and document with numpy, then
    handed out a term at a time. The positions stay where they are: each
    posting's are read at its offset when encoded, and gathered into one
    array only for terms in ``termarrays.FREQUENT`` documents or more (the
    others' ``located`` is None). (Two postings of one term and document,
    which a writer never makes, stay in arrival order.)"""
    texts = [term.encode("utf-8") for term in located.terms]
    count = len(texts)
    if not count:
        return
    rank = np.empty(count, np.int32)
    rank[sorted(range(count), key=texts.__getitem__)] = np.arange(count, dtype=np.int32)
    texts.sort()
    ranks = rank[np.frombuffer(located.tids, np.uint32)]
    del rank, located.tids
    bounds = np.concatenate(([0], np.cumsum(np.bincount(ranks, minlength=count)))).tolist()
    counts = np.frombuffer(located.counts, np.uint32)
    starts = np.cumsum(counts, dtype=np.int64)
    starts -= counts
    offset_type = "I" if len(located.positions) < 2 ** 32 else "q"
    starts = starts.astype(_offsets_dtype(offset_type))
    docs = np.frombuffer(located.docs, np.uint32)
    if len(docs) < 2 or bool((docs[1:] >= docs[:-1]).all()):  # documents added in order: sort by term alone
        order = _stable_order(ranks)
    else:
        order = np.lexsort((docs, ranks))
    del ranks
    # As Python arrays, whose slices are cheaper than numpy's for the many short terms;
    # each source array released as soon as it is reordered (the flush's peak of memory).
    docs = array("I", docs[order].tobytes())
    del located.docs
    weights = array("d", np.frombuffer(located.weights, np.float64)[order].tobytes())
    del located.weights
    counts = array("I", counts[order].tobytes())
    del located.counts
    offsets = array(offset_type, starts[order].tobytes())
    del starts, order
    positions = located.positions
    all_counts, all_offsets = np.frombuffer(counts, np.uint32), np.frombuffer(offsets, _offsets_dtype(offset_type))
    all_positions = np.frombuffer(positions, np.uint32)
    for number, tbytes in enumerate(texts):
        start, end = bounds[number], bounds[number + 1]
        term_counts, term_offsets = counts[start:end], offsets[start:end]
        located_term = None
        if end - start >= termarrays.FREQUENT:  # its positions gathered in one array
            some = all_counts[start:end].astype(np.int64)
            ends = np.cumsum(some)
            gather = np.repeat(all_offsets[start:end].astype(np.int64) - (ends - some), some)
            gather += np.arange(int(ends[-1]))
            located_term = (term_counts, array("I", all_positions[gather].tobytes()))
        yield (tbytes, docs[start:end], weights[start:end], _encode_at(encode, term_counts, term_offsets, positions),
               located_term)


def _add_as_plain(fieldname: str, terms: dict, located: _Located, unordered: set, encode) -> None:
    """Put a ``_Located`` field's postings into ``terms``, a plain field's
    postings (``add_field``'s), to be sorted with them."""
    for tbytes, docnums, weights, values, _ in _located_terms(located, encode):
        entry = terms.get(tbytes)
        if entry is None:
            terms[tbytes] = (docnums, weights, values)
        else:
            entry[0].extend(docnums)
            entry[1].extend(weights)
            entry[2].extend(values)
            unordered.add((fieldname, tbytes))


def _encode_at(encode, counts: array, offsets: array, positions: array) -> list[bytes]:
    """Each posting's positions (``counts[i]`` of them from ``positions[offsets[i]]``)
    encoded by ``encode`` (an ``encoder``); a single position's bytes are looked
    up here, without a call."""
    get = _SINGLE_POSITIONS.get
    if counts.count(1) == len(counts):  # one position in each document, as for most terms
        firsts = list(map(positions.__getitem__, offsets))
        values = list(map(get, firsts))
        if None in values:
            values = [vbytes if vbytes is not None else encode((position,))
                      for vbytes, position in zip(values, firsts)]
        return values
    values = []
    add = values.append
    for at, count in zip(offsets, counts):
        if count == 1:
            add(get(positions[at]) or encode((positions[at],)))
        else:
            add(encode(positions[at:at + count]))
    return values


class _BlockWriter(W3PostingsWriter):
    """Whoosh's postings writer with the same minified ids and weights, made
    without a Python-level step per posting (``delta_encode``'s generator and
    ``all`` over the weights); the blocks are byte-identical."""

    def _mini_ids(self):
        ids = self._ids
        if self._byteids:
            return tuple(ids)
        return tuple(map(sub, ids, chain((0,), ids)))

    def _mini_weights(self):
        weights = self._weights
        count = len(weights)
        if weights.count(1.0) == count:
            return None
        first = weights[0]
        if weights.count(first) == count:
            return first
        return tuple(weights)


class BuildSegmentWriter(SegmentWriter):
    """A ``SegmentWriter`` whose pool is a ``TermPostings`` and which writes
    a finished segment's postings a block at a time.

    ``add_document`` hands the pool each field's postings in one call.
    Whoosh's ``FieldWriter.add_postings`` handles one posting per call: it
    compares field and term with the previous posting, reads the document's
    field length back from the column just written, and the postings
    writer appends to its block with four type checks. For a build that is
    a third of the time. ``_flush_segment`` here fills each block of
    ``blocklimit`` postings from the term's arrays instead and leaves the
    writing of blocks, term infos and files to Whoosh; the files are
    byte-identical (tests/test_postings.py). The postings of the frequent
    words of ``text`` are also saved as arrays (``termarrays``). It relies on the block
    attributes of whoosh3's ``W3PostingsWriter`` (checked against 3.54.0).
    """

    def __init__(self, ix, **kwargs):
        super().__init__(ix, **kwargs)
        self.pool = TermPostings()
        self._plain = all(not field.vector and not field.separate_spelling() for field in self.schema)
        # Fields whose one term is the value itself: Whoosh's own ``index`` with an
        # ``IDTokenizer`` and the ``Existence`` format gives, for a string, only
        # (its UTF-8, 1, field boost, b"") (``id``, ``source``, ``year``...).
        self._whole_values = {name: field.format.field_boost for name, field in self.schema.items()
                              if type(field.analyzer if hasattr(field, "analyzer") else None) is IDTokenizer
                              and type(field.format) is Existence and type(field).index is FieldType.index}

    def add_document(self, **fields) -> None:
        """``SegmentWriter.add_document`` for documents without boosts or
        ``_stored_`` values in a schema without vectors or spelling fields
        (a build's), handing the pool a field's postings at once."""
        if not self._plain or any(name.startswith("_") for name in fields):
            return super().add_document(**fields)
        self._check_state()
        perdocwriter, schema, docnum = self.perdocwriter, self.schema, self.docnum
        whole_values = self._whole_values
        fieldnames = sorted(fields)
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields[fieldname]
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    term_positions = getattr(field, "term_positions", None)
                    if term_positions:
                        length = self.pool.add_positions(fieldname, docnum, term_positions(value))
                    elif fieldname in whole_values and type(value) is str:  # ``field.index`` without Tokens
                        length = self.pool.add_field(fieldname, docnum,
                                                     ((value.encode("utf-8"), 1, whole_values[fieldname], b""),))
                    else:
                        length = self.pool.add_field(fieldname, docnum, field.index(value))
                    if not field.scorable:
                        length = 0
                perdocwriter.add_field(fieldname, field, value if field.stored else None, length)
                if field.column_type:
                    perdocwriter.add_column_value(fieldname, field.column_type, field.to_column_value(value))
        except ValueError:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        fieldwriter = self.fieldwriter
        frequent: list[tuple] = []  # the scored field's frequent words, for termarrays
        try:
            for fieldname, terms in self.pool.sorted_terms(self.schema):
                lengths = _field_lengths(pdr, fieldname)
                fieldwriter.start_field(fieldname, self.schema[fieldname])
                if type(fieldwriter._postwriter) is W3PostingsWriter:  # a new one for each field
                    fieldwriter._postwriter.__class__ = _BlockWriter
                for tbytes, docnums, weights, values, located in terms:
                    fieldwriter.start_term(tbytes)
                    _fill_blocks(fieldwriter._postwriter, docnums, weights, values, lengths)
                    fieldwriter.finish_term()
                    if fieldname == DEFAULT_FIELD and located and len(docnums) >= termarrays.FREQUENT:
                        frequent.append((tbytes, docnums, weights, located))
                fieldwriter.finish_field()
            fieldwriter.close()
        finally:
            if pdr:
                pdr.close()
        folder = getattr(self.storage, "folder", None)
        if folder and frequent:
            termarrays.save(termarrays.folder_for(folder, self.newsegment.segment_id()), [
                (term, termarrays.Stored(np.frombuffer(docnums, np.uint32), np.asarray(weights, np.float32),
                                         np.frombuffer(counts, np.uint32), np.frombuffer(positions, np.uint32)))
                for term, docnums, weights, (counts, positions) in frequent])


def _field_lengths(pdr, fieldname: str) -> list | None:
    """Each document's length of ``fieldname`` as Whoosh's writer reads it back
    (the length its one-byte column can hold), or None where it has none."""
    lenfield = f"_{fieldname}_len"
    if pdr is None or not pdr.has_column(lenfield):
        return None
    column = pdr.column_reader(lenfield, LENGTHS_COLUMN)
    return [byte_to_length(b) if b else None for b in column]


def _fill_blocks(postwriter, docnums: array, weights: array, values: list, lengths: list | None) -> None:
    """Put a term's postings into ``postwriter`` as ``add_posting`` would,
    one whole block at a time; the last block stays for ``finish_postings``."""
    limit = postwriter._blocklimit
    count = len(docnums)
    for start in range(0, count, limit):
        if start:
            postwriter._write_block()
        end = start + limit
        ids = docnums[start:end]
        block_weights = weights[start:end]
        postwriter._ids = ids
        postwriter._weights = array("f", block_weights)
        postwriter._values = [v for v in values[start:end] if v]
        postwriter._maxweight = max(0, max(block_weights))
        if lengths is not None:
            sizes = [size for size in map(lengths.__getitem__, ids) if size]
            if sizes:
                postwriter._minlength = min(sizes)
                postwriter._maxlength = max(sizes)
