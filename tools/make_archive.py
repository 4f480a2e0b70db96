"""Make a large test archive in the archive format from the real corpora.

Scale work needs archives of 20k, 200k and 1M articles; the real corpora
hold about 21k. This recombines them: titles from two Reuters headlines,
excerpts and bodies from Reuters sentences, Reuters topic codes (often
none) and ai-news/power-apps topics, providers from all three corpora.
Articles are dated across 2000-2026 and written in year/month folders;
about 5% are syndicated copies of an earlier story (same title and
excerpt, another provider, within three days). The same seed gives the
same archive.

    python -m tools.make_archive ../shared/corpora /tmp/archive-200k --count 200000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

COPY_SHARE = 0.05
START = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
END = dt.datetime(2026, 10, 31, tzinfo=dt.timezone.utc)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class Pools:
    """What articles are recombined from."""

    titles: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    topic_sets: list[list[str]] = field(default_factory=list)
    providers: list[tuple[str, str]] = field(default_factory=list)


def read_pools(corpora: Path) -> Pools:
    pools = Pools()
    providers = set()
    for path in sorted(corpora.glob("*/**/*.md")):
        meta, body = _split(path)
        if not isinstance(meta, dict) or not isinstance(meta.get("title"), str):
            continue
        pools.titles.append(" ".join(meta["title"].split()))
        text = " ".join(str(meta.get("excerpt") or "").split()) + " " + " ".join(body.split())
        pools.sentences += [s for s in _SENTENCE_END.split(text) if 20 <= len(s) <= 400]
        topics = meta.get("topics")
        pools.topic_sets.append([str(t) for t in topics] if isinstance(topics, list) else [])
        provider = meta.get("provider")
        if isinstance(provider, dict) and provider.get("name") and provider.get("domain"):
            providers.add((str(provider["name"]), str(provider["domain"])))
    pools.providers = sorted(providers)
    return pools


def _split(path: Path) -> tuple[object, str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.startswith("---\n"):
        return None, ""
    end = text.find("\n---", 4)
    try:
        return yaml.load(text[4:end], Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)), text[end + 4:]
    except yaml.YAMLError:
        return None, ""


def make_article(rng: random.Random, pools: Pools, earlier: list[dict]) -> dict:
    if earlier and rng.random() < COPY_SHARE:
        original = rng.choice(earlier)
        article = dict(original)
        article["published"] = original["published"] + dt.timedelta(hours=rng.uniform(1, 72))
        article["provider"] = rng.choice(pools.providers)
        return article
    first, second = rng.choice(pools.titles).split(), rng.choice(pools.titles).split()
    title = " ".join(first[: max(1, len(first) // 2)] + second[len(second) // 2:]).capitalize()
    paragraphs = [" ".join(rng.choices(pools.sentences, k=rng.randint(2, 5))) for _ in range(rng.randint(1, 5))]
    seconds = rng.uniform(0, (END - START).total_seconds())
    return {
        "title": title,
        "excerpt": rng.choice(pools.sentences),
        "body": paragraphs,
        "published": START + dt.timedelta(seconds=seconds),
        "topics": rng.choice(pools.topic_sets),
        "provider": rng.choice(pools.providers),
        "quality": rng.randint(0, 100),
        "heat": rng.randint(0, 50),
    }


def article_text(article: dict) -> str:
    name, domain = article["provider"]
    meta = {
        "category": "news",
        "title": article["title"],
        "excerpt": article["excerpt"],
        "publishedDateTime": article["published"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "webUrl": f"https://{domain}/{_slug(article['title'])}",
        "type": "article",
        "provider": {"name": name, "domain": domain},
        "topics": article["topics"],
        "quality": article["quality"],
        "heat": article["heat"],
    }
    front = yaml.dump(meta, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False,
                      allow_unicode=True, width=10_000)
    return "---\n" + front + "---\n\n" + "\n\n".join(article["body"]) + "\n"


def _slug(title: str) -> str:
    return _SLUG.sub("-", title.lower()).strip("-")[:60] or "article"


def write_archive(pools: Pools, out: Path, count: int, seed: int) -> None:
    rng = random.Random(seed)
    recent: list[dict] = []
    started = time.perf_counter()
    for number in range(count):
        article = make_article(rng, pools, recent)
        recent.append(article)
        if len(recent) > 1000:
            recent.pop(0)
        stamp = article["published"]
        folder = out / f"{stamp:%Y}" / f"{stamp:%m}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stamp:%Y-%m-%d}-{number:07d}-{_slug(article['title'])}.md").write_text(
            article_text(article), encoding="utf-8")
        if number and number % 50_000 == 0:
            print(f"{number:,} articles, {time.perf_counter() - started:.0f} s", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", type=Path, help="the folder holding the real corpora")
    parser.add_argument("out", type=Path, help="where to write the archive (created)")
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    pools = read_pools(args.corpora)
    print(f"{len(pools.titles):,} titles, {len(pools.sentences):,} sentences, "
          f"{len(pools.providers)} providers", file=sys.stderr)
    write_archive(pools, args.out, args.count, args.seed)


if __name__ == "__main__":
    main()
