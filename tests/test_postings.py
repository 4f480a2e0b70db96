"""TermPostings: the build writer's pool yields exactly what Whoosh's own pool yields."""

from __future__ import annotations

import io
import pickle
import random
import struct
import zlib
from pathlib import Path

import pytest

from whoosh.codec import whoosh3
from whoosh.filedb.filestore import RamStorage
from whoosh.writing import PostingPool, SegmentWriter

from search.postings import BLOCK_PROTOCOL, BuildSegmentWriter, TermPostings


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


def segment_files(tmp_path, name: str, writer_class, documents: list[dict], compression: int = 0) -> dict[str, bytes]:
    """The files of one segment written by ``writer_class`` (as a build writes them, with
    blocks compressed at ``compression``), by extension."""
    from whoosh import index as whoosh_index
    from whoosh.codec.whoosh3 import W3Codec
    from search.indexer import writer_options
    from search.schema import build_schema

    folder = tmp_path / name
    folder.mkdir()
    ix = whoosh_index.create_in(folder, build_schema())
    writer = writer_class(ix, _lk=False, **{**writer_options(), "codec": W3Codec(compression=compression)})
    if writer_class is SegmentWriter:
        writer.pool = TermPostings()
    for fields in documents:
        writer.add_document(**fields)
    segment = writer._finalize_segment()
    prefix = f"MAIN_{segment.segid}"
    return {name[len(prefix):]: ix.storage.open_file(name).read()
            for name in ix.storage.list() if name.startswith(prefix)}


@pytest.mark.parametrize("compression", [0, 3])
@pytest.mark.parametrize("flat", [True, False], ids=["flat", "whoosh-layers"])
def test_the_build_writer_writes_the_same_segment_files_as_whoosh(tmp_path, monkeypatch, flat, compression) -> None:
    from pathlib import Path
    from search import postings
    from search.documents import find_article_files, read_article
    from search.schema import index_fields

    used = []
    writable = postings._flat_writable
    monkeypatch.setattr(postings, "_flat_writable", lambda fieldwriter: used.append(writable(fieldwriter)) or
                        (used[-1] and flat))

    data = Path(__file__).parent.parent / "data"
    articles = [read_article(data, relpath)[0] for relpath in find_article_files(data)]
    rng = random.Random(3)
    documents = []
    for number in range(700):  # common words get several blocks of postings, with varied lengths
        fields = index_fields(rng.choice(articles))
        fields["id"] = f"copy-{number}"
        if number % 7 == 0:
            fields["text"] = [(fields["title"], 4.0)]  # a short document
        documents.append(fields)
    ours = segment_files(tmp_path, "ours", BuildSegmentWriter, documents, compression)
    assert used == [True]  # the flat writer can write a build's segment
    whoosh = segment_files(tmp_path, "whoosh", SegmentWriter, documents, compression)
    assert set(ours) == set(whoosh) and {".pst", ".trm"} <= set(ours)
    assert decoded_blocks(ours[".pst"]) == decoded_blocks(whoosh[".pst"])  # the same postings, however pickled
    assert term_stats(ours[".trm"]) == term_stats(whoosh[".trm"])
    if flat:  # the same bytes as Whoosh's writer would write with our pickle protocol for a block's data
        assert {pickled[:2] for pickled in block_data(ours[".pst"])} == {bytes((0x80, BLOCK_PROTOCOL))}
        monkeypatch.setattr(whoosh3, "dumps", lambda value, protocol: pickle.dumps(
            value, BLOCK_PROTOCOL if len(value) == 3 else protocol))  # a block's data, not its 6-item info
        whoosh = segment_files(tmp_path, "whoosh-pickled-as-ours", SegmentWriter, documents, compression)
    for extension in whoosh:
        assert ours[extension] == whoosh[extension], extension


def _blocks(pst: bytes):
    """Each block of a Whoosh 3 postings file: (its info, its data as stored)."""
    at = 0
    while at < len(pst):
        assert pst[at:at + 4] == whoosh3.WHOOSH3_HEADER_MAGIC, at  # a term's postings start
        at += 4
        last = False
        while not last:
            (length,) = struct.unpack(">i", pst[at:at + 4])
            at, last, length = at + 4, length < 0, abs(length)
            block = io.BytesIO(pst[at:at + length])
            info = pickle.load(block)
            yield info, block.read()
            at += length


def block_data(pst: bytes) -> list[bytes]:
    """The pickled data of each block of a postings file (decompressed)."""
    return [zlib.decompress(data) if info[3] else data for info, data in _blocks(pst)]


