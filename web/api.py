"""The JSON API: the engine's answers, as the CLI's ``--json`` gives them."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request

from .openapi import spec
from search.engine import MAX_SUGGEST_CHARS

from .params import BadParams, parse_params

blueprint = Blueprint("api", __name__, url_prefix="/api")


def engine():
    return current_app.config["ENGINE"]


@blueprint.route("/search")
def search():
    params = parse_params(request.args)
    return jsonify(engine().search(params.q, **params.engine_options()).to_json())


@blueprint.route("/articles/<path:doc_id>")
def article(doc_id: str):
    found = engine().article(doc_id)
    if found is None:
        abort(404, description=f"There is no article with id '{doc_id}'.")
    found["similar"] = [hit.to_json() for hit in engine().similar(doc_id, limit=6) or []]
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
