"""Serving the app with waitress, with the security headers on waitress's own replies too.

Waitress answers some requests without calling the app: a request it
cannot parse (400), headers over ``max_request_header_size`` (431), a body
over ``max_request_body_size`` (413), and a 500 when the app fails before
sending anything. It writes those in its ``ErrorTask``, which WSGI
middleware never sees and which has no option for extra headers. So
``create_server`` gives each listening server a channel class whose
``error_task_class`` adds ``security.security_headers`` first. These are
class attributes of waitress 3 (``BaseWSGIServer.channel_class``,
``HTTPChannel.error_task_class``), checked by tests/test_web_security.py
over a real socket.

Several processes (``newsearch serve --processes N``, run by ``serve``): a
search is Python holding the GIL, so one process answers on one core at most. ``listen``
opens the listening sockets first (every address a host name has, as
waitress would); ``start_processes`` forks the other processes before
anything opens the index, so that none shares a Whoosh file's read position
with another; each then makes its own app and engine and runs its own
waitress server on the same sockets, and the kernel hands each new
connection to one of them. The forked processes die with the first
(``processes.start_worker``) and are stopped by it (``stop_processes``).
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
from typing import Callable

import waitress.adjustments
import waitress.channel
import waitress.server
import waitress.task
from flask import Flask

from search import processes

from .security import security_headers


def create_server(app: Flask, **options):
    """A waitress server for ``app`` (``options`` as ``waitress.serve`` takes them); call ``run()`` on it."""
    server = waitress.server.create_server(app, **options)
    channel_class = _channel_with_headers(security_headers(app.config["THUMBNAILS"]))
    for listener in _listeners(server):
        listener.channel_class = channel_class
    return server


def _channel_with_headers(headers: list[tuple[str, str]]) -> type:
    """An ``HTTPChannel`` whose error replies carry ``headers``."""

    class ErrorWithHeaders(waitress.task.ErrorTask):
        def execute(self):
            self.response_headers.extend(headers)  # before ErrorTask writes the status line and headers
            super().execute()

    class ChannelWithHeaders(waitress.channel.HTTPChannel):
        error_task_class = ErrorWithHeaders

    return ChannelWithHeaders


def _listeners(server) -> list:
    """The servers that accept connections: ``server`` itself, or those of a ``MultiSocketServer``
    (several addresses, e.g. a host name that resolves to IPv4 and IPv6)."""
    if isinstance(server, waitress.server.BaseWSGIServer):
        return [server]
    return [each for each in server.map.values() if isinstance(each, waitress.server.BaseWSGIServer)]


def listen(host: str, port: int) -> list[socket.socket]:
    """Listening sockets on ``host``:``port``, one per address waitress would listen on
    (``port`` 0: a free port, the same for all). Raises OSError if one cannot be opened."""
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, address in waitress.adjustments.Adjustments(host=host, port=port).listen:
            if port == 0 and sockets:
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(waitress.adjustments.Adjustments.backlog)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def default_processes() -> int:
    """Serving processes when none are asked for: one per core, at most 4."""
    return min(os.cpu_count() or 1, 4)


def serve(make_app: Callable[[], Flask], sockets: list[socket.socket], *, threads: int, count: int,
          announce: Callable[[Flask, int], None]) -> None:
    """Answer on ``sockets`` from ``count`` processes: this one and ``count - 1``
    forked ones (fewer where ``can_fork`` is false), each running its own app
    made by ``make_app()`` and warmed before it answers. ``announce(app,
    processes)`` warms this process's app and says it is ready. Returns when
    this process's server stops, having stopped the others."""

    def answer(app: Flask) -> None:
        create_server(app, sockets=sockets, threads=threads, ident="newsearch").run()

    def answer_in_another_process() -> None:
        app = make_app()
        app.config["ENGINE"].warm()
        answer(app)

    limit_malloc_arenas()  # before the forks and the threads: every process inherits it
    others = start_processes(count - 1, answer_in_another_process)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # ``finally`` stops the other processes
    try:
        app = make_app()
        announce(app, len(others) + 1)
        answer(app)
    finally:
        stop_processes(others)


SERVER_MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's <malloc.h>


def limit_malloc_arenas(count: int = SERVER_MALLOC_ARENAS) -> bool:
    """Let the C allocator (glibc's) keep at most ``count`` arenas; whether it took the setting.

    glibc gives threads that allocate at once arenas of their own, up to 8
    per core, and seldom returns their free memory; with waitress's threads
    a server's own memory (RssAnon) grew 14.6% over a 10-minute soak with
    updates every 30 s, and 4.9% with two arenas, for the same searches per
    second under 16 connections (``tools.soak``, ``tools.loadcheck``)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return bool(ctypes.CDLL(None).mallopt(_M_ARENA_MAX, count))
    except (OSError, AttributeError):  # not glibc (e.g. musl has no arenas to limit)
        return False


def can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform.startswith("linux")


def start_processes(count: int, run: Callable[[], None]) -> list[int]:
    """Fork ``count`` processes that each call ``run()`` and exit; their pids (none
    where forking is not available: see ``can_fork``)."""
    if not can_fork():
        return []
    parent = os.getpid()
    pids = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:  # the new process: never returns
            status = 0
            try:
                processes.start_worker(parent)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                run()
            except KeyboardInterrupt:
                pass
            except BaseException as exc:  # e.g. the index cannot be opened: the first process says why
                print(f"newsearch: a serving process stopped: {type(exc).__name__}: {exc}", file=sys.stderr)
                status = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)
        pids.append(pid)
    return pids


def stop_processes(pids: list[int]) -> None:
    """Stop the processes ``start_processes`` started and wait for them."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for pid in pids:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
