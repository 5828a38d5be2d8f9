/* Carepath: small enhancements to server-rendered pages. Every page works without this file:
   list rows are then added and removed by the server, and conditional questions are all shown
   (the server ignores answers to questions whose condition does not hold). */
(function () {
  "use strict";

  // ---------- conditional fields (a small part of JSON Schema: the `if` of an if/then) ----------

  function wire(v) {
    if (v === true) return "true";
    if (v === false) return "false";
    if (v === null || v === undefined) return "";
    return String(v);
  }

  function valueHolds(schema, value) {
    if (schema === true || typeof schema !== "object" || schema === null) return schema !== false;
    for (var key in schema) {
      var rule = schema[key];
      if (key === "const" && wire(rule) !== value) return false;
      if (key === "enum" && rule.map(wire).indexOf(value) < 0) return false;
      if (key === "minimum" && !(Number(value) >= rule)) return false;
      if (key === "maximum" && !(Number(value) <= rule)) return false;
      if (key === "exclusiveMinimum" && !(Number(value) > rule)) return false;
      if (key === "exclusiveMaximum" && !(Number(value) < rule)) return false;
      if (key === "anyOf" && !rule.some(function (s) { return valueHolds(s, value); })) return false;
      if (key === "allOf" && !rule.every(function (s) { return valueHolds(s, value); })) return false;
      if (key === "not" && valueHolds(rule, value)) return false;
    }
    return true;
  }

  function holds(schema, data) {
    if (schema === true || typeof schema !== "object" || schema === null) return schema !== false;
    for (var key in schema) {
      var rule = schema[key];
      if (key === "properties") {
        for (var name in rule) {
          if (name in data && !valueHolds(rule[name], data[name])) return false;
        }
      } else if (key === "required") {
        if (!rule.every(function (n) { return n in data; })) return false;
      } else if (key === "anyOf") {
        if (!rule.some(function (s) { return holds(s, data); })) return false;
      } else if (key === "allOf") {
        if (!rule.every(function (s) { return holds(s, data); })) return false;
      } else if (key === "oneOf") {
        if (rule.filter(function (s) { return holds(s, data); }).length !== 1) return false;
      } else if (key === "not") {
        if (holds(rule, data)) return false;
      }
    }
    return true;
  }

  function answersIn(form, scope) {
    var prefix = scope ? scope + "/" : "";
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.name.indexOf(prefix) !== 0) return;
      var rest = el.name.slice(prefix.length);
      if (rest.indexOf("/") >= 0 || rest.charAt(0) === "_") return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      if (el.value === "") return;
      data[rest] = el.value;
    });
    return data;
  }

  function applyConditions(form) {
    form.querySelectorAll("[data-show-if]").forEach(function (field) {
      if (field.closest("template")) return;
      var conditions;
      try { conditions = JSON.parse(field.getAttribute("data-show-if")); } catch (e) { return; }
      var data = answersIn(form, field.getAttribute("data-scope") || "");
      var show = conditions.some(function (c) { return holds(c["if"], data) === (c.branch === "then"); });
      field.hidden = !show;
      field.querySelectorAll("input, select, textarea").forEach(function (input) {
        if (!show && !input.disabled) { input.disabled = true; input.setAttribute("data-cond-off", ""); }
        if (show && input.hasAttribute("data-cond-off")) { input.disabled = false; input.removeAttribute("data-cond-off"); }
      });
    });
  }

  // ---------- lists: add and remove rows in the page ----------

  function rowsOf(list) {
    return Array.prototype.filter.call(list.querySelector(".rows").children, function (el) {
      return el.hasAttribute("data-row");
    });
  }

  function refreshList(list) {
    var rows = rowsOf(list);
    rows.forEach(function (row, i) {
      row.querySelectorAll(".row-num").forEach(function (span) {
        if (span.closest("[data-row]") === row) span.textContent = String(i + 1);
      });
    });
    var add = list.querySelector(":scope > button.add");
    var max = list.getAttribute("data-max");
    if (add) add.hidden = max !== null && rows.length >= Number(max);
  }

  function addRow(list) {
    var template = list.querySelector(":scope > template");
    var next = Number(list.getAttribute("data-next") || rowsOf(list).length);
    list.setAttribute("data-next", String(next + 1));
    // Only this list's placeholder: a list inside the row (a goal's objectives) keeps its own.
    var path = list.getAttribute("data-list"), id = list.getAttribute("data-id");
    var html = template.innerHTML.split(path + "/__index__").join(path + "/" + next)
      .split(id + "--__index__").join(id + "--" + next);
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.firstElementChild;
    list.querySelector(".rows").appendChild(row);
    enhance(row);
    refreshList(list);
    var first = row.querySelector("input, select, textarea");
    if (first) first.focus();
  }

  function enhance(root) {
    root.querySelectorAll("fieldset.list").forEach(function (list) {
      if (list.closest("template") || list.hasAttribute("data-enhanced")) return;
      list.setAttribute("data-enhanced", "");
      list.setAttribute("data-next", String(highestIndex(list) + 1));
      refreshList(list);
    });
    root.querySelectorAll("button.add, button.remove").forEach(function (button) {
      button.type = "button";  // handled here, no round trip to the server
    });
  }

  function highestIndex(list) {
    var high = -1;
    var prefix = list.getAttribute("data-list") + "/";
    list.querySelectorAll("[name]").forEach(function (el) {
      if (el.closest("template") || el.name.indexOf(prefix) !== 0) return;
      var n = parseInt(el.name.slice(prefix.length), 10);
      if (!isNaN(n) && n > high) high = n;
    });
    return high;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.add, button.remove");
    if (!button || button.type !== "button") return;
    var list = button.closest("fieldset.list");
    if (!list) return;
    event.preventDefault();
    if (button.classList.contains("add")) {
      addRow(list);
    } else {
      button.closest("[data-row]").remove();
      refreshList(list);
      var add = list.querySelector(":scope > button.add");
      if (add && !add.hidden) add.focus();
    }
    var form = list.closest("form");
    if (form) applyConditions(form);
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.documentElement.classList.add("js");
    enhance(document);
    document.querySelectorAll("form").forEach(function (form) {
      if (!form.querySelector("[data-show-if]")) return;
      applyConditions(form);
      form.addEventListener("change", function () { applyConditions(form); });
      form.addEventListener("input", function () { applyConditions(form); });
    });
    var alert = document.getElementById("error-summary") || document.getElementById("conflict");
    if (alert) alert.focus();
    document.querySelectorAll("form[data-draft-url]").forEach(autosave);
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });

  // ---------- drafts: what is typed is kept on the server a few seconds after each change ----------
  // The "Save draft" button does the same without JavaScript. The page never says more than "saved".

  var AUTOSAVE_DELAY = 2000;

  function autosave(form) {
    var timer = null;
    var status = form.querySelector(".draft-status");
    function save() {
      timer = null;
      var body = new FormData(form);
      body.delete("_add");
      body.delete("_remove");
      fetch(form.getAttribute("data-draft-url"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: {"X-Carepath-Autosave": "1", "Accept": "application/json"}
      }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      }).then(function (answer) {
        if (status) {
          var at = new Date(answer.saved_at);
          status.textContent = "Draft saved at " + at.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
        }
      }).catch(function () {
        if (status) status.textContent = "The draft could not be saved; use Save draft or keep this page open.";
      });
    }
    function later() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(save, AUTOSAVE_DELAY);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }
})();
