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
