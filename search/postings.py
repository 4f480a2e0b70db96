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

import struct
import zlib
from array import array
from hashlib import md5
from itertools import chain, repeat, starmap
from operator import itemgetter, sub
from pickle import dumps
from typing import Iterator

import numpy as np
from whoosh.codec import whoosh3
from whoosh.codec.whoosh3 import (LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3Codec, W3FieldWriter, W3PostingsWriter,
                                  W3TermInfo)
from whoosh.filedb import filetables
from whoosh.analysis import IDTokenizer
from whoosh.fields import FieldType
from whoosh.formats import Existence, Positions
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
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
            encode = _positions_encoder(field.format) if field is not None and hasattr(field, "term_positions") \
                else None
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
    singles = None  # the single positions' values by position, for terms of many postings (``_encode_many``)
    for number, tbytes in enumerate(texts):
        start, end = bounds[number], bounds[number + 1]
        term_counts, term_offsets = counts[start:end], offsets[start:end]
        if end - start >= _MANY_POSTINGS and encode is not None:
            if singles is None:
                singles = _single_values(encode, all_positions)
            values = _encode_many(encode, singles, all_counts[start:end], all_offsets[start:end], all_positions,
                                  term_counts, term_offsets, positions)
        else:
            values = _encode_at(encode, term_counts, term_offsets, positions)
        located_term = None
        if end - start >= termarrays.FREQUENT:  # its positions gathered in one array
            some = all_counts[start:end].astype(np.int64)
            ends = np.cumsum(some)
            gather = np.repeat(all_offsets[start:end].astype(np.int64) - (ends - some), some)
            gather += np.arange(int(ends[-1]))
            located_term = (term_counts, array("I", all_positions[gather].tobytes()))
        yield tbytes, docs[start:end], weights[start:end], values, located_term


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


# BININT1 / BININT2 opcodes (pickle protocol 2) of the small numbers most position gaps are
_GAP_OPCODES = {gap: (b"K" + bytes((gap,)) if gap < 256 else b"M" + gap.to_bytes(2, "little")) for gap in range(4096)}
# the count of positions, then (pickle protocol 2) a list (memo 0) and a mark for its items
_POSITIONS_HEADS = {count: pack_uint(count) + b"\x80\x02]q\x00(" for count in range(2, 1001)}


def _positions_encoder(format_):
    """``schema.encoder(format_)``, which for a ``Positions`` format also makes
    the bytes of 2 to 1,000 positions whose gaps are under 4,096 directly:
    ``Positions.encode`` packs the count and pickles the list of gaps, which
    (protocol 2) is the list, a mark, each gap's opcode and ``APPENDS``;
    the same bytes (tests/test_postings.py) without building the list of
    gaps and a pickler for each posting."""
    encode = encoder(format_)
    if type(format_) is not Positions:
        return encode
    opcodes, heads = _GAP_OPCODES, _POSITIONS_HEADS

    def encoded(positions) -> bytes:
        if 1 < len(positions) <= 1000:
            parts = [heads[len(positions)]]
            add = parts.append
            previous = 0
            try:
                for position in positions:
                    add(opcodes[position - previous])
                    previous = position
            except KeyError:  # a gap out of the table (or positions out of order)
                return encode(positions)
            add(b"e.")
            return b"".join(parts)
        return encode(positions)

    return encoded


def _single_values(encode, all_positions: np.ndarray) -> np.ndarray:
    """``encode((position,))`` (the one shared bytes of each single position)
    for every position up to the highest of ``all_positions`` (at most 65,536), as
    a numpy array of objects."""
    top = min(int(all_positions.max()) + 1, 65536) if len(all_positions) else 0
    singles = np.empty(top, dtype=object)
    singles[:] = [encode((position,)) for position in range(top)]
    return singles


