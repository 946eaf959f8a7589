"""No identifier of a child reaches the store: references, UPNs, exact dates of birth, postcodes, free text."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.config import Settings
from pipelines.load import load
from sources import police, rhi, write_table

RAW_IDENTIFIERS = [
    "INCREF-7731", "INCREF-7732", "PERSONREF-4411", "LACHILD-9001", "LACHILD-9002", "A123456789012",
    "B987654321098", "RHIREF-55", "2010-06-15", "15/06/2010", "2011-02-03", "03/02/2011", "WV1 1RE",
    "WV10 0QU", "WV11RE", "Mr Smith said", "Zoe Bloggs",
]


@pytest.mark.parametrize("keep_staging", [False, True])
def test_no_raw_identifier_survives_anywhere_in_the_store(tmp_path, keep_staging):
    source = tmp_path / "src"
    write_table(source, "police_incidents", [
        police("INCREF-7731", "PERSONREF-4411", "2025-05-01T08:00", "2025-05-01T10:00", la_child_ref="LACHILD-9001",
               date_of_birth="2010-06-15", missing_from_postcode="WV1 1RE", found_postcode="WV10 0QU",
               safe_and_well_not_done_reason="Mr Smith said no"),
        police("INCREF-7732", "PERSONREF-4411", "2025-06-01T08:00", "2025-06-01T10:00", date_of_birth="2010-06-15",
               missing_from_postcode="wv11re"),
    ])
    write_table(source, "ssda903_header", [{"CHILD": "LACHILD-9002", "SEX": "F", "DOB": "03/02/2011",
                                            "UPN": "B987654321098", "MOTHER": "Zoe Bloggs"}])
    write_table(source, "ssda903_missing", [{"CHILD": "LACHILD-9002", "DOB": "03/02/2011", "MISSING": "M",
                                             "MIS_START": "01/05/2025", "MIS_END": "02/05/2025"}])
    write_table(source, "return_interviews", [
        rhi("RHIREF-55", "completed", "2025-05-02T10:00", "2025-05-02T11:00", child_ref="LACHILD-9001",
            episode_refs="INCREF-7731;LACHILD-9002:01/05/2025")])
    write_table(source, "attendance", [{"upn": "A123456789012", "academic_year": "2024/25", "term": "autumn",
                                        "sess_possible": "100", "sess_authorised": "5", "sess_unauthorised": "3"}])
    write_table(source, "child_xref", [{"person_ref": "PERSONREF-4411", "child_ref": "LACHILD-9001",
                                        "upn": "A123456789012"}])
    db = tmp_path / "mfhc.duckdb"
    report = load(source, Settings(db_path=db), keep_staging=keep_staging)
    assert report.episodes >= 2

    found = []
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()]
        assert "fct_episode" in tables
        assert ("stg_police_incidents" in tables) == keep_staging
        for table in tables:
            columns = [r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_name = ?", [table]).fetchall()]
            for column in columns:
                values = con.execute(f'select distinct cast("{column}" as varchar) from "{table}"').fetchall()
                text = "\n".join(str(v[0]) for v in values)
                found += [(table, column, raw) for raw in RAW_IDENTIFIERS if raw.lower() in text.lower()]
    assert found == []
    raw_bytes = db.read_bytes()
    assert not [raw for raw in RAW_IDENTIFIERS if raw.encode() in raw_bytes]


def test_pseudonyms_are_stable_across_loads_and_keys_differ_by_key(tmp_path, monkeypatch):
    source = tmp_path / "src"
    write_table(source, "police_incidents", [police("I1", "P1", "2025-05-01T08:00", "2025-05-01T10:00")])

    def child_ids(db):
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute("select child_id from fct_episode").fetchall()

    load(source, Settings(db_path=tmp_path / "a.duckdb"))
    load(source, Settings(db_path=tmp_path / "b.duckdb"))
    assert child_ids(tmp_path / "a.duckdb") == child_ids(tmp_path / "b.duckdb")
    monkeypatch.setenv("MFHC_PSEUDONYM_KEY", "another-key")
    load(source, Settings(db_path=tmp_path / "c.duckdb"))
    assert child_ids(tmp_path / "a.duckdb") != child_ids(tmp_path / "c.duckdb")


def test_key_file_is_created_once_and_private(tmp_path, monkeypatch):
    monkeypatch.delenv("MFHC_PSEUDONYM_KEY")
    source = tmp_path / "src"
    write_table(source, "police_incidents", [police("I1", "P1", "2025-05-01T08:00", "2025-05-01T10:00")])
    load(source, Settings(db_path=tmp_path / "store" / "mfhc.duckdb"))
    key_file = tmp_path / "store" / "pseudonym.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    first = key_file.read_bytes()
    load(source, Settings(db_path=tmp_path / "store" / "mfhc.duckdb"))
    assert key_file.read_bytes() == first
