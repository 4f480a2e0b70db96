"""Fuzzing: thousands of generated bad files and hostile queries, seeded so a
failure can be replayed. No file may stop a build, an update or a check, or
poison the index; no query may raise in the engine or answer 5xx over HTTP.
"""

from __future__ import annotations

import json
import random
import string

import pytest

from search import indexer
from search.engine import Engine
from search.request import SearchRequest
from web import create_app

from helpers import write_article

FILES = 2_100
QUERIES = 2_000
SEED = 20261129
NEEDLE = "Quizzically zymurgic ferries resume"


# ---------------------------------------------------------------- files

GOOD = """---
title: {title}
excerpt: {excerpt}
publishedDateTime: {date}
topics: {topics}
provider:
  name: {provider}
  domain: example.test
quality: {quality}
heat: {heat}
---

{body}
"""

DATES = ["2021-06-01T09:05:00Z", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "2021-02-30",
         "2021-6-1 9:05", "1e400", "-1", "99999999999999999999", "yesterday", "", "null", "[2021]", "0000-00-00",
         "2021-06-01T25:61:61Z", "1970-01-01", "2262-04-12T00:00:00Z", "1677-09-21T00:00:00Z"]
NUMBERS = ["1e309", "-inf", ".nan", "NaN", "10" * 200, "-0", "''", "[1, 2]", "{a: 1}", "true", "null", "7"]
TITLES = ['"The"', '"!!!"', '"😀"', '""', "null", "123", "[a, b]", "{x: y}", '"' + "word " * 3000 + '"',
          '"Bank of England raises rates"', "'unclosed", '"<script>alert(1)</script>"', '"\\u0000\\u0007"']
TOPICS = ["[]", "[Energy, Markets]", '"just a string"', "[[[[[[deep]]]]]]", "{a: b}", "[null, 3, 4.5]",
          "[" * 200 + "]" * 200, "[" + ", ".join(f"t{n}" for n in range(2000)) + "]"]
BODIES = ["Plain words about harbors and ferries.", "](" + "[" * 20_000, "<div" * 5_000, "![" * 8_000,
          "<script>" + "x" * 10_000, "<noscript><style>" * 2_000, "\x00\x01\x02 control", "\ufeff bom body",
          "a\r\nb\r\nc", "&amp;" * 5_000, "<!--" * 3_000, "`" * 10_000, "#" * 5_000 + "\n" + "> " * 5_000]


def generated_file(rng: random.Random) -> bytes:
    kind = rng.randrange(9)
    if kind == 0:  # random bytes
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400)))
    text = GOOD.format(title=rng.choice(TITLES), excerpt=rng.choice(TITLES), date=rng.choice(DATES),
                       topics=rng.choice(TOPICS), provider=rng.choice(["Reuters", "null", "[x]", '"BBC"', "{}"]),
                       quality=rng.choice(NUMBERS), heat=rng.choice(NUMBERS), body=rng.choice(BODIES))
    if kind == 1:  # truncated anywhere
        text = text[:rng.randrange(len(text) + 1)]
    elif kind == 2:  # an alias bomb
        text = "---\na: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\nd: [*c, *c, *c]\ntitle: t\n---\n"
    elif kind == 3:  # nesting far past any recursion limit
        text = "---\ntitle: " + "[" * 5_000 + "]" * 5_000 + "\n---\n"
    elif kind == 4:  # another encoding
        return text.encode("cp1252", errors="replace")
    elif kind == 5:  # no front matter, or front matter never closed
        text = rng.choice([text.replace("---", "", 1), text.rsplit("---", 1)[0]])
    return text.encode("utf-8", errors="surrogatepass")


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    """(data, home, build report): ``FILES`` generated files and one good article, built."""
    rng = random.Random(SEED)
    data = tmp_path_factory.mktemp("fuzz") / "data"
    for number in range(FILES):
        path = data / f"{2000 + number % 27}" / f"{number % 12 + 1:02d}" / f"f{number:05d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(generated_file(rng))
    write_article(data, "2023/02/needle.md", title=NEEDLE, excerpt="Services to the islands restarted.",
                  published="2023-02-01T08:00:00Z", topics=["Travel"])
    home = indexer.IndexHome(data.parent / "index")
    report = indexer.build(data, home, workers=2)  # the parallel build, as a big archive gets
    return data, home, report


