"""Discovery on the web page: "did you mean", copies of the same story, and
search as you type.

The page tests use Flask's test client on an index of the sample archive in
``data/`` (where 'climte' is corrected to 'climate', and the TSMC and EU petrol
ban stories each have two copies), plus a small archive with a hostile copy.
The combobox tests drive headless Chromium with Selenium, as
tests/test_browser.py does; they are skipped when Chromium, chromedriver or
Selenium are missing (and fail in CI).
"""

from __future__ import annotations

import html
import re
from urllib.parse import unquote, urlsplit

import pytest

from search.indexer import build
from search.store import IndexHome
from web import create_app

from browsing import ROOT, chromium, require_browser, served, shot
from helpers import P, build_index, write_article
from test_web_api import Page, local, page_of, params_of


TSMC = "2020/05/2020-05-15-tsmc-will-build-a-12-billion-chip-plant-in-arizona"
TSMC_COPY = "2020/05/2020-05-15-tsmc-to-build-12-billion-chip-plant-in-arizona"
TSMC_COPY_URL = "https://www.bloomberg.com/news/articles/2020-05-15/tsmc-to-build-12-billion-chip-plant-in-arizona"
PETROL = "2022/06/2022-06-08-eu-lawmakers-back-ban-on-new-petrol-and-diesel-car-sales-from-2035"


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def sample_index(tmp_path_factory):
    index = tmp_path_factory.mktemp("discovery") / "index"
    build(ROOT / "data", IndexHome(index))
    return index


@pytest.fixture(scope="module")
def client(sample_index):
    return create_app(sample_index, ROOT / "data").test_client()


def get(client, url: str) -> Page:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return page_of(response)


def result_ids(page: Page) -> list[str]:
    """Article ids of the results list, in order (one per result, not its copies)."""
    block = page.markup.split('<ol class="results"', 1)
    if len(block) < 2:
        return []
    found = []
    for item in block[1].split("</ol>", 1)[0].split('<li class="result">')[1:]:
        item = re.sub(r"<details.*?</details>", "", item, flags=re.S)
        found += local_articles(Page(item))[:1]
    return found


def local_articles(page: Page) -> list[str]:
    """Ids of this site's /article/... links (not other sites' paths that look alike), without repeats."""
    found: dict[str, None] = {}
    for href in page.hrefs():
        parts = urlsplit(href)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/article/"):
            found.setdefault(unquote(parts.path[len("/article/"):]), None)
    return list(found)


def disclosures(page: Page) -> list[Page]:
    """Each <details> inside the results list."""
    results = page.markup.split('<ol class="results"', 1)[-1].split("</ol>\n", 1)[0]
    return [Page(m) for m in re.findall(r"<details\b.*?</details>", results, flags=re.S)]


def plain(page: Page) -> str:
    """The main part of the page as text: tags dropped, entities decoded, spaces collapsed."""
    main = page.markup.split("<main", 1)[-1].split("</main>", 1)[0]
    return " ".join(html.unescape(re.sub(r"<[^>]*>", "", main.split(">", 1)[-1])).split())


def link_texts(page: Page, text: str) -> list[dict]:
    return [link for link in page.links if " ".join(link["text"].split()) == text]


# ---------------------------------------------------------------- did you mean

def test_an_applied_correction_says_so_and_offers_the_literal_search(client):
    page = get(client, "/?q=climte")
    assert "Showing results for climate. Search instead for climte" in plain(page)
    assert "<b>climate</b>" in page.markup or re.search(r"<b [^>]*>climate</b>", page.markup)
    assert result_ids(page)  # results for 'climate'
    # The words as typed found nothing, said once: the engine's own note is not shown a second time.
    assert plain(page).count("No results for") == 1
    assert "No results for climte. Showing results for climate." in plain(page)
    instead = link_texts(page, "climte")
    assert len(instead) == 1
    assert params_of(instead[0]["href"]) == {"q": ["climte"], "correct": ["0"]}


