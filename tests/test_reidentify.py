"""`mfhc reidentify`: from a pseudonymised key back to the source file, row and reference,
for staff who hold the source files; refusals, ambiguity and the audit log."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipelines import reidentify
from pipelines.cli import main
from pipelines.config import Settings
from pipelines.degrade import Pseudonymiser
from pipelines.load import load
from sources import police, rhi, write_table

KEY = b"test-key-not-secret"  # tests/conftest.py sets it for every test
# Two references whose keys share their first 8 characters under the test key (found by
# hashing AMB0..AMB399999 once; the test below checks they still collide).
AMBIGUOUS_PAIR = ("AMB55510", "AMB192992")
AMBIGUOUS_PREFIX = "418de54b"


def child_key(reference: str, namespace: str = "child") -> str:
    return Pseudonymiser(KEY).one(namespace, reference)


@pytest.fixture
def loaded(tmp_path):
    source = tmp_path / "source"
    write_table(source, "ssda903_header", [
        {"CHILD": "LA-001", "SEX": "F", "DOB": "15/06/2010"},
        {"CHILD": AMBIGUOUS_PAIR[0], "SEX": "M", "DOB": "01/01/2011"},
        {"CHILD": AMBIGUOUS_PAIR[1], "SEX": "M", "DOB": "01/02/2011"},
    ])
    write_table(source, "ssda903_missing", [
        {"CHILD": "LA-001", "MISSING": "M", "MIS_START": "01/05/2025", "MIS_END": "02/05/2025"}])
    write_table(source, "police_incidents", [
        police("INC-9", "PERSON-7", "2025-05-01T08:00", "2025-05-01T10:00", la_child_ref="LA-001"),
        police("INC-10", "PERSON-8", "2025-06-01T08:00", "2025-06-01T10:00"),
    ])
    write_table(source, "return_interviews", [rhi("RHI-1", "declined", "2025-05-03T10:00", child_ref="LA-001")])
    settings = Settings(db_path=tmp_path / "store" / "mfhc.duckdb")
    load(source, settings)
    return source, settings


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def last_audit(settings) -> tuple[dict, str]:
    line = settings.audit_log_path.read_text(encoding="utf-8").splitlines()[-1]
    return json.loads(line), line


def test_the_ambiguous_pair_still_collides():
    a, b = (child_key(r) for r in AMBIGUOUS_PAIR)
    assert a != b and a[:8] == b[:8] == AMBIGUOUS_PREFIX


def test_prefix_gives_every_file_and_row_of_the_reference(loaded):
    source, settings = loaded
    prefix = child_key("LA-001")[:8]
    result = run("reidentify", "--source", source, "--db", settings.db_path, prefix.upper())
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{prefix}: child key {child_key('LA-001')}"
    # Files in name order, each with the row as the load report numbers it (header = row 1).
    assert lines[1:] == [
        "  police_incidents.csv row 2, column la_child_ref: LA-001",
        "  return_interviews.csv row 2, column child_ref: LA-001",
        "  ssda903/header.csv row 2, column CHILD: LA-001",
        "  ssda903/missing.csv row 2, column CHILD: LA-001",
    ]


def test_police_person_and_full_key(loaded):
    source, settings = loaded
    full = child_key("PERSON-8", "person")
    result = run("reidentify", "--source", source, "--db", settings.db_path, full, "0123456789")
    assert result.exit_code == 0, result.output
    assert f"{full}: person key {full}" in result.output
    assert "  police_incidents.csv row 3, column person_ref: PERSON-8" in result.output
    assert "0123456789: not found in source" in result.output


def test_ambiguous_prefix_is_reported_not_guessed(loaded):
    source, settings = loaded
    result = run("reidentify", "--source", source, "--db", settings.db_path, AMBIGUOUS_PREFIX)
    assert result.exit_code == 0, result.output
    assert f"{AMBIGUOUS_PREFIX}: ambiguous, 2 different references" in result.output
    assert not any(ref in result.output for ref in AMBIGUOUS_PAIR)
    entry, _ = last_audit(settings)
    assert entry["details"]["matched"] == 0 and entry["details"]["ambiguous"] == 1


def test_each_use_is_audited_without_the_reference(loaded):
    source, settings = loaded
    prefix = child_key("LA-001")[:8]
    result = run("reidentify", "--source", source, "--db", settings.db_path, prefix, AMBIGUOUS_PREFIX)
    assert result.exit_code == 0, result.output
    entry, line = last_audit(settings)
    assert entry["event"] == "reidentify" and entry["where"] == "cli" and entry["user"]
    assert entry["what"] == f"{prefix},{AMBIGUOUS_PREFIX}"
    assert entry["details"]["matched"] == 1
    assert "LA-001" not in line and "AMB" not in line


def test_wrong_key_refused_with_exit_1_and_audited(loaded, monkeypatch):
    source, settings = loaded
    monkeypatch.setenv("MFHC_PSEUDONYM_KEY", "another-key")
    result = run("reidentify", "--source", source, "--db", settings.db_path, child_key("LA-001")[:8])
    assert result.exit_code == 1
    assert "not the one the store was loaded with" in result.output
    assert "LA-001" not in result.output
    entry, _ = last_audit(settings)
    assert entry["details"]["matched"] == 0 and "refused" in entry["details"]


def test_missing_source_folder_refused_with_exit_1(loaded, tmp_path):
    _, settings = loaded
    result = run("reidentify", "--source", tmp_path / "nowhere", "--db", settings.db_path, "418de54b")
    assert result.exit_code == 1
    assert "no such source folder" in result.output


def test_missing_key_refused_and_no_key_file_created(loaded, monkeypatch):
    source, settings = loaded
    monkeypatch.delenv("MFHC_PSEUDONYM_KEY")
    result = run("reidentify", "--source", source, "--db", settings.db_path, "418de54b")
    assert result.exit_code == 1
    assert "no pseudonymisation key" in result.output
    assert not (settings.db_path.parent / "pseudonym.key").exists()


def test_key_file_beside_the_store_is_used(loaded, monkeypatch):
    source, settings = loaded
    (settings.db_path.parent / "pseudonym.key").write_bytes(KEY + b"\n")
    monkeypatch.delenv("MFHC_PSEUDONYM_KEY")
    assert reidentify.load_key(settings.db_path) == KEY
    result = run("reidentify", "--source", source, "--db", settings.db_path, child_key("LA-001")[:8])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("bad", ["418de5", "not-a-key", "418de54bz", "0" * 21])
def test_malformed_keys_are_usage_errors(loaded, bad):
    source, settings = loaded
    assert run("reidentify", "--source", source, "--db", settings.db_path, bad).exit_code == 2


def test_only_the_rows_asked_for_are_kept_in_memory(loaded):
    source, settings = loaded
    wanted = child_key("LA-001")
    occurrences = reidentify.source_occurrences(source, settings, Pseudonymiser(KEY), reidentify.all_tables(),
                                                keep=lambda part: part["key"] == wanted)
    assert set(occurrences["reference"]) == {"LA-001"} and len(occurrences) == 4
    # The key check still knows how many child and person references the folder held:
    # header 3, missing 1, police person_ref 2 and la_child_ref 1, interview child_ref 1.
    assert occurrences.attrs["child_references"] == 8
    assert reidentify.check_key(occurrences, {wanted}) == 1
