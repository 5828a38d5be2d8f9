"""The case files of random cases as JSON, one line each, to check that a change to the read left every page
the same (run it before and after, then compare the two files byte for byte).

    .venv/bin/python bench/case_file_dump.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/carepath_scale \
        --out /tmp/before.jsonl [--cases 200] [--seed 11]

Each case is read four times: as supervisor sup01 and as the client's own case manager, each with and without
engine steps in the timeline, at the instant the scale agency was generated for. Every read is rolled back.
Prints how many statements the reads sent (a count that does not depend on how busy the machine is).
Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select, text

from carepath.engine import casefile, people
from carepath.engine.app import Carepath
from carepath.engine.clock import FixedClock
from carepath.engine.models import Case, Client, User
from carepath.engine.settings import Settings

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    cp = Carepath(
        Settings(database_url=args.database_url, secret_key="bench", sync_library_on_start=False), FixedClock(NOW)
    )
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    rng = random.Random(args.seed)
    with cp.db() as session:
        sup = people.actor_of(session.scalars(select(User).where(User.username == "sup01")).one(), "api")
        every = list(session.scalars(text("SELECT id FROM cases ORDER BY id")))
        # The first cases too: the scale agency's template cases, walked through the pathways by the engine.
        case_ids = sorted({*every[:10], *rng.sample(every, args.cases)})
        managers = {
            case_id: people.actor_of(user, "api")
            for case_id, user in session.execute(
                select(Case.id, User)
                .join(Client, Client.id == Case.client_id)
                .join(User, User.id == Client.case_manager_id)
                .where(Case.id.in_(case_ids))
            )
        }
    event.listen(cp.engine, "before_cursor_execute", count)
    reads = 0
    with open(args.out, "w") as out:
        for case_id in case_ids:
            for who, actor in (("sup01", sup), ("case manager", managers.get(case_id))):
                for everything in (False, True):
                    if actor is None:
                        out.write(json.dumps({"case": case_id, "as": who, "error": "no case manager"}) + "\n")
                        continue
                    session = cp.db()
                    try:
                        page: Any = casefile.read_case_file(session, cp.specs, actor, case_id, NOW, everything)
                        session.flush()  # the audit entry goes out in the read, as it does when committed
                    except Exception as e:  # a page that cannot be read is part of the output too
                        page = {"error": type(e).__name__, "message": str(e)}
                    finally:
                        session.rollback()
                        session.close()
                    reads += 1
                    line = {"case": case_id, "as": who, "everything": everything, "page": page}
                    out.write(json.dumps(line, default=str) + "\n")
    print(f"{reads} reads of {len(case_ids)} cases, {statements[0]} statements ({statements[0] / reads:.1f} a read)")
    cp.close()


if __name__ == "__main__":
    main()
