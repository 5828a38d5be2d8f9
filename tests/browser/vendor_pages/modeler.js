// The pathway editor's way of using window.BpmnModeler: import, edit through the modeling API, export.
(async function () {
  try {
    const modeler = new BpmnModeler({ container: '#canvas' });
    const xml = await (await fetch('workflows/intake.bpmn')).text();
    const { warnings } = await modeler.importXML(xml);
    modeler.get('canvas').zoom('fit-viewport');
    const task = modeler.get('elementRegistry').get('record_referral');
    modeler.get('modeling').updateProperties(task, { name: 'Record the referral and its urgency' });
    const saved = await modeler.saveXML({ format: true });
    window.modeler = modeler;
    window.result = { warnings: warnings.map(String), xml: saved.xml };
  } catch (error) {
    window.result = { error: String(error && error.stack || error) };
  }
})();
