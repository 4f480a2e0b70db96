"""The JSON API: the engine's answers, as the CLI's ``--json`` gives them."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from .openapi import spec
from search.suggestions import MAX_SUGGEST_CHARS

from . import answers
from .answers import engine
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
    return jsonify(engine().health())


@blueprint.route("/openapi.json")
def openapi():
    return jsonify(spec(request.host_url.rstrip("/")))
