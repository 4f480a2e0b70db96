"""Reading the archive: files on disk -> normalised articles + problems.

The moving parts:

* ``survey_archive`` walks a data folder for article files (``*.md``) and
  reports what it leaves out and why; ``find_article_files`` is its list.
  ``sort_entries`` holds the rule for one folder's entries (hidden names,
  other-case extensions, names that are not UTF-8, links), shared with the
  update's scan (``changes``) so that both see the same files.
* ``read_article`` turns one file into an ``Article`` (or ``None``) and the
  ``Problem`` list that explains everything odd found on the way. It never
  raises for bad input: every fault of a real archive (broken YAML, wrong
  encodings, NUL bytes, impossible dates, alias bombs...) becomes a problem
  naming the file, and anything that can still be indexed is.
* ``Article`` holds the normalised fields the schema indexes; fields the
  schema does not know are kept in ``Article.extra``.
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import hashlib
import html
import math
import os
import re
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml
from frontmatter.default_handlers import YAMLHandler

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
MAX_YAML_ALIASES = 64
NEVER_KEPT = {"secured"}

ERROR = "error"  # the file was skipped
WARNING = "warning"  # the file was indexed, but something was off


@dataclass(frozen=True)
class Problem:
    path: str  # relative to the data folder
    level: str  # ERROR or WARNING
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.level}: {self.message}"


@dataclass
class Related:
    title: str
    excerpt: str = ""
    url: str = ""
    provider: str = ""
    domain: str = ""
    published: dt.datetime | None = None


@dataclass
class Article:
    id: str
    path: str
    title: str
    excerpt: str = ""
    body: str = ""
    topics: list[str] = field(default_factory=list)
    provider: str = ""
    domain: str = ""
    published: dt.datetime | None = None
    updated: dt.datetime | None = None
    url: str = ""
    original_url: str = ""
    image: str = ""
    related: list[Related] = field(default_factory=list)
    category: str = ""
    type: str = ""
    quality: float | None = None
    heat: float | None = None
    is_published: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""


def article_id(relpath: str) -> str:
    """``2022/07/foo.md`` -> ``2022/07/foo`` (always ``/``-separated)."""
    rel = relpath.replace(os.sep, "/")
    return rel[:-3] if rel.endswith(".md") else rel


# ---------------------------------------------------------------- finding the files
#
# The rule, shared by the build's walk (``survey_archive``) and the update's
# scan (``changes.scan``) through ``sort_entries``:
#
# * an article is a file whose name ends in ``.md`` (lower case: an article's
#   id is its path without ``.md``, so ``x.md`` and ``x.MD`` would be one id);
#   ``README.md`` in any case describes the archive and is skipped quietly;
# * left out with a warning: hidden files and folders (their names start with
#   ``.``, e.g. ``.draft.md``, ``..md``, ``.git``), ``*.MD`` and other cases
#   of the extension, and links to folders in the data folder unless
#   ``follow_links`` (their articles are read where they are);
# * skipped with an error: names that are not UTF-8 (shown with ``\xNN``
#   escapes), folders that cannot be listed, links to folders outside the
#   data folder and (``read_article``) to files outside it, unless
#   ``follow_links``, and anything that is not a regular file;
# * with ``follow_links``, a link to a folder that contains it (a loop) is
#   not followed (warning).


def find_article_files(root: Path, follow_links: bool = False) -> list[str]:
    """Relative paths (``/``-separated) of every article file under ``root``, sorted
    (``survey_archive`` without the report of what was left out)."""
    return survey_archive(root, follow_links).relpaths


@dataclass
class Survey:
    """The article files of a data folder and what was left out, with why."""

    relpaths: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class SortedEntries:
    """One folder's entries under the rule: article file names, folders to enter, what was left out."""

    files: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def survey_archive(root: Path, follow_links: bool = False) -> Survey:
    """Walk ``root`` for article files (see the rule above), sorted, with the problems met."""
    survey = Survey()
    pending = [""]
    while pending:
        folder = pending.pop()
        full = os.path.join(root, folder) if folder else str(root)
        try:
            with os.scandir(full) as entries:
                found = sort_entries(root, folder, entries, follow_links)
        except OSError as exc:
            survey.problems.append(unreadable_folder(folder, exc, "its articles are skipped"))
            continue
        prefix = folder + "/" if folder else ""
        survey.relpaths.extend(prefix + name for name in found.files)
        survey.problems.extend(found.problems)
        pending.extend(prefix + name for name in found.folders)
    survey.relpaths.sort()
    return survey


def unreadable_folder(folder: str, error: OSError, consequence: str) -> Problem:
    return Problem(shown_path(folder or "."), ERROR,
                   f"is a folder that cannot be read ({error.strerror or error}); {consequence}")


