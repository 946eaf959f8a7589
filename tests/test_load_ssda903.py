"""SSDA903 through the whole load: DfE codes in the report, blocking vs listed findings, years de-duplicated."""

from __future__ import annotations

import duckdb

from pipelines.config import Settings
from pipelines.load import load
from sources import write_table

HEADER = [{"CHILD": "C1", "SEX": "F", "DOB": "15/06/2010"}]
EPISODES = [{"CHILD": "C1", "DECOM": "01/04/2025", "RNE": "S", "LS": "C2", "CIN": "N1", "PLACE": "K1",
             "URN": "SC900001"}]


def write_year(source, year, missing, episodes=EPISODES):
    write_table(source, "ssda903_header", HEADER, path=f"ssda903/{year}/header.csv")
    write_table(source, "ssda903_episodes", episodes, path=f"ssda903/{year}/episodes.csv")
    write_table(source, "ssda903_missing", missing, path=f"ssda903/{year}/missing.csv")


def test_dfe_codes_reject_unusable_rows_and_list_the_rest(tmp_path):
    source = tmp_path / "src"
    write_year(source, "2025-26", [
        {"CHILD": "C1", "MISSING": "M", "MIS_START": "02/05/2025", "MIS_END": "03/05/2025"},  # row 2: fine
        {"CHILD": "C1", "MISSING": "M", "MIS_START": "10/06/2025", "MIS_END": "09/06/2025"},  # row 3: 567
        {"CHILD": "C1", "MISSING": "X", "MIS_START": "01/07/2025", "MIS_END": "02/07/2025"},  # row 4: 1006
        {"CHILD": "C1", "MISSING": "A", "MIS_START": "1/5/2026", "MIS_END": ""},              # row 5: 570
    ])
    db = tmp_path / "mfhc.duckdb"
    report = load(source, Settings(db_path=db))
    rejected = {(r.row, r.rule) for r in report.rejections.itertuples()}
    assert rejected == {(3, "567"), (4, "1006")}
    assert set(report.rejections["file"]) == {"ssda903/2025-26/missing.csv"}
    with duckdb.connect(str(db), read_only=True) as con:
        findings = con.execute("select file, row, rule from ssda903_findings").fetchall()
        starts = con.execute("select start_date::varchar, category from fct_episode order by 1").fetchall()
        stored = con.execute("select row, rule from rejected_rows order by row").fetchall()
    assert findings == [("ssda903/2025-26/missing.csv", 5, "570")]
    assert starts == [("2025-05-02", "missing"), ("2026-05-01", "away")]
    assert stored == [(3, "567"), (4, "1006")]


def test_rows_repeated_across_years_are_kept_once_from_the_latest_year(tmp_path):
    source = tmp_path / "src"
    # Open at the end of 2024-25, closed in the 2025-26 return.
    write_year(source, "2025", [{"CHILD": "C1", "MISSING": "M", "MIS_START": "30/03/2025", "MIS_END": ""}],
               episodes=[{**EPISODES[0], "DECOM": "01/01/2025"}])
    write_year(source, "2026", [{"CHILD": "C1", "MISSING": "M", "MIS_START": "30/03/2025", "MIS_END": "02/04/2025"},
                                {"CHILD": "C1", "MISSING": "M", "MIS_START": "01/06/2025", "MIS_END": "01/06/2025"}],
               episodes=[{**EPISODES[0], "DECOM": "01/01/2025"}])
    db = tmp_path / "mfhc.duckdb"
    load(source, Settings(db_path=db))
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select start_date::varchar, end_date::varchar, from_care from fct_episode "
                           "order by 1").fetchall()
    assert rows == [("2025-03-30", "2025-04-02", True), ("2025-06-01", "2025-06-01", True)]
