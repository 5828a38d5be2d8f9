"""Lists of open tasks, clients and events, filtered, sorted and paged in SQL (engine/task_lists.py,
engine/paging.py), on both databases: a filter finds a task however far down the list it sits, and paging
through a list shows every task once, in order, while tasks keep arriving between pages."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import insert, select

from carepath.engine import people
from carepath.engine.errors import BadRequest
from carepath.engine.models import Client, HumanTask
from support import CaseDriver, actors_of

_serial = count(1)


@pytest.fixture
def world(make_carepath, any_database_url):
    cp = make_carepath(any_database_url)
    actors = actors_of(cp)
    driver = CaseDriver(cp, actors)
    case_id = driver.new_case("Maria", "Lopez", case_manager="case_manager")
    return cp, actors, driver.task(case_id, "record_referral")


def add_tasks(
    cp,
    template: HumanTask,
    n: int,
    family: str = "Many",
    due_every: int | None = 3,
    role: str = "intake",
    assignee_id: int | None = None,
) -> list[int]:
    """n open tasks like `template` (same case and instance), each for a new client named "<k> <family>";
    due times shared by three tasks at a time (ties the id must break), or none for every fifth task."""
    now = cp.clock.now()
    with cp.db.begin() as session:
        client_ids = [
            session.execute(
                insert(Client)
                .values(
                    given_name=f"C{next(_serial):05d}",
                    family_name=family,
                    birth_date=now.date() - timedelta(days=9000),
                    contacts=[],
                    created_at=now,
                )
                .returning(Client.id)
            ).scalar_one()
            for _ in range(n)
        ]
        rows = [
            {
                "instance_id": template.instance_id,
                "case_id": template.case_id,
                "client_id": client_id,
                "process_id": template.process_id,
                "spiff_task_id": template.spiff_task_id,
                "bpmn_id": template.bpmn_id,
                "title": template.title,
                "role": role,
                "assignee_id": assignee_id,
                "status": "open",
                "created_at": now - timedelta(minutes=k % 7),
                "due_at": None if due_every is None or k % 5 == 4 else now + timedelta(hours=(k // due_every) - 20),
            }
            for k, client_id in enumerate(client_ids)
        ]
        return list(session.scalars(insert(HumanTask).returning(HumanTask.id), rows))


def all_pages(cp, actor, limit: int, between=None, **filters) -> list[dict]:
    seen, cursor = [], None
    while True:
        page = cp.list_tasks(actor, limit=limit, cursor=cursor, **filters)
        seen.extend(page.items)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor
        if between:
            between()


def test_a_filter_finds_a_task_beyond_the_first_500(world):
    cp, actors, referral = world
    add_tasks(cp, referral, 520)
    needle = add_tasks(cp, referral, 1, family="Needleman", due_every=None)[0]  # no due date: the very last
    intake = actors["intake"]
    assert [t["id"] for t in cp.list_tasks(intake, view="team", q="needleman").items] == [needle]
    client_id = cp.list_tasks(intake, view="team", q="needleman").items[0]["client_id"]
    assert [t["id"] for t in cp.list_tasks(intake, view="team", client_id=client_id).items] == [needle]
    found = all_pages(cp, intake, 500, view="team", pathway=referral.process_id)
    assert len(found) == 522 and found[-1]["id"] == needle


@pytest.mark.parametrize("sort", ["due", "created", "client"])
def test_pages_show_every_task_once_in_order_while_tasks_arrive(world, sort):
    cp, actors, referral = world
    before = add_tasks(cp, referral, 60)
    arrived: list[int] = []
    shown = all_pages(
        cp,
        actors["intake"],
        7,
        view="team",
        sort=sort,
        between=lambda: arrived.extend(add_tasks(cp, referral, 2, family="Arriving")),
    )
    ids = [t["id"] for t in shown]
    assert len(ids) == len(set(ids))  # no task twice
    assert set(before) | {referral.id} <= set(ids)  # none of those there from the start missed
    assert set(ids) <= set(before) | {referral.id} | set(arrived)

    def key(t):
        if sort == "due":
            return (t["due_at"] is None, t["due_at"] or "", t["id"])
        if sort == "created":
            return (t["created_at"], t["id"])
        given, family = t["client_name"].split(" ", 1)
        return (family, given, t["id"])

    assert [key(t) for t in shown] == sorted(key(t) for t in shown)


def test_the_inbox_of_several_branches_is_one_ordered_list(world):
    """A person's own tasks and their roles' queue, merged in due order."""
    cp, actors, referral = world
    intake = actors["intake"]
    mine = add_tasks(cp, referral, 12, assignee_id=intake.id)
    queue = add_tasks(cp, referral, 12)
    add_tasks(cp, referral, 5, role="clinician")  # not intake's
    shown = all_pages(cp, intake, 5)
    assert {t["id"] for t in shown} == set(mine) | set(queue) | {referral.id}
    assert {t["assignee_name"] for t in shown if t["id"] in set(mine)} == {"intake"}  # display name, else username
    assert [t["id"] for t in all_pages(cp, intake, 50, view="mine")] == [t["id"] for t in shown if t["id"] in set(mine)]


def test_a_cursor_not_made_here_is_refused(world):
    cp, actors, _ = world
    with pytest.raises(BadRequest):
        cp.list_tasks(actors["intake"], cursor="not-a-cursor")


def test_client_search_pages_by_name_and_finds_a_name_in_the_middle(world, any_database_url):
    cp, actors, referral = world
    add_tasks(cp, referral, 30, family="Okafor")
    sup = actors["supervisor"]
    first = cp.search_clients(sup, "okafor", limit=20)
    rest = cp.search_clients(sup, "okafor", limit=20, cursor=first.next_cursor)
    names = [(c["family_name"], c["given_name"]) for c in first.items + rest.items]
    assert len(names) == 30 and names == sorted(names) and rest.next_cursor is None
    assert [c["family_name"] for c in cp.search_clients(sup, "maria lop").items] == ["Lopez"]
    if any_database_url.startswith("postgresql"):  # trigram search: anywhere in the name
        assert len(cp.search_clients(sup, "kafo", limit=100).items) == 30
    with cp.db() as session:
        assert session.scalar(select(Client.id).where(Client.family_name == "Okafor").limit(1)) is not None


def test_case_events_page_oldest_first(world):
    cp, actors, referral = world
    sup = actors["supervisor"]
    first = cp.read_case_events(sup, referral.case_id, limit=2)
    assert len(first.items) == 2 and first.next_cursor
    rest = cp.read_case_events(sup, referral.case_id, limit=500, cursor=first.next_cursor)
    events = first.items + rest.items
    assert [(e["at"], e["id"]) for e in events] == sorted((e["at"], e["id"]) for e in events)
    assert len({e["id"] for e in events}) == len(events) == len(cp.read_case_events(sup, referral.case_id).items)


def test_each_person_gets_their_own_list_from_the_same_kind_of_query(world):
    """The due-order list is built once per kind of query and only the values change: two people of the same
    role, or of different roles, asking the same thing each get their own tasks and their own queue's."""
    cp, actors, referral = world
    cp.add_user("intake2", ["intake"], None)
    with cp.db() as session:
        intake2 = people.actor_of(people.user_named(session, "intake2"), "api")
    intake, clinician = actors["intake"], actors["clinician"]
    queue = add_tasks(cp, referral, 4) + [referral.id]
    mine = add_tasks(cp, referral, 3, assignee_id=intake.id)
    theirs = add_tasks(cp, referral, 2, assignee_id=intake2.id)
    reviews = add_tasks(cp, referral, 2, role="clinician")
    for actor, expected in ((intake, mine + queue), (intake2, theirs + queue), (clinician, reviews)):
        for filters in ({}, {"case_id": referral.case_id}, {"pathway": referral.process_id}):
            shown = all_pages(cp, actor, 3, **filters)
            assert sorted(t["id"] for t in shown) == sorted(expected), (actor.username, filters)
            assert [(t["due_at"] is None, t["due_at"] or "", t["id"]) for t in shown] == sorted(
                (t["due_at"] is None, t["due_at"] or "", t["id"]) for t in shown
            )


def test_a_case_list_shows_that_cases_tasks_the_person_may_see(world):
    """GET /tasks?case_id=: the case's own open tasks, the person's and their roles' queue's, in due order;
    another case's and another role's stay out."""
    cp, actors, referral = world
    intake = actors["intake"]
    other_case = CaseDriver(cp, actors).new_case("Other", "Person")
    queue = add_tasks(cp, referral, 3)
    mine = add_tasks(cp, referral, 2, assignee_id=intake.id)
    add_tasks(cp, referral, 2, role="clinician")
    shown = cp.list_tasks(intake, case_id=referral.case_id).items
    assert sorted(t["id"] for t in shown) == sorted([referral.id, *queue, *mine])
    assert {t["case_id"] for t in shown} == {referral.case_id}
    assert [t["id"] for t in cp.list_tasks(intake, case_id=referral.case_id, view="mine").items] == [
        t["id"] for t in shown if t["id"] in mine
    ]
    assert [t["case_id"] for t in cp.list_tasks(intake, case_id=other_case).items] == [other_case]
