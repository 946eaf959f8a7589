"""A worker reads the dashboard's tables into its DuckDB instance when it opens a store
version: after that, a page's first requests read no block of the file."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dashboard import data, prefetch, warm
from dashboard.app import create_app
from dashboard.filters import Filters


@pytest.fixture()
def store(generated_authority, monkeypatch):
    """The generated 400-child authority's store, served by this process."""
    path = Path(generated_authority.execute(
        "select path from duckdb_databases() where database_name = current_database()").fetchone()[0])
    data.forget_instances()
    create_app(path)
    yield path
    for thread in threading.enumerate():     # the app's own threads end before it is closed
        if thread.name in ("mfhc-open", "mfhc-prefetch"):
            thread.join(timeout=120)
    data.forget_instances()
    data.configure(None)


def table_blocks_in_memory() -> int:
    """Bytes of the store's blocks held by this process's instance (read through a cursor, as
    every thread of the app reads it)."""
    con, _ = data._open(data.db_path(), None)
    try:
        return con.execute("select sum(memory_usage_bytes) from duckdb_memory() where tag = 'BASE_TABLE'").fetchone()[0]
    finally:
        con.close()


def run_every_page() -> None:
    """Every callback of every page on a year and on a filtered quarter (result cache off)."""
    with data.acting_as("admin", "test"):
        year = Filters.default(data.store_facts()["last"])
        quarter = Filters(year.period_start, year.period_start.replace(month=6, day=30), "care", "13-15", None,
                          None, None)
        for filters in (year, quarter):
            for call in warm.default_view_calls(filters).values():
                call()


def test_after_the_read_ahead_no_page_reads_a_block_of_the_file(store, monkeypatch):
    monkeypatch.setenv("MFHC_CACHE", "off")
    monkeypatch.setattr(data, "_cache", None)
    version = data.store_version()
    before = table_blocks_in_memory()
    prefetch.read_tables(version)
    read_ahead = table_blocks_in_memory()
    assert read_ahead > before
    run_every_page()
    assert table_blocks_in_memory() == read_ahead


def test_the_tables_are_those_the_pages_name(store):
    with data.connection() as con:
        tables = prefetch.dashboard_tables(con)
    assert tables[0] == "mart_episode"                      # the largest, read by nearly every page
    assert {"mart_rhi_link", "mart_child_attendance_term", "fct_placement", "dim_home", "ref_area"} <= set(tables)
    # Only the Annex A export reads the wide episode table; nothing reads the staging tables.
    assert "fct_episode" not in tables
    assert not [name for name in tables if name.startswith("stg_")]


def test_a_worker_reads_ahead_in_the_background_when_it_opens_a_store(store, monkeypatch):
    monkeypatch.setenv("MFHC_PREFETCH", "on")
    data.forget_instances()
    create_app(store)                      # a worker starts: it opens the store in the background
    version = data.store_version()
    assert prefetch.wait(version, timeout=120)
    assert table_blocks_in_memory() > 0


def test_off_means_no_thread(store, monkeypatch):
    monkeypatch.setenv("MFHC_PREFETCH", "off")
    data.forget_instances()
    create_app(store)
    data._open(store, None)[0].close()     # a new version for this process
    assert not prefetch.wait(data.store_version(), timeout=0.1)
    assert not [thread for thread in threading.enumerate() if thread.name == "mfhc-prefetch"]


def test_a_store_replaced_before_the_read_ahead_is_left_alone(store):
    stale = (0, 0, 0)                      # a version that is no longer the file's
    assert prefetch.read_tables(stale) >= 0


def test_a_process_that_exits_while_reading_ahead_ends_cleanly(store, tmp_path):
    """DuckDB aborts the process ("terminate called") if the interpreter stops a thread
    inside a query: a short-lived process (a script, a worker shut down) must wait for the
    read-ahead, not be killed in it. Here the read-ahead is made long (its tables listed
    many times) and the process ends at once."""
    import os
    import subprocess
    import sys

    script = ("import dashboard.prefetch as p\n"
              "tables = p.dashboard_tables\n"
              "p.dashboard_tables = lambda con: tables(con) * 40\n"
              "import dashboard.app\n")
    env = {**os.environ, "MFHC_DB": str(store), "MFHC_STATE_DIR": str(tmp_path / "state"), "MFHC_PREFETCH": "on"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "terminate called" not in done.stderr
