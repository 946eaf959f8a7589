"""The Return interviews queries equal their plain definitions.

The queries count by day before by month, by stored provider before naming it, and count an
RHI with one link from its row while grouping only those with several (under their rhi_no,
in the same pass as the single-link rows). These tests hold them to the plain definitions
(every episode counted in its month; every RHI counted once) on a synthetic authority
(`generated_authority`) over any period and filter, and on small marts drawn by hypothesis
with what the authority has little of: RHIs with several links, answers left blank (a
flag of NULL on every link of an RHI), days and providers whose flags are all NULL.
"""

from __future__ import annotations

import datetime as dt


import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import queries
from sources import EPISODE_FILTERS, FILTER_SETS, YEAR, YEAR_AND_FORTNIGHT_CASES, build_macros, params

EPISODES = ("mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, "
            "$risk_level)")
LINKS = ("mart_rhi_links_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group, "
         "$risk_level)")
RISKS = (("Harm disclosed", "harm_disclosed"), ("Child sexual exploitation risk", "cse_risk"),
         ("Child criminal exploitation risk", "cce_risk"), ("Trafficking risk", "trafficking_risk"),
         ("Gang risk", "gang_risk"))



def frame(con, sql: str, values: dict) -> pd.DataFrame:
    return con.execute(sql, values).df()


def plain(con, values: dict) -> dict[str, pd.DataFrame]:
    """Each query's rows worked out the plain way."""
    returned = frame(con, f"""
        select start_date, rhi_offered_within_72h, rhi_completed_within_72h, rhi_provider,
               rhi_declined_only, rhi_no_contact_only
        from {EPISODES} where returned_missing""", values)
    links = frame(con, f"""
        select rhi_no, outcome, parent_carer_consulted, factor_mask,
               harm_disclosed, cse_risk, cce_risk, trafficking_risk, gang_risk
        from {LINKS}""", values)
    out = {}

    by_month = returned.assign(month=pd.to_datetime(returned["start_date"]).dt.to_period("M").dt.to_timestamp())
    out["interviews_by_month"] = by_month.groupby("month", as_index=False).agg(
        returned_missing_episodes=("start_date", "size"),
        rhi_offered_within_72h=("rhi_offered_within_72h", lambda s: int((s == True).sum())),  # noqa: E712
        rhi_completed_within_72h=("rhi_completed_within_72h", lambda s: int((s == True).sum())))  # noqa: E712

    by_provider = returned.assign(provider=returned["rhi_provider"].fillna("No interview offered"))
    out["interviews_by_provider"] = by_provider.groupby("provider", as_index=False).agg(
        episodes=("start_date", "size"),
        rhi_offered_within_72h=("rhi_offered_within_72h", lambda s: int((s == True).sum())),  # noqa: E712
        rhi_completed_within_72h=("rhi_completed_within_72h", lambda s: int((s == True).sum())))  # noqa: E712

    declined = links[links["outcome"] == "declined"].drop_duplicates("rhi_no")
    out["interviews_outcomes"] = {
        "returned_missing_episodes": len(returned),
        "declined_only": int((returned["rhi_declined_only"] == True).sum()),  # noqa: E712
        "no_contact_only": int((returned["rhi_no_contact_only"] == True).sum()),  # noqa: E712
        "declined_rhis": len(declined),
        "parent_carer_consulted": int((declined["parent_carer_consulted"] == True).sum()),  # noqa: E712
        "consulted_not_recorded": int(declined["parent_carer_consulted"].isna().sum()),
    }

    rhis = links.drop_duplicates("rhi_no")
    bits = frame(con, "select factor, bit from mart_push_pull_factor", {})
    masks = rhis["factor_mask"].to_numpy(dtype="int64")
    factors = [(factor, int(((masks >> bit) & 1).sum())) for factor, bit in bits.itertuples(index=False)]
    out["interviews_factors"] = sorted(((f, n) for f, n in factors if n),
                                       key=lambda fn: (-fn[1], fn[0] is None, fn[0] or ""))

    out["interviews_risks"] = [(order, label, int((rhis[column] == True).sum()))  # noqa: E712
                               for order, (label, column) in enumerate(RISKS, start=1)]
    return out


def check(con, start, end, filters) -> None:
    values = params(start, end, filters)
    want = plain(con, values)

    got = frame(con, queries.named("interviews_by_month"), values)
    got["month"] = pd.to_datetime(got["month"])
    expected = want["interviews_by_month"]
    assert got[list(expected.columns)].astype({"month": "datetime64[ns]"}).values.tolist() == \
        expected.astype({"month": "datetime64[ns]"}).values.tolist()

    got = frame(con, queries.named("interviews_by_provider"), values)
    expected = want["interviews_by_provider"]
    assert sorted(got[list(expected.columns)].values.tolist()) == sorted(expected.values.tolist())

    got = frame(con, queries.named("interviews_outcomes"), values).iloc[0]
    assert {k: int(got[k]) for k in want["interviews_outcomes"]} == want["interviews_outcomes"]

    got = frame(con, queries.named("interviews_factors"), values)
    assert list(got.itertuples(index=False, name=None)) == want["interviews_factors"]

    got = frame(con, queries.named("interviews_risks"), values)
    assert list(got.itertuples(index=False, name=None)) == want["interviews_risks"]


