"""Figures and words of the Children's homes page: the funnel plot of episode rates per
placed-child-year, a home's monthly trend and its hour-of-day by day-of-week pattern."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy.special import ndtri, pdtr

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
# Where `outlier_frame` puts every home with placement days that is not an outlier (it does
# not work out the limits that would place it further).
NOT_OUTLIER = "not above 99.8% limit"
# Outliers named on the funnel plot and in its summary (highest rates first): a national
# store can have hundreds; the rest are named on hover and in the table and data.
OUTLIERS_NAMED = 20
# The table beside the funnel lists the homes in this order of position.
TABLE_ORDER = (OUTLIER, ABOVE_95, WITHIN, BELOW_95, BELOW_998, NO_YEARS)
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
    scipy.stats.poisson.ppf, many times faster for the thousands of homes of a national
    store (see `_quantile_and_cdf`; worked out once per distinct mu)."""
    mu = np.asarray(mu, dtype=float)
    values, inverse = np.unique(mu, return_inverse=True)
    return _quantile_and_cdf(p, values)[0][inverse].reshape(mu.shape)


def _quantile_and_cdf(p: float, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each mu (a 1-d array): r, the smallest integer >= 0 with F(r) >= p, and F(r) and
    F(r - 1) (0 at r = 0), F the exact Poisson(mu) CDF (scipy's pdtr). From a Cornish-Fisher
    start, whole steps up while F(r) < p, then down while F(r - 1) >= p, each step working
    out F only for the values still moving (nearly every start is right or one step off).
    A NaN mu gives NaN throughout."""
    z = ndtri(p)   # the standard normal quantile (norm.ppf without its overhead)
    with np.errstate(invalid="ignore"):
        r = np.maximum(np.floor(mu + z * np.sqrt(mu) + (z * z - 1) / 6), 0.0)
    r = np.where(np.isnan(mu), np.nan, r)
    upper = pdtr(r, mu)
    moving = np.flatnonzero(upper < p)
    for _ in range(1000):
        if not moving.size:
            break
        r[moving] += 1
        upper[moving] = pdtr(r[moving], mu[moving])
        moving = moving[upper[moving] < p]
    lower = _cdf_below(r, mu)
    moving = np.flatnonzero((r > 0) & (lower >= p))
    for _ in range(1000):
        if not moving.size:
            break
        r[moving] -= 1
        upper[moving] = lower[moving]
        lower[moving] = _cdf_below(r[moving], mu[moving])
        moving = moving[(r[moving] > 0) & (lower[moving] >= p)]
    return r, upper, lower


def _cdf_below(r: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """F(r - 1) of a Poisson(mu) count, 0 at r = 0."""
    return np.where(r > 0, pdtr(np.maximum(r - 1, 0), mu), 0.0)


def poisson_limit(expected, p: float) -> np.ndarray:
    """The p-quantile of a Poisson(expected) count, interpolated between the integers so
    the limit is a smooth curve (Spiegelhalter 2005): r = the smallest count with
    F(r) >= p, limit = r - (F(r) - p) / (F(r) - F(r - 1)). Exact at the integer steps.
    Worked out once per distinct expected value (a national store's homes share a few
    thousand: expected counts follow from whole placement days)."""
    mu = np.atleast_1d(np.asarray(expected, dtype=float))
    values, inverse = np.unique(mu, return_inverse=True)
    return _limit_of_distinct(values, p)[inverse].reshape(mu.shape)


def _limit_of_distinct(mu: np.ndarray, p: float) -> np.ndarray:
    """`poisson_limit` of each value of the 1-d array `mu`."""
    r, upper, lower = _quantile_and_cdf(p, mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(upper > lower, (upper - p) / (upper - lower), 0.0)
    return np.clip(r - alpha, 0.0, None)


def overall_rate(rates: pd.DataFrame) -> float | None:
    """Episodes per placed-child-year over the homes with placement days in the period."""
    placed = rates["placed_child_years"] > 0
    years = rates["placed_child_years"][placed].sum()
    return float(rates["episodes"][placed].sum() / years) if years > 0 else None


def _rates(rates: pd.DataFrame) -> tuple[float | None, np.ndarray, dict]:
    """What every funnel frame starts from: the overall rate, which homes have placement
    days, and their rate and expected episodes (overall rate × the home's years) as columns."""
    overall = overall_rate(rates)
    years = rates["placed_child_years"].astype(float)
    has_years = (years > 0).to_numpy()
    rate = np.where(has_years, (rates["episodes"] / years.where(has_years)).to_numpy(dtype=float), np.nan)
    expected = years * overall if overall is not None else pd.Series(np.nan, index=rates.index)
    return overall, has_years, {"rate": rate, "expected": expected.to_numpy(dtype=float)}


def _limits(expected: np.ndarray, has_years: np.ndarray, levels: dict) -> dict:
    """{name: the p-quantile control limit of each home with placement days (NaN for the
    others)} for each {name: p} of `levels`, worked out once per distinct expected value."""
    values, inverse = np.unique(np.nan_to_num(expected, nan=0.0), return_inverse=True)
    return {name: np.where(has_years, _limit_of_distinct(values, p)[inverse], np.nan) for name, p in levels.items()}


def _with_columns(rates: pd.DataFrame, columns: dict, overall: float | None) -> pd.DataFrame:
    """`rates` and `columns` after it, then the overall rate, in one new frame (one copy,
    not one per column)."""
    added = pd.DataFrame(columns, index=rates.index)
    added["overall_rate"] = overall
    return pd.concat([rates, added], axis=1)


def funnel_frame(rates: pd.DataFrame) -> pd.DataFrame:
    """The homes table: rate, expected episodes (overall rate × the home's years), the
    control limits as counts at that expected value, and where the home lies against them."""
    overall, has_years, columns = _rates(rates)
    columns.update(_limits(columns["expected"], has_years, {
        f"{side}_{level.replace('.', '_')}": p for level, (low, high) in LIMITS.items()
        for side, p in (("lower", low), ("upper", high))}))

    # Where each home lies, the first test that holds (vectorised: thousands of homes
    # nationally). A NaN count compares false everywhere: within limits.
    episodes = rates["episodes"].astype(float).to_numpy()
    no_years = ~has_years | (overall is None)
    with np.errstate(invalid="ignore"):
        columns["position"] = np.select(
            [no_years, episodes > columns["upper_99_8"], episodes > columns["upper_95"],
             episodes < columns["lower_99_8"], episodes < columns["lower_95"]],
            [NO_YEARS, OUTLIER, ABOVE_95, BELOW_998, BELOW_95], default=WITHIN).astype(object)
    return _with_columns(rates, columns, overall)


def outlier_frame(rates: pd.DataFrame) -> pd.DataFrame:
    """The funnel's homes with only what picking a home needs: their rate, expected episodes,
    the upper 99.8% limit and a position that is OUTLIER exactly where `funnel_frame`'s is
    (NO_YEARS where it is, NOT_OUTLIER for every other home); the other three limits, which
    place the homes that are not outliers, are not worked out."""
    overall, has_years, columns = _rates(rates)
    columns.update(_limits(columns["expected"], has_years, {"upper_99_8": LIMITS["99.8"][1]}))
    episodes = rates["episodes"].astype(float).to_numpy()
    no_years = ~has_years | (overall is None)
    with np.errstate(invalid="ignore"):
        columns["position"] = np.select([no_years, episodes > columns["upper_99_8"]], [NO_YEARS, OUTLIER],
                                        default=NOT_OUTLIER).astype(object)
    return _with_columns(rates, columns, overall)


def homes_table(frame: pd.DataFrame, top: int | None = HOMES_TABLE_ROWS) -> pd.DataFrame:
    """The table beside the funnel: worst first (outliers, then by how far above expected),
    the first `top` homes (None: all; every home is in the funnel's data table and CSV).
    Ordered on arrays (a stable sort, as pandas sorts by two columns) and only the rows
    shown are taken from the frame."""
    order = np.full(len(frame), len(TABLE_ORDER))     # a position not listed: last
    for rank, where in enumerate(TABLE_ORDER):
        order[(frame["position"] == where).to_numpy()] = rank
    excess = (frame["episodes"] - frame["expected"].fillna(0)).to_numpy(dtype=float)
    ranked = np.lexsort((-excess, order))
    shown = frame.iloc[ranked if top is None else ranked[:top]]
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
    data), from the frame's columns as arrays (selecting rows of the whole frame for each
    trace cost more than the traces). Only the OUTLIERS_NAMED outliers with the highest
    rates carry a name on the chart, drawn as a trace of their own over the other outliers
    (one legend entry for both); every marker names its home on hover. With more than
    `density_above` homes (the dashboard passes DENSITY_ABOVE), the homes within or below
    the limits (SHADED) are one shaded layer of how many lie in each cell of the chart, and
    only the homes above the limits are markers; the board pack draws every home (None).
    `layout` is merged over the figure's layout (the dashboard passes FUNNEL_PAGE_LAYOUT)."""
    on_chart = (frame["position"] != NO_YEARS).to_numpy()
    overall_rates = frame["overall_rate"][on_chart]
    if not on_chart.any() or overall_rates.isna().all():
        return empty_figure("No placement days at children's homes in this period")
    overall = float(overall_rates.iloc[0])
    # The homes on the chart, as arrays in the frame's order (positions, not labels).
    years = frame["placed_child_years"][on_chart].to_numpy(dtype=float)
    rates = pd.Series(frame["rate"][on_chart].to_numpy(dtype=float))
    position = frame["position"][on_chart].reset_index(drop=True)
    x_max = float(np.nanmax(years)) * 1.08
    x_min = max(min(float(np.nanmin(years)), x_max / 40), 1e-3)
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
    steady = years >= 0.1
    y_top = max(float(rates[steady].max()) if steady.any() else 0.0, overall * 3) * 1.15
    # Off-scale homes are stacked down from the top edge (highest rate first) so labels do not collide.
    beyond = rates[rates > y_top].sort_values(ascending=False)
    shown_y = rates.to_numpy(copy=True)
    shown_y[beyond.index.to_numpy()] = [y_top * (0.97 - 0.07 * i) for i in range(len(beyond))]
    homes = {"years": years, "shown_y": shown_y, "rates": rates.to_numpy(),
             "names": frame["home_name"][on_chart].to_numpy(dtype=object),
             "episodes": frame["episodes"][on_chart].to_numpy(dtype=float),
             "expected": frame["expected"][on_chart].to_numpy(dtype=float)}
    at = {where: (position == where).to_numpy() for where in POSITION_STYLE}
    named = np.zeros(len(years), dtype=bool)
    named[rates[at[OUTLIER]].sort_values(ascending=False).head(OUTLIERS_NAMED).index] = True
    shaded = (position.isin(SHADED).to_numpy() if shades(frame, density_above)
              else np.zeros(len(years), dtype=bool))
    for where, style in POSITION_STYLE.items():
        if where in SHADED and shaded.any():
            if where == SHADED[0]:
                traces.append(density_trace(years[shaded], shown_y[shaded], position[shaded].to_numpy(),
                                            x_max, y_top))
            continue
        if where != OUTLIER:
            traces.append(_homes_trace(homes, at[where], y_top, where, style))
            continue
        # The outliers in two traces, one legend entry: those not named, then the named ones
        # over them with their labels.
        rest = _homes_trace(homes, at[where] & ~named, y_top, where, style)
        labelled = _homes_trace(homes, at[where] & named, y_top, where, style, with_names=True)
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


def density_trace(years: np.ndarray, shown_y: np.ndarray, position: np.ndarray, x_max: float, y_top: float) -> dict:
    """Homes (their placed-child-years, height on the chart and position, as arrays) as a
    heatmap of how many lie in each cell of the chart (DENSITY_CELLS across the axes'
    ranges), counted here: the counts reach the browser, not the homes (they are in the
    chart's table and data). Empty cells are blank; hovering a cell says how many homes it
    holds, by position, and its ranges of placed-child-years and rates."""
    across, up = DENSITY_CELLS
    x_edges = np.linspace(0.0, x_max, across + 1)
    y_edges = np.linspace(0.0, y_top, up + 1)
    # The cell of each home (a home on the axes' top or right edge is in the last cell).
    column = np.clip(np.searchsorted(x_edges, np.asarray(years, dtype=float), side="right") - 1, 0, across - 1)
    row = np.clip(np.searchsorted(y_edges, np.asarray(shown_y, dtype=float), side="right") - 1, 0, up - 1)
    by_position = {}
    for where in SHADED:
        mine = position == where
        if mine.any():
            by_position[where] = np.zeros((up, across), dtype=int)
            np.add.at(by_position[where], (row[mine], column[mine]), 1)
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


def _homes_trace(homes: dict, chosen: np.ndarray, y_top: float, position: str, style: tuple,
                 with_names: bool = False) -> dict | None:
    """One marker trace of the funnel: the homes `chosen` (a mask over the arrays of `homes`)
    of one position (None: no such home)."""
    if not chosen.any():
        return None
    colour, symbol, size = style
    rates = homes["rates"][chosen]
    labels = [f"{name} ({rate:.0f} per year, off scale)" if rate > y_top else name
              for name, rate in zip(homes["names"][chosen].tolist(), rates.tolist())]
    trace = {
        # Single precision is ample for positions and hover figures and halves the payload.
        "type": "scatter",
        "x": homes["years"][chosen].astype(np.float32),
        "y": homes["shown_y"][chosen].astype(np.float32),
        "name": position.capitalize(), "mode": "markers+text" if with_names else "markers",
        "hovertext": labels,
        "marker": {"color": colour, "symbol": symbol, "size": size, "line": {"color": PALETTE[7], "width": 1}},
        "customdata": np.column_stack([homes["episodes"][chosen], homes["expected"][chosen], rates]).astype(np.float32),
        "hovertemplate": "%{hovertext}<br>%{customdata[0]:.0f} episodes (expected %{customdata[1]:.1f})<br>"
                         "%{x:.2f} placed-child-years<br>%{customdata[2]:.2f} per year<extra></extra>",
        "cliponaxis": False,
    }
    if with_names:
        trace.update(text=labels, textposition="middle right", textfont={"size": 12, "color": PALETTE[7]})
    return trace


def funnel_summary(frame: pd.DataFrame) -> str:
    position = frame["position"]
    on_chart = position != NO_YEARS
    overall_rates = frame["overall_rate"][on_chart]
    if not on_chart.any() or overall_rates.isna().all():
        return "No children's home had placement days in this period, so no rates can be compared."
    overall = float(overall_rates.iloc[0])
    # Column by column: only the named outliers' rows are taken from the frame.
    is_outlier = (position == OUTLIER).to_numpy()
    ranked = pd.Series(frame["rate"][is_outlier].to_numpy()).sort_values(ascending=False).index.to_numpy()
    outliers = frame.iloc[np.flatnonzero(is_outlier)[ranked[:OUTLIERS_NAMED]]]
    above = int((position == ABOVE_95).sum())
    text = (f"{int(on_chart.sum())} homes had children placed in the period: "
            f"{int(frame['episodes'][on_chart].sum()):,} episodes over "
            f"{frame['placed_child_years'][on_chart].sum():.1f} placed-child-years, an overall rate of {overall:.2f} "
            f"episodes per placed-child-year. ")
    if not len(ranked):
        text += "No home is above the 99.8% control limit"
    else:
        named = "; ".join(f"{r.home_name} ({r.episodes} episodes against {r.expected:.1f} expected, "
                          f"{r.rate:.1f} per year)" for r in outliers.itertuples())
        if len(ranked) > OUTLIERS_NAMED:
            named += f"; and {len(ranked) - OUTLIERS_NAMED:,} more, in the table"
        text += f"{len(ranked)} above the 99.8% limit (outliers): {named}"
    text += f"; {above} more above the 95% limit only."
    no_years = (position == NO_YEARS) & (frame["episodes"] > 0)
    if no_years.any():
        text += (f" {int(frame['episodes'][no_years].sum())} episodes at {int(no_years.sum())} homes with no "
                 f"placement days recorded have no rate.")
    not_ours = int(frame["episodes_child_not_in_ssda903"].sum())
    if not_ours:
        text += (f" {not_ours} episodes are of children not in this authority's SSDA903 return (for example placed "
                 f"here by another authority): their placement days are unknown, so rates that include them are "
                 f"overstated.")
    return text


def default_home(frame: pd.DataFrame) -> str | None:
    """The first outlier (highest rate), else the home with most episodes. Sorted on the
    columns it needs (sorting the whole frame copied every column)."""
    if frame.empty:
        return None
    is_outlier = (frame["position"] == OUTLIER).to_numpy()
    if is_outlier.any():
        first = pd.Series(frame["rate"][is_outlier].to_numpy()).sort_values(ascending=False).index[0]
        return str(frame["urn"].iloc[np.flatnonzero(is_outlier)[first]])
    busiest = frame[["episodes", "home_name"]].reset_index(drop=True).sort_values(
        ["episodes", "home_name"], ascending=[False, True]).index[0]
    return str(frame["urn"].iloc[busiest])


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
    day = frame["day_of_week"].to_numpy(dtype=float, na_value=np.nan)
    hour = frame["hour"].to_numpy(dtype=float, na_value=np.nan)
    timed = ~(np.isnan(day) | np.isnan(hour))
    grid = np.zeros((7, 24), dtype=int)
    np.add.at(grid, (day[timed].astype(int) - 1, hour[timed].astype(int)),
              frame["episodes"].to_numpy()[timed].astype(int))
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
