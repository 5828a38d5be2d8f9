"""Keyset paging (engine/paging.py): every row once, in order, even when rows arrive between page reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from carepath.engine.errors import BadRequest
from carepath.engine.paging import SortKey, decode_cursor, encode_cursor, keyset_page, page_limit

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class _Base(DeclarativeBase):
    pass


class Row(_Base):
    __tablename__ = "paging_rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    due: Mapped[datetime]
    name: Mapped[str] = mapped_column(String(20))


ORDER = [SortKey(Row.due), SortKey(Row.id)]


def _page(session: Session, limit: int, cursor: str | None, order=ORDER):
    return keyset_page(
        session,
        select(Row),
        order,
        limit,
        cursor,
        key_of=lambda r: [getattr(r.Row, c.expression.key) for c in order],
        view=lambda r: r.Row.name,
    )


def _all_pages(session: Session, limit: int, order=ORDER, between=None) -> list[str]:
    seen, cursor = [], None
    while True:
        page = _page(session, limit, cursor, order)
        seen.extend(page.items)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor
        if between:
            between()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def session(request, tmp_path):
    url = (
        f"sqlite:///{tmp_path / 'paging.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    )
    engine = create_engine(url)
    _Base.metadata.create_all(engine)
    with Session(engine) as s:
        # Many rows share a due time, so the primary key has to break ties for the order to be total.
        s.add_all(Row(due=T0 + timedelta(hours=i // 3), name=f"r{i:03d}") for i in range(40))
        s.commit()
        yield s
    engine.dispose()


def test_pages_cover_every_row_once_in_order(session):
    expected = [f"r{i:03d}" for i in range(40)]
    assert _all_pages(session, 7) == expected
    assert _all_pages(session, 40) == expected
    assert _page(session, 40, None).next_cursor is None  # exactly one page: no link to an empty one


def test_descending_order_pages_backwards(session):
    order = [SortKey(Row.due, descending=True), SortKey(Row.id, descending=True)]
    assert _all_pages(session, 6, order) == [f"r{i:03d}" for i in reversed(range(40))]


def test_rows_inserted_between_pages_neither_repeat_nor_open_gaps(session):
    """Rows added while someone pages: those before the cursor stay off later pages, those after it appear
    once, in place; nothing that existed at the start is skipped or shown twice."""
    early, late = [], []

    def insert_some():
        n = len(early)
        session.add_all(
            [
                Row(due=T0 - timedelta(days=1), name=f"early{n}"),  # before every cursor
                Row(due=T0 + timedelta(hours=5), name=f"mid{n}"),
                Row(due=T0 + timedelta(days=30), name=f"late{n}"),
            ]
        )  # after every cursor
        session.commit()
        early.append(f"early{n}")
        late.append(f"late{n}")

    seen = _all_pages(session, 5, between=insert_some)
    assert len(seen) == len(set(seen))  # no duplicates
    assert [n for n in seen if n.startswith("r")] == [f"r{i:03d}" for i in range(40)]  # no gaps
    assert not set(early) & set(seen)  # behind the reader: not on later pages
    assert late and set(late) <= set(seen)  # ahead of the reader: each shown once


def test_limit_and_cursor_errors_are_the_callers_mistake():
    assert page_limit(None) == 50 and page_limit("500") == 500
    for bad in ("0", "501", "ten", "-1"):
        with pytest.raises(BadRequest):
            page_limit(bad)
    with pytest.raises(BadRequest):
        decode_cursor("not-a-cursor!!", 2)
    with pytest.raises(BadRequest):
        decode_cursor(encode_cursor([T0]), 2)  # a cursor of another list's width
    assert decode_cursor(encode_cursor([T0, 7]), 2) == (T0, 7)
