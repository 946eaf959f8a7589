"""Figures and words of the Data quality page, from DataFrames of queries/metrics/quality.sql."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.common import PALETTE, empty_figure, figure_from


def _n(count: int, singular: str, plural: str | None = None) -> str:
    """'1 child', '2 children': the count with its noun in the right number."""
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"


FILE_PATTERNS = ["", "/", ".", "x", "-", "|", "+", "\\"]


def rejections_figure(frame: pd.DataFrame) -> go.Figure:
    """Horizontal bars of rejected rows per rule, stacked by file (each file its own colour and pattern)."""
    if frame.empty:
        return empty_figure("The last load rejected no rows")
    traces = []
    for i, (file, rows) in enumerate(frame.groupby("file", sort=True)):
        rejected = rows["rows_rejected"].to_numpy()
        traces.append({
            "type": "bar", "y": rows["rule"].to_numpy(), "x": rejected, "name": file, "orientation": "h",
            "marker": {"color": PALETTE[i % len(PALETTE)],
                       "pattern": {"shape": FILE_PATTERNS[i % len(FILE_PATTERNS)], "fgcolor": "#ffffff"},
                       "line": {"color": "#0b0c0c", "width": 1}},
            "text": rejected, "textposition": "inside",
            "hovertemplate": "%{y}: %{x:,} rows<extra>" + file + "</extra>",
        })
    return figure_from(traces, {
        "barmode": "stack",
        "yaxis": {"title": {"text": "Rule"}, "type": "category", "categoryorder": "total ascending"},
        "xaxis": {"title": {"text": "Rows rejected"}},
        "margin": {"l": 170},
    }, height=max(300, 120 + 32 * frame["rule"].nunique()))


def rejections_summary(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "The last load rejected no rows."
    by_rule = frame.groupby("rule")["rows_rejected"].sum().sort_values(ascending=False)
    return (f"{_n(int(frame['rows_rejected'].sum()), 'row')} rejected in {_n(frame['file'].nunique(), 'file')} "
            f"under {_n(len(by_rule), 'rule')}; the most under '{by_rule.index[0]}' "
            f"({_n(int(by_rule.iloc[0]), 'row')}).")


def findings_figure(frame: pd.DataFrame) -> go.Figure:
    if frame.empty:
        return empty_figure("No SSDA903 rule findings")
    labels = [f"Rule {c}" for c in frame["code"]]
    findings = frame["findings"].to_numpy()
    return figure_from([{
        "type": "bar", "y": labels, "x": findings, "orientation": "h", "text": findings, "textposition": "outside",
        "cliponaxis": False, "customdata": frame[["message"]].to_numpy(),
        "marker": {"color": PALETTE[2], "line": {"color": "#0b0c0c", "width": 1}},
        "hovertemplate": "%{y}: %{x:,} findings<br>%{customdata[0]}<extra></extra>",
    }], {"yaxis": {"autorange": "reversed", "type": "category"}, "xaxis": {"title": {"text": "Findings"}}},
        height=max(240, 80 + 40 * len(frame)))


def findings_summary(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "No SSDA903 rule findings in the last load."
    parts = [f"rule {r.code} ({r.findings:,}): {str(r.message).rstrip('.')}" for r in frame.itertuples()]
    return f"{_n(int(frame['findings'].sum()), 'SSDA903 finding')} — " + "; ".join(parts) + "."


def police_gap_figure(frame: pd.DataFrame) -> go.Figure:
    if frame.empty:
        return empty_figure("Every police-known episode of a looked-after child is in the SSDA903 return")
    episodes = frame["episodes"].to_numpy()
    return figure_from([{
        "type": "bar", "x": frame["month"].to_numpy(), "y": episodes, "text": episodes, "textposition": "outside",
        "cliponaxis": False,
        "marker": {"color": PALETTE[5], "pattern": {"shape": "/", "fgcolor": "#ffffff"},
                   "line": {"color": "#0b0c0c", "width": 1}},
        "hovertemplate": "%{x|%b %Y}: %{y:,} episodes<extra></extra>",
    }], {
        "xaxis": {"title": {"text": "Month episode started"}, "dtick": "M1", "tickformat": "%b %Y"},
        "yaxis": {"title": {"text": "Episodes not in SSDA903"}},
    })


def police_gap_summary(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "No police-known episodes of looked-after children are missing from the SSDA903 return."
    episodes = int(frame["episodes"].sum())
    return (f"{_n(episodes, 'police-known episode')} of looked-after children in the period "
            f"{'is' if episodes == 1 else 'are'} not in the SSDA903 Missing table, over {_n(len(frame), 'month')}.")


def source_status_words(frame: pd.DataFrame) -> str:
    missing = frame.loc[~frame["supplied"].astype(bool), "source_file"].tolist()
    if not missing:
        return f"All {len(frame)} expected source files were supplied."
    return f"Not supplied ({len(missing)} of {len(frame)}): " + ", ".join(missing) + "."


def unmatched_words(frame: pd.DataFrame) -> str:
    refs = int(frame["unmatched_refs"].iloc[0]) if len(frame) else 0
    if not refs:
        return "Every episode reference given by a return interview matched an episode."
    return (f"{_n(refs, 'episode reference')} in {_n(int(frame['interviews'].iloc[0]), 'return interview')} "
            f"matched no episode; those references count towards no episode's RHI figures.")
