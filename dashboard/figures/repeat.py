"""Figures and words of the Repeat missing page, from the DataFrames of queries/metrics/repeat.sql.

Definitions (metrics.md "Repeat-missing cohorts", read precisely in repeat.sql):
- cohort bands: children by their number of episodes in the filtered period;
- newly repeat: a child's episodes are ordered by start; an episode's rolling count is
  the number of the child's episodes up to and including it that start in the 365 days
  ending on its start date; the child is newly repeat in the month of their first episode
  in the period whose rolling count is exactly 2 (their second episode in 12 months),
  looking back 365 days before the period over episodes matching the same filters;
- escalation: N episodes starting within D consecutive days (last start − first start ≤
  D − 1), the window's last episode in the period.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.common import PALETTE, merged_layout, empty_figure, figure_from

BAND_LABELS = {"1": "1 episode", "2": "2 episodes", "3-5": "3–5 episodes", "6-9": "6–9 episodes",
               "10+": "10 or more"}
ROW_EPISODES = "Episodes"
ROW_RHI = "Return interviews"
ROW_SAFE_WELL = "Safe and well checks"
ROW_PLACEMENTS = "Placements"
# Children listed under the escalation chart (the chart and its data count them all).
ESCALATION_LISTED = 200
# The dashboard's charts of counts leave room for their axis labels: a chart whose labels
# need more room than its margins give is drawn a second time by Plotly (automargin).
PAGE_LAYOUT = {"margin": {"l": 90, "b": 70}}


def _children(count: int) -> str:
    return f"{count:,} child" if count == 1 else f"{count:,} children"


def escalation_words(episodes: int, days: int) -> str:
    return (f"A child is flagged for a strategy discussion when {episodes} or more of their episodes start "
            f"within {days} consecutive days (the local escalation rule, set in mfhc.toml [escalation]).")


def cohort_bands_figure(frame: pd.DataFrame, layout: dict | None = None) -> go.Figure:
    """Children per band as bars, each labelled with its children and share of episodes.
    `layout` is merged over the figure's (the dashboard passes PAGE_LAYOUT)."""
    if frame.empty or not frame["children"].sum():
        return empty_figure("No episodes in this period")
    labels = [BAND_LABELS.get(b, b) for b in frame["band"]]
    text = [f"{c:,} children<br>{e:,} episodes ({'' if s is None or pd.isna(s) else f'{s:.1f}%'})"
            for c, e, s in zip(frame["children"], frame["episodes"], frame["share_of_episodes_pct"])]
    return figure_from([{
        "type": "bar", "x": labels, "y": frame["children"].to_numpy(), "text": text, "textposition": "outside",
        "name": "Children", "marker": {"color": PALETTE[0]}, "cliponaxis": False,
        "customdata": frame[["episodes", "share_of_episodes_pct"]].to_numpy(),
        "hovertemplate": "%{x}: %{y} children, %{customdata[0]} episodes (%{customdata[1]}% of episodes)"
                         "<extra></extra>",
    }], merged_layout({
        "xaxis": {"title": {"text": "Episodes in the period (per child)"}},
        "yaxis": {"title": {"text": "Children"}},
        "margin": {"t": 50},
    }, layout or {}))


def cohort_summary(frame: pd.DataFrame) -> str:
    children, episodes = int(frame["children"].sum()), int(frame["episodes"].sum())
    if not children:
        return "No episodes in this period."
    repeat = frame[frame["band"] != "1"]
    heavy = frame[frame["band"].isin(["6-9", "10+"])]
    heavy_share = 100 * heavy["episodes"].sum() / episodes
    return (f"{_children(children)} had {episodes:,} episodes; {int(repeat['children'].sum()):,} of them went "
            f"missing more than once. Children with 6 or more episodes ({int(heavy['children'].sum()):,}) "
            f"account for {heavy_share:.1f}% of episodes.")


