"""The School absence queries against their plain definitions, worked out in pandas from the
filtered episodes (the filter bar's one definition) and the marts, for any period and filter.

The store: children with episodes spread over three academic years, several in one year, some
from care or of other ages and risk levels, attendance in some of their years only (and some
pupils who never went missing), a child with no UPN, children missing education with and
without episodes and without a child link."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import data
from dashboard.app import create_app
from dashboard.filters import Filters
from pipelines.config import Settings
from pipelines.load import load
from sources import police, write_table

FIRST, LAST = dt.date(2023, 9, 1), dt.date(2026, 8, 31)
YEARS = ("2023/24", "2024/25", "2025/26")
TERMS = ("autumn", "spring", "summer")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    rng = random.Random(20261124)
    tmp = tmp_path_factory.mktemp("absence-queries")
    source = tmp / "src"
    incidents, xref, attendance, cme = [], [], [], []
    for child in range(60):
        person = f"P{child}"
        for episode in range(rng.choice((1, 1, 2, 3, 5))):
            day = FIRST + dt.timedelta(days=rng.randrange((LAST - FIRST).days))
            hour = rng.randrange(20)
            incidents.append(police(
                f"I{child}-{episode}", person, f"{day.isoformat()}T{hour:02d}:00",
                f"{day.isoformat()}T{hour + 3:02d}:00", risk_level=rng.choice(("low", "medium", "high")),
                date_of_birth=rng.choice(("2009-03-15", "2011-11-02", "2013-06-30")),
                sex="F" if child % 2 else "M",
                missing_from_type=rng.choice(("home", "home", "foster_care"))))
        if child % 7 == 3:
            continue                                  # no UPN: never followed into attendance
        upn = f"U{child}"
        xref.append({"person_ref": person, "upn": upn})
        for year in rng.sample(YEARS, rng.randrange(len(YEARS) + 1)):
            for term in rng.sample(TERMS, rng.randrange(1, 4)):
                possible = rng.choice((0, 60, 100, 120))
                attendance.append({"upn": upn, "academic_year": year, "term": term, "school_urn": "100001",
                                   "sess_possible": possible, "sess_authorised": rng.randrange(possible // 2 + 1),
                                   "sess_unauthorised": rng.randrange(possible // 3 + 1)})
        if child % 5 == 0:
            start = FIRST + dt.timedelta(days=rng.randrange(900))
            end = "" if child % 10 == 0 else (start + dt.timedelta(days=rng.randrange(30, 200))).isoformat()
            cme.append({"upn": upn, "start_date": start.isoformat(), "end_date": end})
    # One child certainly in two academic years of the financial year 2024/25, three times,
    # followed into attendance in the second only.
    for episode, day in enumerate(("2024-05-01", "2024-10-01", "2024-10-15")):
        incidents.append(police(f"IX-{episode}", "PX", f"{day}T08:00", f"{day}T10:00"))
    xref.append({"person_ref": "PX", "upn": "UX"})
    attendance.append({"upn": "UX", "academic_year": "2024/25", "term": "autumn", "school_urn": "100001",
                       "sess_possible": 100, "sess_authorised": 12, "sess_unauthorised": 0})
    for pupil in range(15):                           # pupils who never went missing
        attendance.append({"upn": f"Q{pupil}", "academic_year": YEARS[pupil % 3], "term": TERMS[pupil % 3],
                           "school_urn": "100002", "sess_possible": 100, "sess_authorised": pupil * 4,
                           "sess_unauthorised": 0})
    cme.append({"upn": "Q1", "start_date": "2024-01-10", "end_date": ""})   # no child link
    write_table(source, "police_incidents", incidents)
    write_table(source, "child_xref", xref)
    write_table(source, "attendance", attendance)
    write_table(source, "children_missing_education", cme)
    db = tmp / "mfhc.duckdb"
    load(source, Settings(db_path=db))
    create_app(db)
    yield db
    data.configure(None)


def _table(sql: str, params: dict | None = None) -> pd.DataFrame:
    with data.connection() as con:
        return con.execute(sql, params or {}).df()


def _expected(filters: Filters) -> tuple[pd.DataFrame, dict, list[int]]:
    params = filters.sql_params()
    episodes = _table("select child_no, academic_year from mart_episodes_filtered($period_start, $period_end, "
                      "$from_care, $age_band, $sex, $ethnicity_group, $risk_level)", params)
    pairs = episodes.dropna(subset=["child_no"]).drop_duplicates()
    attendance = _table("select * from mart_child_attendance_term")
    followed = attendance.merge(pairs, on=["child_no", "academic_year"])
    missing = followed[followed["possible"] > 0].groupby(["academic_year", "term"], as_index=False).agg(
        pupils=("child_no", "size"), sessions_possible=("possible", "sum"), sessions_absent=("absent", "sum"),
        persistent_pupils=("absent", lambda a: int((10 * a >= followed.loc[a.index, "possible"]).sum())),
        severe_pupils=("absent", lambda a: int((2 * a >= followed.loc[a.index, "possible"]).sum())))
    everyone = _table("select * from mart_all_pupils_term")
    everyone = everyone[everyone["academic_year"].isin(set(episodes["academic_year"]))]
    order = {"autumn": 1, "spring": 2, "summer": 3}
    by_term = pd.concat([missing.assign(pupil_group="Children who went missing", group_order=1),
                         everyone.assign(pupil_group="All pupils", group_order=2)])
    by_term = by_term.assign(term_order=by_term["term"].map(order)).sort_values(
        ["academic_year", "term_order", "group_order"])
    by_term = [tuple(int(v) if not isinstance(v, str) else v for v in row) for row in by_term[
        ["academic_year", "term", "pupil_group", "pupils", "sessions_possible", "sessions_absent",
         "persistent_pupils", "severe_pupils"]].itertuples(index=False)]

    keys = _table("select child_no, has_upn from mart_child_key")
    children = set(pairs["child_no"].astype(int))
    with_upn = set(keys[keys["has_upn"]]["child_no"].astype(int)) & children
    attended = set(followed["child_no"].astype(int))
    linkage = {"children": len(children), "children_with_upn": len(with_upn),
               "children_without_upn": len(children - with_upn), "children_with_attendance": len(attended),
               "children_without_attendance": len(children - attended)}

    cme = _table("select cme.child_id, cme.upn_key, key.child_no from fct_children_missing_education as cme "
                 "left join mart_child_key as key using (child_id) "
                 "where cme.start_date <= $period_end and (cme.end_date is null or cme.end_date >= $period_start)",
                 {"period_start": filters.period_start, "period_end": filters.period_end})
    cme["child"] = cme["child_id"].where(cme["child_id"].notna(), "upn:" + cme["upn_key"])
    went = set(episodes["child_no"].dropna().astype(int))
    cme_counts = [cme["child"].nunique(), cme[cme["child_no"].isin(went)]["child"].nunique()]
    return by_term, linkage, cme_counts


days = st.integers(0, (LAST - FIRST).days + 60).map(lambda n: FIRST - dt.timedelta(days=30) + dt.timedelta(days=n))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=days, length=st.integers(0, 800), care=st.sampled_from(["all", "care", "home"]),
       age=st.sampled_from([None, "10-12", "13-15"]), sex=st.sampled_from([None, "F"]),
       risk=st.sampled_from([None, "high"]))
def test_absence_queries_equal_their_plain_definitions(store, start, length, care, age, sex, risk):
    filters = Filters(start, start + dt.timedelta(days=length), care=care, age_band=age, sex=sex, risk_level=risk)
    by_term, linkage, cme = _expected(filters)
    got = data.query("absence_by_term", filters)
    assert [tuple(int(v) if not isinstance(v, str) else v for v in row) for row in got[
        ["academic_year", "term", "pupil_group", "pupils", "sessions_possible", "sessions_absent",
         "persistent_pupils", "severe_pupils"]].itertuples(index=False)] == by_term
    assert data.query("absence_linkage", filters).iloc[0].to_dict() == linkage
    assert data.query("absence_children_missing_education", filters).iloc[0].tolist() == cme


def test_the_store_has_what_the_comparison_needs(store):
    """Children in two academic years of one period, children without attendance in some of
    their years, filters that leave some out, and missing education with and without episodes."""
    year = Filters(dt.date(2024, 4, 1), dt.date(2025, 3, 31))
    pairs = _table("select child_no, count(distinct academic_year) as years from mart_episodes_filtered("
                   "$period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level) "
                   "group by child_no", year.sql_params())
    assert (pairs["years"] == 2).any()
    _, linkage, cme = _expected(year)
    assert 0 < linkage["children_with_attendance"] < linkage["children_with_upn"] < linkage["children"]
    assert 0 < cme[1] < cme[0]
    _, care, _ = _expected(Filters(year.period_start, year.period_end, care="care"))
    assert 0 < care["children"] < linkage["children"]


def test_a_period_without_episodes_counts_nothing(store):
    none = Filters(dt.date(2020, 1, 1), dt.date(2020, 3, 31))
    assert data.query("absence_by_term", none).empty
    assert data.query("absence_linkage", none).iloc[0].tolist() == [0, 0, 0, 0, 0]
    assert data.query("absence_children_missing_education", none).iloc[0].tolist() == [0, 0]
