"""Write tiny source folders for tests from lists of dicts, in the real file formats."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

from pipelines.schema import TABLES_BY_NAME


def write_table(folder: Path, table_name: str, rows: list[dict], path: str | None = None) -> Path:
    table = TABLES_BY_NAME[table_name]
    target = folder / (path or table.path)
    target.parent.mkdir(parents=True, exist_ok=True)
    unknown = {k for row in rows for k in row} - set(table.column_names)
    if unknown:
        raise KeyError(f"{table_name}: no such columns {sorted(unknown)}")
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=table.column_names)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in table.column_names})
    return target


def police(incident_ref: str, person_ref: str, last_seen_at: str, found_at: str = "", **extra) -> dict:
    row = {
        "incident_ref": incident_ref, "person_ref": person_ref, "date_of_birth": "2010-06-15", "sex": "F",
        "category": "missing", "risk_level": "medium", "last_seen_at": last_seen_at,
        "reported_at": last_seen_at, "found_at": found_at, "missing_from_type": "home",
    }
    row.update(extra)
    return row


def rhi(rhi_ref: str, outcome: str, offered_at: str = "", completed_at: str = "", **extra) -> dict:
    row = {"rhi_ref": rhi_ref, "outcome": outcome, "offered_at": offered_at, "completed_at": completed_at}
    row.update(extra)
    return row


def write_three_episodes(folder: Path) -> Path:
    """A tiny source folder: two children, three police episodes (one high risk, one from
    foster care, one a year earlier) and one completed return interview."""
    write_table(folder, "police_incidents", [
        police("I1", "P1", "2025-05-01T08:00", "2025-05-01T10:00", risk_level="high"),
        police("I2", "P2", "2025-06-01T08:00", "2025-06-01T09:00", missing_from_type="foster_care",
               date_of_birth="2012-01-01"),
        police("I3", "P2", "2024-06-01T08:00", "2024-06-01T09:00"),
    ])
    write_table(folder, "return_interviews", [rhi("R1", "completed", "2025-05-02T08:00", "2025-05-02T09:00",
                                                  person_ref="P1", episode_refs="I1")])
    return folder


# Filter bar settings the query property tests run each query under (with
# `generated_authority`, tests/conftest.py): none, the child's own filters, episode filters.
FILTER_SETS = [
    {},
    {"sex": "F"},
    {"ethnicity_group": "White", "sex": "M"},
    {"from_care": True},
    {"age_band": "13-15"},
    {"risk_level": "high", "sex": "F"},
]
EPISODE_FILTERS = ("from_care", "age_band", "sex", "ethnicity_group", "risk_level")
# The generated authority's last financial year, and a fortnight inside it, for the query
# property tests' fixed periods.
YEAR = (dt.date(2025, 4, 1), dt.date(2026, 3, 31))
FORTNIGHT = (dt.date(2025, 6, 10), dt.date(2025, 6, 24))
# The year and the fortnight under every filter set: (start, end, filters), the cases the
# query modules check by hand before their property tests.
YEAR_AND_FORTNIGHT_CASES = [(*period, filters) for period in (YEAR, FORTNIGHT) for filters in FILTER_SETS]


def params(start, end, filters: dict, **extra) -> dict:
    """A named query's bound parameters: the period, the filter bar's filters (None where
    `filters` does not set them) and any `extra` of the query."""
    return {"period_start": start, "period_end": end, **{n: filters.get(n) for n in EPISODE_FILTERS}, **extra}


def build_macros(*names: str) -> list[str]:
    """The store build's `create macro` statements of these macros (the filter bar's
    `matches_filter_bar` and the marts' table macros), in build order, for tests that make
    small marts of their own and must filter them exactly as the store does."""
    import queries

    wanted = "|".join(re.escape(name) for name in names)
    return [match.group(0)
            for build in ("marts/000_episodes_filtered.sql", "marts/020_dashboard_marts.sql")
            for match in re.finditer(rf"create macro (?:{wanted})\(.*?;", queries.build_sql(build), re.DOTALL)]


def store_of_this_build(path: Path):
    """A DuckDB file this version of mfhc will open as a store (its meta names this build),
    holding nothing else; returns a connection on it for the test to add its tables."""
    import duckdb

    from pipelines.store import build_fingerprint

    con = duckdb.connect(str(path))
    con.execute("create table meta as select 'store_build' as key, ? as value", [build_fingerprint()])
    return con
