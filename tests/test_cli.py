"""The command line: exit codes 0 / 1 (data error) / 2 (usage error), and `kpis --json`."""

from __future__ import annotations

import json

import duckdb

from click.testing import CliRunner

from pipelines.cli import main
from sources import police, write_table


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_help_lists_the_commands():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("generate", "demo", "load", "kpis", "serve", "report", "export", "reidentify", "users", "audit"):
        assert command in result.output


def test_load_then_kpis_json(tmp_path):
    source = tmp_path / "src"
    write_table(source, "police_incidents", [
        police("I1", "P1", "2025-05-01T08:00", "2025-05-01T10:00"),
        police("I2", "P1", "2025-05-03T08:00", "2025-05-03T12:00"),
    ])
    db = tmp_path / "mfhc.duckdb"
    loaded = run("load", source, "--db", db)
    assert loaded.exit_code == 0, loaded.output
    assert "police_incidents.csv" in loaded.output
    result = run("kpis", "--from", "2025-04-01", "--to", "2026-03-31", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["episodes"] == 2 and figures["repeat_children"] == 1
    assert figures["median_duration_hours"] == 3.0


def test_keep_staging_keeps_the_staged_rows_in_the_store(tmp_path):
    source = tmp_path / "src"
    write_table(source, "police_incidents", [police("I1", "P1", "2025-05-01T08:00", "2025-05-01T10:00")])
    tables = {}
    for option in ((), ("--keep-staging",)):
        db = tmp_path / f"mfhc{len(option)}.duckdb"
        assert run("load", source, "--db", db, *option).exit_code == 0
        with duckdb.connect(str(db), read_only=True) as con:
            tables[option] = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    assert "stg_police_incidents" not in tables[()] and "core_incident_episode" not in tables[()]
    assert {"stg_police_incidents", "core_incident_episode"} <= tables[("--keep-staging",)]


def test_broken_file_exits_1_and_says_the_store_was_not_changed(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "police_incidents.csv").write_text("incident_ref\nI1\n", encoding="utf-8")
    result = run("load", source, "--db", tmp_path / "mfhc.duckdb")
    assert result.exit_code == 1
    assert "police_incidents.csv: required column(s)" in result.output
    assert "was not changed" in result.output


def test_strict_exits_1_with_the_rejected_rows(tmp_path):
    source = tmp_path / "src"
    write_table(source, "police_incidents", [police("I1", "P1", "2025-05-01T08:00", risk_level="odd")])
    result = run("load", source, "--db", tmp_path / "mfhc.duckdb", "--strict")
    assert result.exit_code == 1
    assert "police_incidents.csv row 2, column risk_level: [invalid_code]" in result.output


def test_usage_errors_exit_2(tmp_path):
    assert run("kpis", "--to", "2025-01-01").exit_code == 2
    assert run("kpis", "--from", "2025-13-01", "--to", "2025-01-01").exit_code == 2
    assert run("kpis", "--from", "2025-02-01", "--to", "2025-01-01", "--db", tmp_path / "x.duckdb").exit_code == 2
    assert run("load", tmp_path / "does-not-exist").exit_code == 2
    assert run("no-such-command").exit_code == 2


def test_kpis_without_a_store_exits_1(tmp_path):
    result = run("kpis", "--from", "2025-01-01", "--to", "2025-12-31", "--db", tmp_path / "none.duckdb")
    assert result.exit_code == 1
    assert "no store yet" in result.output
