"""Repeat missing page: cohort bands, newly repeat, the escalation rule and a child's
timeline, on a tiny store whose figures are worked out by hand below.

Period 1 Apr 2025 – 31 Mar 2026. Police episodes last two hours unless said; every child
female, born June 2010 (13-15 in the period) and from home, except G (male) and H (known
to SSDA903, so from care).

child  episodes (start dates)                                    in period  band
A      20 Mar 25 (before), 5 Apr 25, 20 Apr 25                    2          2
B      1 Jun 25, 10 Jun 25, 30 Jun 25                             3          3-5
C      1 Aug 25, 15 Aug 25, 31 Aug 25                             3          3-5
D      1 May 25                                                   1          1
E      1 Sep 24, 1 Oct 24 (before), 10 May 25, 10 Jan 26          2          2
G      weekly 1 Nov 25 ... 3 Jan 26 (10 episodes)                 10         10+
H      1st of Apr..Aug 25 (police) + 1-2 Sep 25 (SSDA903 only)   6          6-9

Bands: 1: 1 child, 1 ep; 2: 2, 4; 3-5: 2, 6; 6-9: 1, 6; 10+: 1, 10 (27 episodes): shares
100*1/27 = 3.7, 4/27 = 14.8, 6/27 = 22.2, 22.2, 10/27 = 37.0.

Newly repeat (first in-period episode that is the child's 2nd in the 365 days up to it):
A: 5 Apr (20 Mar is 16 days before) -> Apr 25. B: 10 Jun -> Jun. C: 15 Aug -> Aug.
D: never. E: 10 May is the 3rd (Sep, Oct 24 within 365 days) -> not then; 10 Jan 26:
the 365 days from 10 Jan 25 hold only 10 May 25 -> count 2 -> Jan 26. G: 8 Nov -> Nov.
H: 1 May -> May. So Apr, May, Jun, Aug, Nov 25, Jan 26 one each; 6 in all.

Escalation (3 in 30 consecutive days: last start - first start <= 29 days):
B: 1 Jun -> 30 Jun is 29 days: flagged, 3 in window 1-30 Jun, first met June.
C: 1 Aug -> 31 Aug is 30 days: not flagged (with a 31-day rule it is).
G: 1, 8, 15, 22, 29 Nov within 28 days: 5 in window (the most; the earliest such window
ends 29 Nov), first met Nov (15 Nov is the 3rd within 30 days). Latest episode 3 Jan 26.
H: monthly: never 3 in 30 days. A: 20 Mar, 5 Apr, 20 Apr span 31 days: not flagged.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from dashboard import data
from dashboard.app import create_app
from dashboard.figures.repeat import (
    cohort_bands_figure, escalation_by_month, escalation_figure, escalation_table, newly_repeat_figure,
    timeline_figure, timeline_table,
)
from dashboard.filters import Filters
from pipelines.config import Settings
from pipelines.load import load
from sources import police, rhi, write_table
import test_access
from test_access import call, client_as

PERIOD = ("2025-04-01", "2026-03-31")
ALL = (*PERIOD, "all", None, None, None, None)
FILTERS = Filters(dt.date(2025, 4, 1), dt.date(2026, 3, 31))
RULE = {"escalation_episodes": 3, "escalation_days": 30}
ACCESS_YEAR = test_access.YEAR
site = test_access.site   # a store, its app and one account per role, asked over HTTP


def two_hours(ref: str, person: str, day: str, **extra) -> dict:
    return police(ref, person, f"{day}T10:00", f"{day}T12:00", **extra)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Loaded once for the module (the settings isolated as conftest does for each test)."""
    tmp_path = tmp_path_factory.mktemp("repeat")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MFHC_CONFIG", str(tmp_path / "no-config.toml"))
        patch.setenv("MFHC_PSEUDONYM_KEY", "test-key-not-secret")
        patch.delenv("MFHC_DB", raising=False)
        yield build(tmp_path)


@pytest.fixture()
def store(built):
    create_app(built)
    yield built
    data.configure(None)


