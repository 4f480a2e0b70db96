"""Which host names the app answers for, and the absolute URLs it builds.

A request's ``Host`` header is chosen by the client, so it is trusted only
if it names one of the configured hosts; any other request gets a 400
before a view runs (``check_host``). Absolute URLs (the feed's links, the
OpenSearch description, the OpenAPI ``servers``) start from ``site_root``:
the configured base URL, or else the request's own (trusted) host.

The moving parts:

* ``parse_base_url`` and ``parse_host_names`` check the configuration
  (``--base-url`` / ``NEWSEARCH_BASE_URL``, ``--trusted-host`` /
  ``NEWSEARCH_TRUSTED_HOSTS``) and raise ``ValueError`` naming what is wrong;
* ``configure`` puts them in the app's config (``BASE_URL``,
  ``NEWSEARCH_TRUSTED_HOSTS``) with the local names always trusted;
* ``check_host`` (a ``before_request`` hook) and ``external_url``.

Flask's own ``TRUSTED_HOSTS`` is not used: it rejects a host while the
request's URL adapter is being made, so the error page cannot build its
links (it ends in a 500), and Werkzeug drops the port of a trusted name
by cutting at the first ``:``, which makes IPv6 literals unmatchable.
"""

from __future__ import annotations

import ipaddress
import os
import re
from urllib.parse import urlsplit

from flask import Flask, current_app, request, url_for
from werkzeug.exceptions import BadRequest

BASE_URL_ENV = "NEWSEARCH_BASE_URL"
TRUSTED_HOSTS_ENV = "NEWSEARCH_TRUSTED_HOSTS"
# Names that only reach this machine: always answered (monitoring, local use).
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")

_NAME = re.compile(r"\.?[a-z0-9-]+(\.[a-z0-9-]+)*\.?")  # a DNS name or IPv4; leading dot: its subdomains too
_URL_PATH = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")


class UntrustedHost(BadRequest):
    """A request whose Host header is not one this server answers for."""

    name = "Unknown host"  # the title of the error page and of the JSON error
    description = "This server does not answer requests for that host name."


def parse_base_url(text: str) -> str:
    """``text`` as a base URL (``https://news.example.org`` or with a path), without a trailing slash.

    Raises ``ValueError`` unless it is an absolute http(s) URL without
    user, query or fragment, and without spaces or control characters."""
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in text):
        raise ValueError("the base URL must not contain spaces or control characters")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"the base URL must start with http:// or https:// and a host, not '{text}'")
    if "@" in parts.netloc or parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValueError("the base URL must not have a user name, a query or a fragment")
    if not _URL_PATH.fullmatch(parts.path):
        raise ValueError("the base URL's path has characters that must be percent-encoded")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        host = _host_name(parts.hostname)
    except ValueError:
        raise ValueError(f"the base URL's host or port is not valid: '{parts.netloc}'") from None
    port = f":{parts.port}" if parts.port else ""
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme.lower()}://{host}{port}{parts.path.rstrip('/')}"


def parse_host_names(values) -> list[str]:
    """Host names from ``values`` (each may hold several, separated by commas or spaces),
    lowercased, without ports or IPv6 brackets. Raises ``ValueError`` naming a bad one."""
    names = []
    for value in values:
        for word in re.split(r"[\s,]+", value.strip()):
            if word:
                names.append(_host_name(word, allow_port=True))
    return names


def _host_name(text: str, *, allow_port: bool = False) -> str:
    """``text`` as a bare lowercase host name or IP address; ``ValueError`` if it is not one."""
    name = text.strip().lower()
    if name.startswith("["):
        name, bracket, rest = name[1:].partition("]")
        if not bracket or (rest and not (allow_port and re.fullmatch(r":\d{1,5}", rest))):
            raise ValueError(f"not a host name: '{text}'")
    elif allow_port and re.fullmatch(r"[^:]+:\d{1,5}", name):
        name = name.rpartition(":")[0]
    if ":" in name:
        try:
            return str(ipaddress.IPv6Address(name))
        except ValueError:
            raise ValueError(f"not a host name: '{text}'") from None
    if not _NAME.fullmatch(name) or len(name) > 253:
        raise ValueError(f"not a host name: '{text}'")
    return name


def configure(app: Flask, base_url: str | None = None, trusted_hosts=None) -> None:
    """Set the app's base URL and trusted hosts; ``None`` reads them from the environment.

    The base URL's host and the local names are always trusted."""
    if base_url is None:
        base_url = os.environ.get(BASE_URL_ENV) or None
    if trusted_hosts is None:
        trusted_hosts = [os.environ.get(TRUSTED_HOSTS_ENV, "")]
    base_url = parse_base_url(base_url) if base_url else None
    names = list(LOCAL_HOSTS) + parse_host_names(trusted_hosts)
    if base_url:
        names.append(_host_name(urlsplit(base_url).hostname))
    app.config.update(BASE_URL=base_url, NEWSEARCH_TRUSTED_HOSTS=tuple(dict.fromkeys(names)))
    app.before_request(check_host)
    app.add_template_global(external_url)


def is_trusted(host: str, trusted: tuple[str, ...]) -> bool:
    """Is ``host`` (a Host header as Werkzeug read it: ``name[:port]``, "" if unusable) one of ``trusted``?"""
    try:
        name = _host_name(host, allow_port=True)
    except ValueError:
        return False
    if name.startswith("."):
        return False
    return any(name == entry or (entry.startswith(".") and (name == entry[1:] or name.endswith(entry)))
               for entry in trusted)


def check_host() -> None:
    """Before any view: refuse a request for a host this server does not answer for.

    A request without a Host header (HTTP/1.0) is answered: Werkzeug then
    takes the server's own name and port, which no client chose."""
    if "HTTP_HOST" not in request.environ and request.host:
        return
    if not is_trusted(request.host, current_app.config["NEWSEARCH_TRUSTED_HOSTS"]):
        # repr: the operator sees CR/LF and other tricks escaped in the log line.
        current_app.logger.warning("refused a request for the untrusted host %r", request.headers.get("Host"))
        raise UntrustedHost()


def site_root() -> str:
    """The absolute URL of the app's root, without a trailing slash."""
    return current_app.config["BASE_URL"] or request.host_url.rstrip("/") + request.script_root


def external_url(endpoint: str, **values) -> str:
    """``url_for(endpoint, **values)`` as an absolute URL starting at ``site_root``."""
    return site_root() + url_for(endpoint, **values)[len(request.script_root):]
