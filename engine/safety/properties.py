"""Properties a pathway declares on its BPMN process (`spiffworkflow:properties` on `bpmn:process`).

SpiffWorkflow keeps extension properties of tasks, not of processes, so we read them from the published
BPMN text, once per distinct text. Two properties matter to the runtime:

- `safetyWork`: `safety_plan`, `crisis` or `follow_up`. While an instance of such a pathway runs, the case
  has open safety work: closing the case waits for it (or a supervisor decides), risk cannot be lowered,
  and when the last such instance of a case ends the engine sends `safety_work_done` to the case.
- `joinOpenInstance`: `true` makes the pathway one-per-case: a start message arriving while an instance
  of it runs in the case joins that instance instead of starting a second one.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from lxml import etree

from ..pathway_files import xpath_elements

if TYPE_CHECKING:
    from ..library import LoadedPathway

SAFETY_WORK = "safetyWork"
SAFETY_KINDS = ("safety_plan", "crisis", "follow_up")
JOIN_OPEN_INSTANCE = "joinOpenInstance"

_NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}


@lru_cache(maxsize=256)
def _parse(bpmn_text: str) -> tuple[tuple[str, str], ...]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(bpmn_text.encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        return ()
    xp = "bpmn:process/bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
    return tuple((name, p.get("value") or "") for p in xpath_elements(root, xp, _NS) if (name := p.get("name")))


def process_properties(sources: dict[str, str] | None, process_id: str) -> dict[str, str]:
    """The process-level properties of a published pathway (its sources hold `<process_id>.bpmn`)."""
    text = (sources or {}).get(f"{process_id}.bpmn")
    return dict(_parse(text)) if text else {}


def safety_kind(loaded: LoadedPathway) -> str | None:
    """`safety_plan`, `crisis`, `follow_up` or None, for a LoadedPathway."""
    kind = process_properties(loaded.sources, loaded.process_id).get(SAFETY_WORK, "").strip()
    return kind if kind in SAFETY_KINDS else None


def joins_open_instance(loaded: LoadedPathway) -> bool:
    value = process_properties(loaded.sources, loaded.process_id).get(JOIN_OPEN_INSTANCE, "")
    return value.strip().lower() == "true"
