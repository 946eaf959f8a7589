"""Figures and words of the Children's homes page: the funnel plot of episode rates per
placed-child-year, a home's monthly trend and its hour-of-day by day-of-week pattern."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy.special import pdtr
from scipy.stats import norm

from dashboard.figures.common import PALETTE, merged_layout, empty_figure, figure_from

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY_NAMES = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")))
# Two-sided control limits: 95% (2.5% each side) and 99.8% (0.1% each side).
LIMITS = {"95": (0.025, 0.975), "99.8": (0.001, 0.999)}
OUTLIER = "above 99.8% limit (outlier)"
ABOVE_95 = "above 95% limit"
WITHIN = "within limits"
BELOW_95 = "below 95% limit"
BELOW_998 = "below 99.8% limit"
NO_YEARS = "no placement days in period"
# Outliers named on the funnel plot and in its summary (highest rates first): a national
# store can have hundreds; the rest are named on hover and in the table and data.
OUTLIERS_NAMED = 20
# Rows of the table beside the funnel: a page of thousands of rows takes seconds to build
# and to draw. The funnel's data table and CSV keep every home.
HOMES_TABLE_ROWS = 100
# How each position is drawn: colour AND marker shape, so colour is never the only cue.
POSITION_STYLE = {
    OUTLIER: (PALETTE[5], "diamond", 14),
    ABOVE_95: (PALETTE[1], "triangle-up", 11),
    WITHIN: (PALETTE[0], "circle", 9),
    BELOW_95: (PALETTE[2], "triangle-down", 11),
    BELOW_998: (PALETTE[2], "square", 11),
}


def poisson_quantile(p: float, mu: np.ndarray) -> np.ndarray:
    """The smallest integer r >= 0 with F(r) >= p for a Poisson(mu) count: the same values as
    scipy.stats.poisson.ppf, several times faster for the thousands of homes of a national
    store (a Cornish-Fisher start, then whole steps checked with the exact CDF)."""
    z = norm.ppf(p)
    with np.errstate(invalid="ignore"):
        r = np.maximum(np.floor(mu + z * np.sqrt(mu) + (z * z - 1) / 6), 0.0)
    r = np.where(np.isnan(mu), np.nan, r)
    for _ in range(1000):
        low = pdtr(r, mu) < p
        if not low.any():
            break
        r = np.where(low, r + 1, r)
    for _ in range(1000):
        high = (r > 0) & (pdtr(r - 1, mu) >= p)
        if not high.any():
            break
        r = np.where(high, r - 1, r)
    return r


def poisson_limit(expected, p: float) -> np.ndarray:
    """The p-quantile of a Poisson(expected) count, interpolated between the integers so
    the limit is a smooth curve (Spiegelhalter 2005): r = the smallest count with
    F(r) >= p, limit = r - (F(r) - p) / (F(r) - F(r - 1)). Exact at the integer steps."""
    mu = np.atleast_1d(np.asarray(expected, dtype=float))
    r = poisson_quantile(p, mu)
    upper = pdtr(r, mu)
    lower = np.where(r > 0, pdtr(np.maximum(r - 1, 0), mu), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(upper > lower, (upper - p) / (upper - lower), 0.0)
    return np.clip(r - alpha, 0.0, None)


def overall_rate(rates: pd.DataFrame) -> float | None:
    """Episodes per placed-child-year over the homes with placement days in the period."""
    placed = rates[rates["placed_child_years"] > 0]
    years = placed["placed_child_years"].sum()
    return float(placed["episodes"].sum() / years) if years > 0 else None


def funnel_frame(rates: pd.DataFrame) -> pd.DataFrame:
    """The homes table: rate, expected episodes (overall rate × the home's years), the
    control limits as counts at that expected value, and where the home lies against them."""
    frame = rates.copy()
    overall = overall_rate(frame)
    years = frame["placed_child_years"].astype(float)
    has_years = years > 0
    frame["rate"] = np.where(has_years, frame["episodes"] / years.where(has_years), np.nan)
    frame["expected"] = years * overall if overall is not None else np.nan
    expected = frame["expected"].fillna(0).to_numpy()
    for level, (low, high) in LIMITS.items():
        suffix = level.replace(".", "_")
        frame[f"lower_{suffix}"] = np.where(has_years, poisson_limit(expected, low), np.nan)
        frame[f"upper_{suffix}"] = np.where(has_years, poisson_limit(expected, high), np.nan)

    # Where each home lies, the first test that holds (vectorised: thousands of homes
    # nationally). A NaN count compares false everywhere: within limits.
    episodes = frame["episodes"].astype(float).to_numpy()
    no_years = ~has_years.to_numpy() | (overall is None)
    with np.errstate(invalid="ignore"):
        frame["position"] = np.select(
            [no_years, episodes > frame["upper_99_8"].to_numpy(), episodes > frame["upper_95"].to_numpy(),
             episodes < frame["lower_99_8"].to_numpy(), episodes < frame["lower_95"].to_numpy()],
            [NO_YEARS, OUTLIER, ABOVE_95, BELOW_998, BELOW_95], default=WITHIN).astype(object)
    frame["overall_rate"] = overall
    return frame


def homes_table(frame: pd.DataFrame, top: int | None = HOMES_TABLE_ROWS) -> pd.DataFrame:
    """The table beside the funnel: worst first (outliers, then by how far above expected),
    the first `top` homes (None: all; every home is in the funnel's data table and CSV)."""
    order = {OUTLIER: 0, ABOVE_95: 1, WITHIN: 2, BELOW_95: 3, BELOW_998: 4, NO_YEARS: 5}
    shown = frame.assign(_order=frame["position"].map(order),
                         _excess=frame["episodes"] - frame["expected"].fillna(0))
    shown = shown.sort_values(["_order", "_excess"], ascending=[True, False])
    if top is not None:
        shown = shown.head(top)
    return pd.DataFrame({
        "Home": shown["home_name"],
        "Episodes": shown["episodes"].astype(int),
        "Child-years": shown["placed_child_years"].round(2),
        "Rate": shown["rate"].round(1),
        "Expected": shown["expected"].round(1),
        "Position": shown["position"],
    })


def funnel_data(frame: pd.DataFrame) -> pd.DataFrame:
    """Every figure of the funnel, for the chart's data table and CSV."""
    columns = ["urn", "home_name", "provider", "places", "overall_effectiveness", "episodes", "children",
               "episodes_child_not_in_ssda903", "placement_days", "placed_child_years", "rate", "expected",
               "lower_99_8", "lower_95", "upper_95", "upper_99_8", "position", "overall_rate"]
    return frame[columns].round({"placed_child_years": 3, "rate": 3, "expected": 3, "lower_99_8": 2,
                                 "lower_95": 2, "upper_95": 2, "upper_99_8": 2, "overall_rate": 4})


DENSITY_ABOVE = 2_000   # homes on the funnel beyond which the dashboard shades those not above the limits
# On a large funnel the homes in these positions are shaded by how many lie in each cell of
# the chart (`density_trace`) instead of drawn one by one; the homes above the limits stay
# markers. A browser takes most of a second to draw thousands of markers, with SVG or with
# WebGL (which headless and GPU-less browsers draw in software): nationally 12,297 homes are
# placed, 9,796 of them within or below the limits.
SHADED = (WITHIN, BELOW_95, BELOW_998)
DENSITY_NAME = "Within or below the limits (shaded: homes per cell)"
# The shaded layer's cells across the x axis and up the y axis: about a marker's size each
# at the page's width.
DENSITY_CELLS = (60, 60)
# The dashboard's funnel leaves room for its axis labels and its legend below the plot (three
# rows at the page's width): when a label or the legend needs more room than the margins give,
# Plotly draws the whole figure a second time (automargin), and with thousands of homes the
# drawing is most of the page's time. The figure is taller by as much, so the plot keeps its size.
FUNNEL_PAGE_LAYOUT = {"margin": {"l": 80, "b": 200}, "height": 594}


def funnel_figure(frame: pd.DataFrame, density_above: int | None = None, layout: dict | None = None) -> go.Figure:
    """The funnel plot. Built as plain dicts in one go (a national store has thousands of
    homes: one validated graph_objects call per trace and per update costs more than the
    data). Only the OUTLIERS_NAMED outliers with the highest rates carry a name on the
    chart, drawn as a trace of their own over the other outliers (one legend entry for
    both); every marker names its home on hover. With more than `density_above` homes (the
    dashboard passes DENSITY_ABOVE), the homes within or below the limits (SHADED) are one
    shaded layer of how many lie in each cell of the chart, and only the homes above the
    limits are markers; the board pack draws every home (None). `layout` is merged over the
    figure's layout (the dashboard passes FUNNEL_PAGE_LAYOUT)."""
    placed = frame[frame["position"] != NO_YEARS]
    if placed.empty or placed["overall_rate"].isna().all():
        return empty_figure("No placement days at children's homes in this period")
    overall = float(placed["overall_rate"].iloc[0])
    x_max = float(placed["placed_child_years"].max()) * 1.08
    x_min = max(min(float(placed["placed_child_years"].min()), x_max / 40), 1e-3)
    x = np.linspace(x_min, x_max, 240)
    traces = []
    for level, dash, width in (("99.8", "dot", 2), ("95", "dash", 2)):
        low, high = LIMITS[level]
        for bound, name in ((high, f"{level}% upper limit"), (low, f"{level}% lower limit")):
            traces.append({
                "type": "scatter", "x": x.round(5), "y": (poisson_limit(overall * x, bound) / x).round(5),
                "mode": "lines", "name": name, "legendgroup": level, "showlegend": bound == high,
                "line": {"color": "#505a5f", "dash": dash, "width": width},
                "hovertemplate": f"{level}% limit<br>%{{x:.2f}} years: %{{y:.2f}} per year<extra></extra>",
            })
    traces.append({"type": "scatter", "x": [x_min, x_max], "y": [overall, overall], "mode": "lines",
                   "name": f"Overall rate ({overall:.2f})", "line": {"color": PALETTE[7], "width": 2},
                   "hoverinfo": "skip"})
    # Very small denominators give huge rates: keep the axis on the homes with at least
    # 0.1 placed-child-years and draw any home beyond it at the top edge, marked off scale.
    steady = placed[placed["placed_child_years"] >= 0.1]
    y_top = max(float(steady["rate"].max()) if len(steady) else 0.0, overall * 3) * 1.15
    # Off-scale homes are stacked down from the top edge (highest rate first) so labels do not collide.
    beyond = placed[placed["rate"] > y_top].sort_values("rate", ascending=False)
    shown_y = placed["rate"].copy()
    shown_y[beyond.index] = [y_top * (0.97 - 0.07 * i) for i in range(len(beyond))]
    named = placed.index.isin(placed[placed["position"] == OUTLIER].sort_values("rate", ascending=False)
                              .head(OUTLIERS_NAMED).index)
    shaded = (placed["position"].isin(SHADED).to_numpy() if shades(frame, density_above)
              else np.zeros(len(placed), dtype=bool))
    for position, style in POSITION_STYLE.items():
        if position in SHADED and shaded.any():
            if position == SHADED[0]:
                traces.append(density_trace(placed[shaded], shown_y, x_max, y_top))
            continue
        if position != OUTLIER:
            traces.append(_homes_trace(placed[placed["position"] == position], shown_y, y_top, position, style))
            continue
        # The outliers in two traces, one legend entry: those not named, then the named ones
        # over them with their labels.
        outliers = (placed["position"] == position).to_numpy()
        rest = _homes_trace(placed[outliers & ~named], shown_y, y_top, position, style)
        labelled = _homes_trace(placed[outliers & named], shown_y, y_top, position, style, with_names=True)
        if rest is not None and labelled is not None:
            rest["legendgroup"] = labelled["legendgroup"] = "outlier"
            labelled["showlegend"] = False
        traces.extend([rest, labelled])
    traces = [trace for trace in traces if trace is not None]
    return figure_from(traces, merged_layout({
        "xaxis": {"title": {"text": "Placed-child-years in the period"}, "range": [0, x_max]},
        "yaxis": {"title": {"text": "Episodes per placed-child-year"}, "range": [0, y_top]},
        "legend": {"orientation": "h", "y": -0.16, "yanchor": "top"}, "margin": {"b": 150},
    }, layout or {}), height=560)


def shades(frame: pd.DataFrame, density_above: int | None) -> bool:
    """The funnel of `frame` shades its homes within or below the limits (more than
    `density_above` homes placed)."""
    return density_above is not None and int((frame["position"] != NO_YEARS).sum()) > density_above


def shaded_words(frame: pd.DataFrame, density_above: int | None) -> str:
    """What a shaded funnel draws, for its summary ("" when it draws every home)."""
    shaded = int(frame["position"].isin(SHADED).sum())
    if not shades(frame, density_above) or not shaded:
        return ""
    above = int(frame["position"].isin((OUTLIER, ABOVE_95)).sum())
    return (f" The chart shades the {shaded:,} {'home' if shaded == 1 else 'homes'} within or below the limits by "
            f"how many lie in each part of it (hover for the counts)"
            + (f" and draws the {above:,} above them one by one" if above else "")
            + "; the table and the chart's data list every home.")


def density_trace(homes: pd.DataFrame, shown_y: pd.Series, x_max: float, y_top: float) -> dict:
    """`homes` as a heatmap of how many lie in each cell of the chart (DENSITY_CELLS across
    the axes' ranges), counted here: the counts reach the browser, not the homes (they are in
    the chart's table and data). Empty cells are blank; hovering a cell says how many homes it
    holds, by position, and its ranges of placed-child-years and rates."""
    across, up = DENSITY_CELLS
    x_edges = np.linspace(0.0, x_max, across + 1)
    y_edges = np.linspace(0.0, y_top, up + 1)
    # The cell of each home (a home on the axes' top or right edge is in the last cell).
    column = np.clip(np.searchsorted(x_edges, homes["placed_child_years"].to_numpy(dtype=float), side="right") - 1,
                     0, across - 1)
    row = np.clip(np.searchsorted(y_edges, shown_y[homes.index].to_numpy(dtype=float), side="right") - 1, 0, up - 1)
    positions = [position for position in SHADED if (homes["position"] == position).any()]
    by_position = {position: np.zeros((up, across), dtype=int) for position in positions}
    for position, counts in by_position.items():
        mine = (homes["position"] == position).to_numpy()
        np.add.at(counts, (row[mine], column[mine]), 1)
    total = sum(by_position.values())
    z, text = [], []
    for j in range(up):
        z.append([int(n) if n else None for n in total[j].tolist()])
        text.append([_cell_words(j, i, by_position, x_edges, y_edges) if total[j, i] else None
                     for i in range(across)])
    return {
        "type": "heatmap", "z": z, "text": text, "name": DENSITY_NAME, "showlegend": True,
        "x0": float(x_edges[1] / 2), "dx": float(x_edges[1]), "y0": float(y_edges[1] / 2), "dy": float(y_edges[1]),
        "colorscale": [[0, "#cfe3f2"], [1, PALETTE[0]]], "zmin": 1, "zmax": max(int(total.max()), 2),
        # The colour scale inside the plot's top right corner (the funnel's emptiest part): it
        # needs no margin of its own, so Plotly draws the figure once.
        "showscale": True, "colorbar": {
            "title": {"text": "Homes per cell (within or below the limits)", "side": "top", "font": {"size": 12}},
            "orientation": "h", "x": 1, "xanchor": "right", "y": 1, "yanchor": "top", "len": 0.4,
            "thickness": 10, "outlinewidth": 0, "tickfont": {"size": 11}, "bgcolor": "rgba(255,255,255,0.85)"},
        "hoverongaps": False, "hovertemplate": "%{text}<extra></extra>",
    }


def _cell_words(j: int, i: int, by_position: dict, x_edges: np.ndarray, y_edges: np.ndarray) -> str:
    counts = {position: int(counts[j, i]) for position, counts in by_position.items() if counts[j, i]}
    total = sum(counts.values())
    return (f"{total:,} {'home' if total == 1 else 'homes'} here: "
            + ", ".join(f"{n:,} {position}" for position, n in counts.items())
            + f"<br>{x_edges[i]:.2f}–{x_edges[i + 1]:.2f} placed-child-years, "
              f"{y_edges[j]:.1f}–{y_edges[j + 1]:.1f} per year")


def _homes_trace(points: pd.DataFrame, shown_y: pd.Series, y_top: float, position: str, style: tuple,
                 with_names: bool = False) -> dict | None:
    """One marker trace of the funnel: the homes of one position (None: no such home)."""
    if points.empty:
        return None
    colour, symbol, size = style
    rates = points["rate"].to_numpy(dtype=float)
    labels = [f"{name} ({rate:.0f} per year, off scale)" if rate > y_top else name
              for name, rate in zip(points["home_name"].tolist(), rates.tolist())]
    trace = {
        # Single precision is ample for positions and hover figures and halves the payload.
        "type": "scatter",
        "x": points["placed_child_years"].to_numpy(dtype=np.float32),
        "y": shown_y[points.index].to_numpy(dtype=np.float32),
        "name": position.capitalize(), "mode": "markers+text" if with_names else "markers",
        "hovertext": labels,
        "marker": {"color": colour, "symbol": symbol, "size": size, "line": {"color": PALETTE[7], "width": 1}},
        "customdata": np.column_stack([points["episodes"].to_numpy(dtype=float),
                                       points["expected"].to_numpy(dtype=float), rates]).astype(np.float32),
        "hovertemplate": "%{hovertext}<br>%{customdata[0]:.0f} episodes (expected %{customdata[1]:.1f})<br>"
                         "%{x:.2f} placed-child-years<br>%{customdata[2]:.2f} per year<extra></extra>",
        "cliponaxis": False,
    }
    if with_names:
        trace.update(text=labels, textposition="middle right", textfont={"size": 12, "color": PALETTE[7]})
    return trace


def funnel_summary(frame: pd.DataFrame) -> str:
    placed = frame[frame["position"] != NO_YEARS]
    if placed.empty or placed["overall_rate"].isna().all():
        return "No children's home had placement days in this period, so no rates can be compared."
    overall = float(placed["overall_rate"].iloc[0])
    outliers = placed[placed["position"] == OUTLIER].sort_values("rate", ascending=False)
    above = placed[placed["position"] == ABOVE_95]
    text = (f"{len(placed)} homes had children placed in the period: {int(placed['episodes'].sum()):,} episodes "
            f"over {placed['placed_child_years'].sum():.1f} placed-child-years, an overall rate of {overall:.2f} "
            f"episodes per placed-child-year. ")
    if outliers.empty:
        text += "No home is above the 99.8% control limit"
    else:
        named = "; ".join(f"{r.home_name} ({r.episodes} episodes against {r.expected:.1f} expected, "
                          f"{r.rate:.1f} per year)" for r in outliers.head(OUTLIERS_NAMED).itertuples())
        if len(outliers) > OUTLIERS_NAMED:
            named += f"; and {len(outliers) - OUTLIERS_NAMED:,} more, in the table"
        text += f"{len(outliers)} above the 99.8% limit (outliers): {named}"
    text += f"; {len(above)} more above the 95% limit only."
    no_years = frame[(frame["position"] == NO_YEARS) & (frame["episodes"] > 0)]
    if len(no_years):
        text += (f" {int(no_years['episodes'].sum())} episodes at {len(no_years)} homes with no placement days "
                 f"recorded have no rate.")
    not_ours = int(frame["episodes_child_not_in_ssda903"].sum())
    if not_ours:
        text += (f" {not_ours} episodes are of children not in this authority's SSDA903 return (for example placed "
                 f"here by another authority): their placement days are unknown, so rates that include them are "
                 f"overstated.")
    return text


def default_home(frame: pd.DataFrame) -> str | None:
    """The first outlier (highest rate), else the home with most episodes."""
    if frame.empty:
        return None
    outliers = frame[frame["position"] == OUTLIER].sort_values("rate", ascending=False)
    if len(outliers):
        return str(outliers["urn"].iloc[0])
    return str(frame.sort_values(["episodes", "home_name"], ascending=[False, True])["urn"].iloc[0])


def home_options(frame: pd.DataFrame) -> list[dict]:
    shown = frame.sort_values("home_name")
    return [{"label": f"{name} ({episodes} episodes)" if name != urn
             else f"{urn} (not in homes list; {episodes} episodes)", "value": urn}
            for name, urn, episodes in zip(shown["home_name"].tolist(), shown["urn"].tolist(),
                                           shown["episodes"].tolist())]


def monthly_figure(frame: pd.DataFrame, home_name: str) -> go.Figure:
    if frame.empty or not frame["episodes"].sum():
        return empty_figure(f"No episodes at {home_name} in this period")
    episodes = frame["episodes"].to_numpy()
    return figure_from([{
        "type": "bar", "x": frame["month"].to_numpy(), "y": episodes, "name": "Episodes",
        "marker": {"color": PALETTE[0]}, "text": episodes, "textposition": "outside",
        "hovertemplate": "%{x|%b %Y}: %{y} episodes<extra></extra>",
    }], {
        "xaxis": {"title": {"text": "Month episode started"}, "dtick": "M1", "tickformat": "%b %Y"},
        "yaxis": {"title": {"text": "Episodes"}, "range": [0, float(frame["episodes"].max()) * 1.2 + 0.5]},
        # Room for the axis labels: a figure that needs more is drawn twice (automargin).
        "margin": {"l": 70, "b": 70},
    }, title=f"{home_name}: episodes by month", height=360)


def monthly_summary(frame: pd.DataFrame, home_name: str) -> str:
    total = int(frame["episodes"].sum()) if len(frame) else 0
    if not total:
        return f"No episodes at {home_name} in this period."
    busiest = frame.loc[frame["episodes"].idxmax()]
    return (f"{total} episodes at {home_name} over {len(frame)} months; the busiest month was "
            f"{pd.Timestamp(busiest['month']):%B %Y} with {int(busiest['episodes'])}.")


def hour_day_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts as a 7 × 24 grid (Monday first, hours 0–23) from the timed rows."""
    timed = frame.dropna(subset=["day_of_week", "hour"])
    grid = np.zeros((7, 24), dtype=int)
    for row in timed.itertuples():
        grid[int(row.day_of_week) - 1, int(row.hour)] += int(row.episodes)
    return pd.DataFrame(grid, index=list(DAYS), columns=list(range(24)))


def untimed_count(frame: pd.DataFrame) -> int:
    return int(frame.loc[frame["day_of_week"].isna(), "episodes"].sum()) if len(frame) else 0


def hour_day_figure(frame: pd.DataFrame, home_name: str) -> go.Figure:
    matrix = hour_day_matrix(frame)
    if not matrix.to_numpy().sum():
        return empty_figure(f"No police-known episodes with a start time at {home_name}")
    counts = matrix.to_numpy()
    text = [[str(v) if v else "" for v in row] for row in counts]
    return figure_from([{
        "type": "heatmap", "z": counts, "x": [f"{h:02d}" for h in matrix.columns], "y": list(matrix.index),
        "text": text, "texttemplate": "%{text}", "textfont": {"size": 12},
        "colorscale": [[0, "#ffffff"], [0.01, "#deebf7"], [1, PALETTE[0]]], "zmin": 0,
        "colorbar": {"title": {"text": "Episodes"}, "dtick": max(1, int(np.ceil(counts.max() / 5)))},
        "xgap": 1, "ygap": 1,
        "hovertemplate": "%{y} %{x}:00–%{x}:59: %{z} episodes<extra></extra>",
    }], {
        "xaxis": {"title": {"text": "Hour the child was last seen"}, "type": "category"},
        "yaxis": {"autorange": "reversed", "type": "category", "rangemode": "normal"},
    }, title=f"{home_name}: when episodes start", height=380)


def hour_day_summary(frame: pd.DataFrame, home_name: str) -> str:
    matrix = hour_day_matrix(frame)
    total, untimed = int(matrix.to_numpy().sum()), untimed_count(frame)
    left_out = (f" {untimed} SSDA903-only episodes have no time and are left out." if untimed
                else " No episodes were left out for lack of a time.")
    if not total:
        return f"No police-known episodes with a start time at {home_name}.{left_out}"
    hours = matrix.sum(axis=0)
    days = matrix.sum(axis=1)
    evening = int(matrix.loc[:, [h for h in range(24) if h >= 18 or h < 6]].to_numpy().sum())
    busiest_day, busiest_hour = DAY_NAMES[days.idxmax()], int(hours.idxmax())
    return (f"{total} police-known episodes at {home_name} by the time the child was last seen: most often on "
            f"{busiest_day}s ({int(days.max())}) and at {busiest_hour:02d}:00 ({int(hours.max())}); "
            f"{evening} ({100 * evening / total:.0f}%) began between 18:00 and 06:00.{left_out}")


def hour_day_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The heatmap's data in long form for the table and CSV."""
    matrix = hour_day_matrix(frame)
    long = matrix.stack().reset_index()
    long.columns = ["day", "hour", "episodes"]
    return long[long["episodes"] > 0].reset_index(drop=True)
