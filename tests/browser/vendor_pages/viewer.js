// The heat map's way of using window.BpmnViewer: render a pathway, then draw a count on a task.
(async function () {
  try {
    const viewer = new BpmnViewer({ container: '#canvas' });
    const xml = await (await fetch('workflows/intake.bpmn')).text();
    const { warnings } = await viewer.importXML(xml);
    viewer.get('canvas').zoom('fit-viewport');
    const badge = document.createElement('span');
    badge.className = 'heat-count';
    badge.textContent = '12';
    const overlayId = viewer.get('overlays').add('record_referral', 'heat', { position: { top: -8, right: 8 }, html: badge });
    viewer.get('canvas').addMarker('record_referral', 'heat-high');
    window.viewer = viewer;
    window.result = { warnings: warnings.map(String), overlayId: overlayId };
  } catch (error) {
    window.result = { error: String(error && error.stack || error) };
  }
})();
