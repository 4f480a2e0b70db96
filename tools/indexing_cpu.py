"""CPU per article of each stage of a build, in one process (issue 11).

    python -m tools.indexing_cpu /work/archives/a20k --articles 3000 --rounds 5

Takes ``--articles`` files of the archive (spread over it) and, for each
round, writes them as one segment of a fresh index in a temporary folder the
way a build's loop does, one article at a time, summing each stage's CPU
(``time.process_time``, not wall time: the machine is shared):
``read_article``, ``schema.index_fields``, ``BuildSegmentWriter.add_document``,
then the segment flush (``_finalize_segment``). The first round (a few
hundred articles) warms the caches (stems, page cache) and is not counted.
Prints each stage's median µs per article over the rounds. To compare two
versions of the code, run it from each worktree in turn, several times.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path

STAGES = ("read_article", "index_fields", "add_document", "flush")


def sample(relpaths: list[str], count: int) -> list[str]:
    """``count`` paths spread evenly over ``relpaths`` (in order, as a build takes them)."""
    if count >= len(relpaths):
        return relpaths
    return [relpaths[len(relpaths) * number // count] for number in range(count)]


def one_round(data: Path, relpaths: list[str]) -> dict[str, float]:
    from whoosh import index as whoosh_index

    from search.documents import read_article
    from search.indexer import writer_options
    from search.postings import BuildSegmentWriter
    from search.schema import build_schema, index_fields

    seconds = dict.fromkeys(STAGES, 0.0)
    clock = time.process_time
    words: dict[str, int] = {}
    gc.collect()
    with tempfile.TemporaryDirectory() as folder:
        ix = whoosh_index.create_in(folder, build_schema())
        writer = BuildSegmentWriter(ix, _lk=False, **writer_options())
        # One article at a time through the three stages, as a build's loop does (nothing
        # held between articles but the writer's pool), each stage's CPU summed.
        for relpath in relpaths:
            start = clock()
            article = read_article(data, relpath)[0]
            read = clock()
            if article is None:
                seconds["read_article"] += read - start
                continue
            fields = index_fields(article, words)
            analysed = clock()
            writer.add_document(**fields)
            added = clock()
            seconds["read_article"] += read - start
            seconds["index_fields"] += analysed - read
            seconds["add_document"] += added - analysed
        start = clock()
        writer._finalize_segment()
        seconds["flush"] = clock() - start
        ix.close()
    return seconds


def main(argv: list[str] | None = None) -> None:
    from search.documents import find_article_files

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    relpaths = sample(find_article_files(args.data), args.articles)
    one_round(args.data, relpaths[:200])  # warm: the stemmer, the page cache, imports
    rounds = [one_round(args.data, relpaths) for _ in range(args.rounds)]
    count = len(relpaths)
    total = 0.0
    for stage in STAGES:
        median = statistics.median(r[stage] for r in rounds)
        total += median
        print(f"{stage:14s} {median / count * 1e6:8.1f} µs/article")
    print(f"{'total':14s} {total / count * 1e6:8.1f} µs/article  ({count} articles, {args.rounds} rounds)")


if __name__ == "__main__":
    main()
