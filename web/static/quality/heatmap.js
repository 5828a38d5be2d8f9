/* Pathway heat map: draw the pathway with bpmn-js's viewer, shade each step by how often it was reached, and put
   its figures (reached, median wait, share late) on it; a flow into a step with one way in carries its count.
   The figures come from the page (#heat-data), the diagram from the library's file route. */
(function () {
  "use strict";

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "";
    var units = [["d", 86400], ["h", 3600], ["m", 60]];
    for (var i = 0; i < units.length; i++) {
      if (seconds >= units[i][1]) return Math.round(seconds / units[i][1] * 10) / 10 + units[i][0];
    }
    return Math.round(seconds) + "s";
  }

  function badge(heat) {
    var el = document.createElement("div");
    el.className = "heat-badge";
    var text = heat.reached + "×";
    if (heat.median_wait_seconds !== null) text += " · " + duration(heat.median_wait_seconds);
    el.appendChild(document.createTextNode(text));
    if (heat.late_share !== null && heat.late > 0) {
      var late = document.createElement("span");
      late.className = "late";
      late.textContent = " · " + Math.round(heat.late_share * 100) + "% late";
      el.appendChild(late);
    }
    el.title = heat.reached + " reached, " + heat.completed + " completed" +
      (heat.median_wait_seconds !== null ? ", median wait " + duration(heat.median_wait_seconds) : "") +
      (heat.late_share !== null ? ", " + Math.round(heat.late_share * 100) + "% completed late" : "");
    return el;
  }

  function draw(container, data, xml) {
    var viewer = new window.BpmnViewer({ container: container });
    return viewer.importXML(xml).then(function () {
      var registry = viewer.get("elementRegistry"), overlays = viewer.get("overlays"), canvas = viewer.get("canvas");
      var most = Math.max(1, data.most_reached), badges = 0;
      Object.keys(data.elements).forEach(function (id) {
        var heat = data.elements[id], shape = registry.get(id);
        if (!shape || heat.reached === 0) return;
        canvas.addMarker(id, "heat-" + Math.max(1, Math.ceil(4 * heat.reached / most)));
        if (heat.late_share !== null && heat.late_share > 0.25) canvas.addMarker(id, "heat-late");
        overlays.add(id, "heat", { position: { bottom: 4, left: 0 }, html: badge(heat) });
        badges++;
      });
      registry.filter(function (e) { return e.type === "bpmn:SequenceFlow"; }).forEach(function (flow) {
        var target = flow.target, heat = target && data.elements[target.id];
        if (!heat || heat.reached === 0 || (target.incoming || []).length !== 1) return;
        var points = flow.waypoints, mid = points[Math.floor((points.length - 1) / 2)];
        var count = document.createElement("span");
        count.className = "flow-count";
        count.textContent = String(heat.reached);
        overlays.add(flow.id, "flow-count", { position: { left: mid.x - flow.x, top: mid.y - flow.y - 10 }, html: count });
      });
      canvas.zoom("fit-viewport");
      container.setAttribute("data-badges", String(badges));
      container.setAttribute("data-drawn", "true");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var container = document.getElementById("heatmap"), source = document.getElementById("heat-data");
    if (!container || !source) return;
    var data = JSON.parse(source.textContent);
    fetch(container.getAttribute("data-bpmn-url"), { credentials: "same-origin" })
      .then(function (resp) { if (!resp.ok) throw new Error("status " + resp.status); return resp.text(); })
      .then(function (xml) { return draw(container, data, xml); })
      .catch(function (error) {
        container.setAttribute("data-drawn", "error");
        var note = document.createElement("p");
        note.className = "muted";
        note.textContent = "The diagram cannot be drawn (" + (error.message || error) + "); the figures are in the table below.";
        container.appendChild(note);
      });
  });
})();
