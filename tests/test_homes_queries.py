"""`homes_rates` equals its plain definition on a synthetic authority (`generated_authority`),
over any period and every kind of filter.

The query counts placement days only from the placements that overlap the period, and each
home's children from its episodes grouped per child (no distinct count and join). The plain
definition: every placement of a home, one at a time, clipped to the period (both ends
inclusive; an open one runs to the period end or the store's last episode date, whichever
is earlier); episodes, distinct children and police-only episodes counted over the filtered
episodes; every home with either.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

import queries
from sources import EPISODE_FILTERS, FILTER_SETS, params


def plain_rates(con, start: dt.date, end: dt.date, filters: dict) -> list[tuple]:
    episode_filters = {name: filters.get(name) for name in EPISODE_FILTERS}
    last = con.execute("select max(start_date) from mart_episode").fetchone()[0]
    days: dict[str, int] = {}
    for urn, began, ended in con.execute(
            "select home_urn, start_date, end_date from fct_placement where home_urn is not null").fetchall():
        until = min(ended if ended is not None else min(end, last) if last else end, end)
        days[urn] = days.get(urn, 0) + max(0, (until - max(began, start)).days + 1)
    counted = {row[0]: row[1:] for row in con.execute("""
        select home_urn, count(*), count(distinct child_no), count_if(not child_known_to_ssda903)
        from mart_episodes_filtered($start, $end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
        where home_urn is not null group by home_urn""", {"start": start, "end": end, **episode_filters}).fetchall()}
    homes = {row[0]: row[1:] for row in con.execute(
        "select urn, name, provider, places, overall_effectiveness from dim_home").fetchall()}
    rows = []
    for urn in set(days) | set(counted):
        episodes, children, not_ours = counted.get(urn, (0, 0, 0))
        if episodes > 0 or days.get(urn, 0) > 0:
            name, provider, places, effectiveness = homes.get(urn, (None, None, None, None))
            rows.append((urn, name if name is not None else urn, provider, places, effectiveness, episodes, children,
                         not_ours, float(days.get(urn, 0)), days.get(urn, 0) / 365.25))
    return sorted(rows)


@settings(max_examples=60)
@given(st.dates(dt.date(2023, 1, 1), dt.date(2026, 6, 30)), st.integers(0, 800), st.sampled_from(FILTER_SETS))
def test_homes_rates_equal_the_plain_definition_for_any_period_and_filter(generated_authority, start, days, filters):
    end = start + dt.timedelta(days=days)
    rows = generated_authority.execute(queries.named("homes_rates"), params(start, end, filters)).fetchall()
    assert sorted(rows) == plain_rates(generated_authority, start, end, filters)
    # Busiest first, then by name.
    assert [(-row[5], row[1]) for row in rows] == sorted((-row[5], row[1]) for row in rows)


@settings(max_examples=40)
@given(st.data(), st.sampled_from(FILTER_SETS))
def test_homes_rates_equal_the_plain_definition_for_periods_on_placement_boundaries(generated_authority, draw, filters):
    """Periods that start on a placement's last day or end on one's first: a day counted or
    lost at either end shows here (random periods seldom fall on them)."""
    con = generated_authority
    ends = [row[0] for row in con.execute(
        "select distinct end_date from fct_placement where home_urn is not null and end_date is not null").fetchall()]
    starts = [row[0] for row in con.execute(
        "select distinct start_date from fct_placement where home_urn is not null").fetchall()]
    start = draw.draw(st.sampled_from(sorted(ends)))
    end = draw.draw(st.sampled_from(sorted(day for day in starts if day >= start) or [start]))
    rows = con.execute(queries.named("homes_rates"), params(start, end, filters)).fetchall()
    assert sorted(rows) == plain_rates(con, start, end, filters)


def test_the_synthetic_authority_has_homes_of_every_kind(generated_authority):
    """The property above is not vacuous: a year has homes with days and episodes, homes
    with days only, placements outside it and open placements."""
    rows = plain_rates(generated_authority, dt.date(2025, 4, 1), dt.date(2026, 3, 31), {})
    assert any(row[5] > 0 and row[8] > 0 for row in rows)
    assert any(row[5] == 0 and row[8] > 0 for row in rows)
    assert any(row[6] < row[5] for row in rows)   # a child with two episodes at one home
    con = generated_authority
    assert con.execute("select count(*) from fct_placement where home_urn is not null and end_date is null"
                       ).fetchone()[0] > 0
    assert con.execute("select count(*) from fct_placement where home_urn is not null and end_date < '2025-04-01'"
                       ).fetchone()[0] > 0
