"""The dashboard's only way to the data: named queries on a read-only cursor per request,
checked against the viewer's role and suppressed as the role requires.

A load swaps a new store file in with `os.replace`; every request checks the file's
version and reads the instance of that version (one per worker, made anew after a load),
so the app picks up a new load without a restart and never mixes two stores in one
response. Aggregate results are cached on disk (shared by gunicorn workers) under the
store's version, so a new load invalidates them by construction; record-level results
are never cached.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import pickle
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import flask
import pandas as pd

from dashboard import access
from dashboard.access import RECORD, AccessDenied, Aggregate
from dashboard.filters import Filters
from pipelines.config import ConfigError, load_settings
from pipelines.kpis import kpi_params, kpis_from_row
from pipelines.store import StoreMissing, check_built_here, run_named
from pipelines.suppression import suppress_frame

log = logging.getLogger(__name__)
_db_path: Path | None = None
_cache = None


class StoreChanged(Exception):
    """A load was swapped in during this request: the request is answered again, whole."""


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str
    local: bool = False      # in-process use (tests, benchmarks, the command line): no session


LOCAL_VIEWER = Viewer("local", "admin", local=True)
_viewer: contextvars.ContextVar[Viewer] = contextvars.ContextVar("mfhc_viewer", default=LOCAL_VIEWER)


def configure(db_path: Path | None) -> None:
    global _db_path, _cache
    _db_path = Path(db_path) if db_path else None
    _cache = None


def db_path() -> Path:
    if _db_path is not None:
        return _db_path
    return Path(os.environ.get("MFHC_DB") or load_settings().db_path)


def viewer() -> Viewer:
    """Who is asking: the signed-in user of this request (set by dashboard.auth), else the
    in-process viewer. A request without a signed-in user gets nothing."""
    if flask.has_request_context():
        user = getattr(flask.g, "mfhc_user", None)
        if user is None:
            raise AccessDenied("no signed-in user")
        return user
    return _viewer.get()


@contextmanager
def acting_as(role: str, name: str = "test"):
    """In-process use as a given role (tests, the board pack)."""
    token = _viewer.set(Viewer(name, role))
    try:
        yield
    finally:
        _viewer.reset(token)


def suppressing(filters: Filters | None) -> bool:
    """Small numbers are suppressed for the board always; for the others unless they chose
    to show them (the filter bar's "show small numbers", honoured only for their roles)."""
    who = viewer()
    if not access.may_show_small_numbers(who.role):
        return True
    if who.local:
        return False
    return not (filters is not None and filters.show_small)


def _store_version(path: Path) -> tuple:
    try:
        status = path.stat()
    except FileNotFoundError:
        raise StoreMissing(f"{path}: no store yet; run `mfhc load DIR` or `mfhc demo`") from None
    return (status.st_ino, status.st_mtime_ns, status.st_size)


# One DuckDB instance per worker process over the store, reused by every request: opening
# a store is a new instance (about 25 ms, and its block cache starts empty), a cursor is
# 0.3 ms. The file is ATTACHed read-only into an in-memory database rather than opened with
# duckdb.connect(path), because DuckDB caches instances by path: after a load has replaced
# the file, connect(path) would hand back the instance of the replaced file.
_instances: dict[str, tuple[int, tuple, duckdb.DuckDBPyConnection]] = {}
_instances_lock = threading.Lock()
_new_version_hooks: list = []


def when_new_version(hook) -> None:
    """Call `hook(version)` whenever this process makes an instance for a store version
    (its first, and each one a load swaps in); dashboard.warm uses it."""
    if hook not in _new_version_hooks:
        _new_version_hooks.append(hook)


def _instance_config(path: Path) -> dict:
    """`[database] serve_memory_limit`, when set: each worker keeps an instance, whose block
    cache may otherwise grow to DuckDB's default (80 % of the machine's memory)."""
    try:
        limit = load_settings(db_path=path).serve_memory_limit
    except ConfigError:
        limit = None
    return {"memory_limit": limit} if limit else {}


def _instance(path: Path, expected: tuple | None) -> tuple[duckdb.DuckDBPyConnection, tuple]:
    """This process's instance over the file whose version is `expected` (None: the current
    one), made anew when a load has swapped in another file. A replaced instance is dropped,
    not closed: requests still reading it hold cursors, which keep it alive until they end."""
    key = str(path)
    for _ in range(3):
        version = _store_version(path)
        if expected is not None and version != expected:
            raise StoreChanged(f"{path} was replaced during the request")
        with _instances_lock:
            held = _instances.get(key)
            if held is not None and held[0] == os.getpid() and held[1] == version:
                return held[2], version
            instance = duckdb.connect(":memory:", config=_instance_config(path))
            try:
                instance.execute("attach ? as store (read_only)", [key])
                # A store another version of mfhc built is never read (StoreOutdated: the
                # pages say to load again, the callbacks answer 503).
                check_built_here(instance, path, "store.meta")
            except BaseException:
                instance.close()
                raise
            made = _store_version(path) == version
            if made:
                _instances[key] = (os.getpid(), version, instance)
            else:
                instance.close()
        if made:
            for hook in _new_version_hooks:
                hook(version)
            return instance, version
    raise StoreChanged(f"{path} keeps changing")


def open_in_background() -> None:
    """Open the store in a background thread, as a worker starts: its version is new to the
    process, so the `when_new_version` hooks (the warm-up, the prefetch) run before the first
    request rather than during it. Installed hooks first, then this."""
    def first_read() -> None:
        try:
            _open(db_path(), None)[0].close()
        except Exception:  # noqa: BLE001 - no store yet, or a damaged one: the pages say so
            log.info("no store to open yet", exc_info=True)

    threading.Thread(target=first_read, name="mfhc-open").start()   # not a daemon: see dashboard.prefetch


def _open(path: Path, expected: tuple | None):
    """A read-only cursor on the file whose version is `expected` (None: any)."""
    instance, version = _instance(path, expected)
    # DuckDB refuses a call on a connection that another thread is in ("connection is
    # busy"), and every request thread, the read-ahead and the warm-up take their cursors
    # from the one instance: one at a time (a cursor takes about 0.3 ms).
    with _instances_lock:
        cursor = instance.cursor()
    cursor.execute("use store")
    return cursor, version


def forget_instances() -> None:
    """Close every instance this process holds (tests that rewrite a store in place)."""
    with _instances_lock:
        for _pid, _version, instance in _instances.values():
            instance.close()
        _instances.clear()


@contextmanager
def connection():
    """One read-only cursor per HTTP request, taken at the first query that needs it and
    closed when the request ends; every figure of one response comes from the same store
    version (cached ones included). Outside a request, a cursor per call."""
    if flask.has_request_context():
        con = getattr(flask.g, "mfhc_store", None)
        if con is None:
            con, version = _open(db_path(), getattr(flask.g, "mfhc_store_version", None))
            flask.g.mfhc_store = con
            flask.g.mfhc_store_version = version
        yield con
        return
    con, _ = _open(db_path(), None)
    try:
        yield con
    finally:
        con.close()


def store_version() -> tuple:
    if flask.has_request_context():
        version = getattr(flask.g, "mfhc_store_version", None)
        if version is None:
            version = flask.g.mfhc_store_version = _store_version(db_path())
        return version
    return _store_version(db_path())


def close_request_connection(_error=None) -> None:
    flask.g.pop("mfhc_results", None)
    con = flask.g.pop("mfhc_store", None)
    flask.g.pop("mfhc_store_version", None)
    if con is not None:
        con.close()


def cache_directory() -> Path:
    """Where the shared cache lives: beside the application state."""
    return load_settings(db_path=db_path()).state_path / "cache"


def _result_cache():
    """Aggregates cached on disk beside the application state (mode 600), shared by workers."""
    global _cache
    if _cache is None and os.environ.get("MFHC_CACHE", "on") != "off":
        from cachelib import FileSystemCache

        _cache = FileSystemCache(str(cache_directory()), threshold=5000, default_timeout=0, mode=0o600)
    return _cache


def _run(name: str, params: dict, cacheable: bool) -> pd.DataFrame:
    """A named query's result: from this request's own results (one view often asks the same
    question twice, e.g. a year's previous period is the year before), else from the shared
    cache when `cacheable`, else from the store."""
    memo = flask.g.setdefault("mfhc_results", {}) if flask.has_request_context() else None
    memo_key = (name, tuple(sorted(params.items(), key=str)))
    if memo is not None and memo_key in memo:
        return memo[memo_key].copy()
    frame = _cached_or_run(name, params, cacheable)
    if memo is not None:
        memo[memo_key] = frame.copy()
    return frame


def _cached_or_run(name: str, params: dict, cacheable: bool) -> pd.DataFrame:
    cache = _result_cache() if cacheable else None
    key = None
    if cache is not None:
        version = store_version()
        key = hashlib.sha256(pickle.dumps((str(db_path()), version, name, sorted(params.items(), key=str)))).hexdigest()
        hit = cache.get(key)
        if hit is not None:
            return hit
    with connection() as con:
        frame = run_named(con, name, params)
    if cache is not None:
        cache.set(key, frame)
    return frame


def cached_answer(records: bool = False):
    """Marks a page callback whose answer may be cached whole (see `cached_responses`).
    `records=True`: its answer holds record-level rows for analysts, so it is cached only for
    the roles that never see them: record-level rows are never written to the cache."""
    def mark(callback_function):
        callback_function.mfhc_answer_records = records
        return callback_function
    return mark


def _answer_policy(callback_map: dict, output: str):
    """None: not cacheable; else the callback's `records` flag (found through Dash's wrappers)."""
    entry = callback_map.get(output)
    function = entry.get("callback") if entry else None
    while function is not None:
        if hasattr(function, "mfhc_answer_records"):
            return function.mfhc_answer_records
        function = getattr(function, "__wrapped__", None)
    return None


def cached_responses(view, callback_map: dict):
    """Callback answers cached whole, as the bytes sent, under the store's version, the
    viewer's role and the request (the callback and every input, the small-numbers choice
    among them); shared by the workers, so many people looking at the same period get it built
    once per load. Only callbacks marked with `cached_answer`; a new load is a new version."""
    @functools.wraps(view)
    def answer(*args, **kwargs):
        cache = _result_cache()
        body = flask.request.get_data(cache=True)
        try:
            output = json.loads(body)["output"]
        except (ValueError, KeyError, TypeError):
            return view(*args, **kwargs)
        records = _answer_policy(callback_map, output) if cache is not None else None
        if records is None or (records and access.may_see_records(viewer().role)):
            return view(*args, **kwargs)
        who = viewer().role

        def key() -> str:
            return "answer-" + hashlib.sha256(pickle.dumps((str(db_path()), store_version(), who, body))).hexdigest()

        hit = cache.get(key())
        if hit is not None:
            return flask.Response(hit, mimetype="application/json")
        response = flask.make_response(view(*args, **kwargs))
        if response.status_code == 200:
            cache.set(key(), response.get_data())   # the version the answer was built from
        return response
    return answer


def query(name: str, filters: Filters | None = None, **extra) -> pd.DataFrame:
    """A named query of queries/metrics/, with the filter bar's bound parameters, as the
    viewer's role allows (AccessDenied otherwise) and suppressed as it requires."""
    policy = access.check(name, viewer().role)
    params = filters.sql_params() if filters else {}
    params.update(extra)
    frame = _run(name, params, cacheable=policy != RECORD)
    # Suppression belongs to the board view: the queries its pages read (officer-only
    # pages, such as data quality, show exact counts to the officers who may open them).
    if (isinstance(policy, Aggregate) and "board" in policy.roles and (policy.counts or policy.shares)
            and suppressing(filters)):
        frame = suppress_frame(frame, policy.counts, policy.shares)
    return frame


def aggregate(name: str, filters: Filters, summarise, counts=(), shares=None, **extra) -> pd.DataFrame:
    """An aggregate of a record-level query, for every role: the records stay here; only
    `summarise(records)` leaves, suppressed like any aggregate."""
    access.check("overview_monthly_trend", viewer().role)      # any signed-in role
    params = {**filters.sql_params(), **extra}
    frame = summarise(_run(name, params, cacheable=False))
    if (counts or shares) and suppressing(filters):
        frame = suppress_frame(frame, counts, shares)
    return frame


def kpis(filters: Filters, period_start: dt.date | None = None, period_end: dt.date | None = None) -> dict:
    """The board KPIs of a period under the filter bar; the query's row is cached like any
    aggregate (the previous period and the year before of one view are often another's)."""
    access.check("kpis", viewer().role)
    start, end = period_start or filters.period_start, period_end or filters.period_end
    row = _run("kpis", kpi_params(start, end, filters.episode_filters()), cacheable=True)
    return kpis_from_row(row, start, end, suppress=suppressing(filters))


PACK_ROLES = ("board", "manager", "admin")


def board_pack(filters: Filters, where: str) -> bytes:
    """The board pack PDF of the filter bar's period (the other filters do not apply to it),
    suppressed as the viewer's role requires; written to the audit log by the builder."""
    who = viewer()
    if who.role not in PACK_ROLES:
        raise AccessDenied("the board pack is for board members, managers and administrators")
    from pipelines.board_pack import build_board_pack

    settings = load_settings(db_path=db_path())
    return build_board_pack(settings, filters.period_start, filters.period_end, suppress=suppressing(filters),
                            produced_by=who.name, where=where)


def require_admin() -> Viewer:
    who = viewer()
    if not access.is_admin(who.role):
        raise AccessDenied("for administrators")
    return who


_facts: dict[tuple, dict] = {}


def store_facts() -> dict:
    """What the shell shows about the store: synthetic or not, when loaded, the date range
    (read once per store version: every page view shows them)."""
    version = (str(db_path()), store_version())
    if version in _facts:
        return dict(_facts[version])
    facts = _store_facts()
    _facts.clear()
    _facts[version] = facts
    return dict(facts)


# The tables `_store_facts` reads (dashboard.prefetch reads them ahead with the pages' own).
STORE_FACTS_TABLES = ("meta", "mart_episode")


def _store_facts() -> dict:
    with connection() as con:
        meta = dict(con.execute("select key, value from meta").fetchall())
        first, last = con.execute("select min(start_date), max(start_date) from mart_episode").fetchone()
    return {
        "synthetic": meta.get("synthetic") == "true",
        "loaded_at": meta.get("loaded_at"),
        "first": first,
        "last": last,
    }
