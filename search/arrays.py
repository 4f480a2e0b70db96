"""Per-document values as numpy arrays, computed once per segment and kept with the index.

Facets, the timeline, date filters, story collapsing, ranking priors and
BM25 length norms need a few values of every document. Reading them from
the postings and columns of a million documents takes ~20 s, so they are
computed once per Whoosh segment -- a segment never changes after it is
written, apart from deletions -- and saved beside the index as ``.npy``
files, memory-mapped when a searcher opens:

* ``SegmentArrays``: one segment's values. For each exact field of
  ``FIELDS``, its labels and the (document, label) pairs sorted by
  document, then label; the raw ``published`` column; a 64-bit hash of the
  story key (0: none); ``quality`` and ``heat`` (NaN: none); the length
  of the ``text`` field.
* ``read(reader)`` computes them from a segment reader; ``save`` and
  ``load`` keep them in ``<generation>/arrays/<segment id>/``.
* ``for_searcher(searcher, generation)``: every segment's arrays with its
  offset, loading the stored ones and computing the missing ones (an index
  built by an older version, segments an update wrote or merged), saved
  when the folder is writable.
* ``save_missing(generation)``: what the indexer calls after a build, so
  the first open of a new index finds everything ready.
* ``Derived``: arrays computed from the whole index (story numbers,
  ranking priors), saved the first time they are computed for one state of
  the index (its Whoosh TOC generation: an update makes a new one), so the
  next process that opens the same index reads them instead (a CLI search
  at a million articles would otherwise spend a quarter of a second on
  them).

Deletions are not stored (an update changes them without touching the
segment); ``facets.FacetTable`` applies the searcher's own when it joins
the segments.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index

from .schema import DEFAULT_FIELD

FOLDER = "arrays"
FORMAT = 1  # bump when what is stored changes: older folders are then computed again
FIELDS = ("topic", "source", "year", "domain")
_INT64_LOW, _INT64_HIGH = -(2**63), 2**63
_NUMBERS = ("published", "story", "quality", "heat", "length")


@dataclass
class SegmentArrays:
    size: int
    labels: dict[str, list[str]]  # field -> its labels in this segment, sorted
    pair_docs: dict[str, np.ndarray]  # field -> segment docnum of each (document, label) pair
    pair_labels: dict[str, np.ndarray]  # field -> index into labels[field] of each pair
    published: np.ndarray  # int64, the raw column (microseconds); meaningless for undated documents
    story: np.ndarray  # uint64, hash of the story key; 0 for none
    quality: np.ndarray  # float64, NaN for none
    heat: np.ndarray
    length: np.ndarray  # float64, length of the text field as the BM25 norms read it


def story_hash(key: str | None) -> int:
    """The 64-bit number standing for a story key (0: no key). Two keys
    sharing one by chance is about as likely as 1 in 10^7 at 10^6 keys."""
    if not key:
        return 0
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little") or 1


def read(reader, schema) -> SegmentArrays:
    """One segment's arrays, from its postings and columns (a pass over its documents)."""
    size = reader.doc_count_all()
    labels, pair_docs, pair_labels = {}, {}, {}
    for field in FIELDS:
        names, docs = [], []
        if field in schema:
            for term in reader.lexicon(field):
                names.append(term.decode("utf-8") if isinstance(term, bytes) else term)
                docs.append(np.fromiter(reader.postings(field, term).all_ids(), dtype=np.int64))
        counts = [len(d) for d in docs]
        doc_of = np.concatenate(docs) if docs else np.zeros(0, np.int64)
        label_of = np.repeat(np.arange(len(names), dtype=np.int64), counts)
        order = np.lexsort((label_of, doc_of))
        labels[field] = names
        pair_docs[field] = doc_of[order].astype(np.int32)
        pair_labels[field] = label_of[order].astype(np.int32)
    return SegmentArrays(
        size=size, labels=labels, pair_docs=pair_docs, pair_labels=pair_labels,
        published=np.array([v if _INT64_LOW <= v < _INT64_HIGH else 0  # undated: a default beyond int64
                            for v in _column(reader, schema, "published", size, 0, translate=False)], dtype=np.int64),
        story=np.array([story_hash(k) for k in _column(reader, schema, "story", size, "")], dtype=np.uint64),
        quality=_numbers(_column(reader, schema, "quality", size, None)),
        heat=_numbers(_column(reader, schema, "heat", size, None)),
        # Whoosh answers None, not the default, for a document whose field is empty.
        length=np.array([reader.doc_field_length(d, DEFAULT_FIELD, 1) or 0 for d in range(size)], dtype=np.float64),
    )


def _column(reader, schema, field: str, size: int, missing, **options) -> list:
    values = list(reader.column_reader(field, **options)) if field in schema else []
    return values if len(values) == size else [missing] * size  # a column no document filled may be empty


