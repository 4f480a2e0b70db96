"""Write ``search/english_words.txt.gz``: the real English words the corrector never replaces.

The list is pyspellchecker's English dictionary (MIT licence, (c) Tyler
Barrus; its author built it from OpenSubtitles word frequencies, cleaned
against known-word lists): about 128,000 words after folding (lower case, no
accents), keeping alphabetic words of two letters or more and dropping
possessives. It includes common names and modern terms (``internet``,
``google``, ``obama``, ``podcast``), and no common misspellings.

Run once, with pyspellchecker installed in a scratch environment (it is not a
dependency of newsearch; only the list ships, in the wheel)::

    pip install pyspellchecker==0.9.1
    python -m tools.make_wordlist [--out search/english_words.txt.gz]
"""

from __future__ import annotations

import argparse
import gzip
import json
from importlib import resources
from pathlib import Path

from search.analysis import fold

OUT = Path(__file__).resolve().parent.parent / "search" / "english_words.txt.gz"


def words_from_pyspellchecker() -> list[str]:
    data = resources.files("spellchecker").joinpath("resources/en.json.gz").read_bytes()
    frequencies = json.loads(gzip.decompress(data))
    words = {fold(word) for word in frequencies if word.isalpha()}
    return sorted(word for word in words if len(word) >= 2 and word.isalpha() and word.isascii())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    words = words_from_pyspellchecker()
    with open(args.out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out:
        out.write(("\n".join(words) + "\n").encode("ascii"))
    print(f"{args.out}: {len(words):,} words")


if __name__ == "__main__":
    main()
