"""The shapes the engine hands to the web layer and the API (typed dicts: they are also the JSON answers)."""

from __future__ import annotations

from typing import Any, TypedDict


class TaskView(TypedDict, total=False):
    id: int
    case_id: int
    client_id: int
    pathway: str
    task: str  # the BPMN element id
    title: str
    role: str
    assignee: str | None
    assignee_name: str | None  # the holder's display name, for people to read
    due_at: str | None
    created_at: str
    form_id: str | None
    status: str
    overdue: bool
    client_name: str


class CaseSummary(TypedDict):
    id: int
    status: str
    risk_level: str | None
    opened_at: str
    closed_at: str | None


class ClientView(TypedDict):
    id: int
    given_name: str
    family_name: str
    birth_date: str
    age: int
    preferred_language: str | None
    phone: str | None
    email: str | None
    address: str | None
    contacts: list[dict[str, Any]]
    case_manager: str | None
    created_at: str
    cases: list[CaseSummary]


class PathwayInstanceView(TypedDict):
    id: int
    pathway: str
    version: int
    status: str
    started_at: str
    ended_at: str | None


class ScoreView(TypedDict):
    instrument: str
    total: int | None
    severity: str
    at: str


class CaseView(TypedDict):
    id: int
    client_id: int
    status: str
    risk_level: str | None
    opened_at: str
    closed_at: str | None
    close_reason: str | None
    pathways: list[PathwayInstanceView]
    scores: list[ScoreView]


class EventView(TypedDict):
    id: int
    at: str
    case_id: int | None
    client_id: int | None
    instance_id: int | None
    pathway: str | None
    pathway_version: int | None
    activity: str
    activity_name: str
    lifecycle: str
    role: str | None
    user: str | None
