"""The board KPIs of docs/metrics.md, computed by `queries/metrics/kpis.sql`."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from pipelines.store import run_named
from pipelines.suppression import SMALL_COUNT, is_small, under_threshold

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


def kpi_params(period_start: dt.date, period_end: dt.date, filters: dict | None = None) -> dict:
    """The parameters of the `kpis` query."""
    return {**NO_FILTERS, **(filters or {}), "period_start": period_start, "period_end": period_end}


def compute_kpis(con, period_start: dt.date, period_end: dt.date, filters: dict | None = None,
                 suppress: bool = False) -> dict:
    """The KPIs for episodes starting in the period; `filters` are the filter bar's (None: no filter).

    With `suppress`, small numbers are withheld as docs/metrics.md says: counts from 1 to 4
    become "<5"; a percentage or ratio whose numerator or denominator is under 5, and the
    median duration of fewer than 5 episodes, become null. The keys withheld are listed
    under "suppressed"."""
    row = run_named(con, "kpis", kpi_params(period_start, period_end, filters))
    return kpis_from_row(row, period_start, period_end, suppress)


def kpis_from_row(frame, period_start: dt.date, period_end: dt.date, suppress: bool = False) -> dict:
    """The KPIs from the `kpis` query's one row (see `compute_kpis`)."""
    row = frame.iloc[0]
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
    if suppress:
        ordered = _suppressed(ordered, count)
    return ordered


def _suppressed(kpis: dict, count: dict) -> dict:
    out = dict(kpis)
    withheld = []
    denominators = {f"{key}_pct": (key, "returned_missing_episodes") for key in RHI_KEYS}
    denominators["safe_and_well_done_pct"] = ("safe_and_well_done", "returned_missing_police_known")
    denominators["episodes_per_child"] = ("episodes", "children")
    for key, (numerator, denominator) in denominators.items():
        if out[key] is not None and (under_threshold(count[numerator]) or under_threshold(count[denominator])):
            out[key] = None
            withheld.append(key)
    if out["median_duration_hours"] is not None and under_threshold(count["episodes"]):
        out["median_duration_hours"] = None
        withheld.append("median_duration_hours")
    for key in (*COUNT_KEYS, *RHI_KEYS, "safe_and_well_done"):
        if is_small(out[key]):
            out[key] = SMALL_COUNT
            withheld.append(key)
    out["episodes_by_category"] = {
        k: SMALL_COUNT if is_small(v) else v for k, v in out["episodes_by_category"].items()}
    withheld += [f"episodes_by_category.{k}" for k, v in out["episodes_by_category"].items() if v == SMALL_COUNT]
    out["suppressed"] = withheld
    return out
