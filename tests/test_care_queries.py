"""The Care and placements monthly queries equal their plain definitions.

`care_source_by_month` and `care_away_by_month` count by day before by month (the month
worked out for a few hundred days, not for every episode). These tests hold them to the
plain definitions (every episode counted in its month) on a synthetic authority
(`generated_authority`) over any period and filter, and on small episode marts drawn by
hypothesis with what the authority has little of: a care flag or category left NULL, and
days whose flags are all NULL.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import queries
from sources import FILTER_SETS, YEAR, YEAR_AND_FORTNIGHT_CASES, build_macros, params

EPISODES = ("mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, "
            "$risk_level)")



def plain(con, values: dict) -> tuple[list, list]:
    episodes = con.execute(f"select start_date, from_care, category from {EPISODES}", values).df()
    episodes["month"] = pd.to_datetime(episodes["start_date"]).dt.to_period("M").dt.to_timestamp()
    care = episodes["from_care"].eq(True).fillna(False).astype(bool)       # NULL: from home
    away = episodes["category"].eq("away").fillna(False).astype(bool)
    episodes["source"] = care.map({True: "From care", False: "From home"})
    source = episodes.groupby(["month", "source"]).size().sort_index()
    source_rows = [(month, group, int(n)) for (month, group), n in source.items()]
    away_rows = []
    for month, rows in episodes.groupby("month"):
        in_care, away_month = care[rows.index], away[rows.index]
        counts = (int(away_month.sum()), int(in_care.sum()), int((away_month & in_care).sum()))
        if counts[0] or counts[1]:
            share = round(100.0 * counts[2] / counts[1], 1) if counts[1] else None
            away_rows.append((month, *counts, share))
    return source_rows, away_rows


def check(con, start, end, filters) -> None:
    values = params(start, end, filters)
    source, away = plain(con, values)
    got = con.execute(queries.named("care_source_by_month"), values).df()
    assert [(pd.Timestamp(m), s, int(n)) for m, s, n in got.itertuples(index=False)] == source
    got = con.execute(queries.named("care_away_by_month"), values).df()
    assert [(pd.Timestamp(row[0]), *(int(v) for v in row[1:4]), None if pd.isna(row[4]) else row[4])
            for row in got.itertuples(index=False)] == away


def test_the_authority_has_what_the_comparison_needs(generated_authority):
    # Episodes from care and from home in every month ('away' episodes are rare at any
    # scale, about 1 in 1,000: the drawn marts below have them).
    source, away = plain(generated_authority, params(*YEAR, {}))
    assert {s for _, s, _ in source} == {"From care", "From home"} and len(away) == 12
    assert all(row[2] for row in away)


def test_the_year_and_a_fortnight_equal_the_plain_definitions(generated_authority):
    for start, end, filters in YEAR_AND_FORTNIGHT_CASES:
        check(generated_authority, start, end, filters)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dates(dt.date(2023, 1, 1), dt.date(2026, 6, 30)), st.integers(0, 800), st.sampled_from(FILTER_SETS))
def test_care_monthly_queries_equal_their_plain_definitions(generated_authority, start, days, filters):
    check(generated_authority, start, start + dt.timedelta(days=days), filters)


FILTER_MACROS = build_macros("matches_filter_bar", "mart_episodes_filtered")
START = dt.date(2025, 1, 1)
flag = st.sampled_from([True, False, None])
episode_rows = st.lists(st.tuples(
    st.integers(0, 120), flag, st.sampled_from(["10-12", "13-15", None]), st.sampled_from(["F", "M", None]),
    st.sampled_from(["high", "low"]), st.sampled_from(["missing", "away", "absent", None])), max_size=60)


@pytest.fixture(scope="module")
def small_mart():
    con = duckdb.connect()
    con.execute("""create table mart_episode (
        start_date date, from_care boolean, age_band varchar, sex varchar, ethnicity_group varchar,
        risk_level varchar, category varchar)""")
    for macro in FILTER_MACROS:
        con.execute(macro)
    yield con
    con.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(episode_rows, st.integers(0, 120), st.integers(0, 120), st.sampled_from(FILTER_SETS))
def test_care_monthly_queries_equal_their_plain_definitions_on_drawn_marts(small_mart, episodes, first, length,
                                                                         filters):
    small_mart.execute("delete from mart_episode")
    for day, care, age, sex, risk, category in episodes:
        small_mart.execute("insert into mart_episode values (?, ?, ?, ?, 'White', ?, ?)",
                           [START + dt.timedelta(days=day), care, age, sex, risk, category])
    start = START + dt.timedelta(days=first)
    check(small_mart, start, start + dt.timedelta(days=length), filters)


def plain_placement_days(con, start, end) -> dict:
    """Days placed per distance band over the period, from every SSDA903 placement: an open
    one runs to the store's last episode date; both ends inclusive, clipped to the period."""
    last_episode = con.execute("select max(start_date) from fct_episode").fetchone()[0]
    days: dict = {}
    for band, first, last in con.execute("select distance_band, start_date, end_date from fct_placement").fetchall():
        last = last or last_episode or first
        clipped = (min(last, end) - max(first, start)).days + 1
        if clipped > 0:
            days[band] = days.get(band, 0) + clipped
    return days


def check_placement_days(con, start, end) -> None:
    got = con.execute(queries.named("care_distance_rates"), params(start, end, {})).df()
    expected = plain_placement_days(con, start, end)
    assert {band: int(n) for band, n in zip(got["distance_band"], got["placement_days"]) if n} == {
        band: n for band, n in expected.items() if band in set(got["distance_band"])}
    assert set(expected) <= set(got["distance_band"])


def test_the_authority_has_open_placements_in_three_distance_bands(generated_authority):
    # (No placement of the generated authority has an unknown distance: the hand-made store
    # of test_page_care has one.)
    assert generated_authority.execute("select count(*) from fct_placement where end_date is null").fetchone()[0] > 0
    assert len(plain_placement_days(generated_authority, *YEAR)) == 3


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dates(dt.date(2020, 1, 1), dt.date(2026, 6, 30)), st.integers(0, 2000))
def test_distance_rates_placement_days_equal_the_plain_definition(generated_authority, start, days):
    check_placement_days(generated_authority, start, start + dt.timedelta(days=days))
