"""Shared by the browser tests: serving the app over HTTP and driving headless Chromium.

Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) and
Selenium are needed; without them the browser tests are skipped locally and
fail in CI. Screenshots go to ``test-output/`` (or ``NEWSEARCH_TEST_OUTPUT``).
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
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
OUTPUT = Path(os.environ.get("NEWSEARCH_TEST_OUTPUT", ROOT / "test-output"))


def require_browser() -> None:
    """Skip (or, in CI, fail) when there is no browser to drive."""
    reason = None
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        reason = "chromium and chromedriver are not installed"
    else:
        try:
            import selenium  # noqa: F401
        except ImportError:
            reason = "selenium is not installed"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {reason}", pytrace=False)
        pytest.skip(reason)


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
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
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
