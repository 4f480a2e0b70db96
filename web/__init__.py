"""The web face of newsearch: a search page and a JSON API over the engine.

``create_app`` is the Flask application factory (``flask --app web run``
finds it; ``newsearch serve`` runs it under waitress). The moving parts:
``params`` (query string -> validated SearchParams), ``answers`` (the
searches and articles the pages, API and feed ask the engine for),
``pages`` (HTML), ``api`` (JSON, OpenAPI), ``feeds`` (Atom, OpenSearch), ``presenting``
(safe links, dates, highlights, timeline geometry), ``archive`` (the archive's
span, newest stories, example searches and date presets, cached per searcher),
``empty`` (why a search found nothing), ``security``
(headers and error pages), ``hosts`` (trusted host names and absolute
URLs) and ``serving`` (waitress, with the headers on its own errors too).

What the app trusts comes from configuration, never from the request:
the base URL and trusted hosts (``hosts``) and whether thumbnails load
from other sites (``security``).
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from search.engine import Engine


def create_app(index: str | Path | None = None, data: str | Path | None = None, *,
               engine: Engine | None = None, test_config: dict | None = None,
               base_url: str | None = None, trusted_hosts=None, thumbnails: bool | None = None) -> Flask:
    """The app for the index at ``index`` (default: ``NEWSEARCH_INDEX`` or ``index``).

    ``base_url`` (``NEWSEARCH_BASE_URL``) starts every absolute URL;
    ``trusted_hosts`` (``NEWSEARCH_TRUSTED_HOSTS``) are the host names
    answered besides the local ones and the base URL's; ``thumbnails``
    (``NEWSEARCH_THUMBNAILS``) shows article images from the publishers'
    sites. ``None`` reads the environment variable. A bad value raises
    ``ValueError`` saying what is wrong."""
    from . import api, feeds, hosts, pages, security

    app = Flask(__name__)
    index = Path(index or os.environ.get("NEWSEARCH_INDEX") or "index")
    app.config.update(
        INDEX=index,
        DATA=Path(data or os.environ.get("NEWSEARCH_DATA") or "data"),
        ENGINE=engine or Engine(index),
        SITE_NAME="newsearch",
        THUMBNAILS=security.thumbnails_wanted(thumbnails),
    )
    hosts.configure(app, base_url, trusted_hosts)
    if test_config:
        app.config.update(test_config)

    app.register_blueprint(pages.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(feeds.blueprint)
    security.install(app)
    return app
