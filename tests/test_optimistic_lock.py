"""A step that read an instance and finds it changed by someone else when writing is a conflict:
nothing of it is written (no half-written tasks, events or submissions)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select, text

from carepath.engine.errors import StaleInstance
from carepath.engine.form_samples import valid_sample
from carepath.engine.models import Event, FormSubmission, HumanTask, PathwayInstance
from carepath.engine.runtime import Runtime


@pytest.mark.postgres
def test_a_stale_instance_write_is_a_conflict_and_writes_nothing(postgres_url, make_carepath, monkeypatch):
    from support import CaseDriver, actors_of

    cp = make_carepath(postgres_url)
    driver = CaseDriver(cp, actors_of(cp))
    case_id = driver.new_case()
    task = driver.task(case_id, "record_referral")
    data = valid_sample(driver.form_schema(task))
    with cp.db() as session:
        counts_before = [
            session.scalar(select(func.count()).select_from(t)) for t in (Event, FormSubmission, HumanTask)
        ]
        version_before = session.get(PathwayInstance, task.instance_id).version

    other = create_engine(postgres_url)
    original_load = Runtime._load

    def load_then_someone_else_writes(self, step, instance_id):
        live = original_load(self, step, instance_id)
        with other.begin() as conn:  # another worker's step commits between our read and our write
            conn.execute(text("UPDATE pathway_instances SET version = version + 1 WHERE id = :id"), {"id": instance_id})
        return live

    monkeypatch.setattr(Runtime, "_load", load_then_someone_else_writes)
    try:
        with pytest.raises(StaleInstance):
            cp.complete_task(driver.actors["intake"], task.id, data)
    finally:
        other.dispose()
    with cp.db() as session:
        counts_after = [session.scalar(select(func.count()).select_from(t)) for t in (Event, FormSubmission, HumanTask)]
        assert session.get(HumanTask, task.id).status == "open"
        assert session.get(PathwayInstance, task.instance_id).version == version_before + 1  # the other writer's
    assert counts_after == counts_before