def _encode_many(encode, singles: np.ndarray, some_counts: np.ndarray, some_offsets: np.ndarray,
                 all_positions: np.ndarray, counts: array, offsets: array, positions: array) -> list[bytes]:
    """``_encode_at`` for a term of many postings: each posting's value looked up
    as a single position in ``singles`` with numpy, then the postings of
    several positions encoded in their places; the same objects."""
    if not len(some_counts) or not some_counts.min():  # (a posting without positions, which a writer never makes)
        return _encode_at(encode, counts, offsets, positions)
    firsts = all_positions[some_offsets]
    if int(firsts.max()) >= len(singles):
        return _encode_at(encode, counts, offsets, positions)
    values = singles[firsts].tolist()
    for at in np.flatnonzero(some_counts != 1).tolist():
        start = offsets[at]
        values[at] = encode(positions[start:start + counts[at]])
    return values


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
    a third of the time. ``_flush_segment`` here makes each block of
    ``blocklimit`` postings from the term's arrays instead, and writes the
    blocks, term infos and term table entries of a field itself in one loop
    (``_write_terms``: Whoosh's per-term layers of calls were half of the
    flush); the files are the bytes Whoosh writes, but for a block's data
    pickled with ``BLOCK_PROTOCOL`` (tests/test_postings.py). With
    another codec or field writer it fills Whoosh's postings writer a block
    at a time and leaves the writing to Whoosh. The postings of the frequent
    words of ``text`` are also saved as arrays (``termarrays``), unless
    ``term_arrays`` is False (an update's writer: a segment it merges away would
    leave them behind). It relies on the block
    attributes of whoosh3's ``W3PostingsWriter`` and on the formats of its
    blocks, term infos and term table (checked against 3.54.0).
    """

    def __init__(self, ix, term_arrays: bool = True, **kwargs):
        super().__init__(ix, **kwargs)
        self.pool = TermPostings()
        self._term_arrays = term_arrays
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
        flat = _flat_writable(fieldwriter)
        if flat:
            fieldwriter._tindex.__class__ = _TermTable
        try:
            for fieldname, terms in self.pool.sorted_terms(self.schema):
                lengths = _field_lengths(pdr, fieldname)
                fieldwriter.start_field(fieldname, self.schema[fieldname])
                if type(fieldwriter._postwriter) is W3PostingsWriter:  # a new one for each field
                    fieldwriter._postwriter.__class__ = _BlockWriter
                keep = frequent if fieldname == DEFAULT_FIELD and self._term_arrays else None
                if flat:
                    _write_terms(fieldwriter, terms, lengths, keep)
                else:
                    for tbytes, docnums, weights, values, located in terms:
                        fieldwriter.start_term(tbytes)
                        _fill_blocks(fieldwriter._postwriter, docnums, weights, values, lengths)
                        fieldwriter.finish_term()
                        if keep is not None and located and len(docnums) >= termarrays.FREQUENT:
                            keep.append((tbytes, docnums, weights, located))
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


# ---------------------------------------------------------------- the flat term writer

_POSTINGS_HEADER = WHOOSH3_HEADER_MAGIC
_TERM_INFO = W3TermInfo._struct
_pack_key_lengths = filetables._lengths.pack
_pack_pointer = filetables._pointer.pack
_pack_double = struct.Struct(">d").pack
_COMPRESSION_MIN_SIZE = getattr(whoosh3, "COMPRESSION_MIN_SIZE", None)  # blocks below it are not compressed
_MANY_POSTINGS = 48  # from here on a term's block statistics come from numpy (``_block_stats``)
_NO_SIZE = 2 ** 62
_BATCH = 2048  # terms whose bytes are joined into one write of each file
# A block's data (ids, weights, encoded positions) is pickled with protocol 4,
# where Whoosh's writer uses 2. Protocol 2 pickles each posting's bytes as a
# call of ``_codecs.encode`` on their Latin-1 text; protocol 4 writes them as
# they are. Any Python 3 reader ``loads`` either. On a20k's blocks: a third
# smaller, and pickling and unpickling them 5-6 times faster.
BLOCK_PROTOCOL = 4


def _flat_writable(fieldwriter) -> bool:
    """Whether ``_write_terms`` writes what ``fieldwriter`` would: Whoosh 3's
    own field writer, postings writer and term table, with docnum ids and
    terms never inlined (``inlinelimit`` 1 or less: every term has a posting)."""
    if type(fieldwriter) is not W3FieldWriter or type(fieldwriter._tindex) is not filetables.OrderedHashWriter:
        return False
    codec = fieldwriter._codec
    return (type(codec) is W3Codec and codec._inlinelimit <= 1 and codec._blocklimit >= 1
            and (not codec._compression or _COMPRESSION_MIN_SIZE is not None))


class _TermTable(filetables.OrderedHashWriter):
    """Whoosh's term table (``OrderedHashWriter``) writing each of its 256 hash
    tables in one write rather than one per slot (the same bytes)."""

    def _write_hashes(self) -> None:
        dbfile, directory = self.dbfile, self.directory
        null = (0, 0)  # an empty slot (no key is at 0, the header's place)
        for entries in self.buckets:
            numslots = 2 * len(entries)
            directory.append((dbfile.tell(), numslots))
            hashtable = [null] * numslots
            for hashval, position in entries:
                slot = (hashval >> 8) % numslots
                while hashtable[slot] is not null:
                    slot = (slot + 1) % numslots
                hashtable[slot] = (hashval, position)
            if hashtable:
                dbfile.write(b"".join(starmap(_pack_pointer, hashtable)))


def _md5_hash(key: bytes) -> int:
    """``filetables.md5_hash``: the low 32 bits of the key's MD5 as a number."""
    return int.from_bytes(md5(key, usedforsecurity=False).digest()[12:], "big")


