"""The ``newsearch`` command: a thin face over the indexer and the engine.

It parses options, calls ``indexer``/``engine``, and presents what they
return -- as readable terminal text, or with ``--json`` as one JSON object.
Each command imports the modules it uses when it runs, so ``--help`` loads
neither Whoosh nor NLTK and ``search`` loads no indexer, evaluation or web
code (a test checks the start-up imports).
Exit status: 0 something matched / the command worked, 1 nothing matched
(or ``--strict`` found skipped files), 2 a usage error or an unusable
index or data folder, or a full disk, 3 an internal error (one line on stderr).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

import click

from .output import (FORMATS, article_lines, csv_lines, file_path, ids_lines, json_lines, jsonl_lines, md_lines,
                     plural, result_lines)
from .request import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, SORTS

if TYPE_CHECKING:
    from . import indexer

DEFAULT_DATA = "data"
DEFAULT_INDEX = "index"

# Defaults written here so that the modules they come from are imported only
# when a command runs (tests check they match): documents.DEFAULT_MAX_BYTES
# and the evaluate command's choices from search.evaluation.
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
EVALUATED_SYSTEMS = ("newsearch", "whoosh", "fts5", "bm25", "bm25-rm3")
EVALUATION_HALVES = ("odd", "even")
EVALUATION_DEPTH = 100
EVALUATION_MAX_DEPTH = 10_000


class UsageProblem(click.UsageError):
    """Exit 2 with a clear message (click prints it without a traceback); ``kind`` names
    the problem in ``--json`` errors."""

    def __init__(self, message: str, ctx=None, kind: str = "usage") -> None:
        super().__init__(message, ctx)
        self.kind = kind


class PathProblem(click.ClickException):
    """Exit 2 with a one-line message naming a PATH argument that cannot be used."""

    exit_code = 2
    kind = "path"


class DiskProblem(click.ClickException):
    """Exit 2 with one line: the disk is full (the live index is unchanged)."""

    exit_code = 2
    kind = "disk_full"


def data_option(command):
    return click.option("--data", "data", type=click.Path(file_okay=False, path_type=Path),
                        envvar="NEWSEARCH_DATA", default=DEFAULT_DATA, show_default=True,
                        help="Folder of article files (env NEWSEARCH_DATA).")(command)


def index_option(command):
    return click.option("--index", "index", type=click.Path(file_okay=False, path_type=Path),
                        envvar="NEWSEARCH_INDEX", default=DEFAULT_INDEX, show_default=True,
                        help="Index folder (env NEWSEARCH_INDEX).")(command)


def json_option(command):
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")(command)


def emit_json(value) -> None:
    text = json.dumps(value, ensure_ascii=False, indent=2)
    if not text.isascii() and _has_surrogates(text):
        # A file name that is not UTF-8 reaches Python as lone surrogates: shown as \xNN, the output stays UTF-8.
        text = json.dumps(_printable(value), ensure_ascii=False, indent=2)
    click.echo(text)


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _printable(value):
    """``value`` with every string ``_shown``."""
    if isinstance(value, str):
        return _shown(value)
    if isinstance(value, dict):
        return {_printable(key): _printable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_printable(item) for item in value]
    return value


def _shown(path: str) -> str:
    """A path safe to print to strict UTF-8 output: bytes of its name that are not
    UTF-8 as ``\\xNN`` (as ``documents.shown_path``, without importing it)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a command whose reader closed the pipe
INTERNAL_ERROR = 3  # exit status of a fault of newsearch itself; 1 is "nothing found", 2 a usage error


def _wants_json(args: list[str]) -> bool:
    """Whether the command line asks for JSON (``--json``, ``--format json`` or ``jsonl``)."""
    args = args[:args.index("--")] if "--" in args else args
    for number, arg in enumerate(args):
        if arg == "--json" or arg in ("--format=json", "--format=jsonl"):
            return True
        if arg == "--format" and args[number + 1:number + 2] in (["json"], ["jsonl"]):
            return True
    return False


def emit_error(message: str, kind: str) -> None:
    """A ``--json`` error: one object on stdout, ``{"error": {"message": ..., "kind": ...}}``."""
    emit_json({"error": {"message": message, "kind": kind}})


def _error_kind(exc: click.ClickException) -> str:
    if getattr(exc, "kind", None):
        return exc.kind
    if isinstance(exc, click.BadParameter):
        return "bad_option"
    if isinstance(exc, click.UsageError):
        return "usage"
    return "error"


