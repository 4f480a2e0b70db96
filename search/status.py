"""How the index is: ``health`` for monitoring, ``stats`` for ``newsearch index stats`` and the landing page.

Both read the generation's ``meta.json`` (when it was built or updated,
from where, how long it took) beside the open searcher; ``stats`` adds the
size on disk and the most frequent topics and providers among the live
documents (counted on the facet table's arrays, no stored fields read).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .store import read_json


def health(searcher, gen: Path) -> dict:
    """Is there an index, how big, how fresh."""
    meta = read_json(gen / "meta.json", {})
    changed = meta.get("updated") or meta.get("built")
    age = None
    if changed:
        age = (dt.datetime.now(dt.timezone.utc) - dt.datetime.fromisoformat(changed.replace("Z", "+00:00")))
    return {"status": "ok", "documents": searcher.doc_count(), "generation": gen.name,
            "built": meta.get("built"), "updated": meta.get("updated"),
            "age_seconds": round(age.total_seconds()) if age else None}


def stats(searcher, gen: Path, index: Path, top: int = 10, span=None, counts: dict | None = None) -> dict:
    """Documents, size, build and update, the archive's date ``span`` (first, last) and the ``top`` topics and
    providers of the index at ``index``: from ``counts`` (``FacetTable.count`` of the live documents:
    exact after updates) when given, else from the lexicon (which still counts deleted documents)."""
    meta = read_json(gen / "meta.json", {})
    reader = searcher.reader()
    size = sum(f.stat().st_size for f in gen.iterdir() if f.is_file())
    return {
        "index": str(index), "generation": gen.name, "documents": searcher.doc_count(),
        "size_bytes": size, "built": meta.get("built"), "updated": meta.get("updated"),
        "data": meta.get("data"), "build_seconds": meta.get("build_seconds"),
        "first_published": span and span[0].isoformat() + "Z", "last_published": span and span[1].isoformat() + "Z",
        "top_topics": counts["topics"][:top] if counts else _most_frequent(reader, "topic", top),
        "top_providers": counts["providers"][:top] if counts else _most_frequent(reader, "source", top),
    }


def _most_frequent(reader, field: str, top: int) -> list[dict]:
    counts = [(reader.doc_frequency(field, term), term) for term in reader.lexicon(field)]
    counts.sort(key=lambda p: -p[0])
    return [{"value": t.decode("utf-8") if isinstance(t, bytes) else t, "count": n} for n, t in counts[:top]]
