"""The repeat page's record-level queries equal their plain definitions.

`repeat_top_children` counts, without an episode filter and when 50 or more children have
three or more episodes in the period, only the episodes that are a child's third or later
there (from mart_episode's before_previous_start); `repeat_escalation` works out the first
episode of each child's chosen window only for that window. These tests hold both to the
plain definitions (every child's episodes counted; every window of the rule looked at in
pandas) on a synthetic authority (`generated_authority`), over any period, filter and rule.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import queries
from sources import FILTER_SETS, YEAR, params




def named(con, name: str, values: dict) -> pd.DataFrame:
    return con.execute(queries.named(name), values).df()


def plain_top_children(con, start, end, filters) -> pd.DataFrame:
    """Every child of the filtered episodes counted, the 50 with most first."""
    return con.execute("""
        select key.child_id, left(key.child_id, 8) as child, top.episodes, top.latest_episode
        from (select child_no, count(*) as episodes, max(start_date) as latest_episode
              from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex,
                                          $ethnicity_group, $risk_level)
              group by child_no) as top
        join mart_child_key as key using (child_no)
        order by top.episodes desc, top.latest_episode desc, key.child_id
        limit 50""", params(start, end, filters)).df()


def children_with_three_or_more(con, start, end, filters) -> int:
    return con.execute("""
        select count(*) from (
            select child_no
            from mart_episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex,
                                        $ethnicity_group, $risk_level)
            group by child_no having count(*) >= 3)""", params(start, end, filters)).fetchone()[0]


def plain_escalation(con, start, end, filters, episodes: int, days: int) -> pd.DataFrame:
    """The rule looked at window by window: for every day in the period a child's episode
    starts on, the child's filtered episodes starting in the `days` days up to it."""
    rows = con.execute("""
        select key.child_id, episode.child_seq, episode.start_date, episode.from_care, episode.age_band
        from mart_episodes_filtered(date '1900-01-01', $period_end, $from_care, $age_band, $sex,
                                    $ethnicity_group, $risk_level) as episode
        join mart_child_key as key using (child_no)""",
        {n: v for n, v in params(start, end, filters).items() if n != "period_start"}).df()
    out = []
    for child_id, child in rows.groupby("child_id"):
        starts = sorted(pd.to_datetime(child["start_date"]).dt.date)
        windows = []
        for end_day in sorted({d for d in starts if start <= d <= end}):
            inside = [d for d in starts if end_day - dt.timedelta(days=days - 1) <= d <= end_day]
            if len(inside) >= episodes:
                windows.append((len(inside), end_day, min(inside)))
        if not windows:
            continue
        most = max(w[0] for w in windows)
        best = min((w for w in windows if w[0] == most), key=lambda w: w[1])
        first_end = min(w[1] for w in windows)
        in_period = child[pd.to_datetime(child["start_date"]).dt.date >= start]
        latest = in_period.loc[in_period["child_seq"].idxmax()]
        out.append({
            "child": child_id[:8], "episodes_in_window": most, "window_start": pd.Timestamp(best[2]),
            "window_end": pd.Timestamp(best[1]), "first_met_month": pd.Timestamp(first_end.replace(day=1)),
            "latest_episode": pd.Timestamp(latest["start_date"]),
            "from_care_or_home": "care" if pd.notna(latest["from_care"]) and bool(latest["from_care"]) else "home", "age_band": latest["age_band"],
        })
    frame = pd.DataFrame(out, columns=["child", "episodes_in_window", "window_start", "window_end", "first_met_month",
                                       "latest_episode", "from_care_or_home", "age_band"])
    return frame.sort_values(["episodes_in_window", "latest_episode", "child"], ascending=[False, False, True],
                             ignore_index=True)


def same_rows(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = got.reset_index(drop=True)
    for column in ("window_start", "window_end", "first_met_month", "latest_episode"):
        if column in got:
            got[column] = pd.to_datetime(got[column]).astype("datetime64[us]")
            expected[column] = pd.to_datetime(expected[column]).astype("datetime64[us]")
    pd.testing.assert_frame_equal(got, expected.reset_index(drop=True), check_dtype=False)


def test_top_children_counted_from_third_episodes_equal_every_child_counted(generated_authority):
    # A year unfiltered: more than 50 children with three or more episodes, so the top 50 are
    # counted from their third and later episodes; a fortnight or an episode filter: every
    # child is counted. Both equal the plain count.
    assert children_with_three_or_more(generated_authority, *YEAR, {}) >= 50
    short = (dt.date(2025, 6, 1), dt.date(2025, 6, 14))
    assert children_with_three_or_more(generated_authority, *short, {}) < 50
    for period, filters in ((YEAR, {}), (YEAR, {"sex": "F"}), (short, {}), (YEAR, {"age_band": "13-15"})):
        got = named(generated_authority, "repeat_top_children", params(*period, filters))
        assert len(got) == min(50, len(plain_top_children(generated_authority, *period, filters)))
        same_rows(got, plain_top_children(generated_authority, *period, filters))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dates(dt.date(2023, 1, 1), dt.date(2026, 6, 30)), st.integers(0, 800), st.sampled_from(FILTER_SETS))
def test_top_children_equal_the_plain_count_for_any_period_and_filter(generated_authority, start, days, filters):
    end = start + dt.timedelta(days=days)
    same_rows(named(generated_authority, "repeat_top_children", params(start, end, filters)),
              plain_top_children(generated_authority, start, end, filters))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dates(dt.date(2023, 1, 1), dt.date(2026, 6, 30)), st.integers(0, 500), st.sampled_from(FILTER_SETS),
       st.sampled_from([(3, 30), (2, 7), (3, 1), (4, 60), (2, 365), (1, 30)]))
