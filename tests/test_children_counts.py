"""Children counted in one pass equal children counted the plain way.

With no from-care, age-band or risk filter, `kpis` and `overview_monthly_trend` count a
period's children from mart_episode's previous_start (each child's one episode whose
previous episode starts before the period), not with a distinct count over the period's
episodes. These tests hold them to the plain definition (distinct children, and children
with two or more episodes, over the filtered episodes) on a synthetic authority (`generated_authority`), over any
period and every kind of filter, and on a hand-made child whose episodes share a start day.
"""

from __future__ import annotations

import datetime as dt

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

import queries
from pipelines.config import Settings
from pipelines.kpis import compute_kpis
from pipelines.load import load
from sources import EPISODE_FILTERS, FILTER_SETS, police, write_table


def plain_children(con, start, end, filters) -> tuple[int, int]:
    """Distinct children of the filtered episodes, and those with two or more of them."""
    return con.execute("""
        select count(*), count(*) filter (where episodes >= 2)
        from (select child_no, count(*) as episodes
              from mart_episodes_filtered($start, $end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
              group by child_no)""", {"start": start, "end": end, **params_of(filters)}).fetchone()


def plain_trend(con, start, end, filters) -> list[tuple]:
    return con.execute("""
        select date_trunc('month', start_date)::date, count(*), count(distinct child_no)
        from mart_episodes_filtered($start, $end, $from_care, $age_band, $sex, $ethnicity_group, $risk_level)
        group by 1 order by 1""", {"start": start, "end": end, **params_of(filters)}).fetchall()


def params_of(filters: dict) -> dict:
    return {name: filters.get(name) for name in EPISODE_FILTERS}


@settings(max_examples=60)
@given(st.dates(dt.date(2023, 1, 1), dt.date(2026, 6, 30)), st.integers(0, 800), st.sampled_from(FILTER_SETS))
def test_kpi_children_equal_the_plain_count_for_any_period_and_filter(generated_authority, start, days, filters):
    end = start + dt.timedelta(days=days)
    figures = compute_kpis(generated_authority, start, end, filters or None)
    plain = plain_children(generated_authority, start, end, filters)
    assert (figures["children"], figures["repeat_children"]) == plain


@settings(max_examples=60)
@given(st.dates(dt.date(2023, 1, 1), dt.date(2026, 6, 30)), st.integers(0, 800), st.sampled_from(FILTER_SETS))
def test_monthly_trend_children_equal_the_plain_count(generated_authority, start, days, filters):
    end = start + dt.timedelta(days=days)
    rows = generated_authority.execute(queries.named("overview_monthly_trend"),
                                       {"period_start": start, "period_end": end, **params_of(filters)}).fetchall()
    assert rows == plain_trend(generated_authority, start, end, filters)


def test_the_synthetic_authority_has_children_counted_both_ways(generated_authority):
    # The property tests above mean something only if the periods hold repeat children whose
    # earlier episodes start before the period.
    start, end = dt.date(2025, 4, 1), dt.date(2026, 3, 31)
    children, repeat = plain_children(generated_authority, start, end, {})
    earlier = generated_authority.execute("select count(*) from mart_episode where start_date between ? and ? "
                                          "and previous_start < ?", [start, end, start]).fetchone()[0]
    assert children > 50 and repeat > 10 and earlier > 10


def test_episodes_on_the_same_day_and_before_the_period(tmp_path):
    source = tmp_path / "source"
    write_table(source, "police_incidents", [
        # P1: one episode before the period, then two that start on the same day in it (apart).
        police("A1", "P1", "2025-03-20T10:00", "2025-03-20T12:00"),
        police("A2", "P1", "2025-04-05T08:00", "2025-04-05T09:00"),
        police("A3", "P1", "2025-04-05T20:00", "2025-04-05T22:00", risk_level="high"),
        # P2: one episode before the period, one in it.
        police("B1", "P2", "2025-03-01T10:00", "2025-03-01T11:00"),
        police("B2", "P2", "2025-05-10T10:00", "2025-05-10T11:00"),
        # P3: two in the period, in two months.
        police("C1", "P3", "2025-04-30T10:00", "2025-04-30T11:00"),
        police("C2", "P3", "2025-05-01T10:00", "2025-05-01T11:00", risk_level="high"),
    ])
    db = tmp_path / "mfhc.duckdb"
    load(source, Settings(db_path=db))
    with duckdb.connect(str(db), read_only=True) as con:
        start, end = dt.date(2025, 4, 1), dt.date(2025, 6, 30)
        figures = compute_kpis(con, start, end)
        # P1, P2, P3; P1 (A2, A3) and P3 (C1, C2) have two or more in the period.
        assert (figures["children"], figures["repeat_children"]) == (3, 2)
        # With the risk filter only A3 and C2 are left: two children, neither a repeat.
        high = compute_kpis(con, start, end, {"risk_level": "high"})
        assert (high["children"], high["repeat_children"]) == (2, 0)
        rows = con.execute(queries.named("overview_monthly_trend"),
                           {"period_start": start, "period_end": end, **params_of({})}).fetchall()
        # April: A2, A3, C1 (P1, P3); May: B2, C2 (P2, P3).
        assert [(r[1], r[2]) for r in rows] == [(3, 2), (2, 2)]
