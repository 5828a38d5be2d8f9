/* The pathway editor: bpmn-js's modeler, and Carepath's side panel for what the engine reads of the selected
   element (a lane's role, a user task's form and due time, scripts, gateway conditions, timers, messages).
   Everything is written through bpmn-js's modeling commands, so undo and redo cover it; extension elements of
   other tools are left as they are. Saving sends the XML to the draft and marks each finding on its element. */
(function () {
  "use strict";
  var C = window.CarepathEditor;
  var cfg = C.config();
  var el = C.el;

  // spiffworkflow:* as bpmn-js should read it (the engine's extension namespace), so the panel can edit it.
  var SPIFF = {
    name: "SpiffWorkflow", uri: "http://spiffworkflow.org/bpmn/schema/1.0/core", prefix: "spiffworkflow",
    xml: { tagAlias: "lowerCase" }, associations: [],
    types: [
      { name: "Properties", superClass: ["Element"], properties: [{ name: "properties", type: "Property", isMany: true }] },
      { name: "Property", superClass: ["Element"], properties: [
        { name: "name", type: "String", isAttr: true }, { name: "value", type: "String", isAttr: true }] }
    ].concat(["MessagePayload", "MessageVariable", "InstructionsForEndUser", "CalledDecisionId", "PreScript",
      "PostScript"].map(function (n) {
      return { name: n, superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] };
    }))
  };
  // bpmn-js draws the align/distribute menu's icons with inline styles, which the page's policy refuses; the
  // menu is left out instead of loosening the policy.
  var NO_ALIGN_MENU = { alignElementsContextPadProvider: ["value", {}], alignElementsMenuProvider: ["value", {}],
    distributeElementsMenuProvider: ["value", {}] };

  var modeler = new window.BpmnModeler({ container: "#canvas", moddleExtensions: { spiffworkflow: SPIFF },
    additionalModules: [NO_ALIGN_MENU] });
  var modeling = modeler.get("modeling"), moddle = modeler.get("moddle"), registry = modeler.get("elementRegistry");
  var canvas = modeler.get("canvas"), selection = modeler.get("selection");
  var panel = document.getElementById("panel"), findingsBox = document.getElementById("findings");
  var dirty = false, marked = [];

  function roleLabel(role) {
    return role.split("_").map(function (w) { return w.charAt(0).toUpperCase() + w.slice(1); }).join(" ");
  }
  function roleOf(laneName) {
    return (laneName || "").trim().toLowerCase().split(/\s+/).join("_");
  }
  function is(bo, type) { return bo && bo.$instanceOf && bo.$instanceOf(type); }

  // ---------- spiffworkflow extension elements ----------

  function extensionsOf(element, bo) {
    var ext = bo.extensionElements;
    if (!ext) {
      ext = moddle.create("bpmn:ExtensionElements", { values: [] });
      ext.$parent = bo;
      modeling.updateModdleProperties(element, bo, { extensionElements: ext });
    }
    return ext;
  }
  function spiffValues(bo, type) {
    return ((bo.extensionElements && bo.extensionElements.get("values")) || []).filter(function (v) { return v.$type === type; });
  }
  function getProperty(bo, name) {
    var props = spiffValues(bo, "spiffworkflow:Properties")[0];
    var prop = props && props.get("properties").filter(function (p) { return p.name === name; })[0];
    return prop ? prop.value || "" : "";
  }
  function setProperty(element, name, value) {
    var bo = element.businessObject;
    var props = spiffValues(bo, "spiffworkflow:Properties")[0];
    if (!props) {
      if (!value) return;
      var ext = extensionsOf(element, bo);
      props = moddle.create("spiffworkflow:Properties", { properties: [] });
      props.$parent = ext;
      modeling.updateModdleProperties(element, ext, { values: ext.get("values").concat([props]) });
    }
    var prop = props.get("properties").filter(function (p) { return p.name === name; })[0];
    if (!value) {
      if (prop) modeling.updateModdleProperties(element, props, { properties: props.get("properties").filter(function (p) { return p !== prop; }) });
    } else if (!prop) {
      prop = moddle.create("spiffworkflow:Property", { name: name, value: value });
      prop.$parent = props;
      modeling.updateModdleProperties(element, props, { properties: props.get("properties").concat([prop]) });
    } else {
      modeling.updateModdleProperties(element, prop, { value: value });
    }
  }
  function getBody(bo, type) {
    var found = spiffValues(bo, type)[0];
    return found ? found.value || "" : "";
  }
  function setBody(element, bo, type, value) {
    var found = spiffValues(bo, type)[0];
    if (found) {
      if (value) modeling.updateModdleProperties(element, found, { value: value });
      else modeling.updateModdleProperties(element, bo.extensionElements, { values: bo.extensionElements.get("values").filter(function (v) { return v !== found; }) });
    } else if (value) {
      var ext = extensionsOf(element, bo);
      var made = moddle.create(type, { value: value });
      made.$parent = ext;
      modeling.updateModdleProperties(element, ext, { values: ext.get("values").concat([made]) });
    }
  }
  function expression(body) {
    return body ? moddle.create("bpmn:FormalExpression", { body: body }) : undefined;
  }

  // ---------- due times: "P3D" / "PT36H" / "P2W" <-> amount and unit ----------

  var DUE = /^"P(?:(\d+)(D|W)|T(\d+)H)"$/;
  function parseDue(text) {
    var m = DUE.exec((text || "").trim());
    if (!m) return null;
    return m[3] ? { amount: m[3], unit: "H" } : { amount: m[1], unit: m[2] };
  }
  function dueText(amount, unit) {
    if (!amount) return "";
    return unit === "H" ? '"PT' + amount + 'H"' : '"P' + amount + unit + '"';
  }

  // ---------- the side panel ----------

  function field(label, control, hint, id) {
    var wrap = el("div", { className: "field" }, [el("label", { "for": id, text: label }), control]);
    if (hint) {
      wrap.appendChild(el("p", { className: "hint", id: id + "-hint", text: hint }));
      control.setAttribute("aria-describedby", id + "-hint");
    }
    return wrap;
  }
  function input(id, value, onChange, attrs) {
    var node = el("input", Object.assign({ id: id, name: id, value: value || "" }, attrs || {}));
    node.value = value || "";
    node.addEventListener("change", function () { onChange(node.value.trim()); });
    return node;
  }
  function textarea(id, value, onChange, rows) {
    var node = el("textarea", { id: id, name: id, rows: String(rows || 4), spellcheck: "false", className: "code" });
    node.value = value || "";
    node.addEventListener("change", function () { onChange(node.value); });
    return node;
  }
  function select(id, options, value, onChange) {
    var node = el("select", { id: id, name: id });
    options.forEach(function (o) {
      var opt = el("option", { value: o[0], text: o[1] });
      if (o[0] === value) opt.selected = true;
      node.appendChild(opt);
    });
    node.addEventListener("change", function () { onChange(node.value); });
    return node;
  }

  function messagesInFile() {
    var defs = modeler.getDefinitions();
    return (defs.get("rootElements") || []).filter(function (r) { return is(r, "bpmn:Message"); });
  }
  function messageNamed(name) {
    var found = messagesInFile().filter(function (m) { return m.name === name; })[0];
    if (found || !name) return found;
    var defs = modeler.getDefinitions();
    var made = modeler.get("bpmnFactory").create("bpmn:Message", { name: name });
    made.$parent = defs;
    modeling.updateModdleProperties(canvas.getRootElement(), defs, { rootElements: defs.get("rootElements").concat([made]) });
    return made;
  }

  function render(element) {
    panel.textContent = "";
    if (element && element.type === "label") element = element.labelTarget;
    if (!element) {
      panel.appendChild(el("p", { className: "muted", text: "Select a step, lane, path or event to see what the engine reads of it." }));
      processFields();
      disableIfReadOnly();
      return;
    }
    var bo = element.businessObject;
    panel.appendChild(el("h2", { text: (bo.name || bo.id) }));
    panel.appendChild(el("p", { className: "muted", text: bo.$type.replace("bpmn:", "") + " · " + bo.id }));
    if (!cfg.editable) {
      panel.appendChild(el("p", { className: "notice", text: "This draft cannot be changed now (it is submitted, published or not yours)." }));
    }
    if (bo.$type !== "bpmn:Process" && bo.$type !== "bpmn:Collaboration") {
      panel.appendChild(field("Name", input("p-name", bo.name, function (v) { modeling.updateLabel(element, v); }), null, "p-name"));
    }
    if (is(bo, "bpmn:Lane")) laneFields(element, bo);
    if (is(bo, "bpmn:UserTask")) userTaskFields(element, bo);
    if (is(bo, "bpmn:ScriptTask")) {
      panel.appendChild(field("Script (Python)", textarea("p-script", bo.script, function (v) {
        modeling.updateProperties(element, { script: v, scriptFormat: bo.scriptFormat || "python" });
      }, 10), "Runs in the sandbox: no imports, no names starting with _. Helpers: record_score, set_risk_level, now, add_days…", "p-script"));
    }
    if (is(bo, "bpmn:BusinessRuleTask")) {
      panel.appendChild(field("Decision table", input("p-decision", getBody(bo, "spiffworkflow:CalledDecisionId"), function (v) {
        setBody(element, bo, "spiffworkflow:CalledDecisionId", v);
      }), "The id of a decision in one of the library's .dmn files.", "p-decision"));
    }
    if (is(bo, "bpmn:SequenceFlow")) flowFields(element, bo);
    (bo.eventDefinitions || []).forEach(function (def, i) {
      if (is(def, "bpmn:TimerEventDefinition")) timerFields(element, def, i);
      if (is(def, "bpmn:MessageEventDefinition")) messageFields(element, def, def, i);
    });
    if (is(bo, "bpmn:ReceiveTask") || is(bo, "bpmn:SendTask")) messageFields(element, bo, null, 0);
    disableIfReadOnly();
  }

  function disableIfReadOnly() {
    Array.prototype.forEach.call(panel.querySelectorAll("input, select, textarea"), function (c) { c.disabled = !cfg.editable; });
  }

  // With nothing selected: the process(es) of the file. Carepath runs the one executable process, whose id is
  // the file's name; diagrams from other tools often need one of these two set.
  function processFields() {
    var root = canvas.getRootElement(), rbo = root && root.businessObject;
    if (!rbo) return;  // before a diagram is imported the canvas has only an implicit root
    var processes = is(rbo, "bpmn:Process") ? [rbo] :
      (rbo.get ? rbo.get("participants") || [] : []).map(function (p) { return p.processRef; }).filter(Boolean);
    var stem = cfg.file.replace(/\.bpmn$/, "");
    panel.appendChild(el("h2", { text: "The pathway" }));
    processes.forEach(function (proc, i) {
      var group = el("fieldset", { className: "due" }, [el("legend", { text: proc.name || proc.id })]);
      group.appendChild(field("Process id", input("p-process-" + i, proc.id, function (v) {
        if (v) modeling.updateModdleProperties(root, proc, { id: v });
      }), "Carepath runs the process whose id is the file's name: " + stem + ".", "p-process-" + i));
      var box = el("input", { id: "p-executable-" + i, type: "checkbox" });
      box.checked = !!proc.isExecutable;
      box.addEventListener("change", function () { modeling.updateModdleProperties(root, proc, { isExecutable: box.checked }); });
      group.appendChild(el("div", { className: "choice" }, [box, el("label", { "for": "p-executable-" + i, text: "Carepath runs this process (executable)" })]));
      panel.appendChild(group);
    });
  }

  function laneFields(element, bo) {
    var role = roleOf(bo.name);
    var options = [["", "(choose the role)"]].concat(cfg.roles.map(function (r) { return [r, roleLabel(r)]; }));
    if (role && cfg.roles.indexOf(role) < 0) options.push([role, bo.name + " (not a Carepath role)"]);
    panel.appendChild(field("Role", select("p-role", options, role, function (v) {
      modeling.updateProperties(element, { name: v ? roleLabel(v) : "" });
    }), "Every user task in this lane goes to this role's inbox.", "p-role"));
  }

  function userTaskFields(element, bo) {
    var lane = (bo.lanes || [])[0];
    panel.appendChild(el("p", {}, [el("strong", { text: "Role: " }),
      document.createTextNode(lane ? roleLabel(roleOf(lane.name)) + " (from its lane)" : "none: put the task in a lane")]));
    var form = getProperty(bo, "formJsonSchemaFilename");
    var forms = cfg.forms.slice();
    if (form && forms.indexOf(form) < 0) forms.push(form);
    panel.appendChild(field("Form", select("p-form", [["", "(no form)"]].concat(forms.map(function (f) { return [f, f]; })), form,
      function (v) { setProperty(element, "formJsonSchemaFilename", v); }), "What the person fills in to complete the task.", "p-form"));
    var due = getProperty(bo, "dueIn"), parsed = parseDue(due);
    var group = el("fieldset", { className: "due" }, [el("legend", { text: "Due" })]);
    var amount = el("input", { id: "p-due-amount", name: "p-due-amount", type: "number", min: "0", inputmode: "numeric" });
    amount.value = parsed ? parsed.amount : "";
    var unit = select("p-due-unit", [["H", "hours"], ["D", "days"], ["W", "weeks"]], parsed ? parsed.unit : "D", apply);
    var raw = input("p-due", due, function (v) { setProperty(element, "dueIn", v); render(element); });
    function apply() { setProperty(element, "dueIn", dueText(amount.value.trim(), unit.value)); raw.value = getProperty(bo, "dueIn"); }
    amount.addEventListener("change", apply);
    group.appendChild(el("div", { className: "due-row" }, [el("label", { "for": "p-due-amount", className: "visually-hidden", text: "Due in" }),
      amount, el("label", { "for": "p-due-unit", className: "visually-hidden", text: "Unit" }), unit, el("span", { text: " after the task opens" })]));
    group.appendChild(field("Due time as the engine reads it", raw,
      'An expression: a quoted ISO 8601 duration ("P10D"), or a date from the task data (handover["assessment_due"]).', "p-due"));
    panel.appendChild(group);
  }

  function flowFields(element, bo) {
    var source = bo.sourceRef;
    if (!is(source, "bpmn:ExclusiveGateway") && !is(source, "bpmn:InclusiveGateway")) return;
    var isDefault = source.default === bo;
    panel.appendChild(field("Condition (Python)", textarea("p-condition", bo.conditionExpression ? bo.conditionExpression.body : "", function (v) {
      modeling.updateProperties(element, { conditionExpression: expression(v.trim()) });
    }, 3), "True over the task data to take this path, e.g. referral[\"urgency\"] == \"emergent\".", "p-condition"));
    var box = el("input", { id: "p-default", type: "checkbox" });
    box.checked = isDefault;
    box.addEventListener("change", function () {
      var gateway = registry.get(source.id);
      modeling.updateProperties(gateway, { "default": box.checked ? bo : undefined });
    });
    panel.appendChild(el("div", { className: "choice" }, [box, el("label", { "for": "p-default", text: "The default path (taken when no condition holds)" })]));
  }

  function timerFields(element, def, i) {
    var kinds = [["timeDuration", "after a duration"], ["timeDate", "at a date"], ["timeCycle", "repeatedly"]];
    var kind = kinds.map(function (k) { return k[0]; }).filter(function (k) { return def[k]; })[0] || "timeDuration";
    var value = def[kind] ? def[kind].body : "";
    function write(k, v) {
      var props = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
      props[k] = expression(v);
      modeling.updateModdleProperties(element, def, props);
    }
    var kindSelect = select("p-timer-kind-" + i, kinds, kind, function (k) { write(k, exprInput.value.trim()); });
    var exprInput = input("p-timer-" + i, value, function (v) { write(kindSelect.value, v); });
    panel.appendChild(field("Timer fires", kindSelect, null, "p-timer-kind-" + i));
    panel.appendChild(field("Timer expression (Python)", exprInput, 'Quote literal values: "P30D", "PT24H"; or build them: "P" + str(days) + "D".', "p-timer-" + i));
  }

  function messageFields(element, holder, def, i) {
    var current = holder.messageRef ? holder.messageRef.name : "";
    var names = cfg.messages.slice();
    messagesInFile().forEach(function (m) { if (m.name && names.indexOf(m.name) < 0) names.push(m.name); });
    if (current && names.indexOf(current) < 0) names.push(current);
    names.sort();
    var options = [["", "(no message)"]].concat(names.map(function (n) { return [n, n]; }));
    panel.appendChild(field("Message", select("p-message-" + i, options, current, function (v) {
      modeling.updateModdleProperties(element, holder, { messageRef: messageNamed(v) });
    }), "Messages hand a case from one pathway to another; these are the names the library uses.", "p-message-" + i));
    panel.appendChild(field("Or a new message name", input("p-message-new-" + i, "", function (v) {
      if (v) { modeling.updateModdleProperties(element, holder, { messageRef: messageNamed(v) }); render(element); }
    }, { pattern: "[a-z][a-z0-9_]*" }), "lowercase_with_underscores", "p-message-new-" + i));
    var bo = element.businessObject;
    var throwing = def && (is(bo, "bpmn:IntermediateThrowEvent") || is(bo, "bpmn:EndEvent"));
    if (throwing) {
      panel.appendChild(field("Payload (Python)", textarea("p-payload-" + i, getBody(def, "spiffworkflow:MessagePayload"), function (v) {
        setBody(element, def, "spiffworkflow:MessagePayload", v.trim());
      }, 3), "What the receiving pathway gets, e.g. {\"reason\": crisis_reason}.", "p-payload-" + i));
    }
  }

  // ---------- findings on the diagram ----------

  function mark(findings) {
    marked.forEach(function (m) { canvas.removeMarker(m[0], m[1]); });
    marked = [];
    (findings || []).forEach(function (f) {
      if (f.element && registry.get(f.element)) {
        var cls = f.severity === "error" ? "has-error" : "has-warning";
        canvas.addMarker(f.element, cls);
        marked.push([f.element, cls]);
      }
    });
  }
  function show(f) {
    var target = registry.get(f.element);
    if (!target) return;
    selection.select(target);
    canvas.scrollToElement(target);
  }

  function save() {
    var mine = function (f) { return f.file === cfg.file; };
    C.save(function () {
      return modeler.saveXML({ format: true }).then(function (result) {
        var files = {};
        files[cfg.file] = result.xml;
        return files;
      });
    }, findingsBox, {
      order: function (all) { return all.filter(mine).concat(all.filter(function (f) { return !mine(f); })); },
      onShow: show,
      after: function (data) { mark((data.refused || []).concat((data.findings || []).filter(mine))); }
    }).then(function (saved) { if (saved) dirty = false; });
  }

  // Fit the whole pathway in view, but never so small that its labels cannot be read: then start at its left.
  function readableZoom() {
    canvas.zoom("fit-viewport");
    if (canvas.zoom() < 0.75) {
      var box = canvas.viewbox();
      canvas.viewbox({ x: box.inner.x - 80, y: box.inner.y - 40, width: box.outer.width / 0.8,
        height: box.outer.height / 0.8 });
    }
  }

  modeler.importXML(cfg.text).then(function (result) {
    readableZoom();
    if (result.warnings && result.warnings.length) {
      C.status(result.warnings.length + " part(s) of this file could not be drawn; they are kept as they are.");
    }
    C.showFindings(findingsBox, [], cfg.findings, show, true);
    mark(cfg.findings);
    var wanted = decodeURIComponent((location.hash || "").slice(1));
    if (wanted && registry.get(wanted)) show({ element: wanted });
    else render(null);
    document.body.setAttribute("data-editor-ready", "true");
  }).catch(function (error) {
    C.status("This diagram cannot be opened in the editor: " + error.message, true);
    if (window.console) console.error(error);
    document.body.setAttribute("data-editor-ready", "error");
  });

  modeler.on("selection.changed", function (e) { render(e.newSelection.length === 1 ? e.newSelection[0] : null); });
  modeler.on("commandStack.changed", function () {
    dirty = true;
    C.status("Unsaved changes.");
    var selected = selection.get();
    if (selected.length === 1 && !panel.contains(document.activeElement)) render(selected[0]);
  });
  document.getElementById("save").addEventListener("click", save);
  window.addEventListener("beforeunload", function (e) { if (dirty) { e.preventDefault(); e.returnValue = ""; } });
  window.carepathModeler = modeler;
})();
