"""Children's homes page on a tiny store whose figures were worked out by hand (comments).

The store: financial year 2025/26 (1 Apr 2025 – 31 Mar 2026, 365 days).
Homes (homes.csv): SC000001 Oak House, SC000002 Ash House. SC000003 is a K1 placement
with a URN not in homes.csv: shown by its URN.
Placements (SSDA903 episodes, PLACE K1, days counted both ends inclusive):
  C1 Oak  01/04/2025 – 31/03/2026  -> 365 days in the year
  C2 Oak  01/01/2025 – 31/03/2026  -> clipped to the year: 365 days
  C3 Ash  01/10/2025 – open        -> runs to the store's last episode date, 29/01/2026
                                      (earlier than the period end): Oct 31 + Nov 30 + Dec 31 + Jan 29 = 121 days
  C4 SC000003 01/04/2025 – 30/06/2025 -> 30 + 31 + 30 = 91 days
Episodes in the year:
  Oak: C1 SSDA903-only M 05/05/2025; C2 SSDA903-only A 10/06/2025           -> 2
  Ash: C3 seven police incidents and three SSDA903-only rows (see ASH below) -> 10
  SC000003: C4 SSDA903-only M 15/05/2025                                     -> 1
Placed-child-years: Oak 730 / 365.25 = 1.9986; Ash 121 / 365.25 = 0.3313;
  SC000003 91 / 365.25 = 0.2491; total 942 / 365.25 = 2.5791.
Overall rate = 13 / 2.5791 = 5.0406 per placed-child-year.
Expected (overall × years = 13 × days / 942): Oak 10.0743, Ash 1.6699, SC000003 1.2558.
Rates: Oak 2 / 1.9986 = 1.0007; Ash 10 / 0.3313 = 30.186; SC000003 1 / 0.2491 = 4.0137.
Limits (Poisson quantile, interpolated r - (F(r) - p) / (F(r) - F(r-1))):
  Ash, E = 1.6699: F(6) = 0.99830, F(7) = 0.99966 -> 99.8% upper = 7 - 0.00066/0.00136 = 6.515;
      10 > 6.515: Ash House is an OUTLIER.
  Oak, E = 10.0743: F(3) = 0.00979, F(4) = 0.02788 -> 95% lower = 4 - 0.00288/0.01809 = 3.841;
      F(1) = 0.00047, F(2) = 0.00261 -> 99.8% lower = 2 - 0.00161/0.00214 = 1.249;
      1.249 <= 2 < 3.841: Oak is below the 95% limit (not the 99.8% one).
  SC000003, E = 1.2558: 1 episode lies between the 95% limits (0 and 3.468): within.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dashboard import data
from dashboard.app import create_app
from dashboard.components import store_to_frame
from dashboard.figures import homes as fig
from dashboard.filters import Filters
from pipelines.config import Settings
from pipelines.load import load
from sources import police, write_table

YEAR = ("2025-04-01", "2026-03-31")
OAK, ASH, OTHER = "SC000001", "SC000002", "SC000003"


def _header(child):
    return {"CHILD": child, "SEX": "F", "DOB": "15/06/2010", "ETHNIC": "WBRI"}


def _placement(child, decom, dec, urn):
    return {"CHILD": child, "DECOM": decom, "DEC": dec, "RNE": "S", "LS": "C2", "CIN": "N1", "PLACE": "K1",
            "PLACE_PROVIDER": "PR4", "URN": urn}


def _missing(child, code, start, end):
    return {"CHILD": child, "MISSING": code, "MIS_START": start, "MIS_END": end}


# Ash House (C3): police start times (day, hour) -> Fri 22 ×3, Sat 14, Sat 09, Mon 23, Thu 20;
# plus three SSDA903-only rows without a time. By month: Oct 3, Nov 2, Dec 3, Jan 2.
ASH_POLICE = [
    police("A1", "PC3", "2025-10-03T22:00", "2025-10-04T02:00", la_child_ref="C3", missing_from_type="childrens_home"),
    police("A2", "PC3", "2025-10-10T22:30", "2025-10-11T01:00", la_child_ref="C3", missing_from_type="childrens_home"),
    police("A3", "PC3", "2025-11-01T14:00", "2025-11-01T18:00", la_child_ref="C3", missing_from_type="childrens_home"),
    police("A4", "PC3", "2025-11-15T09:00", "2025-11-15T11:00", la_child_ref="C3", missing_from_type="childrens_home",
           risk_level="high"),
    police("A5", "PC3", "2025-12-01T23:00", "2025-12-02T03:00", la_child_ref="C3", missing_from_type="childrens_home"),
    police("A6", "PC3", "2025-12-19T22:15", "2025-12-20T00:30", la_child_ref="C3", missing_from_type="childrens_home"),
    police("A7", "PC3", "2026-01-29T20:00", "2026-01-29T23:00", la_child_ref="C3", missing_from_type="childrens_home"),
]


@pytest.fixture(scope="module")
def homes_store(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("homes")
    source = tmp_path / "src"
    ssda903 = {
        "ssda903_header": [_header(c) for c in ("C1", "C2", "C3", "C4")],
        "ssda903_episodes": [
            _placement("C1", "01/04/2025", "31/03/2026", OAK),
            _placement("C2", "01/01/2025", "31/03/2026", OAK),
            _placement("C3", "01/10/2025", "", ASH),
            _placement("C4", "01/04/2025", "30/06/2025", OTHER),
        ],
        "ssda903_missing": [
            _missing("C1", "M", "05/05/2025", "06/05/2025"),
            _missing("C2", "A", "10/06/2025", "10/06/2025"),
            _missing("C4", "M", "15/05/2025", "15/05/2025"),
            _missing("C3", "M", "20/10/2025", "21/10/2025"),
            _missing("C3", "M", "05/12/2025", "05/12/2025"),
            _missing("C3", "A", "10/01/2026", "11/01/2026"),
        ],
    }
    for name, rows in ssda903.items():
        write_table(source, name, rows, path=f"ssda903/2026/{name.removeprefix('ssda903_')}.csv")
    write_table(source, "police_incidents", ASH_POLICE)
    write_table(source, "homes", [
        {"urn": OAK, "name": "Oak House", "provider": "Council", "places": "4", "overall_effectiveness": "Good"},
        {"urn": ASH, "name": "Ash House", "provider": "Acme Care", "places": "3",
         "overall_effectiveness": "Requires improvement to be good"},
    ])
    db = tmp_path / "mfhc.duckdb"
    load(source, Settings(db_path=db))
    create_app(db)
    yield db
    data.configure(None)


@pytest.fixture()
def store(homes_store):
    data.configure(homes_store)
    yield homes_store
    data.configure(None)


def _filters(start=YEAR[0], end=YEAR[1], **extra):
    return Filters(dt.date.fromisoformat(start), dt.date.fromisoformat(end), **extra)


def _by_urn(frame):
    return frame.set_index("urn")


def test_homes_rates_query_counts_episodes_and_placement_days(store):
    rates = _by_urn(data.query("homes_rates", _filters()))
    assert rates.loc[OAK, "home_name"] == "Oak House"
    assert rates.loc[OTHER, "home_name"] == OTHER  # no dim_home row: shown by its URN
    assert rates.loc[ASH, "overall_effectiveness"] == "Requires improvement to be good"
    assert rates["episodes"].to_dict() == {OAK: 2, ASH: 10, OTHER: 1}
    assert rates["placement_days"].to_dict() == {OAK: 730, ASH: 121, OTHER: 91}
    assert rates.loc[OAK, "placed_child_years"] == pytest.approx(730 / 365.25)


def test_placement_days_clipped_to_the_period(store):
    # Oct–Dec 2025: Oak 92 + 92 days, Ash 1 Oct – 31 Dec (the period end comes before the
    # last episode date) = 92; SC000003 ended in June and had no episode: not listed.
    rates = _by_urn(data.query("homes_rates", _filters("2025-10-01", "2025-12-31")))
    assert rates["placement_days"].to_dict() == {ASH: 92, OAK: 184}
    assert rates["episodes"].to_dict() == {ASH: 8, OAK: 0}
    # Jan–Mar 2026: Ash's open placement stops at the last episode date, 29 Jan: 29 days.
    rates = _by_urn(data.query("homes_rates", _filters("2026-01-01", "2026-03-31")))
    assert rates["placement_days"].to_dict() == {ASH: 29, OAK: 180}


def test_funnel_frame_matches_the_hand_worked_figures(store):
    frame = _by_urn(fig.funnel_frame(data.query("homes_rates", _filters())))
    assert frame["overall_rate"].iloc[0] == pytest.approx(13 / (942 / 365.25))
    assert frame.loc[OAK, "expected"] == pytest.approx(10.0743, abs=1e-4)
    assert frame.loc[ASH, "expected"] == pytest.approx(1.6699, abs=1e-4)
    assert frame.loc[OTHER, "expected"] == pytest.approx(1.2558, abs=1e-4)
    assert frame.loc[ASH, "rate"] == pytest.approx(30.186, abs=1e-3)
    assert frame.loc[ASH, "upper_99_8"] == pytest.approx(6.515, abs=0.005)
    assert frame.loc[OAK, "lower_95"] == pytest.approx(3.841, abs=0.005)
    assert frame.loc[OAK, "lower_99_8"] == pytest.approx(1.249, abs=0.005)
    assert frame["position"].to_dict() == {OAK: fig.BELOW_95, ASH: fig.OUTLIER, OTHER: fig.WITHIN}
    assert fig.default_home(frame.reset_index()) == ASH


def test_poisson_limit_is_exact_at_integers_and_smooth_between():
    # E = 2: F(4) = 0.94735, F(5) = 0.98344 -> 97.5% limit = 5 - (0.98344 - 0.975) / 0.03609 = 4.766.
    assert fig.poisson_limit(2.0, 0.975)[0] == pytest.approx(4.766, abs=0.002)
    curve = fig.poisson_limit([1.0, 1.01, 1.02, 1.03], 0.999)
    assert all(abs(b - a) < 0.2 for a, b in zip(curve, curve[1:]))


def test_funnel_figure_draws_limits_overall_line_and_named_outlier(store):
    frame = fig.funnel_frame(data.query("homes_rates", _filters()))
    figure = fig.funnel_figure(frame)
    names = [trace.name for trace in figure.data]
    assert {"99.8% upper limit", "95% upper limit", "Above 99.8% limit (outlier)", "Within limits",
            "Below 95% limit"} <= set(names)
    overall = next(t for t in figure.data if t.name.startswith("Overall rate"))
    assert list(overall.y) == pytest.approx([13 / (942 / 365.25)] * 2)
    upper = next(t for t in figure.data if t.name == "99.8% upper limit")
    assert len(upper.x) > 100  # a smooth curve, not a point per home
    outlier = next(t for t in figure.data if t.name == "Above 99.8% limit (outlier)")
    assert list(outlier.text) == ["Ash House"] and outlier.marker.symbol == "diamond"
    assert "circle" == next(t for t in figure.data if t.name == "Within limits").marker.symbol
    summary = fig.funnel_summary(frame)
    assert "3 homes" in summary and "Ash House (10 episodes against 1.7 expected" in summary
    table = fig.homes_table(frame)
    assert table["Home"].tolist() == ["Ash House", OTHER, "Oak House"]  # outliers first
    assert table["Episodes"].tolist() == [10, 1, 2]


def test_monthly_and_hour_day_queries_for_a_home(store):
    monthly = data.query("homes_monthly", _filters(), home_urn=ASH)
    assert len(monthly) == 12  # every month of the year, zeros included
    assert monthly["episodes"].tolist() == [0, 0, 0, 0, 0, 0, 3, 2, 3, 2, 0, 0]
    hours = data.query("homes_hour_day", _filters(), home_urn=ASH)
    matrix = fig.hour_day_matrix(hours)
    assert matrix.loc["Fri", 22] == 3 and matrix.loc["Sat", 14] == 1 and matrix.loc["Sat", 9] == 1
    assert matrix.loc["Mon", 23] == 1 and matrix.loc["Thu", 20] == 1
    assert int(matrix.to_numpy().sum()) == 7 and fig.untimed_count(hours) == 3
    figure = fig.hour_day_figure(hours, "Ash House")
    assert figure.data[0].type == "heatmap" and figure.data[0].text[4][22] == "3"
    text = fig.hour_day_summary(hours, "Ash House")
    assert "7 police-known episodes" in text and "Fridays (3)" in text and "3 SSDA903-only" in text
    assert "busiest month was October 2025 with 3" in fig.monthly_summary(monthly, "Ash House")


def test_page_callbacks_and_a_filter_changes_the_result(store):
    import dash

    from dashboard.pages.homes import update_home_choices, update_home_detail, update_homes

    values = (*YEAR, "all", None, None, None, None)
    period, table, figure, funnel_store, summary = update_homes(*values)
    # The chosen home comes with its charts: the first outlier, with options that hold it.
    *charts, chosen, options = update_home_detail(*values, None)
    assert chosen == ASH
    assert {o["value"] for o in options} == {OAK, ASH, OTHER}
    assert "Ash House" in charts[2] and store_to_frame(charts[1])["episodes"].sum() == 10
    assert update_home_choices(None, chosen, *values) == options
    assert {o["value"] for o in update_home_choices("oak", chosen, *values)} == {OAK, ASH}  # found, and the chosen
    assert [o["value"] for o in update_home_choices(OTHER.lower(), OTHER, *values)] == [OTHER]  # by URN
    assert "1 above the 99.8% limit (outliers): Ash House" in summary
    assert store_to_frame(funnel_store).set_index("urn")["episodes"].to_dict() == {ASH: 10, OAK: 2, OTHER: 1}
    # A chosen home still on the funnel is kept: its charts, and the chooser is left as it is.
    *charts, kept, options = update_home_detail(*values, OAK)
    assert kept is dash.no_update and "Oak House" in charts[2] and OAK in {o["value"] for o in options}
    # One no longer on it (no placement days in Oct–Dec) gives way to the first outlier.
    autumn = ("2025-10-01", "2025-12-31", "all", None, None, None, None)
    assert update_home_detail(*autumn, OTHER)[6] == ASH

    trend_fig, trend_store, trend_text, hours_fig, hours_store, hours_text, *_ = update_home_detail(*values, ASH)
    assert store_to_frame(trend_store)["episodes"].sum() == 10
    assert "3 SSDA903-only episodes have no time" in hours_text

    # Risk "high": only A4 at Ash counts; the placement days stay the same.
    high = (*YEAR, "all", None, None, None, "high")
    *_, funnel_store, summary = update_homes(*high)
    shown = store_to_frame(funnel_store).set_index("urn")
    assert shown["episodes"].to_dict() == {ASH: 1, OAK: 0, OTHER: 0}
    assert shown["placement_days"].to_dict() == {ASH: 121, OAK: 730, OTHER: 91}
    trend = store_to_frame(update_home_detail(*high, ASH)[1])
    assert trend["episodes"].sum() == 1


def test_empty_period_gives_empty_figures(store):
    import dash

    from dashboard.pages.homes import update_home_choices, update_home_detail, update_homes

    values = ("2020-04-01", "2021-03-31", "all", None, None, None, None)
    _, _, figure, _, summary = update_homes(*values)
    *charts, chosen, options = update_home_detail(*values, None)
    assert chosen is dash.no_update and options == []   # no home: the chooser stays empty
    assert update_home_choices(None, None, *values) == []
    assert "No children's home had placement days" in summary
    assert "No children's homes" in charts[2]
    assert isinstance(fig.homes_table(fig.funnel_frame(pd.DataFrame(columns=[
        "urn", "home_name", "provider", "places", "overall_effectiveness", "episodes", "children",
        "episodes_child_not_in_ssda903", "placement_days", "placed_child_years"]))), pd.DataFrame)


def _callback_io(callback: dict) -> tuple[set, set]:
    """A registered callback's outputs and inputs as (component id, property) pairs."""
    outputs = set()
    for part in callback["output"].strip(".").split("..."):
        component, prop = part.split("@")[0].rsplit(".", 1)
        outputs.add((component, prop))
    return outputs, {(str(i["id"]), i["property"]) for i in callback["inputs"]}


