"""Score the spelling corrector on a judged list: does it correct misspellings, and leave real words alone?

    python -m tools.spelling_eval --index DIR [--list tests/relevance/spelling.tsv] [--per-word] [--json]
    python -m tools.spelling_eval --data ../shared/corpora/reuters-21578 ...   (builds a scratch index first)
    python -m tools.spelling_eval --index DIR --set SHORT_WORD=6 --set DICTIONARY=none   (a variant)

Each line of the list is ``<typed word> TAB <expected correction>``; an empty
correction marks a real word that must never be replaced (``#`` starts a
comment). Every word is searched as the CLI would (``Engine.search`` with
correction on), and the correction the response carries, applied or only
offered, is what counts:

* misspellings: *recall* is the share corrected to the expected word,
  *precision* the share of the corrections made that are the expected word;
  a misspelling left alone whose index terms are the expected word's
  (``begining`` and ``beginning`` both stem to ``begin``) finds the same
  articles, and is counted apart ("found as intended" adds them);
* real words: how many were replaced (results shown for another word; the
  target is 0), how many were only offered a correction ("did you mean", the
  typed word's results kept), and how many of those the archive lacks got the
  "archive has nothing for" note.

``--set NAME=VALUE`` changes one of the corrector's settings in
``search/vocabulary.py`` for this run (``DICTIONARY=none``: no word list), to
measure what each rule is worth.

Over both halves of the list, precision is right corrections / all corrections
made (one replaced or offered for a real word counts against it). Exits 1 if a real word was replaced or
fewer than ``--target`` of the misspellings were corrected.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from search import vocabulary
from search.analysis import analyze
from search.engine import Engine
from search.request import SearchRequest

DEFAULT_LIST = Path(__file__).resolve().parent.parent / "tests" / "relevance" / "spelling.tsv"


def read_list(path: Path) -> list[tuple[str, str]]:
    """``(typed, expected)`` pairs; expected is "" for a real word that must stay."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        typed, _, expected = line.partition("\t")
        pairs.append((typed.strip(), expected.strip()))
    return pairs


def judge(engine: Engine, pairs: list[tuple[str, str]]) -> list[dict]:
    rows = []
    for typed, expected in pairs:
        response = engine.search(SearchRequest(typed))
        spelling = response.spelling or {}
        corrected = spelling.get("corrected")
        rows.append({"typed": typed, "expected": expected, "corrected": corrected,
                     "applied": bool(spelling.get("applied")), "total": response.total,
                     "same_terms": bool(expected) and _terms(typed) == _terms(expected),
                     "nothing_note": any(note.code == "unknown_word" for note in response.notes)})
    return rows


def _terms(text: str) -> list[str]:
    return [term for term, *_ in analyze(text, mode="query")]


