"""Data quality page on a tiny hand-built store: every figure worked out by hand below."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard import data
from dashboard.app import create_app
from dashboard.components import store_to_frame
from dashboard.figures.quality import (
    findings_figure, police_gap_figure, rejections_figure, source_status_words, unmatched_words,
)
from dashboard.filters import Filters
from pipelines.config import Settings
from pipelines.load import load
from sources import police, rhi, write_table

YEAR = Filters(dt.date(2025, 4, 1), dt.date(2026, 3, 31))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    # police_incidents.csv (the header is line 1):
    #   line 2 I1 C1's police record 1 Jul 2025: C1 is placed (from care) and SSDA903 has no such row
    #   line 3 I2 the same, 1 Aug 2025
    #   line 4 I3 P2 from home 1 May 2025
    #   line 5 I4 person_ref blank: rejected (required)
    #   line 6 I5 risk level 'critical': rejected (invalid_code)
    # missing.csv: line 2 fine (2-3 May 2025); line 3 ends before it starts: rejected (DfE 567);
    #   line 4 open 'away' period: listed, not rejected (DfE 570).
    # return_interviews.csv: R1 names I3 and NOPE; NOPE matches no episode.
    tmp = tmp_path_factory.mktemp("quality")
    source = tmp / "src"
    write_table(source, "ssda903_header", [{"CHILD": "C1", "SEX": "F", "DOB": "15/06/2010"}],
                path="ssda903/2025-26/header.csv")
    write_table(source, "ssda903_episodes", [{"CHILD": "C1", "DECOM": "01/04/2025", "RNE": "S", "LS": "C2",
                                              "CIN": "N1", "PLACE": "K1", "URN": "SC900001"}],
                path="ssda903/2025-26/episodes.csv")
    write_table(source, "ssda903_missing", [
        {"CHILD": "C1", "MISSING": "M", "MIS_START": "02/05/2025", "MIS_END": "03/05/2025"},
        {"CHILD": "C1", "MISSING": "M", "MIS_START": "10/06/2025", "MIS_END": "09/06/2025"},
        {"CHILD": "C1", "MISSING": "A", "MIS_START": "1/5/2026", "MIS_END": ""},
    ], path="ssda903/2025-26/missing.csv")
    write_table(source, "police_incidents", [
        police("I1", "P1", "2025-07-01T08:00", "2025-07-01T09:00", la_child_ref="C1"),
        police("I2", "P1", "2025-08-01T08:00", "2025-08-01T09:00", la_child_ref="C1"),
        police("I3", "P2", "2025-05-01T08:00", "2025-05-01T09:00"),
        police("I4", "", "2025-05-02T08:00", "2025-05-02T09:00"),
        police("I5", "P3", "2025-05-03T08:00", "2025-05-03T09:00", risk_level="critical"),
    ])
    write_table(source, "return_interviews", [rhi("R1", "completed", "2025-05-02T08:00", "2025-05-02T09:00",
                                                  person_ref="P2", episode_refs="I3;NOPE")])
    db = tmp / "mfhc.duckdb"
    load(source, Settings(db_path=db))
    create_app(db)
    yield db
    data.configure(None)


def test_load_log_and_sources(store):
    log = data.query("quality_load_log").set_index("file")
    assert log.loc["police_incidents.csv", ["rows_read", "rows_loaded", "rows_rejected"]].tolist() == [5, 3, 2]
    assert log.loc["ssda903/2025-26/missing.csv", ["rows_read", "rows_loaded", "rows_rejected"]].tolist() == [3, 2, 1]
    assert log["checksum"].str.len().eq(12).all() and log["load_id"].nunique() == 1
    sources = data.query("quality_source_status")
    # Six of the eleven: police, RHI, header, episodes, missing and the population the load supplies by default.
    assert sources["supplied"].sum() == 6 and len(sources) == 11
    words = source_status_words(sources)
    assert words.startswith("Not supplied (5 of 11): ") and "ssda903/uasc.csv" in words


def test_rejections_and_findings(store):
    rows = data.query("quality_rejected_rows")
    assert [tuple(r) for r in rows[["file", "row", "column", "rule"]].itertuples(index=False)] == [
        ("police_incidents.csv", 5, "person_ref", "required"),
        ("police_incidents.csv", 6, "risk_level", "invalid_code"),
        ("ssda903/2025-26/missing.csv", 3, "MIS_START,MIS_END", "567"),
    ]
    by_rule = data.query("quality_rejections_by_rule")
    assert by_rule["rows_rejected"].sum() == 3 and set(by_rule["rule"]) == {"required", "invalid_code", "567"}
    figure = rejections_figure(by_rule)
    assert {t.name for t in figure.data} == {"police_incidents.csv", "ssda903/2025-26/missing.csv"}
    assert len({t.marker.pattern.shape for t in figure.data}) == 2
    findings = data.query("quality_ssda903_findings")
    assert findings[["code", "findings"]].values.tolist() == [["570", 1]]
    assert findings_figure(findings).data[0].y == ("Rule 570",)


def test_episode_checks_follow_the_filters(store):
    gap = data.query("quality_police_not_in_ssda903", YEAR)
    assert [(str(m)[:7], e) for m, e in zip(gap["month"], gap["episodes"])] == [("2025-07", 1), ("2025-08", 1)]
    assert list(police_gap_figure(gap).data[0].y) == [1, 1]
    assert data.query("quality_police_not_in_ssda903", Filters(YEAR.period_start, YEAR.period_end,
                                                               care="home")).empty
    july = Filters(dt.date(2025, 7, 1), dt.date(2025, 7, 31))
    assert data.query("quality_police_not_in_ssda903", july)["episodes"].tolist() == [1]
    unmatched = data.query("quality_rhi_unmatched")
    assert unmatched.iloc[0].tolist() == [1, 1]
    assert unmatched_words(unmatched).startswith("1 episode reference in 1 return interview matched no episode")


def test_page_callback(store):
    from dashboard.pages.quality import update_quality

    loads, sources, rejected, unmatched, *charts = update_quality("2025-04-01", "2026-03-31", "all", None, None,
                                                                  None, None)
    assert "police_incidents.csv" in str(loads) and "person_ref is required" in str(rejected)
    assert sources.startswith("Not supplied (5 of 11)")
    assert charts[2].startswith("3 rows rejected in 2 files under 3 rules")
    assert charts[5].startswith("1 SSDA903 finding — rule 570 (1): ")
    assert store_to_frame(charts[7])["episodes"].tolist() == [1, 1]
    # The filter bar narrows the episode check only; the load figures stay the same.
    *same, gap_figure, gap_data, gap_summary = update_quality("2025-04-01", "2026-03-31", "home", None, None,
                                                              None, None)
    assert gap_summary.startswith("No police-known episodes")
    assert same[6] == charts[2] and str(same[0]) == str(loads)
