// Atrium's browser code: small enhancements over pages that work without
// it. Live filtering of lists, arrow-key movement through tables, copy
// buttons, forms that apply on change and a user menu that closes like
// one. No dependencies.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // --- Live list filters -------------------------------------------------
  // A filter change fetches the list page for the new URL and swaps its
  // results in place, keeping focus where the user is typing. Changing the
  // kind reloads the page, since the facets depend on it.
  function formURL(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (typeof value === "string" && value.trim() !== "") params.append(key, value.trim());
    });
    var q = params.toString();
    return form.getAttribute("action") + (q ? "?" + q : "");
  }

  var generation = 0;
  function refreshResults(form) {
    var url = formURL(form);
    var mine = ++generation;
    var results = document.getElementById("results");
    if (results) results.setAttribute("aria-busy", "true");
    fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (res) {
        if (!res.ok) throw new Error("status " + res.status);
        return res.text();
      })
      .then(function (html) {
        if (mine !== generation) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("results");
        var current = document.getElementById("results");
        if (fresh && current) current.replaceWith(document.adoptNode(fresh));
        history.replaceState(null, "", url);
      })
      .catch(function () {
        if (mine === generation) window.location.assign(url);
      });
  }

  function debounce(fn, ms) {
    var t;
    return function () {
      var args = arguments;
      clearTimeout(t);
      t = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  document.querySelectorAll("form[data-live-filter]").forEach(function (form) {
    var typed = debounce(function () { refreshResults(form); }, 300);
    form.addEventListener("change", function (e) {
      if (e.target.matches("[data-navigate]")) {
        window.location.assign(formURL(form));
        return;
      }
      if (e.target.matches("input[type=search], input[type=text]")) return; // handled on input
      refreshResults(form);
    });
    form.addEventListener("input", function (e) {
      if (e.target.matches("input[type=search], input[type=text]")) typed();
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      refreshResults(form);
    });
  });

  // The current tab of an entity page is scrolled into view on narrow
  // screens, where the tabs scroll sideways.
  document.querySelectorAll(".tabs").forEach(function (tabs) {
    var current = tabs.querySelector('[aria-current="page"]');
    if (!current) return;
    var over = current.getBoundingClientRect().right - tabs.getBoundingClientRect().right;
    if (over > 0) tabs.scrollLeft += over + 16;
  });

  // On a narrow screen the filters start folded, so the results come first.
  if (window.matchMedia("(max-width: 900px)").matches) {
    document.querySelectorAll("details[data-collapse-narrow]").forEach(function (d) { d.open = false; });
  }

  // GET forms that leave their empty fields out of the URL they open (the
  // audit log's filters), so links stay short and readable.
  document.querySelectorAll("form[data-drop-empty]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      window.location.assign(formURL(form));
    });
  });

  // Forms that apply as soon as a control changes (the graph's options).
  document.querySelectorAll("form[data-auto-submit]").forEach(function (form) {
    form.addEventListener("change", function () { form.requestSubmit(); });
  });

  // --- Keyboard navigation of entity tables ------------------------------
  // Arrow keys move between rows, keeping the column; Home and End jump to
  // the first and last row. Tab still moves through every link.
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    var keys = ["ArrowDown", "ArrowUp", "Home", "End"];
    if (keys.indexOf(e.key) < 0) return;
    var cell = e.target.closest && e.target.closest("table[data-keynav] tbody td");
    if (!cell) return;
    var row = cell.parentElement;
    var rows = Array.prototype.slice.call(row.parentElement.rows);
    var i = rows.indexOf(row);
    var j = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: rows.length - 1 }[e.key];
    if (j < 0 || j >= rows.length || j === i) return;
    var target = rows[j].cells[cell.cellIndex];
    var link = (target && target.querySelector("a")) || rows[j].querySelector("a");
    if (link) {
      e.preventDefault();
      link.focus();
    }
  });

  // --- Anchors into collapsed sections -----------------------------------
  // A link to an operation of an API definition opens its <details>.
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    for (var e = el; e; e = e.parentElement) {
      if (e.tagName === "DETAILS") e.open = true;
    }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();

  // --- User menu -----------------------------------------------------------
  // The <details> menu opens and closes without script; with it, Escape
  // and a click elsewhere close it too, as menus do.
  document.querySelectorAll("details.user-menu").forEach(function (menu) {
    menu.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
    document.addEventListener("click", function (e) {
      if (menu.open && !menu.contains(e.target)) menu.open = false;
    });
  });

  // --- Copy buttons --------------------------------------------------------
  // <button data-copy="id" hidden> copies the text of element #id.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById(button.getAttribute("data-copy") + "-status");
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.textContent).then(function () {
        if (status) status.textContent = "Copied";
        setTimeout(function () { if (status) status.textContent = ""; }, 2000);
      }, function () {
        if (status) status.textContent = "Copy failed: select the text instead";
      });
    });
  });
  // A form shown again with errors puts the focus on their summary, whose
  // links lead to the fields.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  // --- Conditional template fields ---------------------------------------
  // A field marked data-depends-on="<name>" (with data-depends-values, a
  // JSON list, and data-depends-not) is shown only while the field of that
  // name holds one of the values (any value when none are listed). The
  // server validates only the fields whose condition holds, whatever is
  // shown.
  var dependents = document.querySelectorAll("[data-depends-on]");
  if (dependents.length) {
    var valueOf = function (form, name) {
      var inputs = form.querySelectorAll('[name="' + name.replace(/["\\]/g, "\\$&") + '"]');
      var value = "";
      inputs.forEach(function (input) {
        if (input.type === "checkbox" && inputs.length === 1) value = input.checked ? "true" : "false";
        else if (input.type === "radio" || input.type === "checkbox") { if (input.checked) value = input.value; }
        else value = input.value;
      });
      return value;
    };
    var update = function () {
      dependents.forEach(function (el) {
        var form = el.closest("form");
        var value = valueOf(form, el.getAttribute("data-depends-on"));
        var values = el.hasAttribute("data-depends-values") ? JSON.parse(el.getAttribute("data-depends-values")) : null;
        var on = values ? values.indexOf(value) >= 0 : value !== "" && value !== "false";
        if (el.hasAttribute("data-depends-not")) on = !on;
        el.hidden = !on;
      });
    };
    document.addEventListener("change", update);
    update();
  }

  // A running scaffolder task's page follows its event stream: log lines
  // are appended (as text, never as HTML), step statuses updated, and the
  // page reloaded when the task ends to show its result.
  var stream = document.querySelector("[data-task-stream]");
  if (stream && window.EventSource) {
    var es = new EventSource(stream.getAttribute("data-task-stream"));
    es.addEventListener("log", function (m) {
      var e;
      try { e = JSON.parse(m.data); } catch (err) { return; }
      var body = e.body || {};
      var li = document.createElement("li");
      if (body.stepId) {
        var s = document.createElement("span");
        s.className = "log-step";
        s.textContent = body.stepId;
        li.appendChild(s);
        li.appendChild(document.createTextNode(" "));
      }
      li.appendChild(document.createTextNode(body.message || ""));
      stream.appendChild(li);
      if (body.stepId && body.status) {
        var step = document.querySelector('[data-step="' + CSS.escape(body.stepId) + '"] [data-step-status]');
        if (step) {
          step.textContent = body.status;
          step.className = "step-status step-status-" + body.status;
        }
      }
    });
    var done = function () { es.close(); window.location.reload(); };
    es.addEventListener("completion", done);
    es.addEventListener("cancelled", done);
  }
})();

