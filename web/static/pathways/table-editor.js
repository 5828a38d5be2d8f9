/* The decision-table editor: each DMN decision table of the file as an HTML table of text cells (hit policy,
   column labels and expressions, rules). Edits change the parsed DMN document itself, so everything the editor
   does not show (diagram layout, other tools' extensions, documentation) is saved back untouched. */
(function () {
  "use strict";
  var C = window.CarepathEditor;
  var cfg = C.config();
  var el = C.el;
  var POLICIES = ["UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER"];
  var doc = new DOMParser().parseFromString(cfg.text, "application/xml");
  var root = doc.documentElement, NS = root.namespaceURI;
  var box = document.getElementById("tables"), findingsBox = document.getElementById("findings");
  var dirty = false, made = 0;

  function kids(node, name) {
    return Array.prototype.filter.call(node.childNodes, function (c) { return c.nodeType === 1 && c.localName === name; });
  }
  function textOf(node) {
    var t = node && kids(node, "text")[0];
    return t ? t.textContent : "";
  }
  function setText(node, value) {
    var t = kids(node, "text")[0];
    if (!t) { t = doc.createElementNS(NS, "text"); node.appendChild(t); }
    t.textContent = value;
  }
  function newId(prefix) {
    var id;
    do { made += 1; id = prefix + "_" + Date.now().toString(36) + made; } while (doc.querySelector('[id="' + id + '"]'));
    return id;
  }
  function touch() { dirty = true; C.status("Unsaved changes."); }

  function cellInput(id, label, value, onChange, entry) {
    var input = el("input", { id: id, "aria-label": label, "data-entry": entry ? entry.getAttribute("id") || "" : "" });
    input.value = value;
    input.addEventListener("change", function () { onChange(input.value); touch(); });
    return input;
  }

  function drawTable(decision, n) {
    var table = kids(decision, "decisionTable")[0];
    if (!table) return null;
    var inputs = kids(table, "input"), outputs = kids(table, "output");
    var section = el("section", { className: "panel", "aria-labelledby": "t" + n + "-title" });
    section.appendChild(el("h2", { id: "t" + n + "-title", text: decision.getAttribute("name") || decision.getAttribute("id") }));
    var policy = el("select", { id: "t" + n + "-policy" });
    POLICIES.forEach(function (p) {
      var o = el("option", { value: p, text: p });
      if ((table.getAttribute("hitPolicy") || "UNIQUE") === p) o.selected = true;
      policy.appendChild(o);
    });
    policy.addEventListener("change", function () { table.setAttribute("hitPolicy", policy.value); touch(); });
    section.appendChild(el("div", { className: "table-head" }, [el("label", { "for": "t" + n + "-policy", text: "Hit policy" }), policy]));

    var head = el("tr", {}, [el("th", { scope: "col", text: "#" })]);
    inputs.forEach(function (inp, i) {
      var expr = kids(inp, "inputExpression")[0];
      head.appendChild(el("th", { scope: "col", className: "dmn-input" }, [
        cellInput("t" + n + "-in" + i + "-label", "When: column label", inp.getAttribute("label") || "", function (v) { inp.setAttribute("label", v); }),
        cellInput("t" + n + "-in" + i + "-expr", "When: expression over the task data", textOf(expr), function (v) { setText(expr, v); })]));
    });
    outputs.forEach(function (out, i) {
      head.appendChild(el("th", { scope: "col", className: "dmn-output" }, [
        cellInput("t" + n + "-out" + i + "-name", "Then: result name", out.getAttribute("name") || "", function (v) { out.setAttribute("name", v); })]));
    });
    head.appendChild(el("th", { scope: "col", text: "Description" }));
    head.appendChild(el("th", { scope: "col" }, [el("span", { className: "visually-hidden", text: "Row actions" })]));
    var body = el("tbody");
    kids(table, "rule").forEach(function (rule, r) {
      var row = el("tr", { "data-rule": rule.getAttribute("id") || "" }, [el("th", { scope: "row", text: String(r + 1) })]);
      kids(rule, "inputEntry").forEach(function (entry, i) {
        row.appendChild(el("td", {}, [cellInput("t" + n + "-r" + r + "-in" + i, "Row " + (r + 1) + ", when " + (inputs[i] && inputs[i].getAttribute("label") || i + 1),
          textOf(entry), function (v) { setText(entry, v); }, entry)]));
      });
      kids(rule, "outputEntry").forEach(function (entry, i) {
        row.appendChild(el("td", {}, [cellInput("t" + n + "-r" + r + "-out" + i, "Row " + (r + 1) + ", then " + (outputs[i] && outputs[i].getAttribute("name") || i + 1),
          textOf(entry), function (v) { setText(entry, v); }, entry)]));
      });
      var desc = kids(rule, "description")[0];
      row.appendChild(el("td", {}, [cellInput("t" + n + "-r" + r + "-desc", "Row " + (r + 1) + ", description", desc ? desc.textContent : "", function (v) {
        if (!desc) { desc = doc.createElementNS(NS, "description"); rule.insertBefore(desc, rule.firstChild); }
        desc.textContent = v;
      })]));
      var actions = el("td", { className: "row-actions" });
      [["Up", function () { var prev = previousRule(rule); if (prev) table.insertBefore(rule, prev); }],
        ["Down", function () { var next = nextRule(rule); if (next) table.insertBefore(next, rule); }],
        ["Remove", function () { table.removeChild(rule); }]].forEach(function (a) {
        var b = el("button", { type: "button", className: "secondary small", text: a[0] }, [el("span", { className: "visually-hidden", text: " row " + (r + 1) })]);
        b.addEventListener("click", function () { a[1](); touch(); draw(); });
        actions.appendChild(b);
      });
      row.appendChild(actions);
      body.appendChild(row);
    });
    section.appendChild(el("div", { className: "table-wrap" }, [el("table", { className: "dmn-edit" }, [el("thead", {}, [head]), body])]));
    var add = el("button", { type: "button", className: "secondary", text: "Add a row" });
    add.addEventListener("click", function () {
      var rule = doc.createElementNS(NS, "rule");
      rule.setAttribute("id", newId("rule"));
      inputs.forEach(function () { var e = doc.createElementNS(NS, "inputEntry"); e.setAttribute("id", newId("in")); setText(e, "-"); rule.appendChild(e); });
      outputs.forEach(function () { var e = doc.createElementNS(NS, "outputEntry"); e.setAttribute("id", newId("out")); setText(e, ""); rule.appendChild(e); });
      table.appendChild(rule);
      touch();
      draw();
    });
    section.appendChild(add);
    return section;
  }
  function previousRule(rule) { var p = rule.previousElementSibling; while (p && p.localName !== "rule") p = p.previousElementSibling; return p; }
  function nextRule(rule) { var p = rule.nextElementSibling; while (p && p.localName !== "rule") p = p.nextElementSibling; return p; }

  function draw() {
    box.textContent = "";
    if (root.localName !== "definitions" || doc.getElementsByTagName("parsererror").length) {
      box.appendChild(el("p", { className: "error", text: "This file is not a DMN document the editor can read." }));
      return;
    }
    var decisions = Array.prototype.filter.call(root.getElementsByTagNameNS(NS, "decision"), function () { return true; });
    decisions.forEach(function (d, n) { var s = drawTable(d, n); if (s) box.appendChild(s); });
    if (!box.children.length) box.appendChild(el("p", { text: "No decision table in this file." }));
    if (!cfg.editable) Array.prototype.forEach.call(box.querySelectorAll("input, select, button"), function (c) { c.disabled = true; });
  }

  function save() {
    var xml = new XMLSerializer().serializeToString(doc);
    if (xml.indexOf("<?xml") !== 0) xml = '<?xml version="1.0" encoding="UTF-8"?>\n' + xml;
    var files = {};
    files[cfg.file] = xml;
    C.save(files, findingsBox, { after: function (data) { mark((data.refused || []).concat(data.findings || [])); } })
      .then(function (saved) { if (saved) dirty = false; });
  }
  var saveButton = document.getElementById("save");
  if (saveButton) saveButton.addEventListener("click", save);
  window.addEventListener("beforeunload", function (e) { if (dirty) { e.preventDefault(); e.returnValue = ""; } });
  // A finding names the cell (its entry's id) or the rule: outline it in the table.
  function mark(findings) {
    Array.prototype.forEach.call(box.querySelectorAll(".has-error"), function (n) { n.classList.remove("has-error"); });
    (findings || []).forEach(function (f) {
      if (!f.element || f.severity !== "error") return;
      Array.prototype.forEach.call(box.querySelectorAll('[data-entry="' + f.element + '"], tr[data-rule="' + f.element + '"]'),
        function (n) { n.classList.add("has-error"); });
    });
  }
  draw();
  C.showFindings(findingsBox, [], cfg.findings, null, true);
  mark(cfg.findings);
  document.body.setAttribute("data-editor-ready", "true");
})();