def test_the_chosen_homes_charts_are_asked_for_with_the_funnel_not_after_it(store):
    """No callback of the page takes as input what the funnel's callback gives: the browser
    would ask for it only once the funnel's answer had come (a chain of requests)."""
    from dash._callback import GLOBAL_CALLBACK_LIST

    page = list({cb["output"]: cb for cb in GLOBAL_CALLBACK_LIST if "homes-" in cb["output"]}.values())
    funnel, = [cb for cb in page if "homes-funnel-graph.figure" in cb["output"]]
    given = _callback_io(funnel)[0]
    detail, = [cb for cb in page if "homes-trend-graph.figure" in cb["output"]]
    assert ("homes-choice", "value") in _callback_io(detail)[0] & _callback_io(detail)[1]
    for callback in page:
        assert not given & _callback_io(callback)[1], callback["output"]


def test_the_board_sees_each_homes_small_numbers_marked_on_its_own_row(store):
    """The funnel leaves out the homes whose episodes are withheld; the marks of the small
    numbers of the homes it keeps follow their rows (they once kept the positions of the
    query's rows, so a kept home could show another's <5, or a row past the end be marked)."""
    from dashboard.components import _FULL_ROWS
    from dashboard.pages.homes import update_homes
    from pipelines.suppression import display_frame

    with data.acting_as("board"):
        *_, funnel_store, summary = update_homes(*YEAR, "all", None, None, None, None, None)
        everything = display_frame(_FULL_ROWS["homes-funnel"](_filters()))
    # Oak (2 episodes) and SC000003 (1) are withheld; Ash is kept, its one child shown <5 and
    # its no episodes of children outside SSDA903 shown as 0.
    for rows in (store_to_frame(funnel_store), everything):
        assert rows["urn"].tolist() == [ASH]
        assert rows[["episodes", "children", "episodes_child_not_in_ssda903"]].iloc[0].tolist() == [10, "<5", 0]
    assert "2 homes with 1–4 episodes are not shown" in summary


