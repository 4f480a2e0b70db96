"""What the pages, the API and the feed ask the engine, asked one way.

The moving parts: ``engine`` (the app's shared ``Engine``), ``search``
(parsed ``SearchParams`` -> the engine's ``SearchResponse``) and
``article_or_404`` (an article and the articles like it, or a 404).
"""

from __future__ import annotations

from flask import abort, current_app

from search.engine import Engine
from search.results import Hit, SearchResponse

from .params import SearchParams

SIMILAR_SHOWN = 6


def engine() -> Engine:
    return current_app.config["ENGINE"]


def search(params: SearchParams) -> SearchResponse:
    return engine().search(params.search_request())


def article_or_404(doc_id: str) -> tuple[dict, list[Hit]]:
    """The article ``doc_id`` and the articles similar to it; aborts with 404 if there is none."""
    found = engine().article(doc_id)
    if found is None:
        abort(404, description=f"There is no article with id '{doc_id}'.")
    return found, engine().similar(doc_id, limit=SIMILAR_SHOWN) or []
