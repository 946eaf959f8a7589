"""Figures and words of the Care and placements page, from DataFrames of queries/metrics/care.sql."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.common import PALETTE, empty_figure, figure_from


def _n(count: int, singular: str, plural: str | None = None) -> str:
    """'1 child', '2 children': the count with its noun in the right number."""
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"


SOURCE_STYLE = {
    "From care": {"color": PALETTE[5], "pattern": "/"},
    "From home": {"color": PALETTE[0], "pattern": ""},
}
BAND_PATTERNS = {"under 10 miles": "", "10-20 miles": ".", "over 20 miles": "/", "unknown": "x"}


def source_by_month_figure(frame: pd.DataFrame) -> go.Figure:
    """Stacked bars by month: from care (hatched) and from home (plain)."""
    if frame.empty:
        return empty_figure("No episodes in this period")
    traces = []
    for source, style in SOURCE_STYLE.items():
        rows = frame[frame["source"] == source]
        if rows.empty:
            continue
        traces.append({"type": "bar", "x": rows["month"].tolist(), "y": rows["episodes"].tolist(), "name": source,
                       "marker": {"color": style["color"],
                                  "pattern": {"shape": style["pattern"], "fgcolor": "#ffffff"},
                                  "line": {"color": "#0b0c0c", "width": 1}},
                       "hovertemplate": "%{x|%b %Y}: %{y:,} episodes<extra>" + source + "</extra>"})
    return figure_from(traces, {
        "barmode": "stack",
        "xaxis": {"title": {"text": "Month episode started"}, "dtick": "M1", "tickformat": "%b %Y"},
        "yaxis": {"title": {"text": "Episodes"}},
    })


def source_summary(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "No episodes in this period."
    totals = frame.groupby("source")["episodes"].sum()
    total = int(totals.sum())
    care = int(totals.get("From care", 0))
    return (f"{_n(total, 'episode')} over {_n(frame['month'].nunique(), 'month')}: {care:,} from care "
            f"({100 * care / total:.1f}%) and {total - care:,} from home.")


def away_figure(frame: pd.DataFrame) -> go.Figure:
    """Top: 'away' episodes by month (bars). Bottom: their share of from-care episodes (line)."""
    if frame.empty or not frame["from_care_episodes"].sum():
        return empty_figure("No episodes from care in this period")
    months = frame["month"].to_numpy()
    traces = [
        {"type": "bar", "x": months, "y": frame["away_episodes"].to_numpy(), "name": "Away episodes",
         "xaxis": "x", "yaxis": "y", "marker": {"color": PALETTE[2], "line": {"color": "#0b0c0c", "width": 1}},
         "text": frame["away_episodes"].to_numpy(), "textposition": "outside", "cliponaxis": False,
         "hovertemplate": "%{x|%b %Y}: %{y:,} away episodes<extra></extra>"},
        {"type": "scatter", "x": months, "y": frame["away_share_of_from_care_pct"].to_numpy(),
         "name": "Share of from-care episodes", "mode": "lines+markers", "xaxis": "x2", "yaxis": "y2",
         "line": {"color": PALETTE[3], "width": 3, "dash": "dash"}, "marker": {"symbol": "square", "size": 8},
         "hovertemplate": "%{x|%b %Y}: %{y:.1f}% of from-care episodes<extra></extra>"},
    ]
    # Two rows sharing the month axis (the layout make_subplots(rows=2, shared_xaxes=True,
    # vertical_spacing=0.12) gives), each axis styled as figure_from styles the first pair.
    x_axis = {"showgrid": False, "linecolor": "#505a5f", "dtick": "M1", "tickformat": "%b %Y"}
    y_axis = {"gridcolor": "#dddddd", "linecolor": "#505a5f", "rangemode": "tozero"}
    subplot_title = {"font": {"size": 16}, "showarrow": False, "x": 0.5, "xanchor": "center", "xref": "paper",
                     "yanchor": "bottom", "yref": "paper"}
    return figure_from(traces, {
        "xaxis": {**x_axis, "anchor": "y", "domain": [0.0, 1.0], "matches": "x2", "showticklabels": False},
        "xaxis2": {**x_axis, "anchor": "y2", "domain": [0.0, 1.0], "title": {"text": "Month episode started"}},
        "yaxis": {**y_axis, "anchor": "x", "domain": [0.56, 1.0], "title": {"text": "Episodes"},
                  "range": [0, 1.25 * max(1, frame["away_episodes"].max())]},
        "yaxis2": {**y_axis, "anchor": "x2", "domain": [0.0, 0.44], "title": {"text": "% of from care"},
                   "ticksuffix": "%"},
        "annotations": [{**subplot_title, "text": "Away episodes", "y": 1.0},
                        {**subplot_title, "text": "Share of from-care episodes that were away", "y": 0.44}],
        "showlegend": False,
    }, height=460)


def away_summary(frame: pd.DataFrame) -> str:
    if frame.empty or not frame["from_care_episodes"].sum():
        return "No episodes from care in this period."
    away = int(frame["away_from_care_episodes"].sum())
    care = int(frame["from_care_episodes"].sum())
    away_all = int(frame["away_episodes"].sum())
    return (f"{_n(away_all, 'episode')} {'was' if away_all == 1 else 'were'} away from placement without "
            f"authorisation; "
            f"{away:,} of the {care:,} episodes from care ({100 * away / care:.1f}%).")


def distance_figure(frame: pd.DataFrame) -> go.Figure:
    """Bars by distance band: episodes per placed-child-year, with episodes and child-years written on."""
    if frame.empty or not frame["placement_days"].sum():
        return empty_figure("No placements in this period")
    shown = frame[frame["placement_days"] > 0]
    return figure_from([{
        "type": "bar", "x": shown["distance_band"].tolist(), "y": shown["episodes_per_child_year"].tolist(),
        "text": [f"{r:.2f} ({e:,} episodes / {y:,.1f} child-years)"
                 for r, e, y in zip(shown["episodes_per_child_year"], shown["episodes"], shown["placed_child_years"])],
        "textposition": "outside", "cliponaxis": False,
        "marker": {"color": PALETTE[0], "pattern": {"shape": [BAND_PATTERNS[b] for b in shown["distance_band"]],
                                                    "fgcolor": "#ffffff"},
                   "line": {"color": "#0b0c0c", "width": 1}},
        "hovertemplate": "%{x}: %{y:.2f} episodes per placed-child-year<extra></extra>",
    }], {"xaxis": {"title": {"text": "Distance from home to placement"}, "type": "category"},
         "yaxis": {"title": {"text": "Episodes per placed-child-year"}}})


def distance_summary(frame: pd.DataFrame) -> str:
    shown = frame[frame["placement_days"] > 0] if len(frame) else frame
    if shown.empty:
        return "No placements in this period."
    parts = [f"{r.distance_band}: {r.episodes_per_child_year:.2f} ({r.episodes:,} episodes over "
             f"{r.placed_child_years:,.1f} placed-child-years)" for r in shown.itertuples()]
    text = "Episodes per placed-child-year by distance — " + "; ".join(parts) + "."
    missing = [band for band in BAND_PATTERNS if band not in set(shown["distance_band"])]
    if missing:
        text += " No placements in the period for: " + ", ".join(missing) + "."
    return text


def name_authorities(frame: pd.DataFrame, names: pd.DataFrame) -> pd.DataFrame:
    """The placing authorities with their names (the code itself where the lookup lacks it).
    The codes of `names` are unique (one name each): looked up in a dict, not merged (a merge
    of a few rows cost more than the chart they feed)."""
    lookup = dict(zip(names["code"], names["name"]))
    codes = frame["placing_la_code"].tolist()
    authorities = [name if isinstance(name := lookup.get(code), str) else code for code in codes]
    return pd.DataFrame({
        "placing_authority": pd.Series(authorities, dtype=names["name"].dtype),
        "placing_la_code": pd.Series(codes, dtype=frame["placing_la_code"].dtype),
        "episodes": frame["episodes"].to_numpy(),
        "children": frame["children"].to_numpy(),
    })


def other_la_figure(frame: pd.DataFrame) -> go.Figure:
    if frame.empty:
        return empty_figure("No episodes of children placed here by other authorities")
    labels = [f"{a} ({c})" for a, c in zip(frame["placing_authority"], frame["placing_la_code"])]
    return figure_from([{
        "type": "bar", "y": labels, "x": frame["episodes"].tolist(), "orientation": "h",
        "text": [f"{e:,} episodes, {c:,} children" for e, c in zip(frame["episodes"], frame["children"])],
        "textposition": "outside", "cliponaxis": False,
        "marker": {"color": PALETTE[1], "line": {"color": "#0b0c0c", "width": 1}},
        "hovertemplate": "%{y}: %{x:,} episodes<extra></extra>",
    }], {
        "yaxis": {"autorange": "reversed"},
        # Room on the right for the words beside the longest bar.
        "xaxis": {"title": {"text": "Episodes"}, "range": [0, 1.5 * frame["episodes"].max()]},
        "margin": {"l": 280},
    }, height=max(240, 80 + 40 * len(frame)))


def other_la_summary(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "No police episodes of children placed here by other authorities in this period."
    top = frame.iloc[0]
    return (f"{_n(int(frame['episodes'].sum()), 'police episode')} of children placed here by "
            f"{_n(len(frame), 'other authority', 'other authorities')}; the most from {top['placing_authority']} "
            f"({_n(int(top['episodes']), 'episode')} of {_n(int(top['children']), 'child', 'children')}).")


def uasc_counts(episodes: pd.DataFrame) -> pd.DataFrame:
    """Children (8-character keys) with an episode within 48 hours and within 7 days of first care."""
    within_48h = episodes.loc[episodes["within_48h"].astype(bool), "child"].nunique() if len(episodes) else 0
    within_7d = episodes["child"].nunique() if len(episodes) else 0
    return pd.DataFrame({"window": ["Within 48 hours", "Within 7 days"], "children": [within_48h, within_7d]})


def uasc_figure(counts: pd.DataFrame) -> go.Figure:
    if not counts["children"].sum():
        return empty_figure("No UASC child went missing within 7 days of becoming looked after")
    y_axis = {"title": {"text": "Children"}, "range": [0, 1.2 * counts["children"].max()]}
    if counts["children"].max() < 10:
        y_axis["dtick"] = 1
    return figure_from([{
        "type": "bar", "x": counts["window"].tolist(), "y": counts["children"].tolist(),
        "text": counts["children"].tolist(), "textposition": "outside", "cliponaxis": False,
        "marker": {"color": [PALETTE[5], PALETTE[1]], "pattern": {"shape": ["x", ""], "fgcolor": "#ffffff"},
                   "line": {"color": "#0b0c0c", "width": 1}},
        "hovertemplate": "%{x}: %{y:,} children<extra></extra>",
    }], {"xaxis": {"title": {"text": "Went missing after first becoming looked after"}}, "yaxis": y_axis},
        height=300)


def uasc_summary(counts: pd.DataFrame, cohort: pd.DataFrame) -> str:
    within_48h, within_7d = (int(v) for v in counts["children"])
    started = int(cohort["uasc_children"].iloc[0]) if len(cohort) else 0
    return (f"{_n(within_48h, 'unaccompanied asylum-seeking child', 'unaccompanied asylum-seeking children')} "
            f"went missing within 48 hours and {within_7d:,} within 7 days of first becoming looked after; "
            f"{_n(started, 'such child', 'such children')} first became looked after in the period.")