def test_escalation_equals_the_rule_looked_at_window_by_window(generated_authority, start, days, filters, rule):
    end = start + dt.timedelta(days=days)
    episodes, window_days = rule
    got = named(generated_authority, "repeat_escalation",
                params(start, end, filters, escalation_episodes=episodes, escalation_days=window_days))
    same_rows(got, plain_escalation(generated_authority, start, end, filters, episodes, window_days))


def test_escalation_over_a_year_flags_children_with_windows_of_several_sizes(generated_authority):
    # The property test above means something only if the rule flags children whose best
    # window holds more than the rule's count, and does not flag everyone.
    got = named(generated_authority, "repeat_escalation", params(*YEAR, {}, escalation_episodes=3, escalation_days=30))
    assert len(got) >= 10 and got["episodes_in_window"].nunique() >= 2
    same_rows(got, plain_escalation(generated_authority, *YEAR, {}, 3, 30))


def plain_child_interviews(con, start, end, filters, child_id) -> pd.DataFrame:
    """The RHIs linked to the child's filtered episodes, from the core link and interview
    tables (each RHI once)."""
    return con.execute("""
        select distinct interview.rhi_key, interview.outcome, interview.offered_at, interview.completed_at
        from core_rhi_episode as link
        join core_return_interview as interview using (rhi_key)
        where link.episode_id in (
            select episode_id
            from episodes_filtered($period_start, $period_end, $from_care, $age_band, $sex, $ethnicity_group,
                                   $risk_level)
            where child_id = $child_id)
        order by interview.offered_at, interview.rhi_key""", params(start, end, filters, child_id=child_id)).df()


def children_with_interviews(con, count: int) -> list[str]:
    """Children with most linked RHIs (several per child, some covering several episodes)."""
    return [row[0] for row in con.execute("""
        select episode.child_id
        from core_rhi_episode as link join fct_episode as episode using (episode_id)
        group by episode.child_id
        order by count(*) desc, count(distinct link.rhi_key), episode.child_id
        limit $count""", {"count": count}).fetchall()]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dates(dt.date(2022, 1, 1), dt.date(2026, 6, 30)), st.integers(0, 1500), st.sampled_from(FILTER_SETS),
       st.integers(0, 11))
def test_child_interviews_equal_the_links_to_the_childs_episodes(generated_authority, start, days, filters, which):
    end = start + dt.timedelta(days=days)
    child_id = children_with_interviews(generated_authority, 12)[which]
    got = named(generated_authority, "repeat_child_interviews", params(start, end, filters, child_id=child_id))
    pd.testing.assert_frame_equal(got, plain_child_interviews(generated_authority, start, end, filters, child_id))


def test_child_interviews_list_an_rhi_covering_several_episodes_once(generated_authority):
    shared = generated_authority.execute("""
        select episode.child_id, link.rhi_key
        from core_rhi_episode as link join fct_episode as episode using (episode_id)
        group by all having count(*) >= 2 limit 1""").fetchone()
    assert shared is not None, "the synthetic authority has an RHI linked to two episodes of one child"
    child_id, rhi_key = shared
    got = named(generated_authority, "repeat_child_interviews",
                params(dt.date(2000, 1, 1), dt.date(2030, 12, 31), {}, child_id=child_id))
    assert list(got["rhi_key"]).count(rhi_key) == 1
    assert len(got) == len(plain_child_interviews(generated_authority, dt.date(2000, 1, 1), dt.date(2030, 12, 31),
                                                  {}, child_id))


def test_the_load_works_out_each_episodes_window_for_the_configured_days(tmp_path, monkeypatch):
    """A store loaded with a 3-in-7-days rule: each episode's window over the child's episodes
    (mart_episode.rule_window_*), the days recorded, and the list read off them, by hand.
    The child goes missing on 1, 3, 6 and 20 May: the window ending on the 6th (1-6 May, 7
    days) holds three episodes."""
    import duckdb

    from pipelines.config import EscalationRule, Settings
    from pipelines.load import load
    from sources import police, write_table

    monkeypatch.setenv("MFHC_PSEUDONYM_KEY", "test-key-not-secret")
    write_table(tmp_path / "src", "police_incidents", [
        police(f"I{day}", "P1", f"2025-05-{day:02d}T08:00", f"2025-05-{day:02d}T10:00") for day in (1, 3, 6, 20)])
    db = tmp_path / "mfhc.duckdb"
    load(tmp_path / "src", Settings(db_path=db, escalation=EscalationRule(episodes=3, days=7)))
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select days from mart_escalation_rule").fetchall() == [(7,)]
        windows = con.execute("select day(start_date), rule_window_episodes, day(rule_window_start) "
                              "from mart_episode order by start_date").fetchall()
        assert windows == [(1, 1, 1), (3, 2, 1), (6, 3, 1), (20, 1, 20)]
        got = named(con, "repeat_escalation", params(dt.date(2025, 5, 1), dt.date(2025, 5, 31), {},
                                                     escalation_episodes=3, escalation_days=7))
    assert got[["episodes_in_window", "window_start", "window_end"]].values.tolist() == [
        [3, pd.Timestamp("2025-05-01"), pd.Timestamp("2025-05-06")]]
