"""Reading article files: ids, discovery, field normalisation, bodies and every messy input.

Fixture files are written as bytes into ``tmp_path`` so encodings, BOMs and line endings are exactly
what the test says. The last part reads the real sample archive in ``data/``.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import os
import random
import re
import stat
import time
from pathlib import Path

import pytest
import yaml
from frontmatter.default_handlers import YAMLHandler

from search import documents
from search.documents import (
    ERROR,
    WARNING,
    Article,
    article_id,
    find_article_files,
    plain_text,
    read_article,
)

UTC = dt.timezone.utc
DATA = Path(__file__).resolve().parent.parent / "data"


# ---------------------------------------------------------------- helpers


def write(root: Path, relpath: str, data: bytes | str) -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def read(root: Path, relpath: str, data: bytes | str, **kwargs) -> tuple[Article | None, list]:
    write(root, relpath, data)
    return read_article(root, relpath, **kwargs)


def levels(problems) -> list[str]:
    return [p.level for p in problems]


def errors(problems):
    return [p for p in problems if p.level == ERROR]


def warnings(problems):
    return [p for p in problems if p.level == WARNING]


def assert_problems_name_file(problems, relpath):
    assert problems, "expected at least one problem"
    for p in problems:
        assert p.path == relpath
        assert p.level in (ERROR, WARNING)
        assert p.message.strip()
        assert relpath in str(p)


def assert_utc(stamp: dt.datetime | None, expected: dt.datetime):
    assert stamp is not None
    assert stamp.tzinfo is not None and stamp.utcoffset() == dt.timedelta(0)
    assert stamp == expected


# ---------------------------------------------------------------- ids and discovery


@pytest.mark.parametrize(
    "relpath, expected",
    [
        ("2022/07/2022-07-12-foo.md", "2022/07/2022-07-12-foo"),
        ("top.md", "top"),
        ("a/b/c/d/deep.md", "a/b/c/d/deep"),
        ("2022/06/eu-ban-2035-1.md", "2022/06/eu-ban-2035-1"),
        # Only the final ".md" suffix goes; a ".md" inside the name stays.
        ("notes/readme.md.md", "notes/readme.md"),
    ],
)
def test_article_id_is_relative_path_without_md(relpath, expected):
    assert article_id(relpath) == expected


def test_read_article_sets_id_and_path_for_nested_file(tmp_path):
    rel = "2021/03/sub/2021-03-24-nested-story.md"
    article, problems = read(tmp_path, rel, "---\ntitle: Nested\n---\nBody.\n")
    assert problems == []
    assert article.id == "2021/03/sub/2021-03-24-nested-story"
    assert article.path == rel


def test_find_article_files_is_recursive_sorted_and_skips_readme(tmp_path):
    for rel in [
        "b/2.md",
        "a/z/deep.md",
        "a/1.md",
        "top.md",
        "README.md",
        "a/readme.md",
        "b/Readme.MD.txt",
        "b/notes.txt",
        "a/image.png",
    ]:
        write(tmp_path, rel, "---\ntitle: x\n---\n")
    found = find_article_files(tmp_path)
    assert found == ["a/1.md", "a/z/deep.md", "b/2.md", "top.md"]
    # Every entry is relative, "/"-separated and readable from the root.
    for rel in found:
        assert not rel.startswith("/")
        assert (tmp_path / rel).is_file()


def test_find_article_files_empty_folder(tmp_path):
    assert find_article_files(tmp_path) == []


def sorted_entry_by_entry(root, folder, entries, follow_links):
    """``sort_entries`` without its fast path for the usual article file: every entry through ``_why_left_out``."""
    found = documents.SortedEntries()
    for entry in entries:
        try:
            is_folder = entry.is_dir()
        except OSError:
            is_folder = False
        if not is_folder and entry.name[-3:].lower() != ".md":
            continue
        problem = documents._why_left_out(root, folder, entry, is_folder, follow_links)
        if problem is None:
            (found.folders if is_folder else found.files).append(entry.name)
        elif problem is not documents._README:
            found.problems.append(problem)
    return found


@pytest.mark.parametrize("follow_links", [False, True])
def test_sort_entries_fast_path_lets_in_and_leaves_out_what_the_rule_does(tmp_path, follow_links):
    root = tmp_path / "data"
    folder = root / "2022"
    folder.mkdir(parents=True)
    for name in ["plain.md", ".hidden.md", "..md", ".md", "README.md", "readme.md", "ReadMe.md", "readme.md.md",
                 "UPPER.MD", "mixed.Md", "café.md", "notes.txt", "md", "x.md.txt", " spaced .md", "tab\t.md"]:
        (folder / name).write_text("---\ntitle: t\n---\n")
    os.close(os.open(os.path.join(os.fsencode(folder), b"caf\xe9.md"), os.O_CREAT | os.O_WRONLY))
    for name in ["folder.md", "sub", ".git", "README.md.d"]:
        (folder / name).mkdir()
    os.mkfifo(folder / "pipe.md")
    (folder / "alias.md").symlink_to(folder / "plain.md")
    (folder / "broken.md").symlink_to(folder / "nowhere.md")
    (folder / "loop.md").symlink_to(folder / "loop.md")  # stat fails with ELOOP, not "no such file"
    (folder / "inner").symlink_to(folder / "sub")
    (folder / "inner.md").symlink_to(folder / "sub")
    (folder / "out.md").symlink_to(tmp_path)
    with os.scandir(folder) as entries:
        entries = list(entries)
    fast = documents.sort_entries(root, "2022", entries, follow_links)
    plain = sorted_entry_by_entry(root, "2022", entries, follow_links)
    assert (fast.files, fast.folders, fast.problems) == (plain.files, plain.folders, plain.problems)
    assert sorted(fast.files) == [" spaced .md", "alias.md", "broken.md", "café.md", "loop.md", "pipe.md",
                                  "plain.md", "readme.md.md", "tab\t.md"]
    assert len(fast.problems) == (7 if follow_links else 10)


# ---------------------------------------------------------------- a full article


FULL = """\
---
category: news
title: "Chipmaker's ‘record’ quarter lifts shares"
excerpt: "Revenue rose 40% as demand for data-centre chips outstripped supply, the company said."
publishedDateTime: 2022-07-08T15:08:00Z
updatedDateTime: 2022-07-09T08:00:00Z
originalUrl: "https://origin.example.com/chipmaker-record-quarter"
webUrl: "https://news.example.com/chipmaker-record-quarter"
type: article
quality: 32
heat: -1
published: false

provider:
  name: Example Wire
  domain: Wire.Example.com

topics:
  - Semiconductors
  - Markets

images:
  - url: "https://img.example.com/first.jpg"
    width: 620
    height: 349
    isCached: true
  - url: "https://img.example.com/second.jpg"
    width: 100
    height: 100
    isCached: false

related:
  - title: "Chip shortage eases as new fabs open"
    excerpt: "Analysts expect supply to catch up with demand next year."
    publishedDateTime: 2022-07-07T21:00:00Z
    webUrl: "https://other.example.org/chip-shortage-eases"
    type: article
    provider:
      name: Other Paper
      domain: other.example.org
    quality: 54
  - title: "Second take on the quarter"
    originalUrl: "https://third.example.net/second-take"
    provider: third.example.net
    publishedDateTime: "2022-07-08T10:00:00+02:00"

places:
  - taiwan
  - usa
organizations: [tsmc, intel]
desk: {name: Technology, editor: J. Doe}

secured: "TOPSECRETxyz123+/=;abcSECRET=="
---