def test_the_pages_shaded_funnel_counts_only_the_homes_each_role_may_see_placed(store, monkeypatch):
    """The page's funnel, shaded (as for thousands of homes): the analyst's layer counts Oak
    (below the 95% limit) and SC000003 (within), with Ash a named marker. The board's funnel
    places neither (1–4 episodes, withheld): Ash alone, within the limits of its own rate,
    is the one home its layer counts."""
    import dashboard.pages.homes as page

    monkeypatch.setattr(page, "DENSITY_ABOVE", 0)
    values = (*YEAR, "all", None, None, None, None)
    _, _, figure, _, summary = page.update_homes(*values)
    [density] = [t for t in figure.data if t.type == "heatmap"]
    assert sum(n for row in density.z for n in row if n) == 2
    assert sorted(w.split("<br>")[0] for row in density.text for w in row if w) == [
        "1 home here: 1 below 95% limit", "1 home here: 1 within limits"]
    assert [list(t.text) for t in _markers(figure) if t.mode == "markers+text"] == [["Ash House"]]
    assert "shades the 2 homes within or below the limits" in summary and "draws the 1 above them" in summary
    with data.acting_as("board"):
        _, _, figure, funnel_store, summary = page.update_homes(*values)
    [density] = [t for t in figure.data if t.type == "heatmap"]
    assert [w.split("<br>")[0] for row in density.text for w in row if w] == ["1 home here: 1 within limits"]
    assert sum(n for row in density.z for n in row if n) == 1 and _markers(figure) == []
    assert "shades the 1 home within or below the limits" in summary
    assert "2 homes with 1–4 episodes are not shown" in summary
    assert store_to_frame(funnel_store)["urn"].tolist() == [ASH]


