"""The default view worked out before anyone asks for it.

Most visits open a page on the filter bar's default (the latest financial year, no other
filter). When a worker first reads a store version (at start, and after every load), one
worker per store version runs every page's callback for that view in a background thread,
as an admin, so the aggregate query results they need are in the shared result cache
(`dashboard.data`) before the first visitor: their first page is answered without a
query. Record-level results are never cached, so nothing of a child is written.

Off with `MFHC_WARM=off`, and pointless (so skipped) with `MFHC_CACHE=off`.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import logging
import os
import sys
import threading
import time
from pathlib import Path

from dashboard import data
from dashboard.filters import FILTER_INPUTS, Filters
from pipelines.store import StoreMissing

log = logging.getLogger(__name__)


def _page(name: str):
    """A page module as the app loaded it: Dash's pages folder imports `pages.<name>`; tests
    and scripts import `dashboard.pages.<name>`. A page is never first imported here: an
    import in this thread would register the page outside Dash's context."""
    for module_name in (f"pages.{name}", f"dashboard.pages.{name}"):
        if module_name in sys.modules:
            return sys.modules[module_name]
    return importlib.import_module(f"dashboard.pages.{name}")


def default_view_calls(filters: Filters) -> dict:
    """Every page callback of the default view, as the pages call them on a first visit
    (no home, child or place chosen yet)."""
    absence, care, homes, hotspots, interviews, overview, quality, repeat = (
        _page(name) for name in ("absence", "care", "homes", "hotspots", "interviews", "overview", "quality", "repeat"))

    values = (filters.period_start.isoformat(), filters.period_end.isoformat(), filters.care,
              filters.age_band, filters.sex, filters.ethnicity_group, filters.risk_level)
    values += (None,) * (len(FILTER_INPUTS) - len(values))
    return {
        "overview": lambda: overview.update_overview(*values),
        "homes": lambda: homes.update_homes(*values),
        "homes detail": lambda: homes.update_home_detail(*values, None),
        "hotspots (missing from)": lambda: hotspots.update_hotspots(*values, "missing_from"),
        "hotspots (found)": lambda: hotspots.update_hotspots(*values, "found"),
        "repeat": lambda: repeat.update_repeat(*values),
        "repeat escalation": lambda: repeat.update_repeat_escalation(*values),
        "interviews": lambda: interviews.update_interviews(*values),
        "absence": lambda: absence.update_absence(*values),
        "care": lambda: care.update_care(*values),
        "quality": lambda: quality.update_quality(*values),
    }


def warm_default_view() -> dict[str, float]:
    """Run every callback of the default view as an admin; seconds each (None: it failed)."""
    took: dict[str, float | None] = {}
    with data.acting_as("admin", "warm-up"):
        filters = Filters.default(data.store_facts()["last"])
        for name, call in default_view_calls(filters).items():
            began = time.perf_counter()
            try:
                call()
                took[name] = time.perf_counter() - began
            except Exception:  # noqa: BLE001 - a page that fails here fails for its visitor too, visibly
                log.exception("warming %s failed", name)
                took[name] = None
    return took


def _lock_path(version: tuple) -> Path | None:
    if data._result_cache() is None:      # no shared cache: nothing to warm
        return None
    digest = hashlib.sha256(repr((str(data.db_path()), version)).encode()).hexdigest()[:16]
    return data.cache_directory() / f"warm-{digest}.lock"


def _warm_once(version: tuple) -> None:
    """Warm for this store version unless another worker is doing it or has done it."""
    lock_path = _lock_path(version)
    if lock_path is None:
        return
    with open(lock_path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return   # another worker is warming this version
        lock.seek(0)
        if lock.read().strip() == "done":
            return
        began = time.perf_counter()
        took = warm_default_view()
        try:
            current = data.store_version() == version
        except StoreMissing:   # the store went away meanwhile: nothing to mark as warmed
            current = False
        if current:
            lock.seek(0)
            lock.truncate()
            lock.write("done")
            log.info("default view warmed in %.1f s: %s", time.perf_counter() - began, took)


def enabled() -> bool:
    return os.environ.get("MFHC_WARM", "on") != "off" and os.environ.get("MFHC_CACHE", "on") != "off"


def _on_new_version(version: tuple) -> None:
    # Not a daemon, as the read-ahead's (dashboard.prefetch): DuckDB aborts the process
    # ("terminate called") when the interpreter stops a thread inside a query, so a process
    # ending during the warm-up waits for it (a few seconds at national scale).
    if enabled():
        threading.Thread(target=_warm_once, args=(version,), name="mfhc-warm").start()


def install() -> None:
    """Warm the default view whenever this process first reads a store version: when it
    starts (`data.open_in_background`, called by create_app after every such hook is
    installed) and after each load."""
    data.when_new_version(_on_new_version)
