"""SearchRequest: every option bound checked once, when the request is made,
with one message per bound; the faces word it with their own option names."""

from __future__ import annotations

import datetime as dt

import pytest

from search.querying import QueryError
from search.request import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, SORTS, SearchRequest
from web.params import BadParams, SearchParams

from helpers import NOW, UTC


@pytest.mark.parametrize("options, option, message", [
    (dict(sort="x"), "sort", "sort must be one of relevance, newest, oldest, not 'x'"),
    (dict(sort=""), "sort", "sort must be one of relevance, newest, oldest, not ''"),
    (dict(sort="NEWEST"), "sort", "sort must be one of relevance, newest, oldest, not 'NEWEST'"),
    (dict(page=0), "page", "page must be between 1 and 1000"),
    (dict(page=-1), "page", "page must be between 1 and 1000"),
    (dict(page=MAX_PAGE + 1), "page", "page must be between 1 and 1000"),
    (dict(page_size=0), "page_size", "page size must be between 1 and 100"),
    (dict(page_size=MAX_PAGE_SIZE + 1), "page_size", "page size must be between 1 and 100"),
    (dict(page_size=1000), "page_size", "page size must be between 1 and 100"),
    (dict(since="bogus"), "since", "'bogus' is not a date: use 2022, 2022-07, 2022-07-08, or 7d, 2w, 3m, 1y"),
    (dict(until="bogus"), "until", "'bogus' is not a date: use 2022, 2022-07, 2022-07-08, or 7d, 2w, 3m, 1y"),
    (dict(since="2022-13"), "since", "'2022-13' is not a real date (month must be in 1..12)"),
    (dict(until="2022-02-30"), "until", "'2022-02-30' is not a real date (day is out of range for month)"),
    (dict(since="9999y"), "since", "'9999y' reaches back before year 1"),
])
def test_a_value_out_of_bounds_is_refused_when_the_request_is_made(options, option, message):
    with pytest.raises(QueryError) as caught:
        SearchRequest("oil", now=NOW, **options)
    assert str(caught.value) == message
    assert caught.value.option == option


@pytest.mark.parametrize("options", [dict(page=1), dict(page=MAX_PAGE), dict(page_size=1),
                                     dict(page_size=MAX_PAGE_SIZE), *(dict(sort=sort) for sort in SORTS)])
def test_the_bounds_are_inclusive(options):
    SearchRequest("oil", **options)


def test_the_defaults():
    request = SearchRequest()
    assert (request.text, request.topics, request.sources, request.sort, request.page, request.page_size,
            request.collapse, request.correct) == ("", (), (), "relevance", 1, DEFAULT_PAGE_SIZE, True, True)
    assert request.since_at is None and request.until_at is None


def test_date_bounds_are_read_once_into_utc_instants():
    request = SearchRequest(since="2022-07", until="2022-07", now=NOW)
    assert request.since_at == dt.datetime(2022, 7, 1, tzinfo=UTC)
    assert request.until_at == dt.datetime(2022, 8, 1, tzinfo=UTC)  # the end of the month
    assert SearchRequest(since="7d", now=NOW).since_at == NOW - dt.timedelta(days=7)
    assert SearchRequest(since=dt.datetime(2022, 1, 2)).since_at == dt.datetime(2022, 1, 2, tzinfo=UTC)
    assert SearchRequest(since="", until=None).since_at is None


def test_filters_are_held_as_tuples_and_the_request_is_frozen():
    request = SearchRequest(None, topics=["Energy"], sources=["reuters"])
    assert request.text == "" and request.topics == ("Energy",) and request.sources == ("reuters",)
    with pytest.raises(AttributeError):
        request.page = 2  # type: ignore[misc]


@pytest.mark.parametrize("params, message", [
    (SearchParams(q="oil", sort="x"), "'sort' must be one of relevance, newest, oldest"),
    (SearchParams(q="oil", page=0), "'page' must be between 1 and 1000"),
    (SearchParams(q="oil", size=101), "'size' must be between 1 and 100"),
    (SearchParams(q="oil", until="bogus"),
     "'until': 'bogus' is not a date: use 2022, 2022-07, 2022-07-08, or 7d, 2w, 3m, 1y"),
])
def test_the_web_names_its_own_parameter(params, message):
    with pytest.raises(BadParams) as caught:
        params.search_request()
    assert str(caught.value) == message