def test_home_chooser_offers_outliers_and_busiest_homes_and_finds_any_by_search():
    from dashboard.figures.homes import OUTLIER, WITHIN
    from dashboard.pages.homes import CHOICES_SHOWN, home_choices

    count = CHOICES_SHOWN * 3
    frame = pd.DataFrame({
        "urn": [f"SC{n:06d}" for n in range(count)],
        "home_name": [f"Home {n:03d}" for n in range(count)],
        "episodes": list(range(count)),
        "position": [OUTLIER if n in (3, 7) else WITHIN for n in range(count)],
    })
    offered = {o["value"] for o in home_choices(frame, None, None)}
    busiest = {f"SC{n:06d}" for n in range(count - (CHOICES_SHOWN - 2), count)}
    assert offered == {"SC000003", "SC000007"} | busiest
    # The chosen home is kept among the options, whatever else is offered.
    assert len(home_choices(frame, None, "SC000010")) == CHOICES_SHOWN + 1
    assert [o["value"] for o in home_choices(frame, "home 01", "SC000003")] == ["SC000003"] + [
        f"SC{n:06d}" for n in range(10, 20)]   # by name
    assert [o["value"] for o in home_choices(frame, "sc000042", None)] == ["SC000042"]
    assert home_choices(frame, "no such home", None) == []
    assert home_choices(frame.iloc[0:0], None, None) == []