def newly_repeat_figure(frame: pd.DataFrame, layout: dict | None = None) -> go.Figure:
    if frame.empty:
        return empty_figure("No months in this period")
    children = frame["children_newly_repeat"].to_numpy()
    return figure_from([{
        "type": "bar", "x": frame["month"].to_numpy(), "y": children, "name": "Children newly repeat",
        "marker": {"color": PALETTE[2]}, "text": children, "textposition": "outside", "cliponaxis": False,
    }], merged_layout({
        "xaxis": {"title": {"text": "Month of the second episode in 12 months"}, "dtick": "M1", "tickformat": "%b %Y"},
        "yaxis": {"title": {"text": "Children"}},
    }, layout or {}))


def newly_repeat_summary(frame: pd.DataFrame) -> str:
    total = int(frame["children_newly_repeat"].sum()) if len(frame) else 0
    if not total:
        return "No child became a repeat missing child in this period."
    top = frame.loc[frame["children_newly_repeat"].idxmax()]
    return (f"{_children(total)} became repeat missing (a second episode within 12 months) in the period; "
            f"the most in {pd.Timestamp(top['month']):%B %Y} ({int(top['children_newly_repeat']):,}).")


def escalation_by_month(frame: pd.DataFrame, months: pd.Series) -> pd.DataFrame:
    """Flagged children by the month they first met the rule, every month of the period shown."""
    counts = frame.groupby("first_met_month").size() if len(frame) else pd.Series(dtype="int64")
    counts.index = pd.to_datetime(counts.index)
    index = pd.to_datetime(pd.Series(months))
    return pd.DataFrame({"month": index.dt.date,
                         "children_flagged": [int(counts.get(m, 0)) for m in index]})


def escalation_figure(by_month: pd.DataFrame, layout: dict | None = None) -> go.Figure:
    if by_month.empty or not by_month["children_flagged"].sum():
        return empty_figure("No child met the escalation rule in this period")
    children = by_month["children_flagged"].to_numpy()
    return figure_from([{
        "type": "bar", "x": by_month["month"].to_numpy(), "y": children, "name": "Children first meeting the rule",
        "marker": {"color": PALETTE[5], "pattern": {"shape": "/"}}, "text": children, "textposition": "outside",
        "cliponaxis": False,
    }], merged_layout({
        "xaxis": {"title": {"text": "Month the rule was first met"}, "dtick": "M1", "tickformat": "%b %Y"},
        "yaxis": {"title": {"text": "Children"}},
    }, layout or {}))


def escalation_summary(frame: pd.DataFrame, episodes: int, days: int) -> str:
    if frame.empty:
        return f"No child had {episodes} or more episodes within {days} days in this period."
    most = int(frame["episodes_in_window"].max())
    return (f"{_children(len(frame))} had {episodes} or more episodes within {days} days in the period; "
            f"the most in one window was {most}.")


def escalation_table(frame: pd.DataFrame, top: int | None = ESCALATION_LISTED) -> pd.DataFrame:
    """The flagged children as the page lists them (shortened pseudonymised keys only): the
    first `top` in the query's order, most episodes in a window first (None: all). A national
    store flags thousands; a page listing them all is megabytes and seconds to draw."""
    if top is not None:
        frame = frame.head(top)
    return pd.DataFrame({
        "Child (pseudonymised)": frame["child"],
        "Episodes in window": frame["episodes_in_window"],
        "Window from": [f"{pd.Timestamp(d):%-d %b %Y}" for d in frame["window_start"]],
        "Window to": [f"{pd.Timestamp(d):%-d %b %Y}" for d in frame["window_end"]],
        "Latest episode": [f"{pd.Timestamp(d):%-d %b %Y}" for d in frame["latest_episode"]],
        "From": frame["from_care_or_home"],
        "Age band": frame["age_band"],
    })


def child_options(frame: pd.DataFrame) -> list[dict]:
    return [{"label": f"{row.child} ({row.episodes} episodes)", "value": row.child_id}
            for row in frame.itertuples()]