def test_the_authority_has_what_the_comparison_needs(generated_authority):
    """Months and providers of several episodes, every risk, declined RHIs, RHIs with several links."""
    values = params(*YEAR, {})
    want = plain(generated_authority, values)
    assert len(want["interviews_by_month"]) == 12 and len(want["interviews_by_provider"]) >= 3
    assert all(n for _, _, n in want["interviews_risks"]) and want["interviews_outcomes"]["declined_rhis"]
    assert frame(generated_authority, f"select count(*) as n from {LINKS} where rhi_links > 1", values)["n"][0]


def test_the_year_and_a_fortnight_equal_the_plain_definitions(generated_authority):
    for start, end, filters in YEAR_AND_FORTNIGHT_CASES:
        check(generated_authority, start, end, filters)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dates(dt.date(2023, 1, 1), dt.date(2026, 6, 30)), st.integers(0, 800), st.sampled_from(FILTER_SETS))
def test_interviews_queries_equal_their_plain_definitions(generated_authority, start, days, filters):
    check(generated_authority, start, start + dt.timedelta(days=days), filters)


# Small marts drawn by hypothesis: the two tables and the push/pull factors the queries read,
# with the build's own filter macros.
FILTER_MACROS = build_macros("matches_filter_bar", "mart_episodes_filtered", "mart_rhi_links_filtered")
FACTORS = ("family_conflict", "peer_influence", "exploitation")
START = dt.date(2025, 1, 1)
flag = st.sampled_from([True, False, None])
filter_values = st.fixed_dictionaries({
    "from_care": st.sampled_from([True, False, None]), "age_band": st.sampled_from(["10-12", "13-15", None]),
    "sex": st.sampled_from(["F", "M", None]), "ethnicity_group": st.just("White"),
    "risk_level": st.sampled_from(["high", "low"]),
})
episode_rows = st.lists(st.fixed_dictionaries({
    "day": st.integers(0, 120), "filters": filter_values, "returned_missing": flag,
    "rhi_offered_within_72h": flag, "rhi_completed_within_72h": flag,
    "rhi_provider": st.sampled_from(["Alpha", "Beta", "Provider not recorded", None]),
    "rhi_declined_only": flag, "rhi_no_contact_only": flag,
}), max_size=40)
interview_rows = st.lists(st.fixed_dictionaries({
    "links": st.lists(st.tuples(st.integers(0, 120), filter_values), min_size=1, max_size=3),
    "outcome": st.sampled_from(["completed", "declined", "no_contact", "not_offered"]),
    "parent_carer_consulted": flag, "factor_mask": st.integers(0, 7),
    "flags": st.tuples(flag, flag, flag, flag, flag),
}), max_size=30)


@pytest.fixture(scope="module")
def small_marts():
    con = duckdb.connect()
    con.execute("""create table mart_episode (
        start_date date, from_care boolean, age_band varchar, sex varchar, ethnicity_group varchar,
        risk_level varchar, returned_missing boolean, rhi_offered_within_72h boolean,
        rhi_completed_within_72h boolean, rhi_provider varchar, rhi_declined_only boolean,
        rhi_no_contact_only boolean)""")
    con.execute("""create table mart_rhi_link (
        start_date date, rhi_no integer, rhi_links integer, from_care boolean, age_band varchar, sex varchar,
        ethnicity_group varchar, risk_level varchar, outcome varchar, parent_carer_consulted boolean,
        factor_mask bigint, harm_disclosed boolean, cse_risk boolean, cce_risk boolean, trafficking_risk boolean,
        gang_risk boolean)""")
    con.execute("create table mart_push_pull_factor as select unnest(?) as factor, unnest(?) as bit",
                [list(FACTORS), list(range(len(FACTORS)))])
    for macro in FILTER_MACROS:
        con.execute(macro)
    yield con
    con.close()


def _filters(values: dict) -> tuple:
    return tuple(values[n] for n in EPISODE_FILTERS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(episode_rows, interview_rows, st.integers(0, 120), st.integers(0, 120), st.sampled_from(FILTER_SETS))
def test_interviews_queries_equal_their_plain_definitions_on_drawn_marts(
        small_marts, episodes, interviews, first, length, filters):
    con = small_marts
    con.execute("delete from mart_episode")
    con.execute("delete from mart_rhi_link")
    for row in episodes:
        con.execute("insert into mart_episode values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            START + dt.timedelta(days=row["day"]), *_filters(row["filters"]), row["returned_missing"],
            row["rhi_offered_within_72h"], row["rhi_completed_within_72h"], row["rhi_provider"],
            row["rhi_declined_only"], row["rhi_no_contact_only"]])
    for number, interview in enumerate(interviews, start=1):
        for day, link_filters in interview["links"]:
            con.execute("insert into mart_rhi_link values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                START + dt.timedelta(days=day), number, len(interview["links"]), *_filters(link_filters),
                interview["outcome"], interview["parent_carer_consulted"], interview["factor_mask"],
                *interview["flags"]])
    start = START + dt.timedelta(days=first)
    check(con, start, start + dt.timedelta(days=length), filters)
