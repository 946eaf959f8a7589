"""Server-side time of every dashboard callback on a store, over a scripted set of filter changes.

    .venv/bin/python bench/callbacks.py [--db data/mfhc.duckdb] [--repeat 5]

Each callback is called directly (the work a request does, without HTTP), first cold
(the first call after start) and then warm over the filter script; prints p50 and p95.
Run on demand, not in CI; results go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard import data  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from dashboard.filters import financial_year  # noqa: E402


def filter_script(last):
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="data/mfhc.duckdb")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    app = create_app(Path(args.db))
    from dashboard.pages import absence, care, homes, hotspots, interviews, overview, quality, repeat

    facts = data.store_facts()
    script = filter_script(facts["last"])
    home = data.query("homes_rates", None, **dict(zip(
        ("period_start", "period_end", "from_care", "age_band", "sex", "ethnicity_group", "risk_level"),
        (financial_year(facts["last"]) + (None,) * 5)))).iloc[0, 0]
    child = data.query("repeat_top_children", None, **dict(zip(
        ("period_start", "period_end", "from_care", "age_band", "sex", "ethnicity_group", "risk_level"),
        (financial_year(facts["last"]) + (None,) * 5))))
    child = child.iloc[0, 0] if len(child) else None
    callbacks = {
        "overview": lambda f: overview.update_overview(*f),
        "homes": lambda f: homes.update_homes(*f, None),
        "homes detail": lambda f: homes.update_home_detail(*f, home),
        "hotspots": lambda f: hotspots.update_hotspots(*f, "missing_from"),
        "repeat": lambda f: repeat.update_repeat(*f, None),
        "repeat timeline": lambda f: repeat.update_repeat_timeline(child, *f),
        "interviews": lambda f: interviews.update_interviews(*f),
        "absence": lambda f: absence.update_absence(*f),
        "care": lambda f: care.update_care(*f),
        "quality": lambda f: quality.update_quality(*f),
    }
    print(f"store: {args.db}, {len(script)} filter sets x {args.repeat} rounds")
    print("| callback | cold ms | warm p50 ms | warm p95 ms |")
    print("|---|---:|---:|---:|")
    for name, run in callbacks.items():
        # Each call inside its own request context, as a callback request runs (one store
        # connection per request, opened on first use).
        began = time.perf_counter()
        with app.server.test_request_context():
            run(script[0])
            data.close_request_connection()
        cold = (time.perf_counter() - began) * 1000
        times = []
        for _ in range(args.repeat):
            for filters in script:
                began = time.perf_counter()
                with app.server.test_request_context():
                    run(filters)
                    data.close_request_connection()
                times.append((time.perf_counter() - began) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        print(f"| {name} | {cold:.0f} | {statistics.median(times):.0f} | {p95:.0f} |")


if __name__ == "__main__":
    main()