def test_a_large_chart_sends_the_rows_its_table_shows_and_downloads_them_all():
    import dashboard.components as components

    rows = components.TABLE_ROWS + 7
    frame = pd.DataFrame({"home": [f"=cmd{n}" for n in range(rows)], "episodes": range(rows)})
    components.full_rows_from_server("test-large-chart", lambda filters: frame)
    try:
        _, store, _ = components.chart_values({}, frame, "words", chart_id="test-large-chart")
        assert len(store["data"]) == components.TABLE_ROWS and store["rows"] == rows
        sent = components._download(1, store, "test-large-chart", "csv", (None,) * len(components.FILTER_INPUTS))
        lines = sent["content"].splitlines()
        assert len(lines) == rows + 1 and lines[-1] == f"'=cmd{rows - 1},{rows - 1}"
        # Charts not registered, or small enough, hold every row as before.
        _, small_store, _ = components.chart_values({}, frame.head(3), "words", chart_id="test-large-chart")
        assert "rows" not in small_store and len(small_store["data"]) == 3
        _, unregistered, _ = components.chart_values({}, frame, "words")
        assert len(unregistered["data"]) == rows
    finally:
        components._FULL_ROWS.pop("test-large-chart")


def _national_frame(count: int = 600, seed: int = 7) -> pd.DataFrame:
    """Homes of every position: sizes from a few days to three years, episodes spread well
    beyond chance (as nationally: many homes above and below the limits), some with none."""
    rng = np.random.default_rng(seed)
    years = rng.uniform(0.02, 3.0, count)
    episodes = rng.poisson(years * 4 * rng.gamma(1.5, 1 / 1.5, count))
    rates = pd.DataFrame({
        "urn": [f"SC{n:06d}" for n in range(count)], "home_name": [f"Home {n}" for n in range(count)],
        "episodes": episodes, "placement_days": (years * 365.25).round().astype(int), "placed_child_years": years,
    })
    rates.loc[0, "placed_child_years"] = 0.0   # one home with no placement days: not placed
    return fig.funnel_frame(rates)


