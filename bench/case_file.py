"""The case file read on an agency that already exists (one kept by `bench/scale.py --keep`), leaving it as
it was: every read runs in a transaction that is rolled back, so not even its audit entry stays.

    .venv/bin/python bench/case_file.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/carepath_scale \
        [--reads 200] [--seed 8] [--parts] [--commit]

Times `read_case_file` as supervisor sup01 on random cases among the first 5,000, at the instant the
scale agency was generated for (2026-12-01 09:00 UTC). With --parts, also how long each part of the page
took (the adherence panel, the plans, the timeline, ...). Also prints what does not depend on how busy the
machine is: the statements a read sends and this process's CPU time a read. Not a test: nothing here asserts.

psycopg forgets its prepared statements at every ROLLBACK (a savepoint's too), so by default (each read
rolled back) every statement is planned afresh, as a served read does only on a fresh connection. A served
read commits (its audit entry): after five runs of the same statement on a connection psycopg prepares it,
and PostgreSQL soon stops planning it. With --commit the reads commit as served ones do, and so leave their
audit entries behind: use it on a throwaway agency only.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select, text

from carepath.engine import casefile, people
from carepath.engine.app import Carepath
from carepath.engine.clock import FixedClock
from carepath.engine.models import User
from carepath.engine.settings import Settings

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# The parts of the page, as functions of engine/casefile.py (some only in older versions of the read).
PARTS = ("case_promises", "plans", "timeline", "care_team", "_case_with_client", "_open_tasks")
PARTS += ("case_view", "day_additions")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def timing(fn: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent.append((time.perf_counter() - t) * 1000)

    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--parts", action="store_true", help="also time each part of the page")
    parser.add_argument("--commit", action="store_true", help="commit each read, as served (leaves audit entries)")
    args = parser.parse_args()
    cp = Carepath(
        Settings(database_url=args.database_url, secret_key="bench", sync_library_on_start=False), FixedClock(NOW)
    )
    parts: dict[str, list[float]] = defaultdict(list)
    if args.parts:
        for name in PARTS:
            if hasattr(casefile, name):  # the parts of the code under test
                setattr(casefile, name, timing(getattr(casefile, name), parts[name]))
    rng = random.Random(args.seed)
    with cp.db() as session:
        sup = people.actor_of(session.scalars(select(User).where(User.username == "sup01")).one(), "api")
        case_ids = session.scalars(text("SELECT id FROM cases ORDER BY id LIMIT 5000")).all()
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    times = []
    cpu = 0.0
    warm = 20 if args.commit else 5  # the per-process caches (specs, statements), and the prepared statements
    for i in range(args.reads + warm):
        if i == warm:
            event.listen(cp.engine, "before_cursor_execute", count)
        session = cp.db()
        try:
            t, c = time.perf_counter(), time.process_time()
            casefile.read_case_file(session, cp.specs, sup, rng.choice(case_ids), NOW)
            if args.commit:
                session.commit()
            if i >= warm:
                times.append((time.perf_counter() - t) * 1000)
                cpu += time.process_time() - c
        finally:
            session.rollback()
            session.close()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"a case file (sup01, random case): p50 {statistics.median(times):7.2f} ms   p95 {pct(times, 0.95):7.2f} ms   "
        f"(n={len(times)}; load average {load}{'; committed' if args.commit else ''})"
    )
    print(
        f"  {statements[0] / len(times):.1f} statements a read; {cpu * 1000 / len(times):.2f} ms of this process's CPU "
        "a read"
    )
    for name, spent in sorted(((n, s) for n, s in parts.items() if s), key=lambda kv: -sum(kv[1])):
        print(f"  {name:<16} {sum(spent) / len(spent):7.2f} ms a read on average")
    cp.close()


if __name__ == "__main__":
    main()