def _hours_ms(start, end) -> float:
    return (pd.Timestamp(end) - pd.Timestamp(start)).total_seconds() * 1000


def timeline_figure(episodes: pd.DataFrame, interviews: pd.DataFrame, placements: pd.DataFrame,
                    period_end: dt.date | None = None) -> go.Figure:
    """One child's episodes as bars from start to end (SSDA903-only ones as whole days,
    hatched), a marker at each start (short episodes stay visible), RHI offers and
    completions and safe and well checks as markers of their own shapes, and placements
    as a band underneath, labelled with their type."""
    if episodes.empty:
        return empty_figure("Choose a child to see their timeline")
    open_end = pd.Timestamp(period_end or episodes["starts"].max()) + pd.Timedelta(days=1)
    ends = episodes["ends"].where(episodes["ends"].notna(), open_end)
    traces = []
    for police_known, name, pattern in ((True, "Episode (police times)", ""),
                                        (False, "Episode (SSDA903 dates only: whole days)", "/")):
        part = episodes[episodes["police_known"] == police_known]
        if part.empty:
            continue
        part_ends = ends[part.index]
        traces.append({
            "type": "bar", "y": [ROW_EPISODES] * len(part), "base": part["starts"].to_numpy(),
            "x": [_hours_ms(s, e) for s, e in zip(part["starts"], part_ends)],
            "orientation": "h", "name": name, "marker": {"color": PALETTE[0], "pattern": {"shape": pattern}},
            "customdata": [[f"{pd.Timestamp(s):%-d %b %Y %H:%M}", "still missing" if pd.isna(e) else
                            f"{pd.Timestamp(e):%-d %b %Y %H:%M}"] for s, e in zip(part["starts"], part["ends"])],
            "hovertemplate": "Episode %{customdata[0]} to %{customdata[1]}<extra></extra>",
        })
    traces.append({
        "type": "scatter", "x": episodes["starts"].to_numpy(), "y": [ROW_EPISODES] * len(episodes),
        "mode": "markers", "name": "Episode start",
        "marker": {"symbol": "line-ns-open", "size": 18, "color": PALETTE[7], "line": {"width": 2}},
        "hovertemplate": "Episode started %{x}<extra></extra>",
    })
    if not interviews.empty:
        offered = interviews[interviews["outcome"] != "not_offered"].dropna(subset=["offered_at"])
        completed = interviews[interviews["outcome"] == "completed"].dropna(subset=["completed_at"])
        traces.append({
            "type": "scatter", "x": offered["offered_at"].to_numpy(), "y": [ROW_RHI] * len(offered),
            "mode": "markers", "name": "RHI offered",
            "marker": {"symbol": "triangle-up", "size": 11, "color": PALETTE[1]},
            "customdata": offered["outcome"].to_numpy(),
            "hovertemplate": "RHI offered %{x} (%{customdata})<extra></extra>",
        })
        traces.append({
            "type": "scatter", "x": completed["completed_at"].to_numpy(), "y": [ROW_RHI] * len(completed),
            "mode": "markers", "name": "RHI completed",
            "marker": {"symbol": "star", "size": 13, "color": PALETTE[2], "line": {"width": 1, "color": "#0b0c0c"}},
            "hovertemplate": "RHI completed %{x}<extra></extra>",
        })
    checks = episodes.dropna(subset=["safe_and_well_at"])
    traces.append({
        "type": "scatter", "x": checks["safe_and_well_at"].to_numpy(), "y": [ROW_SAFE_WELL] * len(checks),
        "mode": "markers", "name": "Safe and well check",
        "marker": {"symbol": "circle", "size": 10, "color": PALETTE[3]},
        "hovertemplate": "Safe and well check %{x}<extra></extra>",
    })
    if not placements.empty:
        starts = pd.to_datetime(placements["shown_from"])
        stops = pd.to_datetime(placements["shown_to"]) + pd.Timedelta(days=1)
        labels = [f"{t or 'placement'}{' (children’s home)' if home else ''}"
                  for t, home in zip(placements["placement_type"], placements["childrens_home"])]
        traces.append({
            "type": "bar", "y": [ROW_PLACEMENTS] * len(placements), "base": starts.to_numpy(),
            "x": [_hours_ms(s, e) for s, e in zip(starts, stops)],
            "orientation": "h", "name": "Placement (SSDA903)", "text": labels, "textposition": "inside",
            "insidetextanchor": "middle",
            "marker": {"color": [PALETTE[4] if i % 2 == 0 else PALETTE[6] for i in range(len(placements))],
                       "line": {"color": "#0b0c0c", "width": 1}},
            "hovertemplate": "%{text}<extra></extra>",
        })
    return figure_from(traces, {
        "barmode": "overlay",
        "xaxis": {"type": "date", "title": {"text": "Date"}},
        # Rows of categories: no range from zero.
        "yaxis": {"categoryorder": "array", "categoryarray": [ROW_PLACEMENTS, ROW_SAFE_WELL, ROW_RHI, ROW_EPISODES],
                  "rangemode": None},
        # Room for the row names and the legend below (Plotly draws a figure again when its
        # labels need more room than its margins give).
        "margin": {"l": 170, "b": 110},
    }, height=377)


