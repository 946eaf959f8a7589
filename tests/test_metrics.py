"""Board KPIs on tiny source folders whose figures were worked out by hand (in the comments)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipelines.config import Settings
from pipelines.kpis import KPI_KEYS, compute_kpis
from pipelines.load import load
from pipelines.store import read_only
from sources import police, rhi, write_table


def build(tmp_path, **tables):
    source = tmp_path / "source"
    for name, rows in tables.items():
        if name.startswith("ssda903_"):
            write_table(source, name, rows, path=f"ssda903/2026/{name.removeprefix('ssda903_')}.csv")
        else:
            write_table(source, name, rows)
    settings = Settings(db_path=tmp_path / "store" / "mfhc.duckdb")
    report = load(source, settings)
    return settings.db_path, report


def kpis(db_path, start, end):
    with read_only(db_path) as con:
        return compute_kpis(con, dt.date.fromisoformat(start), dt.date.fromisoformat(end))


POLICE_ONLY = dict(
    police_incidents=[
        # P1: INC1 and INC2 overlap -> one episode E1, 10:00-20:00 (10 h), high risk (the higher).
        police("INC1", "P1", "2025-04-10T10:00", "2025-04-10T14:00", risk_level="medium"),
        police("INC2", "P1", "2025-04-10T13:00", "2025-04-10T20:00", risk_level="high"),
        # P1: E2, 6 h.
        police("INC3", "P1", "2025-04-20T18:00", "2025-04-21T00:00", risk_level="low"),
        # P2: E3 from foster care (P2 is unknown to SSDA903), 4 h, safe and well check done.
        police("INC4", "P2", "2025-05-01T22:00", "2025-05-02T02:00", missing_from_type="foster_care",
               safe_and_well_at="2025-05-02T09:00"),
        # P2: E4 starts on the period's last day and is still missing.
        police("INC5", "P2", "2025-06-30T23:30", ""),
        # P3: starts the day after the period: not counted.
        police("INC6", "P3", "2025-07-01T00:10", "2025-07-01T05:00"),
        # P3: E5, police "absent", 1 h: not a returned *missing* episode.
        police("INC7", "P3", "2025-05-10T08:00", "2025-05-10T09:00", category="absent"),
    ],
    return_interviews=[
        # Offered exactly 72:00 after E1 ended: within. Completed at 72:01: not within.
        rhi("R1", "completed", "2025-04-13T20:00", "2025-04-13T20:01", episode_refs="INC1", person_ref="P1", provider="A"),
        # No episode_refs: covers P1's latest episode ended by 22 April 10:00, i.e. E2 (34 h).
        rhi("R2", "declined", "2025-04-22T10:00", person_ref="P1", provider="A"),
        # Not offered for E3.
        rhi("R3", "not_offered", person_ref="P2", episode_refs="INC4"),
        # One RHI covering two episodes (E1 through INC2, and E2): E2 completed within 72 h;
        # E1 keeps its earliest offer (R1) and earliest completion (R1, 72:01).
        rhi("R4", "completed", "2025-04-21T08:00", "2025-04-21T09:00", person_ref="P1",
            episode_refs="INC2; INC3", provider="B"),
    ],
)

POLICE_ONLY_EXPECTED = {
    "period": {"from": "2025-04-01", "to": "2025-06-30"},
    "episodes": 5,
    "episodes_by_category": {"missing": 4, "absent": 1, "away": 0},
    "children": 3,
    "repeat_children": 2,
    "episodes_per_child": 1.67,
    "from_care_episodes": 1,
    "high_risk_episodes": 1,
    "still_missing": 1,
    "returned_missing_episodes": 3,  # E1, E2, E3
    "rhi_offered": 2, "rhi_offered_pct": 66.7,  # E1, E2 (E3 not offered)
    "rhi_offered_within_72h": 2, "rhi_offered_within_72h_pct": 66.7,
    "rhi_completed": 2, "rhi_completed_pct": 66.7,
    "rhi_completed_within_72h": 1, "rhi_completed_within_72h_pct": 33.3,  # E2 only
    "safe_and_well_done": 1, "safe_and_well_done_pct": 33.3,
    "median_duration_hours": 5.0,  # 10, 6, 4, 1 -> (4 + 6) / 2
}


def test_police_only_kpis_match_hand_worked_figures(tmp_path):
    db_path, report = build(tmp_path, **POLICE_ONLY)
    assert report.rejections.empty, report.rejections
    assert kpis(db_path, "2025-04-01", "2025-06-30") == POLICE_ONLY_EXPECTED


def test_kpi_keys_in_documented_order(tmp_path):
    db_path, _ = build(tmp_path, **POLICE_ONLY)
    figures = kpis(db_path, "2025-04-01", "2025-06-30")
    assert [k for k in figures if k != "period" and not k.endswith("_pct")] == list(KPI_KEYS)


def test_episode_starting_on_last_day_counts_and_next_day_does_not(tmp_path):
    db_path, _ = build(tmp_path, **POLICE_ONLY)
    # Only INC6 starts on 1 July.
    assert kpis(db_path, "2025-07-01", "2025-07-01")["episodes"] == 1
    assert kpis(db_path, "2025-06-30", "2025-06-30")["episodes"] == 1
    assert kpis(db_path, "2025-06-30", "2025-06-30")["still_missing"] == 1


def test_empty_period_gives_zeros_and_null_percentages(tmp_path):
    db_path, _ = build(tmp_path, **POLICE_ONLY)
    figures = kpis(db_path, "2020-01-01", "2020-12-31")
    assert figures["episodes"] == 0 and figures["children"] == 0
    assert figures["episodes_per_child"] is None
    assert figures["rhi_offered_pct"] is None and figures["safe_and_well_done_pct"] is None
    assert figures["median_duration_hours"] is None


WITH_SSDA903 = dict(
    ssda903_header=[
        {"CHILD": "C1", "SEX": "2", "DOB": "15/06/2010", "ETHNIC": "WBRI"},
        {"CHILD": "C2", "SEX": "M", "DOB": "01/01/2012", "ETHNIC": "BAFR"},
    ],
    ssda903_episodes=[
        {"CHILD": "C1", "DECOM": "01/01/2025", "RNE": "S", "LS": "C2", "CIN": "N1", "PLACE": "K1",
         "PLACE_PROVIDER": "PR2", "URN": "SC900001"},
        {"CHILD": "C2", "DECOM": "01/04/2025", "RNE": "S", "LS": "C2", "CIN": "N1", "PLACE": "U1",
         "PLACE_PROVIDER": "PR1", "URN": "XXXXXXX"},
    ],
    ssda903_missing=[
        # Overlaps the police incident INC10 by calendar date: one episode (E_a), police times (5 h).
        {"CHILD": "C1", "DOB": "15/06/2010", "MISSING": "M", "MIS_START": "02/05/2025", "MIS_END": "02/05/2025"},
        # SSDA903 only: away, dates only (E_b).
        {"CHILD": "C1", "DOB": "15/06/2010", "MISSING": "A", "MIS_START": "10/06/2025", "MIS_END": "11/06/2025"},
        # SSDA903 only: missing, dates only (E_c); returned at the end of 2 July = 3 July 00:00.
        {"CHILD": "C2", "DOB": "01/01/2012", "MISSING": "M", "MIS_START": "01/07/2025", "MIS_END": "02/07/2025"},
    ],
    police_incidents=[
        police("INC10", "PX", "2025-05-01T22:00", "2025-05-02T03:00", la_child_ref="C1",
               missing_from_type="childrens_home"),
        # PY is C2 through child_xref.csv; placed in care on 1 April, so from care (E_d, 3 h).
        police("INC11", "PY", "2025-08-05T20:00", "2025-08-05T23:00"),
    ],
    child_xref=[{"person_ref": "PY", "child_ref": "C2"}],
    homes=[{"urn": "SC900001", "name": "Fictional House", "places": "4"}],
    return_interviews=[
        # CHILD:MIS_START key; offered exactly 72 h after the end of the MIS_END day: within.
        rhi("R10", "completed", "2025-07-06T00:00", "2025-07-06T00:01", child_ref="C2",
            episode_refs="C2:01/07/2025"),
    ],
)

WITH_SSDA903_EXPECTED = {
    "period": {"from": "2025-04-01", "to": "2026-03-31"},
    "episodes": 4,
    "episodes_by_category": {"missing": 3, "absent": 0, "away": 1},
    "children": 2,
    "repeat_children": 2,
    "episodes_per_child": 2.0,
    "from_care_episodes": 4,
    "high_risk_episodes": 0,
    "still_missing": 0,
    "returned_missing_episodes": 3,  # E_a, E_c, E_d
    "rhi_offered": 1, "rhi_offered_pct": 33.3,
    "rhi_offered_within_72h": 1, "rhi_offered_within_72h_pct": 33.3,
    "rhi_completed": 1, "rhi_completed_pct": 33.3,
    "rhi_completed_within_72h": 0, "rhi_completed_within_72h_pct": 0.0,
    "safe_and_well_done": 0, "safe_and_well_done_pct": 0.0,  # denominator: E_a, E_d (police-known)
    "median_duration_hours": 4.0,  # 5 and 3; date-only episodes have no duration
}


def test_ssda903_and_police_merge_kpis_match_hand_worked_figures(tmp_path):
    db_path, report = build(tmp_path, **WITH_SSDA903)
    assert report.rejections.empty, report.rejections
    assert kpis(db_path, "2025-04-01", "2026-03-31") == WITH_SSDA903_EXPECTED


def test_children_home_attribution_and_sources(tmp_path):
    db_path, _ = build(tmp_path, **WITH_SSDA903)
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute("""
            select start_date, category, police_known, in_ssda903, home_urn, age_years, age_band
            from fct_episode order by start_date""").fetchall()
    assert rows == [
        # C1 born June 2010: 14 in May 2025 (birthday month not reached).
        (dt.date(2025, 5, 1), "missing", True, True, "SC900001", 14, "13-15"),
        (dt.date(2025, 6, 10), "away", False, True, "SC900001", 15, "13-15"),
        (dt.date(2025, 7, 1), "missing", False, True, None, 13, "13-15"),
        (dt.date(2025, 8, 5), "missing", True, False, None, 13, "13-15"),
    ]


def test_date_only_episode_72_hour_boundary(tmp_path):
    tables = dict(WITH_SSDA903)
    tables["return_interviews"] = [
        rhi("R10", "declined", "2025-07-06T00:01", child_ref="C2", episode_refs="C2:01/07/2025"),
    ]
    db_path, _ = build(tmp_path, **tables)
    figures = kpis(db_path, "2025-07-01", "2025-07-01")
    assert figures["rhi_offered"] == 1 and figures["rhi_offered_within_72h"] == 0


@pytest.mark.parametrize("offered_at, within", [("2025-05-04T10:00", 1), ("2025-05-04T10:01", 0)])
def test_police_72_hour_boundary_exactly_at_72_00(tmp_path, offered_at, within):
    db_path, _ = build(
        tmp_path,
        police_incidents=[police("I1", "P1", "2025-05-01T08:00", "2025-05-01T10:00")],
        return_interviews=[rhi("R1", "no_contact", offered_at, episode_refs="I1", person_ref="P1")],
    )
    figures = kpis(db_path, "2025-05-01", "2025-05-31")
    assert figures["rhi_offered"] == 1
    assert figures["rhi_offered_within_72h"] == within
    assert figures["rhi_completed"] == 0


def test_implicit_rhi_link_takes_latest_episode_ended_before_offer(tmp_path):
    db_path, _ = build(
        tmp_path,
        police_incidents=[
            police("I1", "P1", "2025-05-01T08:00", "2025-05-01T10:00"),
            police("I2", "P1", "2025-05-03T08:00", "2025-05-03T10:00"),
            # Ends after the offer: not the one covered.
            police("I3", "P1", "2025-05-05T08:00", "2025-05-06T10:00"),
        ],
        return_interviews=[rhi("R1", "declined", "2025-05-06T09:00", person_ref="P1")],
    )
    with duckdb.connect(str(db_path), read_only=True) as con:
        offered = con.execute("select start_date from fct_episode where rhi_offered order by 1").fetchall()
    assert offered == [(dt.date(2025, 5, 3),)]


def test_marts_add_up_and_home_placement_days_by_hand(tmp_path):
    db_path, _ = build(tmp_path, **WITH_SSDA903)
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.execute("select sum(episodes) from mart_episode_month").fetchone()[0] == 4
        # C1 placed at SC900001 from 1 Jan 2025, still open; the store's last episode starts 5 Aug 2025:
        # 31 + 28 + 31 + 30 + 31 + 30 + 31 + 5 = 217 days.
        days = dict(con.execute("select month, placement_days from mart_home_placement_month "
                                "where home_urn = 'SC900001'").fetchall())
        ethnicity = con.execute("select ethnicity_group from fct_episode order by start_date").fetchall()
    assert sum(days.values()) == 217
    assert days[dt.date(2025, 1, 1)] == 31 and days[dt.date(2025, 8, 1)] == 5
    assert ethnicity == [("White",), ("White",), ("Black",), ("Black",)]
