"""How ``newsearch search`` and ``newsearch show`` write what the engine returns.

Each format turns hits (``results.Hit``) into lines, one hit at a time, so
``search --all`` streams any number of results in constant memory:

* ``text``: the readable listing (``result_lines``), for a terminal;
* ``json``: the API's response object, its ``results`` written one by one
  (``json_lines``);
* ``jsonl`` and ``csv``: one row per article with the ``RECORD_FIELDS``
  (``record``); CSV lists topics joined by ``; `` and starts with a header;
* ``ids``: the article's file path, one per line (for ``xargs -d '\\n'``);
* ``md``: a Markdown numbered list of linked titles.

``article_lines`` is the text of one article (``show``), wrapped to a width.
Nothing here reads the index: the CLI hands in what the engine returned.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from typing import Iterable, Iterator

import click

FORMATS = ("text", "json", "jsonl", "csv", "ids", "md")
# One row per article in jsonl and csv, in this order (documented in the README).
RECORD_FIELDS = ("rank", "id", "path", "title", "url", "provider", "domain", "published", "topics", "excerpt",
                 "score", "duplicate_count")


def record(hit, rank: int, data: str | None = None) -> dict:
    """One article as a row: ``path`` is its file (under ``data``, the folder the index was built from)."""
    return {"rank": rank, "id": hit.id, "path": file_path(hit.id, data), "title": hit.title, "url": hit.url,
            "provider": hit.provider, "domain": hit.domain, "published": hit.published, "topics": list(hit.topics),
            "excerpt": hit.excerpt, "score": round(hit.score, 4), "duplicate_count": hit.duplicate_count}


def file_path(doc_id: str, data: str | None) -> str:
    relpath = doc_id + ".md"
    return f"{data.rstrip('/')}/{relpath}" if data else relpath


def jsonl_lines(hits: Iterable, first: int, data: str | None) -> Iterator[str]:
    for rank, hit in enumerate(hits, first):
        yield json.dumps(record(hit, rank, data), ensure_ascii=False)


def csv_lines(hits: Iterable, first: int, data: str | None) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="")

    def row(values) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield row(RECORD_FIELDS)
    for rank, hit in enumerate(hits, first):
        values = record(hit, rank, data)
        values["topics"] = "; ".join(values["topics"])
        yield row([values[name] for name in RECORD_FIELDS])


def ids_lines(hits: Iterable, data: str | None) -> Iterator[str]:
    for hit in hits:
        yield file_path(hit.id, data)


def md_lines(hits: Iterable, first: int) -> Iterator[str]:
    for rank, hit in enumerate(hits, first):
        title = _md_text(safe(hit.title or hit.id))
        link = f"[{title}](<{hit.url}>)" if hit.url else title
        meta = " · ".join(filter(None, [_md_text(hit.provider), (hit.published or "")[:10]]))
        yield f"{rank}. {link}" + (f" — {meta}" if meta else "") + f" (`{hit.id}`)"


def _md_text(text: str) -> str:
    """Text with the characters Markdown would read as markup escaped."""
    return "".join("\\" + c if c in "\\`*_[]<>#|" else c for c in " ".join(text.split()))


def json_lines(head: dict, hits: Iterable) -> Iterator[str]:
    """``head`` (a response's JSON) with its ``results`` replaced by ``hits``, written one by one."""
    marker = "\x00results\x00"
    text = json.dumps({**head, "results": marker}, ensure_ascii=False, indent=2)
    before, after = text.split(json.dumps(marker), 1)
    yield before + "["
    separator = ""
    for hit in hits:
        item = textwrap.indent(json.dumps(hit.to_json(), ensure_ascii=False, indent=2), "    ")
        yield separator + item
        separator = ","
    yield "  ]" + after if separator else "]" + after


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 result``, ``2 results``, ``1,452 results``."""
    return f"{count:,} {word if count == 1 else words or word + 's'}"


_CONTROLS = dict.fromkeys([*range(0x00, 0x09), *range(0x0b, 0x20), *range(0x7f, 0xa0)], " ")


def safe(text) -> str:
    """``text`` without control characters (an escape sequence in an article must not
    drive the terminal); newlines and tabs stay."""
    return str(text or "").translate(_CONTROLS)


def _styled(segments, **style) -> str:
    return "".join(click.style(safe(text), bold=True, **style) if hit else safe(text) for text, hit in segments)


def result_lines(hits: Iterable, first: int) -> Iterator[str]:
    """The readable listing of ``hits``, numbered from ``first``."""
    from .highlighting import to_text

    for number, hit in enumerate(hits, first):
        yield f"{number:>3}. " + _styled(hit.title_segments, fg="cyan")
        meta = " · ".join(filter(None, [hit.provider, (hit.published or "")[:10], ", ".join(hit.topics)]))
        yield f"     {safe(meta)}"
        yield f"     {safe(hit.url or hit.id)}"
        if to_text(hit.snippet_segments):
            yield "     " + _styled(hit.snippet_segments)
        if hit.duplicates:
            names = safe(", ".join(dict.fromkeys(c["provider"]["name"] or c["id"] for c in hit.duplicates)))
            more = ", …" if hit.duplicate_count > len(hit.duplicates) else ""
            yield f"     and {hit.duplicate_count} more: {names}{more}"
        yield ""


def article_lines(article: dict, width: int, path: str | None = None) -> Iterator[str]:
    """One article (``Engine.article``) as text wrapped to ``width`` columns."""
    width = max(20, width)
    article = _safe_values(article)
    wrap = lambda text, indent="": textwrap.wrap(text, width, initial_indent=indent,  # noqa: E731
                                                 subsequent_indent=indent) or [""]
    yield from (click.style(line, bold=True) for line in wrap(article.get("title") or article["id"]))
    published = article.get("published") or ""
    meta = [article["provider"]["name"] or article["provider"]["domain"],
            published[:16].replace("T", " ") + (" UTC" if published else ""), ", ".join(article.get("topics") or [])]
    yield from wrap(" · ".join(filter(None, meta)))
    if article.get("url"):
        yield article["url"]
    fields = [("id", article["id"]), ("file", path), ("updated", article.get("updated")),
              ("original", article.get("original_url") if article.get("original_url") != article.get("url") else ""),
              ("category", article.get("category")), ("type", article.get("type"))]
    for name, value in fields:
        if value:
            yield f"{name + ':':<10}{value}"
    from .highlighting import repeats

    excerpt = " ".join((article.get("excerpt") or "").split())
    paragraphs = _paragraphs(article.get("body") or "")
    # As the article page: no excerpt that only repeats the body's opening or the title.
    if excerpt and not repeats(excerpt, article.get("body") or "") and not repeats(excerpt, article.get("title") or ""):
        yield ""
        yield from (click.style(line, italic=True) for line in wrap(excerpt))
    for paragraph in paragraphs:
        yield ""
        yield from wrap(paragraph)
    related = article.get("related") or []
    if related:
        yield ""
        yield click.style(f"Related coverage ({len(related)})", bold=True)
        for item in related:
            head = " — ".join(filter(None, [item.get("title"), ", ".join(
                filter(None, [item.get("provider") or item.get("domain"), (item.get("published") or "")[:10]]))]))
            if head:
                yield from textwrap.wrap(head, width, initial_indent="  - ", subsequent_indent="    ")
            if item.get("url"):
                yield f"    {item['url']}"


def _paragraphs(body: str) -> list[str]:
    """The body's paragraphs (blank-line separated), each on one line."""
    return [" ".join(part.split()) for part in body.replace("\r\n", "\n").split("\n\n") if part.strip()]


def _safe_values(value):
    """``value`` (an article) with every string ``safe``."""
    if isinstance(value, str):
        return safe(value)
    if isinstance(value, dict):
        return {key: _safe_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_safe_values(item) for item in value]
    return value
