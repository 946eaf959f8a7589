"""School absence page on a tiny hand-built store: every figure worked out by hand below."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard import data
from dashboard.app import create_app
from dashboard.components import store_to_frame
from dashboard.figures.absence import (
    ALL_GROUP, MISSING_GROUP, absence_rate_figure, absence_summary, cme_figure, linkage_sentence,
    persistent_absence_figure, persistent_summary,
)
from dashboard.filters import Filters
from pipelines.config import Settings
from pipelines.load import load
from sources import police, write_table

YEAR = Filters(dt.date(2025, 4, 1), dt.date(2026, 3, 31))
CARE = Filters(dt.date(2025, 4, 1), dt.date(2026, 3, 31), care="care")


def attendance(upn, year, term, possible, authorised, unauthorised, school="100001"):
    return {"upn": upn, "academic_year": year, "term": term, "school_urn": school, "sess_possible": possible,
            "sess_authorised": authorised, "sess_unauthorised": unauthorised}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    # Children with an episode in 2025/26 (financial year):
    #   P1 2025-05-01 from home -> academic year 2024/25, UPN U1
    #   P2 2025-10-01 from care (foster care, not in SSDA903) -> academic year 2025/26, UPN U2
    #   P3 2025-06-01 from home, no UPN link at all
    tmp = tmp_path_factory.mktemp("absence")
    source = tmp / "src"
    write_table(source, "police_incidents", [
        police("I1", "P1", "2025-05-01T08:00", "2025-05-01T10:00"),
        police("I2", "P2", "2025-10-01T08:00", "2025-10-01T10:00", missing_from_type="foster_care"),
        police("I3", "P3", "2025-06-01T08:00", "2025-06-01T10:00"),
    ])
    write_table(source, "child_xref", [{"person_ref": "P1", "upn": "U1"}, {"person_ref": "P2", "upn": "U2"}])
    write_table(source, "attendance", [
        attendance("U1", "2024/25", "autumn", 100, 5, 5),      # 10%: persistent (boundary), not severe
        attendance("U1", "2024/25", "spring", 100, 30, 20),    # 50%: persistent and severe (boundary)
        attendance("U1", "2023/24", "autumn", 100, 50, 0),     # not a year of any episode: left out
        attendance("U2", "2025/26", "autumn", 60, 3, 0),       # two schools in one term: 100 possible,
        attendance("U2", "2025/26", "autumn", 40, 0, 2, school="100002"),  # 5 absent = 5%
        attendance("U2", "2024/25", "autumn", 100, 2, 0),      # P2's episode is in 2025/26: all pupils only
        attendance("U3", "2024/25", "autumn", 100, 0, 9),      # 9%
        attendance("U3", "2025/26", "autumn", 100, 1, 1),      # 2%
        attendance("U4", "2024/25", "autumn", 200, 20, 0),     # 10%
    ])
    write_table(source, "children_missing_education", [
        {"upn": "U1", "start_date": "2025-03-01", "end_date": "2025-04-10"},  # overlaps the period; P1 went missing
        {"upn": "U3", "start_date": "2026-01-01"},                            # open, overlaps; no episode
        {"upn": "U4", "start_date": "2024-01-01", "end_date": "2024-02-01"},  # before the period
    ])
    db = tmp / "mfhc.duckdb"
    load(source, Settings(db_path=db))
    create_app(db)
    yield db
    data.configure(None)


def test_absence_by_term_by_hand(store):
    frame = data.query("absence_by_term", YEAR)
    rows = [tuple(r) for r in frame[["academic_term", "pupil_group", "pupils", "sessions_possible",
                                     "sessions_absent", "absence_rate_pct", "persistent_pupils", "persistent_pct",
                                     "severe_pupils", "severe_pct"]].itertuples(index=False)]
    assert rows == [
        # U1 alone: 10/100.
        ("2024/25 autumn", MISSING_GROUP, 1, 100, 10, 10.0, 1, 100.0, 0, 0.0),
        # U1 10/100, U2 2/100, U3 9/100, U4 20/200: 41/500 = 8.2%; persistent U1 and U4 = 2 of 4.
        ("2024/25 autumn", ALL_GROUP, 4, 500, 41, 8.2, 2, 50.0, 0, 0.0),
        ("2024/25 spring", MISSING_GROUP, 1, 100, 50, 50.0, 1, 100.0, 1, 100.0),
        ("2024/25 spring", ALL_GROUP, 1, 100, 50, 50.0, 1, 100.0, 1, 100.0),
        # U2's two schools summed: 5/100.
        ("2025/26 autumn", MISSING_GROUP, 1, 100, 5, 5.0, 0, 0.0, 0, 0.0),
        # U2 5/100 and U3 2/100: 7/200 = 3.5%.
        ("2025/26 autumn", ALL_GROUP, 2, 200, 7, 3.5, 0, 0.0, 0, 0.0),
    ]


def test_care_filter_keeps_only_the_looked_after_child(store):
    frame = data.query("absence_by_term", CARE)
    assert frame["academic_term"].unique().tolist() == ["2025/26 autumn"]
    assert frame["absence_rate_pct"].tolist() == [5.0, 3.5]
    assert data.query("absence_linkage", CARE).iloc[0]["children"] == 1


def test_linkage_and_children_missing_education(store):
    linkage = data.query("absence_linkage", YEAR).iloc[0].to_dict()
    assert linkage == {"children": 3, "children_with_upn": 2, "children_without_upn": 1,
                       "children_with_attendance": 2, "children_without_attendance": 1}
    assert "1 has no attendance record" in linkage_sentence(data.query("absence_linkage", YEAR))
    # U1 and U3 overlap the period; of them only U1 (P1) went missing, and P1 is from home.
    assert data.query("absence_children_missing_education", YEAR).iloc[0].tolist() == [2, 1]
    assert data.query("absence_children_missing_education", CARE).iloc[0].tolist() == [2, 0]


def test_figures_draw_both_groups_without_colour_alone(store):
    frame = data.query("absence_by_term", YEAR)
    rate = absence_rate_figure(frame)
    assert [t.name for t in rate.data] == [MISSING_GROUP, ALL_GROUP]
    assert list(rate.data[0].y) == [10.0, 50.0, 5.0] and list(rate.data[1].y) == [8.2, 50.0, 3.5]
    assert rate.data[0].marker.pattern.shape != rate.data[1].marker.pattern.shape
    persistent = persistent_absence_figure(frame)
    assert len(persistent.data) == 4
    assert {t.marker.symbol for t in persistent.data} == {"diamond", "circle"}
    assert {t.line.dash for t in persistent.data} == {"solid", "dash"}
    assert list(persistent.data[0].y) == [100.0, 100.0, 0.0]
    cme = cme_figure(data.query("absence_children_missing_education", YEAR))
    assert list(cme.data[0].x) == [2, 1]
    empty = absence_rate_figure(frame.iloc[0:0])
    assert not empty.data and empty.layout.annotations


def test_page_callback_and_filters(store):
    from dashboard.pages.absence import update_absence

    linkage, table, *charts = update_absence("2025-04-01", "2026-03-31", "all", None, None, None, None)
    assert linkage.startswith("Of 3 children with an episode in the period, 1 has no attendance record")
    assert "2024/25 autumn" in str(table)
    rate_figure, rate_data, rate_summary = charts[0:3]
    assert len(store_to_frame(rate_data)) == 6
    assert "2025/26 autumn, 5.0% (1 pupil) against 3.5% (2 pupils)" in rate_summary
    assert charts[8] == ("2 children were missing education at some time in the period; 1 of them also went "
                         "missing from home or care in it.")
    _, _, *care_charts = update_absence("2025-04-01", "2026-03-31", "care", None, None, None, None)
    assert len(store_to_frame(care_charts[1])) == 2
    # A period with no episodes: empty figures and plain words, no error.
    _, _, *none = update_absence("2023-04-01", "2023-06-30", "all", None, None, None, None)
    assert none[2] == "No attendance records of children who went missing in this period."


def _by_term(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["academic_term", "pupil_group", "pupils", "sessions_possible",
                                        "sessions_absent", "absence_rate_pct", "persistent_pct", "severe_pct"])
    return frame.assign(academic_year=frame["academic_term"].str[:7], term=frame["academic_term"].str[8:])


def test_summaries_by_hand():
    # The words read each group's own rows: overall rates summed over terms, the latest term of
    # the children who went missing, and all pupils' row of that same term when there is one.
    frame = _by_term([
        ("2024/25 autumn", MISSING_GROUP, 2, 200, 30, 15.0, 50.0, 0.0),
        ("2024/25 autumn", ALL_GROUP, 10, 1000, 80, 8.0, 20.0, 10.0),
        ("2024/25 spring", MISSING_GROUP, 1, 100, 60, 60.0, 100.0, 100.0),
    ])
    assert absence_summary(frame) == ("Over 2 terms, children who went missing missed 30.0% of their possible "
                                      "sessions, against 8.0% for all pupils. In 2024/25 spring, 60.0% (1 pupil).")
    assert persistent_summary(frame) == ("In 2024/25 spring, 100.0% of children who went missing were persistently "
                                         "absent and 100.0% severely absent.")
    # All pupils' spring row, after autumn's: 170 of 1,900 sessions overall (8.9%).
    frame = pd.concat([frame, _by_term([("2024/25 spring", ALL_GROUP, 9, 900, 90, 10.0, 30.0, 5.0)])],
                      ignore_index=True)
    assert absence_summary(frame) == ("Over 2 terms, children who went missing missed 30.0% of their possible "
                                      "sessions, against 8.9% for all pupils. In 2024/25 spring, 60.0% (1 pupil) "
                                      "against 10.0% (9 pupils).")
    assert persistent_summary(frame).endswith("severely absent, against 30.0% and 5.0% of all pupils.")
    assert absence_summary(frame[frame["pupil_group"] == ALL_GROUP]) == \
        "No attendance records of children who went missing in this period."