def test_searching_instead_for_the_literal_text_does_not_correct_it_again(client):
    first = get(client, "/?q=climte")
    href = link_texts(first, "climte")[0]["href"]
    page = get(client, local(href))
    assert not result_ids(page)  # nothing has the word as typed
    assert "Showing results for" not in plain(page)
    assert "No articles found for “climte”" in plain(page)
    # ... but the correction is still offered, as a plain search for it.
    assert "Did you mean climate?" in plain(page)
    suggestion = link_texts(page, "climate")
    assert len(suggestion) == 1 and params_of(suggestion[0]["href"]) == {"q": ["climate"]}
    assert result_ids(get(client, local(suggestion[0]["href"])))
    # Narrowing by date keeps searching the literal text.
    date_form = [attrs for attrs in page.find("input") if attrs.get("name") == "correct"]
    assert date_form and all(attrs.get("value") == "0" for attrs in date_form)


def test_a_correction_keeps_the_filters(client):
    page = get(client, "/?q=climte&topic=Climate")
    assert "Showing results for climate" in plain(page)
    assert params_of(link_texts(page, "climte")[0]["href"]) == {"q": ["climte"], "topic": ["Climate"], "correct": ["0"]}


def test_the_correction_lines_are_escaped(client):
    page = get(client, "/?q=" + "%3Ci%3Eclimte%3C/i%3E")  # <i>climte</i>
    assert "Showing results for <i>climate</i>. Search instead for <i>climte</i>" in plain(page)
    assert "<i>" not in page.markup.split("<main", 1)[1]
    assert "&lt;i&gt;climate&lt;/i&gt;" in page.markup

    literal = get(client, "/?q=%3Ci%3Eclimte%3C/i%3E&correct=0")
    assert "Did you mean <i>climate</i>?" in plain(literal)
    assert "<i>" not in literal.markup.split("<main", 1)[1]


def test_no_spelling_line_for_words_the_archive_has(client):
    page = get(client, "/?q=tsmc+arizona")
    assert "Did you mean" not in plain(page) and "Showing results for" not in plain(page)


# ---------------------------------------------------------------- copies of a story

@pytest.mark.parametrize("query, first", [("tsmc arizona", TSMC), ("petrol diesel ban", None)])
def test_copies_of_a_story_are_one_result_with_a_disclosure(client, query, first):
    page = get(client, "/?" + f"q={query.replace(' ', '+')}")
    ids = result_ids(page)
    assert len(ids) == 1 and (first is None or ids == [first])
    (details,) = disclosures(page)
    assert "and 1 more source" in details.text
    copies = local_articles(details) or []
    other = [link for link in details.links if link["href"] and not link["href"].startswith("/article/")]
    assert copies or other
    assert ids[0] not in copies  # the copies listed are the other ones


def test_the_disclosure_lists_the_copy_with_its_provider_date_and_link(client):
    page = get(client, "/?q=tsmc+arizona")
    (details,) = disclosures(page)
    assert "Bloomberg" in details.text
    assert "15 May 2020" in details.text or "2020-05-15" in details.markup
    title = link_texts(details, "TSMC to build $12 billion chip plant in Arizona")
    assert title and title[0]["href"] == TSMC_COPY_URL
    assert TSMC_COPY in local_articles(details)  # its stored article too


def test_showing_every_copy_lists_them_separately(client):
    page = get(client, "/?q=tsmc+arizona")
    every = link_texts(page, "Show every copy of each story as its own result")
    assert len(every) == 1
    assert params_of(every[0]["href"]) == {"q": ["tsmc arizona"], "collapse": ["0"]}

    separate = get(client, local(every[0]["href"]))
    assert sorted(result_ids(separate)) == sorted([TSMC, TSMC_COPY])
    assert not disclosures(separate)
    group = link_texts(separate, "Group copies of the same story")
    assert len(group) == 1 and params_of(group[0]["href"]) == {"q": ["tsmc arizona"]}
    # The search box keeps the choice for the next query.
    assert any(attrs.get("name") == "collapse" and attrs.get("value") == "0" for attrs in separate.find("input"))
    # Other links keep it too.
    newest = link_texts(separate, "Newest")
    assert params_of(newest[0]["href"]).get("collapse") == ["0"]


def test_collapse_off_for_the_petrol_ban_shows_both_copies(client):
    page = get(client, "/?q=petrol+diesel+ban&collapse=0")
    ids = result_ids(page)
    assert PETROL in ids and PETROL + "-1" in ids
    assert not disclosures(page)


def test_no_copy_toggle_when_nothing_is_collapsed(client):
    page = get(client, "/?q=cofee&correct=0")
    assert "Show every copy" not in plain(page) and "Group copies" not in plain(page)


