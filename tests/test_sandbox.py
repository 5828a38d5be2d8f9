"""Scripts, conditions and timer expressions in a diagram cannot reach the machine.

Each hostile diagram is first refused by the library's checks (`carepath pathways validate` finds it,
with file and line). Then it is forced past those checks into the database, as if someone had got it
there: the runtime's sandbox must still refuse it, fail the step with a clear message, and leave
everything as it was (the task still open, no file written, no half-written state).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import bpmn_fixtures as bf
import pytest

from carepath.engine import library
from carepath.engine.errors import PathwayFailed, PathwayInvalid
from carepath.engine.models import Event, PathwayInstance


def _marker(tmp_path: Path) -> Path:
    return tmp_path / f"pwned-{uuid.uuid4().hex}"


def _escapes(marker: Path) -> dict[str, str]:
    m = str(marker)
    return {
        "dunder import": f"__import__('os').system('touch {m}')",
        "subclasses walk": (
            f"[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0](['touch', '{m}'])"
        ),
        "os.system": f"os.system('touch {m}')",
        "getattr dunder": "getattr(getattr((), '__class__'), '__base__')",
        "format escape": "'{0.__class__.__base__}'.format(1)",
        "open a file": f"open('{m}', 'w').write('x')",
    }


def _wrap(kind: str, code: str) -> str:
    if kind == "script":
        return bf.script_then_end(f"result = {code}")
    if kind == "condition":
        return bf.condition_then_end(code)
    return bf.timer_then_end(code)


KINDS = ["script", "condition", "timer"]
# Refused by RestrictedPython's compiler; the others are stopped by the sandbox's guards at run time.
COMPILE_REFUSED = {"dunder import", "subclasses walk"}


@pytest.mark.parametrize("kind", KINDS)
def test_library_refuses_hostile_code_with_file_and_line(kind, tmp_path):
    for label, code in _escapes(_marker(tmp_path)).items():
        if label not in COMPILE_REFUSED:
            continue  # plain names and calls: they compile, and fail at run time (below)
        fs = bf.files(hostile=bf.pathway("hostile", after=_wrap(kind, code), start_message="go"))
        with pytest.raises(PathwayInvalid) as refused:
            library.build(fs)
        finding = refused.value.findings[0]
        assert finding.file == "hostile.bpmn" and finding.line, f"{kind}/{label}: {finding}"
        assert "refused by the sandbox" in finding.message, f"{kind}/{label}: {finding.message}"


@pytest.mark.parametrize("kind", KINDS)
def test_runtime_sandbox_holds_when_checks_are_bypassed(kind, cp, driver, actors, tmp_path):
    for label, code in _escapes(marker := _marker(tmp_path)).items():
        case_id = driver.new_case()
        process_id = f"hostile_{kind}_{abs(hash(label)) % 10**6}"
        fs = bf.files(**{process_id: bf.pathway(process_id, after=_wrap(kind, code), start_message=f"go_{process_id}")})
        bf.publish_unchecked(cp, fs, process_id)
        cp.deliver_message(actors["case_manager"], case_id, f"go_{process_id}", {})
        task = driver.task(case_id, "first")
        with cp.db() as session:
            before = session.get(PathwayInstance, task.instance_id).state
            events_before = session.query(Event).count()
        with pytest.raises(PathwayFailed) as failed:
            cp.complete_task(actors["case_manager"], task.id, {"text": "go on"})
        assert "Nothing was saved" in failed.value.message
        assert not marker.exists(), f"{kind}/{label} escaped the sandbox"
        with cp.db() as session:
            assert session.get(PathwayInstance, task.instance_id).state == before, f"{kind}/{label}: state changed"
            assert session.query(Event).count() == events_before
        assert driver.task(case_id, "first").id == task.id  # still open, still the same task


def test_endless_loop_stops_at_the_step_time_limit(cp, driver, actors):
    # A loop is legal Python: only the time limit stops it.
    case_id, task = bf.started(cp, driver, "spin", bf.script_then_end("n = 0\nwhile True:\n    n += 1"))
    with pytest.raises(PathwayFailed) as failed:
        cp.complete_task(actors["case_manager"], task.id, {"text": "go"})
    assert "time limit" in failed.value.message
    assert driver.task(case_id, "first").id == task.id


def test_ordinary_scripts_still_work_in_the_sandbox(cp, driver, actors):
    case_id = driver.new_case()
    script = (
        "items = [first_step['text'], 'b']\ncount = 0\nfor i, name in enumerate(items):\n    count += i\n"
        "summary = '%s:%d' % (items[0], count)\ntotals = {k: len(k) for k in items}\n"
        "due = add_business_days('2026-03-06T09:00:00+00:00', 1)"
    )
    fs = bf.files(calc=bf.pathway("calc", after=bf.script_then_end(script), start_message="go_calc"))
    fs.files["calc.bpmn"] = fs.files["calc.bpmn"].replace(
        'value="note.schema.json"/>',
        'value="note.schema.json"/><spiffworkflow:property name="dataKey" value="first_step"/>',
    )
    bf.publish(cp, fs)
    cp.deliver_message(actors["case_manager"], case_id, "go_calc", {})
    task = driver.task(case_id, "first")
    cp.complete_task(actors["case_manager"], task.id, {"text": "a"})
    with cp.db() as session:
        instance = session.get(PathwayInstance, task.instance_id)
        assert instance.status == "completed"
        data = instance.state["data"]
    assert data["summary"] == "a:1" and data["totals"] == {"a": 1, "b": 1}
    assert data["due"].startswith("2026-03-09T09:00")  # Friday + 1 business day = Monday


def test_a_value_that_cannot_be_saved_fails_the_step_cleanly(cp, driver, actors):
    case_id, task = bf.started(cp, driver, "odd", bf.script_then_end("odd = max"))
    cp.complete_task(actors["case_manager"], task.id, {"text": "go"})  # functions are simply not kept
    case_id, task = bf.started(cp, driver, "odder", bf.script_then_end("odd = range(3)"), case_id=case_id)
    with pytest.raises(PathwayFailed) as failed:
        cp.complete_task(actors["case_manager"], task.id, {"text": "go"})
    assert "cannot be saved" in failed.value.message
    assert driver.task(case_id, "first").id == task.id