def sort_entries(root: Path | str, folder: str, entries, follow_links: bool) -> SortedEntries:
    """Sort the ``os.DirEntry``s of ``folder`` (``/``-separated, in ``root``) by the rule above."""
    found = SortedEntries()
    for entry in entries:
        name = entry.name
        try:
            is_folder = entry.is_dir()
        except OSError:
            is_folder = False
        # The usual entry, an article file, taken here without a call of its own (an update
        # sorts every entry of the archive): what _why_left_out lets in, ASCII being UTF-8.
        if (not is_folder and name[-3:] == ".md" and name[0] != "." and name.isascii()
                and (len(name) != 9 or name.lower() != "readme.md")):  # lower() only for a name as long as README.md
            found.files.append(name)
            continue
        if not is_folder and name[-3:].lower() != ".md":
            continue  # neither a folder nor anything like an article
        problem = _why_left_out(root, folder, entry, is_folder, follow_links)
        if problem is None:
            (found.folders if is_folder else found.files).append(name)
        elif problem is not _README:
            found.problems.append(problem)
    return found


_README = Problem("", WARNING, "")  # left out without a word: README.md describes the archive


def _why_left_out(root: Path | str, folder: str, entry, is_folder: bool, follow_links: bool) -> Problem | None:
    """Why a folder, or a file named like an article, is left out; None if it is not."""
    name = entry.name
    if _is_utf8(name) and not name.startswith("."):  # the usual case first: no path is made for it
        if is_folder and not entry.is_symlink():
            return None
        if not is_folder and name.endswith(".md"):
            return _README if name.lower() == "readme.md" else None
    relpath = f"{folder}/{name}" if folder else name
    what = "folder" if is_folder else "file"
    if not _is_utf8(name):
        return Problem(shown_path(relpath), ERROR,
                       f"is a {what} whose name is not UTF-8 (shown with \\x escapes); skipped: rename it to index it")
    if name.startswith("."):
        return Problem(relpath, WARNING, f"is a hidden {what} (its name starts with '.'); not read")
    if is_folder:  # a link to a folder
        return _folder_link_problem(root, folder, relpath, follow_links)
    return Problem(relpath, WARNING, f"ends in '{name[-3:]}', not '.md'; not read "
                                     "(only *.md files are articles): rename it to index it")


def _folder_link_problem(root: Path | str, folder: str, relpath: str, follow_links: bool) -> Problem | None:
    """Why the link to a folder at ``relpath`` is not entered, or None to enter it."""
    if not follow_links:
        if _inside(root, os.path.join(root, relpath)):
            return Problem(relpath, WARNING, "is a link to a folder in the data folder; not followed (its articles "
                                             "are read where they are; --follow-links follows links)")
        return Problem(relpath, ERROR, "is a link to a folder outside the data folder; skipped "
                                       "(--follow-links follows links)")
    try:
        target = os.stat(os.path.join(root, relpath))
        chain = [os.stat(os.path.join(root, *folder.split("/")[:depth])) for depth in range(folder.count("/") + 2)] \
            if folder else [os.stat(root)]
    except OSError as exc:
        return Problem(relpath, ERROR, f"is a link to a folder that cannot be read ({exc.strerror or exc}); skipped")
    if any(os.path.samestat(target, ancestor) for ancestor in chain):
        return Problem(relpath, WARNING, "is a link to a folder that contains it (a loop); not followed")
    return None


def _inside(root: Path | str, path: str) -> bool:
    """Whether ``path``, links resolved, is in the folder ``root`` (links resolved too)."""
    return _inside_real(root, os.path.realpath(path))


def _inside_real(root: Path | str, real: str) -> bool:
    try:
        folder = os.stat(root)
    except OSError:
        return False
    # Keyed by the folder itself too: a data folder that is a link switched to another release is another folder.
    real_root = _real_root(str(root), folder.st_dev, folder.st_ino)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _opened_path(descriptor: int, path: str) -> str:
    """The real path of an open file: one readlink on Linux, where
    ``os.path.realpath`` costs a stat per folder of the path (20 us a file)."""
    try:
        return os.readlink(f"/proc/self/fd/{descriptor}")
    except OSError:
        return os.path.realpath(path)


def _read_at_most(descriptor: int, limit: int, expected: int) -> bytes:
    """Up to ``limit`` bytes of an open file, to its end.

    The first read asks for the size ``stat`` gave plus one byte, not for
    ``limit``: a buffer of the limit (5 MB) for every 4 kB article cost more
    than the rest of the reading. Reads go on until the end of the file, as
    a buffered ``read(limit)`` does, so a file that grew is read up to the limit.
    """
    chunk = os.read(descriptor, min(expected + 1, limit))
    chunks, size = [chunk], len(chunk)
    while chunk and size < limit:
        chunk = os.read(descriptor, min(limit - size, _READ_CHUNK))
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


_READ_CHUNK = 64 * 1024


@functools.lru_cache(maxsize=64)
def _real_root(root: str, device: int, inode: int) -> str:
    return os.path.realpath(root)


