"""Security headers and error responses (friendly pages for people, JSON for the API).

``security_headers`` is the one list of headers every response carries:
Flask responses get them in an ``after_request`` hook, waitress's own error
replies through ``web.serving``. The Content-Security-Policy lets images
come only from this site unless thumbnails are on (``THUMBNAILS``), which
load from the publishers' sites.
"""

from __future__ import annotations

import os

from flask import Flask, current_app, jsonify, render_template, request
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException

from search.store import IndexUnreadable, NoIndex

from .params import BadParams

THUMBNAILS_ENV = "NEWSEARCH_THUMBNAILS"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def security_headers(thumbnails: bool = False) -> list[tuple[str, str]]:
    """The headers every response carries; ``thumbnails`` lets images come from any http(s) site."""
    return [
        ("Content-Security-Policy", CSP.format(images="'self' https: http:" if thumbnails else "'self'")),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("X-Frame-Options", "DENY"),
    ]


def thumbnails_wanted(value: bool | None) -> bool:
    """``value``, or when it is None the environment's ``NEWSEARCH_THUMBNAILS`` (1/true/yes/on)."""
    if value is None:
        return os.environ.get(THUMBNAILS_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def install(app: Flask) -> None:
    headers_to_add = security_headers(app.config["THUMBNAILS"])

    @app.after_request
    def headers(response):
        for name, value in headers_to_add:
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(BadParams)
    def bad_params(exc):
        return error_response(400, "Bad request", str(exc))

    @app.errorhandler(NoIndex)
    def no_index(exc):
        app.logger.warning("%s", exc)  # the path is for the operator, not for visitors
        return error_response(503, "No index yet",
                              "The search index has not been built yet. Run 'newsearch index build' on the server.")

    @app.errorhandler(IndexUnreadable)
    def unreadable_index(exc):
        app.logger.error("%s", exc, exc_info=exc.__cause__)  # the path and the traceback are for the operator
        return error_response(503, "Index unavailable", f"The search index cannot be opened: {exc.reason}. "
                                                        "The server log has the details.")

    @app.errorhandler(HTTPException)
    def http_error(exc):
        response, status = error_response(exc.code or 500, exc.name, exc.description or "")
        response = app.make_response((response, status))
        if allowed := getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc):
        app.logger.exception("unexpected error on %s", request.path)
        return error_response(500, "Something went wrong", "The server could not answer this request.")


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, title: str, message: str):
    if wants_json():
        return jsonify({"error": {"status": status, "title": title, "message": message}}), status
    _bind_urls_without_a_host()
    return render_template("error.html", status=status, title=title, message=message), status


def _bind_urls_without_a_host() -> None:
    """Werkzeug makes no URL adapter for a request whose Host it cannot read (it answers
    400 BadHost), but the error page needs one for its relative links: bind one to a
    placeholder host, never shown."""
    if request_ctx.url_adapter is None:
        request_ctx.url_adapter = current_app.url_map.bind(
            "localhost", script_name=request.script_root or "/", url_scheme=request.scheme)