def _markers(figure) -> list:
    return [t for t in figure.data if t.type in ("scatter", "scattergl") and t.mode != "lines"]


def test_a_national_funnel_shades_its_homes_within_or_below_the_limits_and_draws_those_above():
    """Above `density_above` homes, the homes within or below the limits are one shaded layer
    of counts per cell (no marker each, no WebGL): its counts add up to those homes, each
    cell's words to its count; the homes above the limits stay markers with their hover."""
    frame = _national_frame()
    placed = frame[frame["position"] != fig.NO_YEARS]
    shaded = placed[placed["position"].isin(fig.SHADED)]
    above = placed[placed["position"].isin((fig.OUTLIER, fig.ABOVE_95))]
    assert set(placed["position"]) == set(fig.POSITION_STYLE) and len(above) > fig.OUTLIERS_NAMED
    figure = fig.funnel_figure(frame, density_above=len(placed) - 1)
    assert "scattergl" not in {t.type for t in figure.data}
    markers = _markers(figure)
    assert {t.name for t in markers} == {fig.OUTLIER.capitalize(), fig.ABOVE_95.capitalize()}
    assert sum(len(t.x) for t in markers) == len(above)
    assert sorted(h.split(" (")[0] for t in markers for h in t.hovertext) == sorted(above["home_name"])
    [density] = [t for t in figure.data if t.type == "heatmap"]
    assert density.name == fig.DENSITY_NAME and density.showlegend and density.hoverongaps is False
    counts = np.array([[n or 0 for n in row] for row in density.z])
    assert counts.sum() == len(shaded)
    assert counts.shape == (fig.DENSITY_CELLS[1], fig.DENSITY_CELLS[0]) and None in density.z[-1]
    for row, words in zip(density.z, density.text):
        for n, text in zip(row, words):
            assert (n is None) == (text is None)
            if n is not None:
                said = text.split("<br>")[0]
                assert said.startswith(f"{n:,} {'home' if n == 1 else 'homes'} here: ")
                assert sum(int(part.split(" ")[0]) for part in said.split(": ")[1].split(", ")) == n
    # The cells cover the axes' ranges.
    x_max, y_top = figure.layout.xaxis.range[1], figure.layout.yaxis.range[1]
    assert density.x0 - density.dx / 2 == 0 and abs(density.dx * fig.DENSITY_CELLS[0] - x_max) < 1e-9
    assert density.y0 - density.dy / 2 == 0 and abs(density.dy * fig.DENSITY_CELLS[1] - y_top) < 1e-9
    # Its words say so; a funnel drawing every home says nothing of shading.
    assert f"shades the {len(shaded):,} homes within or below the limits" in fig.shaded_words(
        frame, len(placed) - 1)
    assert fig.shaded_words(frame, len(placed)) == "" and fig.shaded_words(frame, None) == ""


