"""quality: indexes the quality measures and the heat map read by (index events by activity, tasks by pathway
step, events by pathway and time)

Revision ID: 0008_quality
Revises: 0007_scale
Create Date: 2026-12-01
"""

from alembic import op

revision = "0008_quality"
down_revision = "0007_scale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A measure's index events are a few activities among millions of events (engine/quality/episodes.py).
    op.create_index("ix_events_activity", "events", ["activity", "lifecycle", "at"])
    # The heat map: one pathway's events in a period.
    op.create_index("ix_events_pathway_at", "events", ["process_id", "at"])
    # Measures that start from one pathway step's tasks (the referral, the follow-up visits).
    op.create_index("ix_human_tasks_step", "human_tasks", ["process_id", "bpmn_id", "status"])
    # Measures that start from one pathway's instances (crisis responses, hospital follow-ups).
    op.create_index("ix_pathway_instances_pathway", "pathway_instances", ["process_id", "started_at"])
    # Depression remission: each case's PHQ-9 scores in time order, read from the index alone.
    op.create_index("ix_scores_instrument_case", "scores", ["instrument", "case_id", "at", "total"])


def downgrade() -> None:
    op.drop_index("ix_scores_instrument_case", table_name="scores")
    op.drop_index("ix_pathway_instances_pathway", table_name="pathway_instances")
    op.drop_index("ix_human_tasks_step", table_name="human_tasks")
    op.drop_index("ix_events_pathway_at", table_name="events")
    op.drop_index("ix_events_activity", table_name="events")
