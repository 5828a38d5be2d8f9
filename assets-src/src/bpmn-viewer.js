// window.BpmnViewer: bpmn-js's NavigatedViewer (zoom and pan; overlays, canvas, elementRegistry as services).
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

globalThis.BpmnViewer = NavigatedViewer;
