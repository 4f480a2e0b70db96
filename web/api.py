"""The JSON API: the engine's answers, as the CLI's ``--json`` gives them."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import ServiceUnavailable

from search.store import IndexUnreadable, NoIndex
from search.suggestions import MAX_SUGGEST_CHARS

from . import answers
from .answers import engine
from .hosts import site_root
from .openapi import spec
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
    except (NoIndex, IndexUnreadable):
        raise  # 503s from ``security``'s handlers, with the reason
    except Exception as exc:  # for a monitor, any failure is "unhealthy", with its kind
        current_app.logger.exception("health: the engine failed")
        raise ServiceUnavailable(f"The search engine failed: {type(exc).__name__}. "
                                 "The server log has the details.") from exc


@blueprint.route("/openapi.json")
def openapi():
    return jsonify(spec(site_root()))
