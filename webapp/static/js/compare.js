/* collegesearch "Add to compare": progressive enhancement of the compare links.
 *
 * Without this file each "Add to compare" link opens /compare with that one record. With it, the links
 * become buttons that collect up to four programs and four schools in this browser (localStorage, so the
 * pending choice survives going from page to page) and a compare bar links to /compare?programs=A,B.
 * The comparison itself lives only in its URL: the compare page writes its ids back here, so removing a
 * column there (a plain link) also updates the bar. Nothing is sent to the server until the link is opened. */
(function () {
  "use strict";

  var KEY = "collegesearch.compare";
  var MAX = 4;
  var KINDS = ["program", "institution"];
  var PARAM = { program: "programs", institution: "institutions" };
  var NOUN = { program: ["program", "programs"], institution: ["school", "schools"] };
  var memory = null; // used when localStorage is unavailable (private mode, disabled storage)

  function empty() { return { program: [], institution: [] }; }

  function clean(raw) {
    var state = empty();
    if (!raw || typeof raw !== "object") { return state; }
    KINDS.forEach(function (kind) {
      var list = Array.isArray(raw[kind]) ? raw[kind] : [];
      list.forEach(function (entry) {
        if (entry && typeof entry.id === "string" && state[kind].length < MAX &&
            !state[kind].some(function (e) { return e.id === entry.id; })) {
          state[kind].push({ id: entry.id, name: typeof entry.name === "string" ? entry.name : entry.id });
        }
      });
    });
    return state;
  }

  function load() {
    try {
      return clean(JSON.parse(window.localStorage.getItem(KEY) || "null"));
    } catch (e) {
      return clean(memory);
    }
  }

  function save(state) {
    memory = state;
    try { window.localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* memory keeps it */ }
  }

  function compareUrl(base, kind, list) {
    return base + "?" + PARAM[kind] + "=" + list.map(function (e) { return encodeURIComponent(e.id); }).join(",");
  }

  function plural(kind, n) { return NOUN[kind][n === 1 ? 0 : 1]; }

  /* -- the compare bar -------------------------------------------------------------------- */

  function Bar(base) {
    this.base = base;
    this.el = document.createElement("section");
    this.el.className = "compare-bar";
    this.el.setAttribute("aria-label", "Your comparison");
    this.el.hidden = true;
    this.body = document.createElement("div");
    this.body.className = "wrap compare-bar-inner";
    this.el.appendChild(this.body);
    this.status = document.createElement("p");
    this.status.className = "visually-hidden";
    this.status.setAttribute("role", "status");
    this.el.appendChild(this.status);
    document.body.appendChild(this.el);
  }

  // note: what to announce; warn: keep it on screen too (a refusal), not only announce it.
  Bar.prototype.render = function (state, note, warn) {
    var self = this;
    this.body.textContent = "";
    var shown = false;
    KINDS.forEach(function (kind) {
      var list = state[kind];
      if (!list.length) { return; }
      shown = true;
      var group = document.createElement("div");
      group.className = "compare-bar-group";
      var text = document.createElement("p");
      text.textContent = list.length + " " + plural(kind, list.length) + " chosen (up to " + MAX + ")";
      // The names only where there is room (CSS hides them on phones, where the bar must stay small).
      var names = document.createElement("span");
      names.className = "compare-bar-names";
      names.textContent = ": " + list.map(function (e) { return e.name; }).join(", ");
      text.appendChild(names);
      group.appendChild(text);
      var link = document.createElement("a");
      link.className = "button";
      link.href = compareUrl(self.base, kind, list);
      link.textContent = "Compare " + list.length + " " + plural(kind, list.length);
      group.appendChild(link);
      var clear = document.createElement("button");
      clear.type = "button";
      clear.className = "compare-clear";
      clear.textContent = "Clear";
      clear.setAttribute("aria-label", "Clear the chosen " + NOUN[kind][1]);
      clear.addEventListener("click", function () {
        var next = load();
        next[kind] = [];
        save(next);
        refresh("Cleared the chosen " + NOUN[kind][1] + ".");
      });
      group.appendChild(clear);
      self.body.appendChild(group);
    });
    if (note) { this.status.textContent = note; }
    if (note && warn) {
      // A refusal stays visible; a plain "added" is only announced (the count in the bar shows it).
      var p = document.createElement("p");
      p.className = "compare-note";
      p.textContent = note;
      this.body.appendChild(p);
    }
    this.el.hidden = !shown && !(note && warn);
    document.documentElement.classList.toggle("has-compare-bar", !this.el.hidden);
  };

  /* -- the buttons ------------------------------------------------------------------------ */

  var buttons = [];
  var bar = null;

  function refresh(note, warn) {
    var state = load();
    buttons.forEach(function (b) {
      var chosen = state[b.kind].some(function (e) { return e.id === b.id; });
      b.label.textContent = chosen ? "Remove from compare" : "Add to compare";
      // One name, said as it reads (the hidden ": name" span alone would be announced as a separate chunk).
      b.el.setAttribute("aria-label", b.label.textContent + ": " + b.name);
      b.el.classList.toggle("is-chosen", chosen);
    });
    if (bar) { bar.render(state, note, warn); }
  }

  function toggle(kind, id, name) {
    var state = load();
    var list = state[kind];
    var at = -1;
    list.forEach(function (e, i) { if (e.id === id) { at = i; } });
    if (at >= 0) {
      list.splice(at, 1);
      save(state);
      refresh("Removed " + name + " from the comparison.");
      return;
    }
    if (list.length >= MAX) {
      refresh("You can compare up to " + MAX + " " + NOUN[kind][1] + ": remove one first.", true);
      return;
    }
    list.push({ id: id, name: name });
    save(state);
    refresh("Added " + name + " to the comparison (" + list.length + " of " + MAX + ").");
  }

  function enhance(link) {
    var kind = link.getAttribute("data-compare-kind");
    var id = link.getAttribute("data-compare-id");
    if (!PARAM[kind] || !id) { return; }
    var name = link.getAttribute("data-compare-name") || id;
    // A real button: Enter and Space work, and it says what it does to a screen reader.
    var button = document.createElement("button");
    button.type = "button";
    button.className = link.className;
    var label = document.createElement("span");
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = ": " + name;
    button.appendChild(label);
    button.appendChild(hidden);
    button.setAttribute("data-compare-kind", kind);
    button.setAttribute("data-compare-id", id);
    button.addEventListener("click", function () { toggle(kind, id, name); });
    link.parentNode.replaceChild(button, link);
    buttons.push({ el: button, label: label, kind: kind, id: id, name: name });
  }

  function init() {
    var meta = document.querySelector("meta[name=collegesearch-compare-url]");
    var base = (meta && meta.getAttribute("content")) || "/compare";
    var table = document.querySelector("table[data-compare-ids]");
    if (table) {
      // The page's URL is the comparison: make the pending choice match what is on screen.
      var kind = table.getAttribute("data-compare-kind");
      if (PARAM[kind]) {
        var state = load();
        state[kind] = Array.prototype.map.call(table.querySelectorAll("thead th[data-id]"), function (th) {
          return { id: th.getAttribute("data-id"), name: th.getAttribute("data-name") || th.getAttribute("data-id") };
        });
        save(clean(state));
      }
    }
    var links = document.querySelectorAll("a.compare-add[data-compare-id]");
    for (var i = 0; i < links.length; i++) { enhance(links[i]); }
    if (!document.body.classList.contains("page-compare")) { bar = new Bar(base); }
    refresh();
    // Another tab changed the choice: follow it.
    window.addEventListener("storage", function (e) { if (e.key === KEY) { refresh(); } });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
