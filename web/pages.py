"""The HTML pages: search (with facets, timeline, sorting, paging) and article."""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, request, url_for

from search.facets import FACET_SIZE
from search.request import MAX_PAGE

from . import answers, archive, presenting
from .empty import why_empty
from .params import MAX_Q_CHARS, SearchParams, parse_params

blueprint = Blueprint("pages", __name__)


@blueprint.app_context_processor
def limits() -> dict:
    """Limits the templates show or keep in forms, from where they are enforced."""
    return {"max_page": MAX_PAGE, "max_q_chars": MAX_Q_CHARS}


@blueprint.app_template_global()
def search_url(params: SearchParams, **changes) -> str:
    """The URL of the search page with ``params`` changed (filters, sort, page)."""
    changed = params.changed(**changes) if changes else params
    query = changed.query_string()
    return _search_page() + (f"?{query}" if query else "")


def _search_page() -> str:
    """``url_for("pages.search")``, built once per request: a results page links to it some
    fifty times (facets, timeline, sorting, paging), and building a URL is most of a link's cost."""
    if (url := g.get("search_page_url")) is None:
        url = g.search_page_url = url_for("pages.search")
    return url


@blueprint.app_template_global()
def toggled(values: tuple[str, ...], value: str) -> tuple[str, ...]:
    """``values`` with ``value`` removed if present, added if not."""
    return tuple(v for v in values if v != value) if value in values else values + (value,)


@blueprint.app_template_filter()
def thumbnail(url: str) -> str:
    """``url`` as an image source if thumbnails are on (``THUMBNAILS``) and it is http(s); else ""."""
    return presenting.safe_url(url) if current_app.config["THUMBNAILS"] else ""


blueprint.add_app_template_filter(presenting.safe_url, "safe_url")
blueprint.add_app_template_filter(presenting.highlighted, "highlighted")
blueprint.add_app_template_filter(presenting.when, "when")
blueprint.add_app_template_filter(presenting.period_label, "period_label")
blueprint.add_app_template_filter(presenting.day_label, "day_label")


@blueprint.route("/")
def search():
    params = parse_params(request.args)
    if params.is_empty:
        front = archive.front()
        return render_template("search.html", params=params, response=None, front=front,
                               stats=front.stats if front else None, span=front.span if front else None)
    response = answers.search(params)
    span = archive.span()
    presets = archive.date_presets(span, active=params.since if not params.until else "")
    wanted = params.search_request()
    since_input, until_input = presenting.date_inputs(wanted.since_at, wanted.until_at)
    return render_template(
        "search.html", params=params, response=response, span=span,
        date_presets=presets.labels, presets=presets, since_input=since_input, until_input=until_input,
        why=why_empty(params, wanted, response, span, presets.labels) if response.total == 0 else None,
        bars=presenting.timeline_bars(response.timeline),
        timeline_unit=response.timeline["unit"],
        chart_width=presenting.CHART_WIDTH, chart_height=presenting.CHART_HEIGHT,
        facet_size=FACET_SIZE, stats=None,
    )


@blueprint.route("/article/<path:doc_id>")
def article(doc_id: str):
    found, similar = answers.article_or_404(doc_id)
    return render_template("article.html", article=found, similar=similar, params=SearchParams(),
                           lede=presenting.lede(found))