def decoded_blocks(pst: bytes) -> list[tuple]:
    """What a reader gets from each block of a postings file: its info (but for
    whether the data is compressed: a smaller pickle may fall below the size
    that is) and its (ids, weights, values)."""
    return [(info[:3] + info[4:], pickle.loads(zlib.decompress(data) if info[3] else data))
            for info, data in _blocks(pst)]


def term_stats(trm: bytes) -> list[tuple[bytes, bytes]]:
    """Each term of a term table with its info but for where its postings lie (the info's last 12 bytes)."""
    from whoosh.filedb.filetables import HashReader
    from whoosh.filedb.structfile import StructFile

    items = list(HashReader(StructFile(io.BytesIO(trm)), len(trm)).items())
    assert items
    return [(key, value[:-12]) for key, value in items]


# ---------------------------------------------------------------- the same files as the code before issue 11's speed-ups

BEFORE_SPEEDUPS = "a658cb8"  # main before the build's CPU per article was cut (issue 11)
A20K = Path("/work/archives/a20k")

SEGMENT_SCRIPT = r"""
import sys
from pathlib import Path
from whoosh import index as whoosh_index
from search.documents import find_article_files, read_article
from search.indexer import writer_options
from search.postings import BuildSegmentWriter
from search.schema import build_schema, index_fields

data, out, count = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
relpaths = find_article_files(data)
if count < len(relpaths):
    relpaths = [relpaths[len(relpaths) * n // count] for n in range(count)]
(out / "index").mkdir(parents=True)
ix = whoosh_index.create_in(out / "index", build_schema())
writer = BuildSegmentWriter(ix, _lk=False, **writer_options())
words = {}
for relpath in relpaths:
    article = read_article(data, relpath)[0]
    if article is not None:
        writer.add_document(**index_fields(article, words))
segment = writer._finalize_segment()
prefix = "MAIN_" + segment.segid
for name in ix.storage.list():
    if name.startswith(prefix):
        (out / name[len(prefix):]).write_bytes(ix.storage.open_file(name).read())
(out / "words").write_text(repr(sorted(words.items())))
terms = out / "index" / "terms" / segment.segment_id()  # the frequent words' arrays (termarrays)
for path in sorted(terms.iterdir()) if terms.is_dir() else ():
    (out / ("terms-" + path.name)).write_bytes(path.read_bytes())
"""