// --- TechDocs builds -------------------------------------------------------
// The docs reader's build panel follows Backstage's sync stream
// (/api/techdocs/sync/...): "log" events are lines of the build's log
// (JSON strings, appended as text), "error" ends it with a message, and
// "finish" ({"updated": bool}) reloads the page to show the docs. Before
// the first build the panel starts at once; after it, the Rebuild button
// starts a forced build.
(function () {
  "use strict";
  var panel = document.querySelector("[data-docs-sync]");
  if (!panel || !window.EventSource) return;
  var log = panel.querySelector("[data-docs-log]");
  var status = panel.querySelector("[data-docs-status]");
  var button = document.querySelector("[data-docs-rebuild]");
  var running = false;
  var say = function (text, isError) {
    status.textContent = text;
    status.classList.toggle("is-error", !!isError);
  };
  var parse = function (data) {
    try { return JSON.parse(data); } catch (e) { return data; }
  };
  var start = function (force) {
    if (running) return;
    running = true;
    panel.hidden = false;
    log.textContent = "";
    say(force ? "Rebuilding the docs…" : "Building the docs…");
    var es = new EventSource(panel.getAttribute("data-docs-sync") + (force ? "?force=true" : ""));
    var stop = function () {
      es.close();
      running = false;
      if (button) button.disabled = false;
    };
    es.addEventListener("log", function (m) {
      var li = document.createElement("li");
      li.textContent = String(parse(m.data));
      log.appendChild(li);
      log.scrollTop = log.scrollHeight;
    });
    es.addEventListener("finish", function (m) {
      stop();
      var result = parse(m.data) || {};
      // A first build that changed nothing reloads once only, so that a
      // site that cannot be built does not reload the page for ever.
      var key = "atrium-docs-reloaded:" + location.pathname;
      if (!force && !result.updated && sessionStorage.getItem(key)) {
        say("The build finished without producing the docs: see its log.", true);
        return;
      }
      if (!force && !result.updated) sessionStorage.setItem(key, "1");
      else sessionStorage.removeItem(key);
      say("Done: loading the docs…");
      window.location.reload();
    });
    // A named "error" event carries the build's message; a bare one is
    // the connection failing. Either ends the stream: left open, the
    // EventSource would reconnect and start another build.
    es.addEventListener("error", function (m) {
      stop();
      if (m.data) say("The build failed: " + String(parse(m.data)), true);
      else say("The build's log is not available: reload the page to try again.", true);
    });
  };
  if (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      start(true);
      panel.scrollIntoView({ block: "nearest" });
    });
  }
  if (panel.hasAttribute("data-docs-autostart")) start(false);
})();
