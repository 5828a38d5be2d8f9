"""Paged lists over HTTP: `?limit=` and `?cursor=` in, the next page's address out (engine/paging.py).

The API keeps each list's JSON body a plain list (the contract) and says where the next page is in an
RFC 8288 `Link: <...>; rel="next"` header; the staff pages put the same address behind a "Next page" link.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for

from carepath.engine.paging import Page, page_limit


def page_args() -> tuple[int, str | None]:
    """The caller's page size and cursor (a bad limit is a 400 from page_limit)."""
    return page_limit(request.args.get("limit")), request.args.get("cursor") or None


def next_page_url(page: Page[Any]) -> str | None:
    """This request's address with the next page's cursor, every other argument kept; None on the last page."""
    if page.next_cursor is None:
        return None
    args = request.args.to_dict()
    args["cursor"] = page.next_cursor
    assert request.endpoint is not None
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def paged_json(page: Page[Any]) -> Response:
    """The page's items as a JSON list, with a Link header to the next page when there is one."""
    response = jsonify(page.items)
    url = next_page_url(page)
    if url is not None:
        response.headers["Link"] = f'<{url}>; rel="next"'
    return response