def build(tmp_path):
    source = tmp_path / "src"
    rows = [
        two_hours("A0", "PA", "2025-03-20"), two_hours("A1", "PA", "2025-04-05"), two_hours("A2", "PA", "2025-04-20"),
        two_hours("B1", "PB", "2025-06-01", safe_and_well_at="2025-06-02T09:00"),
        two_hours("B2", "PB", "2025-06-10"), two_hours("B3", "PB", "2025-06-30"),
        two_hours("C1", "PC", "2025-08-01"), two_hours("C2", "PC", "2025-08-15"), two_hours("C3", "PC", "2025-08-31"),
        two_hours("D1", "PD", "2025-05-01"),
        two_hours("E0", "PE", "2024-09-01"), two_hours("E1", "PE", "2024-10-01"),
        two_hours("E2", "PE", "2025-05-10"), two_hours("E3", "PE", "2026-01-10"),
        *[two_hours(f"G{i}", "PG", (dt.date(2025, 11, 1) + dt.timedelta(weeks=i)).isoformat(), sex="M")
          for i in range(10)],
        *[two_hours(f"H{m}", "PH", f"2025-{m:02d}-01", la_child_ref="LAH") for m in range(4, 9)],
    ]
    write_table(source, "police_incidents", rows)
    write_table(source, "return_interviews", [
        rhi("RB1", "completed", "2025-06-02T10:00", "2025-06-03T10:00", person_ref="PB", episode_refs="B1",
            provider="Alpha"),
    ])
    ssda903 = {
        "ssda903_header": [{"CHILD": "LAH", "SEX": "F", "DOB": "15/06/2010", "ETHNIC": "WBRI"}],
        "ssda903_episodes": [
            {"CHILD": "LAH", "DECOM": "01/01/2025", "RNE": "S", "LS": "C2", "CIN": "N1", "PLACE": "U1",
             "DEC": "30/06/2025", "REC": "E11"},
            {"CHILD": "LAH", "DECOM": "01/07/2025", "RNE": "P", "LS": "C2", "CIN": "N1", "PLACE": "U3"},
        ],
        "ssda903_missing": [{"CHILD": "LAH", "DOB": "15/06/2010", "MISSING": "M", "MIS_START": "01/09/2025",
                             "MIS_END": "02/09/2025"}],
    }
    for name, table_rows in ssda903.items():
        write_table(source, name, table_rows, path=f"ssda903/2026/{name.removeprefix('ssda903_')}.csv")
    db = tmp_path / "mfhc.duckdb"
    load(source, Settings(db_path=db))
    return db


def top_keys() -> dict[str, str]:
    """Pseudonymised keys by the letter of the test child, from their episode counts."""
    top = data.query("repeat_top_children", FILTERS)
    return dict(zip(["G", "H", "C", "B", "E", "A", "D"], top["child_id"]))


def test_cohort_bands(store):
    bands = data.query("repeat_cohort_bands", FILTERS)
    assert bands["band"].tolist() == ["1", "2", "3-5", "6-9", "10+"]
    assert bands["children"].tolist() == [1, 2, 2, 1, 1]
    assert bands["episodes"].tolist() == [1, 4, 6, 6, 10]
    assert bands["share_of_episodes_pct"].tolist() == [3.7, 14.8, 22.2, 22.2, 37.0]
    # The bands agree with the KPIs: 7 children, 27 episodes, 6 repeat children.
    kpis = data.kpis(FILTERS)
    assert (kpis["children"], kpis["episodes"], kpis["repeat_children"]) == (7, 27, 6)
    figure = cohort_bands_figure(bands)
    assert list(figure.data[0].y) == [1, 2, 2, 1, 1]
    assert figure.data[0].x[-1] == "10 or more"
    assert "10 episodes (37.0%)" in figure.data[0].text[-1]