def _write_terms(fieldwriter, terms, lengths: list | None, keep: list | None) -> None:
    """Write a field's terms (``sorted_terms``' tuples) as ``start_term``,
    ``add`` per posting and ``finish_term`` of a ``W3FieldWriter`` would
    (``_flat_writable``): each block as ``W3PostingsWriter._write_block``
    writes it, each term's info as ``W3TermInfo.to_bytes`` packs it, added to
    the term table as ``OrderedHashWriter.add`` adds it; the same bytes
    (tests/test_postings.py), without the layers of calls and objects per
    term, the bytes of many terms joined into one write (a block's data
    pickled with ``BLOCK_PROTOCOL``). A term's block
    statistics (gaps of ids, 32-bit weights, highest weight, shortest and
    longest document) come from numpy for a term of many postings
    (``_block_stats``). Terms in ``termarrays.FREQUENT`` documents or more
    that have ``located`` go to ``keep`` (if not None)."""
    postwriter = fieldwriter._postwriter
    limit, compression = postwriter._blocklimit, postwriter._compression
    fixedsize = fieldwriter._format.fixed_value_size()
    postfile, tindex = fieldwriter._postfile, fieldwriter._tindex
    trmfile, buckets = tindex.dbfile, tindex.buckets
    hashfn = _md5_hash if tindex.hashfn is filetables.md5_hash else tindex.hashfn
    fieldkey = pack_ushort(fieldwriter._fieldid)
    lastkey = tindex.lastkey
    post_at, trm_at = postfile.tell(), trmfile.tell()
    frequent = termarrays.FREQUENT
    size_of = lengths.__getitem__ if lengths is not None else None
    all_sizes = None  # the lengths as a numpy array, made for the first term of many postings
    length_byte = _LengthBytes()
    posts: list[bytes] = []
    records: list[bytes] = []
    keyats = array("q")
    pending = 0
    for tbytes, docnums, weights, values, located in terms:
        count = len(docnums)
        term_at = post_at
        posts.append(_POSTINGS_HEADER)
        post_at += 4
        total = 0
        minlength = None
        maxlength = 0
        maxweight = 0
        many = count >= _MANY_POSTINGS and type(docnums) is array and docnums.typecode == "I" \
            and type(weights) is array and weights.typecode == "d"
        if many:
            if lengths is not None and all_sizes is None:
                all_sizes = np.array([size or 0 for size in lengths], np.int64)
            gaps, all_floats, maxes, minimums, maximums = _block_stats(docnums, weights, all_sizes, limit)
        for number, start in enumerate(range(0, count, limit)):
            end = start + limit
            if count > limit:
                ids, block_values = docnums[start:end], values[start:end]
            else:
                ids, block_values = docnums, values
            size = len(ids)
            if many:
                floats = all_floats[start:end]
                mini_ids = tuple(gaps[start:end])
                block_max = max(0, maxes[number])
                block_min, block_maxlength = (minimums[number], maximums[number]) if minimums else (None, 0)
            else:
                block_weights = weights[start:end] if count > limit else weights
                floats = array("f", block_weights)
                mini_ids = tuple(map(sub, ids, chain((0,), ids)))
                block_max = max(0, max(block_weights))
                if size_of is not None:
                    sizes = list(filter(None, map(size_of, ids)))
                    block_min, block_maxlength = (min(sizes), max(sizes)) if sizes else (None, 0)
                else:
                    block_min, block_maxlength = None, 0
            block_values = list(filter(None, block_values))
            # W3TermInfo.add_block
            total += sum(floats)
            minlength = block_min if minlength is None else min(minlength, block_min)
            maxlength = max(maxlength, block_maxlength)
            maxweight = max(maxweight, block_max)
            # W3PostingsWriter._write_block (with _BlockWriter's minifying)
            if floats.count(1.0) == size:
                mini_weights = None
            elif floats.count(floats[0]) == size:
                mini_weights = floats[0]
            else:
                mini_weights = tuple(floats)
            if fixedsize is None or fixedsize < 0:
                mini_values = tuple(block_values)
            elif fixedsize == 0:
                mini_values = None
            else:
                mini_values = b"".join(block_values)
            databytes = dumps((mini_ids, mini_weights, mini_values), BLOCK_PROTOCOL)
            comp = 0
            if compression and len(databytes) >= _COMPRESSION_MIN_SIZE:
                comp = compression
                databytes = zlib.compress(databytes, comp)
            info = (size, ids[-1], block_max, comp, length_byte[block_min], length_byte[block_maxlength])
            infobytes = _pickled_info(*info) or dumps(info, 2)
            blocklength = len(infobytes) + len(databytes)
            posts.append(pack_int(-blocklength if end >= count else blocklength))
            posts.append(infobytes)
            posts.append(databytes)
            post_at += 4 + blocklength
        # W3TermInfo.to_bytes, W3FieldWriter.finish_term, OrderedHashWriter.add
        value = _TERM_INFO.pack(False, total, count, length_byte[minlength], length_byte[maxlength], maxweight,
                                docnums[0], docnums[-1]) \
            + pack_long(term_at) + pack_int(post_at - term_at)
        key = fieldkey + tbytes
        if key <= lastkey:
            raise ValueError(f"Keys must increase: {lastkey!r}..{key!r}")
        lastkey = key
        keyats.append(trm_at)
        records.append(_pack_key_lengths(len(key), len(value)))
        records.append(key)
        records.append(value)
        h = hashfn(key)
        buckets[h & 255].append((h, trm_at))
        trm_at += 8 + len(key) + len(value)
        if keep is not None and located and count >= frequent:
            keep.append((tbytes, docnums, weights, located))
        pending += 1
        if pending >= _BATCH:
            _write_out(postfile, posts, trmfile, records, tindex, keyats)
            pending = 0
    _write_out(postfile, posts, trmfile, records, tindex, keyats)
    tindex.lastkey = lastkey


