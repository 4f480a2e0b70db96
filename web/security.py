"""Security headers and error responses (friendly pages for people, JSON for the API)."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from search.store import NoIndex

from .params import BadParams

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def install(app: Flask) -> None:
    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.errorhandler(BadParams)
    def bad_params(exc):
        return error_response(400, "Bad request", str(exc))

    @app.errorhandler(NoIndex)
    def no_index(exc):
        app.logger.warning("%s", exc)  # the path is for the operator, not for visitors
        return error_response(503, "No index yet",
                              "The search index has not been built yet. Run 'newsearch index build' on the server.")

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
    return render_template("error.html", status=status, title=title, message=message), status
