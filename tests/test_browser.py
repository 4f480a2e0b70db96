"""The search page in a real browser: headless Chromium, driven by Selenium.

It serves the app over HTTP (waitress, as ``newsearch serve`` does) on an
index of the sample archive in ``data/``, then does what a person does:
types a query, applies and removes a facet, changes the sort, pages, opens
an article. Screenshots go to ``test-output/`` (or ``NEWSEARCH_TEST_OUTPUT``).

What it needs, when it is skipped (with the reason) or fails (in CI), and where
screenshots go: see ``browsing.py``.
"""

from __future__ import annotations


import pytest

from search.indexer import build
from search.store import IndexHome

from browsing import ROOT, chromium, require_browser, served, shot

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # the fixtures skip (or, in CI, fail) each test with the reason
    pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app over HTTP, on an index of the sample archive."""
    from web import create_app

    require_browser()
    index = tmp_path_factory.mktemp("browser") / "index"
    build(ROOT / "data", IndexHome(index))
    with served(create_app(index, ROOT / "data")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    require_browser()
    with chromium() as driver:
        yield driver


def titles(driver) -> list[str]:
    return [el.text for el in driver.find_elements(By.CSS_SELECTOR, "ol.results .hit__title")]


def total(driver) -> int:
    counts = driver.find_elements(By.CSS_SELECTOR, ".summary__count")
    text = counts[0].text if counts else "0"
    # "1–10 of 19 results" or "2 results"
    return int(text.split(" of ")[-1].split()[0].replace(",", ""))


def wait_for_results(driver):
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".summary__count")))


def test_a_person_searches_filters_sorts_pages_and_reads(site, browser):
    browser.get(site + "/")
    box = browser.find_element(By.ID, "q")
    assert browser.switch_to.active_element == box  # focused on load
    assert browser.find_element(By.TAG_NAME, "label")  # labelled controls
    box.send_keys("U.S.", Keys.ENTER)
    wait_for_results(browser)
    first_total = total(browser)
    assert first_total > 10
    assert "U.S." in browser.find_element(By.ID, "q").get_attribute("value")  # the query stays in the box
    marks = [m.text.upper() for m in browser.find_elements(By.CSS_SELECTOR, "ol.results mark")]
    assert marks and marks.count("U.S.") >= 3  # matched words are marked (synonyms like "United States" too)
    shot(browser, "results")

    # Apply a topic facet: fewer results, a removable chip, every result has the topic.
    topic_link = browser.find_element(By.CSS_SELECTOR, "section[aria-labelledby=facet-topics] a.facet__link")
    topic = topic_link.find_element(By.CSS_SELECTOR, ".facet__name").text
    expected = int(topic_link.find_element(By.CSS_SELECTOR, ".facet__count").text.split()[0])
    topic_link.click()
    wait_for_results(browser)
    assert total(browser) == expected < first_total
    chip = browser.find_element(By.CSS_SELECTOR, ".active-filters a.chip--removable")
    assert topic in chip.text
    for hit in browser.find_elements(By.CSS_SELECTOR, "ol.results .hit"):
        assert topic in hit.find_element(By.CSS_SELECTOR, "ul.chips").text
    shot(browser, "filtered")

    # Remove it again.
    chip.click()
    wait_for_results(browser)
    assert total(browser) == first_total
    assert not browser.find_elements(By.CSS_SELECTOR, ".active-filters a.chip--removable")

    # Newest first: dates descend.
    browser.find_element(By.LINK_TEXT, "Newest").click()
    wait_for_results(browser)
    dates = [t.get_attribute("datetime") for t in browser.find_elements(By.CSS_SELECTOR, "ol.results .hit__source time")]
    assert dates and dates == sorted(dates, reverse=True)
    newest_first = titles(browser)

    # The next page continues the list, and the back button returns to it.
    browser.find_element(By.CSS_SELECTOR, "nav.pages a[rel=next]").click()
    wait_for_results(browser)
    second_page = titles(browser)
    assert second_page and not set(second_page) & set(newest_first)
    assert "page=2" in browser.current_url and "sort=newest" in browser.current_url
    browser.back()
    wait_for_results(browser)
    assert titles(browser) == newest_first

    # Open an article's page: its title, body and related coverage.
    first_title = newest_first[0]
    browser.find_element(By.CSS_SELECTOR, "ol.results a.hit__details").click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "story-title")))
    assert browser.find_element(By.ID, "story-title").text == first_title
    shot(browser, "article")


def test_the_page_works_on_a_phone_and_with_the_keyboard(site, browser):
    browser.set_window_size(390, 1400)
    try:
        browser.get(site + "/?q=climate")
        wait_for_results(browser)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390  # nothing wider than the screen
        shot(browser, "phone")
        # "/" focuses the search box from anywhere on the page.
        browser.find_element(By.TAG_NAME, "body").click()
        browser.switch_to.active_element.send_keys("/")
        assert browser.switch_to.active_element.get_attribute("id") == "q"
    finally:
        browser.set_window_size(1280, 1400)


def test_the_timeline_narrows_to_a_period(site, browser):
    browser.get(site + "/?q=U.S.")
    wait_for_results(browser)
    before = total(browser)
    bars = browser.find_elements(By.CSS_SELECTOR, "svg.timeline__chart a.timeline__bar")
    assert bars
    href = browser.execute_script("return arguments[0].getAttribute('href')", bars[0])
    assert "since=" in href
    bars[0].click()
    WebDriverWait(browser, 10).until(EC.url_contains("since="))
    wait_for_results(browser)
    assert 0 < total(browser) < before
    assert "since=" in browser.current_url and "until=" in browser.current_url


def test_the_home_page_and_an_empty_search_describe_the_archive(site, browser):
    browser.get(site + "/")
    newest = browser.find_elements(By.CSS_SELECTOR, "ol.newest a")
    assert newest and all(link.text for link in newest)
    examples = browser.find_elements(By.CSS_SELECTOR, "ul.examples a")
    assert examples
    shot(browser, "home")
    example = examples[0].text.strip("⌕ \n")
    examples[0].click()
    wait_for_results(browser)
    assert total(browser) > 0 and browser.find_element(By.ID, "q").get_attribute("value") == example

    # A week ago is after the sample archive ends: the page says so and offers the way out.
    browser.get(site + "/?q=oil&since=7d")
    wait_for_results(browser)
    assert total(browser) == 0
    text = browser.find_element(By.CSS_SELECTOR, "section.empty").text
    assert "this archive ends on 25 May 2023" in text and "From: Past week" in text
    shot(browser, "empty")
    browser.find_element(By.PARTIAL_LINK_TEXT, "without it").click()
    wait_for_results(browser)
    assert total(browser) > 0 and "since=" not in browser.current_url