def built_segment(root: Path, data: Path, out: Path, count: int) -> dict[str, bytes]:
    """The files of one build segment of ``count`` articles of ``data`` (spread
    over it), written by the ``search`` package found under ``root``, by extension."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", SEGMENT_SCRIPT, str(data), str(out), str(count)], cwd=root, check=True,
                   env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, timeout=600)
    return {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()}


def code_before_speedups(tmp_path: Path) -> Path:
    """The ``search`` package of ``BEFORE_SPEEDUPS``, from git (skips without git or that commit)."""
    import subprocess
    import tarfile

    repo = Path(__file__).parent.parent
    try:
        archive = subprocess.run(["git", "-C", str(repo), "archive", BEFORE_SPEEDUPS, "search"],
                                 capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        pytest.skip(f"no git or no commit {BEFORE_SPEEDUPS} here")
    root = tmp_path / "before"
    root.mkdir()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    return root


@pytest.mark.parametrize("data, count", [(Path(__file__).parent.parent / "data", 10_000), (A20K, 1500)],
                         ids=["data", "a20k"])
def test_a_build_segment_has_the_same_files_as_before_the_speedups(tmp_path, data, count) -> None:
    if not data.is_dir():
        pytest.skip(f"{data} is absent")
    before = built_segment(code_before_speedups(tmp_path), data, tmp_path / "out-before", count)
    now = built_segment(Path(__file__).parent.parent, data, tmp_path / "out-now", count)
    # postings, terms, stored fields, columns (one per sortable field and the lengths), the vocabulary tally
    assert {".trm", ".pst", "._stored.col", ".id.col", ".published.col", "._text_len.col", "words"} <= set(now)
    if data == A20K:  # enough articles for words in termarrays.FREQUENT of them
        assert any(name.startswith("terms-") for name in now)
    assert set(now) == set(before)
    # the same postings, now pickled with BLOCK_PROTOCOL, so they lie elsewhere in .pst
    assert decoded_blocks(now[".pst"]) == decoded_blocks(before[".pst"])
    assert term_stats(now[".trm"]) == term_stats(before[".trm"])
    assert len(now[".pst"]) < len(before[".pst"]) * 0.8
    for name in set(before) - {".pst", ".trm"}:
        assert now[name] == before[name], name


def test_positions_of_a_document_out_of_order_are_sorted_with_their_term() -> None:
    from search.schema import build_schema

    pool = TermPostings()
    pool.add_positions("text", 4, {"oil": ([1, 5], 2.0), "gas": ([2], 1.0)})
    pool.add_field("topic", 9, [(b"oil", 1, 1.0, b"x")])  # another field's order is its own
    pool.add_positions("text", 6, {"oil": ([0], 1.0)})
    pool.add_positions("text", 5, {"oil": ([3], 1.0)})  # before the last one: oil is out of order
    pool.add_positions("text", 7, {"gas": ([0], 4.0)})
    fields = {fieldname: {tbytes: (list(docnums), list(weights)) for tbytes, docnums, weights, _, _ in terms}
              for fieldname, terms in pool.sorted_terms(build_schema())}
    found = fields["text"]
    assert found == {b"gas": ([4, 7], [1.0, 4.0]), b"oil": ([4, 5, 6], [2.0, 1.0, 1.0])}


def test_a_field_given_both_ways_comes_out_as_one_sorted_list_of_postings() -> None:
    from whoosh.formats import Positions

    from search.schema import build_schema

    pool = TermPostings()
    pool.add_positions("text", 1, {"oil": [[3, 7], 2.0], "gas": [[1], 1.0]})
    pool.add_field("text", 0, [(b"oil", 1, 1.0, b"x")])  # as Whoosh's own writer adds, e.g. a document with a boost
    pool.add_positions("text", 2, {"oil": [[0], 4.0]})
    fields = {fieldname: {tbytes: (list(docnums), list(weights), values) for tbytes, docnums, weights, values, _ in terms}
              for fieldname, terms in pool.sorted_terms(build_schema())}
    encode = Positions().encode
    assert fields == {"text": {b"gas": ([1], [1.0], [encode([1])]),
                               b"oil": ([0, 1, 2], [1.0, 2.0, 4.0], [b"x", encode([3, 7]), encode([0])])}}


@pytest.mark.parametrize("top", [5, 70_000, 2**31])
def test_the_stable_order_of_term_numbers_is_numpys(top) -> None:
    import numpy as np

    from search.postings import _stable_order

    keys = np.random.default_rng(top).integers(0, top, 50_000).astype(np.int64)
    assert (_stable_order(keys) == np.argsort(keys, kind="stable")).all()


@pytest.mark.parametrize("value", ["reuters-123", "Zürich AG", "", "a b  c", "日本"])
def test_a_whole_value_field_gets_the_term_whoosh_would_index(tmp_path, value) -> None:
    from whoosh import index as whoosh_index

    from search.schema import build_schema

    ix = whoosh_index.create_in(tmp_path, build_schema())
    writer = BuildSegmentWriter(ix, _lk=False)
    try:
        assert {"id", "source", "year"} <= set(writer._whole_values)
        for name, boost in writer._whole_values.items():
            assert list(ix.schema[name].index(value)) == [(value.encode("utf-8"), 1, boost, b"")], name
    finally:
        writer.cancel()


# ---------------------------------------------------------------- bytes made directly, as pickle and Whoosh make them

NUMBERS = [0, 1, 127, 128, 255, 256, 65535, 65536, 2**31 - 1, 2**31, 2**32 - 1, -1, -2**31, -2**31 - 1]


def test_a_block_info_is_pickled_as_pickle_does() -> None:
    import pickle

    from search.postings import _pickled_info

    rng = random.Random(11)
    made = 0
    for _ in range(5000):
        info = (rng.choice(NUMBERS), rng.choice(NUMBERS), rng.choice([0, 0.0, 1.5, -2.0, 3.25e10, float("inf"), 7, 2**40]),
                rng.choice([0, 3]), rng.randrange(256), rng.randrange(256))
        found = _pickled_info(*info)
        if found is not None:
            made += 1
            assert found == pickle.dumps(info, 2), info
    assert made > 1000


def test_positions_are_encoded_as_whoosh_encodes_them() -> None:
    from array import array

    from whoosh.formats import Positions

    from search.postings import _positions_encoder

    rng = random.Random(13)
    positions_format = Positions()
    encode = _positions_encoder(positions_format)
    for _ in range(3000):
        count = rng.choice([1, 2, 3, 7, 999, 1000, 1001])
        top = rng.choice([300, 5000, 70000, 2**31])
        positions = sorted(rng.sample(range(top), min(count, top)))
        if rng.random() < 0.1:  # out of order: negative gaps
            rng.shuffle(positions)
        for given in (positions, array("I", positions)):
            assert encode(given) == positions_format.encode(list(given)), positions
