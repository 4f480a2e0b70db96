"""Shared by the browser tests: serving the app over HTTP and driving headless Chromium.

Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) on
``PATH`` and Selenium are needed. Without them the browser tests are skipped,
each with the reason, and the rest of the run goes on; in CI (``CI`` set to
``true``, ``1`` or ``yes``) they fail instead. ``require_browser`` is called from
the browser tests' fixtures, never at import time: a skip at import would end
the whole run with a collection error. Screenshots go to ``test-output/`` (or
``NEWSEARCH_TEST_OUTPUT``).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = Path(os.environ.get("NEWSEARCH_TEST_OUTPUT", ROOT / "test-output"))


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing_browser() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    missing = [name for name in ("chromium", "chromedriver") if not shutil.which(name)]
    if missing:
        return f"{' and '.join(missing)} not found on PATH (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


def require_browser() -> None:
    """Skip the calling test (or, in CI, fail it) when there is no browser to drive.

    Call it from a fixture or a test, not at import time."""
    reason = missing_browser()
    if reason:
        if in_ci():
            pytest.fail(f"CI must run the browser tests: {reason}", pytrace=False)
        pytest.skip(f"browser test skipped: {reason}")


@contextmanager
def served(app, **options):
    """``app`` served by waitress (as ``newsearch serve`` does, with ``web.serving``) on a free
    loopback port; yields its URL. ``options`` go to waitress (e.g. ``max_request_header_size``)."""
    from web.serving import create_server

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = create_server(app, host="127.0.0.1", port=port, threads=4, **options)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


@contextmanager
def chromium(width: int = 1280, height: int = 1400):
    """A headless Chromium driven by Selenium, with the flags this sandbox needs."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver, name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path
