// window.BpmnModeler: bpmn-js's Modeler (palette, context pad, direct editing; modeling API as a service).
import Modeler from 'bpmn-js/lib/Modeler';

globalThis.BpmnModeler = Modeler;
