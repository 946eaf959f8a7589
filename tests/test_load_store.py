"""The store: atomic swap, failed and killed loads, load log, and no identifier anywhere."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines import load as load_module
from pipelines.config import Settings
from pipelines.load import LoadError, load
from sources import police, write_table

ROOT = Path(__file__).resolve().parents[1]


def small_source(folder: Path, person="P1") -> Path:
    write_table(folder, "police_incidents", [
        police("I1", person, "2025-05-01T08:00", "2025-05-01T10:00"),
        police("I2", person, "2025-05-03T08:00", "2025-05-03T12:00", risk_level="bogus"),
    ])
    return folder


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def episodes(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select count(*) from fct_episode").fetchone()[0]


def test_load_reports_rejections_and_logs_each_file(tmp_path):
    settings = Settings(db_path=tmp_path / "mfhc.duckdb")
    report = load(small_source(tmp_path / "src"), settings)
    assert [(r.file, r.row, r.column, r.rule) for r in report.rejections.itertuples()] == [
        ("police_incidents.csv", 3, "risk_level", "invalid_code")]
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        log = con.execute("select file, rows_read, rows_loaded, rows_rejected, sha256 from load_log").fetchall()
        stored = con.execute("select file, row, \"column\", rule from rejected_rows").fetchall()
    expected_sha = digest(tmp_path / "src" / "police_incidents.csv")
    assert ("police_incidents.csv", 2, 1, 1, expected_sha) in log
    assert stored == [("police_incidents.csv", 3, "risk_level", "invalid_code")]


def test_second_load_keeps_the_history_of_loads(tmp_path):
    settings = Settings(db_path=tmp_path / "mfhc.duckdb")
    first = load(small_source(tmp_path / "src"), settings)
    second = load(small_source(tmp_path / "src"), settings)
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        ids = [r[0] for r in con.execute("select distinct load_id from load_log").fetchall()]
    assert set(ids) == {first.load_id, second.load_id}


def test_unreadable_file_fails_and_leaves_the_old_store_untouched(tmp_path):
    settings = Settings(db_path=tmp_path / "mfhc.duckdb")
    load(small_source(tmp_path / "good"), settings)
    before = digest(settings.db_path)
    bad = small_source(tmp_path / "bad")
    (bad / "return_interviews.csv").write_bytes("rhi_ref,outcome\nR1,compl\xe9ted\n".encode("latin-1"))
    with pytest.raises(LoadError, match="return_interviews.csv: not UTF-8"):
        load(bad, settings)
    assert digest(settings.db_path) == before
    assert episodes(settings.db_path) == 1
    assert not settings.db_path.with_name("mfhc.duckdb.new").exists()


def test_strict_turns_a_rejection_into_a_failed_load(tmp_path):
    settings = Settings(db_path=tmp_path / "mfhc.duckdb")
    with pytest.raises(LoadError, match="--strict"):
        load(small_source(tmp_path / "src"), settings, strict=True)
    assert not settings.db_path.exists()


def test_failure_while_building_leaves_the_old_store(tmp_path, monkeypatch):
    settings = Settings(db_path=tmp_path / "mfhc.duckdb")
    load(small_source(tmp_path / "src"), settings)
    before = digest(settings.db_path)

    def broken(con):
        raise RuntimeError("disk full, say")

    monkeypatch.setattr(load_module, "_assign_episodes", broken)
    with pytest.raises(RuntimeError):
        load(small_source(tmp_path / "src2", person="P9"), settings)
    assert digest(settings.db_path) == before
    assert not settings.db_path.with_name("mfhc.duckdb.new").exists()


@pytest.mark.slow
def test_load_killed_midway_leaves_the_old_store_serving(tmp_path):
    db = tmp_path / "mfhc.duckdb"
    env = {**os.environ, "MFHC_DB": str(db)}
    load(small_source(tmp_path / "small"), Settings(db_path=db))
    before = digest(db)
    big = tmp_path / "big"
    rows = [police(f"I{i}", f"P{i % 5000}", f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00",
                   f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T11:00") for i in range(150_000)]
    write_table(big, "police_incidents", rows)
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "load", str(big), "--db", str(db)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    new_file = db.with_name("mfhc.duckdb.new")
    deadline = time.monotonic() + 120
    while not new_file.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the load finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert digest(db) == before
    assert episodes(db) == 1
    # The next load clears the leftover and succeeds.
    load(small_source(tmp_path / "again", person="P2"), Settings(db_path=db))
    assert not new_file.exists()


def test_police_only_folder_with_rejections_between_good_rows_loads(tmp_path):
    source = tmp_path / "src"
    rows = [police(f"I{i}", f"P{i}", f"2025-05-0{i + 1}T08:00", f"2025-05-0{i + 1}T10:00") for i in range(6)]
    rows[1]["risk_level"] = "bad"
    rows[3]["sex"] = ""
    write_table(source, "police_incidents", rows)
    report = load(source, Settings(db_path=tmp_path / "mfhc.duckdb"))
    assert len(report.rejections) == 2
    assert episodes(tmp_path / "mfhc.duckdb") == 4


# --- a store built by another version of mfhc -----------------------------------------------------

def _built_by_another_version(db: Path) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute("update meta set value = 'an-older-build' where key = 'store_build'")


def test_a_store_built_by_another_version_is_refused_with_a_clear_message(tmp_path):
    from click.testing import CliRunner

    from dashboard import data
    from dashboard.app import create_app, shell
    from pipelines.cli import main

    db = tmp_path / "mfhc.duckdb"
    load(small_source(tmp_path / "src"), Settings(db_path=db))
    kpis = ["kpis", "--from", "2025-04-01", "--to", "2026-03-31", "--db", str(db)]
    assert CliRunner().invoke(main, kpis).exit_code == 0
    _built_by_another_version(db)
    refused = CliRunner().invoke(main, kpis)
    assert refused.exit_code == 1 and "built by another version of mfhc" in refused.output
    assert "mfhc load" in refused.output
    create_app(db)
    try:
        page = str(shell({}))
        assert "The data needs loading again" in page and "earlier version of mfhc" in page
    finally:
        data.forget_instances()
        data.configure(None)


def test_the_build_fingerprint_follows_the_build_sql_and_revision_not_comments(tmp_path, monkeypatch):
    import shutil

    import queries
    from pipelines import store

    copy = tmp_path / "queries"
    shutil.copytree(queries.QUERIES_DIR, copy)
    monkeypatch.setattr(queries, "QUERIES_DIR", copy)
    store.build_fingerprint.cache_clear()
    try:
        first = store.build_fingerprint()
        step = copy / "marts" / "040_hotspot_marts.sql"
        step.write_text("-- a new comment\n" + step.read_text(encoding="utf-8").replace("\n", "\n\n"), encoding="utf-8")
        store.build_fingerprint.cache_clear()
        assert store.build_fingerprint() == first
        step.write_text(step.read_text(encoding="utf-8") + "\ncreate table mart_extra as select 1 as one;\n",
                        encoding="utf-8")
        store.build_fingerprint.cache_clear()
        second = store.build_fingerprint()
        assert second != first
        monkeypatch.setattr(store, "BUILD_REVISION", store.BUILD_REVISION + 1)
        store.build_fingerprint.cache_clear()
        assert store.build_fingerprint() not in (first, second)
    finally:
        store.build_fingerprint.cache_clear()
