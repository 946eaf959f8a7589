"""The board KPIs of docs/metrics.md, computed by `queries/metrics/kpis.sql`."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from pipelines.store import run_named

COUNT_KEYS = (
    "episodes", "children", "repeat_children", "from_care_episodes", "high_risk_episodes",
    "still_missing", "returned_missing_episodes",
)
RHI_KEYS = ("rhi_offered", "rhi_offered_within_72h", "rhi_completed", "rhi_completed_within_72h")
KPI_KEYS = (
    "episodes", "episodes_by_category", "children", "repeat_children", "episodes_per_child",
    "from_care_episodes", "high_risk_episodes", "still_missing", "returned_missing_episodes",
    *RHI_KEYS, "safe_and_well_done", "median_duration_hours",
)


def round_half_up(value, places: int):
    if value is None:
        return None
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def percent(numerator: int, denominator: int):
    if not denominator:
        return None
    return float((Decimal(100 * numerator) / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


NO_FILTERS = {"from_care": None, "age_band": None, "sex": None, "ethnicity_group": None, "risk_level": None}


def compute_kpis(con, period_start: dt.date, period_end: dt.date, filters: dict | None = None) -> dict:
    """The KPIs for episodes starting in the period; `filters` are the filter bar's (None: no filter)."""
    params = {**NO_FILTERS, **(filters or {}), "period_start": period_start, "period_end": period_end}
    row = run_named(con, "kpis", params).iloc[0]
    count = {k: int(row[k]) for k in row.index if k != "median_duration_hours"}
    kpis: dict = {"period": {"from": period_start.isoformat(), "to": period_end.isoformat()}}
    kpis["episodes"] = count["episodes"]
    kpis["episodes_by_category"] = {
        "missing": count["episodes_missing"], "absent": count["episodes_absent"], "away": count["episodes_away"],
    }
    for key in COUNT_KEYS[1:]:
        kpis[key] = count[key]
    kpis["episodes_per_child"] = (
        float((Decimal(count["episodes"]) / Decimal(count["children"])).quantize(Decimal("0.01"), ROUND_HALF_UP))
        if count["children"] else None
    )
    denominator = count["returned_missing_episodes"]
    for key in RHI_KEYS:
        kpis[key] = count[key]
        kpis[f"{key}_pct"] = percent(count[key], denominator)
    kpis["safe_and_well_done"] = count["safe_and_well_done"]
    kpis["safe_and_well_done_pct"] = percent(count["safe_and_well_done"], count["returned_missing_police_known"])
    median = row["median_duration_hours"]
    kpis["median_duration_hours"] = None if median is None or median != median else round_half_up(median, 1)
    # Order as documented.
    ordered = {"period": kpis["period"]}
    for key in KPI_KEYS:
        ordered[key] = kpis[key]
        if f"{key}_pct" in kpis:
            ordered[f"{key}_pct"] = kpis[f"{key}_pct"]
    return ordered
