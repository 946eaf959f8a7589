"""Dashboard questions answered by mfhc's named queries against the usual Dash approach (pandas).

    .venv/bin/python bench/compare_pandas.py --db data/bench/national.duckdb [--repeat 5]

Four questions (the Overview KPIs, the monthly trend, the repeat cohort bands, episodes
by ward), over the filter script of bench/callbacks.py, answered two ways in the same run:
(a) mfhc: `dashboard.data.kpis` / `dashboard.data.query` inside a request context, as a
callback runs (one read-only store connection per request, its opening included);
(b) the usual approach: the episodes loaded once into a pandas DataFrame (outside the
timing; only the columns these questions need, which favours pandas) and each question
answered by filtering and aggregating it in the callback. Both answers are checked to be
the same. Prints median and p95 per question and the ratio pandas / mfhc.
Run on demand, not in CI; results go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from callbacks import arbitrary_dates, enter_request, filter_script, leave_request  # noqa: E402
from dashboard import data  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from dashboard.filters import Filters  # noqa: E402

COLUMNS = ["child_id", "start_date", "category", "from_care", "risk_level", "end_date", "returned_missing",
           "rhi_offered", "rhi_offered_within_72h", "rhi_completed", "rhi_completed_within_72h",
           "police_known", "safe_and_well_at", "duration_hours", "age_band", "sex", "ethnicity_group",
           "missing_from_ward"]
BANDS = ["1", "2", "3-5", "6-9", "10+"]


# --- the usual approach: a DataFrame filtered in the callback ---------------------------------

def filtered(df: pd.DataFrame, f: Filters) -> pd.DataFrame:
    mask = (df["start_date"] >= pd.Timestamp(f.period_start)) & (df["start_date"] <= pd.Timestamp(f.period_end))
    care = f.episode_filters()["from_care"]
    if care is not None:
        mask &= df["from_care"] == care
    for column in ("age_band", "sex", "ethnicity_group", "risk_level"):
        value = getattr(f, column)
        if value is not None:
            mask &= df[column] == value
    return df[mask]


def pandas_kpis(df, f):
    e = filtered(df, f)
    per_child = e.groupby("child_id").size()
    rm = e["returned_missing"]
    return {
        "episodes": len(e),
        "missing": int((e["category"] == "missing").sum()), "absent": int((e["category"] == "absent").sum()),
        "away": int((e["category"] == "away").sum()),
        "children": len(per_child), "repeat_children": int((per_child >= 2).sum()),
        "from_care_episodes": int(e["from_care"].sum()),
        "high_risk_episodes": int((e["risk_level"] == "high").sum()),
        "still_missing": int(e["end_date"].isna().sum()),
        "returned_missing_episodes": int(rm.sum()),
        "rhi_offered": int((rm & e["rhi_offered"]).sum()),
        "rhi_offered_within_72h": int((rm & e["rhi_offered_within_72h"]).sum()),
        "rhi_completed": int((rm & e["rhi_completed"]).sum()),
        "rhi_completed_within_72h": int((rm & e["rhi_completed_within_72h"]).sum()),
        "safe_and_well_done": int((rm & e["police_known"] & e["safe_and_well_at"].notna()).sum()),
        "median_duration_hours": e["duration_hours"].median(),
    }


def pandas_trend(df, f):
    e = filtered(df, f)
    month = e["start_date"].dt.to_period("M").dt.to_timestamp()
    out = e.assign(month=month).groupby("month").agg(episodes=("child_id", "size"),
                                                     children=("child_id", "nunique")).reset_index()
    return out


def pandas_bands(df, f):
    e = filtered(df, f)
    per_child = e.groupby("child_id").size()
    band = pd.cut(per_child, [0, 1, 2, 5, 9, np.inf], labels=BANDS)
    out = pd.DataFrame({"band": band, "episodes": per_child}).groupby("band", observed=False).agg(
        children=("episodes", "size"), episodes=("episodes", "sum")).reindex(BANDS).reset_index()
    total = out["episodes"].sum()
    out["share_of_episodes_pct"] = (100.0 * out["episodes"] / total).round(1) if total else np.nan
    return out


def pandas_wards(df, f, wards):
    e = filtered(df, f)
    counts = e.loc[e["police_known"] & e["missing_from_ward"].notna(), "missing_from_ward"].value_counts()
    out = wards.copy()
    out["episodes"] = out["ward"].map(counts).fillna(0).astype("int64")
    ok = (out["episodes"] >= 5) & (out["children"] > 0)
    out["rate_per_1000"] = (1000.0 * out["episodes"] / out["children"]).round(1).where(ok)
    return out.sort_values(["episodes", "ward_name"], ascending=[False, True], kind="stable").reset_index(drop=True)


# --- mfhc: the named queries, as a callback runs them -----------------------------------------

def mfhc_kpis(f):
    k = data.kpis(f)
    c = k["episodes_by_category"]
    return {"episodes": k["episodes"], "missing": c["missing"], "absent": c["absent"], "away": c["away"],
            **{key: k[key] for key in ("children", "repeat_children", "from_care_episodes", "high_risk_episodes",
                                       "still_missing", "returned_missing_episodes", "rhi_offered",
                                       "rhi_offered_within_72h", "rhi_completed", "rhi_completed_within_72h",
                                       "safe_and_well_done", "median_duration_hours")}}


def same_kpis(a, b):
    for key in a:
        if key == "median_duration_hours":
            x, y = a[key], b[key]
            assert (x is None or x != x) == (y is None or y != y), (key, x, y)
            if x is not None and x == x:
                assert abs(x - y) <= 0.051, (key, x, y)  # mfhc rounds the median to 0.1
        else:
            assert a[key] == b[key], (key, a[key], b[key])


def same_frames(sql: pd.DataFrame, pdf: pd.DataFrame, exact: list[str], close: list[str] = ()):
    assert len(sql) == len(pdf), (len(sql), len(pdf))
    for column in exact:
        left, right = sql[column].reset_index(drop=True), pdf[column].reset_index(drop=True)
        if column == "month":
            left, right = pd.to_datetime(left), pd.to_datetime(right)
        assert (left.astype(str) == right.astype(str)).all(), column
    for column in close:
        left = pd.to_numeric(sql[column], errors="coerce").astype(float).to_numpy()
        right = pd.to_numeric(pdf[column], errors="coerce").astype(float).to_numpy()
        assert (np.isnan(left) == np.isnan(right)).all(), column
        # Rounded to 0.1 by both: DuckDB rounds a decimal half up, pandas a float half to even.
        assert np.nanmax(np.abs(left - right), initial=0) <= 0.1001, column


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="data/mfhc.duckdb")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("MFHC_CACHE", "off")  # every call does the work, as on a cache miss
    app = create_app(Path(args.db))
    context = enter_request(app)
    facts = data.store_facts()
    leave_request(context)
    script = [Filters(dt.date.fromisoformat(s), dt.date.fromisoformat(e), care, age, sex, eth, risk)
              for s, e, care, age, sex, eth, risk in filter_script(facts["last"]) + arbitrary_dates(facts["last"])]

    began = time.perf_counter()
    con = duckdb.connect(args.db, read_only=True)
    df = con.execute(f"select {', '.join(COLUMNS)} from fct_episode").df()
    con.close()
    load_seconds = time.perf_counter() - began
    # The ward list with population and IMD is reference data: taken once, outside the timing.
    context = enter_request(app)
    wards = data.query("hotspots_ward_rates", script[0], place="missing_from")[
        ["ward", "ward_name", "children", "imd_decile"]].sort_values("ward").reset_index(drop=True)
    leave_request(context)

    questions = {
        "overview KPIs": (mfhc_kpis, lambda f: pandas_kpis(df, f), same_kpis),
        "monthly trend": (lambda f: data.query("overview_monthly_trend", f), lambda f: pandas_trend(df, f),
                          lambda a, b: same_frames(a, b, ["month", "episodes", "children"])),
        "repeat cohort bands": (lambda f: data.query("repeat_cohort_bands", f), lambda f: pandas_bands(df, f),
                                lambda a, b: same_frames(a, b, ["band", "children", "episodes"],
                                                         ["share_of_episodes_pct"])),
        "episodes by ward": (lambda f: data.query("hotspots_ward_rates", f, place="missing_from"),
                             lambda f: pandas_wards(df, f, wards),
                             lambda a, b: same_frames(a, b, ["ward", "episodes"], ["rate_per_1000"])),
    }

    def mfhc_call(run, f):
        context = enter_request(app)
        try:
            return run(f)
        finally:
            leave_request(context)

    print(f"store: {args.db}, {len(df):,} episodes; {len(script)} filter sets x {args.repeat} rounds; "
          f"episodes into pandas once in {load_seconds:.1f} s, {df.memory_usage(deep=True).sum() / 2**20:,.0f} MiB")
    print("| question | mfhc p50 ms | mfhc p95 ms | pandas p50 ms | pandas p95 ms | pandas / mfhc (p50) |")
    print("|---|---:|---:|---:|---:|---:|")
    all_ratios = []
    for name, (mine, theirs, check) in questions.items():
        for f in script:  # warm-up round, and the check that both give the same numbers
            check(mfhc_call(mine, f), theirs(f))
        times = {"mfhc": [], "pandas": []}
        for _ in range(args.repeat):
            for f in script:
                began = time.perf_counter()
                mfhc_call(mine, f)
                times["mfhc"].append((time.perf_counter() - began) * 1000)
                began = time.perf_counter()
                theirs(f)
                times["pandas"].append((time.perf_counter() - began) * 1000)
        row = []
        for who in ("mfhc", "pandas"):
            t = sorted(times[who])
            row += [statistics.median(t), t[min(len(t) - 1, int(round(0.95 * (len(t) - 1))))]]
        all_ratios.append(row[2] / row[0])
        print(f"| {name} | {row[0]:.0f} | {row[1]:.0f} | {row[2]:.0f} | {row[3]:.0f} | {row[2] / row[0]:.1f}× |")
    print(f"median of the four ratios: {statistics.median(all_ratios):.1f}×")


if __name__ == "__main__":
    main()
