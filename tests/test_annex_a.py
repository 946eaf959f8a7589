"""`mfhc export annex-a` on a tiny source folder whose rows were worked out by hand.

As at 31 March 2026 the 12 months run from 1 April 2025 to 31 March 2026, both ends
included. Looked after in the window: an SSDA903 episode of care that started on or
before 31 March 2026 and did not cease before 1 April 2025.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from pipelines import annex_a
from pipelines.cli import main
from pipelines.config import Settings
from pipelines.load import load
from pipelines.reidentify import ReidentifyError
from sources import police, rhi, write_table

AS_AT = dt.date(2026, 3, 31)
FORMULA_REF = '=HYPERLINK("http://example.invalid","C6")'


def missing(child: str, code: str, start: str, end: str) -> dict:
    return {"CHILD": child, "MISSING": code, "MIS_START": start, "MIS_END": end}


def episode(child: str, decom: str, place: str, dec: str = "") -> dict:
    return {"CHILD": child, "DECOM": decom, "PLACE": place, "DEC": dec, "RNE": "S", "LS": "C2", "CIN": "N1",
            "PLACE_PROVIDER": "PR1", "URN": "XXXXXXX"}


SOURCE = dict(
    ssda903_header=[{"CHILD": c, "SEX": "F", "DOB": "15/06/2010"} for c in ("C1", "C2", "C3", "C4", "C5", FORMULA_REF)],
    ssda903_episodes=[
        episode("C1", "01/01/2025", "K2"),
        episode("C2", "01/02/2025", "U4"),
        # C3 ceased on 15 April 2025: looked after in the window's first fortnight.
        episode("C3", "01/04/2024", "U6", dec="15/04/2025"),
        episode("C4", "01/06/2025", "U4"),
        # C5 ceased the day before the window: not in the list at all.
        episode("C5", "01/01/2024", "U4", dec="31/03/2025"),
        # The formula-like reference: in care from October 2025, never missing -> 0, 0, blank, blank.
        episode(FORMULA_REF, "01/10/2025", "U4"),
    ],
    ssda903_missing=[
        # C1: 31 March 2025 is the day before the window (not counted); 1 April 2025 is its
        # first day (counted). Missing: 1 Apr, 1 Sep = 2. Away: 10 Jun, 20 Sep = 2.
        missing("C1", "M", "31/03/2025", "31/03/2025"),
        missing("C1", "M", "01/04/2025", "02/04/2025"),
        missing("C1", "A", "10/06/2025", "10/06/2025"),
        # The last *missing* episode (the later away one does not count for the interview):
        # R1 offered and completed -> Y, Y.
        missing("C1", "M", "01/09/2025", "02/09/2025"),
        missing("C1", "A", "20/09/2025", "20/09/2025"),
        # C2: missing 5 May 2025 and 1 March 2026, plus a police "absent" episode on 1 July
        # 2025 (counted as missing) -> 3, away 0. Last missing: 1 March 2026, interview
        # offered and declined -> Y, N (the completed one, R2, was for 5 May).
        missing("C2", "M", "05/05/2025", "05/05/2025"),
        missing("C2", "M", "01/03/2026", "02/03/2026"),
        # C3: missing 2 April (interview completed) and 10 April 2025 (none): the interview
        # was only after an earlier episode -> 2, 0, N, blank.
        missing("C3", "M", "02/04/2025", "03/04/2025"),
        missing("C3", "M", "10/04/2025", "11/04/2025"),
        # C4: missing on the as-at day (counted) and the day after (not counted); no
        # interview -> 1, 0, N, blank. Its police episode of 10 May 2025 was from home,
        # before care began: not counted.
        missing("C4", "M", "31/03/2026", "31/03/2026"),
        missing("C4", "M", "01/04/2026", "02/04/2026"),
        # C5: looked after only before the window.
        missing("C5", "M", "10/02/2025", "11/02/2025"),
    ],
    police_incidents=[
        police("INC1", "P2", "2025-07-01T20:00", "2025-07-02T02:00", la_child_ref="C2", category="absent",
               missing_from_type="foster_care"),
        police("INC2", "P4", "2025-05-10T20:00", "2025-05-11T01:00", la_child_ref="C4"),
    ],
    return_interviews=[
        rhi("R1", "completed", "2025-09-02T10:00", "2025-09-03T10:00", child_ref="C1", episode_refs="C1:01/09/2025"),
        rhi("R2", "completed", "2025-05-06T10:00", "2025-05-07T10:00", child_ref="C2", episode_refs="C2:05/05/2025"),
        rhi("R3", "declined", "2026-03-03T10:00", child_ref="C2", episode_refs="C2:01/03/2026"),
        rhi("R4", "completed", "2025-04-04T10:00", "2025-04-05T10:00", child_ref="C3", episode_refs="C3:02/04/2025"),
    ],
)

# Sorted by reference: "=" sorts before "C".
EXPECTED = [
    (FORMULA_REF, 0, 0, None, None),
    ("C1", 2, 2, "Y", "Y"),
    ("C2", 3, 0, "Y", "N"),
    ("C3", 2, 0, "N", None),
    ("C4", 1, 0, "N", None),
]


def write_source(folder, tables=SOURCE):
    for name, rows in tables.items():
        if name.startswith("ssda903_"):
            write_table(folder, name, rows, path=f"ssda903/2026/{name.removeprefix('ssda903_')}.csv")
        else:
            write_table(folder, name, rows)
    return folder


@pytest.fixture
def loaded(tmp_path):
    source = write_source(tmp_path / "source")
    settings = Settings(db_path=tmp_path / "store" / "mfhc.duckdb")
    report = load(source, settings)
    assert report.rejections.empty, report.rejections
    return source, settings


def rows_of(frame):
    return [tuple(None if v is None else v for v in row) for row in frame.itertuples(index=False)]


def test_annex_a_rows_match_hand_worked_figures(loaded):
    source, settings = loaded
    result = annex_a.build(AS_AT, source, settings)
    assert list(result.children.columns) == list(annex_a.COLUMNS)
    assert rows_of(result.children) == EXPECTED
    assert result.unmatched_count == 0
    assert result.window_start == dt.date(2025, 4, 1)


def test_window_moves_with_the_as_at_date(loaded):
    source, settings = loaded
    # As at 1 April 2026 the window is 2 April 2025 to 1 April 2026: C1 loses 1 April
    # 2025 (missing 1); C4 gains 1 April 2026 (missing 2); C3 (ceased 15 April 2025) keeps
    # 2 April, now the window's first day, and 10 April (missing 2, last without interview).
    result = annex_a.build(dt.date(2026, 4, 1), source, settings)
    by_child = {row[0]: row[1:] for row in rows_of(result.children)}
    assert by_child["C1"] == (1, 2, "Y", "Y")
    assert by_child["C4"] == (2, 0, "N", None)
    assert by_child["C3"] == (2, 0, "N", None)


def test_interview_after_the_as_at_date_is_not_counted(loaded):
    source, settings = loaded
    # As at 2 March 2026, C2's last missing episode (1 March) had no offer yet (3 March).
    result = annex_a.build(dt.date(2026, 3, 2), source, settings)
    by_child = {row[0]: row[1:] for row in rows_of(result.children)}
    assert by_child["C2"] == (3, 0, "N", None)


def test_workbook_never_holds_a_formula(loaded, tmp_path):
    source, settings = loaded
    out = tmp_path / "annex_a.xlsx"
    annex_a.write(annex_a.build(AS_AT, source, settings), out)
    book = load_workbook(out)
    sheet = book[annex_a.SHEET]
    header = [c.value for c in sheet[1]]
    assert header == list(annex_a.COLUMNS)
    cell = sheet["A2"]
    assert cell.value == "'" + FORMULA_REF and cell.data_type == "s"
    for row in sheet.iter_rows():
        for c in row:
            assert c.data_type != "f"
    assert [c.value for c in sheet[3]] == ["C1", 2, 2, "Y", "Y"]
    assert sheet["B3"].data_type == "n"
    assert out.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob(".*.partial"))


def test_children_missing_from_the_source_are_counted_not_dropped(loaded, tmp_path):
    _, settings = loaded
    partial = tmp_path / "partial"
    write_table(partial, "ssda903_header", [{"CHILD": "C1", "SEX": "F", "DOB": "15/06/2010"},
                                            {"CHILD": "C2", "SEX": "F", "DOB": "15/06/2010"}])
    result = annex_a.build(AS_AT, partial, settings)
    assert [row[0] for row in rows_of(result.children)] == ["C1", "C2"]
    assert result.unmatched_count == 3  # C3, C4 and the formula-like reference
    assert sorted(result.unmatched[annex_a.MISSING]) == [0, 1, 2]
    book = load_workbook(io.BytesIO(annex_a.workbook(result)))
    assert annex_a.UNMATCHED_SHEET in book.sheetnames
    notes = {r[0]: r[1] for r in book[annex_a.NOTES_SHEET].iter_rows(min_row=2, values_only=True)}
    assert notes["Children in the store not found in the source folder"].startswith("3 ")


def test_refusals_write_nothing(loaded, tmp_path, monkeypatch):
    source, settings = loaded
    with pytest.raises(ReidentifyError, match="no such source folder"):
        annex_a.build(AS_AT, tmp_path / "nowhere", settings)
    police_only = tmp_path / "police_only"
    write_table(police_only, "police_incidents", SOURCE["police_incidents"])
    with pytest.raises(ReidentifyError, match="no SSDA903 file"):
        annex_a.build(AS_AT, police_only, settings)
    monkeypatch.setenv("MFHC_PSEUDONYM_KEY", "another-key")
    with pytest.raises(ReidentifyError, match="not the one the store was loaded with"):
        annex_a.build(AS_AT, source, settings)
    monkeypatch.delenv("MFHC_PSEUDONYM_KEY")
    with pytest.raises(ReidentifyError, match="no pseudonymisation key"):
        annex_a.build(AS_AT, source, settings)
    assert not (settings.db_path.parent / "pseudonym.key").exists()  # never created by an export


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def audit_lines(settings):
    return settings.audit_log_path.read_text(encoding="utf-8").splitlines()


def test_cli_export_writes_the_workbook_and_an_audit_entry(loaded, tmp_path):
    source, settings = loaded
    out = tmp_path / "out" / "annex_a.xlsx"
    result = run("export", "annex-a", "--as-at", "2026-03-31", "--source", source, "--out", out,
                 "--db", settings.db_path)
    assert result.exit_code == 0, result.output
    assert "5 children in care" in result.output
    assert load_workbook(out)[annex_a.SHEET].max_row == 6
    lines = audit_lines(settings)
    entry = json.loads(lines[-1])
    assert entry["event"] == "export" and entry["where"] == "cli"
    assert entry["details"]["rows"] == 5 and entry["details"]["unmatched"] == 0
    assert "C1" not in lines[-1] and "HYPERLINK" not in lines[-1]


def test_cli_export_refuses_with_exit_1(loaded, tmp_path, monkeypatch):
    source, settings = loaded
    out = tmp_path / "annex_a.xlsx"
    missing_dir = run("export", "annex-a", "--as-at", "2026-03-31", "--source", tmp_path / "nowhere",
                      "--out", out, "--db", settings.db_path)
    assert missing_dir.exit_code == 1
    assert "no such source folder" in missing_dir.output
    monkeypatch.setenv("MFHC_PSEUDONYM_KEY", "another-key")
    wrong_key = run("export", "annex-a", "--as-at", "2026-03-31", "--source", source, "--out", out,
                    "--db", settings.db_path)
    assert wrong_key.exit_code == 1
    assert "not the one the store was loaded with" in wrong_key.output
    assert not out.exists()
    assert json.loads(audit_lines(settings)[-1])["details"]["refused"]


def test_cli_export_usage_errors_exit_2(loaded, tmp_path):
    source, settings = loaded
    assert run("export", "annex-a", "--as-at", "31/03/2026", "--source", source, "--out", tmp_path / "a.xlsx",
               "--db", settings.db_path).exit_code == 2
    assert run("export", "annex-a", "--as-at", "2026-03-31", "--source", source, "--out", tmp_path / "a.csv",
               "--db", settings.db_path).exit_code == 2


def test_a_copied_source_folder_works(loaded, tmp_path):
    # The export needs the same references, not the same folder the load read.
    source, settings = loaded
    copy = shutil.copytree(source, tmp_path / "copy")
    assert rows_of(annex_a.build(AS_AT, copy, settings).children) == EXPECTED
