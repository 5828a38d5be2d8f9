/* The form editor: a JSON Schema form as a list of questions (label, kind, required, choices, help), kept in
   step with the JSON itself (for conditional questions and anything else the list does not show), with a live
   preview drawn on the server by the same renderer as the task page. Keywords the list does not manage are
   kept as they are. */
(function () {
  "use strict";
  var C = window.CarepathEditor;
  var cfg = C.config();
  var el = C.el;
  var formId = cfg.file.replace(/\.schema\.json$/, "");
  var schema, ui;
  var KINDS = [["text", "Short text"], ["textarea", "Long text"], ["boolean", "Yes / no"], ["integer", "Whole number"],
    ["number", "Number"], ["date", "Date"], ["choice", "One choice"], ["choices", "Several choices"], ["other", "Other (edit in the JSON)"]];
  var MANAGED = ["type", "enum", "oneOf", "anyOf", "format", "items", "uniqueItems", "minimum", "maximum", "maxLength", "$ref"];

  // Answer scales the form defines once and reuses (PHQ-9's "frequency"): offered as kinds of their own.
  function sharedKinds() {
    return Object.keys(schema.$defs || {}).map(function (k) { return ["ref:" + k, "The shared answers “" + k + "”"]; });
  }

  function parse(text, fallback) {
    if (!text || !text.trim()) return fallback;
    try { return JSON.parse(text); } catch (e) { return null; }
  }
  schema = parse(cfg.text, { "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://carepath.example.org/forms/" + formId, "title": "", "description": "", "type": "object",
    "properties": {}, "required": [] });
  ui = parse(cfg.ui_text, {});
  if (schema === null || ui === null) {
    schema = schema || {};
    ui = ui || {};
    C.status("The saved JSON does not parse; fix it below (“The JSON”).", true);
  }
  schema.properties = schema.properties || {};

  function order() {
    var names = Object.keys(schema.properties);
    var wanted = (ui["ui:order"] || []).filter(function (n) { return names.indexOf(n) >= 0; });
    return wanted.concat(names.filter(function (n) { return wanted.indexOf(n) < 0; }));
  }
  function hints(name) { return ui[name] || {}; }
  function setHint(name, key, value) {
    var h = Object.assign({}, ui[name] || {});
    if (value) h[key] = value; else delete h[key];
    if (Object.keys(h).length) ui[name] = h; else delete ui[name];
  }
  function kindOf(name) {
    var p = schema.properties[name] || {};
    if (typeof p.$ref === "string" && p.$ref.indexOf("#/$defs/") === 0) return "ref:" + p.$ref.slice(8);
    var type = Array.isArray(p.type) ? p.type.filter(function (t) { return t !== "null"; })[0] : p.type;
    if (type === "boolean") return "boolean";
    if ((type === "integer" || type === "number") && (p.enum || p.oneOf)) return "choice";
    if (type === "integer" || type === "number") return type;
    if (type === "array" && p.items && (p.items.enum || p.items.oneOf)) return "choices";
    if (type === "string" || (!type && (p.enum || p.oneOf))) {
      if (p.enum || p.oneOf) return "choice";
      if (p.format === "date") return "date";
      return hints(name)["ui:widget"] === "textarea" ? "textarea" : "text";
    }
    return "other";
  }
  function optionsOf(p) {
    var source = p.items || p;
    if (source.oneOf) return source.oneOf.map(function (o) { return o.const + (o.title && o.title !== String(o.const) ? ": " + o.title : ""); });
    return (source.enum || []).map(String);
  }
  function writeOptions(target, text) {
    var numeric = target.type === "integer" || target.type === "number";
    var rows = text.split("\n").map(function (l) { return l.trim(); }).filter(Boolean).map(function (line) {
      var at = line.indexOf(":");
      var value = at > 0 ? line.slice(0, at).trim() : line.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "");
      return { "const": numeric && !isNaN(Number(value)) ? Number(value) : value, "title": at > 0 ? line.slice(at + 1).trim() : line };
    });
    target.enum = rows.map(function (r) { return r.const; });
    target.oneOf = rows;
  }
  function setKind(name, kind) {
    var p = schema.properties[name];
    var old = kindOf(name), options = optionsOf(p).join("\n"), oldType = p.type;
    MANAGED.forEach(function (k) { delete p[k]; });
    setHint(name, "ui:widget", null);
    if (kind === "text" || kind === "textarea") { p.type = "string"; p.maxLength = kind === "text" ? 200 : 2000; }
    if (kind === "textarea") setHint(name, "ui:widget", "textarea");
    if (kind === "boolean") p.type = "boolean";
    if (kind === "integer" || kind === "number") p.type = kind;
    if (kind === "date") { p.type = "string"; p.format = "date"; }
    if (kind === "choice") { p.type = old === "choice" && oldType ? oldType : "string"; writeOptions(p, options || "Yes\nNo"); }
    if (kind.indexOf("ref:") === 0) p.$ref = "#/$defs/" + kind.slice(4);
    if (kind === "choices") {
      p.type = "array"; p.uniqueItems = true; p.items = { type: "string" };
      writeOptions(p.items, options || "First\nSecond");
      setHint(name, "ui:widget", "checkboxes");
    }
    if (old === "other" && kind !== "other") C.status("The question's kind changed: check its choices and limits.");
  }
  function isRequired(name) { return (schema.required || []).indexOf(name) >= 0; }
  function setRequired(name, on) {
    var req = (schema.required || []).filter(function (n) { return n !== name; });
    if (on) req.push(name);
    schema.required = req;
  }
  function rename(from, to) {
    if (!to || to === from || schema.properties[to]) return false;
    if (!/^[a-z][a-z0-9_]*$/.test(to)) { C.status("A question's name is lowercase letters, digits and _ (it is how pathways read the answer).", true); return false; }
    var props = {};
    Object.keys(schema.properties).forEach(function (k) { props[k === from ? to : k] = schema.properties[k]; });
    schema.properties = props;
    schema.required = (schema.required || []).map(function (n) { return n === from ? to : n; });
    if (ui[from]) { ui[to] = ui[from]; delete ui[from]; }
    ui["ui:order"] = order().map(function (n) { return n === from ? to : n; });
    C.status("Renamed " + from + " to " + to + ". Scripts and conditions that read " + from + " must be changed too.");
    return true;
  }
  function move(name, by) {
    var names = order(), at = names.indexOf(name), to = at + by;
    if (to < 0 || to >= names.length) return;
    names.splice(at, 1);
    names.splice(to, 0, name);
    ui["ui:order"] = names;
  }

  // ---------- drawing the list ----------

  var list = document.getElementById("questions");
  function question(name, i) {
    var p = schema.properties[name] || {}, kind = kindOf(name), id = "q" + i;
    function labelled(label, control, cid) { return el("div", {}, [el("label", { "for": cid, text: label }), control]); }
    function text(cid, value, onChange, attrs) {
      var input = el("input", Object.assign({ id: cid }, attrs || {}));
      input.value = value === undefined || value === null ? "" : value;
      input.addEventListener("change", function () { onChange(input.value.trim()); changed(); });
      return input;
    }
    var kindSelect = el("select", { id: id + "-kind" });
    KINDS.slice(0, -1).concat(sharedKinds(), KINDS.slice(-1)).forEach(function (k) { var o = el("option", { value: k[0], text: k[1] }); if (k[0] === kind) o.selected = true; kindSelect.appendChild(o); });
    kindSelect.addEventListener("change", function () { setKind(name, kindSelect.value); changed(true); });
    var req = el("input", { type: "checkbox", id: id + "-required" });
    req.checked = isRequired(name);
    req.addEventListener("change", function () { setRequired(name, req.checked); changed(); });
    var grid = el("div", { className: "grid" }, [
      labelled("Question", text(id + "-title", p.title, function (v) { p.title = v; }), id + "-title"),
      labelled("Name in the task data", text(id + "-name", name, function (v) { if (rename(name, v)) changed(true); }, { pattern: "[a-z][a-z0-9_]*" }), id + "-name"),
      labelled("Kind of answer", kindSelect, id + "-kind"),
      el("div", { className: "choice" }, [req, el("label", { "for": id + "-required", text: "An answer is required" })])
    ]);
    var item = el("li", { className: "question", "data-name": name }, [grid]);
    if (kind === "choice" || kind === "choices") {
      var opts = el("textarea", { id: id + "-options", rows: "4" });
      opts.value = optionsOf(p).join("\n");
      opts.addEventListener("change", function () { writeOptions(kind === "choices" ? p.items : p, opts.value); changed(); });
      item.appendChild(labelled("Choices, one a line (value: label)", opts, id + "-options"));
    }
    if (kind === "integer" || kind === "number") {
      item.appendChild(el("div", { className: "grid" }, [
        labelled("Smallest", text(id + "-min", p.minimum, function (v) { if (v === "") delete p.minimum; else p.minimum = Number(v); }, { type: "number" }), id + "-min"),
        labelled("Largest", text(id + "-max", p.maximum, function (v) { if (v === "") delete p.maximum; else p.maximum = Number(v); }, { type: "number" }), id + "-max")]));
    }
    item.appendChild(labelled("Help shown under the question", text(id + "-help", hints(name)["ui:help"], function (v) { setHint(name, "ui:help", v); }), id + "-help"));
    var actions = el("div", { className: "row-actions" });
    [["Move up", function () { move(name, -1); }], ["Move down", function () { move(name, 1); }],
      ["Remove", function () { delete schema.properties[name]; setRequired(name, false); delete ui[name]; ui["ui:order"] = order(); }]
    ].forEach(function (a) {
      var b = el("button", { type: "button", className: "secondary small", text: a[0] }, [el("span", { className: "visually-hidden", text: " " + (p.title || name) })]);
      b.addEventListener("click", function () { a[1](); changed(true); });
      actions.appendChild(b);
    });
    item.appendChild(actions);
    return item;
  }
  function drawList() {
    list.textContent = "";
    order().forEach(function (name, i) { list.appendChild(question(name, i)); });
    document.getElementById("form-title").value = schema.title || "";
    document.getElementById("form-description").value = schema.description || "";
  }

  // ---------- JSON, preview, saving ----------

  var schemaBox = document.getElementById("schema-json"), uiBox = document.getElementById("ui-json");
  var previewBox = document.getElementById("preview"), findingsBox = document.getElementById("findings");
  var timer = null, dirty = false;
  function json(value) { return JSON.stringify(value, null, 2) + "\n"; }
  function uiText() { return Object.keys(ui).length ? json(ui) : ""; }
  function changed(redraw) {
    if (ui["ui:order"]) ui["ui:order"] = order();
    schemaBox.value = json(schema);
    uiBox.value = uiText();
    if (redraw) drawList();
    dirty = true;
    C.status("Unsaved changes.");
    clearTimeout(timer);
    timer = setTimeout(preview, 300);
  }
  function preview() {
    C.postJSON("/pathways/forms/preview", { schema: schemaBox.value, ui: uiBox.value }).then(function (answer) {
      var data = answer.data || {};
      if (data.html) {
        previewBox.innerHTML = data.html;  // drawn and escaped by the server's templates
      } else {
        previewBox.textContent = "The preview cannot draw this form yet: " +
          (data.findings || []).map(function (f) { return f.message; }).join("; ");
      }
      document.body.setAttribute("data-preview", String(Date.now()));
      document.body.setAttribute("data-editor-ready", "true");
    });
  }
  document.getElementById("form-title").addEventListener("change", function (e) { schema.title = e.target.value.trim(); changed(); });
  document.getElementById("form-description").addEventListener("change", function (e) { schema.description = e.target.value.trim(); changed(); });
  document.getElementById("add-question").addEventListener("click", function () {
    var n = 1;
    while (schema.properties["question_" + n]) n += 1;
    schema.properties["question_" + n] = { title: "New question", type: "string", maxLength: 200 };
    ui["ui:order"] = order();
    changed(true);
    var last = list.lastElementChild && list.lastElementChild.querySelector("input");
    if (last) last.focus();
  });
  document.getElementById("apply-json").addEventListener("click", function () {
    var s = parse(schemaBox.value, null), u = parse(uiBox.value, {});
    if (!s || typeof s !== "object" || u === null) { C.status("That JSON does not parse; nothing was changed.", true); return; }
    schema = s;
    schema.properties = schema.properties || {};
    ui = u;
    changed(true);
  });
  function save() {
    var files = {};
    files[cfg.file] = schemaBox.value;
    if (uiBox.value.trim() || cfg.ui_text) files[cfg.ui_file] = uiBox.value.trim() ? uiBox.value : "{}\n";
    C.save(files, findingsBox).then(function (saved) { if (saved) dirty = false; });
  }
  var saveButton = document.getElementById("save");
  if (saveButton) saveButton.addEventListener("click", save);
  window.addEventListener("beforeunload", function (e) { if (dirty) { e.preventDefault(); e.returnValue = ""; } });

  schemaBox.value = json(schema);
  uiBox.value = uiText();
  drawList();
  C.showFindings(findingsBox, [], cfg.findings, null, true);
  if (!cfg.editable) Array.prototype.forEach.call(document.querySelectorAll(".form-source input, .form-source textarea, .form-source select, .form-source button"), function (c) { c.disabled = true; });
  preview();
})();
