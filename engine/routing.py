"""Message routing within a case: a message thrown by one pathway instance (or sent by a person) goes, in the
same step and transaction, to the case's instances waiting for it and to every current pathway version whose
start event catches it. Part of the Runtime (a mixin), kept apart because it is its own concern: who receives a
message, in what order, and when a chain of hand-overs has become a loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Select, Table, select

from .errors import PathwayFailed
from .library import SpecCache
from .models import MessageWait, PathwayInstance, PathwayVersion
from .projection import Live
from .safety import case_work
from .spiff import catch_message, message_waits
from .states import InstanceStatus, Lifecycle

if TYPE_CHECKING:
    from .runtime import _Step

# A message chain longer than this in one step is a loop between pathways, not care.
MAX_DELIVERIES_PER_STEP = 50


_VERSIONS = cast(Table, PathwayVersion.__table__)
# Built once: every message a step routes asks it (the version rows' other columns are not needed).
_CURRENT_STARTS = select(_VERSIONS.c.id, _VERSIONS.c.start_messages).where(_VERSIONS.c.is_current.is_(True))


class MessageRouting(ABC):
    """Delivers a step's messages. The Runtime provides loading, starting and running instances."""

    specs: SpecCache

    @abstractmethod
    def _load(self, step: _Step, instance_id: int) -> Live: ...

    @abstractmethod
    def _start_instance(self, step: _Step, version_id: int, message: tuple[str, dict[str, Any]] | None) -> Live: ...

    @abstractmethod
    def _engine(self, step: _Step, live: Live, action: Callable[[], object]) -> None: ...

    def _route(self, step: _Step) -> None:
        """Deliver the step's queued messages within the case, in this transaction, until none is left.

        One flat loop: delivering a message may queue more (a pathway ending hands over to the next);
        they wait their turn here rather than being delivered from inside the delivery that threw them."""
        while step.messages:
            name, payload = step.messages.popleft()
            self._deliver(step, name, payload)

    def _deliver(self, step: _Step, name: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """One message: to the case's instances waiting for it, then to every current pathway version whose
        start event catches it. Returns who received it."""
        step.deliveries += 1
        if step.deliveries > MAX_DELIVERIES_PER_STEP:
            raise PathwayFailed(f"Message {name!r} keeps being passed between pathways (a loop); nothing was saved.")
        received: list[dict[str, Any]] = []
        waiting = set(step.session.scalars(self._waiting_instances(step, name)).all())
        # Instances loaded in this step know better than the table, which is written at the end.
        for instance_id, live in step.live.items():
            if live.row.status == InstanceStatus.RUNNING and name in message_waits(live.wf):
                waiting.add(instance_id)
            else:
                waiting.discard(instance_id)
        for instance_id in sorted(waiting):
            live = self._load(step, instance_id)
            self._log_message(step, live, name)

            def catch(live: Live = live) -> None:
                catch_message(live.wf, name, payload)
                live.wf.do_engine_steps()

            self._engine(step, live, catch)
            received.append({"instance_id": instance_id, "pathway": live.row.process_id, "started": False})
        for version_id in self._starters(step, name):
            pathway = self.specs.by_id(step.session, version_id)
            # A one-per-case pathway (joinOpenInstance) already open takes the trigger in: no second one.
            joined = case_work.join_target(step, pathway)
            if joined is not None:
                if joined not in waiting:
                    case_work.log_join(step, joined, pathway.process_id, name)
                received.append(
                    {"instance_id": joined, "pathway": pathway.process_id, "started": False, "joined": True}
                )
                continue
            live = self._start_instance(step, version_id, (name, payload))
            self._log_message(step, live, name)
            received.append({"instance_id": live.row.id, "pathway": pathway.process_id, "started": True})
        return received

    @staticmethod
    def _starters(step: _Step, name: str) -> list[int]:
        """The current versions whose start event catches the message, by id (their rows' columns only)."""
        current = step.session.connection().execute(_CURRENT_STARTS).all()
        return [version_id for version_id, starts in current if name in (starts or [])]

    @staticmethod
    def _waiting_instances(step: _Step, name: str) -> Select[Any]:
        return (
            select(MessageWait.instance_id)
            .join(PathwayInstance, PathwayInstance.id == MessageWait.instance_id)
            .where(
                MessageWait.case_id == step.case.id,
                MessageWait.message_name == name,
                PathwayInstance.status == InstanceStatus.RUNNING,
            )
        )

    @staticmethod
    def _log_message(step: _Step, live: Live, name: str) -> None:
        step.events.add(
            at=step.now,
            case_id=step.case.id,
            client_id=live.client_id,
            instance_id=live.row.id,
            process_id=live.row.process_id,
            pathway_version=live.pathway.version,
            activity=name,
            activity_name=f"Message {name}",
            lifecycle=Lifecycle.MESSAGE,
            username=step.actor.username if step.actor else None,
        )