def _is_utf8(name: str) -> bool:
    """Whether a file name (as Python decodes it: undecodable bytes as surrogates) is UTF-8."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown_path(relpath: str) -> str:
    """``relpath`` safe to print and to put in JSON: bytes that are not UTF-8 as ``\\xNN``."""
    if _is_utf8(relpath):
        return relpath
    return relpath.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def is_article_name(name: str) -> bool:
    """Whether a file called ``name`` is an article by name (the rule above)."""
    return name.endswith(".md") and not name.startswith(".") and name.lower() != "readme.md" and _is_utf8(name)


# ---------------------------------------------------------------- decoding


def _cp1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    bad = error.object[error.start:error.end]
    return bad.decode("cp1252", errors="replace"), error.end


codecs.register_error("newsearch-cp1252", _cp1252_fallback)
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


_NOT_CONTROL_BYTES = bytes(byte for byte in range(256) if not _CONTROL.match(chr(byte)) or byte >= 0x80)


def _has_control(text: str, raw: bytes) -> bool:
    """Whether ``_CONTROL`` finds anything in ``text``, decoded from ``raw``.

    An ASCII text's characters are its bytes, and a ``bytes.translate`` that
    deletes every byte but the control ones is seven times faster than the
    pattern's search.
    """
    if text.isascii():
        return bool(raw.translate(None, _NOT_CONTROL_BYTES))
    return _CONTROL.search(text) is not None


def decode(raw: bytes, note) -> str:
    """Bytes -> text, noting BOMs, non-UTF-8 bytes, control characters and CRLF line endings.

    Bytes that are not UTF-8 are read as cp1252 (Windows' Western encoding,
    a superset of latin-1's printable range) one by one, so a file with a
    single stray byte keeps the rest of its UTF-8 intact.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        note(WARNING, "starts with a UTF-8 byte-order mark (ignored)")
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = raw.decode("utf-8", errors="newsearch-cp1252")
        note(WARNING, f"is not valid UTF-8 (first bad byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                      "those bytes were read as cp1252")
    if "\r" in text:
        note(WARNING, "has CRLF (Windows) line endings; normalised")
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _has_control(text, raw):
        note(WARNING, "contains control characters; removed")
        text = _CONTROL.sub("", text)
    return text


# ---------------------------------------------------------------- YAML


class _ArticleLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):
    """Safe YAML without implicit timestamps.

    PyYAML turns ``2021-02-30`` into a date and fails the whole document
    when the date is impossible; we read dates ourselves so one bad date
    costs only the date.
    """


_ArticleLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_INT_TAG = "tag:yaml.org,2002:int"
_PLAIN_TAGS = frozenset(  # scalar tags built by PyYAML's own method for them, called directly
    f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float"))
_TAG_CACHE_SIZE = 4096


class _FastArticleLoader(_ArticleLoader):
    """``_ArticleLoader`` with a cheaper resolver, for ``load_yaml``.

    The C parser calls the resolver in Python for every node, and PyYAML's
    asks the implicit resolvers of the scalar's first character every time.
    This one says ``str`` at once for quoted scalars and for plain ones whose
    first character no implicit resolver starts with (most titles, excerpts
    and URLs), and remembers the answer for the other plain values
    (``news``, ``27``, ``true``...): implicit resolution depends only on the
    value. Valid while the loader has no path resolvers and no wildcard
    implicit resolvers, which ``_fast_resolve_applies`` checks.
    """

    _tags: dict[str, str] = {}

    # Without path resolvers PyYAML's descend_resolver and ascend_resolver return at once, but the
    # C composer calls them for every node: built-ins that take the same arguments and do nothing
    # cost less than a Python method. ({}.get(parent, index) gives index back; tuple() gives ().)
    descend_resolver = staticmethod({}.get)
    ascend_resolver = staticmethod(tuple)

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode:
            if not implicit[0]:
                return _STR_TAG
            if value and value[0] not in _RESOLVED_FIRST:
                return _STR_TAG
            tag = self._tags.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(self._tags) >= _TAG_CACHE_SIZE:
                    self._tags.clear()
                self._tags[value] = tag
            return tag
        return _COLLECTION_TAGS[kind]


_RESOLVED_FIRST = frozenset(first for first in _ArticleLoader.yaml_implicit_resolvers if first)
_COLLECTION_TAGS = {yaml.SequenceNode: _SEQ_TAG, yaml.MappingNode: _MAP_TAG}


def _fast_resolve_applies() -> bool:
    loader = _ArticleLoader
    return (not loader.yaml_path_resolvers and None not in loader.yaml_implicit_resolvers
            and (loader.DEFAULT_SCALAR_TAG, loader.DEFAULT_SEQUENCE_TAG, loader.DEFAULT_MAPPING_TAG)
            == (_STR_TAG, _SEQ_TAG, _MAP_TAG))


if not _fast_resolve_applies():  # pragma: no cover - a PyYAML that resolves differently
    _FastArticleLoader = _ArticleLoader  # noqa: F811


class _Unusual(Exception):
    """Something ``_build`` leaves to PyYAML's constructor."""


def load_yaml(text: str) -> Any:
    """``yaml.load(text, Loader=_ArticleLoader)``, built faster.

    PyYAML's constructor makes each node's value through several Python calls
    (``construct_object``, a generator per mapping and list...). The common
    documents hold only plain mappings, lists and scalars: ``_build`` makes
    those directly from the node tree. Anything else (merge keys, ``=`` keys,
    other tags, a collection met twice through an alias, keys that cannot be
    dict keys, any error) gives the same node tree to PyYAML's constructor,
    so values, types and errors are PyYAML's own.
    """
    loader = _FastArticleLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return _build(node, loader, set())
        except Exception:  # noqa: BLE001 - PyYAML's constructor decides, and raises its own errors
            return loader.construct_document(node)
    finally:
        loader.dispose()


def _build(node, loader, seen: set[int]) -> Any:
    tag = node.tag
    kind = node.__class__
    if kind is yaml.ScalarNode:
        if tag == _STR_TAG:
            return node.value
        if tag == _INT_TAG and node.value.isdecimal() and node.value[0] != "0":
            return int(node.value)  # what construct_yaml_int makes of plain digits ('0...' is octal)
        if tag in _PLAIN_TAGS:
            return loader.yaml_constructors[tag](loader, node)
        raise _Unusual  # '<<' and '=' keys too
    if id(node) in seen:  # an alias of a collection: objects shared, perhaps a loop
        raise _Unusual
    seen.add(id(node))
    if kind is yaml.MappingNode and tag == _MAP_TAG:
        mapping = {}
        for key_node, value_node in node.value:
            # A list or mapping as a key raises TypeError (unhashable), as nesting deeper than
            # the stack raises RecursionError: PyYAML's constructor then says what it says.
            # (Text, the usual key and value, is taken here rather than through a call.)
            if key_node.tag == _STR_TAG and key_node.__class__ is yaml.ScalarNode:
                key = key_node.value
            else:
                key = _build(key_node, loader, seen)
            if value_node.tag == _STR_TAG and value_node.__class__ is yaml.ScalarNode:
                mapping[key] = value_node.value
            else:
                mapping[key] = _build(value_node, loader, seen)
        return mapping
    if kind is yaml.SequenceNode and tag == _SEQ_TAG:
        return [_build(item, loader, seen) for item in node.value]
    raise _Unusual


class _ArticleYAML(YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        return load_yaml(fm)

    def split(self, text: str) -> tuple[str, str]:
        """``YAMLHandler.split``, with the closing line looked for after a newline.

        ``FM_BOUNDARY`` starts with a '^' under re.M, which is tried at every
        character up to the closing line; a pattern that starts with '\\n' is
        searched for. The opening line is where ``detect`` found it, and the
        closing one ends where the boundary's ``$`` holds, before a newline, so
        the closing line starts after a newline at or past the opening's end.
        """
        opening = self.FM_BOUNDARY.match(text) if _FAST_SPLIT else None
        closing = _FM_CLOSING.search(text, opening.end()) if opening else None
        if closing is None:
            return super().split(text)  # the library's answer, or its ValueError when not closed
        return text[opening.end():closing.start() + 1], text[closing.end():]


_FAST_SPLIT = YAMLHandler.FM_BOUNDARY.pattern == r"^-{3,}\s*$" and YAMLHandler.FM_BOUNDARY.flags & re.M
_FM_CLOSING = re.compile(r"\n-{3,}\s*$", re.M)


_YAML = _ArticleYAML()
_ALIAS = re.compile(r"(?:^|[\s\[{,:-])\*[^\s\]},]+", re.M)


def parse_front_matter(text: str, note) -> tuple[dict | None, str]:
    """Split and parse the front matter; ``None`` metadata means unusable.

    Damaged front matter (invalid YAML, or never closed) is salvaged line by
    line when that recovers a title: the article is indexed with a warning.
    """
    if not _YAML.detect(text):
        note(WARNING, "has no YAML front matter; the whole file is read as the body")
        return {}, text
    try:
        fm, content = _YAML.split(text)
        unclosed = ""
    except ValueError:
        fm, content = text.lstrip().removeprefix("---"), ""
        unclosed = "front matter is not closed by a '---' line"
    if "*" in fm and len(_ALIAS.findall(fm)) > MAX_YAML_ALIASES:
        note(ERROR, f"front matter uses more than {MAX_YAML_ALIASES} YAML aliases (a possible alias bomb); skipped")
        return None, ""
    try:
        data = _YAML.load(fm)
        problem = unclosed
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        # The front matter text starts with the newline after the opening '---' (file line 1).
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problem, data = f"invalid YAML front matter{at}: {reason}", None
    except (ValueError, TypeError, RecursionError) as exc:
        problem, data = f"invalid YAML front matter: {exc}", None
    if data is None and problem:
        data = _salvage(fm)
        if not isinstance(data.get("title"), (str, int, float)):
            note(ERROR, f"{problem}; skipped")
            return None, ""
        note(WARNING, f"{problem}; {len(data)} field(s) recovered line by line")
    elif problem:
        note(WARNING, problem)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        note(ERROR, f"front matter is a {type(data).__name__}, not a mapping of fields")
        return None, ""
    return data, content


_TOP_LEVEL_KEY = re.compile(r"[A-Za-z_][\w-]*:(\s|$)")


def _salvage(fm: str) -> dict:
    """The top-level ``key: value`` lines of damaged front matter that parse on their own."""
    fields = {}
    for line in fm.splitlines():
        if not _TOP_LEVEL_KEY.match(line):
            continue
        try:
            value = yaml.load(line, Loader=_ArticleLoader)  # noqa: S506 - a safe loader
        except (yaml.YAMLError, ValueError, TypeError):
            continue
        if isinstance(value, dict):
            fields.update({k: v for k, v in value.items() if v is not None})
    return fields


# ---------------------------------------------------------------- values


def text_value(value: Any, name: str, note, *, required: bool = False) -> str:
    """A scalar field as clean text; numbers become their text, lists are reported."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return clean_inline(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    note(WARNING, f"'{name}' is a {_kind(value)}, not text; ignored")
    return ""


def _kind(value: Any) -> str:
    return {list: "list", dict: "mapping"}.get(type(value), type(value).__name__)


def topics_value(value: Any, note) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return _unique(t for t in (clean_inline(p) for p in value.split(",")) if t)
    if isinstance(value, (int, float)):
        return [str(value)]
    if isinstance(value, list):
        kept = []
        for item in value:
            if isinstance(item, (str, int, float)) and not isinstance(item, bool):
                if text := clean_inline(str(item)):
                    kept.append(text)
            elif isinstance(item, dict) and isinstance(item.get("name"), str):
                kept.append(clean_inline(item["name"]))
            else:
                note(WARNING, f"a topic is a {_kind(item)}, not text; ignored")
        return _unique(kept)
    note(WARNING, f"'topics' is a {_kind(value)}, not a list; ignored")
    return []


def _unique(items) -> list[str]:
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.casefold(), item)
    return list(seen.values())


def provider_value(value: Any, note) -> tuple[str, str]:
    if value is None:
        return "", ""
    if isinstance(value, str):
        name = clean_inline(value)
        return (name, name.lower()) if _looks_like_domain(name) else (name, "")
    if isinstance(value, dict):
        name = text_value(value.get("name"), "provider.name", note)
        domain = text_value(value.get("domain"), "provider.domain", note).lower()
        return name or domain, domain
    note(WARNING, f"'provider' is a {_kind(value)}, not a name or mapping; ignored")
    return "", ""


def _looks_like_domain(text: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", text.lower()))


_LOOSE_DATE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.I,
)


def date_value(value: Any, name: str, note) -> dt.datetime | None:
    """Any date the archives use -> an aware UTC datetime; impossible -> None + warning."""
    if value is None or value == "":
        return None
    try:
        stamp = _to_utc(value)
    except (ValueError, OverflowError, OSError):  # e.g. year 9999 at -12:00 is past datetime.max in UTC
        stamp = None
    if stamp is None:
        note(WARNING, f"'{name}' has an impossible or unreadable date {str(value)[:40]!r}; kept without a date")
    return stamp


def _to_utc(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return _as_utc(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1e11:
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    if isinstance(value, str):
        return _parse_date_text(value.strip())
    return None


def _parse_date_text(text: str) -> dt.datetime | None:
    """ISO 8601 as Python reads it (Z, offsets, long fractions), else the
    unpadded forms some archives write (``2021-6-1 9:05``)."""
    try:
        return _as_utc(dt.datetime.fromisoformat(text))
    except ValueError:
        pass
    match = _LOOSE_DATE.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, frac, zone = match.groups()
    tz = dt.timezone.utc
    if zone and zone.upper() != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    stamp = dt.datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
        int((frac or "0").ljust(6, "0")), tzinfo=tz,
    )
    return _as_utc(stamp)


def _as_utc(stamp: dt.datetime) -> dt.datetime:
    if stamp.tzinfo is None:
        return stamp.replace(tzinfo=dt.timezone.utc)
    return stamp.astimezone(dt.timezone.utc)


def number_value(value: Any, name: str, note) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        note(WARNING, f"'{name}' is a boolean, not a number; ignored")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        note(WARNING, f"'{name}' is not a number ({str(value)[:40]!r}); ignored")
        return None
    except OverflowError:  # an integer past any float
        note(WARNING, f"'{name}' is too large a number; ignored")
        return None
    return number if math.isfinite(number) else None


def bool_value(value: Any, name: str, note) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "yes", "1", "false", "no", "0"}:
        return value.strip().lower() in {"true", "yes", "1"}
    note(WARNING, f"'{name}' is not true/false ({str(value)[:40]!r}); ignored")
    return None


def first_image(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        for item in value:
            url = item.get("url") if isinstance(item, dict) else item
            if isinstance(url, str) and url.strip():
                return url.strip()
    return ""


def related_value(value: Any, note) -> list[Related]:
    if value is None:
        return []
    if not isinstance(value, list):
        note(WARNING, f"'related' is a {_kind(value)}, not a list; ignored")
        return []
    items = []
    for entry in value:
        if not isinstance(entry, dict):
            note(WARNING, "a 'related' entry is not a mapping; ignored")
            continue
        name, domain = provider_value(entry.get("provider"), note)
        items.append(
            Related(
                title=text_value(entry.get("title"), "related.title", note),
                excerpt=text_value(entry.get("excerpt"), "related.excerpt", note),
                url=text_value(entry.get("webUrl") or entry.get("originalUrl") or entry.get("url"), "related.webUrl", note),
                provider=name,
                domain=domain,
                published=date_value(entry.get("publishedDateTime"), "related.publishedDateTime", note),
            )
        )
    return items


# ---------------------------------------------------------------- text


# Every pattern is linear in the text: a quantifier that could run to the end
# of the text is bounded or stops at the next opening character, so a body of
# thousands of unclosed '<div' or '[' costs one pass, not one pass per mark.
_TAG_REST = r"\b[^<>]{0,2000}>"  # attributes, up to the tag's end
_HIDDEN = ("script", "style", "noscript", "template")
_COMMENT = re.compile(r"<!--.*?(-->|$)", re.S)
# One pattern for every tag and a set lookup of its name: an alternation of
# fifty names, ignoring case, is tried name by name at every '<'.
_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]{0,15})" + _TAG_REST)
_BLOCK_NAMES = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 tr table blockquote section article figure header footer".split())
# Only real HTML tag names: Reuters writes tickers as <BP> and those are words.
_INLINE_NAMES = frozenset(
    "a abbr b i em strong span img iframe figcaption small sup sub u s code pre hr td th thead tbody font center "
    "video audio source picture time mark cite q dl dt dd nav aside main label button input form embed object".split())
_MD_IMAGE = re.compile(r"!\[([^\[\]]{0,1000})\]\([^()]{0,2000}\)")
_MD_LINK = re.compile(r"\[([^\[\]]{1,1000})\]\([^()]{0,2000}\)")
# A mark at the start of a line. The first line is matched on its own and the
# others after their '\n': a search for a pattern that starts with a literal
# skips to it, where a '^' under re.M is tried at every character.
_MD_LINE_MARK = r"[ \t]{0,3}(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d+\.[ \t]+)"
_MD_FIRST_LINE_MARK = re.compile(_MD_LINE_MARK)
_MD_LINE_MARKS = re.compile("\n" + _MD_LINE_MARK)
_MD_EMPHASIS = re.compile(r"\*\*|__|`+")
_ODD_SPACES = str.maketrans("\t\f\v\u00a0", "    ")  # each becomes a space...
# (The next two are written to start with a literal, which re searches for;
# ' {2,}' and '\n{3,}' are tried at every character.)
_SPACE_RUNS = re.compile("   *")  # ...and a run of spaces one space
_BLANK_LINES = re.compile("\n\n\n+")


def plain_text(markup: str) -> str:
    """Markdown/HTML body -> plain text, dropping scripts, styles and markup."""
    text = markup
    if "<" in text:
        text = _drop_hidden(text)
        text = _COMMENT.sub(" ", text)
        text = _TAG.sub(_without_tag, text)
    # A one-character test first where a two-character one would scan slower.
    if "]" in text and "](" in text:
        text = _MD_IMAGE.sub(r"\1", text)
        text = _MD_LINK.sub(r"\1", text)
    if first := _MD_FIRST_LINE_MARK.match(text):
        text = text[first.end():]
    text = _MD_LINE_MARKS.sub("\n", text)
    if ("*" in text and "**" in text) or ("_" in text and "__" in text) or "`" in text:
        text = _MD_EMPHASIS.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    # Each step only when needed: these run over every body.
    if "\t" in text or "\u00a0" in text or "\f" in text or "\v" in text:
        text = text.translate(_ODD_SPACES)
    if "  " in text:
        text = _SPACE_RUNS.sub(" ", text)
    # No two spaces are left, so at most one space stands on each side of a line break.
    text = text.replace(" \n", "\n").replace("\n ", "\n")  # (as cheap as a test when there is none)
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


_TAG_BECOMES = {name: "\n" for name in _BLOCK_NAMES} | {name: "" for name in _INLINE_NAMES}


def _without_tag(match: re.Match) -> str:
    """A block tag becomes a line break, an inline tag nothing; anything else is text.
    (Called once per tag of a body, so the common lower-case name is looked up first.)"""
    name = match[1]
    becomes = _TAG_BECOMES.get(name)
    return becomes if becomes is not None else _TAG_BECOMES.get(name.lower(), match[0])


@functools.lru_cache(maxsize=None)
def _hidden_open(names: tuple[str, ...]) -> re.Pattern:
    return re.compile(rf"<({'|'.join(names)})" + _TAG_REST, re.I)


def _drop_hidden(text: str) -> str:
    """Drop script, style, noscript and template elements with their content.
    An unclosed script or style hides the rest of the text; an unclosed
    noscript or template is left to the tag filters. One pass: each closing
    tag is looked for once per element, and a name found unclosed is not
    looked for again."""
    kept, position, looked_for = [], 0, _HIDDEN
    while looked_for and (match := _hidden_open(looked_for).search(text, position)):
        name = match.group(1).lower()
        closing = re.compile(rf"</{name}\s*>", re.I).search(text, match.end())
        kept.append(text[position:match.start()])
        if closing is None and name in ("script", "style"):
            return "".join(kept) + " "
        if closing is None:
            looked_for = tuple(other for other in looked_for if other != name)
            kept.append(match.group())
            position = match.end()
            continue
        kept.append(" ")
        position = closing.end()
    kept.append(text[position:])
    return "".join(kept)


def clean_inline(text: str) -> str:
    """A one-line field (title, excerpt, name): markup and runs of space removed."""
    if "<" in text or "&" in text:
        text = plain_text(text)
    return " ".join(text.split())


def title_from_body(body: str, relpath: str) -> str:
    for line in body.splitlines():
        line = line.strip()
        if line:
            return line[:200]
    slug = Path(relpath).stem
    slug = re.sub(r"^\d{4}-\d{2}-\d{2}-(\d+-)?", "", slug)
    return slug.replace("-", " ").replace("_", " ").strip().capitalize() or relpath


# ---------------------------------------------------------------- the article


KNOWN_FIELDS = {
    "title", "excerpt", "topics", "provider", "publishedDateTime", "updatedDateTime", "webUrl",
    "originalUrl", "images", "related", "category", "type", "quality", "heat", "published", "secured",
}


def read_article(root: Path, relpath: str, max_bytes: int = DEFAULT_MAX_BYTES, *,
                 follow_links: bool = False) -> tuple[Article | None, list[Problem]]:
    """Read one file; never raises for bad content. A file that is, or is
    reached through, a link to outside ``root`` is skipped unless ``follow_links``."""
    problems: list[Problem] = []
    shown = shown_path(relpath)

    def note(level: str, message: str) -> None:
        problems.append(Problem(shown, level, message))

    full = os.path.join(root, relpath)  # a str and os calls: a Path and a buffered file cost more than the reading
    try:
        info = os.stat(full)
        if not stat.S_ISREG(info.st_mode):
            # Opening a FIFO blocks for ever and a device can read without end.
            note(ERROR, f"is not a regular file (a {_file_kind(info.st_mode)}); skipped")
            return None, problems
        descriptor = os.open(full, os.O_RDONLY)
        try:
            # Checked on the file opened, so that a link swapped in after the listing is caught too.
            if not follow_links and not _inside_real(root, _opened_path(descriptor, full)):
                note(ERROR, "is a link to a file outside the data folder; skipped (--follow-links follows links)")
                return None, problems
            if info.st_size > max_bytes:
                note(ERROR, f"is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit; skipped")
                return None, problems
            raw = _read_at_most(descriptor, max_bytes + 1, info.st_size)  # it may have grown since stat()
        finally:
            os.close(descriptor)
        if len(raw) > max_bytes:
            note(ERROR, f"is over the {max_bytes:,}-byte limit; skipped")
            return None, problems
    except OSError as exc:
        note(ERROR, f"cannot be read: {exc.strerror or exc}")
        return None, problems
    try:
        return parse_article(raw, relpath, note), problems
    except Exception as exc:  # a last line of defence: one file's verdict, never the end of a build
        note(ERROR, f"could not be read ({type(exc).__name__}: {str(exc)[:200]}); skipped")
        return None, problems


def _file_kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "named pipe"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
             (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "folder"))
    return next((name for test, name in kinds if test(mode)), "special file")


def parse_article(raw: bytes, relpath: str, note) -> Article | None:
    if not raw.strip():
        note(ERROR, "is empty")
        return None
    if b"\x00" in raw:
        note(ERROR, "contains NUL bytes (a binary file, not a markdown article)")
        return None
    text = decode(raw, note)
    metadata, content = parse_front_matter(text, note)
    if metadata is None:
        return None
    return build_article(metadata, content, relpath, hashlib.sha1(raw).hexdigest(), note)


def build_article(meta: dict, content: str, relpath: str, fingerprint: str, note) -> Article:
    body = plain_text(content) if content.strip() else ""
    title = _title(meta, body, relpath, note)
    provider, domain = provider_value(meta.get("provider"), note)
    url = text_value(meta.get("webUrl"), "webUrl", note)
    original = text_value(meta.get("originalUrl"), "originalUrl", note)
    return Article(
        id=article_id(relpath),
        path=relpath,
        title=title,
        excerpt=text_value(meta.get("excerpt"), "excerpt", note),
        body=body,
        topics=topics_value(meta.get("topics"), note),
        provider=provider,
        domain=domain,
        published=date_value(meta.get("publishedDateTime"), "publishedDateTime", note),
        updated=date_value(meta.get("updatedDateTime"), "updatedDateTime", note),
        url=url or original,
        original_url=original,
        image=first_image(meta.get("images")),
        related=related_value(meta.get("related"), note),
        category=text_value(meta.get("category"), "category", note),
        type=text_value(meta.get("type"), "type", note),
        quality=number_value(meta.get("quality"), "quality", note),
        heat=number_value(meta.get("heat"), "heat", note),
        is_published=bool_value(meta.get("published"), "published", note),
        extra=_extra_fields(meta, note),
        fingerprint=fingerprint,
    )


def _title(meta: dict, body: str, relpath: str, note) -> str:
    value = meta.get("title")
    if isinstance(value, (list, dict)):
        note(WARNING, f"'title' is a {_kind(value)}, not text; using a title from the body or file name")
        value = None
    title = text_value(value, "title", note)
    if not title:
        if "title" not in meta or value is None:
            note(WARNING, "has no title; using the first line of the body or the file name")
        title = title_from_body(body, relpath)
    return title


def _extra_fields(meta: dict, note) -> dict[str, Any]:
    extra = {}
    for key, value in meta.items():
        key = str(key)
        if key in KNOWN_FIELDS or key in NEVER_KEPT:
            continue
        try:
            extra[key] = _bounded_copy(value, [MAX_EXTRA_NODES])
        except OverflowError:
            note(WARNING, f"unknown field '{key}' is too large or too deeply nested to keep; not kept")
    return extra


MAX_EXTRA_NODES = 5_000


def _bounded_copy(value: Any, budget: list[int], depth: int = 0) -> Any:
    """A JSON-safe copy that gives up (OverflowError) past a node budget.

    YAML aliases share objects, so a small file can describe an enormous
    tree; counting nodes as we copy keeps that bounded.
    """
    budget[0] -= 1
    if budget[0] < 0 or depth > 20:
        raise OverflowError
    if isinstance(value, dict):
        return {str(k): _bounded_copy(v, budget, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_bounded_copy(v, budget, depth + 1) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def iter_articles(root: Path, relpaths: list[str], max_bytes: int = DEFAULT_MAX_BYTES, *,
                  follow_links: bool = False) -> Iterator[tuple[str, Article | None, list[Problem]]]:
    for relpath in relpaths:
        article, problems = read_article(root, relpath, max_bytes, follow_links=follow_links)
        yield relpath, article, problems


READ_AHEAD_FILES = 64
READ_AHEAD_PAUSE = 0.002  # seconds the read-ahead thread sleeps while far enough ahead


class ReadAhead:
    """Asks the kernel to start reading the next ``READ_AHEAD_FILES`` files of
    ``relpaths`` while the current one is parsed, from a thread of its own.

    A build is CPU-bound once the files are in the page cache; the first
    build of a big archive is not (1M articles are 4 GB of small files), and
    a worker that waits for each file's pages leaves its core idle. The
    thread only opens regular files and calls ``posix_fadvise(WILLNEED)``
    (it never reads them, so no bytes are held twice); where that call does
    not exist it does nothing. Use as a context manager and call ``next()``
    after each file is read: it only counts, because a lock or semaphore
    handed between the threads for every file cost the reader 7% of a build.
    The thread advises a batch, then sleeps until the reader is half-way
    through it.
    """

    def __init__(self, root: Path, relpaths: list[str], ahead: int = READ_AHEAD_FILES) -> None:
        self._root, self._relpaths, self._ahead = str(root), relpaths, ahead
        self.done = 0  # files the reader has read
        self._stop = threading.Event()
        self._thread = None
        if hasattr(os, "posix_fadvise") and len(relpaths) > 1:
            self._thread = threading.Thread(target=self._run, name="read-ahead", daemon=True)

    def __enter__(self) -> "ReadAhead":
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def next(self) -> None:
        """One more file was read."""
        self.done += 1

    def _run(self) -> None:
        advised = 0
        while advised < len(self._relpaths):
            if advised - self.done > self._ahead // 2:
                if self._stop.wait(READ_AHEAD_PAUSE):
                    return
                continue
            advised = max(advised, self.done)  # fell behind the reader: skip what it has read
            for relpath in self._relpaths[advised:self.done + self._ahead]:
                if self._stop.is_set():
                    return
                _advise_will_need(os.path.join(self._root, relpath))
                advised += 1


def _advise_will_need(path: str) -> None:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return  # opening a FIFO or a device may block or do something
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return  # the reader will say what is wrong with it
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
    except OSError:
        pass
    finally:
        os.close(fd)
