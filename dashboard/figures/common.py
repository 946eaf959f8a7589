"""Shared look of every chart: a colour-blind-safe palette (Okabe–Ito) and plain layouts."""

from __future__ import annotations

import plotly.graph_objects as go

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
FONT = "DejaVu Sans, Arial, sans-serif"


def count_label(value) -> str:
    """A count as shown: a count withheld by small-number suppression (NaN in a count
    column, "<5" from the KPIs) reads "<5"."""
    if isinstance(value, str):
        return value
    if value is None or value != value:
        return "<5"
    return f"{int(value):,}"


def suppressing(frame) -> bool:
    """The frame came through small-number suppression (dashboard.data marks it)."""
    return "suppressed" in getattr(frame, "attrs", {})


def small_label(value, withheld: bool) -> str:
    """A count, or a difference of counts, as shown: "<5" when suppression is on and it is 1–4."""
    if withheld and (value is None or value != value or 0 < value < 5):
        return "<5"
    return count_label(value)


def _merged(base: dict, extra: dict) -> dict:
    """`extra` over `base`, dicts merged key by key; None removes a key (as update_layout's None does)."""
    out = dict(base)
    for key, value in extra.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def figure_from(traces: list[dict], layout: dict | None = None, title: str = "", height: int = 380) -> go.Figure:
    """A figure from plain trace dicts with the dashboard's look, `layout` merged over it the
    way update_layout merges. Built in one go without validation: for figures with
    thousands of points or large GeoJSON, each validated call copies them again (most of
    a callback's time). The traces must be valid Plotly; the tests draw them. Only the
    first pair of axes gets the look: a figure with more (xaxis2, yaxis2) styles them in
    `layout` (as care.away_figure does)."""
    base = {
        "font": {"family": FONT, "size": 14, "color": "#0b0c0c"},
        "colorway": PALETTE,
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 50 if title else 20, "b": 50},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "legend": {"orientation": "h", "y": -0.2},
        "hoverlabel": {"font": {"family": FONT}},
        "xaxis": {"showgrid": False, "linecolor": "#505a5f"},
        "yaxis": {"gridcolor": "#dddddd", "linecolor": "#505a5f", "rangemode": "tozero"},
    }
    if title:
        base["title"] = {"text": title, "x": 0, "xanchor": "left"}
    # go.Figure puts in the default template itself (its axes, hover mode and geo colours),
    # as for a validated figure: setting it again would validate and copy it once more.
    return go.Figure({"data": traces, "layout": _merged(base, layout or {})}, _validate=False)


def empty_figure(message: str) -> go.Figure:
    return figure_from([], {
        "annotations": [{"text": message, "showarrow": False, "font": {"size": 16}}],
        "xaxis": {"visible": False}, "yaxis": {"visible": False},
    }, height=240)