def test_every_generated_file_gets_a_verdict_and_the_good_article_is_found(fuzzed):
    data, home, report = fuzzed
    assert report.files == FILES + 1
    assert report.documents + len(report.skipped) == report.files  # indexed, or skipped with a reason
    assert all(problem.message for problem in report.problems)
    hits = Engine(home.path).search(SearchRequest("zymurgic ferries")).hits
    assert [hit.title for hit in hits] == [NEEDLE]


def test_check_and_update_over_generated_files_raise_nothing(fuzzed):
    data, home, built = fuzzed
    checked = indexer.check(data)
    assert checked.files == built.files and len(checked.skipped) == len(built.skipped)
    rng = random.Random(SEED + 1)
    changed = sorted(data.rglob("f*.md"))[:300]
    for path in changed[:200]:  # rewritten with other generated content
        path.write_bytes(generated_file(rng))
    for path in changed[200:]:
        path.unlink()
    report = indexer.update(data, home)
    assert report.documents + len(report.skipped) == report.files == FILES + 1 - 100
    hits = Engine(home.path).search(SearchRequest("zymurgic ferries")).hits
    assert [hit.title for hit in hits] == [NEEDLE]


# ---------------------------------------------------------------- queries

PIECES = ["oil", "harbor", "ferries", "bank", "the", "AND", "OR", "NOT", "-", "+", '"', "(", ")", "*", "?", "~2",
          "^3", "title:", "topic:", "source:", "since:", "until:", "year:", "text:", "foo:", "[a TO b]", "{x TO}",
          "2021-13-45", "since:yesterday", "ai*", "EV*", "u.s.*", "COVID-19*", "a*", "*", "\\", "'", "😀", "Zürich",
          "\x00", "\r\n", "<script>", "%00", "..", "/", "&&", "||", "!", ":", "::", "\u202e", "ﬁ", "İ", "ß"]


def generated_query(rng: random.Random) -> str:
    if rng.random() < 0.02:  # huge
        return rng.choice(PIECES) * rng.randrange(1_000, 50_000)
    if rng.random() < 0.1:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(1, 60)))
    return rng.choice(["", " "]).join(rng.choice(PIECES) for _ in range(rng.randrange(1, 12)))


def generated_params(rng: random.Random) -> dict:
    params = {"q": generated_query(rng)}
    for name, values in (("sort", ["relevance", "newest", "oldest", "best", "", "NEWEST"]),
                         ("page", ["1", "2", "0", "-1", "1e9", "abc", "99999999999999999999"]),
                         ("page_size", ["10", "0", "100", "101", "x", "-5"]),
                         ("topic", ["Travel", "", "<b>", "😀" * 100]), ("source", ["Reuters", "nobody"]),
                         ("since", ["2021-01-01", "2021-13-45", "9999-12-31", "-1", "last week"]),
                         ("until", ["2022-01-01", "0000-00-00", "tomorrow"]), ("collapse", ["0", "1", "maybe"])):
        if rng.random() < 0.3:
            params[name] = rng.choice(values)
    return params


def test_generated_queries_never_raise_in_the_engine(fuzzed):
    _, home, _ = fuzzed
    engine = Engine(home.path)
    rng = random.Random(SEED + 2)
    for _ in range(QUERIES):
        text = generated_query(rng)
        response = engine.search(SearchRequest(text, sort=rng.choice(["relevance", "newest", "oldest"]),
                                               page=rng.randrange(1, 4)))
        json.dumps(response.to_json())  # the answer is well-formed too
        assert response.total >= len(response.hits)


def test_generated_requests_never_answer_5xx(fuzzed):
    data, home, _ = fuzzed
    client = create_app(home.path, data).test_client()
    rng = random.Random(SEED + 3)
    failures = []
    for _ in range(QUERIES):
        params = generated_params(rng)
        response = client.get("/api/search", query_string=params)
        if response.status_code >= 500 or response.mimetype != "application/json":
            failures.append((response.status_code, params))
    assert not failures, failures[:5]
