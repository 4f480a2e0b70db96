"""The web face of newsearch: a search page and a JSON API over the engine.

``create_app`` is the Flask application factory (``flask --app web run``
finds it; ``newsearch serve`` runs it under waitress). The moving parts:
``params`` (query string -> validated SearchParams), ``answers`` (the
searches and articles the pages, API and feed ask the engine for),
``pages`` (HTML), ``api`` (JSON, OpenAPI), ``feeds`` (Atom, OpenSearch), ``presenting``
(safe links, dates, highlights, timeline geometry), ``security``
(headers and error pages).
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from search.engine import Engine


def create_app(index: str | Path | None = None, data: str | Path | None = None, *,
               engine: Engine | None = None, test_config: dict | None = None) -> Flask:
    """The app for the index at ``index`` (default: ``NEWSEARCH_INDEX`` or ``index``)."""
    app = Flask(__name__)
    index = Path(index or os.environ.get("NEWSEARCH_INDEX") or "index")
    app.config.update(
        INDEX=index,
        DATA=Path(data or os.environ.get("NEWSEARCH_DATA") or "data"),
        ENGINE=engine or Engine(index),
        SITE_NAME="newsearch",
    )
    if test_config:
        app.config.update(test_config)

    from . import api, feeds, pages, security

    app.register_blueprint(pages.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(feeds.blueprint)
    security.install(app)
    return app