def test_similar_articles_never_list_the_article_or_its_copy(client):
    for doc_id, copy in ((TSMC, TSMC_COPY), (PETROL, PETROL + "-1")):
        page = get(client, f"/article/{doc_id}")
        similar = page.markup.split('id="similar-title"', 1)
        assert len(similar) == 2
        listed = local_articles(Page(similar[1]))
        assert listed and doc_id not in listed and copy not in listed


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory):
    """Two copies of one story; the lesser one has a javascript: URL and a marked-up provider."""
    root = tmp_path_factory.mktemp("hostile-copies")
    data = root / "data"
    write_article(data, "2023/02/wombat-census.md", title="Wombat census finds record numbers",
                  excerpt="Wombat counters found wombats, wombats and more wombats.", body="Wombat wombat wombat.",
                  published="2023-02-01T10:00:00Z", provider=P("Coast Post", "coastpost.test"),
                  url="https://coastpost.test/wombat-census")
    write_article(data, "2023/02/wombat-census-copy.md", title="Wombat census finds record numbers",
                  excerpt="A census.", published="2023-02-01T12:00:00Z",
                  provider=P("&lt;b&gt;Evil&lt;/b&gt; Wire", "evil.test"), url="javascript:alert(1)")
    write_article(data, "2023/02/unrelated.md", title="Harbour crane repaired", excerpt="Cranes.",
                  published="2023-02-03T10:00:00Z", provider=P("Coast Post", "coastpost.test"))
    build_index(data, root / "index")
    return create_app(root / "index", data).test_client()


def test_a_copy_without_a_safe_url_links_to_its_article_page(hostile_client):
    page = get(hostile_client, "/?q=wombat")
    assert result_ids(page) == ["2023/02/wombat-census"]
    (details,) = disclosures(page)
    assert "<b>Evil</b> Wire" in details.text  # shown as text ...
    assert "<b>Evil" not in details.markup      # ... never as markup
    (title,) = link_texts(details, "Wombat census finds record numbers")
    assert title["href"] == "/article/2023/02/wombat-census-copy"
    assert not any("javascript:" in (href or "").lower() for href in page.hrefs())


# ---------------------------------------------------------------- the search box without JS

def test_the_search_box_is_a_plain_form_in_the_markup(client):
    page = get(client, "/?q=tsmc")
    (box,) = [attrs for attrs in page.find("input") if attrs.get("id") == "q"]
    assert box.get("name") == "q" and "role" not in box  # app.js adds the combobox roles
    (listbox,) = [attrs for attrs in page.find("ul") if attrs.get("role") == "listbox"]
    assert "hidden" in listbox
    assert box.get("data-suggest-url") == "/api/suggest"
    assert [attrs for attrs in page.find("div") if attrs.get("role") == "status" and attrs.get("aria-live")]


# ---------------------------------------------------------------- search as you type (browser)

@pytest.fixture(scope="module")
def site(sample_index):
    """The app served over HTTP on a free loopback port."""
    require_browser()
    with served(create_app(sample_index, ROOT / "data")) as url:
        yield url


@pytest.fixture(scope="module")
def browser(site):
    with chromium() as driver:
        yield driver


def by():
    from selenium.webdriver.common.by import By
    return By


def keys():
    from selenium.webdriver.common.keys import Keys
    return Keys


def wait(driver, condition, timeout: float = 10):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout).until(condition)


def options_shown(driver):
    """The visible options of the open listbox (waits for them)."""
    By = by()

    def ready(d):
        box = d.find_element(By.ID, "q")
        listbox = d.find_element(By.ID, box.get_attribute("aria-controls") or "q-suggestions")
        found = listbox.find_elements(By.CSS_SELECTOR, "[role=option]")
        return found if listbox.is_displayed() and found and box.get_attribute("aria-expanded") == "true" else False

    return wait(driver, ready)


def type_into_box(driver, site, text: str, path: str = "/"):
    By = by()
    driver.get(site + path)
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.click()
    box.send_keys(text)
    return box