The company reported **record** revenue.
"""

SECRET = "TOPSECRETxyz123+/=;abcSECRET=="


@pytest.fixture
def full_article(tmp_path):
    rel = "2022/07/2022-07-08-chipmaker-record-quarter.md"
    article, problems = read(tmp_path, rel, FULL)
    assert problems == []
    assert article is not None
    return article


def test_full_article_scalar_fields(full_article):
    a = full_article
    assert a.id == "2022/07/2022-07-08-chipmaker-record-quarter"
    assert a.title == "Chipmaker's ‘record’ quarter lifts shares"
    assert a.excerpt.startswith("Revenue rose 40% as demand")
    assert a.category == "news"
    assert a.type == "article"
    assert a.body == "The company reported record revenue."


def test_full_article_topics_provider_and_urls(full_article):
    a = full_article
    assert a.topics == ["Semiconductors", "Markets"]
    assert a.provider == "Example Wire"
    assert a.domain == "wire.example.com"  # domains compare case-insensitively, kept lower-case
    assert a.url == "https://news.example.com/chipmaker-record-quarter"
    assert a.original_url == "https://origin.example.com/chipmaker-record-quarter"
    assert a.image == "https://img.example.com/first.jpg"


def test_full_article_dates_are_aware_utc(full_article):
    assert_utc(full_article.published, dt.datetime(2022, 7, 8, 15, 8, tzinfo=UTC))
    assert_utc(full_article.updated, dt.datetime(2022, 7, 9, 8, 0, tzinfo=UTC))


def test_full_article_numbers_and_published_flag(full_article):
    a = full_article
    assert isinstance(a.quality, float) and a.quality == 32
    assert isinstance(a.heat, float) and a.heat == -1
    # "published: false" is the flag, kept as a real boolean (not truthy text).
    assert a.is_published is False


def test_full_article_related_items(full_article):
    first, second = full_article.related
    assert first.title == "Chip shortage eases as new fabs open"
    assert first.excerpt == "Analysts expect supply to catch up with demand next year."
    assert first.url == "https://other.example.org/chip-shortage-eases"
    assert first.provider == "Other Paper"
    assert first.domain == "other.example.org"
    assert_utc(first.published, dt.datetime(2022, 7, 7, 21, 0, tzinfo=UTC))
    # No webUrl: originalUrl is used; a plain-string provider that is a domain.
    assert second.title == "Second take on the quarter"
    assert second.excerpt == ""
    assert second.url == "https://third.example.net/second-take"
    assert second.provider == "third.example.net"
    assert second.domain == "third.example.net"
    assert_utc(second.published, dt.datetime(2022, 7, 8, 8, 0, tzinfo=UTC))


def test_full_article_unknown_fields_kept_in_extra(full_article):
    assert full_article.extra == {
        "places": ["taiwan", "usa"],
        "organizations": ["tsmc", "intel"],
        "desk": {"name": "Technology", "editor": "J. Doe"},
    }


def test_secured_is_never_kept(full_article):
    a = full_article
    assert "secured" not in a.extra
    # Not hidden in any field, not even inside related items or extra values.
    assert SECRET not in repr(a)
    assert "SECRET" not in repr(a)


def test_secured_does_not_reach_the_index_fields(full_article):
    from search.schema import index_fields

    assert "SECRET" not in repr(index_fields(full_article))


def test_url_falls_back_to_original_url(tmp_path):
    article, problems = read(
        tmp_path, "x.md", '---\ntitle: T\noriginalUrl: "https://origin.example.com/a"\n---\n'
    )
    assert problems == []
    assert article.url == "https://origin.example.com/a"
    assert article.original_url == "https://origin.example.com/a"


def test_missing_optional_fields_have_empty_defaults(tmp_path):
    article, problems = read(tmp_path, "x.md", "---\ntitle: Only a title\n---\n")
    assert problems == []
    assert article.title == "Only a title"
    assert (article.excerpt, article.body, article.url, article.image, article.provider) == ("", "", "", "", "")
    assert article.topics == [] and article.related == [] and article.extra == {}
    assert article.published is None and article.quality is None and article.heat is None
    assert article.is_published is None


def test_image_without_url_is_skipped_for_the_next_one(tmp_path):
    text = "---\ntitle: T\nimages:\n  - width: 10\n  - url: ''\n  - url: https://img.example.com/b.jpg\n---\n"
    article, _ = read(tmp_path, "x.md", text)
    assert article.image == "https://img.example.com/b.jpg"


def test_fingerprint_tracks_file_content(tmp_path):
    a1, _ = read(tmp_path, "a.md", "---\ntitle: Same\n---\nbody\n")
    a2, _ = read(tmp_path, "b.md", "---\ntitle: Same\n---\nbody\n")
    a3, _ = read(tmp_path, "c.md", "---\ntitle: Same\n---\nbody changed\n")
    assert a1.fingerprint and a1.fingerprint == a2.fingerprint
    assert a3.fingerprint != a1.fingerprint


# ---------------------------------------------------------------- bodies


def test_html_body_becomes_plain_text(tmp_path):
    body = (
        '<p>Shares of <a href="https://x.example.com/bp">BP</a> rose <em>sharply</em>.</p>\n'
        "<p>Second <strong>paragraph</strong>.</p>\n"
    )
    article, _ = read(tmp_path, "x.md", "---\ntitle: T\n---\n" + body)
    assert "<" not in article.body and ">" not in article.body
    assert "href" not in article.body and "x.example.com" not in article.body
    assert "Shares of BP rose sharply." in article.body
    assert "Second paragraph." in article.body
    # Paragraphs stay apart: the two sentences are not glued into one word.
    assert "sharply.Second" not in article.body


def test_script_and_style_contents_are_dropped(tmp_path):
    body = (
        '<script type="text/javascript">\n  window.quokkaTracker = [];\n  gtagConfig("x");\n</script>\n'
        "<style>\n.zebraBanner { color: red; }\n</style>\n"
        "<SCRIPT>upperCaseMarker()</SCRIPT>\n"
        "<p>Visible text.</p>\n"
    )
    article, _ = read(tmp_path, "x.md", "---\ntitle: T\n---\n" + body)
    for marker in ("quokkaTracker", "gtagConfig", "zebraBanner", "upperCaseMarker", "script", "style"):
        assert marker not in article.body
    assert article.body == "Visible text."


def test_html_entities_are_unescaped(tmp_path):
    body = "<p>AT&amp;T and Soci&eacute;t&#233; G&#xE9;n&eacute;rale&#8217;s&nbsp;plan</p>\n"
    article, _ = read(tmp_path, "x.md", "---\ntitle: Profits &amp; losses\n---\n" + body)
    assert article.body == "AT&T and Société Générale’s plan"
    assert article.title == "Profits & losses"


def test_escaped_markup_stays_as_text():
    # Entities are unescaped after tags are removed, so "&lt;b&gt;" is text, not a tag.
    assert plain_text("write &lt;b&gt; for bold") == "write <b> for bold"


@pytest.mark.parametrize(
    "markup, kept",
    [
        ("British Petroleum <BP> shares rose.", "<BP>"),
        ("<p>Vodafone <VOD.L> said on Monday.</p>", "<VOD.L>"),
        ("Talks with <GM> and <F> continued", "<GM> and <F>"),
    ],
)
def test_reuters_tickers_are_kept_as_text(markup, kept):
    assert kept in plain_text(markup)


def test_markdown_markup_is_removed():
    text = plain_text(
        "# Big news\n\nSome **bold** words and a [link text](https://example.com/x) "
        "and ![a chart](https://img.example.com/c.png).\n\n- first point\n- second point\n"
    )
    assert "#" not in text and "**" not in text and "](" not in text
    assert "example.com" not in text
    assert "Big news" in text
    assert "Some bold words and a link text and a chart." in text
    assert "first point" in text and "second point" in text


def test_unclosed_script_does_not_leak():
    assert "secretCall" not in plain_text("<p>Before.</p><script>secretCall()")
    assert "Before." in plain_text("<p>Before.</p><script>secretCall()")


def test_html_comment_dropped():
    assert plain_text("a <!-- hidden note --> b") == "a b"


def test_front_matter_only_article_has_empty_body(tmp_path):
    """A file without a body has an empty body, not the front matter."""
    article, _ = read(tmp_path, "x.md", "---\ntitle: T\nexcerpt: E\n---\n")
    assert article.body == ""


# ---------------------------------------------------------------- messy input


def test_invalid_yaml_without_a_readable_title_is_an_error_naming_the_line(tmp_path):
    rel = "2021/02/broken.md"
    text = "---\ntitle: [ok\nfoo: bar\nexcerpt: fine\n---\nBody.\n"
    article, problems = read(tmp_path, rel, text)
    assert article is None
    assert_problems_name_file(problems, rel)
    assert levels(problems) == [ERROR]
    assert re.search(r"\bline \d+", problems[0].message)
    assert "yaml" in problems[0].message.lower()


def test_invalid_yaml_is_salvaged_line_by_line_when_the_title_survives(tmp_path):
    rel = "2021/02/broken.md"
    text = "---\ntitle: ok\nfoo: bar\nexcerpt: a: b\n---\nBody.\n"
    article, problems = read(tmp_path, rel, text)
    assert levels(problems) == [WARNING]
    assert "line 4" in problems[0].message and "recovered" in problems[0].message
    assert article.title == "ok" and article.excerpt == "" and article.body == "Body."
    assert article.extra == {"foo": "bar"}


def test_invalid_yaml_reports_the_right_file_line(tmp_path):
    # Line 4 of the file is "excerpt: a: b" (the '---' is line 1).
    text = "---\ntitle: ok\nfoo: bar\nexcerpt: a: b\n---\nBody.\n"
    _, problems = read(tmp_path, "broken.md", text)
    assert "line 4," in problems[0].message


def test_no_front_matter_is_indexed_with_body_and_first_line_title(tmp_path):
    rel = "2020/01/plain.md"
    article, problems = read(tmp_path, rel, "Oil prices climb again\n\nBrent rose 3% on Monday.\n")
    assert article is not None
    assert_problems_name_file(problems, rel)
    assert errors(problems) == []
    assert any("front matter" in p.message for p in warnings(problems))
    assert article.title == "Oil prices climb again"
    assert "Brent rose 3% on Monday." in article.body


def test_unclosed_front_matter_is_a_warning_not_a_crash(tmp_path):
    rel = "open.md"
    article, problems = read(tmp_path, rel, "---\ntitle: x\nBody without a closing line\n")
    assert article is not None
    assert_problems_name_file(problems, rel)
    assert errors(problems) == []


@pytest.mark.parametrize("data", [b"", b"\n\n   \n"], ids=["empty", "whitespace"])
def test_empty_file_is_an_error(tmp_path, data):
    rel = "2020/02/empty.md"
    article, problems = read(tmp_path, rel, data)
    assert article is None
    assert_problems_name_file(problems, rel)
    assert levels(problems) == [ERROR]
    assert "empty" in problems[0].message


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
        b"---\ntitle: Looks fine\n---\nbody\x00with a NUL\n",
    ],
    ids=["png", "nul-in-body"],
)
def test_binary_file_is_an_error(tmp_path, data):
    rel = "bin/picture.md"
    article, problems = read(tmp_path, rel, data)
    assert article is None
    assert_problems_name_file(problems, rel)
    assert levels(problems) == [ERROR]


def test_utf8_bom_is_a_warning_and_fields_are_read(tmp_path):
    rel = "bom.md"
    text = "---\ntitle: Zürich startup\ntopics:\n  - Climate\n---\nBody.\n"
    article, problems = read(tmp_path, rel, b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert_problems_name_file(problems, rel)
    assert levels(problems) == [WARNING]
    assert article.title == "Zürich startup"
    assert article.topics == ["Climate"]
    assert article.body == "Body."
    assert "\ufeff" not in article.title + article.body


def test_crlf_is_a_warning_and_no_carriage_returns_remain(tmp_path):
    rel = "crlf.md"
    text = (
        "---\ntitle: U.S. oil futures turn negative\nexcerpt: Crude fell\ntopics:\n  - Energy\n  - Markets\n"
        "publishedDateTime: 2020-04-20T19:45:00Z\n---\n\nFirst paragraph.\n\nSecond paragraph.\n"
    )
    article, problems = read(tmp_path, rel, text.replace("\n", "\r\n").encode("utf-8"))
    assert_problems_name_file(problems, rel)
    assert levels(problems) == [WARNING]
    assert article.title == "U.S. oil futures turn negative"
    assert article.excerpt == "Crude fell"
    assert article.topics == ["Energy", "Markets"]
    assert_utc(article.published, dt.datetime(2020, 4, 20, 19, 45, tzinfo=UTC))
    assert "\r" not in article.title + article.excerpt + article.body
    assert article.body == "First paragraph.\n\nSecond paragraph."


def test_bom_and_crlf_together(tmp_path):
    text = "---\r\ntitle: Both quirks\r\n---\r\nBody.\r\n"
    article, problems = read(tmp_path, "both.md", b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert levels(problems) == [WARNING, WARNING]
    assert article.title == "Both quirks"
    assert article.body == "Body."


def test_cp1252_file_is_decoded_with_a_warning(tmp_path):
    rel = "2022/10/lula.md"
    text = (
        "---\ntitle: Lula defeats Bolsonaro to win Brazil’s election\n"
        "excerpt: “Luiz Inácio Lula da Silva” won in São Paulo – olê\n---\n\nA café’s crème brûlée.\n"
    )
    raw = text.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the fixture really is not UTF-8
    article, problems = read(tmp_path, rel, raw)
    assert_problems_name_file(problems, rel)
    assert levels(problems) == [WARNING]
    assert "utf-8" in problems[0].message.lower()
    assert article.title == "Lula defeats Bolsonaro to win Brazil’s election"
    assert article.excerpt == "“Luiz Inácio Lula da Silva” won in São Paulo – olê"
    assert article.body == "A café’s crème brûlée."


def test_latin1_bytes_undefined_in_cp1252_are_still_decoded(tmp_path):
    # 0x81 has no cp1252 meaning, so the cp1252 decode fails; the body must still come through.
    rel = "latin.md"
    raw = b"---\ntitle: Caf\xe9 news\n---\nA caf\xe9 in Z\xfcrich \x81 opened.\n"
    article, problems = read(tmp_path, rel, raw)
    assert article is not None
    assert_problems_name_file(problems, rel)
    assert errors(problems) == []
    assert article.title == "Café news"
    assert "café in Zürich" in article.body


def test_latin1_undefined_byte_in_front_matter_still_indexed(tmp_path):
    raw = b"---\ntitle: Caf\xe9 \x81 news\n---\nBody.\n"
    article, problems = read(tmp_path, "latin-fm.md", raw)
    assert errors(problems) == []
    assert article is not None and "Café" in article.title


def test_missing_title_uses_first_body_line(tmp_path):
    rel = "notitle.md"
    article, problems = read(tmp_path, rel, "---\nexcerpt: An excerpt\n---\n\n# Markets rally\n\nStocks rose.\n")
    assert_problems_name_file(problems, rel)
    assert levels(problems) == [WARNING]
    assert article.title == "Markets rally"
    assert article.excerpt == "An excerpt"


def test_missing_title_and_body_uses_file_name(tmp_path):
    rel = "2021/01/2021-01-06-georgia-runoffs-decided.md"
    article, problems = read(tmp_path, rel, "---\nexcerpt: An excerpt\n---\n")
    assert_problems_name_file(problems, rel)
    assert levels(problems) == [WARNING]
    assert article.title
    words = article.title.lower().split()
    assert words[:3] == ["georgia", "runoffs", "decided"]
    assert "-" not in article.title and ".md" not in article.title


def test_numeric_title_becomes_text(tmp_path):
    article, problems = read(tmp_path, "2021/01/2021-01-01-1984.md", "---\ntitle: 1984\n---\n")
    assert problems == []
    assert article.title == "1984"
    assert isinstance(article.title, str)


def test_comma_separated_topics_become_a_list(tmp_path):
    article, problems = read(tmp_path, "x.md", "---\ntitle: T\ntopics: Elections,  Politics ,COVID-19\n---\n")
    assert errors(problems) == []
    assert article.topics == ["Elections", "Politics", "COVID-19"]


def test_plain_string_provider_is_the_name(tmp_path):
    article, problems = read(tmp_path, "x.md", "---\ntitle: T\nprovider: Reuters\n---\n")
    assert errors(problems) == []
    assert article.provider == "Reuters"
    assert article.domain == ""


@pytest.mark.parametrize(
    "title_yaml, kind",
    [("[Markets, Rally]", "list"), ("{main: Markets rally}", "mapping")],
)
def test_list_or_mapping_title_is_a_warning_with_fallback(tmp_path, title_yaml, kind):
    rel = "bad-title.md"
    article, problems = read(tmp_path, rel, f"---\ntitle: {title_yaml}\n---\nStocks climbed on Friday.\n")
    assert article is not None
    assert_problems_name_file(problems, rel)
    assert errors(problems) == []
    assert any("title" in p.message and kind in p.message for p in problems)
    assert article.title == "Stocks climbed on Friday."
    assert "[" not in article.title and "{" not in article.title


def test_impossible_date_drops_only_the_date(tmp_path):
    rel = "2021/02/2021-02-30-impossible.md"
    text = (
        "---\ntitle: An impossible day\nexcerpt: Still here\npublishedDateTime: 2021-02-30T10:00:00Z\n"
        "topics: [Science]\n---\nBody survives.\n"
    )
    article, problems = read(tmp_path, rel, text)
    assert article is not None
    assert_problems_name_file(problems, rel)
    assert levels(problems) == [WARNING]
    assert "publishedDateTime" in problems[0].message
    assert article.published is None
    assert article.title == "An impossible day"
    assert article.excerpt == "Still here"
    assert article.topics == ["Science"]
    assert article.body == "Body survives."


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2020-03-11T21:05:00Z", dt.datetime(2020, 3, 11, 21, 5, tzinfo=UTC)),
        ("2021-06-01", dt.datetime(2021, 6, 1, 0, 0, tzinfo=UTC)),
        ('"2021-03-24T14:05:00+02:00"', dt.datetime(2021, 3, 24, 12, 5, tzinfo=UTC)),
        ("2021-03-24T14:05:00+02:00", dt.datetime(2021, 3, 24, 12, 5, tzinfo=UTC)),
        ("2021-03-24T23:30:00-05:00", dt.datetime(2021, 3, 25, 4, 30, tzinfo=UTC)),
        ("2021-03-24T14:05:00", dt.datetime(2021, 3, 24, 14, 5, tzinfo=UTC)),
        ("'2021-03-24 14:05:00'", dt.datetime(2021, 3, 24, 14, 5, tzinfo=UTC)),
        ("2021-03-24T14:05:00.250Z", dt.datetime(2021, 3, 24, 14, 5, 0, 250000, tzinfo=UTC)),
    ],
    ids=["Z", "plain-date", "quoted-offset", "offset", "negative-offset-next-day", "naive", "space", "fraction"],
)
def test_dates_become_aware_utc(tmp_path, value, expected):
    article, problems = read(tmp_path, "d.md", f"---\ntitle: T\npublishedDateTime: {value}\n---\n")
    assert problems == []
    assert_utc(article.published, expected)


@pytest.mark.parametrize("value", ["2021-13-01T00:00:00Z", "yesterday", "2021-02-29", "2021-04-31T25:00:00Z"])
def test_unreadable_dates_are_warnings(tmp_path, value):
    article, problems = read(tmp_path, "d.md", f"---\ntitle: T\npublishedDateTime: '{value}'\n---\n")
    assert article is not None and article.published is None
    assert levels(problems) == [WARNING]


def test_date_value_direct():
    notes = []

    def note(level, message):
        notes.append((level, message))

    assert documents.date_value(None, "d", note) is None
    assert documents.date_value(dt.date(2020, 1, 2), "d", note) == dt.datetime(2020, 1, 2, tzinfo=UTC)
    naive = dt.datetime(2020, 1, 2, 3, 4)
    assert_utc(documents.date_value(naive, "d", note), dt.datetime(2020, 1, 2, 3, 4, tzinfo=UTC))
    cet = dt.datetime(2020, 1, 2, 3, 4, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert_utc(documents.date_value(cet, "d", note), dt.datetime(2020, 1, 2, 2, 4, tzinfo=UTC))
    assert notes == []


def test_oversize_file_is_skipped(tmp_path):
    rel = "big/huge.md"
    text = "---\ntitle: Huge\n---\n" + "word " * 400
    article, problems = read(tmp_path, rel, text, max_bytes=1000)
    assert article is None
    assert_problems_name_file(problems, rel)
    assert levels(problems) == [ERROR]
    # The same file is fine under a larger limit: the size alone caused the error.
    article, problems = read_article(tmp_path, rel, max_bytes=10_000)
    assert problems == [] and article.title == "Huge"


def test_missing_file_is_an_error_not_an_exception(tmp_path):
    article, problems = read_article(tmp_path, "does/not/exist.md")
    assert article is None
    assert_problems_name_file(problems, "does/not/exist.md")
    assert levels(problems) == [ERROR]


def test_front_matter_list_is_an_error(tmp_path):
    rel = "list.md"
    article, problems = read(tmp_path, rel, "---\n- title: a\n- title: b\n---\nBody.\n")
    assert article is None
    assert_problems_name_file(problems, rel)
    assert levels(problems) == [ERROR]


@pytest.mark.parametrize("scalar", ["just a string", "42"])
def test_front_matter_scalar_is_an_error(tmp_path, scalar):
    article, problems = read(tmp_path, "s.md", f"---\n{scalar}\n---\nBody.\n")
    assert article is None
    assert levels(problems) == [ERROR]


def _alias_bomb(levels_: int, per_level: int, use: str) -> str:
    lines = ["---", "title: Bomb", 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels_):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * per_level) + "]")
    lines.append(f"{use}: *l{levels_ - 1}")
    lines += ["---", "Body text."]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "levels_, per_level, use",
    [(9, 9, "payload"), (9, 9, "topics"), (8, 7, "payload"), (8, 7, "title"), (8, 7, "related")],
)
def test_yaml_alias_bomb_does_not_hang(tmp_path, levels_, per_level, use):
    rel = "bomb.md"
    start = time.perf_counter()
    article, problems = read(tmp_path, rel, _alias_bomb(levels_, per_level, use))
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"alias bomb took {elapsed:.1f}s"
    assert_problems_name_file(problems, rel)
    if article is None:
        assert ERROR in levels(problems)
    else:
        # Kept, but the huge expansion is not: neither the top alias nor the use of it.
        assert "payload" not in article.extra
        assert f"l{levels_ - 1}" not in article.extra
        assert len(repr(article)) < 1_000_000
        assert WARNING in levels(problems)


def test_never_raises_on_garbage(tmp_path):
    """Assorted odd inputs: each gives an article or a problem, never an exception."""
    cases = {
        "a.md": b"---\n---\n",
        "b.md": b"---\ntitle: !!python/object:os.system echo\n---\n",
        "c.md": b"---\ntitle: x\nquality: lots\nheat: .nan\npublished: maybe\n---\n",
        "d.md": b"---\ntitle: x\nrelated: [1, 'two', {title: [x]}]\ntopics: [[a], {b: c}, 3, true]\n---\n",
        "e.md": b"---\n? [a, b]\n: complex key\ntitle: x\n---\n",
        "f.md": b"\xff\xfe-\x00-\x00-\x00",
        "g.md": b"---\ntitle: x\nprovider: [a, b]\nimages: 7\nrelated: nope\n---\n",
    }
    for rel, data in cases.items():
        article, problems = read(tmp_path, rel, data)
        assert article is not None or ERROR in levels(problems), rel
        for p in problems:
            assert p.path == rel


def test_python_tags_are_not_executed(tmp_path):
    article, problems = read(tmp_path, "py.md", "---\ntitle: !!python/object/apply:os.getcwd []\n---\n")
    assert article is None
    assert levels(problems) == [ERROR]


def test_bad_numbers_and_flags_are_warnings(tmp_path):
    text = "---\ntitle: x\nquality: lots\nheat: '12.5'\npublished: maybe\n---\n"
    article, problems = read(tmp_path, "n.md", text)
    assert article.quality is None
    assert article.heat == 12.5
    assert article.is_published is None
    assert levels(problems) == [WARNING, WARNING]
    assert any("quality" in p.message for p in problems)
    assert any("published" in p.message for p in problems)


# ---------------------------------------------------------------- the sample archive


SAMPLE_FILES = find_article_files(DATA)


def test_sample_archive_has_52_articles_and_no_readme():
    assert len(SAMPLE_FILES) == 52
    assert not any(f.lower().endswith("readme.md") for f in SAMPLE_FILES)
    assert all(re.fullmatch(r"\d{4}/\d{2}/\d{4}-\d{2}-\d{2}-[a-z0-9-]+\.md", f) for f in SAMPLE_FILES)


@pytest.mark.parametrize("relpath", SAMPLE_FILES)
def test_every_sample_file_reads(relpath):
    article, problems = read_article(DATA, relpath)
    assert article is not None
    assert errors(problems) == []
    assert all(p.path == relpath for p in problems)
    assert article.id == relpath[:-3]
    assert article.title and "\r" not in article.title
    assert article.category == "news" and article.type == "article"
    # Dates are UTC and agree with the date in the file name.
    assert article.published is not None and article.published.utcoffset() == dt.timedelta(0)
    assert article.published.strftime("%Y-%m-%d") == relpath.split("/")[-1][:10]
    assert article.provider
    assert article.topics and all(isinstance(t, str) and t for t in article.topics)
    assert "secured" not in article.extra
    assert not re.search(r"</?(p|a|em|script|style)\b", article.body)
    for item in article.related:
        assert item.title and item.url.startswith("http") and item.provider and item.published


def test_sample_archive_totals_match_its_readme():
    articles = [read_article(DATA, f)[0] for f in SAMPLE_FILES]
    years = [a.id[:4] for a in articles]
    assert (years.count("2020"), years.count("2021"), years.count("2022"), years.count("2023")) == (16, 18, 14, 4)
    assert sum(bool(a.image) for a in articles) == 51
    assert sum(bool(a.body) for a in articles) == 23
    assert sum(bool(a.related) for a in articles) == 16
    assert len({a.provider for a in articles}) == 12
    assert len({t for a in articles for t in a.topics}) == 26


@pytest.mark.parametrize(
    "relpath, markers",
    [
        ("2021/12/2021-12-10-log4shell", ["quokkaTracker"]),
        ("2022/11/2022-11-30-openais-chatgpt", ["gtagConfig", "quokkaTracker"]),
        ("2022/07/2022-07-12-nasa-releases", ["zebraBanner"]),
    ],
)
def test_sample_script_and_style_markers_not_in_text(relpath, markers):
    (match,) = [f for f in SAMPLE_FILES if f.startswith(relpath)]
    raw = (DATA / match).read_text(encoding="utf-8")
    article, _ = read_article(DATA, match)
    assert article.body
    for marker in markers:
        assert marker in raw  # the fixture really has it ...
        assert marker not in article.body + article.title + article.excerpt  # ... and it is dropped


ENCODING_QUIRKS = [
    ("2020/04/2020-04-20-u-s-oil-futures-turn-negative-for-the-first-time-in-history.md", r"crlf|line ending"),
    (
        "2021/05/2021-05-20-ford-unveils-the-f-150-lightning-an-all-electric-version-of-americas-best-selling-truck.md",
        r"byte-order mark|bom",
    ),
    ("2022/10/2022-10-31-lula-defeats-bolsonaro-to-win-brazils-presidential-election.md", r"utf-8|cp1252"),
]


@pytest.mark.parametrize("relpath, pattern", ENCODING_QUIRKS)
def test_sample_encoding_quirks_give_a_warning(relpath, pattern):
    article, problems = read_article(DATA, relpath)
    assert article is not None
    assert levels(problems) == [WARNING]
    assert re.search(pattern, problems[0].message, re.I)
    # The metadata was really read (the title is not the raw first line of the file).
    assert not article.title.startswith("---")
    assert article.provider and article.topics


def test_sample_crlf_quirk_values():
    article, _ = read_article(DATA, ENCODING_QUIRKS[0][0])
    assert article.title == "U.S. oil futures turn negative for the first time in history"
    assert "\r" not in article.body + article.excerpt


def test_sample_bom_quirk_values():
    article, _ = read_article(DATA, ENCODING_QUIRKS[1][0])
    assert article.title.startswith("Ford unveils the F-150 Lightning")
    assert article.category == "news"  # the first field, right after the BOM


def test_sample_cp1252_quirk_values():
    article, _ = read_article(DATA, ENCODING_QUIRKS[2][0])
    assert article.title == "Lula defeats Bolsonaro to win Brazil’s presidential election"
    assert "Luiz Inácio Lula da Silva" in article.excerpt
    assert "São Paulo" in article.body
    assert "“olê, olê, olê, olá" in article.body
    assert "\ufffd" not in article.title + article.excerpt + article.body


def _sample(prefix: str):
    (match,) = [f for f in SAMPLE_FILES if f.startswith(prefix)]
    article, problems = read_article(DATA, match)
    assert errors(problems) == []
    return article, problems


def test_sample_quirk_comma_topics():
    article, _ = _sample("2021/01/2021-01-06-georgia-runoffs")
    assert article.topics == ["Elections", "Politics"]


def test_sample_quirk_plain_string_provider():
    article, _ = _sample("2022/01/2022-01-21-intel-to-build")
    assert article.provider == "Reuters"
    assert article.domain == ""


def test_sample_quirk_numeric_title():
    article, _ = _sample("2021/01/2021-01-01-1984")
    assert article.title == "1984"


def test_sample_quirk_plain_date():
    article, _ = _sample("2021/06/2021-06-01-inside-the-zurich")
    assert_utc(article.published, dt.datetime(2021, 6, 1, tzinfo=UTC))


def test_sample_quirk_offset_date():
    article, _ = _sample("2021/03/2021-03-24-ever-given")
    assert_utc(article.published, dt.datetime(2021, 3, 24, 12, 5, tzinfo=UTC))


def test_sample_quirk_extra_fields():
    article, _ = _sample("2023/03/2023-03-19-ubs-agrees")
    assert set(article.extra) == {"places", "organizations"}
    assert article.extra["places"] == ["switzerland"]
    assert "credit-suisse" in article.extra["organizations"]


def test_sample_quirk_missing_numbers_and_images():
    assert _sample("2020/08/2020-08-13-epic-games")[0].heat is None
    assert _sample("2020/08/2020-08-13-epic-games")[0].quality is not None
    assert _sample("2021/09/2021-09-07-el-salvador")[0].quality is None
    assert _sample("2021/09/2021-09-07-el-salvador")[0].heat is not None
    assert _sample("2022/08/2022-08-16-inflation-reduction-act")[0].image == ""


def test_sample_syndicated_copies_have_distinct_ids():
    ids = [f[:-3] for f in SAMPLE_FILES if f.startswith("2022/06/2022-06-08-eu-lawmakers")]
    assert len(ids) == 2 and len(set(ids)) == 2
    a, b = (read_article(DATA, i + ".md")[0] for i in ids)
    assert a.title == b.title
    assert {a.provider, b.provider} == {"Reuters", "The Guardian"}


# ---------------------------------------------------------------- ReadAhead


def test_read_ahead_stays_a_bounded_number_of_files_ahead(tmp_path, monkeypatch):
    names = [f"a{number}.md" for number in range(40)]
    for name in names:
        (tmp_path / name).write_text("---\ntitle: t\n---\n")
    advised: list[str] = []
    monkeypatch.setattr(documents, "_advise_will_need", lambda path: advised.append(Path(path).name))
    with documents.ReadAhead(tmp_path, names, ahead=5) as ahead:
        for done in range(10):
            time.sleep(0.01)  # room for the thread to run as far as it may
            assert len(advised) <= done + 5
            ahead.next()
        time.sleep(0.05)
    order = [names.index(name) for name in advised]
    assert order == sorted(set(order))  # in the reader's order, each file once
    assert 1 <= len(advised) <= 15  # stopped with the reader, not at the end of the list


def test_read_ahead_skips_what_is_not_a_regular_file(tmp_path):
    os.mkfifo(tmp_path / "pipe.md")  # opening it for reading would block
    (tmp_path / "ok.md").write_text("---\ntitle: t\n---\n")
    names = ["pipe.md", "missing.md", "ok.md"]
    with documents.ReadAhead(tmp_path, names) as ahead:
        for _ in names:
            ahead.next()
    assert not ahead._thread.is_alive()


# ---------------------------------------------------------------- the fast YAML loader
#
# ``load_yaml`` must give what ``yaml.load(text, Loader=_ArticleLoader)`` gives: equal values of the
# same types, or the same exception.

CORPORA = Path(os.environ.get("NEWSEARCH_CORPORA", Path(__file__).resolve().parents[2] / "shared" / "corpora"))


def same(a, b) -> bool:
    """Equal values of the same types all the way down (lists and mappings that contain themselves too)."""
    pending, compared = [(a, b)], set()
    while pending:
        a, b = pending.pop()
        if type(a) is not type(b):
            return False
        if isinstance(a, (dict, list)):
            if (id(a), id(b)) in compared:
                continue
            compared.add((id(a), id(b)))
            if len(a) != len(b):
                return False
            if isinstance(a, dict):
                pending.extend(zip(a, b))
                pending.extend((a[ka], b[kb]) for ka, kb in zip(a, b))
            else:
                pending.extend(zip(a, b))
        elif isinstance(a, float) and math.isnan(a):
            if not math.isnan(b):
                return False
        elif a != b:
            return False
    return True


def reference_yaml(text: str):
    return yaml.load(text, Loader=documents._ArticleLoader)  # noqa: S506 - a safe loader


def outcome(load, text: str):
    try:
        return "value", load(text)
    except Exception as exc:  # noqa: BLE001 - the exception is the outcome compared
        return "error", (type(exc), str(exc))


def assert_loads_like_pyyaml(text: str):
    expected, got = outcome(reference_yaml, text), outcome(documents.load_yaml, text)
    assert got[0] == expected[0], (text, got, expected)
    if expected[0] == "error":
        assert got[1] == expected[1], text
    else:
        assert same(got[1], expected[1]), (text, got[1], expected[1])
    return expected


TRICKY_YAML = [
    # anchors and aliases: of a scalar, of a mapping, of a list, used twice, as a key, in a loop
    "a: &x foo\nb: *x\nc: *x",
    "base: &b {x: 1, y: [1, 2]}\nother: *b\nlist: [*b, *b]",
    "a: &l [1, [2, 3]]\nb: *l",
    "a: &k key\n*k : v",
    "a: &a [1, *a]",
    "a: &m {self: *m}",
    "a: &x 1\nb: &x 2\nc: *x",
    "a: *undefined",
    # merge keys
    "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3",
    "a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: [*a, *b]\n  x: 3",
    "m:\n  <<: {x: 1}\n  z: 2",
    "m:\n  <<: 5",
    "m:\n  <<: [1, 2]",
    "'<<': quoted is a plain key",
    "=: value key",
    "a: =",
    # explicit tags
    "a: !!str 123\nb: !!int '42'\nc: !!float 1\nd: !!bool yes\ne: !!null ''\nf: !!str",
    "a: !!binary aGVsbG8=",
    "a: !!timestamp 2021-02-03",
    "a: !!timestamp 2021-02-30",
    "a: !!set {x, y}",
    "a: !!omap [x: 1, y: 2]",
    "a: !!pairs [x: 1, x: 2]",
    "a: !!bool maybe",
    "a: !!int twelve",
    "a: !!float x",
    "a: !!str [1, 2]",
    "a: !!map [1, 2]",
    "a: !!seq {x: 1}",
    "a: !!python/object/apply:os.system [echo hi]",
    "a: !custom x",
    "a: ! 12\nb: ! [1]\nc: ! {d: 1}",
    "!!map {a: 1}",
    "? !!str 1\n: one\n? !!int '2'\n: two",
    # dates stay text (no timestamp resolver)
    "d: 2021-02-30\ne: 2021-02-03T04:05:06Z\nf: '2021-01-01'\ng: 2021-6-1 9:05",
    # numbers
    "n: [0, 12, -3, +4, 0x1F, 0o17, 017, 0b101, 1_000, 1:30, 190:20:30, 09, 0x_1]",
    "f: [3.14, .5, 1e3, 6.02e+23, -1.5E-3, .inf, -.Inf, +.INF, .NaN, 1_0.5, 190:20:30.15, 1.]",
    "big: 123456789012345678901234567890\nneg: -0\nfloatish: 1e400",
    "superscript: !!int \u00b2",
    "a: !!int \u0661\u0662\nb: !!int 0012\nc: !!int '7'\nd: [0, 7, 10, 00, 0012, 12_3]",
    # booleans and nulls
    "b: [yes, No, TRUE, false, on, Off, y, n, True, 'true', \"no\"]",
    "z: [~, null, Null, NULL, '', nil, None]\nempty:\nalso: ~",
    "",
    "~",
    "# only a comment",
    "---\n...",
    # nested lists and mappings
    "a: {b: [1, {c: [d, e]}], f: {g: h}}\nl: [[], {}, [[[]]], - x]",
    "items:\n  - name: one\n    tags: [a, b]\n  - name: two\n    more:\n      deep: [1, 2.5, true, ~]",
    "\n".join(f"{'  ' * depth}k{depth}:" for depth in range(40)) + " leaf",
    "a: " + "[" * 60 + "]" * 60,
    "a: " + "[" * 400 + "]" * 400,
    "a: " + "[" * 900 + "]" * 900,  # deeper than the stack allows a recursive construction
    "a: " + "{b: " * 900 + "c" + "}" * 900,
    # duplicate keys and keys that are not strings
    "a: 1\nb: 2\na: 3",
    "1: one\n2.5: x\ntrue: t\n~: n\n0x10: hex",
    "1: a\n1.0: b\ntrue: c",
    "{1: a, 2.5: b, true: c, ~: d, yes: e}",
    "? [1, 2]\n: list key",
    "? {a: 1}\n: mapping key",
    "[1, 2]: flow list key",
    # scalars of every style, and top-level values that are not mappings
    "a: |\n  line1\n  line2\nb: >\n  folded\n  text\nc: 'single ''quoted'''\nd: \"double \\t \\u00e9\"",
    "title: Ünïcödé — “quotes” 📰\nexcerpt: 'it''s'",
    "just text",
    "- a\n- b",
    "42",
    "[1, 2",
    "a: b: c",
    "a: 1\n---\nb: 2",
    "a:\n\t- tab",
    "\"unclosed: string",
]


@pytest.mark.parametrize("text", TRICKY_YAML)
def test_load_yaml_gives_what_pyyaml_gives(text):
    assert_loads_like_pyyaml(text)


def test_load_yaml_tricky_documents_cover_every_outcome():
    # The list above must exercise errors, values that are not mappings and shared objects alike.
    kinds = [assert_loads_like_pyyaml(text) for text in TRICKY_YAML]
    assert any(kind == "error" for kind, _ in kinds)
    assert any(kind == "value" and isinstance(value, dict) for kind, value in kinds)
    assert any(kind == "value" and not isinstance(value, dict) for kind, value in kinds)
    shared = documents.load_yaml("base: &b {x: [1]}\nother: *b")
    assert shared["base"] is shared["other"]  # an alias is one object, as PyYAML makes it


def test_fast_resolver_agrees_with_pyyaml():
    fast, reference = documents._FastArticleLoader(""), documents._ArticleLoader("")
    values = ["", "~", "null", "Null", "true", "True", "yes", "No", "on", "OFF", "y", "12", "-3", "+4", "0x1F",
              "1_000", "1:30", "3.14", ".5", ".inf", "-.Inf", ".NaN", "=", "<<", "2021-02-03", "news", "Nonsense",
              "The title", "Yesterday", "offline", "title", "https://example.com", "#hash", "-", "-x", "+", ".", "0",
              "00", "0b1", "1e3", "1.", "é"]
    try:
        for _ in range(2):  # the second time from the cache
            for value in values:
                for implicit in ((True, False), (False, True), (False, False), (True, True)):
                    assert fast.resolve(yaml.ScalarNode, value, implicit) == \
                        reference.resolve(yaml.ScalarNode, value, implicit), (value, implicit)
        for kind in (yaml.SequenceNode, yaml.MappingNode):
            assert fast.resolve(kind, None, True) == reference.resolve(kind, None, True)
    finally:
        fast.dispose()
        reference.dispose()


def corpus_files() -> list[Path]:
    return sorted(CORPORA.glob("**/*.md")) if CORPORA.is_dir() else []


@pytest.mark.skipif(not corpus_files(), reason="../shared/corpora is absent")
def test_load_yaml_gives_what_pyyaml_gives_for_every_corpus_front_matter():
    loaded = 0
    for path in corpus_files():
        text = documents.decode(path.read_bytes(), lambda level, message: None)
        if not documents._YAML.detect(text):
            continue
        try:
            front_matter, _ = documents._YAML.split(text)
        except ValueError:
            continue
        kind, value = assert_loads_like_pyyaml(front_matter)
        loaded += kind == "value" and isinstance(value, dict) and bool(value)
    assert loaded > 20_000


# ---------------------------------------------------------------- reading the bytes


@pytest.mark.parametrize("expected", [0, 10, 99, 100, 101, 5000])
@pytest.mark.parametrize("limit", [1, 50, 101, 100_000])
def test_read_at_most_reads_to_the_end_or_the_limit_whatever_stat_said(tmp_path, expected, limit):
    # ``expected`` is the size stat() gave; the file may have grown or shrunk since.
    content = bytes(range(256)) * 300  # 76,800 bytes: more than one read chunk
    for size in (0, 100, len(content)):
        path = write(tmp_path, "f.md", content[:size])
        descriptor = os.open(path, os.O_RDONLY)
        try:
            assert documents._read_at_most(descriptor, limit, expected) == content[:size][:limit]
        finally:
            os.close(descriptor)


def test_file_that_grows_past_the_limit_after_stat_is_skipped(tmp_path, monkeypatch):
    write(tmp_path, "grows.md", "---\ntitle: Grows\n---\n" + "x" * 500)
    real_stat = os.stat

    def stale_stat(path, *args, **kwargs):  # the size the file had when it was listed
        info = real_stat(path, *args, **kwargs)
        if str(path).endswith("grows.md"):
            return os.stat_result((info.st_mode, *info[1:6], 20, *info[7:]))
        return info

    monkeypatch.setattr(documents.os, "stat", stale_stat)
    article, problems = read_article(tmp_path, "grows.md", max_bytes=100)
    assert article is None
    assert [str(p) for p in problems] == ["grows.md: error: is over the 100-byte limit; skipped"]
    article, problems = read_article(tmp_path, "grows.md", max_bytes=1000)
    assert article is not None and article.body == "x" * 500 and not problems


# ---------------------------------------------------------------- the same articles as before
#
# Copies of what the reading path did before it was made cheaper (issue 11): the bytes read through
# pathlib and a buffered read of the limit, PyYAML's constructor, and plain_text's line-mark and space
# patterns, decode's control search and the front matter's split. Every article and problem must come out
# the same.

_OLD_MD_LINE_MARKS = re.compile(r"^[ \t]{0,3}(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d+\.[ \t]+)", re.M)
_OLD_SPACES = re.compile(r"[ \t\f\v\u00a0]{2,}|[\t\f\v\u00a0]")
_OLD_LINE_EDGES = re.compile(r" ?\n ?")
_OLD_BLANK_LINES = re.compile(r"\n{3,}")


def plain_text_before(markup: str) -> str:
    text = markup
    if "<" in text:
        text = documents._drop_hidden(text)
        text = documents._COMMENT.sub(" ", text)
        text = documents._TAG.sub(documents._without_tag, text)
    if "](" in text:
        text = documents._MD_IMAGE.sub(r"\1", text)
        text = documents._MD_LINK.sub(r"\1", text)
    text = _OLD_MD_LINE_MARKS.sub("", text)
    if "**" in text or "__" in text or "`" in text:
        text = documents._MD_EMPHASIS.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    if "  " in text or "\t" in text or "\u00a0" in text or "\f" in text or "\v" in text:
        text = _OLD_SPACES.sub(" ", text)
    if " \n" in text or "\n " in text:
        text = _OLD_LINE_EDGES.sub("\n", text)
    if "\n\n\n" in text:
        text = _OLD_BLANK_LINES.sub("\n\n", text)
    return text.strip()


def read_article_before(root: Path, relpath: str, max_bytes: int = documents.DEFAULT_MAX_BYTES):
    """read_article as it was, with the parsing done by whatever ``documents`` holds."""
    problems = []
    shown = documents.shown_path(relpath)

    def note(level, message):
        problems.append(documents.Problem(shown, level, message))

    full = root / relpath
    try:
        info = full.stat()
        if not stat.S_ISREG(info.st_mode):
            note(ERROR, f"is not a regular file (a {documents._file_kind(info.st_mode)}); skipped")
            return None, problems
        with full.open("rb") as stream:
            try:
                real = os.readlink(f"/proc/self/fd/{stream.fileno()}")
            except OSError:
                real = os.path.realpath(full)
            if not documents._inside_real(root, real):
                note(ERROR, "is a link to a file outside the data folder; skipped (--follow-links follows links)")
                return None, problems
            if info.st_size > max_bytes:
                note(ERROR, f"is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit; skipped")
                return None, problems
            raw = stream.read(max_bytes + 1)
        if len(raw) > max_bytes:
            note(ERROR, f"is over the {max_bytes:,}-byte limit; skipped")
            return None, problems
    except OSError as exc:
        note(ERROR, f"cannot be read: {exc.strerror or exc}")
        return None, problems
    try:
        return documents.parse_article(raw, relpath, note), problems
    except Exception as exc:  # noqa: BLE001
        note(ERROR, f"could not be read ({type(exc).__name__}: {str(exc)[:200]}); skipped")
        return None, problems


class LibraryYAML(YAMLHandler):
    """python-frontmatter's own split, and PyYAML's own construction."""

    def load(self, fm, **kwargs):
        return reference_yaml(fm)


def as_before(monkeypatch) -> None:
    """Put the old parsing pieces back into ``documents``."""
    monkeypatch.setattr(documents, "decode", decode_before)
    monkeypatch.setattr(documents, "_YAML", LibraryYAML())
    monkeypatch.setattr(documents, "load_yaml", reference_yaml)
    monkeypatch.setattr(documents, "plain_text", plain_text_before)


PLAIN_TEXT_PIECES = [" ", "  ", "   ", "\t", "\n", "\n\n", "\n\n\n", "\f", "\v", "\u00a0", "\u2003", "\r", "#", "##",
                     "####### ", ">", "> ", "-", "- ", "*", "* ", "+ ", "1.", "1. ", "12.", "a", "b c", "Word", "é",
                     "<p>", "</p>", "<b>", "<br/>", "<BP>", "<div class='x'>", "&amp;", "&nbsp;", "&lt;", "**", "__",
                     "`", "``", "[x](y)", "![i](j)", "[", "](", "<!-- c -->", "<!--", "<script>s</script>",
                     "<style>", "<noscript>n</noscript>"]


def test_plain_text_gives_what_it_gave_before_on_generated_markup():
    rng = random.Random(11)
    changed = 0
    for _ in range(30_000):
        markup = "".join(rng.choice(PLAIN_TEXT_PIECES) for _ in range(rng.randint(0, 30)))
        expected = plain_text_before(markup)
        assert plain_text(markup) == expected, repr(markup)
        changed += expected != markup
    assert changed > 20_000  # the markup was mostly rewritten, not passed through


@pytest.mark.parametrize("markup, expected", [
    ("# Title\n\n- one\n  - two\n> quoted\n1. first\n12.  twelfth", "Title\n\none\ntwo\nquoted\nfirst\ntwelfth"),
    ("a \t\u00a0 b\f\vc", "a b c"),
    ("line  \n   next \n\n \n end", "line\nnext\n\nend"),
    ("x\n \n \n \ny", "x\n\ny"),
])
def test_plain_text_marks_and_spaces(markup, expected):
    assert plain_text(markup) == expected == plain_text_before(markup)


def test_read_article_gives_what_it_gave_before_on_odd_files(tmp_path, monkeypatch):
    files = {
        "plain.md": "---\ntitle: Plain\ntopics: [a, b]\n---\n# Head\n\nBody  text\t here.\n",
        "merge.md": "---\nbase: &b {name: Reuters, domain: reuters.com}\nprovider:\n  <<: *b\ntitle: Merged\n---\nx",
        "tags.md": "---\ntitle: !!str 2021\nquality: !!float '7'\npublished: !!bool yes\nwhen: !!timestamp 2021-01-02\n---\n",
        "bad.md": "---\ntitle: [unclosed\n---\nbody",
        "custom.md": "---\ntitle: ok\nx: !custom y\n---\nbody",
        "dates.md": "---\ntitle: D\npublishedDateTime: 2021-02-30\nupdatedDateTime: 1612345678\n---\n",
        "keys.md": "---\ntitle: K\n1: one\ntrue: yes\n~: nothing\n---\n",
        "cp1252.md": b"---\ntitle: caf\xe9\n---\n\xef\xbb\xbf<p>Hi &amp; bye</p>",
        "empty.md": "",
        "nul.md": b"---\ntitle: x\n---\n\x00",
        "big.md": "---\ntitle: Big\n---\n" + "word " * 400,
        "noyaml.md": "Just a body\n\nwith lines",
        "control.md": "---\r\ntitle: a\x07b\r\n---\r\nbody\x0b text\x1f",
        "unclosed.md": "---\ntitle: Unclosed\nbody",
    }
    for name, data in files.items():
        write(tmp_path, name, data)
    os.mkfifo(tmp_path / "pipe.md")
    names = [*files, "pipe.md", "missing.md"]
    now = [read_article(tmp_path, name, max_bytes=1000) for name in names]
    as_before(monkeypatch)
    before = [read_article_before(tmp_path, name, max_bytes=1000) for name in names]
    for name, (article, problems), (old_article, old_problems) in zip(names, now, before):
        assert article == old_article, name
        assert problems == old_problems, name
    assert sum(article is not None for article, _ in now) >= 8


@pytest.mark.skipif(not corpus_files(), reason="../shared/corpora is absent")
def test_read_article_gives_what_it_gave_before_for_every_corpus_file(monkeypatch):
    relpaths = [str(path.relative_to(CORPORA)) for path in corpus_files()]
    now = [read_article(CORPORA, relpath) for relpath in relpaths]
    as_before(monkeypatch)
    for relpath, (article, problems) in zip(relpaths, now):
        old_article, old_problems = read_article_before(CORPORA, relpath)
        assert article == old_article, relpath
        assert problems == old_problems, relpath
    assert sum(article is not None for article, _ in now) > 20_000


def decode_before(raw: bytes, note) -> str:
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
    if documents._CONTROL.search(text):
        note(WARNING, "contains control characters; removed")
        text = documents._CONTROL.sub("", text)
    return text


def test_decode_gives_what_it_gave_before_on_generated_bytes():
    pieces = [b"a", b"text ", b"\n", b"\r\n", b"\r", b"\t", b"\x01", b"\x08", b"\x0b", b"\x0c", b"\x0e", b"\x1f",
              b"\x7f", b"\x80", b"\x81", b"\x9d", b"\x9f", b"\xe9", b"\xc3\xa9", b"\xc2\x85", b"\xc2\x9f", b"\xc2\xa0",
              b"\xe2\x80\x9c", b"\xef\xbb\xbf", b"\xf0\x9f\x93\xb0", b"\xc2", b"\xff"]
    rng = random.Random(11)
    warned = 0
    for number in range(20_000):
        raw = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        if number % 3 == 0:
            raw = b"\xef\xbb\xbf" + raw
        got, expected = [], []
        text = documents.decode(raw, lambda level, message: got.append((level, message)))
        assert text == decode_before(raw, lambda level, message: expected.append((level, message))), raw
        assert got == expected, raw
        warned += any("control characters" in message for _, message in got)
    assert 5_000 < warned < 19_000  # both with and without control characters


def test_front_matter_split_gives_what_python_frontmatter_gives():
    library = YAMLHandler()
    pieces = ["---", "----", "\n---", "\n---\n", "-", "--", "\n", "\n\n", " ", "\t", "\f", "\u2028", "\x85", "a",
              "title: x", "- item", "..."]
    rng = random.Random(11)
    closed = unclosed = 0
    for _ in range(30_000):
        text = rng.choice(["---\n", "----\n", "--- \n", "---\t", "---", "---\n\n"]) + "".join(
            rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        if not library.detect(text):
            continue
        expected, got = outcome(library.split, text), outcome(documents._YAML.split, text)
        assert got == expected, repr(text)
        closed += expected[0] == "value"
        unclosed += expected[0] == "error"
    assert closed > 8_000 and unclosed > 8_000
