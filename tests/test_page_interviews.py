"""Return interviews page on a tiny store whose figures are worked out by hand below.

Period 1 Apr 2025 – 31 Mar 2026; each episode is one police incident of its own child,
one hour long unless said (so it returns an hour after it starts), female unless said.

ep   start            category  end       RHIs (all linked by episode_refs)
E1   10 Apr 10:00     missing   20:00     R1 completed: offered 11 Apr, held 12 Apr (in 72 h) Alpha;
                                          factors family_conflict, peer_influence; harm, CSE
E2   15 Apr 10:00     missing   12:00     R2 completed: offered 20 Apr, held 21 Apr (both late) Beta;
                                          factor peer_influence; gang
E3   1 May 08:00      missing   09:00     R3 declined 2 May (in 72 h) Alpha, parents/carers consulted Y
E4   3 May 08:00      missing   09:00     R4 no_contact 3 May 12:00 (in 72 h) Beta
E5   5 May 08:00      missing   09:00     R5 declined 5 May 12:00 Alpha (consulted N), and
                                          R6 completed: offered 9 May, held 10 May (late) Beta
E6   7 May 08:00      missing   09:00     none
E7   9 May 08:00      absent    09:00     R7 completed (not a returned missing episode);
                                          factor exploitation; trafficking
E8   1 Jun 08:00      missing   open      none (not returned)
E9   1 Dec 2024       missing   (before the period) R9 completed, factor bereavement
E10  10 Jun 08:00     missing   09:00     R10 not_offered; male
E11-13 1-3 Jul 08:00  missing   09:00     completed the same day, Alpha

Returned missing episodes: E1-E6, E10, E11-13 = 10 (Apr 2, May 4, Jun 1, Jul 3).
Offered within 72 h: E1, E3, E4, E5 (R5 at 12:00), E11-13 = 7 (Apr 1, May 3, Jun 0, Jul 3).
Completed within 72 h: E1, E11-13 = 4 (Apr 1, May 0, Jun 0, Jul 3).
By month %: offered Apr 50.0, May 75.0, Jun 0.0, Jul 100.0; completed 50.0, 0.0, 0.0, 100.0.

Provider (earliest completed, else earliest offered): Alpha E1, E3, E11-13 (5 episodes:
offered 5 -> 100.0%, completed 4 -> 80.0%); Beta E2, E4, E5 (E5 by its completed R6 though
Alpha offered first; 3 episodes: no rate, under 5); No interview offered E6, E10 (2).

Declined only: E3 (E5 also completed) = 1 of 10 -> 10.0%; no contact only: E4 -> 10.0%.
Declined RHIs linked to the period's episodes: R3 (Y), R5 (N): consulted 1 of 2 -> 50.0%.
Factors on RHIs linked to the period's episodes (R1, R2, R7; R9 is before the period):
peer_influence 2, exploitation 1, family_conflict 1. Risks: harm 1, CSE 1, CCE 0,
trafficking 1, gang 1.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard import data
from dashboard.app import create_app
from dashboard.figures.interviews import (
    factors_figure, outcomes_figure, outcomes_frame, provider_figure, risks_figure, timeliness_figure,
)
from dashboard.filters import Filters
from pipelines.config import Settings
from pipelines.load import load
from sources import police, rhi, write_table

PERIOD = ("2025-04-01", "2026-03-31")
ALL = (*PERIOD, "all", None, None, None, None)
FILTERS = Filters(dt.date(2025, 4, 1), dt.date(2026, 3, 31))


def incident(n: int, start: str, end: str, **extra) -> dict:
    return police(f"I{n}", f"P{n}", start, end, **extra)


def interview(ref: str, n: int, outcome: str, offered: str = "", completed: str = "", **extra) -> dict:
    return rhi(ref, outcome, offered, completed, person_ref=f"P{n}", episode_refs=f"I{n}", **extra)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("interviews")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MFHC_CONFIG", str(tmp_path / "no-config.toml"))
        patch.setenv("MFHC_PSEUDONYM_KEY", "test-key-not-secret")
        patch.delenv("MFHC_DB", raising=False)
        source = tmp_path / "src"
        write_table(source, "police_incidents", [
            incident(1, "2025-04-10T10:00", "2025-04-10T20:00"),
            incident(2, "2025-04-15T10:00", "2025-04-15T12:00"),
            incident(3, "2025-05-01T08:00", "2025-05-01T09:00"),
            incident(4, "2025-05-03T08:00", "2025-05-03T09:00"),
            incident(5, "2025-05-05T08:00", "2025-05-05T09:00"),
            incident(6, "2025-05-07T08:00", "2025-05-07T09:00"),
            incident(7, "2025-05-09T08:00", "2025-05-09T09:00", category="absent"),
            incident(8, "2025-06-01T08:00", ""),
            incident(9, "2024-12-01T08:00", "2024-12-01T09:00"),
            incident(10, "2025-06-10T08:00", "2025-06-10T09:00", sex="M"),
            *[incident(n, f"2025-07-0{n - 10}T08:00", f"2025-07-0{n - 10}T09:00") for n in (11, 12, 13)],
        ])
        write_table(source, "return_interviews", [
            interview("R1", 1, "completed", "2025-04-11T10:00", "2025-04-12T10:00", provider="Alpha",
                      push_pull_factors="family_conflict;peer_influence", harm_disclosed="Y", cse_risk="Y",
                      cce_risk="N"),
            interview("R2", 2, "completed", "2025-04-20T10:00", "2025-04-21T10:00", provider="Beta",
                      push_pull_factors="peer_influence", gang_risk="Y"),
            interview("R3", 3, "declined", "2025-05-02T08:00", provider="Alpha", parent_carer_consulted="Y"),
            interview("R4", 4, "no_contact", "2025-05-03T12:00", provider="Beta"),
            interview("R5", 5, "declined", "2025-05-05T12:00", provider="Alpha", parent_carer_consulted="N"),
            interview("R6", 5, "completed", "2025-05-09T08:00", "2025-05-10T08:00", provider="Beta"),
            interview("R7", 7, "completed", "2025-05-09T12:00", "2025-05-09T13:00", provider="Alpha",
                      push_pull_factors="exploitation", trafficking_risk="Y"),
            interview("R9", 9, "completed", "2024-12-02T08:00", "2024-12-02T09:00", provider="Alpha",
                      push_pull_factors="bereavement", harm_disclosed="Y"),
            interview("R10", 10, "not_offered"),
            *[interview(f"R{n}", n, "completed", f"2025-07-0{n - 10}T12:00", f"2025-07-0{n - 10}T15:00",
                        provider="Alpha") for n in (11, 12, 13)],
        ])
        db = tmp_path / "mfhc.duckdb"
        load(source, Settings(db_path=db))
        yield db


@pytest.fixture()
def store(built):
    create_app(built)
    yield built
    data.configure(None)


def test_timeliness_by_month_agrees_with_kpis(store):
    frame = data.query("interviews_by_month", FILTERS)
    assert [pd.Timestamp(m).month for m in frame["month"]] == [4, 5, 6, 7]
    assert frame["returned_missing_episodes"].tolist() == [2, 4, 1, 3]
    assert frame["rhi_offered_within_72h"].tolist() == [1, 3, 0, 3]
    assert frame["rhi_completed_within_72h"].tolist() == [1, 0, 0, 3]
    assert frame["rhi_offered_within_72h_pct"].tolist() == [50.0, 75.0, 0.0, 100.0]
    assert frame["rhi_completed_within_72h_pct"].tolist() == [50.0, 0.0, 0.0, 100.0]
    kpis = data.kpis(FILTERS)
    assert (kpis["returned_missing_episodes"], kpis["rhi_offered_within_72h"], kpis["rhi_completed_within_72h"]) == (
        10, 7, 4)
    figure = timeliness_figure(frame)
    assert [t.name for t in figure.data] == ["Offered within 72 h", "Completed within 72 h"]
    assert figure.data[0].marker.symbol != figure.data[1].marker.symbol
    assert list(figure.data[1].y) == [50.0, 0.0, 0.0, 100.0]


def test_by_provider(store):
    frame = data.query("interviews_by_provider", FILTERS)
    assert frame["provider"].tolist() == ["Alpha", "Beta", "No interview offered"]
    assert frame["episodes"].tolist() == [5, 3, 2]
    assert frame["rhi_offered_within_72h"].tolist() == [5, 2, 0]
    assert frame["rhi_completed_within_72h"].tolist() == [4, 0, 0]
    assert frame.loc[0, "rhi_offered_within_72h_pct"] == 100.0 and frame.loc[0, "rhi_completed_within_72h_pct"] == 80.0
    assert frame.loc[1:, "rhi_completed_within_72h_pct"].isna().all()  # under 5 episodes: no rate
    figure = provider_figure(frame)
    assert [list(t.y) for t in figure.data] == [["Alpha"], ["Alpha"]]
    assert [list(t.x) for t in figure.data] == [[100.0], [80.0]]
    assert figure.data[0].marker.pattern.shape != figure.data[1].marker.pattern.shape


def test_provider_chart_sorted_by_rate():
    frame = pd.DataFrame({
        "provider": ["B", "A", "C", "No interview offered"], "episodes": [10, 10, 6, 3],
        "rhi_offered_within_72h_pct": [90.0, 50.0, 60.0, 0.0], "rhi_completed_within_72h_pct": [40.0, 20.0, 70.0, 0.0],
    })
    figure = provider_figure(frame)
    # Horizontal bars are drawn bottom-up: the highest completion rate at the top.
    assert list(figure.data[1].y) == ["A", "B", "C"]


def test_declined_no_contact_and_consulted(store):
    row = data.query("interviews_outcomes", FILTERS)
    assert row.iloc[0][["returned_missing_episodes", "declined_only", "no_contact_only", "declined_rhis",
                        "parent_carer_consulted"]].tolist() == [10, 1, 1, 2, 1]
    assert row.iloc[0][["declined_only_pct", "no_contact_only_pct", "parent_carer_consulted_pct"]].tolist() == [
        10.0, 10.0, 50.0]
    frame = outcomes_frame(row)
    figure = outcomes_figure(frame)
    assert list(figure.data[0].x) == [10.0, 10.0, 50.0]
    assert figure.data[0].text[2] == "50.0% (1 of 2)"


def test_factors_and_risks(store):
    factors = data.query("interviews_factors", FILTERS)
    assert list(zip(factors["factor"], factors["interviews"])) == [
        ("peer_influence", 2), ("exploitation", 1), ("family_conflict", 1)]
    risks = data.query("interviews_risks", FILTERS)
    assert risks["interviews"].tolist() == [1, 1, 0, 1, 1]
    figure = factors_figure(factors)
    assert list(figure.data[0].y) == ["Peer influence", "Exploitation", "Family conflict"]
    assert figure.data[0].orientation == "h"
    assert list(risks_figure(risks).data[0].x) == [1, 1, 0, 1, 1]


def test_page_callback_and_a_filter(store):
    from dashboard.pages.interviews import update_interviews

    out = update_interviews(*ALL)
    month_data, month_text = out[1], out[2]
    assert [row[1] for row in month_data["data"]] == [2, 4, 1, 3]
    assert "Of 10 returned missing episodes, 7 (70.0%)" in month_text and "4 (40.0%) completed" in month_text
    assert "Alpha (80.0% of 5 episodes)" in out[5] and "2 returned missing episodes had no interview offered" in out[5]
    assert "Alpha" in str(out[6])
    assert "Declined only: 10.0% (1 of 10 returned missing episodes)" in out[9]
    assert "Peer influence 2" in out[12]
    assert "Gang risk 1" in out[15]
    # Male children only: E10, returned without an offer.
    male = update_interviews(*PERIOD, "all", None, "M", None, None)
    assert [row[1] for row in male[1]["data"]] == [1]
    assert male[4]["data"][0][:2] == ["No interview offered", 1]
    assert len(male[11]["data"]) == 0 and "No factor recorded" in male[12]
    assert [row[1] for row in male[14]["data"]] == [0, 0, 0, 0, 0]
