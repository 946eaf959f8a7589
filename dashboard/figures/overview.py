"""Figures and words of the Overview page, from DataFrames and KPI dicts."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.common import PALETTE, empty_figure, figure_from

TILES = (
    ("episodes", "Episodes", "count"),
    ("children", "Children", "count"),
    ("repeat_children", "Children with 2 or more episodes", "count"),
    ("from_care_episodes", "Episodes from care", "count"),
    ("high_risk_episodes", "High-risk episodes", "count"),
    ("still_missing", "Still missing", "count"),
    ("rhi_offered_within_72h_pct", "RHIs offered within 72 hours", "pct"),
    ("rhi_completed_within_72h_pct", "RHIs completed within 72 hours", "pct"),
    ("safe_and_well_done_pct", "Safe and well checks done", "pct"),
    ("median_duration_hours", "Median duration (hours)", "number"),
)
FUNNEL_STEPS = (
    ("returned_missing_episodes", "Returned (missing episodes)"),
    ("rhi_offered", "RHI offered"),
    ("rhi_offered_within_72h", "Offered within 72 h"),
    ("rhi_completed", "RHI completed"),
    ("rhi_completed_within_72h", "Completed within 72 h"),
)


def _suppressed(value) -> bool:
    """A KPI withheld by small-number suppression arrives as the text "<5"."""
    return isinstance(value, str)


def _count(value) -> str:
    return value if _suppressed(value) else f"{value:,}"


def format_value(value, kind: str) -> str:
    if value is None:
        return "–"
    if _suppressed(value):
        return value
    if kind == "pct":
        return f"{value:.1f}%"
    if kind == "count":
        return f"{int(value):,}"
    return f"{value:,.1f}"


def change_words(current, before, kind: str, against: str) -> str:
    """'▲ up 12 from 100 last year' — arrow and words, never colour alone."""
    if current is None or before is None:
        return f"no figure for {against}"
    if _suppressed(current) or _suppressed(before):
        return f"not compared with {against} (small numbers)"
    difference = current - before
    if abs(difference) < 1e-9:
        return f"■ same as {against} ({format_value(before, kind)})"
    arrow, direction = ("▲", "up") if difference > 0 else ("▼", "down")
    amount = f"{abs(difference):.1f} points" if kind == "pct" else format_value(abs(difference), kind)
    if kind == "number":
        amount = f"{abs(difference):.1f}"
    return f"{arrow} {direction} {amount} on {against} ({format_value(before, kind)})"


def monthly_trend_figure(frame: pd.DataFrame) -> go.Figure:
    if frame.empty:
        return empty_figure("No episodes in this period")
    months = frame["month"].tolist()
    return figure_from([
        {"type": "scatter", "x": months, "y": frame["episodes"].tolist(), "name": "Episodes",
         "mode": "lines+markers", "line": {"color": PALETTE[0], "width": 3}, "marker": {"symbol": "circle", "size": 8}},
        {"type": "scatter", "x": months, "y": frame["children"].tolist(), "name": "Children",
         "mode": "lines+markers", "line": {"color": PALETTE[1], "width": 3, "dash": "dash"},
         "marker": {"symbol": "square", "size": 8}},
    ], {"xaxis": {"title": {"text": "Month episode started"}, "dtick": "M1", "tickformat": "%b %Y"},
        "yaxis": {"title": {"text": "Number"}}})


def funnel_frame(kpis: dict) -> pd.DataFrame:
    denominator = kpis["returned_missing_episodes"]
    rows = []
    for key, label in FUNNEL_STEPS:
        value = kpis[key]
        if _suppressed(value) or _suppressed(denominator):
            rows.append({"step": label, "episodes": None, "percent_of_returned": None})
            continue
        rows.append({"step": label, "episodes": value,
                     "percent_of_returned": round(100 * value / denominator, 1) if denominator else None})
    return pd.DataFrame(rows)


def funnel_figure(frame: pd.DataFrame) -> go.Figure:
    if frame.empty or frame["episodes"].isna().all() or not frame["episodes"].iloc[0]:
        return empty_figure("No returned missing episodes in this period, or too few to show")
    shown = frame["episodes"].where(frame["episodes"].notna(), None)
    text = ["<5" if v is None else (f"{int(v):,}" + (f" ({p:.0f}%)" if p == p and p is not None else ""))
            for v, p in zip(shown, frame["percent_of_returned"])]
    return figure_from([{
        "type": "funnel", "y": frame["step"].tolist(), "x": shown.tolist(), "text": text, "textinfo": "text",
        "marker": {"color": [PALETTE[0], PALETTE[4], PALETTE[2], PALETTE[1], PALETTE[5]]},
    }], height=360)


def summary_sentences(current: dict, previous: dict, year_before: dict) -> list[str]:
    """Plain English written from the figures, for the board."""
    sentences = [
        f"{_count(current['episodes'])} episodes of {_count(current['children'])} children started in the "
        f"period; {_count(current['repeat_children'])} children went missing more than once."
    ]
    for key, label in (("rhi_completed_within_72h_pct", "RHIs completed within 72 hours"),
                       ("rhi_offered_within_72h_pct", "RHIs offered within 72 hours")):
        now, then = current.get(key), year_before.get(key)
        if now is not None and then is not None and abs(now - then) >= 0.05:
            verb = "rose" if now > then else "fell"
            sentences.append(f"{label} {verb} from {then:.1f}% a year before to {now:.1f}%.")
        elif now is not None:
            sentences.append(f"{label}: {now:.1f}%.")
    if previous["episodes"] and not _suppressed(previous["episodes"]) and not _suppressed(current["episodes"]):
        change = 100 * (current["episodes"] - previous["episodes"]) / previous["episodes"]
        direction = "more" if change > 0 else "fewer"
        if abs(change) >= 0.5:
            sentences.append(f"There were {abs(change):.0f}% {direction} episodes than in the previous period.")
    if current["still_missing"]:
        sentences.append(f"{_count(current['still_missing'])} episodes in the period had no recorded end at the "
                         "last load.")
    return sentences