class _Guarded(click.Group):
    """Turns an unexpected exception into one line on stderr and exit status 3,
    so a script can tell a fault from "nothing found"; NEWSEARCH_DEBUG=1 re-raises it.
    With ``--json`` every error is a JSON object on stdout (``emit_error``), with the
    same exit status as the text one."""

    json_errors = False

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = list(sys.argv[1:] if args is None else args)
        _Guarded.json_errors = _wants_json(args)
        if not (standalone_mode and _Guarded.json_errors):
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            emit_error(exc.format_message(), _error_kind(exc))
            sys.exit(exc.exit_code)
        except click.Abort:
            emit_error("aborted", "aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except BrokenPipeError:
            # The reader went away (``newsearch search oil --all --format ids | head``): end
            # quietly, as tools killed by SIGPIPE do; stdout is pointed at nothing so that
            # flushing it at exit does not complain again.
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):  # stdout is not a file (captured)
                pass
            sys.exit(BROKEN_PIPE)
        except Exception as exc:
            if os.environ.get("NEWSEARCH_DEBUG"):
                raise
            detail = " ".join(str(exc).split())[:200]
            if _Guarded.json_errors:
                emit_error(f"internal error ({type(exc).__name__}: {detail})", "internal")
            click.echo(f"newsearch: internal error ({type(exc).__name__}: {detail}); "
                       "please report it (NEWSEARCH_DEBUG=1 shows where)", err=True)
            sys.exit(INTERNAL_ERROR)


