"""A worker reads the dashboard's tables into DuckDB's block cache when it opens a store
version, before its visitors ask.

A DuckDB instance starts with an empty block cache: the first query that touches a column
reads its blocks from the file and checks them, which at national scale (2 million
episodes) adds tens of milliseconds to each of a worker's first requests, and up to about
a hundred to a page's first callbacks. When a worker opens a store version (when it starts,
and at its first request after a load), a background thread reads every column of the
tables the dashboard's queries read, once: about a second and 150–300 MB of the worker's
DuckDB memory at national scale, much less for one authority. DuckDB keeps nothing but its
own cache of the file's blocks, and its memory limit (`[database] serve_memory_limit`) still
bounds it: blocks beyond it are evicted as usual.

The tables are those named by the named queries of `queries/metrics/`, directly or through
the table macros of the store's build (`mart_episodes_filtered` reads `mart_episode`), and
those of `dashboard.data.store_facts`: one source of truth, so a query added to a page is
read ahead without a list to keep in step. The Annex A export's queries are left out: it
is a download, not a page.

Off with `MFHC_PREFETCH=off`.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from functools import lru_cache

from dashboard import data
from queries import QUERIES_DIR

log = logging.getLogger(__name__)

# Named-query files of queries/metrics/ that no dashboard page runs.
NOT_READ_BY_PAGES = ("annex_a.sql",)
_WORD = re.compile(r"\b[a-z_][a-z0-9_]*\b")
_MACRO = re.compile(r"create\s+(?:or\s+replace\s+)?macro\s+(\w+)\s*\((.*?);\s*$", re.DOTALL | re.MULTILINE)

_done: dict[tuple, threading.Event] = {}
_done_lock = threading.Lock()


def _words(path) -> set[str]:
    return set(_WORD.findall(re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8")).lower()))


@lru_cache(maxsize=None)
def words_of_dashboard_queries() -> frozenset[str]:
    """Every identifier-like word of the dashboard's named queries and of the build's macros
    they call, and the tables of `store_facts` (lower case, comments left out)."""
    words: set[str] = set(data.STORE_FACTS_TABLES)
    for path in sorted((QUERIES_DIR / "metrics").glob("*.sql")):
        if path.name not in NOT_READ_BY_PAGES:
            words |= _words(path)
    macros: dict[str, set[str]] = {}
    for path in sorted(QUERIES_DIR.glob("*/*.sql")):
        text = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8")).lower()
        for name, body in _MACRO.findall(text):
            macros[name] = set(_WORD.findall(body))
    called = set()
    while called != (now := {name for name in macros if name in words}):
        called = now
        for name in called:
            words |= macros[name]
    return frozenset(words)


def dashboard_tables(con) -> list[str]:
    """The store's tables that the dashboard's queries name, largest first (the episode
    mart, which nearly every page reads, comes first)."""
    tables = con.execute(
        "select table_name from duckdb_tables() where database_name = current_database() "
        "order by estimated_size desc, table_name").fetchall()
    words = words_of_dashboard_queries()
    return [name for (name,) in tables if name in words]


def read_tables(version: tuple) -> float:
    """Read every column of the dashboard's tables of store `version` into this worker's
    instance; seconds taken. Stops quietly if a load replaces the store meanwhile."""
    began = time.perf_counter()
    try:
        con, _ = data._open(data.db_path(), version)
    except (data.StoreChanged, data.StoreMissing):
        return time.perf_counter() - began
    try:
        for table in dashboard_tables(con):
            # hash() reads every value of every column: a scan alone may be answered from
            # the table's statistics (a count of a column without NULLs is its row count).
            con.execute("select bit_xor(hash(columns(*))) from query_table($name)", {"name": table}).fetchall()
    finally:
        con.close()
    return time.perf_counter() - began


def _event(version: tuple) -> threading.Event:
    with _done_lock:
        return _done.setdefault(version, threading.Event())


def _read_in_background(version: tuple) -> None:
    done = _event(version)
    try:
        took = read_tables(version)
        log.info("store tables read into the block cache in %.1f s", took)
    except Exception:  # noqa: BLE001 - only a head start: the requests read what they need anyway
        log.exception("reading the store's tables ahead failed")
    finally:
        done.set()


def enabled() -> bool:
    return os.environ.get("MFHC_PREFETCH", "on") != "off"


def _on_new_version(version: tuple) -> None:
    # Not a daemon: a process that exits while DuckDB is still reading would be aborted
    # ("terminate called") when the interpreter stops the thread inside the query; it waits
    # for the read instead (about a second at national scale).
    if enabled():
        threading.Thread(target=_read_in_background, args=(version,), name="mfhc-prefetch").start()


def wait(version: tuple, timeout: float) -> bool:
    """Wait until the tables of `version` are read ahead (True), or `timeout` seconds
    (False; also when prefetching is off). For the benchmarks: a worker ready to serve."""
    if not enabled():
        return False
    return _event(version).wait(timeout)


def install() -> None:
    """Read the tables ahead whenever this process opens a store version."""
    data.when_new_version(_on_new_version)
