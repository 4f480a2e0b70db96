"""Following a search: an Atom feed of any query, and an OpenSearch description for browsers.

Their absolute URLs come from ``hosts.external_url`` (the configured base
URL or the trusted request host), never from the raw request.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request

from . import answers
from .hosts import external_url
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
                          self_url=external_url("feeds.feed") + _query(request.args.items(multi=True)),
                          page_url=external_url("pages.search") + "?" + asked.changed().query_string())
    return Response(xml, mimetype="application/atom+xml")


def _query(pairs) -> str:
    """``?`` and ``pairs`` percent-encoded, or "" (not through url_for, which takes ``_external`` and the like as options)."""
    query = urlencode(list(pairs))
    return f"?{query}" if query else ""


@blueprint.route("/opensearch.xml")
def opensearch():
    xml = render_template("opensearch.xml")
    return Response(xml, mimetype="application/opensearchdescription+xml")
