"""Fixtures shared by the test modules; pytest finds them here by name.

- ``archive`` / ``engine``: ``helpers.ARTICLES`` indexed, and an ``Engine`` on it.
- ``built``: (data folder, index folder) of ``ARTICLES`` built by ``newsearch index build``.
- ``web_archive`` / ``app`` / ``client`` / ``spec``: the same articles plus
  ``helpers.WEB_ARTICLES`` (hostile and odd ones), the Flask app over them,
  a test client, and the OpenAPI description the app serves.

Module-scoped fixtures are built once per test module, as before they moved
here. A module that defines a fixture of the same name (``engine`` in
test_discovery.py, ``archive`` in test_indexer.py, ``client`` in
test_web_discovery.py, ``built`` in test_arrays.py) uses its own.
"""

from __future__ import annotations

import pytest

from search.engine import Engine
from web import create_app

from helpers import ALL_COUNT, ARTICLES, WEB_ARTICLES, build_index, run_cli, write_archive, write_article


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """(data folder, index folder) of ``ARTICLES``, built once per test module."""
    root = tmp_path_factory.mktemp("archive")
    data = write_archive(root / "data")
    index = root / "index"
    report = build_index(data, index)
    assert report.indexed == len(ARTICLES) and not report.problems, report.to_json()
    return data, index


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(data, index) of ``ARTICLES`` built by ``newsearch index build``, once per test module."""
    root = tmp_path_factory.mktemp("cli")
    data = write_archive(root / "data")
    index = root / "index"
    result = run_cli("index", "build", "--data", data, "--index", index, "--workers", 1)
    assert result.exit_code == 0, result.output
    return data, index


@pytest.fixture(scope="module")
def engine(archive):
    eng = Engine(archive[1], recheck_seconds=0)
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def web_archive(tmp_path_factory):
    """(data folder, index folder): the helper archive plus hostile and odd articles."""
    root = tmp_path_factory.mktemp("web-archive")
    data = write_archive(root / "data")
    for doc_id, fields in WEB_ARTICLES.items():
        write_article(data, doc_id + ".md", **dict(fields))
    index = root / "index"
    report = build_index(data, index)
    assert report.indexed == ALL_COUNT and not report.problems, report.to_json()
    return data, index


@pytest.fixture(scope="module")
def app(web_archive):
    data, index = web_archive
    return create_app(index, data)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def spec(app):
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()