def _numbers(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def save(folder: Path, arrays: SegmentArrays) -> None:
    """Write ``arrays`` to ``folder`` all at once (a temporary folder renamed), unless it exists."""
    temp = folder.parent / f".{folder.name}.{os.getpid()}.tmp"
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    try:
        for field in FIELDS:
            np.save(temp / f"{field}.docs.npy", arrays.pair_docs[field])
            np.save(temp / f"{field}.labels.npy", arrays.pair_labels[field])
        for name in _NUMBERS:
            np.save(temp / f"{name}.npy", getattr(arrays, name))
        (temp / "labels.json").write_text(json.dumps({"format": FORMAT, "size": arrays.size, "labels": arrays.labels},
                                                     ensure_ascii=False), encoding="utf-8")
        os.replace(temp, folder)
    finally:
        shutil.rmtree(temp, ignore_errors=True)  # left only if another process saved the same segment first


def load(folder: Path, size: int) -> SegmentArrays | None:
    """The arrays saved in ``folder`` (memory-mapped), or None if there are none usable."""
    try:
        head = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
        if head.get("format") != FORMAT or head.get("size") != size:
            return None
        mapped = lambda name: np.load(folder / f"{name}.npy", mmap_mode="r")  # noqa: E731
        return SegmentArrays(
            size=size, labels=head["labels"],
            pair_docs={f: mapped(f"{f}.docs") for f in FIELDS}, pair_labels={f: mapped(f"{f}.labels") for f in FIELDS},
            **{name: mapped(name) for name in _NUMBERS},
        )
    except (OSError, ValueError, KeyError):
        return None


def for_searcher(searcher, generation: Path) -> list[tuple[SegmentArrays, int]]:
    """``(arrays, offset)`` of every segment of ``searcher``, in its order."""
    found = []
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        if reader.segment() is None:  # an empty index
            continue
        folder = _folder(generation, reader)
        arrays = load(folder, reader.doc_count_all())
        if arrays is None:
            arrays = read(reader, searcher.schema)
            _try_save(folder, arrays)
        found.append((arrays, offset))
    return found


def _folder(generation: Path, reader) -> Path:
    return Path(generation) / FOLDER / reader.segment().segment_id()


def _try_save(folder: Path, arrays: SegmentArrays) -> None:
    try:
        folder.parent.mkdir(exist_ok=True)
        save(folder, arrays)
    except OSError:
        pass  # a read-only index: computed again at the next open


def save_missing(generation: Path, workers: int | None = None) -> None:
    """Compute and save the arrays of every segment of ``generation`` that has none
    (several segments at once on several cores), and drop those of segments merged away."""
    generation = Path(generation)
    with whoosh_index.open_dir(str(generation)).searcher() as searcher:
        missing = [sub.reader().segment().segment_id() for sub, _ in searcher.leaf_searchers()
                   if sub.reader().segment() is not None
                   and load(_folder(generation, sub.reader()), sub.reader().doc_count_all()) is None]
    workers = min(workers or os.cpu_count() or 1, len(missing))
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_save_segment, [str(generation)] * len(missing), missing))
    else:
        for segment_id in missing:
            _save_segment(str(generation), segment_id)
    for folder in (generation / FOLDER).iterdir() if (generation / FOLDER).is_dir() else ():
        if not folder.name.startswith((".", "derived-")) and not any(generation.glob(f"{folder.name}.*")):
            shutil.rmtree(folder, ignore_errors=True)


class Derived:
    """Whole-index arrays of one index state, kept in ``<generation>/arrays/derived-<toc>/``."""

    def __init__(self, generation: Path | None, toc: int | None):
        self.folder = Path(generation) / FOLDER / f"derived-{toc}" if generation is not None and toc is not None else None
        self._kept: dict[str, np.ndarray] = {}

    def get(self, name: str, compute) -> np.ndarray:
        """The array ``name``: kept in memory, else read from the folder, else ``compute()``d and saved."""
        if name in self._kept:
            return self._kept[name]
        value = self._read(name)
        if value is None:
            value = compute()
            self._try_save(name, value)
        self._kept[name] = value
        return value

    def _read(self, name: str) -> np.ndarray | None:
        if self.folder is None:
            return None
        try:
            return np.load(self.folder / f"{name}.npy", mmap_mode="r")
        except (OSError, ValueError):
            return None

    def _try_save(self, name: str, value: np.ndarray) -> None:
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for older in self.folder.parent.glob("derived-*"):  # earlier states of the index
                if older != self.folder:
                    shutil.rmtree(older, ignore_errors=True)
            temp = self.folder / f".{name}.{os.getpid()}.npy"
            np.save(temp, value)
            os.replace(temp, self.folder / f"{name}.npy")
        except OSError:
            pass  # a read-only index: computed again by the next process


def _save_segment(generation: str, segment_id: str) -> None:
    # Whoosh's memory-mapped reading is the faster one for a pass over every document.
    with whoosh_index.open_dir(generation).searcher() as searcher:
        for sub, _ in searcher.leaf_searchers():
            reader = sub.reader()
            if reader.segment() is not None and reader.segment().segment_id() == segment_id:
                _try_save(_folder(Path(generation), reader), read(reader, searcher.schema))
