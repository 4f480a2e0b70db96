"""Following a search: an Atom feed of any query, and an OpenSearch description for browsers."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, render_template, request, url_for

from . import answers
from .params import parse_params

blueprint = Blueprint("feeds", __name__)
FEED_SIZE = 30


@blueprint.route("/feed")
def feed():
    asked = parse_params(request.args)
    params = asked.changed(sort="newest", size=min(asked.size, FEED_SIZE) if "size" in request.args else FEED_SIZE)
    response = answers.search(params)
    updated = max((hit.published for hit in response.hits if hit.published), default=None)
    xml = render_template("feed.xml", params=params, response=response,
                          updated=updated or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                          self_url=request.url, page_url=url_for("pages.search", _external=True) + "?" + asked.changed().query_string())
    return Response(xml, mimetype="application/atom+xml")


@blueprint.route("/opensearch.xml")
def opensearch():
    xml = render_template("opensearch.xml", base=request.host_url.rstrip("/"))
    return Response(xml, mimetype="application/opensearchdescription+xml")
