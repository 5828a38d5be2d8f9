// window.BpmnDiffer = {diff, BpmnModdle}: parse two BPMN XML documents with BpmnModdle, then diff their definitions.
import { diff } from 'bpmn-js-differ';
import { BpmnModdle } from 'bpmn-moddle';

globalThis.BpmnDiffer = { diff, BpmnModdle };