def test_typing_shows_suggestions_and_the_keyboard_picks_one(site, browser):
    By, Keys = by(), keys()
    box = type_into_box(browser, site, "ele")
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-autocomplete") == "list"
    options = options_shown(browser)
    listbox = browser.find_element(By.ID, box.get_attribute("aria-controls"))
    assert listbox.get_attribute("role") == "listbox"
    labels = [o.text for o in options]
    assert any("Elections" in label and "TOPIC" in label.upper() for label in labels), labels
    assert all(o.get_attribute("id") for o in options)
    status = browser.find_element(By.ID, "q-suggestions-status")
    wait(browser, lambda d: status.get_attribute("textContent") == f"{len(options)} suggestions")
    shot(browser, "suggestions")

    before = browser.current_url
    box.send_keys(Keys.ARROW_DOWN)
    first = options[0]
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert first.get_attribute("aria-selected") == "true"
    box.send_keys(Keys.ARROW_DOWN, Keys.ARROW_UP)
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    picked = first.find_element(By.CSS_SELECTOR, ".suggest__text").text
    box.send_keys(Keys.ENTER)
    wait(browser, lambda d: d.current_url != before)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "ol.results .hit__title"))
    assert params_of(browser.current_url) == {"topic": [picked]}  # 'Elections' is a topic: browse it
    shot(browser, "suggestion-picked")


def test_a_word_suggestion_fills_the_box_and_searches(site, browser):
    By, Keys = by(), keys()
    box = type_into_box(browser, site, "electi")
    options = options_shown(browser)
    kinds = [o.find_element(By.CSS_SELECTOR, ".suggest__kind").text.strip().lower() for o in options]
    assert "word" in kinds, kinds
    index = kinds.index("word")
    word = options[index].find_element(By.CSS_SELECTOR, ".suggest__text").text
    for _ in range(index + 1):
        box.send_keys(Keys.ARROW_DOWN)
    assert box.get_attribute("aria-activedescendant") == options[index].get_attribute("id")
    box.send_keys(Keys.ENTER)
    wait(browser, lambda d: urlsplit(d.current_url).query)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".summary__count"))
    assert params_of(browser.current_url) == {"q": [word]}
    assert browser.find_element(By.ID, "q").get_attribute("value") == word


def test_escape_closes_tab_leaves_and_a_click_picks(site, browser):
    By, Keys = by(), keys()
    box = type_into_box(browser, site, "ele")
    options_shown(browser)
    box.send_keys(Keys.ARROW_DOWN, Keys.ESCAPE)
    listbox = browser.find_element(By.ID, "q-suggestions")
    assert not listbox.is_displayed()
    assert box.get_attribute("aria-expanded") == "false"
    assert not box.get_attribute("aria-activedescendant")
    assert box.get_attribute("value") == "ele"  # Escape closes the list, keeps the text

    box.send_keys(Keys.ARROW_DOWN)  # opens it again
    options = options_shown(browser)
    box.send_keys(Keys.TAB)
    wait(browser, lambda d: not listbox.is_displayed())
    assert browser.switch_to.active_element != box

    box.click()
    box.send_keys("c")  # "elec"
    options = options_shown(browser)
    sources_or_titles = [o for o in options
                         if o.find_element(By.CSS_SELECTOR, ".suggest__kind").text.strip().lower() == "title"]
    assert sources_or_titles
    title = sources_or_titles[0].find_element(By.CSS_SELECTOR, ".suggest__text").text
    sources_or_titles[0].click()
    wait(browser, lambda d: urlsplit(d.current_url).query)
    assert params_of(browser.current_url) == {"q": [title]}
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "ol.results .hit__title"))


def test_one_character_asks_for_nothing_and_enter_submits_what_was_typed(site, browser):
    By, Keys = by(), keys()
    box = type_into_box(browser, site, "e")
    browser.implicitly_wait(0)
    import time

    time.sleep(0.5)
    assert not browser.find_element(By.ID, "q-suggestions").is_displayed()
    box.send_keys("lection")
    options_shown(browser)
    box.send_keys(Keys.ENTER)  # no option highlighted: the form submits the text
    wait(browser, lambda d: urlsplit(d.current_url).query)
    assert params_of(browser.current_url) == {"q": ["election"]}


def test_suggestions_on_a_phone_and_in_dark_mode(site, browser):
    browser.set_window_size(390, 900)
    try:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia",
                                {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        box = type_into_box(browser, site, "ele", path="/?q=tsmc+arizona")
        options_shown(browser)
        box.send_keys(keys().ARROW_DOWN)
        listbox = browser.find_element(by().ID, "q-suggestions")
        assert listbox.rect["x"] >= 0 and listbox.rect["x"] + listbox.rect["width"] <= 390
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
        shot(browser, "suggestions-phone-dark")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
        browser.set_window_size(1280, 1400)
