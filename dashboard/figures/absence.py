"""Figures and words of the School absence page, from DataFrames of queries/metrics/absence.sql."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures.common import PALETTE, empty_figure, figure_from


def _n(count: int, singular: str, plural: str | None = None) -> str:
    """'1 child', '2 children': the count with its noun in the right number."""
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"


MISSING_GROUP = "Children who went missing"
ALL_GROUP = "All pupils"
# Each group keeps its colour, pattern and marker everywhere, so colour is never the only cue.
GROUP_STYLE = {
    MISSING_GROUP: {"color": PALETTE[5], "pattern": "/", "symbol": "diamond", "dash": "solid"},
    ALL_GROUP: {"color": PALETTE[0], "pattern": "", "symbol": "circle", "dash": "dot"},
}


_COLUMNS = ("academic_term", "pupils", "sessions_possible", "sessions_absent", "absence_rate_pct",
            "persistent_pct", "severe_pct")


def _groups(frame: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    """Each group's rows as NumPy columns (name -> array; "pupils_column" the pupils as one
    column, for customdata), selected by a mask over the arrays: a pandas selection of a
    small frame costs about half a millisecond, and each figure and sentence needs both
    groups (a third of the page's Python went there)."""
    columns = {name: frame[name].to_numpy() for name in _COLUMNS}
    pupils = frame[["pupils"]].to_numpy()
    group_of_row = frame["pupil_group"].to_numpy()
    groups = {}
    for group in GROUP_STYLE:
        mask = group_of_row == group
        rows = {name: values[mask] for name, values in columns.items()}
        rows["pupils_column"] = pupils[mask]
        groups[group] = rows
    return groups


def absence_rate_figure(frame: pd.DataFrame) -> go.Figure:
    """Grouped bars per term: overall absence rate of the two groups, values written on the bars."""
    groups = _groups(frame)
    if not len(groups[MISSING_GROUP]["academic_term"]):
        return empty_figure("No attendance records of children who went missing in this period")
    traces = []
    for group, style in GROUP_STYLE.items():
        rows = groups[group]
        traces.append({
            "type": "bar", "x": rows["academic_term"], "y": rows["absence_rate_pct"],
            "name": group,
            "marker": {"color": style["color"], "pattern": {"shape": style["pattern"], "fgcolor": "#ffffff"},
                       "line": {"color": "#0b0c0c", "width": 1}},
            "text": [f"{v:.1f}%" for v in rows["absence_rate_pct"]], "textposition": "outside", "cliponaxis": False,
            "customdata": rows["pupils_column"],
            "hovertemplate": "%{x}<br>%{y:.1f}% of sessions missed<br>%{customdata[0]:,} pupils<extra>" + group
            + "</extra>",
        })
    return figure_from(traces, {
        "barmode": "group",
        "xaxis": {"title": {"text": "Academic year and term"}, "type": "category"},
        "yaxis": {"title": {"text": "Absence rate (% of sessions)"}, "ticksuffix": "%"},
    })


def persistent_absence_figure(frame: pd.DataFrame) -> go.Figure:
    """Lines per term: shares persistently (≥10%) and severely (≥50%) absent, by group.
    Group by marker shape and colour; measure by line style (solid persistent, dashed severe)."""
    groups = _groups(frame)
    if not len(groups[MISSING_GROUP]["academic_term"]):
        return empty_figure("No attendance records of children who went missing in this period")
    traces = []
    for measure, column, dash in (("persistently absent (10%+)", "persistent_pct", "solid"),
                                  ("severely absent (50%+)", "severe_pct", "dash")):
        for group, style in GROUP_STYLE.items():
            rows = groups[group]
            traces.append({
                "type": "scatter", "x": rows["academic_term"], "y": rows[column],
                "name": f"{group}: {measure}", "mode": "lines+markers",
                "line": {"color": style["color"], "dash": dash, "width": 3},
                "marker": {"symbol": style["symbol"], "size": 10},
                "hovertemplate": "%{x}<br>%{y:.1f}% of pupils<extra>" + f"{group}: {measure}" + "</extra>",
            })
    return figure_from(traces, {
        "xaxis": {"title": {"text": "Academic year and term"}, "type": "category"},
        "yaxis": {"title": {"text": "Share of pupils (%)"}, "ticksuffix": "%"},
        "legend": {"orientation": "h", "y": -0.3},
    }, height=440)


def absence_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The by-term figures as the page's table, with readable headings."""
    return frame[["academic_term", "pupil_group", "pupils", "absence_rate_pct", "persistent_pct", "severe_pct"]] \
        .rename(columns={"academic_term": "Term", "pupil_group": "Group", "pupils": "Pupils",
                         "absence_rate_pct": "Absence rate %", "persistent_pct": "Persistently absent %",
                         "severe_pct": "Severely absent %"})


def absence_summary(frame: pd.DataFrame) -> str:
    groups = _groups(frame)
    missing, everyone = groups[MISSING_GROUP], groups[ALL_GROUP]
    if not len(missing["academic_term"]):
        return "No attendance records of children who went missing in this period."
    term = missing["academic_term"][-1]
    same_term = everyone["academic_term"] == term
    text = (f"Over {len(missing['academic_term'])} terms, children who went missing missed "
            f"{_overall(missing):.1f}% of their possible sessions, against {_overall(everyone):.1f}% for all "
            f"pupils. In {term}, {missing['absence_rate_pct'][-1]:.1f}% "
            f"({_n(int(missing['pupils'][-1]), 'pupil')})")
    if same_term.any():
        rate, pupils = everyone["absence_rate_pct"][same_term][0], everyone["pupils"][same_term][0]
        text += f" against {rate:.1f}% ({_n(int(pupils), 'pupil')})"
    return text + "."


def persistent_summary(frame: pd.DataFrame) -> str:
    groups = _groups(frame)
    missing, everyone = groups[MISSING_GROUP], groups[ALL_GROUP]
    if not len(missing["academic_term"]):
        return "No attendance records of children who went missing in this period."
    term = missing["academic_term"][-1]
    text = (f"In {term}, {missing['persistent_pct'][-1]:.1f}% of children who went missing were "
            f"persistently absent and {missing['severe_pct'][-1]:.1f}% severely absent")
    same_term = everyone["academic_term"] == term
    if same_term.any():
        text += (f", against {everyone['persistent_pct'][same_term][0]:.1f}% and "
                 f"{everyone['severe_pct'][same_term][0]:.1f}% of all pupils")
    return text + "."


def _overall(rows: dict[str, np.ndarray]) -> float:
    possible = np.nansum(rows["sessions_possible"])
    return 100 * np.nansum(rows["sessions_absent"]) / possible if possible else 0.0


def linkage_sentence(linkage: pd.DataFrame) -> str:
    if linkage.empty or not int(linkage["children"].iloc[0]):
        return "No children went missing in this period."
    row = linkage.iloc[0]
    without = int(row["children_without_attendance"])
    return (f"Of {_n(int(row['children']), 'child', 'children')} with an episode in the period, "
            f"{without:,} {'has' if without == 1 else 'have'} no attendance record in the academic years of "
            f"their episodes, {int(row['children_without_upn']):,} of them because no UPN links them to the "
            f"attendance file; the figures above cover the {int(row['children_with_attendance']):,} who do.")


def cme_figure(cme: pd.DataFrame) -> go.Figure:
    if cme.empty or not int(cme["cme_children"].iloc[0]):
        return empty_figure("No children missing education in this period")
    row = cme.iloc[0]
    labels = ["Missing education in the period", "…of whom went missing from home or care"]
    values = [int(row["cme_children"]), int(row["cme_children_went_missing"])]
    return figure_from([{
        "type": "bar", "y": labels, "x": values, "orientation": "h", "text": [f"{v:,}" for v in values],
        "textposition": "outside", "cliponaxis": False,
        "marker": {"color": [PALETTE[0], PALETTE[5]], "pattern": {"shape": ["", "/"], "fgcolor": "#ffffff"}},
        "hovertemplate": "%{y}: %{x:,} children<extra></extra>",
    }], {"yaxis": {"autorange": "reversed"}, "xaxis": {"title": {"text": "Children"}}, "margin": {"l": 300}},
        height=240)


def cme_summary(cme: pd.DataFrame) -> str:
    if cme.empty or not int(cme["cme_children"].iloc[0]):
        return "No children were missing education in this period."
    row = cme.iloc[0]
    count = int(row["cme_children"])
    return (f"{_n(count, 'child', 'children')} {'was' if count == 1 else 'were'} missing education at some "
            f"time in the period; "
            f"{int(row['cme_children_went_missing']):,} of them also went missing from home or care in it.")
