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
"""

from __future__ import annotations

import waitress.channel
import waitress.server
import waitress.task
from flask import Flask

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
