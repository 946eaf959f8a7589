"""Read access to the analytical store: one short-lived read-only connection per use, so a
load swapped in by `os.replace` is picked up at once and never blocks."""

from __future__ import annotations

import hashlib
import re
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import duckdb

import queries


class StoreMissing(Exception):
    pass


class StoreOutdated(StoreMissing):
    """The store was built by another version of mfhc's build (its tables may lack what the
    queries read, or hold what an older build worked out): it must be loaded again."""


# Raise by one when the load's Python changes what a store holds without its SQL changing
# (pseudonymising, geocoding, the components step, the reference tables): the SQL and the
# staging DDL are in the fingerprint on their own.
BUILD_REVISION = 1


@lru_cache(maxsize=1)
def build_fingerprint() -> str:
    """What a store's shape and contents depend on besides its data: the staging tables'
    DDL (pipelines/schema.py), every build step (queries/core, queries/marts), comments and
    spacing aside, and BUILD_REVISION. The load records it in `meta` (key store_build); a
    store with another one is refused with StoreOutdated, so a new version of mfhc never
    reads tables it did not build."""
    from pipelines.schema import TABLES, staging_ddl

    digest = hashlib.sha256(f"revision {BUILD_REVISION}\n".encode())
    for table in TABLES:
        digest.update(staging_ddl(table).encode())
    for folder in ("core", "marts"):
        for path in sorted((queries.QUERIES_DIR / folder).glob("*.sql")):
            text = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
            digest.update(f"{folder}/{path.name}\n{' '.join(text.split())}\n".encode())
    return digest.hexdigest()[:16]


def check_built_here(con: duckdb.DuckDBPyConnection, path: Path, meta_table: str = "meta") -> None:
    """Raise StoreOutdated unless the store on `con` was built by this version's build."""
    try:
        built = con.execute(f"select value from {meta_table} where key = 'store_build'").fetchone()
    except duckdb.CatalogException:
        built = None
    if built is None or built[0] != build_fingerprint():
        raise StoreOutdated(f"{path}: the store was built by another version of mfhc; load the data again "
                            f"with `mfhc load DIR` (or `mfhc demo`)")


@contextmanager
def read_only(db_path: Path):
    db_path = Path(db_path)
    if not db_path.exists():
        raise StoreMissing(f"{db_path}: no store yet; run `mfhc load DIR` or `mfhc demo`")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        check_built_here(con, db_path)
        yield con
    finally:
        con.close()


def run_named(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None):
    """A named query of queries/metrics with bound parameters, as a DataFrame."""
    return con.execute(queries.named(name), params or {}).df()
