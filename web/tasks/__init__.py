"""The task page: the task's form rendered from its JSON Schema beside the client's context, and its
submission: typed answers to the engine, field messages back on the page, a conflict said plainly."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from carepath.engine.app import Completion, TaskPage
from carepath.engine.errors import (
    ContactRequired,
    InvalidFormData,
    NotAllowed,
    PathwayFailed,
    StaleInstance,
    TaskNotOpen,
)

from .. import forms
from ..appstate import cp
from ..auth import current_actor, login_required
from ..ui import is_team_lead

bp = Blueprint("tasks", __name__)


def _load(task_id: int, after_conflict: bool = False) -> TaskPage:
    actor = current_actor()
    return cp().task_page(actor, task_id, is_team_lead(actor), after_conflict)


@dataclass(frozen=True)
class Alert:
    """Why the page is shown again: a conflict (the form turns read-only) or a pathway problem."""

    title: str
    message: str
    read_only: bool = True


def _render(
    page: TaskPage,
    values: dict | None = None,
    errors: dict | None = None,
    status: int = 200,
    extra_rows: dict | None = None,
    alert: Alert | None = None,
):
    task = page.task
    schema, ui = task["form"]["schema"], task["form"]["ui_schema"]
    draft = page.extras.get("draft")
    if values is None and draft:
        # The person's own unsent answers win over the prefill: they are what was on their screen.
        values = forms.parse_form(
            schema or {"type": "object"},
            MultiDict([(k, v) for k, vs in draft["data"].items() for v in (vs if isinstance(vs, list) else [vs])]),
        )
    form = forms.build_form(
        schema or {"type": "object"}, ui, task["data"] if values is None else values, errors, extra_rows
    )
    answers = None
    if page.done and page.done.get("data") is not None:
        answers = forms.describe(schema, page.done["data"], ui)
    plans = {
        kind: forms.describe(p["schema"], p["data"], p["ui_schema"]) if p else None
        for kind, p in ((page.context or {}).get("plans") or {}).items()
    }
    return render_template(
        "tasks/task.html",
        task=task,
        form=form,
        context=page.context,
        plans=plans,
        people=page.people,
        done=page.done,
        answers=answers,
        alert=alert,
        extras=page.extras,
        is_crisis=_is_crisis(task),
        draft=draft if values is not None and draft else None,
        may_reassign=is_team_lead(current_actor()),
    ), status


@bp.get("/tasks/<id:task_id>")
@login_required()
def show(task_id: int):
    return _render(_load(task_id))


@bp.post("/tasks/<id:task_id>")
@login_required()
def submit(task_id: int):
    """Adding or removing a row shows the form again; a submission is one transaction in the engine, which
    reads the form, parses these fields by its schema and completes the task, or says why not."""
    action = forms.action_of(request.form)
    if action.kind in ("add", "remove"):
        page = _load(task_id)
        schema = page.task["form"]["schema"] or {"type": "object"}
        answers = forms.parse_form(schema, request.form)
        if action.kind == "add":
            return _render(page, answers, extra_rows={action.path: 1})
        return _render(page, forms.remove_row(answers, action.path))

    def answers_of(schema: dict) -> dict:
        return forms.prune(schema, forms.parse_form(schema, request.form))

    try:
        done = cp().complete_task(current_actor(), task_id, answers_of)
    except ContactRequired as exc:
        page = _load(task_id)
        return _render(
            page,
            _typed_answers(page),
            status=422,
            alert=Alert("Record the contact first", exc.message, read_only=False),
        )
    except InvalidFormData as exc:
        page = _load(task_id)
        return _render(page, _typed_answers(page), {f.path: f.message for f in exc.fields}, status=422)
    except (TaskNotOpen, StaleInstance):
        page = _load(task_id, after_conflict=True)
        return _render(page, _typed_answers(page), status=409, alert=_closed(page))
    except NotAllowed:
        page = _load(task_id)
        return _render(page, _typed_answers(page), status=403, alert=_not_yours(page))
    except PathwayFailed as exc:
        page = _load(task_id)
        return _render(
            page,
            _typed_answers(page),
            status=500,
            alert=Alert(
                "The pathway could not go on",
                f"{exc.message} Your answers are still below. Tell your supervisor "
                "or administrator: the pathway needs fixing.",
                read_only=False,
            ),
        )
    return _after_completion(done)


# Crisis work: the client's phone, address, emergency contacts and safety plan are shown first.
CRISIS_PATHWAYS = ("crisis_response", "safety_planning")


def _is_crisis(task: dict) -> bool:
    return task["pathway"] in CRISIS_PATHWAYS or task["role"] == "crisis"


# Fields of the page that are not answers (the token, the buttons that add or remove rows).
NOT_ANSWERS = ("csrf_token", "_action")


@bp.post("/tasks/<id:task_id>/draft")
@login_required()
def save_draft(task_id: int):
    """Keep what is typed so far (the page's autosave, or the "Save draft" button without JavaScript)."""
    fields = {k: request.form.getlist(k) for k in request.form if k not in NOT_ANSWERS and not k.startswith("_")}
    saved = cp().save_draft(current_actor(), task_id, fields)
    if request.headers.get("X-Carepath-Autosave"):
        return jsonify({"saved_at": saved})
    flash("Draft saved. It is kept for you until you complete the task.")
    return redirect(url_for("tasks.show", task_id=task_id))


def _typed_answers(page: TaskPage) -> dict:
    """The person's answers, parsed by the form, to show again on the page (nothing they typed is lost)."""
    return forms.parse_form(page.task["form"]["schema"] or {"type": "object"}, request.form)


def _closed(page: TaskPage) -> Alert:
    done = page.done or {}
    who = done.get("by")
    status = page.task["status"]
    if status == "completed" and who and who != current_actor().username:
        lead = f"{who} completed this task while you were working on it"
    elif status == "completed":
        lead = "This task has already been completed"
    else:
        lead = f"This task was {status} while you were working on it"
    lead = lead[:1].upper() + lead[1:]
    return Alert(
        "Someone else got there first",
        f"{lead}. Your answers below were not saved; copy anything you "
        "need before leaving the page, and check the case file for what was recorded.",
    )


def _not_yours(page: TaskPage) -> Alert:
    holder = page.task["assignee"]
    who = f"with {holder}" if holder else f"in the {page.task['role'].replace('_', ' ')} team queue"
    return Alert(
        "This task is not yours to complete",
        f"This task is {who}, so you cannot complete it. Your "
        "answers below were not saved; copy anything you need before leaving the page.",
    )


def _after_completion(done: Completion):
    """On to the next task this person can do (opened by this one), else back to the inbox."""
    actor = current_actor()
    task, next_tasks = done.task, done.next_tasks
    mine = [
        t
        for t in next_tasks
        if t["status"] == "open"
        and (t["assignee"] == actor.username or (t["assignee"] is None and t["role"] in actor.roles))
    ]
    who = task.get("client_name") or "the client"
    flash(f"Saved: “{task['title']}” for {who}.")
    if mine:
        flash(f"Next for {who}: “{mine[0]['title']}”.")
        return redirect(url_for("tasks.show", task_id=mine[0]["id"]))
    others = [t for t in next_tasks if t["status"] == "open"]
    if others:
        flash("Handed on: " + "; ".join(f"“{t['title']}” ({t['role'].replace('_', ' ')})" for t in others) + ".")
    return redirect(url_for("inbox.index"))
