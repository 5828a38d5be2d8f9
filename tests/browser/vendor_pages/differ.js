// Comparing two pathway versions with window.BpmnDiffer: parse both with BpmnModdle, then diff the definitions.
(async function () {
  try {
    const moddle = new BpmnDiffer.BpmnModdle();
    const texts = await Promise.all(['workflows/intake.bpmn', 'workflows/intake-modified.bpmn']
      .map(async (url) => (await fetch(url)).text()));
    const [before, after] = await Promise.all(texts.map((xml) => moddle.fromXML(xml)));
    const changes = BpmnDiffer.diff(before.rootElement, after.rootElement);
    const changed = {};
    for (const [id, change] of Object.entries(changes._changed)) changed[id] = change.attrs;
    window.result = {
      changed: changed,
      added: Object.keys(changes._added),
      removed: Object.keys(changes._removed),
      layoutChanged: Object.keys(changes._layoutChanged),
    };
  } catch (error) {
    window.result = { error: String(error && error.stack || error) };
  }
})();