def score(rows: list[dict]) -> dict:
    misspelled = [r for r in rows if r["expected"]]
    real = [r for r in rows if not r["expected"]]
    right = sum(r["corrected"] is not None and r["corrected"].casefold() == r["expected"].casefold()
                for r in misspelled)
    made = sum(r["corrected"] is not None for r in misspelled)
    # Replaced: results shown for another word. Offered: "did you mean", the typed word's
    # (empty) results kept and the "archive has nothing" note given.
    replaced = [r["typed"] for r in real if r["corrected"] is not None and r["applied"]]
    offered = [f'{r["typed"]}/{r["corrected"]}' for r in real if r["corrected"] is not None and not r["applied"]]
    # Left alone, but indexed as the intended word (begining, occured: begin, occur): same results.
    same = sum(r["corrected"] is None and r["same_terms"] for r in misspelled)
    absent = [r for r in real if r["total"] == 0]
    return {
        "misspellings": {"words": len(misspelled), "corrected_right": right, "corrected_wrong": made - right,
                         "left_alone": len(misspelled) - made, "applied": sum(r["applied"] for r in misspelled),
                         "left_alone_same_terms": same,
                         "recall": _ratio(right, len(misspelled)), "precision": _ratio(right, made),
                         "found_as_intended": _ratio(right + same, len(misspelled))},
        "real_words": {"words": len(real), "replaced": len(replaced), "replaced_words": replaced,
                       "offered": len(offered), "offered_words": offered,
                       "kept": len(real) - len(replaced), "kept_share": _ratio(len(real) - len(replaced), len(real)),
                       "finding_nothing": len(absent), "said_nothing_found": sum(r["nothing_note"] for r in absent)},
        "overall": {"precision": _ratio(right, made + len(replaced) + len(offered)),
                    "recall": _ratio(right, len(misspelled))},
    }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def report(summary: dict) -> str:
    m, r, o = summary["misspellings"], summary["real_words"], summary["overall"]
    lines = [
        f"misspellings: {m['words']}  corrected right {m['corrected_right']} (applied {m['applied']}), "
        f"wrong {m['corrected_wrong']}, left alone {m['left_alone']}  "
        f"recall {_pct(m['recall'])}  precision {_pct(m['precision'])}",
        f"              left alone but indexed as the intended word (same results): {m['left_alone_same_terms']}; "
        f"found as intended {_pct(m['found_as_intended'])}",
        f"real words:   {r['words']}  replaced {r['replaced']}, offered a correction {r['offered']}, "
        f"kept {r['kept']} ({_pct(r['kept_share'])}); "
        f"{r['said_nothing_found']} of the {r['finding_nothing']} that find nothing say the archive has nothing for them",
        f"overall:      precision {_pct(o['precision'])} (right corrections / all corrections made or offered)  "
        f"recall {_pct(o['recall'])}",
    ]
    if r["replaced_words"]:
        lines.append("replaced real words: " + ", ".join(r["replaced_words"]))
    if r["offered_words"]:
        lines.append("offered for real words: " + ", ".join(r["offered_words"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--index", type=Path, help="an index built by `newsearch index build`")
    where.add_argument("--data", type=Path, help="a corpus folder: build a scratch index of it first")
    parser.add_argument("--list", type=Path, default=DEFAULT_LIST, help="the judged list (default: %(default)s)")
    parser.add_argument("--target", type=float, default=0.9, help="share of misspellings to correct (default 0.9)")
    parser.add_argument("--per-word", action="store_true", help="one line per word too")
    parser.add_argument("--json", action="store_true", help="the summary and the rows as JSON")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        help="change a setting of search/vocabulary.py for this run (repeatable)")
    args = parser.parse_args(argv)
    for setting in args.settings:
        name, _, value = setting.partition("=")
        if not name.isupper() or not hasattr(vocabulary, name):
            parser.error(f"--set: no setting {name!r} in search/vocabulary.py")
        setattr(vocabulary, name, value if name == "DICTIONARY" else type(getattr(vocabulary, name))(value))
    pairs = read_list(args.list)
    with tempfile.TemporaryDirectory(prefix="spelling-eval-") as scratch:
        index = args.index
        if index is None:
            index = Path(scratch) / "index"
            subprocess.run([sys.executable, "-m", "search.cli", "index", "build", "--data", str(args.data),
                            "--index", str(index)], check=True, stdout=subprocess.DEVNULL)
        engine = Engine(index)
        try:
            rows = judge(engine, pairs)
        finally:
            engine.close()
    summary = score(rows)
    if args.json:
        print(json.dumps({"summary": summary, "rows": rows}, indent=2))
    else:
        if args.per_word:
            for row in rows:
                verdict = row["corrected"] or "-"
                expected = row["expected"] or "(keep)"
                print(f"{row['typed']:16} -> {verdict:16} expected {expected:16}"
                      f"{' applied' if row['applied'] else ''}{' [nothing]' if row['nothing_note'] else ''}")
        print(report(summary))
    m, r = summary["misspellings"], summary["real_words"]
    return 0 if r["replaced"] == 0 and (m["recall"] or 0) >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
