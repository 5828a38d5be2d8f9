"""Paged lists over the API: the body stays a JSON list, the next page is in an RFC 8288 Link header, and a
bad `limit` or `cursor` is a 400 with a message."""

from __future__ import annotations

import re

import pytest

from carepath.engine.models import HumanTask


@pytest.fixture
def referral_task(driver) -> HumanTask:
    return driver.task(driver.new_case("Maria", "Lopez", case_manager="case_manager"), "record_referral")


def _get(api, path, user):
    resp = api.client.get(path, headers={"Authorization": f"Bearer {api.token(user)}"})
    return resp.status_code, resp.get_json(silent=True), resp.headers.get("Link")


def test_tasks_page_with_a_link_to_the_next(api, cp, referral_task):
    from test_task_lists import add_tasks

    add_tasks(cp, referral_task, 4)
    status, body, link = _get(api, "/api/v1/tasks?limit=3&role=intake", "intake")
    assert status == 200 and isinstance(body, list) and len(body) == 3
    url = re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1)
    assert "role=intake" in url and "limit=3" in url
    status, rest, link = _get(api, url, "intake")
    assert status == 200 and len(rest) == 2 and link is None
    assert len({t["id"] for t in body + rest}) == 5


def test_bad_limits_and_cursors_are_400(api, referral_task):
    for query in ("limit=0", "limit=501", "limit=ten", "cursor=%%%", "cursor=WzFd"):
        status, body, _ = _get(api, f"/api/v1/tasks?{query}", "intake")
        assert status == 400 and body["error"]["message"], query
    assert _get(api, f"/api/v1/cases/{referral_task.case_id}/events?limit=501", "supervisor")[0] == 400


def test_events_and_client_search_page(api, referral_task):
    status, events, link = _get(api, f"/api/v1/cases/{referral_task.case_id}/events?limit=1", "supervisor")
    assert status == 200 and len(events) == 1 and link
    status, clients, link = _get(api, "/api/v1/clients?q=lopez&limit=1", "supervisor")
    assert status == 200 and [c["family_name"] for c in clients] == ["Lopez"] and link is None