def timeline_summary(child: str | None, episodes: pd.DataFrame, interviews: pd.DataFrame,
                     placements: pd.DataFrame) -> str:
    if not child or episodes.empty:
        return "No child chosen, or the chosen child has no episodes under these filters."
    completed = int((interviews["outcome"] == "completed").sum()) if len(interviews) else 0
    offered = int((interviews["outcome"] != "not_offered").sum()) if len(interviews) else 0
    first, last = pd.Timestamp(episodes["starts"].min()), pd.Timestamp(episodes["starts"].max())
    return (f"Child {child[:8]}: {len(episodes)} episodes from {first:%-d %b %Y} to {last:%-d %b %Y}; "
            f"{offered} return interviews offered, {completed} completed; "
            f"{int(episodes['safe_and_well_at'].notna().sum())} safe and well checks; "
            f"{len(placements)} placements in the period.")


def timeline_table(episodes: pd.DataFrame, interviews: pd.DataFrame, placements: pd.DataFrame) -> pd.DataFrame:
    """The timeline's events as rows (what the chart draws), for its data table and CSV."""
    rows = [{"event": "episode (police)" if known else "episode (SSDA903 only)", "from": s,
             "to": e if pd.notna(e) else None, "detail": category}
            for s, e, known, category in zip(episodes["starts"], episodes["ends"], episodes["police_known"],
                                             episodes["category"])]
    for row in interviews.itertuples():
        if row.outcome != "not_offered" and pd.notna(row.offered_at):
            rows.append({"event": "RHI offered", "from": row.offered_at, "to": None, "detail": row.outcome})
        if row.outcome == "completed" and pd.notna(row.completed_at):
            rows.append({"event": "RHI completed", "from": row.completed_at, "to": None, "detail": ""})
    for at in episodes["safe_and_well_at"].dropna():
        rows.append({"event": "safe and well check", "from": at, "to": None, "detail": ""})
    for row in placements.itertuples():
        rows.append({"event": "placement", "from": pd.Timestamp(row.start_date),
                     "to": pd.Timestamp(row.end_date) if pd.notna(row.end_date) else None,
                     "detail": row.placement_type})
    frame = pd.DataFrame(rows, columns=["event", "from", "to", "detail"])
    if frame.empty:
        return frame
    # Blank, not missing, where a point event has no end: the table and the CSV then agree.
    for column in ("from", "to"):
        moments = pd.to_datetime(frame[column])
        frame[column] = [f"{m:%Y-%m-%d %H:%M}" if pd.notna(m) else "" for m in moments]
    frame["detail"] = frame["detail"].fillna("")
    return frame.sort_values(["from", "event"], kind="stable").reset_index(drop=True)
