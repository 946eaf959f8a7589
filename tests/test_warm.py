"""The default view is worked out once per store version, before the first visitor."""

from __future__ import annotations

import time

import pytest

from dashboard import access, data, warm
from dashboard.app import create_app
from dashboard.filters import Filters
from pipelines.config import Settings
from pipelines.load import load
from sources import write_three_episodes


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.delenv("MFHC_CACHE", raising=False)
    source = tmp_path / "src"
    write_three_episodes(source)
    db = tmp_path / "mfhc.duckdb"
    load(source, Settings(db_path=db))
    create_app(db)
    yield db
    data.forget_instances()
    data.configure(None)


def _queries_run(monkeypatch) -> list[str]:
    ran: list[str] = []
    real = data.run_named

    def counting(con, name, params=None):
        ran.append(name)
        return real(con, name, params)

    monkeypatch.setattr(data, "run_named", counting)
    return ran


def test_after_warming_the_default_view_needs_no_aggregate_query(store, monkeypatch):
    took = warm.warm_default_view()
    assert set(took) == set(warm.default_view_calls(Filters.default(None)))
    assert all(seconds is not None for seconds in took.values()), took

    ran = _queries_run(monkeypatch)
    with data.acting_as("manager", "visitor"):
        calls = warm.default_view_calls(Filters.default(data.store_facts()["last"]))
        for name in ("overview", "homes", "interviews", "care"):
            calls[name]()
    # Only record-level queries run again: they are never cached.
    assert ran and all(access.QUERIES[name] == access.RECORD for name in ran), ran
    ran.clear()
    # Another view is worked out when asked for.
    with data.acting_as("manager", "visitor"):
        other = Filters.default(data.store_facts()["last"]).previous_period()
        warm.default_view_calls(other.year_before())["interviews"]()
    assert ran and not any(access.QUERIES[name] == access.RECORD for name in ran)


def test_one_warm_up_per_store_version_in_the_background(store, monkeypatch):
    monkeypatch.setenv("MFHC_WARM", "on")
    data.forget_instances()
    warm.install()                            # a worker starts: it reads the store, a new version for it
    data.open_in_background()
    version = data.store_version()
    lock = warm._lock_path(version)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (lock.exists() and lock.read_text() == "done"):
        time.sleep(0.2)
    assert lock.read_text() == "done"

    def must_not_run():
        raise AssertionError("warmed twice")

    monkeypatch.setattr(warm, "warm_default_view", must_not_run)
    warm._warm_once(version)                  # another worker, or this one again: nothing to do
    monkeypatch.setenv("MFHC_WARM", "off")
    data.forget_instances()
    data._open(store, None)[0].close()        # off: no thread at all
    assert not [t for t in __import__("threading").enumerate() if t.name == "mfhc-warm"]


def test_a_server_process_warms_the_default_view_as_dash_loads_its_pages(store, tmp_path):
    """In a served process Dash imports the pages itself (as `pages.<name>`): the warm-up
    thread must use those modules, not import them again outside Dash's context."""
    import os
    import subprocess
    import sys

    state = tmp_path / "state"
    env = {**os.environ, "MFHC_DB": str(store), "MFHC_STATE_DIR": str(state), "MFHC_WARM": "on"}
    env.pop("MFHC_CACHE", None)
    script = ("import time, pathlib, dashboard.app\n"
              "for _ in range(600):\n"
              "    locks = list(pathlib.Path(%r).glob('cache/warm-*.lock'))\n"
              "    if locks and locks[0].read_text() == 'done':\n"
              "        break\n"
              "    time.sleep(0.2)\n") % str(state)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert [lock.read_text() for lock in state.glob("cache/warm-*.lock")] == ["done"]


def test_a_store_gone_while_warming_is_not_marked_warmed(store, tmp_path, monkeypatch):
    version = data.store_version()
    monkeypatch.setattr(warm, "warm_default_view", lambda: data.configure(tmp_path / "gone.duckdb") or {})
    warm._warm_once(version)            # no exception from the thread's work
    lock = warm._lock_path(version)
    assert lock is None or not lock.exists() or lock.read_text().strip() != "done"


def test_a_process_that_exits_while_warming_ends_cleanly(store, tmp_path):
    """As for the read-ahead (tests/test_prefetch.py): DuckDB aborts the process ("terminate
    called") if the interpreter stops a thread inside a query, so a process that ends while
    the warm-up is in a query (a worker shut down just after it started) must wait for it.
    Here the warm-up is one long query and the process ends at once."""
    import os
    import subprocess
    import sys

    script = ("import threading, duckdb, dashboard.warm as w\n"
              "started = threading.Event()\n"
              "def long_warm_up():\n"
              "    con = duckdb.connect()\n"
              "    started.set()\n"
              "    con.execute('select sum(range) from range(400000000)').fetchall()\n"
              "    return {}\n"
              "w.warm_default_view = long_warm_up\n"
              "import dashboard.app\n"
              "assert started.wait(60)\n")
    env = {**os.environ, "MFHC_DB": str(store), "MFHC_STATE_DIR": str(tmp_path / "state"), "MFHC_WARM": "on"}
    env.pop("MFHC_CACHE", None)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "terminate called" not in done.stderr
    assert [lock.read_text() for lock in (tmp_path / "state").glob("cache/warm-*.lock")] == ["done"]