class _LengthBytes(dict):
    """length -> ``length_to_byte(length)`` (None -> 0), each computed once."""

    def __missing__(self, length):
        byte = self[length] = length_to_byte(length)
        return byte


# Pickle protocol 2 opcodes (what the C pickler writes for these values)
_BININT1 = [b"K" + bytes((number,)) for number in range(256)]


def _int_opcode(number: int) -> bytes | None:
    """The opcode of an int in a protocol 2 pickle (None for one of more than 32 bits)."""
    if 0 <= number < 256:
        return _BININT1[number]
    if 0 <= number < 65536:
        return b"M" + number.to_bytes(2, "little")
    if -2 ** 31 <= number < 2 ** 31:
        return b"J" + number.to_bytes(4, "little", signed=True)
    return None


def _number_opcode(number) -> bytes | None:
    if type(number) is float:
        return b"G" + _pack_double(number)
    if type(number) is int:
        return _int_opcode(number)
    return None


def _pickled_info(size: int, last: int, maxweight, comp: int, minlength: int, maxlength: int) -> bytes | None:
    """``dumps((size, last, maxweight, comp, minlength, maxlength), 2)``, a
    block's info, made directly (None where it would hold other than ints
    of 32 bits and a float)."""
    opcodes = (_int_opcode(size), _int_opcode(last), _number_opcode(maxweight), _int_opcode(comp),
               _int_opcode(minlength), _int_opcode(maxlength))
    if None in opcodes:
        return None
    return b"\x80\x02(" + b"".join(opcodes) + b"tq\x00."


def _block_stats(docnums: array, weights: array, all_sizes: np.ndarray | None, limit: int) -> tuple:
    """For a term's postings in blocks of ``limit``, what ``_write_terms``
    computes per block, with numpy: the ids' gaps (each block's first from 0,
    as ``delta_encode`` gives them), the weights as 32-bit floats (an
    ``array("f")``, as the postings writer keeps them), and per block the
    highest weight and the shortest and longest document of a nonzero length
    (``all_sizes``; both lists empty without lengths)."""
    ids = np.frombuffer(docnums, np.uint32).astype(np.int64)
    gaps = np.diff(ids, prepend=0)
    starts = np.arange(0, len(ids), limit)
    gaps[starts] = ids[starts]
    doubles = np.frombuffer(weights, np.float64)
    floats = array("f", doubles.astype(np.float32).tobytes())
    maxes = np.maximum.reduceat(doubles, starts).tolist()
    minimums = maximums = []
    if all_sizes is not None:
        sizes = all_sizes[ids]
        maximums = np.maximum.reduceat(sizes, starts).tolist()
        minimums = [size if size <= top else None for size, top in  # none of nonzero length: None
                    zip(np.minimum.reduceat(np.where(sizes > 0, sizes, _NO_SIZE), starts).tolist(), repeat(_NO_SIZE - 1))]
    return gaps.tolist(), floats, maxes, minimums, maximums


def _write_out(postfile, posts: list, trmfile, records: list, tindex, keyats: array) -> None:
    """Write the joined bytes of a batch of terms and add their keys' positions to
    the term table's index (a ``GrowableArray``, widened as its ``append`` would)."""
    if posts:
        postfile.write(b"".join(posts))
        posts.clear()
    if records:
        trmfile.write(b"".join(records))
        records.clear()
    if keyats:
        index = tindex.index
        try:
            index.array.extend(array(index.array.typecode, keyats))
        except (OverflowError, TypeError, AttributeError):  # wider than the array holds: widen it as it goes
            index.extend(keyats)
        del keyats[:]
