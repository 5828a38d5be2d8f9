"""Quality pages: the measures for a period with their monthly trend, each measure's cases, CSV downloads
(streamed), the pathway heat map and the event-log exports. Quality staff and supervisors."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from flask import Blueprint, Response, render_template, request, stream_with_context, url_for

from carepath.engine.paging import MAX_LIMIT, page_limit
from carepath.engine.quality.compute import Filters
from carepath.engine.quality.facade import MEASURE_READERS
from carepath.engine.quality.measures import MEASURES, measure

from ..appstate import cp
from ..auth import current_actor, login_required
from .trend import HEIGHT, WIDTH, trend_bars

bp = Blueprint("quality", __name__, url_prefix="/quality")

RISK_LEVELS = ("low", "moderate", "high", "imminent")


def _period():
    return cp().quality_period(request.args.get("from"), request.args.get("to"))


def _filters() -> Filters:
    return Filters(
        pathway=request.args.get("pathway") or None,
        case_manager=request.args.get("case_manager") or None,
        risk_level=request.args.get("risk_level") or None,
    )


def _query(**extra: str) -> dict[str, str]:
    """The page's period and filters, to carry over to links (downloads, drill-downs)."""
    args = {k: v for k, v in request.args.items() if k in ("from", "to", "pathway", "case_manager", "risk_level") and v}
    return {**args, **extra}


def _csv(header: list[str], rows: Iterable[list[object]], filename: str) -> Response:
    """A CSV download written row by row as it is read (constant memory, whatever its length)."""

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(
        stream_with_context(lines()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/")
@login_required(MEASURE_READERS)
def index():
    actor, period, filters = current_actor(), _period(), _filters()
    results = cp().quality_measures(actor, period, filters)
    trend = cp().quality_trend(actor, period, filters)
    return render_template(
        "quality/index.html",
        results=results,
        period=period,
        filters=filters,
        bars={m["id"]: trend_bars(trend[m["id"]]) for m in results},
        chart_size=(WIDTH, HEIGHT),
        definitions={m.id: m for m in MEASURES},
        query=_query(),
        risk_levels=RISK_LEVELS,
        pathways=sorted({p["pathway"] for p in cp().pathway_versions()}),
        case_managers=cp().users_by_role(["case_manager"]).get("case_manager", []),
    )


@bp.get("/measures.csv")
@login_required(MEASURE_READERS)
def measures_csv():
    period = _period()
    results = cp().quality_measures(current_actor(), period, _filters())
    return _csv(
        ["id", "title", "numerator", "denominator", "rate", "from", "to"],
        (
            [m["id"], m["title"], m["numerator"], m["denominator"], m["rate"], period.first, period.last]
            for m in results
        ),
        f"measures-{period.first}-{period.last}.csv",
    )


@bp.get("/measures/<measure_id>")
@login_required(MEASURE_READERS)
def cases(measure_id: str):
    definition = measure(measure_id)
    period, limit = _period(), page_limit(request.args.get("limit"))
    page = cp().quality_cases(
        current_actor(), measure_id, period, _filters(), limit, request.args.get("cursor") or None
    )
    next_url = (
        url_for("quality.cases", measure_id=measure_id, **_query(cursor=page.next_cursor)) if page.next_cursor else None
    )
    return render_template(
        "quality/cases.html",
        measure=definition,
        rows=page.items,
        period=period,
        next_url=next_url,
        query=_query(),
        first_page=not request.args.get("cursor"),
    )


@bp.get("/measures/<measure_id>/cases.csv")
@login_required(MEASURE_READERS)
def cases_csv(measure_id: str):
    measure(measure_id)
    actor, period, filters = current_actor(), _period(), _filters()

    def rows() -> Iterator[list[object]]:
        cursor = None
        while True:  # a page per transaction, each audited: constant memory however many cases
            page = cp().quality_cases(actor, measure_id, period, filters, MAX_LIMIT, cursor, "csv")
            for r in page.items:
                yield [
                    r["case_id"],
                    r["client_id"],
                    r["pathway"],
                    "met" if r["met"] else "missed",
                    r["start"],
                    r["due"],
                    r["done"],
                    r["late_seconds"],
                ]
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    return _csv(
        ["case_id", "client_id", "pathway", "result", "start", "due", "done", "late_seconds"],
        rows(),
        f"{measure_id}-{period.first}-{period.last}.csv",
    )


@bp.get("/heatmap")
@login_required(MEASURE_READERS)
def heatmap():
    period = _period()
    names = sorted({p["pathway"] for p in cp().pathway_versions()})
    pathway = request.args.get("pathway") or (names[0] if names else "")
    heat = cp().pathway_heatmap(current_actor(), pathway, period) if pathway else None
    rows = (
        sorted(((bpmn_id, e) for bpmn_id, e in heat["elements"].items()), key=lambda r: -r[1]["reached"])
        if heat
        else []
    )
    return render_template(
        "quality/heatmap.html", heat=heat, rows=rows, period=period, pathways=names, pathway=pathway, query=_query()
    )


@bp.get("/exports")
@login_required(MEASURE_READERS)
def exports():
    return render_template("quality/exports.html", period=_period(), query=_query())


@bp.get("/exports/events.<fmt>")
@login_required(MEASURE_READERS)
def export_download(fmt: str):
    """The event log for the period, streamed as it is read (audited before the first byte)."""
    period = _period()
    chunks = cp().stream_events(current_actor(), fmt, period.since, period.before)
    mimetype = "text/csv" if fmt == "csv" else "application/xml"
    return Response(
        stream_with_context(chunks),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="events-{period.first}-{period.last}.{fmt}"'},
    )