def test_newly_repeat_by_month(store):
    newly = data.query("repeat_newly_by_month", FILTERS)
    assert len(newly) == 12 and pd.Timestamp(newly["month"].iloc[0]) == pd.Timestamp("2025-04-01")
    by_month = {pd.Timestamp(m).strftime("%Y-%m"): n for m, n in zip(newly["month"], newly["children_newly_repeat"])}
    expected = {"2025-04": 1, "2025-05": 1, "2025-06": 1, "2025-08": 1, "2025-11": 1, "2026-01": 1}
    assert {k: v for k, v in by_month.items() if v} == expected
    # A shorter period: May-Jun 2025. A's second episode (5 Apr) is before it; H (1 May)
    # and B (10 Jun) count; E's 10 May episode is its third in 12 months.
    short = data.query("repeat_newly_by_month", Filters(dt.date(2025, 5, 1), dt.date(2025, 6, 30)))
    assert short["children_newly_repeat"].tolist() == [1, 1]
    assert list(newly_repeat_figure(newly).data[0].y) == newly["children_newly_repeat"].tolist()


def test_escalation_rule_and_its_boundary(store):
    keys = top_keys()
    flagged = data.query("repeat_escalation", FILTERS, **RULE)
    assert flagged["child"].tolist() == [keys["G"][:8], keys["B"][:8]]
    assert flagged["child"].str.len().tolist() == [8, 8]
    g, b = flagged.iloc[0], flagged.iloc[1]
    assert g["episodes_in_window"] == 5
    assert (pd.Timestamp(g["window_start"]), pd.Timestamp(g["window_end"])) == (
        pd.Timestamp("2025-11-01"), pd.Timestamp("2025-11-29"))
    assert pd.Timestamp(g["latest_episode"]) == pd.Timestamp("2026-01-03")
    assert pd.Timestamp(g["first_met_month"]) == pd.Timestamp("2025-11-01")
    assert b["episodes_in_window"] == 3 and pd.Timestamp(b["window_end"]) == pd.Timestamp("2025-06-30")
    assert (b["from_care_or_home"], b["age_band"]) == ("home", "13-15")
    # C's three episodes span 30 days: flagged only by a 31-day rule.
    wider = data.query("repeat_escalation", FILTERS, escalation_episodes=3, escalation_days=31)
    assert sorted(wider["child"]) == sorted([keys["G"][:8], keys["B"][:8], keys["C"][:8]])
    # Four in 30 days: only G.
    assert data.query("repeat_escalation", FILTERS, escalation_episodes=4, escalation_days=30)["child"].tolist() == [
        keys["G"][:8]]
    months = data.query("repeat_newly_by_month", FILTERS)["month"]
    by_month = escalation_by_month(flagged, months)
    assert by_month["children_flagged"].tolist() == [0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    assert list(escalation_figure(by_month).data[0].y) == by_month["children_flagged"].tolist()
    table = escalation_table(flagged)
    assert table.iloc[0].tolist() == [keys["G"][:8], 5, "1 Nov 2025", "29 Nov 2025", "3 Jan 2026", "home", "13-15"]


def test_timeline_of_a_child(store):
    keys = top_keys()
    params = {"child_id": keys["B"]}
    episodes = data.query("repeat_child_episodes", FILTERS, **params)
    interviews = data.query("repeat_child_interviews", FILTERS, **params)
    placements = data.query("repeat_child_placements", FILTERS, **params)
    assert len(episodes) == 3 and len(interviews) == 1 and placements.empty
    figure = timeline_figure(episodes, interviews, placements, FILTERS.period_end)
    names = [trace.name for trace in figure.data]
    assert names == ["Episode (police times)", "Episode start", "RHI offered", "RHI completed", "Safe and well check"]
    # Each bar runs 2 hours; markers have their own shapes.
    assert list(figure.data[0].x) == [2 * 3600 * 1000] * 3
    assert figure.data[2].marker.symbol == "triangle-up" and figure.data[3].marker.symbol == "star"
    assert pd.Timestamp(figure.data[3].x[0]) == pd.Timestamp("2025-06-03T10:00")
    assert len(figure.data[4].x) == 1
    # H: five police episodes and one SSDA903-only episode of whole days (1 Sep 00:00 to
    # 3 Sep 00:00: 48 hours), two placements, the first clipped to the period's start.
    params = {"child_id": keys["H"]}
    episodes = data.query("repeat_child_episodes", FILTERS, **params)
    placements = data.query("repeat_child_placements", FILTERS, **params)
    interviews = data.query("repeat_child_interviews", FILTERS, **params)
    figure = timeline_figure(episodes, interviews, placements, FILTERS.period_end)
    ssda = next(t for t in figure.data if t.name.startswith("Episode (SSDA903"))
    assert list(ssda.x) == [48 * 3600 * 1000]
    assert pd.Timestamp(ssda.base[0]) == pd.Timestamp("2025-09-01")
    assert [str(d)[:10] for d in placements["shown_from"]] == ["2025-04-01", "2025-07-01"]
    assert [str(d)[:10] for d in placements["shown_to"]] == ["2025-06-30", "2026-03-31"]
    band = next(t for t in figure.data if t.name == "Placement (SSDA903)")
    assert list(band.text) == ["U1", "U3"]
    table = timeline_table(episodes, interviews, placements)
    assert (table["event"] == "placement").sum() == 2 and (table["event"] == "episode (SSDA903 only)").sum() == 1


def test_page_callbacks_and_filters(store):
    from dashboard.pages.repeat import update_repeat, update_repeat_escalation, update_repeat_timeline

    out = update_repeat(*ALL)
    bands_fig, bands_data, bands_text = out[0:3]
    assert bands_data["data"][-1][:3] == ["10+", 1, 10]
    assert "7 children had 27 episodes" in bands_text
    assert "6 children became repeat missing" in out[5]
    escalation = update_repeat_escalation(*ALL)
    assert "2 children had 3 or more episodes within 30 days" in escalation[2]
    assert "3 or more episodes within 30 days" in escalation[3]
    assert [row[1] for row in escalation[1]["data"]] == [0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    # The chooser comes with the timeline, the first child chosen.
    figure, stored, summary, options, value = update_repeat_timeline(None, *ALL)
    assert len(options) == 7 and options[0]["label"].endswith("(10 episodes)")
    assert value == options[0]["value"] and len(value) == 20  # the pseudonym, never a name or reference
    assert "10 episodes" in summary and value[:8] in summary and len(stored["data"]) == 10
    # The list names only shortened keys.
    listing = str(escalation[4])
    assert options[0]["value"][:8] in listing and options[0]["value"] not in listing
    # A child chosen from the list is kept.
    assert update_repeat_timeline(options[3]["value"], *ALL)[4] == options[3]["value"]

    # Sex F leaves out G (male): no 10+ band, one flagged child, G not offered; the first
    # child offered is shown instead.
    female = (*PERIOD, "all", None, "F", None, None)
    assert update_repeat(*female)[1]["data"][-1][:3] == ["10+", 0, 0]
    assert "1 child had 3 or more" in update_repeat_escalation(*female)[2]
    figure, stored, summary, options, chosen = update_repeat_timeline(value, *female)
    assert value not in [o["value"] for o in options] and chosen == options[0]["value"]
    assert chosen[:8] in summary and "6 episodes" in summary   # H
    # From care: only H.
    care = update_repeat(*PERIOD, "care", None, None, None, None)
    assert [row[:3] for row in care[1]["data"]] == [["1", 0, 0], ["2", 0, 0], ["3-5", 0, 0], ["6-9", 1, 6],
                                                    ["10+", 0, 0]]
    # No child at all: an empty chooser and the figure asking for one.
    figure, stored, summary, options, chosen = update_repeat_timeline(value, "2020-04-01", "2021-03-31", "all",
                                                                      None, None, None, None)
    assert (options, chosen, stored["data"]) == ([], None, []) and "No child chosen" in summary


def test_the_timeline_and_the_list_are_for_analysts(store):
    from dashboard.pages.repeat import update_repeat_escalation, update_repeat_timeline

    for role in ("board", "manager"):
        with data.acting_as(role):
            *_, summary, options, chosen = update_repeat_timeline(None, *ALL)
            assert (options, chosen) == ([], None) and "for analysts" in summary
            by_month, words, _rule, listing = update_repeat_escalation(*ALL)[1:]
            assert "for analysts" in str(listing) and "for analysts" in words
            # The month-by-month count, its small numbers withheld.
            assert [row[1] for row in by_month["data"]] == [0, 0, "<5", 0, 0, 0, 0, "<5", 0, 0, 0, 0]


def test_only_the_escalation_list_and_the_timeline_hold_record_level_rows():
    """The bands and newly repeat are aggregates for every role, so their answer may be
    cached whole; the escalation list and the timeline hold pseudonymised children."""
    from dashboard.pages.repeat import update_repeat, update_repeat_escalation, update_repeat_timeline

    assert update_repeat.mfhc_answer_records is False
    assert update_repeat_escalation.mfhc_answer_records is True
    assert not hasattr(update_repeat_timeline, "mfhc_answer_records")   # never cached


def test_the_timeline_is_asked_for_with_the_pages_charts_not_after_them(store):
    """No callback of the page takes as input what another of its callbacks gives, but the
    chooser's own (the browser would ask for it only once that answer had come)."""
    from dash._callback import GLOBAL_CALLBACK_LIST

    def io(callback):
        outputs = {tuple(part.split("@")[0].rsplit(".", 1)) for part in callback["output"].strip(".").split("...")}
        return outputs, {(str(i["id"]), i["property"]) for i in callback["inputs"]}

    page = list({cb["output"]: cb for cb in GLOBAL_CALLBACK_LIST if "repeat-" in cb["output"]}.values())
    assert len(page) == 3
    timeline, = [cb for cb in page if "repeat-timeline-graph.figure" in cb["output"]]
    assert ("repeat-child", "value") in io(timeline)[0] & io(timeline)[1]
    for given in page:
        for callback in page:
            if callback is not given:
                assert not io(given)[0] & io(callback)[1], (given["output"], callback["output"])


def test_escalation_rule_read_from_mfhc_toml(store, tmp_path, monkeypatch):
    from dashboard.pages.repeat import update_repeat_escalation

    config = tmp_path / "mfhc.toml"
    config.write_text("[escalation]\nepisodes = 3\ndays = 31\n", encoding="utf-8")
    monkeypatch.setenv("MFHC_CONFIG", str(config))
    out = update_repeat_escalation(*ALL)
    assert "3 children had 3 or more episodes within 31 days" in out[2]
    assert "within 31 days" in out[3]


def test_over_http_record_level_answers_are_for_analysts_and_never_cached(site):
    """As a crafted request would ask: the escalation list and the timeline with its chooser
    answer the board and managers "for analysts", with no child's key, and their small
    numbers withheld; an analyst's are never written to the answer cache, while the bands'
    and newly repeat's answer (aggregates) is, for analysts too."""
    app, settings, *_ = site
    for role in ("board", "manager"):
        client = client_as(app, role)
        for output in ("repeat-timeline-graph", "repeat-escalation-graph"):
            text = call(client, output, {**ACCESS_YEAR, "repeat-child": None}).get_data(as_text=True)
            assert "for analysts" in text, (role, output)
            assert not re.search(r'"value": ?"[0-9a-f]{16,}"|"[0-9a-f]{8}"', text), (role, output)
        answer = call(client, "repeat-escalation-graph", ACCESS_YEAR).get_json()["response"]
        rows = answer['{"chart":"repeat-escalation","type":"chart-data"}']["data"]["data"]
        assert not any(isinstance(count, int) and 0 < count < 5 for _, count in rows)
    cache = settings.state_path / "cache"
    for entry in cache.iterdir():
        entry.unlink()
    analyst = client_as(app, "analyst")
    timeline = call(analyst, "repeat-timeline-graph", {**ACCESS_YEAR, "repeat-child": None}).get_data(as_text=True)
    keys = set(re.findall(r'"value": ?"([0-9a-f]{16,})"', timeline))
    assert keys
    listing = call(analyst, "repeat-escalation-graph", ACCESS_YEAR).get_data(as_text=True)
    assert "No child met the rule in this period." in listing    # every child here went missing once
    assert call(analyst, "repeat-bands-graph", ACCESS_YEAR).status_code == 200
    cached = b"".join(entry.read_bytes() for entry in cache.iterdir())
    assert b"repeat-bands-graph" in cached
    assert not any(key.encode() in cached for key in keys)
    assert b"repeat-escalation-graph" not in cached and b"repeat-timeline-graph" not in cached