def test_a_funnel_of_fewer_homes_and_the_board_pack_draw_every_home_as_before():
    frame = _national_frame()
    placed = frame[frame["position"] != fig.NO_YEARS]
    for figure in (fig.funnel_figure(frame, density_above=len(placed)), fig.funnel_figure(frame)):
        assert "heatmap" not in {t.type for t in figure.data}
        assert {t.type for t in figure.data} == {"scatter"}
        assert sum(len(t.x) for t in _markers(figure)) == len(placed)
        assert {t.name for t in _markers(figure)} == {p.capitalize() for p in fig.POSITION_STYLE}
    assert fig.funnel_figure(frame, density_above=len(placed)).data == fig.funnel_figure(frame).data


def test_a_national_funnel_names_its_top_outliers_in_a_trace_of_their_own():
    """Hundreds of outliers nationally: only the OUTLIERS_NAMED highest rates carry a label,
    drawn over the others; the rest are markers alone (on a shaded funnel too), and the two
    traces are one legend entry."""
    count = 200
    outliers = fig.OUTLIERS_NAMED + 15
    rates = pd.DataFrame({
        "urn": [f"SC{n:06d}" for n in range(count)], "home_name": [f"Home {n}" for n in range(count)],
        "episodes": [40 + n for n in range(outliers)] + [2] * (count - outliers), "placement_days": [365] * count,
        "placed_child_years": [1.0] * count,
    })
    frame = fig.funnel_frame(rates)
    assert (frame["position"] == fig.OUTLIER).sum() == outliers
    for density_above in (100, None):
        traces = [t for t in fig.funnel_figure(frame, density_above=density_above).data
                  if t.name == fig.OUTLIER.capitalize()]
        rest, named = traces
        assert named.type == "scatter" and named.mode == "markers+text"
        # The highest rates: the homes with most episodes, each named by its label.
        assert sorted(named.text) == sorted(f"Home {n}" for n in range(outliers - fig.OUTLIERS_NAMED, outliers))
        assert list(named.text) == list(named.hovertext)
        assert rest.type == "scatter" and rest.mode == "markers" and rest.text is None
        assert len(rest.x) == outliers - fig.OUTLIERS_NAMED
        assert rest.showlegend is not False and named.showlegend is False
        assert rest.legendgroup == named.legendgroup
        assert rest.marker.symbol == named.marker.symbol == "diamond"


def test_the_pages_charts_leave_room_for_their_labels_and_the_board_pack_keeps_its_own(store):
    """Plotly draws a figure a second time when its labels or legend need more room than its
    margins give: the page's funnel and trend ask for that room (the browser test checks
    Plotly took no more); the board pack's funnel keeps its margins."""
    frame = fig.funnel_frame(data.query("homes_rates", _filters()))
    page = fig.funnel_figure(frame, density_above=fig.DENSITY_ABOVE, layout=fig.FUNNEL_PAGE_LAYOUT)
    pack = fig.funnel_figure(frame)
    assert (page.layout.margin.l, page.layout.margin.b, page.layout.height) == (80, 200, 594)
    assert (pack.layout.margin.l, pack.layout.margin.b, pack.layout.height) == (60, 150, 560)
    assert page.layout.margin.t == pack.layout.margin.t and page.data == pack.data
    monthly = data.query("homes_monthly", _filters(), home_urn=ASH)
    assert fig.monthly_figure(monthly, "Ash House").layout.margin.b == 70
