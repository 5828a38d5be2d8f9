"""Quality measures over the API (docs/api.md, "Quality"): the measures for a period, and the cases behind
each one, paged. Quality staff and supervisors only (the engine refuses everyone else)."""

from __future__ import annotations

from flask import g, jsonify, request

from carepath.engine.quality.compute import Filters

from ..paging import page_args, paged_json
from . import bp, cp, token_required


def _period():
    return cp().quality_period(request.args.get("from"), request.args.get("to"))


def _filters() -> Filters:
    return Filters(
        pathway=request.args.get("pathway") or None,
        case_manager=request.args.get("case_manager") or None,
        risk_level=request.args.get("risk_level") or None,
    )


@bp.get("/quality/measures")
@token_required
def quality_measures():
    return jsonify(cp().quality_measures(g.actor, _period(), _filters()))


@bp.get("/quality/measures/<measure_id>/cases")
@token_required
def quality_measure_cases(measure_id: str):
    limit, cursor = page_args()
    return paged_json(cp().quality_cases(g.actor, measure_id, _period(), _filters(), limit, cursor, "api"))
