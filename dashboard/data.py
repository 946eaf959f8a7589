"""The dashboard's only way to the data: named queries on a short-lived read-only connection.

A load swaps a new store file in with `os.replace`; every call here opens the current
file, so the app picks up a new load without a restart and never mixes two stores in
one query.
"""

from __future__ import annotations

import datetime as dt
import os
from contextlib import contextmanager
from pathlib import Path

import duckdb
import flask
import pandas as pd

from dashboard.filters import Filters
from pipelines.config import load_settings
from pipelines.kpis import compute_kpis
from pipelines.store import StoreMissing, read_only, run_named

_db_path: Path | None = None


def configure(db_path: Path | None) -> None:
    global _db_path
    _db_path = Path(db_path) if db_path else None


def db_path() -> Path:
    if _db_path is not None:
        return _db_path
    return Path(os.environ.get("MFHC_DB") or load_settings().db_path)


@contextmanager
def connection():
    """One read-only connection per HTTP request (opening the store costs ~20 ms), closed when
    the request ends: every query of one response reads the same store file, so a load
    swapped in meanwhile never mixes old and new figures in one response. Outside a
    request (tests, benchmarks), a connection per call."""
    if flask.has_request_context():
        con = getattr(flask.g, "mfhc_store", None)
        if con is None:
            path = db_path()
            if not path.exists():
                raise StoreMissing(f"{path}: no store yet; run `mfhc load DIR` or `mfhc demo`")
            con = flask.g.mfhc_store = duckdb.connect(str(path), read_only=True)
        yield con
        return
    with read_only(db_path()) as con:
        yield con


def close_request_connection(_error=None) -> None:
    con = flask.g.pop("mfhc_store", None)
    if con is not None:
        con.close()


def query(name: str, filters: Filters | None = None, **extra) -> pd.DataFrame:
    """A named query of queries/metrics/, with the filter bar's bound parameters."""
    params = filters.sql_params() if filters else {}
    params.update(extra)
    with connection() as con:
        return run_named(con, name, params)


def kpis(filters: Filters, period_start: dt.date | None = None, period_end: dt.date | None = None) -> dict:
    with connection() as con:
        return compute_kpis(con, period_start or filters.period_start, period_end or filters.period_end,
                            filters.episode_filters())


def store_facts() -> dict:
    """What the shell shows about the store: synthetic or not, when loaded, the date range."""
    with connection() as con:
        meta = dict(con.execute("select key, value from meta").fetchall())
        first, last = con.execute("select min(start_date), max(start_date) from fct_episode").fetchone()
    return {
        "synthetic": meta.get("synthetic") == "true",
        "loaded_at": meta.get("loaded_at"),
        "first": first,
        "last": last,
    }
