"""Server-side time of every dashboard callback on a store, over a scripted set of filter changes.

    .venv/bin/python bench/callbacks.py [--db data/mfhc.duckdb] [--repeat 5] [--only homes,repeat]

Every callback of every page is called directly inside a request context (the work a
callback request does: one read-only store cursor per request, the queries, the
figures and components), and its return value is encoded to JSON as Dash sends it, so the
time includes the encoding. The filter script changes the period (a financial year, a
quarter, an arbitrary date range) and every filter of the filter bar.

- cold: the first round over the script, in a fresh process (each filter set seen for
  the first time: no application cache filled, no query result in any cache), once the
  process is ready to serve as a worker is: when it has read the store's dashboard
  tables into DuckDB's block cache (`dashboard.prefetch`, about a second at national scale,
  timed and printed). With `MFHC_PREFETCH=off` the cold round also pays DuckDB's first
  reads of the file, as a worker's first requests did before;
- warm: `--repeat` more rounds over the same script.

Prints p50 and p95 of both, the largest figure (one `dcc.Graph` figure as JSON) and the
largest whole response of each callback. Run on demand, not in CI; results go to
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

import plotly.graph_objects as go
from plotly.io.json import to_json_plotly

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import flask  # noqa: E402

from dashboard import data, prefetch  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from dashboard.filters import FILTER_INPUTS, financial_year  # noqa: E402

FILTER_NAMES = ("period_start", "period_end", "from_care", "age_band", "sex", "ethnicity_group", "risk_level")


def filter_script(last):
    """Filter sets a user steps through: a financial year, a quarter, an arbitrary range of
    dates, with each filter of the filter bar changed in turn."""
    start, end = financial_year(last)
    year = (start.isoformat(), end.isoformat())
    quarter = (start.isoformat(), start.replace(month=6, day=30).isoformat())
    return [
        (*year, "all", None, None, None, None),
        (*year, "care", None, None, None, None),
        (*year, "home", "13-15", None, None, None),
        (*quarter, "all", None, "F", None, None),
        (*year, "all", None, None, "White", "high"),
        (*quarter, "care", "16-17", None, None, None),
    ]


def arbitrary_dates(last) -> list[tuple]:
    """Two periods that start and end mid-month (the marts must not assume whole months)."""
    start, _ = financial_year(last)
    return [
        ((start - dt.timedelta(days=200)).isoformat(), (start + dt.timedelta(days=45)).isoformat(),
         "all", None, None, None, None),
        ((start + dt.timedelta(days=17)).isoformat(), (start + dt.timedelta(days=260)).isoformat(),
         "home", None, "M", "Asian", "medium"),
    ]


def as_inputs(filters: tuple) -> tuple:
    """The filter bar's control values as the callbacks receive them (controls added to the
    bar after the seven of the filter script get their defaults)."""
    return tuple(filters) + (None,) * (len(FILTER_INPUTS) - len(filters))


def enter_request(app):
    """A request context with a signed-in analyst when the data layer asks for one."""
    context = app.server.test_request_context()
    context.push()
    if hasattr(data, "Viewer"):
        # An analyst working in-process: every query allowed, small numbers shown (suppression
        # is the data layer's concern, not measured here).
        flask.g.mfhc_user = data.Viewer("bench", "analyst", local=True)
    return context


def leave_request(context) -> None:
    data.close_request_connection()
    context.pop()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def figure_sizes(result) -> list[int]:
    """JSON size of each Plotly figure in a callback's return value."""
    found = []

    def walk(value):
        if isinstance(value, go.Figure) or (isinstance(value, dict) and "data" in value and "layout" in value):
            found.append(len(to_json_plotly(value)))
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    walk(result)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="data/mfhc.duckdb")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated callback names")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--cache", action="store_true",
                        help="keep the data layer's result cache on (default: MFHC_CACHE=off, every call does "
                             "the work, as on a cache miss)")
    args = parser.parse_args()
    if not args.cache:
        os.environ["MFHC_CACHE"] = "off"
    app = create_app(Path(args.db))
    from dashboard.pages import absence, care, homes, hotspots, interviews, overview, quality, repeat

    context = enter_request(app)
    facts = data.store_facts()
    ready = time.perf_counter()
    read_ahead = prefetch.wait(data.store_version(), timeout=600)
    ready = time.perf_counter() - ready
    year = dict(zip(FILTER_NAMES, financial_year(facts["last"]) + (None,) * 5))
    home = data.query("homes_rates", None, **year).iloc[0, 0]
    child = data.query("repeat_top_children", None, **year)
    child = child.iloc[0, 0] if len(child) else None
    leave_request(context)
    script = [as_inputs(f) for f in filter_script(facts["last"]) + arbitrary_dates(facts["last"])]
    callbacks = {
        "overview": lambda f: overview.update_overview(*f),
        "homes": lambda f: homes.update_homes(*f),
        "homes detail": lambda f: homes.update_home_detail(*f, home),
        "hotspots (missing from)": lambda f: hotspots.update_hotspots(*f, "missing_from"),
        "hotspots (found)": lambda f: hotspots.update_hotspots(*f, "found"),
        "repeat": lambda f: repeat.update_repeat(*f),
        "repeat escalation": lambda f: repeat.update_repeat_escalation(*f),
        "repeat timeline": lambda f: repeat.update_repeat_timeline(child, *f),
        "interviews": lambda f: interviews.update_interviews(*f),
        "absence": lambda f: absence.update_absence(*f),
        "care": lambda f: care.update_care(*f),
        "quality": lambda f: quality.update_quality(*f),
    }
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        callbacks = {k: v for k, v in callbacks.items() if k in wanted or k.split(" ")[0] in wanted}

    def timed(run, filters) -> tuple[float, int, int]:
        # One request context per call, as a callback request runs (one store connection
        # per request, opened on first use); the return value encoded as Dash sends it.
        began = time.perf_counter()
        context = enter_request(app)
        try:
            result = run(filters)
            body = to_json_plotly(result)
        finally:
            leave_request(context)
        elapsed = (time.perf_counter() - began) * 1000
        return elapsed, max(figure_sizes(result), default=0), len(body)

    print(f"store: {args.db}; {len(script)} filter sets; cold: the first round, warm: {args.repeat} more rounds")
    print(f"the store's dashboard tables read into DuckDB's block cache before the cold round (waited {ready:.1f} s)"
          if read_ahead else "no read-ahead (MFHC_PREFETCH=off): the cold round reads the store's blocks from the file")
    # What every request pays before its first query: a cursor on this worker's instance
    # over the store (the instance is made once per store version) and closing it at the end.
    opening = []
    for _ in range(20):
        began = time.perf_counter()
        cursor, _version = data._open(Path(args.db), None)
        cursor.close()
        opening.append((time.perf_counter() - began) * 1000)
    print(f"a read-only cursor on the store, taken and closed: p50 {statistics.median(opening):.1f} ms, "
          f"p95 {percentile(opening, 0.95):.1f} ms (included in every callback below)")
    print("| callback | cold p50 ms | cold p95 ms | warm p50 ms | warm p95 ms | largest figure KB "
          "| largest response KB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    results = {}
    for name, run in callbacks.items():
        cold, warm, figure_max, body_max = [], [], 0, 0
        for round_number in range(1 + args.repeat):
            for filters in script:
                elapsed, figure_bytes, body_bytes = timed(run, filters)
                (cold if round_number == 0 else warm).append(elapsed)
                figure_max, body_max = max(figure_max, figure_bytes), max(body_max, body_bytes)
        row = {"cold_p50": statistics.median(cold), "cold_p95": percentile(cold, 0.95),
               "warm_p50": statistics.median(warm) if warm else None,
               "warm_p95": percentile(warm, 0.95) if warm else None,
               "largest_figure_kb": figure_max / 1024, "largest_response_kb": body_max / 1024}
        results[name] = row
        fmt = lambda v: "" if v is None else f"{v:,.0f}"  # noqa: E731
        print(f"| {name} | {fmt(row['cold_p50'])} | {fmt(row['cold_p95'])} | {fmt(row['warm_p50'])} | "
              f"{fmt(row['warm_p95'])} | {row['largest_figure_kb']:,.0f} | {row['largest_response_kb']:,.0f} |",
              flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
