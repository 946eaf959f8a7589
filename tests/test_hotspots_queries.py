"""`hotspots_place_coverage` equals its plain definition: the query counts episodes by ward
first and looks the authority's wards up once per ward; the plain definition looks at every
episode. On a synthetic authority (`generated_authority`) over any period, filter and place,
and on small marts drawn by hypothesis with what real data never has (a place on an episode
the police never knew, a ward with no local authority, a code that is an area but not a
ward)."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import queries
from sources import FILTER_SETS, YEAR, params

EPISODES = ("mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, "
            "$risk_level)")
COLUMNS = ["episodes", "police_known", "with_ward", "ssda903_only", "outside_area", "place_unknown"]



def plain(con, values: dict, place: str) -> list[int]:
    prefix = "found" if place == "found" else "missing_from"
    episodes = con.execute(f"select police_known, {prefix}_ward as ward, {prefix}_la as la from {EPISODES}",
                           values).df()
    wards = set(con.execute("select code from ref_area where level = 'ward'").df()["code"])
    known = episodes["police_known"].eq(True).fillna(False).astype(bool)
    unknown = episodes["police_known"].eq(False).fillna(False).astype(bool)
    in_wards = episodes["ward"].map(lambda w: isinstance(w, str) and w in wards).astype(bool)
    la = episodes["la"].notna()
    return [len(episodes), int(known.sum()), int(in_wards.sum()), int(unknown.sum()),
            int((known & la & ~in_wards).sum()), int((known & ~la).sum())]


def check(con, start, end, filters, place) -> list[int]:
    values = params(start, end, filters)
    got = con.execute(queries.named("hotspots_place_coverage"), {**values, "place": place}).df()
    assert list(got.columns) == COLUMNS and all(str(t) == "int64" for t in got.dtypes)
    want = plain(con, values, place)
    assert got.iloc[0].tolist() == want
    return want


def test_the_authority_has_what_the_comparison_needs(generated_authority):
    # Every count of the sentence is there to get wrong (outside the authority: found there;
    # children go missing from home or care inside it), and some wards are not the authority's.
    missing_from, found = (check(generated_authority, *YEAR, {}, place) for place in ("missing_from", "found"))
    assert all(missing_from[:4]) and missing_from[5] and all(found), (missing_from, found)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dates(dt.date(2023, 1, 1), dt.date(2026, 6, 30)), st.integers(0, 800), st.sampled_from(FILTER_SETS),
       st.sampled_from(["missing_from", "found"]))
def test_coverage_equals_its_plain_definition(generated_authority, start, days, filters, place):
    check(generated_authority, start, start + dt.timedelta(days=days), filters, place)


def test_an_empty_period_counts_nothing(generated_authority):
    assert check(generated_authority, dt.date(2001, 1, 1), dt.date(2001, 1, 2), {}, "found") == [0] * 6


def test_found_cells_are_in_the_order_the_clusters_number_by(generated_authority):
    # find_clusters numbers clusters by their first row: the cells come sorted.
    cells = generated_authority.execute(queries.named("hotspots_found_cells"), params(*YEAR, {})).df()
    assert len(cells) and cells.equals(cells.sort_values(["grid_e", "grid_n", "ward"]).reset_index(drop=True))


FILTER_MACROS = [queries.build_sql("marts/000_episodes_filtered.sql").split("-- The filter bar's one definition")[0]] + [
    match.group(0) for match in re.finditer(r"create macro mart_episodes_filtered\(.*?;",
                                            queries.build_sql("marts/020_dashboard_marts.sql"), re.DOTALL)]
START = dt.date(2025, 1, 1)
flag = st.sampled_from([True, False, None])
ward = st.sampled_from(["W1", "W2", "L1", "X9", None])      # L1: an LSOA code, not a ward; X9: not ours
la = st.sampled_from(["E08000031", "E08000025", None])
episode_rows = st.lists(st.tuples(st.integers(0, 60), flag, st.sampled_from(["F", "M"]), flag, ward, la, ward, la),
                        max_size=50)


@pytest.fixture(scope="module")
def small_mart():
    con = duckdb.connect()
    con.execute("""create table mart_episode (
        start_date date, from_care boolean, age_band varchar, sex varchar, ethnicity_group varchar,
        risk_level varchar, police_known boolean, missing_from_ward varchar, missing_from_la varchar,
        found_ward varchar, found_la varchar)""")
    con.execute("create table ref_area (level varchar, code varchar, name varchar, geojson varchar)")
    con.execute("insert into ref_area values ('ward', 'W1', 'One', null), ('ward', 'W2', 'Two', null), "
                "('lsoa', 'L1', 'An LSOA', null)")
    for macro in FILTER_MACROS:
        con.execute(macro)
    yield con
    con.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(episode_rows, st.integers(0, 60), st.integers(0, 60), st.sampled_from(FILTER_SETS),
       st.sampled_from(["missing_from", "found"]))
def test_coverage_equals_its_plain_definition_on_drawn_marts(small_mart, episodes, first, length, filters, place):
    small_mart.execute("delete from mart_episode")
    for day, care, sex, known, from_ward, from_la, found_ward, found_la in episodes:
        small_mart.execute("insert into mart_episode values (?, ?, '13-15', ?, 'White', 'high', ?, ?, ?, ?, ?)",
                           [START + dt.timedelta(days=day), care, sex, known, from_ward, from_la, found_ward, found_la])
    start = START + dt.timedelta(days=first)
    check(small_mart, start, start + dt.timedelta(days=length), filters, place)
