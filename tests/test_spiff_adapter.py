"""The SpiffWorkflow adapter (carepath.engine.spiff): each use of something SpiffWorkflow does not publish
as an API is pinned here against real SpiffWorkflow, so an upgrade that changes one fails loudly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bpmn_fixtures import HEAD, NOTE_FORM, pathway, timer_then_end, user_task

from carepath.engine import library, spiff
from carepath.engine.clock import step_time
from carepath.engine.pathway_files import FileSet
from carepath.engine.sandbox import StepScriptEngine

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ENGINE = StepScriptEngine(2.0)

# A user task, then an event-based gateway waiting for a message or a two-day timer.
GATEWAY = (
    HEAD + '<bpmn:message id="m" name="called_back"/>'
    '<bpmn:process id="waits" isExecutable="true">'
    '<bpmn:laneSet id="ls"><bpmn:lane id="lane" name="Case Manager">'
    "<bpmn:flowNodeRef>first</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>"
    '<bpmn:startEvent id="start"/>' + user_task("first", "First step") + '<bpmn:eventBasedGateway id="gw"/>'
    '<bpmn:intermediateCatchEvent id="msg"><bpmn:messageEventDefinition messageRef="m"/>'
    "</bpmn:intermediateCatchEvent>"
    '<bpmn:intermediateCatchEvent id="timer"><bpmn:timerEventDefinition>'
    '<bpmn:timeDuration>"P2D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
    '<bpmn:endEvent id="end1"/><bpmn:endEvent id="end2"/>'
    '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="first"/>'
    '<bpmn:sequenceFlow id="f1" sourceRef="first" targetRef="gw"/>'
    '<bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="msg"/>'
    '<bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="timer"/>'
    '<bpmn:sequenceFlow id="f4" sourceRef="msg" targetRef="end1"/>'
    '<bpmn:sequenceFlow id="f5" sourceRef="timer" targetRef="end2"/>'
    "</bpmn:process></bpmn:definitions>\n"
)


def _workflow(process_id: str, bpmn: str):
    built = library.build(FileSet({f"{process_id}.bpmn": bpmn, "note.schema.json": NOTE_FORM}))
    spec, subs = spiff.load_spec(built[0].spec)
    with step_time(T0):
        wf = spiff.BpmnWorkflow(spec, subs, script_engine=ENGINE)
        wf.do_engine_steps()
    return wf, spec, subs


def _complete_first(wf, at: datetime = T0) -> None:
    task = spiff.ready_user_tasks(wf)[0]
    task.data["note"] = {"text": "done"}
    with step_time(at):
        task.run()
        wf.do_engine_steps()


def test_an_instance_is_saved_without_its_spec_and_loaded_onto_the_shared_one():
    wf, spec, subs = _workflow("waits", GATEWAY)
    state = spiff.dump_instance(wf)
    assert "spec" not in state and "subprocess_specs" not in state
    loaded = spiff.load_instance(state, spec, subs)
    assert loaded.spec is spec  # the cached spec object, not a rebuilt copy
    assert [t.task_spec.bpmn_id for t in spiff.ready_user_tasks(loaded)] == ["first"]


def test_the_step_clock_decides_when_a_spiff_timer_is_due():
    wf, _spec, _subs = _workflow("waits", GATEWAY)
    _complete_first(wf)
    assert spiff.next_timer_due(wf) == T0 + timedelta(days=2)
    with step_time(T0 + timedelta(days=1)):
        wf.refresh_timers()
        wf.do_engine_steps()
    assert not wf.is_completed()
    with step_time(T0 + timedelta(days=2, seconds=1)):
        wf.refresh_timers()
        wf.do_engine_steps()
    assert wf.is_completed()


def test_an_event_based_gateway_waits_for_each_of_its_events_by_name():
    wf, _spec, _subs = _workflow("waits", GATEWAY)
    _complete_first(wf)
    assert spiff.message_waits(wf) == {"called_back"}
    assert spiff.next_timer_due(wf) == T0 + timedelta(days=2)
    assert len(list(spiff.waiting(wf))) == 2


def test_a_caught_message_moves_the_workflow_on_and_a_thrown_one_is_reported():
    wf, _spec, _subs = _workflow("waits", GATEWAY)
    _complete_first(wf)
    with step_time(T0):
        spiff.catch_message(wf, "called_back", {"by": "phone"})
        wf.do_engine_steps()
    assert wf.is_completed()
    thrower = (
        HEAD + '<bpmn:message id="m" name="done_here"/><bpmn:process id="throws" isExecutable="true">'
        '<bpmn:laneSet id="ls"><bpmn:lane id="lane" name="Case Manager"><bpmn:flowNodeRef>first'
        '</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet><bpmn:startEvent id="start"/>'
        + user_task("first", "First step")
        + '<bpmn:endEvent id="end"><bpmn:messageEventDefinition messageRef="m"/></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="first"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="first" targetRef="end"/></bpmn:process></bpmn:definitions>'
    )
    wf, _spec, _subs = _workflow("throws", thrower)
    _complete_first(wf)
    assert spiff.thrown_messages(wf) == [("done_here", {})]


def test_a_duration_timer_is_found_after_a_save_and_load():
    wf, spec, subs = _workflow("timed", pathway("timed", after=timer_then_end('"PT36H"')))
    _complete_first(wf)
    loaded = spiff.load_instance(spiff.dump_instance(wf), spec, subs)
    assert spiff.next_timer_due(loaded) == T0 + timedelta(hours=36)


def test_the_installed_spiffworkflow_is_the_release_these_internals_were_checked_against():
    assert spiff.installed_release() == spiff.CHECKED_RELEASE
