/* Carepath pathway editors: what the BPMN, form and decision-table editors share. Reads the page's
   configuration (a JSON data block, not a script), saves files to the draft with the CSRF token, and lists
   what the engine found, each finding a button that shows its element. */
(function () {
  "use strict";

  function config() {
    var el = document.getElementById("editor-config");
    return el ? JSON.parse(el.textContent) : {};
  }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        return { status: resp.status, data: data };
      });
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  /* Findings as a list; `onShow(finding)` (optional) is called when the person asks to see one. */
  function showFindings(container, refused, findings, onShow, onLoad) {
    container.textContent = "";
    var all = (refused || []).map(function (f) { return Object.assign({ refused: true }, f); }).concat(findings || []);
    var errors = all.filter(function (f) { return f.severity === "error"; }).length;
    var text = refused && refused.length ? "Not saved: the engine refused this" :
      (errors ? errors + " error" + (errors === 1 ? "" : "s") + " to fix" :
        (all.length ? "Warnings to weigh" : "No problems found"));
    if (!(refused && refused.length)) text = onLoad ? "At the last save: " + text.charAt(0).toLowerCase() + text.slice(1) : "Saved. " + text;
    var heading = el("h2", { id: "findings-title", text: text });
    container.appendChild(heading);
    if (!all.length) return;
    var list = el("ul", { className: "findings" });
    all.forEach(function (f) {
      var where = f.file + (f.line ? ", line " + f.line : "") + (f.element ? ", element " + f.element : "");
      var item = el("li", { className: "finding finding-" + f.severity, "data-element": f.element || "" }, [
        el("span", { className: "badge" + (f.severity === "error" ? " overdue" : ""), text: f.refused ? "Refused" : (f.severity === "error" ? "Error" : "Warning") }),
        " ", el("span", { className: "where", text: where }), " ",
        el("span", { className: "message", text: f.message })
      ]);
      if (f.element && onShow) {
        var button = el("button", { type: "button", className: "link", text: "Show" });
        button.addEventListener("click", function () { onShow(f); });
        item.appendChild(button);
      }
      list.appendChild(item);
    });
    container.appendChild(list);
  }

  function saveFiles(files) {
    var cfg = config();
    return postJSON("/pathways/drafts/" + cfg.draft + "/save", { files: files });
  }

  /* Save `files` (or a function giving them, or a promise of them, called once a field being edited has
     applied its change) to the draft and report: the status line, the findings list
     (`order` may rearrange them, `onShow` shows one), then `after(data)` (to mark findings in the editor).
     Resolves true when the draft was written. */
  function save(files, box, options) {
    var opts = options || {};
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    status("Saving…");
    return Promise.resolve(typeof files === "function" ? files() : files).then(saveFiles).then(function (answer) {
      var data = answer.data || {};
      if (answer.status >= 400 && !data.refused) {
        status((data.error && data.error.message) || "Not saved.", true);
        return false;
      }
      var findings = opts.order ? opts.order(data.findings || []) : data.findings;
      showFindings(box, data.refused, findings, opts.onShow);
      if (opts.after) opts.after(data);
      if (data.saved) status("Saved to the draft at " + new Date().toLocaleTimeString() + ".");
      else status("Not saved: see why below.", true);
      return !!data.saved;
    }).catch(function (error) { status("Not saved: " + error, true); return false; });
  }

  function status(text, bad) {
    var node = document.getElementById("save-status");
    if (node) {
      node.textContent = text;
      node.className = "save-status" + (bad ? " error" : "");
    }
  }

  window.CarepathEditor = { config: config, postJSON: postJSON, el: el, showFindings: showFindings,
    saveFiles: saveFiles, save: save, status: status };
})();
