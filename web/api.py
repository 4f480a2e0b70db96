"""The JSON API: the engine's answers, as the CLI's ``--json`` gives them."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import ServiceUnavailable

from .openapi import spec
from search.store import NoIndex
from search.suggestions import MAX_SUGGEST_CHARS

from . import answers
from .answers import engine
from .hosts import site_root
from .params import BadParams, parse_params

blueprint = Blueprint("api", __name__, url_prefix="/api")


@blueprint.route("/search")
def search():
    return jsonify(answers.search(parse_params(request.args)).to_json())


@blueprint.route("/articles/<path:doc_id>")
def article(doc_id: str):
    found, similar = answers.article_or_404(doc_id)
    found["similar"] = [hit.to_json() for hit in similar]
    return jsonify(found)


@blueprint.route("/suggest")
def suggest():
    prefix = request.args.get("q", "")
    if len(prefix) > MAX_SUGGEST_CHARS:
        raise BadParams(f"'q' is longer than {MAX_SUGGEST_CHARS} characters")
    return jsonify({"query": prefix, "suggestions": engine().suggest(prefix)})


@blueprint.route("/health")
def health():
    """Size and freshness of the index, from the searcher the searches use (opened or
    reopened now if the index changed); 503 with the reason if it cannot be opened."""
    try:
        return jsonify(engine().health())
    except NoIndex:
        raise  # security's handler: 503 "No index yet"
    except Exception as exc:
        current_app.logger.exception("health: the index cannot be opened")
        raise ServiceUnavailable(f"The search index cannot be opened: {_reason(exc)}. "
                                 "The server log has the details.") from exc


def _reason(exc: Exception) -> str:
    """What went wrong, for a monitor: an OS error and the file's name (not its path), or the error's kind."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror + (f" ({Path(str(exc.filename)).name})" if exc.filename else "")
    return type(exc).__name__


@blueprint.route("/openapi.json")
def openapi():
    return jsonify(spec(site_root()))
