/* Pathway library pages: draw each diagram with bpmn-js's viewer, and where two versions are compared, colour
   what bpmn-js-differ finds (added, removed, changed, moved) on both diagrams and list it. */
(function () {
  "use strict";

  function fetchText(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (resp) {
      if (!resp.ok) throw new Error("could not load " + url + " (" + resp.status + ")");
      return resp.text();
    });
  }

  function show(container, xml) {
    var viewer = new window.BpmnViewer({ container: container });
    return viewer.importXML(xml).then(function () {
      fitHeight(viewer, container);
      container.setAttribute("data-drawn", "true");
      return viewer;
    }).catch(function (error) {
      container.setAttribute("data-drawn", "error");
      var note = document.createElement("p");
      note.className = "muted";
      note.textContent = "This diagram cannot be drawn (" + (error.message || error) + "); its files are still listed below.";
      container.appendChild(note);
      return null;
    });
  }

  // A wide pathway in a tall box draws tiny: give the box the diagram's proportions (within limits). The
  // height is set through the CSSOM, which the page's style policy allows (style attributes it does not).
  function fitHeight(viewer, container) {
    var canvas = viewer.get("canvas"), inner = canvas.viewbox().inner;
    if (inner.width > 0 && container.clientWidth > 0) {
      var height = Math.round(container.clientWidth * inner.height / inner.width) + 48;
      container.style.height = Math.max(200, Math.min(height, 560)) + "px";
      canvas.resized();
    }
    canvas.zoom("fit-viewport");
  }

  function describe(value) {
    if (value === undefined || value === null) return "(none)";
    if (typeof value !== "object") return String(value);
    if (value.body !== undefined) return value.body;
    if (value.name) return value.name;
    if (value.id) return value.id;
    return value.$type || JSON.stringify(value);
  }

  // bpmn-js-differ 3.2.0 gives a changed attribute's sides the wrong way round (oldValue holds the new value);
  // an attribute that only appeared has just newValue, and that one is right.
  function sides(change) {
    if (change.oldValue !== undefined && change.newValue !== undefined) return [change.newValue, change.oldValue];
    return [change.oldValue, change.newValue];
  }

  function label(element, id) {
    var name = element && element.name ? element.name : id;
    var type = element && element.$type ? element.$type.replace("bpmn:", "") + ", " : "";
    return name + " (" + type + id + ")";
  }

  function item(kind, text, details) {
    var li = document.createElement("li");
    var badge = document.createElement("span");
    badge.className = "badge change-" + kind;
    badge.textContent = kind;
    li.appendChild(badge);
    li.appendChild(document.createTextNode(" " + text));
    if (details && details.length) {
      var ul = document.createElement("ul");
      details.forEach(function (d) { var sub = document.createElement("li"); sub.textContent = d; ul.appendChild(sub); });
      li.appendChild(ul);
    }
    return li;
  }

  function mark(viewer, ids, cls) {
    if (!viewer) return;
    var registry = viewer.get("elementRegistry"), canvas = viewer.get("canvas");
    ids.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, cls); });
  }

  function compare(section) {
    var canvases = section.querySelectorAll(".diagram-canvas");
    var list = section.querySelector(".diff-list");
    Promise.all([fetchText(section.getAttribute("data-before-url")), fetchText(section.getAttribute("data-after-url"))])
      .then(function (texts) {
        var moddle = new window.BpmnDiffer.BpmnModdle();
        return Promise.all([show(canvases[0], texts[0]), show(canvases[1], texts[1]),
          moddle.fromXML(texts[0]), moddle.fromXML(texts[1])]);
      }).then(function (r) {
        var before = r[0], after = r[1];
        var changes = window.BpmnDiffer.diff(r[2].rootElement, r[3].rootElement);
        var added = Object.keys(changes._added), removed = Object.keys(changes._removed);
        var changed = Object.keys(changes._changed), moved = Object.keys(changes._layoutChanged)
          .filter(function (id) { return changed.indexOf(id) < 0; });
        mark(after, added, "diff-added");
        mark(before, removed, "diff-removed");
        mark(before, changed, "diff-changed");
        mark(after, changed, "diff-changed");
        mark(after, moved, "diff-moved");
        list.textContent = "";
        var heading = document.createElement("h3");
        heading.textContent = "Diagram changes (bpmn-js-differ)";
        list.appendChild(heading);
        var ul = document.createElement("ul");
        added.forEach(function (id) { ul.appendChild(item("added", label(changes._added[id], id))); });
        removed.forEach(function (id) { ul.appendChild(item("removed", label(changes._removed[id], id))); });
        changed.forEach(function (id) {
          var entry = changes._changed[id];
          var details = Object.keys(entry.attrs || {}).map(function (attr) {
            var s = sides(entry.attrs[attr]);
            return attr + ": " + describe(s[0]) + " → " + describe(s[1]);
          });
          ul.appendChild(item("changed", label(entry.model, id), details));
        });
        moved.forEach(function (id) { ul.appendChild(item("moved", id + " (layout only)")); });
        if (!ul.children.length) {
          var none = document.createElement("p");
          none.textContent = "The diagrams are the same.";
          list.appendChild(none);
        } else {
          list.appendChild(ul);
        }
        section.setAttribute("data-compared", "true");
      }).catch(function (error) {
        list.textContent = "The diagrams could not be compared: " + (error.message || error);
        section.setAttribute("data-compared", "error");
      });
  }

  document.querySelectorAll(".diagram-diff").forEach(compare);
  document.querySelectorAll(".diagram-canvas[data-bpmn-url]").forEach(function (container) {
    if (container.closest(".diagram-diff")) return;
    fetchText(container.getAttribute("data-bpmn-url")).then(function (xml) { return show(container, xml); })
      .catch(function (error) { container.textContent = String(error.message || error); });
  });
})();
