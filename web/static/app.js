/* newsearch: small progressive enhancements. The page works without this file. */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.add("js");

  var box = document.getElementById("q");

  function isTyping(target) {
    if (!target || target === document.body) return false;
    if (target.isContentEditable) return true;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  if (box) {
    // "/" jumps to the search box (as on many sites), unless you are typing somewhere.
    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.defaultPrevented) return;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (isTyping(event.target)) return;
      event.preventDefault();
      box.focus();
      box.select();
    });

    // Keep autofocus, and put the caret after a pre-filled query (where one
    // keeps typing) rather than before it. Browsers skip autofocus when the
    // address has a #fragment; so do we.
    if (box.hasAttribute("autofocus") && !window.location.hash) {
      var active = document.activeElement;
      if (!active || active === document.body || active === box) {
        if (active !== box) box.focus();
        var end = box.value.length;
        try {
          box.setSelectionRange(end, end);
        } catch (e) { /* not every input type supports a selection */ }
      }
    }
  }

  // Search as you type: the box becomes a combobox (WAI-ARIA 1.2, list
  // autocomplete) with a listbox of suggestions from /api/suggest. Focus stays
  // in the box; aria-activedescendant points at the highlighted option.
  // Without this script the box is a plain search box and the form submits.
  var list = document.getElementById("q-suggestions");
  var status = document.getElementById("q-suggestions-status");
  var form = box && box.form;
  if (box && list && form && window.fetch) {
    var SUGGEST_URL = box.getAttribute("data-suggest-url") || "/api/suggest";
    var MIN_CHARS = 2;
    var DELAY_MS = 120;
    var KINDS = { topic: "Topic", source: "Source", title: "Title", term: "Word" };
    var timer = null;
    var pending = null;      // the AbortController of the request in flight
    var asked = 0;           // bumps per request: only the latest one may render
    var items = [];          // the suggestions shown, [{text, kind}]
    var active = -1;         // the highlighted option, or -1

    box.setAttribute("role", "combobox");
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-controls", list.id);
    box.setAttribute("aria-expanded", "false");

    var isOpen = function () { return !list.hidden; };

    var announce = function (text) {
      if (status && status.textContent !== text) status.textContent = text;
    };

    var highlight = function (index) {
      var options = list.children;
      if (active >= 0 && options[active]) options[active].setAttribute("aria-selected", "false");
      active = index;
      if (active >= 0 && options[active]) {
        options[active].setAttribute("aria-selected", "true");
        box.setAttribute("aria-activedescendant", options[active].id);
        var top = options[active].offsetTop;
        var bottom = top + options[active].offsetHeight;
        if (top < list.scrollTop) list.scrollTop = top;
        else if (bottom > list.scrollTop + list.clientHeight) list.scrollTop = bottom - list.clientHeight;
      } else {
        box.removeAttribute("aria-activedescendant");
      }
    };

    var close = function () {
      highlight(-1);
      if (!list.hidden) list.hidden = true;
      box.setAttribute("aria-expanded", "false");
    };

    var open = function () {
      if (!items.length) return;
      list.hidden = false;
      box.setAttribute("aria-expanded", "true");
    };

    var render = function (suggestions) {
      items = suggestions;
      active = -1;
      box.removeAttribute("aria-activedescendant");
      while (list.firstChild) list.removeChild(list.firstChild);
      items.forEach(function (item, i) {
        var option = document.createElement("li");
        option.id = list.id + "-" + i;
        option.className = "suggest__option";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("data-index", String(i));
        var text = document.createElement("span");
        text.className = "suggest__text";
        text.textContent = item.text;
        var pause = document.createElement("span");   // "Elections, Topic" to a screen reader
        pause.className = "visually-hidden";
        pause.textContent = ", ";
        var kind = document.createElement("span");
        kind.className = "suggest__kind suggest__kind--" + item.kind;
        kind.textContent = KINDS[item.kind] || "Suggestion";
        option.appendChild(text);
        option.appendChild(pause);
        option.appendChild(kind);
        list.appendChild(option);
      });
      if (items.length) {
        open();
        announce(items.length === 1 ? "1 suggestion" : items.length + " suggestions");
      } else {
        close();
        announce("");
      }
    };

    var cancel = function () {
      clearTimeout(timer);
      timer = null;
      asked += 1;
      if (pending) {
        try { pending.abort(); } catch (e) { /* already settled */ }
        pending = null;
      }
    };

    var fetchSuggestions = function (text) {
      var ticket = ++asked;
      pending = window.AbortController ? new AbortController() : null;
      var url = SUGGEST_URL + (SUGGEST_URL.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(text);
      window.fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: pending ? pending.signal : undefined
      }).then(function (response) {
        if (!response.ok) throw new Error("suggest: HTTP " + response.status);
        return response.json();
      }).then(function (data) {
        if (ticket !== asked || box.value !== text || document.activeElement !== box) return;
        var found = (data && Array.isArray(data.suggestions)) ? data.suggestions : [];
        render(found.filter(function (item) {
          return item && typeof item.text === "string" && item.text;
        }));
      }).catch(function () {
        // Suggestions are a nicety: on any error, just show none.
        if (ticket === asked) { render([]); }
      }).then(function () {
        if (ticket === asked) pending = null;
      });
    };

    var pick = function (index) {
      var item = items[index];
      if (!item) return;
      cancel();
      close();
      var base = form.getAttribute("action") || "/";
      if (item.kind === "topic" || item.kind === "source") {
        window.location.assign(base + "?" + item.kind + "=" + encodeURIComponent(item.text));
        return;
      }
      box.value = item.text;
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.submit();
    };

    box.addEventListener("input", function () {
      cancel();
      highlight(-1);
      var text = box.value;
      if (text.trim().length < MIN_CHARS) {
        render([]);
        return;
      }
      timer = setTimeout(function () { fetchSuggestions(text); }, DELAY_MS);
    });

    box.addEventListener("keydown", function (event) {
      if (event.isComposing || event.keyCode === 229) return;  // an input method is composing
      if (event.ctrlKey || event.metaKey) return;
      var count = items.length;
      switch (event.key) {
        case "ArrowDown":
        case "Down":
          if (!count) return;
          event.preventDefault();
          if (!isOpen()) { open(); if (event.altKey) return; }
          highlight(active + 1 < count ? active + 1 : 0);
          break;
        case "ArrowUp":
        case "Up":
          if (!count) return;
          event.preventDefault();
          if (!isOpen()) open();
          highlight(active > 0 ? active - 1 : count - 1);
          break;
        case "Enter":
          if (isOpen() && active >= 0) {
            event.preventDefault();
            pick(active);
          } else {
            cancel();
            close();   // the form submits what was typed
          }
          break;
        case "Escape":
        case "Esc":
          if (isOpen()) {
            event.preventDefault();   // keep the text (a search box would clear it)
            cancel();
            close();
          }
          break;
        case "Tab":
          close();
          break;
        case "ArrowLeft":
        case "ArrowRight":
        case "Home":
        case "End":
          highlight(-1);   // the caret moves in the box; no option is current
          break;
        default:
          break;
      }
    });

    box.addEventListener("blur", function () { close(); });

    // The mouse: keep focus in the box while choosing, highlight on hover, pick on click.
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    var optionOf = function (target) {
      while (target && target !== list) {
        if (target.getAttribute && target.getAttribute("role") === "option") return target;
        target = target.parentNode;
      }
      return null;
    };
    list.addEventListener("mousemove", function (event) {
      var option = optionOf(event.target);
      if (option) {
        var index = Number(option.getAttribute("data-index"));
        if (index !== active) highlight(index);
      }
    });
    list.addEventListener("click", function (event) {
      var option = optionOf(event.target);
      if (option) pick(Number(option.getAttribute("data-index")));
    });

    // Coming back to the page (back button, page cache): no stale popup.
    window.addEventListener("pageshow", function () {
      cancel();
      render([]);
    });
    form.addEventListener("submit", function () {
      cancel();
      close();
    });
  }

  // Thumbnails from other sites can be gone: hide a broken one instead of
  // leaving an empty box.
  function hideIfBroken(img) {
    img.classList.add("is-broken");
  }
  document.addEventListener("error", function (event) {
    var target = event.target;
    if (target && target.tagName === "IMG" && target.hasAttribute("data-hide-broken")) hideIfBroken(target);
  }, true);
  Array.prototype.forEach.call(document.querySelectorAll("img[data-hide-broken]"), function (img) {
    if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) hideIfBroken(img);
  });
})();
