"""The Children's homes funnel worked out on arrays, against plain definitions.

At national scale (12,672 homes) the funnel's limits are found once per distinct expected
count, with only the values still moving stepped, and its table, words, chooser and chart
take rows from the frame only where they need them. These properties hold the fast forms to
plain ones: scipy's Poisson quantile and CDF one home at a time, and pandas sorts of the
whole frame (the definitions the page used before), over frames with ties, homes without
placement days and an index with gaps (the board view drops the homes it withholds).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as s

from dashboard.figures import homes as fig

LEVELS = (0.001, 0.025, 0.975, 0.999)


@settings(max_examples=300, deadline=None)
@given(s.lists(s.floats(0, 1e5, allow_nan=False), min_size=1, max_size=40),
       s.one_of(s.sampled_from(LEVELS), s.floats(1e-6, 1 - 1e-6)))
def test_poisson_quantile_is_scipys_poisson_ppf(mu, p):
    mu = np.array(mu)
    assert np.array_equal(fig.poisson_quantile(p, mu), st.poisson.ppf(p, mu))


def _plain_limit(mu: float, p: float) -> float:
    """Spiegelhalter's interpolated limit, one value at a time from scipy's Poisson."""
    if math.isnan(mu):
        return math.nan
    r = st.poisson.ppf(p, mu)
    upper = st.poisson.cdf(r, mu)
    lower = st.poisson.cdf(r - 1, mu) if r > 0 else 0.0
    return max(r - (upper - p) / (upper - lower), 0.0) if upper > lower else max(r, 0.0)


# Expected counts as the funnel has them: many homes share one (whole placement days).
_expected = s.one_of(s.integers(0, 3000).map(lambda days: days * 3.79 / 365.25), s.floats(0, 500),
                     s.just(math.nan))


@settings(max_examples=200, deadline=None)
@given(s.lists(_expected, min_size=1, max_size=60), s.sampled_from(LEVELS))
def test_poisson_limit_of_many_homes_is_each_homes_own(expected, p):
    limits = fig.poisson_limit(expected, p)
    one_by_one = [fig.poisson_limit(mu, p)[0] for mu in expected]
    assert np.array_equal(limits, one_by_one, equal_nan=True)
    assert limits == pytest.approx([_plain_limit(mu, p) for mu in expected], rel=1e-12, abs=1e-12, nan_ok=True)


@s.composite
def _rates(draw) -> pd.DataFrame:
    """A homes_rates frame: small counts and whole days (many ties), some homes without
    placement days, names shared, and an index with gaps."""
    count = draw(s.integers(0, 70))
    days = draw(s.lists(s.one_of(s.just(0), s.integers(1, 1200)), min_size=count, max_size=count))
    episodes = draw(s.lists(s.integers(0, 40), min_size=count, max_size=count))
    names = draw(s.lists(s.sampled_from(["Ash", "Oak", "Elm", "Yew"]), min_size=count, max_size=count))
    index = sorted(draw(s.sets(s.integers(0, 500), min_size=count, max_size=count)))
    return pd.DataFrame({
        "urn": [f"SC{n:06d}" for n in index], "home_name": names, "episodes": episodes,
        "children": [min(e, 3) for e in episodes], "episodes_child_not_in_ssda903": [e // 7 for e in episodes],
        "placement_days": [float(d) for d in days], "placed_child_years": [d / 365.25 for d in days],
    }, index=index)


def _funnel(rates: pd.DataFrame, every: int = 5) -> pd.DataFrame:
    # Every `every`-th home far above its limits (outliers, some off the chart's scale; every
    # other home gives more outliers than the chart and the words name).
    rates = rates.copy()
    rates.loc[rates.index[::every], "episodes"] += 60
    return fig.funnel_frame(rates)


@settings(max_examples=150, deadline=None)
@given(_rates())
def test_outlier_frame_marks_the_funnel_frames_outliers(rates):
    frame, outliers = _funnel(rates), fig.outlier_frame(rates.assign(episodes=_funnel(rates)["episodes"]))
    assert (outliers["position"] == fig.OUTLIER).tolist() == (frame["position"] == fig.OUTLIER).tolist()
    assert (outliers["position"] == fig.NO_YEARS).tolist() == (frame["position"] == fig.NO_YEARS).tolist()
    for column in ("rate", "expected", "upper_99_8", "overall_rate"):
        pd.testing.assert_series_equal(outliers[column], frame[column], check_exact=True)
    assert fig.default_home(outliers) == fig.default_home(frame) == _plain_default_home(frame)


def _plain_default_home(frame: pd.DataFrame) -> str | None:
    if frame.empty:
        return None
    outliers = frame[frame["position"] == fig.OUTLIER].sort_values("rate", ascending=False)
    if len(outliers):
        return str(outliers["urn"].iloc[0])
    return str(frame.sort_values(["episodes", "home_name"], ascending=[False, True])["urn"].iloc[0])


@settings(max_examples=150, deadline=None)
@given(_rates(), s.sampled_from([None, 0, 3, 100]))
def test_homes_table_is_worst_first_ties_in_frame_order(rates, top):
    frame = _funnel(rates)
    order = {position: rank for rank, position in enumerate(fig.TABLE_ORDER)}
    plain = frame.assign(_order=frame["position"].map(order),
                         _excess=frame["episodes"] - frame["expected"].fillna(0)).sort_values(
        ["_order", "_excess"], ascending=[True, False], kind="stable")
    plain = plain if top is None else plain.head(top)
    table = fig.homes_table(frame, top=top)
    assert table.index.tolist() == plain.index.tolist()
    assert table["Home"].tolist() == plain["home_name"].tolist()
    assert table["Position"].tolist() == plain["position"].tolist()


def _plain_summary_opening(frame: pd.DataFrame) -> str:
    placed = frame[frame["position"] != fig.NO_YEARS]
    outliers = placed[placed["position"] == fig.OUTLIER].sort_values("rate", ascending=False)
    named = "; ".join(f"{r.home_name} ({r.episodes} episodes against {r.expected:.1f} expected, "
                      f"{r.rate:.1f} per year)" for r in outliers.head(fig.OUTLIERS_NAMED).itertuples())
    return (f"{len(placed)} homes had children placed in the period: {int(placed['episodes'].sum()):,} episodes "
            f"over {placed['placed_child_years'].sum():.1f} placed-child-years, an overall rate of "
            f"{float(placed['overall_rate'].iloc[0]):.2f} episodes per placed-child-year. "
            + (f"{len(outliers)} above the 99.8% limit (outliers): {named}" if len(outliers)
               else "No home is above the 99.8% control limit")
            + (f"; and {len(outliers) - fig.OUTLIERS_NAMED:,} more, in the table"
               if len(outliers) > fig.OUTLIERS_NAMED else "")
            + f"; {int((placed['position'] == fig.ABOVE_95).sum())} more above the 95% limit only.")


@settings(max_examples=150, deadline=None)
@given(_rates())
def test_funnel_summary_names_the_outliers_with_the_highest_rates(rates):
    frame = _funnel(rates, every=2)
    summary = fig.funnel_summary(frame)
    if (frame["position"] == fig.NO_YEARS).all():
        assert summary.startswith("No children's home had placement days")
        return
    assert summary.startswith(_plain_summary_opening(frame))
    no_years = frame[(frame["position"] == fig.NO_YEARS) & (frame["episodes"] > 0)]
    assert (f" {int(no_years['episodes'].sum())} episodes at {len(no_years)} homes with no placement days "
            f"recorded have no rate." in summary) == bool(len(no_years))


@pytest.fixture(scope="module")
def page(generated_authority):
    """The Children's homes page module (importable once an app exists)."""
    from pathlib import Path

    from dashboard.app import create_app

    from dashboard import data

    db = generated_authority.execute("select path from duckdb_databases() where not internal").fetchone()[0]
    create_app(Path(db))
    from dashboard.pages import homes

    yield homes
    data.configure(None)


