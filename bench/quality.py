"""Quality at scale on PostgreSQL: every measure over a whole agency, and the event-log export's speed and memory.

    .venv/bin/python bench/scale.py --database-url URL --clients 100000 --keep --reads 0   # once: the agency
    .venv/bin/python bench/quality.py --database-url URL [--repeat 3]

Times `Carepath.quality_measures` (all measures, one SQL statement each) for the agency's whole history and for
its last 90 days, the monthly trend, and a measure's first drill-down page; then exports the event log as CSV
and as XES, each in a child process writing to a discarded stream, and reports rows per second and the
child's peak memory (its maximum resident set size). Prints the machine's load average. Asserts nothing.
Targets (issue 9): all measures in at most 2 s over 100,000 clients and 5,000,000 events; the export at
500,000 rows/s or more within 300 MB.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from carepath.engine.access import Actor
from carepath.engine.app import Carepath
from carepath.engine.clock import FixedClock
from carepath.engine.settings import Settings

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # bench/scale.py's "now"
QUALITY = Actor(id=0, username="bench-quality", roles=frozenset({"quality"}), channel="cli")


class Discard:
    """A text stream that keeps nothing, counting what it was given."""

    def __init__(self) -> None:
        self.chars = 0
        self.lines = 0
        self.events = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        self.lines += text.count("\n")
        self.events += text.count("<event>")
        return len(text)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


def _carepath(url: str) -> Carepath:
    return Carepath(Settings(database_url=url, secret_key="bench", sync_library_on_start=False), FixedClock(NOW))


def _timed(label: str, work, repeat: int) -> None:
    took = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        took.append(time.perf_counter() - start)
    print(f"  {label}: best {min(took):.3f} s, worst {max(took):.3f} s over {repeat} run(s)")
    return result


def measures(url: str, repeat: int) -> None:
    cp = _carepath(url)
    everything = cp.quality_period("2023-01-01", "2026-12-01")
    recent = cp.quality_period("2026-09-03", "2026-12-01")
    print(f"measures ({_load()}):")
    results = _timed("all measures, 2023-01-01 to 2026-12-01", lambda: cp.quality_measures(QUALITY, everything), repeat)
    for m in results:
        print(f"    {m['id']:<28} {m['numerator']:>9,} / {m['denominator']:>9,}  rate {m['rate']}")
    _timed("all measures, last 90 days", lambda: cp.quality_measures(QUALITY, recent), repeat)
    _timed("trend by month, 2023-01-01 to 2026-12-01", lambda: cp.quality_trend(QUALITY, everything), repeat)
    _timed(
        "drill-down, tasks_on_time, first page of 50",
        lambda: cp.quality_cases(QUALITY, "tasks_on_time", recent, limit=50),
        repeat,
    )
    cp.close()


def export_child(url: str, fmt: str) -> None:
    """In a child process: export, then print rows, seconds and peak memory on one line."""
    cp = _carepath(url)
    out = Discard()
    start = time.perf_counter()
    cp.export_events(fmt, out, who="bench")
    took = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = out.lines - 1 if fmt == "csv" else out.events
    print(f"{rows} {took:.3f} {peak_mb:.1f} {out.chars}")


def exports(url: str) -> None:
    print(f"export ({_load()}):")
    for fmt in ("csv", "xes"):
        done = subprocess.run(
            [sys.executable, __file__, "--database-url", url, "--export-child", fmt],
            capture_output=True,
            text=True,
            check=True,
        )
        rows, took, peak, chars = done.stdout.split()
        print(
            f"  {fmt}: {int(rows):,} rows in {float(took):.2f} s = {int(rows) / float(took):,.0f} rows/s, "
            f"{int(chars) / 1e6:,.0f} MB written, peak memory {float(peak):.0f} MB (the whole process)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--export-child", choices=["csv", "xes"], help=argparse.SUPPRESS)
    parser.add_argument("--skip-export", action="store_true")
    args = parser.parse_args()
    if args.export_child:
        export_child(args.database_url, args.export_child)
        return
    measures(args.database_url, args.repeat)
    if not args.skip_export:
        exports(args.database_url)
    print(f"done ({_load()}); {date.today()}")


if __name__ == "__main__":
    main()
