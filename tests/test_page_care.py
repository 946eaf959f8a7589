"""Care and placements page on a tiny hand-built store: every figure worked out by hand below."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard import data
from dashboard.app import create_app
from dashboard.components import store_to_frame
from dashboard.figures.care import (
    away_figure, distance_figure, distance_summary, name_authorities, other_la_figure, source_by_month_figure,
    uasc_counts, uasc_figure,
)
from dashboard.filters import Filters
from pipelines.config import Settings, load_settings
from pipelines.load import load
from sources import police, write_table

YEAR = Filters(dt.date(2025, 4, 1), dt.date(2026, 3, 31))
VALUES = ("2025-04-01", "2026-03-31", "all", None, None, None, None)


def placement(child, decom, dec, home, placed):
    return {"CHILD": child, "DECOM": decom, "DEC": dec, "RNE": "S", "LS": "C2", "CIN": "N1", "PLACE": "U1",
            "HOME_POST": home, "PL_POST": placed, "URN": "XXXXXXX"}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    # SSDA903 children (distances from the postcode directory: WV1 4->WV1 1 0.3 miles,
    # WV1 4->B1 1 12.4 miles, WV1 4->SY1 1 27.4 miles):
    #   C1 placed 1 Apr-30 Jun 2025 (91 days), under 10 miles; missing 2 May, away 10 Jun.
    #   C2 placed 1 Jan-31 Dec 2025 (275 days in the period), 10-20 miles; missing 15 Jul, 20 Aug.
    #   C3 UASC, placed 1 Oct 2025, open: runs to the last episode in the store (31 Jan 2026),
    #      123 days, over 20 miles; police episodes 2 Oct 20:00 (44 h after) and 6 Oct 10:00 (5 days 10 h = 130 h).
    #   C4 UASC, placed 1-29 Nov 2025 (29 days), no home sector: unknown; police episode 5 Nov 12:00 (108 h).
    # Police-only: P5 children's home placed by Sandwell (E08000028) 10 May, 10 Jul; P7 other
    # placement placed by E99999999 (no name known) 9 Sep; P6 foster care placed by this
    # authority 20 Sep; P9 from home 31 Jan 2026.
    tmp = tmp_path_factory.mktemp("care")
    source = tmp / "src"
    header = [{"CHILD": c, "SEX": "M", "DOB": "15/06/2009"} for c in ("C1", "C2", "C3", "C4")]
    write_table(source, "ssda903_header", header, path="ssda903/2026/header.csv")
    write_table(source, "ssda903_episodes", [
        placement("C1", "01/04/2025", "30/06/2025", "WV1 4", "WV1 1"),
        placement("C2", "01/01/2025", "31/12/2025", "WV1 4", "B1 1"),
        placement("C3", "01/10/2025", "", "WV1 4", "SY1 1"),
        placement("C4", "01/11/2025", "29/11/2025", "", "WV1 1"),
    ], path="ssda903/2026/episodes.csv")
    write_table(source, "ssda903_missing", [
        {"CHILD": "C1", "MISSING": "M", "MIS_START": "02/05/2025", "MIS_END": "03/05/2025"},
        {"CHILD": "C1", "MISSING": "A", "MIS_START": "10/06/2025", "MIS_END": "10/06/2025"},
        {"CHILD": "C2", "MISSING": "M", "MIS_START": "15/07/2025", "MIS_END": "16/07/2025"},
        {"CHILD": "C2", "MISSING": "M", "MIS_START": "20/08/2025", "MIS_END": "20/08/2025"},
    ], path="ssda903/2026/missing.csv")
    write_table(source, "ssda903_uasc", [{"CHILD": "C3"}, {"CHILD": "C4"}], path="ssda903/2026/uasc.csv")
    write_table(source, "police_incidents", [
        police("I1", "PC3", "2025-10-02T20:00", "2025-10-03T08:00", la_child_ref="C3"),
        police("I2", "PC3", "2025-10-06T10:00", "2025-10-06T12:00", la_child_ref="C3"),
        police("I3", "PC4", "2025-11-05T12:00", "2025-11-05T20:00", la_child_ref="C4"),
        police("I4", "P5", "2025-05-10T08:00", "2025-05-10T09:00", missing_from_type="childrens_home",
               placing_la_code="E08000028"),
        police("I5", "P5", "2025-07-10T08:00", "2025-07-10T09:00", missing_from_type="childrens_home",
               placing_la_code="E08000028"),
        police("I6", "P7", "2025-09-09T08:00", "2025-09-09T09:00", missing_from_type="other_placement",
               placing_la_code="E99999999"),
        police("I7", "P6", "2025-09-20T08:00", "2025-09-20T09:00", missing_from_type="foster_care",
               placing_la_code="E08000031"),
        police("I8", "P9", "2026-01-31T08:00", "2026-01-31T09:00"),
    ])
    db = tmp / "mfhc.duckdb"
    load(source, Settings(db_path=db))
    create_app(db)
    yield db
    data.configure(None)


def test_from_care_and_away_by_month(store):
    source = data.query("care_source_by_month", YEAR)
    months = {(str(r.month)[:7], r.source): r.episodes for r in source.itertuples()}
    assert months == {("2025-05", "From care"): 2, ("2025-06", "From care"): 1, ("2025-07", "From care"): 2,
                      ("2025-08", "From care"): 1, ("2025-09", "From care"): 2, ("2025-10", "From care"): 2,
                      ("2025-11", "From care"): 1, ("2026-01", "From home"): 1}
    away = data.query("care_away_by_month", YEAR)
    june = away[away["month"].astype(str).str.startswith("2025-06")].iloc[0]
    assert (june["away_episodes"], june["from_care_episodes"], june["away_share_of_from_care_pct"]) == (1, 1, 100.0)
    assert away["away_episodes"].sum() == 1 and away["from_care_episodes"].sum() == 11
    # January 2026 has neither an away episode nor one from care: no row (and no empty share).
    assert away["month"].astype(str).str[:7].tolist() == ["2025-05", "2025-06", "2025-07", "2025-08", "2025-09",
                                                          "2025-10", "2025-11"]
    # The care filter still applies: from home leaves only January 2026.
    home = data.query("care_source_by_month", Filters(YEAR.period_start, YEAR.period_end, care="home"))
    assert home["episodes"].tolist() == [1] and home["source"].tolist() == ["From home"]


def test_distance_rates_by_hand(store):
    frame = data.query("care_distance_rates", YEAR)
    rows = [tuple(r) for r in frame.itertuples(index=False)]
    assert rows == [
        # 2 episodes / (91 / 365.25) = 8.03
        ("under 10 miles", 2, 91, 0.25, 8.03),
        # 2 / (275 / 365.25) = 2.66
        ("10-20 miles", 2, 275, 0.75, 2.66),
        # 2 / (123 / 365.25) = 5.94 (open placement to 31 Jan 2026)
        ("over 20 miles", 2, 123, 0.34, 5.94),
        # 1 / (29 / 365.25) = 12.59; P5, P6, P7 have no SSDA903 placement and are not counted
        ("unknown", 1, 29, 0.08, 12.59),
    ]
    risk = data.query("care_distance_rates", Filters(YEAR.period_start, YEAR.period_end, risk_level="medium"))
    # SSDA903-only episodes have no risk level: only C3's and C4's police episodes are left.
    assert risk["episodes"].tolist() == [0, 0, 2, 1]
    figure = distance_figure(frame)
    assert list(figure.data[0].y) == [8.03, 2.66, 5.94, 12.59]
    assert len(set(figure.data[0].marker.pattern.shape)) == 4
    # A band without placement days gets no rate and is named as such.
    assert distance_summary(frame.iloc[:3]).endswith("No placements in the period for: unknown.")


def test_placed_by_other_authorities(store):
    code = load_settings().authority_code
    assert code == "E08000031"
    frame = data.query("care_placed_by_other_la", YEAR, authority_code=code)
    assert [tuple(r) for r in frame.itertuples(index=False)] == [("E08000028", 2, 1), ("E99999999", 1, 1)]
    names = pd.DataFrame({"code": ["E08000028", "E08000031"], "name": ["Sandwell", "Wolverhampton"]})
    named = name_authorities(frame, names)
    assert named["placing_authority"].tolist() == ["Sandwell", "E99999999"]
    figure = other_la_figure(named)
    assert list(figure.data[0].x) == [2, 1] and figure.data[0].y[0] == "Sandwell (E08000028)"
    # As a host of Sandwell's children, Sandwell would see Wolverhampton's instead.
    assert data.query("care_placed_by_other_la", YEAR, authority_code="E08000028")["placing_la_code"].tolist() \
        == ["E08000031", "E99999999"]


def test_uasc_missing_within_48_hours_and_7_days(store):
    frame = data.query("care_uasc_missing", YEAR)
    assert frame["hours_after"].tolist() == [44.0, 130.0, 108.0]
    assert frame["within_48h"].tolist() == [True, False, False]
    assert frame["child"].str.len().eq(8).all() and frame["child"].nunique() == 2
    counts = uasc_counts(frame)
    assert counts["children"].tolist() == [1, 2]
    assert list(uasc_figure(counts).data[0].y) == [1, 2]
    cohort = data.query("care_uasc_first_looked_after", None, period_start=YEAR.period_start,
                        period_end=YEAR.period_end)
    assert cohort["uasc_children"].tolist() == [2]


def test_figures_never_rely_on_colour_alone(store):
    source = source_by_month_figure(data.query("care_source_by_month", YEAR))
    assert [t.name for t in source.data] == ["From care", "From home"]
    assert [t.marker.pattern.shape for t in source.data] == ["/", ""]
    assert list(source.data[0].y) == [2, 1, 2, 1, 2, 2, 1] and list(source.data[1].y) == [1]
    away = away_figure(data.query("care_away_by_month", YEAR))
    assert away.data[1].marker.symbol == "square" and away.data[1].line.dash == "dash"


def test_page_callback_and_filters(store):
    from dashboard.pages.care import update_care

    out = update_care(*VALUES)
    source_summary, distance_data, other_data, uasc_summary, uasc_list = out[2], out[7], out[10], out[14], out[15]
    assert source_summary == "12 episodes over 8 months: 11 from care (91.7%) and 1 from home."
    assert store_to_frame(distance_data)["episodes"].tolist() == [2, 2, 2, 1]
    assert store_to_frame(other_data)["placing_authority"].tolist() == ["Sandwell", "E99999999"]
    assert uasc_summary.startswith("1 unaccompanied asylum-seeking child went missing within 48 hours and 2 "
                                   "within 7 days")
    assert "2 such children first became looked after in the period" in uasc_summary
    assert "44.0" in str(uasc_list)
    home = update_care("2025-04-01", "2026-03-31", "home", None, None, None, None)
    assert home[2] == "1 episode over 1 month: 0 from care (0.0%) and 1 from home."
    assert store_to_frame(home[7])["episodes"].tolist() == [0, 0, 0, 0]
    assert store_to_frame(home[13])["children"].tolist() == [0, 0]
    assert store_to_frame(home[4]).empty and home[5] == "No episodes from care in this period."
