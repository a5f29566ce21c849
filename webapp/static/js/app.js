/* collegesearch progressive enhancement. Every page works without this file; it adds:
 * autocomplete (ARIA 1.2 combobox with a listbox), auto-submitting sort/filter menus,
 * folding the filter panel on phones, and a character counter on the review form. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function debounce(fn, wait) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, wait);
    };
  }

  /* -- autocomplete --------------------------------------------------------------- */

  var KIND_LABELS = { career: "Career", institution: "College", program: "Program", review: "Review" };
  var comboCount = 0;

  function Combobox(input) {
    comboCount += 1;
    this.input = input;
    this.form = input.form;
    this.url = input.getAttribute("data-suggest-url");
    this.items = [];
    this.active = -1;
    this.controller = null;
    this.lastQuery = null;

    var id = (input.id || "search") + "-suggestions";
    var wrap = input.parentNode;
    if (!wrap.classList.contains("combobox-wrap")) {
      wrap = document.createElement("div");
      wrap.className = "combobox-wrap";
      input.parentNode.insertBefore(wrap, input);
      wrap.appendChild(input);
    }
    this.list = document.createElement("ul");
    this.list.id = id;
    this.list.className = "suggestions";
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", "Suggestions");
    this.list.hidden = true;
    wrap.appendChild(this.list);

    this.status = document.createElement("div");
    this.status.className = "visually-hidden";
    this.status.setAttribute("role", "status");
    this.status.setAttribute("aria-live", "polite");
    wrap.appendChild(this.status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id);
    input.setAttribute("autocomplete", "off");

    var self = this;
    input.addEventListener("input", debounce(function () { self.fetch(); }, 150));
    input.addEventListener("keydown", function (e) { self.onKey(e); });
    input.addEventListener("blur", function () { setTimeout(function () { self.close(); }, 150); });
    this.list.addEventListener("mousedown", function (e) { e.preventDefault(); });
    this.list.addEventListener("click", function (e) {
      var li = e.target.closest("li[role=option]");
      if (li) { self.choose(parseInt(li.getAttribute("data-index"), 10)); }
    });
  }

  Combobox.prototype.fetch = function () {
    var q = this.input.value.trim();
    if (q.length < 2) { this.lastQuery = q; this.render([]); return; }
    if (q === this.lastQuery) { return; }
    this.lastQuery = q;
    if (this.controller) { this.controller.abort(); }
    this.controller = typeof AbortController === "function" ? new AbortController() : null;
    var self = this;
    fetch(this.url + "?q=" + encodeURIComponent(q), {
      headers: { Accept: "application/json" },
      signal: this.controller ? this.controller.signal : undefined,
      credentials: "same-origin"
    }).then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
      .then(function (data) {
        if (self.input.value.trim() === q) { self.render(data.suggestions || []); }
      })
      .catch(function () { /* aborted or offline: the plain search still works */ });
  };

  Combobox.prototype.render = function (items) {
    this.items = items;
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
    while (this.list.firstChild) { this.list.removeChild(this.list.firstChild); }
    if (!items.length) { this.close(); this.status.textContent = ""; return; }
    for (var i = 0; i < items.length; i++) {
      var li = document.createElement("li");
      li.id = this.list.id + "-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.setAttribute("data-index", String(i));
      var text = document.createElement("span");
      text.textContent = items[i].text;  /* textContent: suggestions are never parsed as HTML */
      li.appendChild(text);
      if (items[i].kind) {
        var kind = document.createElement("span");
        kind.className = "suggestion-kind";
        kind.textContent = KIND_LABELS[items[i].kind] || items[i].kind;
        li.appendChild(kind);
      }
      this.list.appendChild(li);
    }
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.status.textContent = items.length + (items.length === 1 ? " suggestion" : " suggestions") +
      " available. Use the up and down arrows to choose.";
  };

  Combobox.prototype.close = function () {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
  };

  Combobox.prototype.move = function (step) {
    if (!this.items.length) { return; }
    if (this.list.hidden) { this.list.hidden = false; this.input.setAttribute("aria-expanded", "true"); }
    var options = this.list.querySelectorAll("li[role=option]");
    if (this.active >= 0) { options[this.active].setAttribute("aria-selected", "false"); }
    var n = options.length;
    this.active = this.active === -1 ? (step > 0 ? 0 : n - 1) : (this.active + step + n) % n;
    var li = options[this.active];
    li.setAttribute("aria-selected", "true");
    this.input.setAttribute("aria-activedescendant", li.id);
    if (li.scrollIntoView) { li.scrollIntoView({ block: "nearest" }); }
  };

  Combobox.prototype.choose = function (index) {
    var item = this.items[index];
    if (!item) { return; }
    this.input.value = item.text;
    this.close();
    if (item.url && item.url.charAt(0) === "/" && item.url.charAt(1) !== "/") {
      window.location.assign(item.url);
    } else if (this.form) {
      this.form.submit();
    }
  };

  Combobox.prototype.onKey = function (e) {
    switch (e.key) {
      case "ArrowDown":
        e.preventDefault();
        if (this.list.hidden && !this.items.length) { this.lastQuery = null; this.fetch(); } else { this.move(1); }
        break;
      case "ArrowUp":
        e.preventDefault();
        this.move(-1);
        break;
      case "Enter":
        if (!this.list.hidden && this.active >= 0) { e.preventDefault(); this.choose(this.active); }
        break;
      case "Escape":
        if (!this.list.hidden) { e.preventDefault(); this.close(); }
        break;
      case "Tab":
        this.close();
        break;
      default:
        break;
    }
  };

  /* -- small enhancements --------------------------------------------------------- */

  function autoSubmit(select) {
    select.addEventListener("change", function () { if (select.form) { select.form.submit(); } });
    var button = select.form && select.form.querySelector("button[type=submit]");
    if (button) { button.classList.add("js-hide"); }
  }

  function foldFiltersOnPhones(details) {
    if (window.matchMedia && window.matchMedia("(max-width: 55.99rem)").matches) {
      var anySelected = details.querySelector(".is-selected");
      if (!anySelected) { details.open = false; }
    }
  }

  function counter(textarea) {
    var max = parseInt(textarea.getAttribute("maxlength") || "0", 10);
    var out = document.createElement("p");
    out.className = "char-count";
    out.id = textarea.id + "-count";
    out.setAttribute("aria-live", "polite");
    textarea.parentNode.insertBefore(out, textarea.nextSibling);
    var update = function () { out.textContent = textarea.value.length + " of " + max + " characters"; };
    textarea.addEventListener("input", debounce(update, 300));
    update();
  }

  function init() {
    var inputs = document.querySelectorAll("input[data-suggest-url]");
    for (var i = 0; i < inputs.length; i++) { new Combobox(inputs[i]); }
    var selects = document.querySelectorAll("select[data-autosubmit]");
    for (var j = 0; j < selects.length; j++) { autoSubmit(selects[j]); }
    var panels = document.querySelectorAll("details[data-collapse-narrow]");
    for (var k = 0; k < panels.length; k++) { foldFiltersOnPhones(panels[k]); }
    var areas = document.querySelectorAll("textarea[data-counter][maxlength]");
    for (var m = 0; m < areas.length; m++) { counter(areas[m]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