@settings(max_examples=150, deadline=None)
@given(rates=_rates(), chosen=s.sampled_from([None, "SC000000", "SC000499"]))
def test_the_chooser_offers_outliers_then_the_busiest_as_a_plain_sort(page, rates, chosen):
    home_choices, CHOICES_SHOWN = page.home_choices, page.CHOICES_SHOWN
    frame = fig.outlier_frame(rates)
    plain = frame.assign(_outlier=frame["position"] == fig.OUTLIER).sort_values(
        ["_outlier", "episodes", "home_name"], ascending=[False, False, True], kind="stable").head(CHOICES_SHOWN)
    if chosen is not None and chosen not in set(plain["urn"]):
        plain = pd.concat([plain, frame[frame["urn"] == chosen]])
    assert home_choices(frame, None, chosen) == fig.home_options(plain)


@settings(max_examples=100, deadline=None)
@given(_rates(), s.sampled_from([None, 0]))
def test_each_marker_trace_holds_its_positions_homes_in_frame_order(rates, density_above):
    """The chart's markers, taken from arrays: each position's trace has that position's
    homes, in the frame's order (the outliers split into the named top rates and the rest),
    with their own figures; off-scale homes at the top edge, highest rate first."""
    frame = _funnel(rates, every=2)
    named_before, fig.OUTLIERS_NAMED = fig.OUTLIERS_NAMED, 3   # fewer named than outliers, as nationally
    try:
        _check_markers(frame, density_above)
    finally:
        fig.OUTLIERS_NAMED = named_before


def _check_markers(frame: pd.DataFrame, density_above: int | None) -> None:
    figure = fig.funnel_figure(frame, density_above=density_above)
    placed = frame[frame["position"] != fig.NO_YEARS]
    if placed.empty:
        return
    traces = {}
    for trace in figure.data:
        if trace.type == "scatter" and trace.mode != "lines":
            traces.setdefault(trace.name, []).append(trace)
    named = placed[placed["position"] == fig.OUTLIER].sort_values("rate", ascending=False).head(fig.OUTLIERS_NAMED)
    y_top = figure.layout.yaxis.range[1]
    beyond = placed[placed["rate"] > y_top].sort_values("rate", ascending=False)
    shown_y = placed["rate"].copy()
    shown_y[beyond.index] = [y_top * (0.97 - 0.07 * i) for i in range(len(beyond))]
    for position in fig.POSITION_STYLE:
        homes = placed[placed["position"] == position]
        if position in fig.SHADED and density_above is not None and fig.shades(frame, density_above):
            assert position.capitalize() not in traces
            continue
        if position == fig.OUTLIER:
            expected = [homes[~homes.index.isin(named.index)], homes[homes.index.isin(named.index)]]
            expected = [part for part in expected if len(part)]
        else:
            expected = [homes] if len(homes) else []
        got = traces.get(position.capitalize(), [])
        assert len(got) == len(expected)
        for trace, part in zip(got, expected):
            assert list(trace.x) == part["placed_child_years"].astype(np.float32).tolist()
            assert list(trace.y) == shown_y[part.index].astype(np.float32).tolist()
            assert [label.split(" (")[0] for label in trace.hovertext] == part["home_name"].tolist()
            assert np.array_equal(np.asarray(trace.customdata),
                                  part[["episodes", "expected", "rate"]].to_numpy(dtype=float).astype(np.float32))
