"""Figures and words of the Return interviews page, from the DataFrames of
queries/metrics/interviews.sql. The denominator of every rate is the returned missing
episodes (metrics.md), except parents/carers consulted (declined RHIs) and the factor
and risk counts (RHIs linked to the period's episodes)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.common import PALETTE, count_label, empty_figure, figure_from

NO_OFFER = "No interview offered"
FACTOR_LABELS = {
    "family_conflict": "Family conflict", "placement_issues": "Placement issues", "peer_influence": "Peer influence",
    "exploitation": "Exploitation", "substance_misuse": "Substance misuse", "mental_health": "Mental health",
    "school_issues": "School issues", "relationship": "Relationship", "bereavement": "Bereavement",
    "other": "Other",
}


def _pct(value) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.1f}%"


def timeliness_figure(frame: pd.DataFrame) -> go.Figure:
    """Offered and completed within 72 hours as % lines, circles and squares, by month."""
    if frame.empty:
        return empty_figure("No returned missing episodes in this period")
    months = frame["month"].to_numpy()
    return figure_from([
        {"type": "scatter", "x": months, "y": frame["rhi_offered_within_72h_pct"].to_numpy(),
         "name": "Offered within 72 h", "mode": "lines+markers", "line": {"color": PALETTE[0], "width": 3},
         "marker": {"symbol": "circle", "size": 9},
         "customdata": frame[["rhi_offered_within_72h", "returned_missing_episodes"]].to_numpy(),
         "hovertemplate": "%{x|%b %Y}: %{y:.1f}% (%{customdata[0]} of %{customdata[1]})<extra></extra>"},
        {"type": "scatter", "x": months, "y": frame["rhi_completed_within_72h_pct"].to_numpy(),
         "name": "Completed within 72 h", "mode": "lines+markers",
         "line": {"color": PALETTE[1], "width": 3, "dash": "dash"}, "marker": {"symbol": "square", "size": 9},
         "customdata": frame[["rhi_completed_within_72h", "returned_missing_episodes"]].to_numpy(),
         "hovertemplate": "%{x|%b %Y}: %{y:.1f}% (%{customdata[0]} of %{customdata[1]})<extra></extra>"},
    ], {
        "xaxis": {"title": {"text": "Month the episode started"}, "dtick": "M1", "tickformat": "%b %Y"},
        "yaxis": {"title": {"text": "% of returned missing episodes"}, "range": [0, 100], "ticksuffix": "%"},
    })


def timeliness_summary(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "No returned missing episodes in this period."
    counts = ["returned_missing_episodes", "rhi_offered_within_72h", "rhi_completed_within_72h"]
    withheld = int(frame[counts].isna().any(axis=1).sum())
    if withheld:   # small numbers withheld: the words cover the months shown in full
        shown = frame.dropna(subset=counts)
        if shown.empty or not shown["returned_missing_episodes"].sum():
            return "Every month had small numbers (1–4), which are not shown."
        return (timeliness_summary(shown).rstrip(".") + f". {withheld} {'month' if withheld == 1 else 'months'} "
                "with small numbers (1–4) are not included.")
    returned = int(frame["returned_missing_episodes"].sum())
    if not returned:
        return "No returned missing episodes in this period."
    offered, completed = int(frame["rhi_offered_within_72h"].sum()), int(frame["rhi_completed_within_72h"].sum())
    worst = frame.loc[frame["rhi_completed_within_72h_pct"].idxmin()]
    return (f"Of {returned:,} returned missing episodes, {offered:,} ({100 * offered / returned:.1f}%) were offered "
            f"an interview within 72 hours and {completed:,} ({100 * completed / returned:.1f}%) completed one. "
            f"The lowest completion month was {pd.Timestamp(worst['month']):%B %Y} "
            f"({_pct(worst['rhi_completed_within_72h_pct'])}).")


def provider_figure(frame: pd.DataFrame) -> go.Figure:
    """Offered and completed within 72 h per provider, horizontal bars sorted by the
    completion rate (highest at the top); solid and hatched bars, each labelled."""
    shown = frame[(frame["provider"] != NO_OFFER) & frame["rhi_completed_within_72h_pct"].notna()]
    if shown.empty:
        return empty_figure("No provider with 5 or more episodes in this period")
    shown = shown.sort_values(["rhi_completed_within_72h_pct", "provider"], ascending=[True, False])
    providers = shown["provider"].to_numpy()
    return figure_from([
        {"type": "bar", "y": providers, "x": shown["rhi_offered_within_72h_pct"].to_numpy(), "orientation": "h",
         "name": "Offered within 72 h", "marker": {"color": PALETTE[0]},
         "text": [_pct(v) for v in shown["rhi_offered_within_72h_pct"]], "textposition": "outside",
         "cliponaxis": False},
        {"type": "bar", "y": providers, "x": shown["rhi_completed_within_72h_pct"].to_numpy(), "orientation": "h",
         "name": "Completed within 72 h", "marker": {"color": PALETTE[1], "pattern": {"shape": "/"}},
         "text": [_pct(v) for v in shown["rhi_completed_within_72h_pct"]], "textposition": "outside",
         "cliponaxis": False},
    ], {
        "barmode": "group",
        "xaxis": {"title": {"text": "% of the provider's returned missing episodes"}, "range": [0, 110],
                  "ticksuffix": "%"},
        "yaxis": {"automargin": True},
        "margin": {"l": 20},
    }, height=max(300, 90 * len(shown) + 120))


def provider_summary(frame: pd.DataFrame) -> str:
    rated = frame[(frame["provider"] != NO_OFFER) & frame["rhi_completed_within_72h_pct"].notna()]
    if rated.empty:
        return "No provider held enough interviews in this period to show a rate."
    best = rated.sort_values("rhi_completed_within_72h_pct", ascending=False).iloc[0]
    worst = rated.sort_values("rhi_completed_within_72h_pct").iloc[0]
    text = (f"{len(rated)} providers. Highest completion within 72 hours: {best['provider']} "
            f"({_pct(best['rhi_completed_within_72h_pct'])} of {count_label(best['episodes'])} episodes); lowest: "
            f"{worst['provider']} ({_pct(worst['rhi_completed_within_72h_pct'])} of {count_label(worst['episodes'])}).")
    none = frame.loc[frame["provider"] == NO_OFFER, "episodes"]
    if len(none):
        text += f" {count_label(none.iloc[0])} returned missing episodes had no interview offered."
    return text


def _whole(value):
    """A count as an int, or None when withheld as a small number."""
    return None if value is None or value != value else int(value)


def outcomes_frame(row: pd.DataFrame) -> pd.DataFrame:
    """The three rates as rows: measure, count, denominator, percent."""
    if row.empty:
        return pd.DataFrame(columns=["measure", "count", "of", "denominator", "percent"])
    r = row.iloc[0]
    return pd.DataFrame([
        {"measure": "Declined only", "count": _whole(r["declined_only"]), "of": "returned missing episodes",
         "denominator": _whole(r["returned_missing_episodes"]), "percent": r["declined_only_pct"]},
        {"measure": "No contact only", "count": _whole(r["no_contact_only"]), "of": "returned missing episodes",
         "denominator": _whole(r["returned_missing_episodes"]), "percent": r["no_contact_only_pct"]},
        {"measure": "Parents/carers consulted when the child declined", "count": _whole(r["parent_carer_consulted"]),
         "of": "declined interviews", "denominator": _whole(r["declined_rhis"]),
         "percent": r["parent_carer_consulted_pct"]},
    ])


def outcomes_figure(frame: pd.DataFrame) -> go.Figure:
    if frame.empty or not frame["denominator"].sum():
        return empty_figure("No returned missing episodes in this period")
    labels = ["Declined only<br>(of returned episodes)", "No contact only<br>(of returned episodes)",
              "Parents/carers consulted<br>(of declined interviews)"]
    return figure_from([{
        "type": "bar", "y": labels, "x": frame["percent"].fillna(0).to_numpy(), "orientation": "h",
        "marker": {"color": [PALETTE[5], PALETTE[3], PALETTE[2]], "pattern": {"shape": ["/", "x", ""]}},
        "text": [f"{_pct(p)} ({count_label(c)} of {count_label(d)})"
                 for p, c, d in zip(frame["percent"], frame["count"], frame["denominator"])],
        "textposition": "outside", "cliponaxis": False, "showlegend": False,
    }], {
        "xaxis": {"title": {"text": "Percent"}, "range": [0, 115], "ticksuffix": "%"},
        "yaxis": {"autorange": "reversed", "automargin": True},
        "margin": {"l": 20},
    }, height=300)


def outcomes_summary(frame: pd.DataFrame) -> str:
    if frame.empty or not frame["denominator"].sum():
        return "No returned missing episodes in this period."
    return "; ".join(f"{r.measure}: {_pct(r.percent)} ({count_label(r.count)} of {count_label(r.denominator)} {r.of})"
                     for r in frame.itertuples()) + "."


def counts_figure(frame: pd.DataFrame, label_column: str, colour: str, empty_message: str,
                  labels: dict | None = None) -> go.Figure:
    """Horizontal bars of RHIs per factor or risk, the largest at the top, each labelled."""
    if frame.empty or not frame["interviews"].sum():
        return empty_figure(empty_message)
    names = [(labels or {}).get(v, v) for v in frame[label_column]]
    counts = frame["interviews"].to_numpy()
    return figure_from([{
        "type": "bar", "y": names, "x": counts, "orientation": "h", "marker": {"color": colour},
        "text": counts, "textposition": "outside", "cliponaxis": False, "showlegend": False,
    }], {
        "xaxis": {"title": {"text": "Return interviews"}},
        "yaxis": {"autorange": "reversed", "automargin": True},
        "margin": {"l": 20},
    }, height=max(260, 34 * len(frame) + 100))


def factors_figure(frame: pd.DataFrame) -> go.Figure:
    return counts_figure(frame, "factor", PALETTE[0], "No push or pull factors recorded", FACTOR_LABELS)


def risks_figure(frame: pd.DataFrame) -> go.Figure:
    return counts_figure(frame, "risk", PALETTE[5], "No interviews linked to this period's episodes")


def counts_summary(frame: pd.DataFrame, label_column: str, what: str, labels: dict | None = None) -> str:
    if frame.empty or not frame["interviews"].sum():
        return f"No {what} recorded on interviews linked to this period's episodes."
    return f"Interviews recording each {what}: " + "; ".join(
        f"{(labels or {}).get(getattr(r, label_column), getattr(r, label_column))} {r.interviews:,}"
        for r in frame.itertuples()) + "."
