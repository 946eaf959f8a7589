"""Read access to the analytical store: one short-lived read-only connection per use, so a
load swapped in by `os.replace` is picked up at once and never blocks."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import duckdb

import queries


class StoreMissing(Exception):
    pass


@contextmanager
def read_only(db_path: Path):
    db_path = Path(db_path)
    if not db_path.exists():
        raise StoreMissing(f"{db_path}: no store yet; run `mfhc load DIR` or `mfhc demo`")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def run_named(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None):
    """A named query of queries/metrics with bound parameters, as a DataFrame."""
    return con.execute(queries.named(name), params or {}).df()