@click.group(cls=_Guarded, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsearch")
def main() -> None:
    """Full-text search for a folder of news articles."""


# ---------------------------------------------------------------- index


@main.group("index")
def index_group() -> None:
    """Build, update, inspect and check the index."""


def _progress(as_json: bool):
    """A one-line progress display on a terminal; nothing otherwise."""
    if as_json or not sys.stderr.isatty():
        return None
    return ProgressLine()


class ProgressLine:
    """Shows the running phase on one line of stderr, rewritten in place (``\r``) as
    the work goes and as phases follow one another, with a count, a rate and an ETA
    once the phase has run long enough to estimate them; ``close`` ends the line.
    A call that would show what is already shown draws nothing (a build waiting
    for its last workers reports the same count many times)."""

    def __init__(self, clock=time.monotonic) -> None:
        self.clock, self.phase, self.started, self.shown = clock, "", 0.0, 0.0
        self.last: tuple[int, int] | None = None
        self.drawn = False

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = self.clock()
        if phase != self.phase:
            self.phase, self.started, self.shown, self.last = phase, now, 0.0, None
        elif (done, total) == self.last or (now - self.shown < 0.25 and done < total):
            return
        self.shown, self.last, self.drawn = now, (done, total), True
        click.echo("\r\x1b[K" + self.line(done, total, now - self.started), nl=False, err=True)

    def line(self, done: int, total: int, elapsed: float) -> str:
        if not total:
            return f"  {self.phase}..."
        text = f"  {self.phase}: {done:,}/{total:,} ({100 * done // total}%)"
        if elapsed >= 2 and 0 < done < total:
            rate = done / elapsed
            text += f", {rate:,.0f}/s, about {_duration((total - done) / rate)} left"
        return text

    def close(self) -> None:
        if self.drawn:
            click.echo("\r\x1b[K", nl=False, err=True)  # the report follows on a clean line
            self.drawn = False


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _report(report: indexer.Report, as_json: bool, strict: bool) -> None:
    if as_json:
        emit_json(report.to_json())
    else:
        _print_report(report)
    if strict and report.skipped:
        if not as_json:
            click.echo(f"--strict: {len(report.skipped)} file(s) skipped", err=True)
        sys.exit(1)


def _print_report(report: indexer.Report) -> None:
    for problem in report.skipped:
        click.echo(f"skipped  {problem.path}: {problem.message}", err=True)
    for problem in report.warnings:
        click.echo(f"warning  {problem.path}: {problem.message}", err=True)
    parts = [f"{report.files:,} file{'' if report.files == 1 else 's'}", f"indexed {report.indexed:,}"]
    if report.action.startswith("update"):
        parts += [f"updated {report.updated:,}", f"removed {report.removed:,}", f"unchanged {report.unchanged:,}"]
    if report.action == "check":
        parts = [f"{report.files:,} file{'' if report.files == 1 else 's'}", f"readable {report.indexed:,}"]
    parts += [f"skipped {len(report.skipped):,}", f"warnings {len(report.warnings):,}", f"{report.seconds:.2f}s"]
    click.echo(f"{report.action}: " + ", ".join(parts))
    if report.action != "check":
        click.echo(f"index: {_shown(report.index)} ({report.documents:,} document{'' if report.documents == 1 else 's'})")
        if not report.documents:
            click.echo("the index is empty: the data folder has no readable article (*.md) files")


def _writer_command(run, as_json: bool, strict: bool) -> None:
    progress = _progress(as_json)
    try:
        with _writer_problems():
            report = run(progress)
    finally:
        if progress:
            progress.close()
    _report(report, as_json, strict)


@contextmanager
def _writer_problems() -> Iterator[None]:
    """A build's, update's or watch's problems as the CLI's messages and exit statuses."""
    from . import indexer

    try:
        yield
    except indexer.IndexBusy as exc:
        raise UsageProblem(str(exc), kind="busy") from None
    except indexer.DiskFull as exc:
        raise DiskProblem(str(exc)) from None
    except (indexer.IndexProblem, FileNotFoundError) as exc:
        raise UsageProblem(str(exc), kind="data_folder" if isinstance(exc, FileNotFoundError) else "index") from None
    except indexer.ScopeProblem as exc:
        raise PathProblem(str(exc)) from None


def _max_size_option(command):
    return click.option("--max-size", type=click.IntRange(1), default=DEFAULT_MAX_BYTES, show_default=True,
                        help="Skip article files larger than this many bytes.")(command)


def _strict_option(command):
    return click.option("--strict", is_flag=True, help="Fail (exit 1) if any file is skipped.")(command)


def _follow_links_option(command):
    return click.option("--follow-links", is_flag=True,
                        help="Read links that lead outside the data folder and enter links to folders "
                             "(loops are not followed). Without it they are skipped and reported.")(command)


@index_group.command("build")
@data_option
@index_option
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Processes to index with (default: all cores).")
@_max_size_option
@_follow_links_option
@_strict_option
@json_option
def index_build(data: Path, index: Path, workers, max_size: int, follow_links: bool, strict: bool,
                as_json: bool) -> None:
    """Rebuild the index from scratch; swapped in only when complete."""
    from . import indexer

    _writer_command(lambda progress: indexer.build(data, indexer.IndexHome(index), workers=workers,
                                                   max_bytes=max_size, progress=progress, follow_links=follow_links),
                    as_json, strict)


@index_group.command("update")
@data_option
@index_option
@_max_size_option
@_follow_links_option
@_strict_option
@json_option
@click.argument("paths", metavar="[PATH]...", nargs=-1, type=click.Path(path_type=Path))
def index_update(data: Path, index: Path, max_size: int, follow_links: bool, strict: bool, as_json: bool,
                 paths: tuple[Path, ...]) -> None:
    """Index new and changed files, drop deleted ones; touch nothing else.

    Each PATH (a file or folder inside the data folder) limits the update to
    it: only files there are compared, and removals are found only there.
    Without PATHs the whole data folder is compared, unless 'newsearch index
    watch' keeps this index up to date: then the watcher indexes every change
    made so far, at once, and this command prints what it did. Links are
    followed if --follow-links is given or the index was built or updated
    with it."""
    from . import indexer, watching

    _writer_command(lambda progress: watching.update(data, indexer.IndexHome(index), paths=paths, max_bytes=max_size,
                                                     progress=progress, follow_links=follow_links,
                                                     every_problem=strict), as_json, strict)


@index_group.command("watch")
@data_option
@index_option
@_max_size_option
@_follow_links_option
@click.option("--settle", type=click.FloatRange(0.05, 60), default=0.5, show_default=True,
              help="Seconds without a change before an update starts.")
@click.option("--json", "as_json", is_flag=True, help="Print each update's summary as one line of JSON.")
def index_watch(data: Path, index: Path, max_size: int, follow_links: bool, settle: float, as_json: bool) -> None:
    """Keep the index up to date as files change, until Ctrl-C (Linux).

    Starts with a whole update (for what changed while nothing watched),
    then, each time changes pause for --settle seconds, updates only the
    files and folders the system says changed: what 'index update PATH...'
    would do, without a look at every file. Waits its turn while a build or
    another update runs. Changes behind links (--follow-links) are seen
    only at the start."""
    from . import indexer, watching

    def report(done: indexer.Report) -> None:
        if as_json:
            click.echo(json.dumps(_printable(done.to_json()), ensure_ascii=False))
        else:
            click.echo(time.strftime("%H:%M:%S "), nl=False)
            _print_report(done)

    def ready(folders: int) -> None:
        click.echo(f"watching {folders:,} folder{'' if folders == 1 else 's'} of {_shown(str(data))} for changes "
                   "(Ctrl-C stops)", err=True)

    signal.signal(signal.SIGTERM, _stop_on_term)  # a service manager's stop: the same clean exit as Ctrl-C
    try:
        with _writer_problems():
            watching.watch(data, indexer.IndexHome(index), on_report=report, on_ready=ready,
                           on_busy=lambda message: click.echo(f"waiting: {message}", err=True),
                           settle=settle, max_bytes=max_size, follow_links=follow_links)
    except watching.WatchUnavailable as exc:
        raise UsageProblem(str(exc), kind="watch") from None
    except KeyboardInterrupt:
        click.echo("stopped watching", err=True)


def _stop_on_term(_signum, _frame) -> None:
    raise KeyboardInterrupt


@index_group.command("check")
@data_option
@_max_size_option
@_follow_links_option
@_strict_option
@json_option
def index_check(data: Path, max_size: int, follow_links: bool, strict: bool, as_json: bool) -> None:
    """Read every file as a build would and list every problem; index nothing."""
    from . import indexer

    _writer_command(lambda progress: indexer.check(data, max_bytes=max_size, progress=progress,
                                                   follow_links=follow_links), as_json, strict)


@index_group.command("stats")
@index_option
@json_option
def index_stats(index: Path, as_json: bool) -> None:
    """Documents, size, last build and update, top topics and providers."""
    stats = _engine_call(lambda: _engine(index).stats())
    if as_json:
        emit_json(stats)
        return
    click.echo(f"index      {_shown(str(stats['index']))} ({stats['generation']})")
    click.echo(f"documents  {stats['documents']:,}")
    click.echo(f"size       {stats['size_bytes'] / 1e6:,.1f} MB")
    click.echo(f"built      {stats['built']} from {_shown(str(stats['data']))} in {stats['build_seconds']}s")
    click.echo(f"updated    {stats['updated'] or 'never'}")
    first, last = stats.get("first_published"), stats.get("last_published")
    click.echo(f"published  {first[:10]} to {last[:10]}" if first and last else "published  no dated articles")
    for title, key in (("top topics", "top_topics"), ("top providers", "top_providers")):
        listed = ", ".join(f"{item['value']} ({item['count']:,})" for item in stats[key]) or "none"
        click.echo(f"{title:<10} {listed}")


def _engine(index: Path):
    """An engine over ``index``; imported here, so that commands that do not search never load it."""
    from .engine import Engine

    return Engine(index)


def _engine_call(call):
    """``call()``, with a missing index or an unusable option value as a usage error."""
    from .querying import QueryError
    from .store import BuildInProgress, IndexUnreadable, NoIndex

    try:
        return call()
    except BuildInProgress as exc:
        raise UsageProblem(str(exc), kind="build_in_progress") from None
    except NoIndex as exc:
        raise UsageProblem(str(exc), kind="no_index") from None
    except IndexUnreadable as exc:
        raise UsageProblem(str(exc), kind="index_unreadable") from None
    except QueryError as exc:
        raise UsageProblem(str(exc), kind="bad_option") from None


# ---------------------------------------------------------------- serve


@main.command("serve")
@data_option
@index_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Worker threads of each process.")
@click.option("--processes", type=click.IntRange(1, 16), default=None,
              help="Processes answering on the same port (Linux; elsewhere 1). A search holds Python's GIL, "
                   "so one process uses one core.  [default: the cores, at most 4]")
@click.option("--base-url", envvar="NEWSEARCH_BASE_URL", show_envvar=True, metavar="URL",
              callback=lambda ctx, param, value: _web_setting("parse_base_url", value) if value else None,
              help="The site's public address (e.g. https://news.example.org): the feed, OpenSearch and "
                   "OpenAPI links start with it, and its host is answered.")
@click.option("--trusted-host", "trusted_hosts", multiple=True, envvar="NEWSEARCH_TRUSTED_HOSTS", show_envvar=True,
              callback=lambda ctx, param, value: tuple(_web_setting("parse_host_names", value)),
              metavar="NAME", help="Also answer requests for this host name (repeatable; .example.org for its "
                                   "subdomains too). Always answered: localhost, 127.0.0.1, ::1 and --host.")
@click.option("--thumbnails/--no-thumbnails", default=None, envvar="NEWSEARCH_THUMBNAILS", show_envvar=True,
              help="Show article thumbnails, which browsers load from the publishers' sites  [default: off]")
def serve(data: Path, index: Path, host: str, port: int, threads: int, processes: int | None,
          base_url: str | None, trusted_hosts: tuple[str, ...], thumbnails: bool | None) -> None:
    """Serve the search page and JSON API (building the index first if there is none).

    Only requests for the trusted host names are answered (others get 400),
    so that no absolute link is made from a Host header a client chose."""
    from web import create_app, serving

    from . import indexer

    wildcard = host in ("", "0.0.0.0", "::")  # no name a client would use
    if not wildcard:
        trusted_hosts = (*trusted_hosts, *_web_setting("parse_host_names", [host]))
    if indexer.IndexHome(index).current() is None:
        click.echo(f"No index at {index}; building it from {data} first.")
        _writer_command(lambda progress: indexer.build(data, indexer.IndexHome(index), progress=progress),
                        as_json=False, strict=False)
    try:
        sockets = serving.listen(host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    def make_app():  # in each process, after the fork: each opens the index itself
        return create_app(index, data, engine=_engine(index), base_url=base_url, trusted_hosts=trusted_hosts,
                          thumbnails=thumbnails)

    def announce(app, count: int) -> None:
        documents = _engine_call(app.config["ENGINE"].warm)
        shown = f"[{host}]" if ":" in host else host
        bound = sockets[0].getsockname()[1]
        click.echo(f"Serving {documents:,} articles at {app.config['BASE_URL'] or f'http://{shown}:{bound}'}/  "
                   f"({count} process{'es' if count > 1 else ''}; Ctrl+C to stop)")
        click.echo("Answering requests for: " + ", ".join(app.config["NEWSEARCH_TRUSTED_HOSTS"]))
        if wildcard and not (base_url or trusted_hosts):
            click.echo("Requests for other names get 400: add --trusted-host NAME or --base-url URL.")

    serving.serve(make_app, sockets, threads=threads, count=processes or serving.default_processes(),
                  announce=announce)


def _web_setting(parser: str, value):
    """``value`` checked by ``web.hosts.<parser>``; a bad one is a usage error naming the option."""
    from web import hosts

    try:
        return getattr(hosts, parser)(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


# ---------------------------------------------------------------- search


def _is_terminal() -> bool:
    """Whether stdout is a terminal (a pipe or a file gets no pager and no progress)."""
    return sys.stdout.isatty()


def _write(lines, *, pager: bool, long: bool = False) -> None:
    """Print ``lines``; through a pager (``click.echo_via_pager``) when ``pager`` is on, stdout
    is a terminal and they do not fit on it. ``long``: they are known not to fit (``--all``),
    so they are streamed to the pager without being gathered first."""
    if pager and _is_terminal():
        if long:
            click.echo_via_pager(line + "\n" for line in lines)
            return
        lines = list(lines)
        import shutil

        if len(lines) > shutil.get_terminal_size().lines - 1:
            click.echo_via_pager("\n".join(lines) + "\n")
            return
    for line in lines:
        click.echo(line)


def _pager_option(command):
    return click.option("--pager/--no-pager", default=True, show_default=True,
                        help="Page long text output on a terminal (never when piped).")(command)


class _WordsCommand(click.Command):
    """A command whose WORDS may start with ``-`` (``-crude`` excludes a word),
    so click must let unknown options through, but where ``--name`` that is
    none of the command's options is a mistyped option, not a word to search
    for (``newsearch search oil --data x``): "No such option", with the
    nearest options named. A word after ``--`` is a word, whatever it is."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in param.opts + param.secondary_opts:
                    takes_value[name] = not param.is_flag and not param.count
        at = 0
        while at < len(args) and args[at] != "--":
            name = args[at].split("=", 1)[0]
            if name.startswith("--") and name not in takes_value:
                raise click.NoSuchOption(name, possibilities=[n for n in takes_value if n.startswith("--")], ctx=ctx)
            at += 2 if takes_value.get(name) and "=" not in args[at] else 1  # an option's value is not checked
        return super().parse_args(ctx, args)


@main.command("search", cls=_WordsCommand, context_settings={"ignore_unknown_options": True})
@click.argument("words", nargs=-1, required=False)
@index_option
@click.option("--topic", "topics", multiple=True, help="Only articles with this topic (repeatable).")
@click.option("--source", "sources", multiple=True, help="Only articles from this provider name or domain (repeatable).")
@click.option("--since", help="Published on or after: 2022, 2022-07, 2022-07-08, 7d, 2w, 3m, 1y.")
@click.option("--until", help="Published on or before (same forms as --since).")
@click.option("--sort", type=click.Choice(SORTS), default=None,
              help="Order of the results  [default: relevance; newest when browsing without words]")
@click.option("--limit", type=click.IntRange(1, MAX_PAGE_SIZE), default=DEFAULT_PAGE_SIZE, show_default=True,
              help="Results per page.")
@click.option("--page", type=click.IntRange(1, MAX_PAGE), default=1, show_default=True)
@click.option("--all", "everything", is_flag=True,
              help="Every result in rank order, streamed (no page, no cap; --limit and --page ignored).")
@click.option("--format", "output", type=click.Choice(FORMATS), default=None,
              help="text, json (one object), jsonl or csv (one row per article), ids (one file path per "
                   "line), md (a Markdown list)  [default: text]")
@click.option("--no-collapse", is_flag=True, help="List every copy of a story, not one result per story.")
@click.option("--no-correct", is_flag=True, help="Search exactly as typed (no spelling correction).")
@click.option("--no-synonyms", is_flag=True, help="Search only the typed words, not their synonyms.")
@_pager_option
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
def search_command(words, index: Path, topics, sources, since, until, sort, limit, page, everything, output,
                   no_collapse, no_correct, no_synonyms, pager, as_json) -> None:
    """Search the index. WORDS use the query language (see README); a word
    starting with - (like -crude) excludes articles that have it.

    Without WORDS, a filter alone (--topic, --source, --since, --until)
    lists the articles it matches, newest first."""
    from .request import SearchRequest

    if as_json and output not in (None, "json"):
        raise UsageProblem(f"--json and --format {output} ask for different outputs; give one of them")
    output = "json" if as_json else output or "text"
    text = " ".join(words)
    if not text.strip() and not any((topics, sources, since, until)):
        raise UsageProblem("give words to search for, or a filter to browse (--topic, --source, --since or "
                           "--until); see 'newsearch search --help'")
    engine = _engine(index)
    request = _engine_call(lambda: SearchRequest(
        text, topics=topics, sources=sources, since=since, until=until, sort=sort or "relevance",
        page=1 if everything else page, page_size=limit, collapse=not no_collapse, correct=not no_correct,
        synonyms=not no_synonyms))
    if everything:
        response, hits = _engine_call(lambda: engine.stream(request))
        first = 1
    else:
        response = _engine_call(lambda: engine.search(request))
        hits, first = response.hits, (response.page - 1) * response.page_size + 1
    data = _engine_call(lambda: engine.stats(top=0))["data"] if output in ("ids", "jsonl", "csv") else None
    if output == "json":
        if everything:
            head = response.to_json()
            head.update(page=1, page_size=response.total, pages=1 if response.total else 0)
            for line in json_lines(head, hits):
                click.echo(line)
        else:
            emit_json(response.to_json())
    elif output == "jsonl":
        for line in jsonl_lines(hits, first, data):
            click.echo(line)
    elif output == "csv":
        for line in csv_lines(hits, first, data):
            click.echo(line)
    elif output == "ids":
        for line in ids_lines(hits, data):
            click.echo(_shown(line))
    elif output == "md":
        for line in md_lines(hits, first):
            click.echo(line)
    else:
        _print_notes(response)
        if not response.total:
            _print_empty(engine, request, response)
        elif not everything and not response.hits:
            click.echo(_past_the_end(response))
        else:
            _write(_results_text(response, hits, first, everything), pager=pager, long=everything)
    past_the_end = bool(response.total and not everything and not response.hits)
    if output != "text" and past_the_end:
        click.echo(f"newsearch: {_past_the_end(response)}", err=True)
    sys.exit(0 if response.total and not past_the_end else 1)


def _past_the_end(response) -> str:
    return (f"page {response.page:,} is past the end: {_counted(response)} in {plural(response.pages, 'page')}"
            f" (--page {response.pages:,} is the last)")


def _counted(response) -> str:
    """What a total counts: ``635 stories (665 articles)`` when copies are folded, else ``12 results``."""
    articles = response.articles
    if articles is not None and articles != response.total:
        return f"{plural(response.total, 'story', 'stories')} ({plural(articles, 'article')})"
    return plural(response.total, "result")


def _print_notes(response) -> None:
    for note in response.notes:
        if response.spelling and response.spelling["applied"] and note.code == "spelling_applied":
            continue  # said once, below, with the way back
        click.secho(f"note: {note.text}", fg="yellow", err=True)
    if response.spelling and response.spelling["applied"]:
        nothing = f"No results for '{response.text}'. " if response.spelling.get("typed_total") == 0 else ""
        click.secho(f"{nothing}Showing results for '{response.spelling['corrected']}'; "
                    f"search instead for '{response.text}' with --no-correct.", fg="yellow", err=True)
    elif response.spelling:
        click.secho(f"Did you mean: {response.spelling['corrected']}?", fg="yellow", err=True)


def _results_text(response, hits, first: int, everything: bool):
    """The readable listing: a header, the hits, the facets and where more are."""
    read = response.read_as or response.text
    what = f" for '{read}'" if read else " (" + _filters_text(response.filters) + ")"
    if everything or response.total <= len(response.hits):
        shown = _counted(response)
    else:
        last = first + len(response.hits) - 1
        shown = f"{first:,}{'' if last == first else f'-{last:,}'} of {_counted(response)}"
    yield f"{shown}{what} ({response.took_ms:.0f} ms, sorted by {response.sort})"
    yield ""
    yield from result_lines(hits, first)
    for name, counts in response.facets.items():
        if counts:
            yield f"{name}: " + ", ".join(f"{c['value']} ({c['count']:,})" for c in counts[:8])
    if response.articles is not None and response.articles != response.total:
        yield "(facet counts count every article; a story's copies are listed under it: --no-collapse lists each)"
    if not everything and response.pages > response.page:
        yield f"page {response.page} of {response.pages}: --page {response.page + 1} for more, --all for every result"


def _filters_text(filters: dict) -> str:
    parts = [f"topic {t}" for t in filters.get("topics") or []] + [f"source {s}" for s in filters.get("sources") or []]
    parts += [f"{name} {filters[name][:10]}" for name in ("since", "until") if filters.get(name)]
    return ", ".join(parts) or "everything"


# How each way out of an empty result reads on the command line (explain.Reason.way_out).
_OPTIONS = {"topic": "--topic", "source": "--source", "since": "--since", "until": "--until"}


def _way_out(way: dict | None) -> str:
    if not way:
        return ""
    action, name, value = way.get("action"), way.get("filter"), way.get("value")
    option = _OPTIONS.get(name, name)
    if action == "drop" and name == "all":
        return "drop the filters"
    if action == "drop":
        return f"drop {option}" + (f" {value}" if value else "")
    if action == "set":
        return f"try {option} {value}" + (f" instead of {option} {way['instead_of']}" if way.get("instead_of") else "")
    if action == "swap":
        return "swap --since and --until"
    if action == "change":
        return "check the spelling, use fewer or other words, or a prefix (oil*)"
    if action == "build":
        return "build the index from a folder of articles: newsearch index build --data FOLDER"
    return ""


def _print_empty(engine, request, response) -> None:
    """No results, and why: the filters in force, the archive's dates, the way out."""
    what = f"'{response.text}'" if response.text.strip() else _filters_text(response.filters)
    click.echo(f"No results for {what}.")
    for reason in _engine_call(lambda: engine.explain_empty(request, response)):
        way = _way_out(reason.way_out)
        click.echo(f"  - {reason.message}" + (f": {way}" if way else ""))


@main.command("suggest")
@click.argument("prefix")
@index_option
@click.option("--limit", type=click.IntRange(1, 50), default=8, show_default=True)
@json_option
def suggest_command(prefix: str, index: Path, limit: int, as_json: bool) -> None:
    """Completions for a prefix: topics, sources, titles and words."""
    if not prefix.strip():
        raise UsageProblem("give the start of a word, topic, source or title to complete (e.g. 'newsearch suggest oi')")
    found = _engine_call(lambda: _engine(index).suggest(prefix, limit=limit))
    if as_json:
        emit_json({"query": prefix, "suggestions": found})
    else:
        for item in found:
            click.echo(f"{item['text']}  ({item['kind']})")
        if not found:
            click.echo(f"No completions for '{prefix}'.", err=True)
    sys.exit(0 if found else 1)


def _article_ids(given: str, data: str | None) -> list[str]:
    """The ids ``given`` may mean: an id, an id with ``.md``, or the article's file path
    (relative to the data folder, to the current folder, or absolute)."""
    candidates = []
    plain = given.replace(os.sep, "/") if os.sep != "/" else given
    for text in (plain.strip("/") if not os.path.isabs(given) else None,):
        if text:
            candidates.append(text[:-3] if text.endswith(".md") else text)
    path = Path(given)
    if data and (path.is_absolute() or path.exists()):
        try:
            relative = path.resolve().relative_to(Path(data).resolve()).as_posix()
        except (ValueError, OSError):
            relative = ""
        if relative:
            candidates.insert(0, relative[:-3] if relative.endswith(".md") else relative)
    return list(dict.fromkeys(candidates))


def _find_article(engine, given: str) -> tuple[str, dict]:
    """(id, article) of ``given`` (see ``_article_ids``); a usage error if there is none."""
    data = _engine_call(lambda: engine.stats(top=0)).get("data")
    for doc_id in _article_ids(given, data):
        article = _engine_call(lambda: engine.article(doc_id))
        if article is not None:
            return doc_id, article
    raise UsageProblem(f"there is no article with id '{given}' (an id is the file's path in the data folder, "
                       "with or without .md)", kind="not_found")


@main.command("similar")
@click.argument("article_id")
@index_option
@click.option("--limit", type=click.IntRange(1, 50), default=5, show_default=True)
@json_option
def similar_command(article_id: str, index: Path, limit: int, as_json: bool) -> None:
    """Articles similar to ARTICLE_ID (its path in the data folder, with or without .md),
    excluding its own copies."""
    engine = _engine(index)
    doc_id, _ = _find_article(engine, article_id)
    found = _engine_call(lambda: engine.similar(doc_id, limit=limit)) or []
    if as_json:
        emit_json({"id": doc_id, "similar": [hit.to_json() for hit in found]})
    else:
        for number, hit in enumerate(found, 1):
            meta = " · ".join(filter(None, [hit.provider, (hit.published or "")[:10]]))
            click.echo(f"{number:>3}. {hit.title}\n     {meta}\n     {hit.id}")
        if not found:
            click.echo(f"No article is similar enough to '{doc_id}'.", err=True)
    sys.exit(0 if found else 1)


@main.command("show")
@click.argument("article_id")
@index_option
@click.option("--open", "open_url", is_flag=True, help="Open the article's web address (webUrl) in a browser.")
@_pager_option
@json_option
def show_command(article_id: str, index: Path, open_url: bool, pager: bool, as_json: bool) -> None:
    """Print one article: its fields, body and related coverage, wrapped to the terminal.

    ARTICLE_ID is the article's id (its path in the data folder, with or
    without .md, as search lists it) or its file's path."""
    import shutil

    engine = _engine(index)
    doc_id, article = _find_article(engine, article_id)
    if open_url:
        if not article.get("url"):
            raise UsageProblem(f"the article '{doc_id}' has no web address to open", kind="no_url")
        click.launch(article["url"])
        if not as_json:
            click.echo(article["url"])
            return
    if as_json:
        emit_json(article)
        return
    data = _engine_call(lambda: engine.stats(top=0)).get("data")
    width = min(shutil.get_terminal_size().columns, 100) if _is_terminal() else 80
    _write(article_lines(article, width, _shown(file_path(doc_id, data))), pager=pager)


@main.command("evaluate")
@click.argument("corpus", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("queries", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("qrels", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--index", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="newsearch index to reuse (built there if empty; default: a scratch folder).")
@click.option("--depth", type=click.IntRange(1, EVALUATION_MAX_DEPTH), default=EVALUATION_DEPTH,
              show_default=True, help="Results taken from each system per query.")
@click.option("--system", "systems", multiple=True, type=click.Choice(EVALUATED_SYSTEMS),
              help="Evaluate only this system (repeatable; default all).")
@click.option("--queries-half", "half", type=click.Choice(EVALUATION_HALVES), default=None,
              help="Only the queries whose id ends in an odd (tuning) or even (held-out) number.")
@click.option("--per-query", is_flag=True, help="Also print nDCG@10 per query and system.")
@json_option
def evaluate_command(corpus, queries, qrels, index, depth, systems, half, per_query, as_json) -> None:
    """Ranking quality on judged queries (MAP, nDCG@10, P@10, zero-result queries), beside plain Whoosh, SQLite FTS5 and BM25 (with and without RM3) with every word optional."""
    # Not the shared --index option: its default would evaluate (and keep) the live index.
    from . import evaluation, indexer

    log = None if as_json or not sys.stderr.isatty() else (lambda message: click.echo(message, err=True))
    try:
        result = evaluation.evaluate(corpus, queries, qrels, index=index, depth=depth,
                                     systems=systems or evaluation.SYSTEMS, log=log, half=half)
    except (evaluation.InputError, indexer.IndexProblem) as exc:
        raise UsageProblem(str(exc)) from None
    if as_json:
        emit_json(result)
    else:
        click.echo(evaluation.format_report(result, per_query=per_query))


if __name__ == "__main__":  # pragma: no cover
    main()
