"""The board pack: an A4 PDF of the board's figures for one period, built offline.

Data flows as everywhere else: the named queries (`pipelines.store.run_named`) and
`pipelines.kpis.compute_kpis` give the figures; the dashboard's own figure functions
(`dashboard/figures/*.py`) draw them, so the pack shows exactly what the dashboard shows;
kaleido (Chromium, no network) turns each figure into a PNG; a Jinja2 template
(`templates/board_pack.html` and `.css`) lays them out and WeasyPrint prints the PDF with
a URL fetcher that reads only `data:` URLs and files of the templates folder.

Small numbers (docs/metrics.md "Small numbers") are suppressed by default: counts from 1
to 4 are printed `<5`, ratios built on a number under 5 are not shown, and no chart
draws a bar, point or line value that would give such a count away (it is left out and
`<5` written in its place, or the chart says how it is shown). The narrative is written
from the same suppressed figures. Data-quality counts (rows of source files, rule
findings) describe files, not children, and are not suppressed, as on the dashboard.

See docs/board_pack.md for the contents and how the narrative is derived.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import math
import numbers
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.config import Settings
from pipelines.suppression import SMALL_COUNT, count_text, is_small, suppress_frame, under_threshold

PACKAGE = Path(__file__).resolve().parent
TEMPLATES = PACKAGE / "templates"
# Plotly's world topojson, vendored for the dashboard's maps (see docs/architecture.md).
TOPOJSON = PACKAGE.parent / "assets" / "topojson"
CHART_WIDTH = 800          # CSS pixels; printed about 170 mm wide, so the dashboard's 14 px text reads at ~8 pt
CHART_SCALE = 1.5          # PNG pixels per CSS pixel: about 170 dpi on paper, sharp enough and quick to print
HOMES_LISTED = 12          # rows of the homes table (worst first); the dashboard lists them all
WITHHELD = "not shown (small numbers)"

# The board KPIs as the pack's table lists them: (label, count key, percentage key, kind).
# Every key of `mfhc kpis` appears once (docs/metrics.md "Board KPIs").
KPI_ROWS = (
    ("Episodes", "episodes", None, "count"),
    ("of which missing", "episodes_by_category.missing", None, "count"),
    ("of which absent", "episodes_by_category.absent", None, "count"),
    ("of which away from placement", "episodes_by_category.away", None, "count"),
    ("Children", "children", None, "count"),
    ("Children with 2 or more episodes", "repeat_children", None, "count"),
    ("Episodes per child", "episodes_per_child", None, "ratio"),
    ("Episodes from care", "from_care_episodes", None, "count"),
    ("High-risk episodes", "high_risk_episodes", None, "count"),
    ("Still missing", "still_missing", None, "count"),
    ("Returned missing episodes", "returned_missing_episodes", None, "count"),
    ("RHIs offered", "rhi_offered", "rhi_offered_pct", "count"),
    ("RHIs offered within 72 hours", "rhi_offered_within_72h", "rhi_offered_within_72h_pct", "count"),
    ("RHIs completed", "rhi_completed", "rhi_completed_pct", "count"),
    ("RHIs completed within 72 hours", "rhi_completed_within_72h", "rhi_completed_within_72h_pct", "count"),
    ("Safe and well checks done", "safe_and_well_done", "safe_and_well_done_pct", "count"),
    ("Median duration (hours)", "median_duration_hours", None, "number"),
)

# Which way is better, for the narrative's "improved" and "worsened": fewer episodes,
# children, high-risk and open episodes and shorter episodes; more timely interviews and
# more safe and well checks. (key, words for the measure, +1 when higher is better).
DIRECTIONS = (
    ("episodes", "episodes", -1),
    ("children", "children going missing", -1),
    ("repeat_children", "children going missing more than once", -1),
    ("high_risk_episodes", "high-risk episodes", -1),
    ("still_missing", "episodes still open at the last load", -1),
    ("median_duration_hours", "the median length of an episode", -1),
    ("rhi_offered_within_72h_pct", "return interviews offered within 72 hours", +1),
    ("rhi_completed_within_72h_pct", "return interviews completed within 72 hours", +1),
    ("safe_and_well_done_pct", "safe and well checks", +1),
)

# Definitions printed in the glossary: each quoted from docs/metrics.md (a test holds them
# to it), with the section of the DfE statutory guidance (January 2014) it serves.
GLOSSARY = (
    ("Episode and period",
     "An episode belongs to a period when its start date lies in it, both ends inclusive.",
     "Definitions used in this guidance; Police definitions"),
    ("Child",
     "The local authority's reference where it is known (la_child_ref on any police record of the person, "
     "child_ref/CHILD, or child_xref.csv), otherwise the police person_ref (both pseudonymised).",
     "Collecting, sharing and analysing data on children who go missing"),
    ("From care",
     "For a child known to SSDA903 (in any of its tables): an SSDA903 episode of care covers the start date "
     "(DECOM ≤ date and DEC blank or ≥ date). For any other child: the first police record's missing_from_type "
     "is foster_care, childrens_home or other_placement. Otherwise from home.",
     "Additional actions to protect looked after children; Data on looked after children who go missing or "
     "are away from placement without authorisation"),
    ("Children with 2 or more episodes", "children with 2 or more episodes in the period",
     "Children who repeatedly run away and go missing"),
    ("High-risk episodes", "episodes whose (highest) risk level is high", "When a child goes missing: Risk assessment"),
    ("Still missing", "episodes in the period with no end at the time of the load",
     "When a child goes missing: Risk assessment"),
    ("Returned missing episodes",
     "episodes of category missing with an end: the denominator of every RHI figure",
     "When a child is found: Independent return interviews"),
    ("RHI offered / completed within 72 hours",
     "\"Within 72 hours\" means no later than 72:00 hours after the return, the boundary included.",
     "When a child is found: Independent return interviews"),
    ("Safe and well checks done",
     "police-known returned missing episodes with a police safe and well check",
     "When a child is found: Safe and well checks"),
    ("Median duration", "median (the mean of the middle two for an even count) of the durations, 1 decimal",
     "When a child goes missing: Risk assessment"),
    ("Children's home rate", "Rate = episodes / placed-child-years.",
     "Children's home staff and foster carers; Collecting, sharing and analysing data on children who go missing"),
    ("Outlier home", "A home above the 99.8% upper limit is an outlier and is named.",
     "Local Safeguarding Children Board (LSCB); Collecting, sharing and analysing data on children who go missing"),
    ("Rate per 1,000 children (wards)", "Rate per 1,000 children = episodes / ward child population × 1,000",
     "Collecting, sharing and analysing data on children who go missing"),
    ("Newly repeat",
     "A child is newly repeat in the month of their first episode in the period whose count is exactly 2; "
     "once per child per period.",
     "Children who repeatedly run away and go missing"),
    ("Escalation rule",
     "N episodes whose start dates lie within D consecutive days (at most D − 1 days apart), the last of them in "
     "the period.",
     "Children who repeatedly run away and go missing; Runaway and Missing From Home and Care (RMFHC) protocol"),
    ("Declined / no contact",
     "returned missing episodes whose linked RHIs were all declined / all no contact.",
     "When a child is found: Independent return interviews"),
)


class BoardPackError(ValueError):
    """The period cannot be reported (e.g. it ends before it starts)."""


# --------------------------------------------------------------------------- charts to PNG

_kaleido_lock = threading.Lock()
_kaleido_started = False


def start_renderer() -> None:
    """Start the kaleido server once per process: Chromium boots in the background (about
    3 s cold) while the queries run; a warm server takes about 0.3 s an image. MathJax off and
    the dashboard's own Plotly.js named (kaleido's default is plotly.py's copy, else a CDN),
    so the page kaleido draws in fetches nothing from the web."""
    import kaleido

    from dashboard.figures.common import PLOTLY_JS

    global _kaleido_started
    with _kaleido_lock:
        if not _kaleido_started:
            kaleido.start_sync_server(mathjax=False, plotlyjs=(PLOTLY_JS.as_uri(), "utf-8"), silence_warnings=True)
            _kaleido_started = True


def _png(figure, height: int) -> str:
    """The figure as a PNG data URL; the world topojson from our assets, as the dashboard
    serves it (geo figures load it even when the world map is hidden)."""
    import kaleido

    start_renderer()
    with _kaleido_lock:
        data = kaleido.calc_fig_sync(
            figure, opts={"format": "png", "width": CHART_WIDTH, "height": height, "scale": CHART_SCALE},
            topojson=TOPOJSON.as_uri() + "/")
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def close_renderer() -> None:
    """Stop the kaleido server (the command line does, once the pack is written)."""
    import kaleido

    global _kaleido_started
    with _kaleido_lock:
        if _kaleido_started:
            # Chromium may write half a message as it closes; choreographer logs that with a
            # traceback and ignores it. Nothing is lost: keep it off the user's terminal.
            pipe_log = logging.getLogger("choreographer.channels.pipe")
            level = pipe_log.level
            pipe_log.setLevel(logging.CRITICAL)
            try:
                kaleido.stop_sync_server(silence_warnings=True)
            finally:
                pipe_log.setLevel(level)
            _kaleido_started = False


@dataclass
class Chart:
    title: str
    description: str
    figure: object
    height: int
    summary: str = ""
    notes: list = field(default_factory=list)
    image: str = ""


# --------------------------------------------------------------------------- words and numbers

def _value(kpis: dict, key: str):
    if "." in key:
        outer, inner = key.split(".")
        return kpis[outer][inner]
    return kpis[key]


def _is_withheld(kpis: dict, key: str) -> bool:
    return key in kpis.get("suppressed", ())


def _count(value) -> str:
    if value == SMALL_COUNT:
        return SMALL_COUNT
    return count_text(value, suppress=False)


def _format(value, kind: str) -> str:
    if value == SMALL_COUNT:
        return SMALL_COUNT
    if value is None:
        return "–"
    if kind == "pct":
        return f"{value:.1f}%"
    if kind == "ratio":
        return f"{value:.2f}"
    if kind == "number":
        return f"{value:,.1f}"
    return f"{int(value):,}"


def kpi_rows(current: dict, previous: dict, year_before: dict) -> list[dict]:
    """The KPI table: value, and the change against the previous period and a year before
    in the dashboard's words (arrow and words, never colour alone)."""
    from dashboard.figures.overview import change_words

    rows = []
    for label, key, pct_key, kind in KPI_ROWS:
        value = _value(current, key)
        text = "not shown" if value is None and _is_withheld(current, key) else _format(value, kind)
        if pct_key:
            pct = current[pct_key]
            text += f" ({_format(pct, 'pct')})" if pct is not None else (
                " (% not shown)" if _is_withheld(current, pct_key) else "")
        # The change is of the percentage where there is one, else of the figure itself.
        compare_key, compare_kind = (pct_key, "pct") if pct_key else (key, kind if kind != "ratio" else "number")
        changes = []
        for before, against in ((previous, "the previous period"), (year_before, "a year before")):
            now, then = _value(current, compare_key), _value(before, compare_key)
            if SMALL_COUNT in (now, then) or _is_withheld(current, compare_key) or _is_withheld(before, compare_key):
                changes.append("not compared (small numbers)")
            else:
                # The dashboard's words, without "on the previous period": the column says so.
                changes.append(change_words(now, then, compare_kind, "before")
                               .replace(" on before", "").replace("same as before", "same")
                               .replace("no figure for before", "no figure to compare"))
        rows.append({"label": label, "key": key, "value": text, "previous": changes[0], "year": changes[1],
                     "indent": label.startswith("of which")})
    return rows


def _degree(relative: float) -> str:
    size = abs(relative)
    if size >= 0.25:
        return "markedly"
    if size >= 0.10:
        return "noticeably"
    return "slightly"


def comparison_sentences(current: dict, year_before: dict, previous: dict) -> tuple[list[str], list[str], list[str]]:
    """(improved, worsened, about the same) against the same period a year before (the
    seasons match), the previous period given in brackets. A count counts as changed when
    it moves by 5% or more, a percentage by 2 points or more; a figure withheld for small
    numbers is not compared."""
    improved, worsened, same = [], [], []
    for key, words, better in DIRECTIONS:
        now, then, last = current.get(key), year_before.get(key), previous.get(key)
        if now is None or then is None or SMALL_COUNT in (now, then):
            continue
        pct = key.endswith("_pct")
        difference = now - then
        changed = abs(difference) >= 2 if pct else (then > 0 and abs(difference) / then >= 0.05) or (
            then == 0 and now > 0)
        unit = (lambda v: f"{v:.1f}%") if pct else (
            (lambda v: f"{v:,.1f} hours") if key == "median_duration_hours" else (lambda v: f"{int(v):,}"))
        since_last = ""
        if last is not None and last != SMALL_COUNT and previous.get("period") != year_before.get("period"):
            since_last = f"; {unit(last)} in the previous period"
        if not changed:
            same.append(f"{words} ({unit(now)} against {unit(then)})")
            continue
        rising = difference > 0
        if pct:
            how = f"{'up' if rising else 'down'} {abs(difference):.1f} points"
            degree = "markedly" if abs(difference) >= 10 else ("noticeably" if abs(difference) >= 5 else "slightly")
        else:
            relative = difference / then if then else 1.0
            how = f"{'up' if rising else 'down'} {abs(relative) * 100:.0f}%" if then else "up from none"
            degree = _degree(relative)
        sentence = (f"{words[0].upper()}{words[1:]} {'rose' if rising else 'fell'} {degree}: {unit(now)} against "
                    f"{unit(then)} a year before ({how}{since_last}).")
        (improved if (difference > 0) == (better > 0) else worsened).append(sentence)
    return improved, worsened, same


# --------------------------------------------------------------------------- bars withheld

def _withhold_bars(figure, trace: int, mask, horizontal: bool = False) -> int:
    """Leave out the bars of trace `trace` where `mask` is true (a count of 1 to 4) and
    write `<5` at their foot instead. Returns how many were left out."""
    data = figure.data[trace]
    values = list(data.x if horizontal else data.y)
    categories = list(data.y if horizontal else data.x)
    text = data.text
    texts = list(text) if text is not None and not isinstance(text, str) else [text] * len(values)
    hidden = 0
    for i, hide in enumerate(mask):
        if not hide:
            if isinstance(texts[i], numbers.Real) and not isinstance(texts[i], bool) and float(texts[i]).is_integer():
                texts[i] = f"{int(texts[i]):,}"  # a column with a gap turns float: keep "13", not "13.0"
            continue
        hidden += 1
        values[i] = None
        texts[i] = ""
        if horizontal:
            figure.add_annotation(x=0, y=categories[i], text=SMALL_COUNT, showarrow=False, xanchor="left",
                                  font={"size": 12})
        else:
            figure.add_annotation(x=categories[i], y=0, text=SMALL_COUNT, showarrow=False, yanchor="bottom",
                                  font={"size": 12})
    if hidden:
        if horizontal:
            data.x = values
        else:
            data.y = values
        data.text = texts
    return hidden


def _legend_on_top(figure):
    """Monthly charts: the legend above the plot, clear of the slanted month labels that a
    page-wide chart gets (on screen the dashboard's wider charts keep them level)."""
    figure.update_layout(legend={"orientation": "h", "x": 0, "y": 1.02, "xanchor": "left", "yanchor": "bottom"},
                         margin={"t": 40})
    return figure


def _small_mask(series: pd.Series) -> list[bool]:
    return [bool(is_small(v)) for v in series]


# --------------------------------------------------------------------------- the sections

def _period_name(start: dt.date, end: dt.date) -> str:
    from dashboard.filters import financial_quarter, financial_year

    if (start, end) == financial_year(start):
        return f"Financial year {start.year}/{str(start.year + 1)[2:]}"
    if (start, end) == financial_quarter(start):
        year = start.year if start.month >= 4 else start.year - 1
        number = ((start.month - 4) % 12) // 3 + 1
        return f"Q{number} {year}/{str(year + 1)[2:]} ({start:%B} to {end:%B %Y})"
    return f"{start:%-d %B %Y} to {end:%-d %B %Y}"


def _overview_charts(con, params: dict, raw: dict, suppress: bool) -> tuple[list[Chart], dict]:
    from dashboard.figures.overview import funnel_figure, funnel_frame, monthly_trend_figure
    from pipelines.store import run_named

    trend = run_named(con, "overview_monthly_trend", params)
    shown = suppress_frame(trend, counts=("episodes", "children")) if suppress else trend
    figure = _legend_on_top(monthly_trend_figure(shown))
    notes = []
    left_out = sum(len(v) for v in shown.attrs.get("suppressed", {}).values())
    if left_out:
        notes.append(f"{left_out} monthly value{'s' if left_out != 1 else ''} of 1 to 4 left out of the lines "
                     "(small numbers).")
    if len(trend):
        busiest = trend.loc[trend["episodes"].idxmax()]
        summary = (f"{count_text(int(trend['episodes'].sum()), suppress)} episodes over {len(trend)} months; the busiest month was "
                   f"{pd.Timestamp(busiest['month']):%B %Y} with "
                   f"{count_text(int(busiest['episodes']), suppress)}.")
    else:
        summary = "No episodes in this period."
    trend_chart = Chart("Episodes and children by month",
                        "Episodes by the month they started, and the distinct children who went missing in each "
                        "month.", figure, 380, summary, notes)

    funnel = funnel_frame(raw)
    funnel_notes = []
    if suppress and under_threshold(raw["returned_missing_episodes"]):
        from dashboard.figures.common import empty_figure

        funnel_fig = empty_figure("Fewer than 5 returned missing episodes: not shown (small numbers)")
    else:
        small = _small_mask(funnel["episodes"]) if suppress else [False] * len(funnel)
        funnel_fig = funnel_figure(funnel.assign(episodes=[None if s else v for s, v in
                                                           zip(small, funnel["episodes"])]))
        if any(small):
            funnel_notes.append("Steps of 1 to 4 episodes are left out (small numbers): "
                                + ", ".join(s for s, hide in zip(funnel["step"], small) if hide) + ".")
    funnel_summary = "; ".join(f"{row.step}: {count_text(row.episodes, suppress)}" for row in funnel.itertuples())
    funnel_chart = Chart("Return home interviews (RHI funnel)",
                         "Of the missing episodes that ended, how many were offered an interview and how many "
                         "completed one, within the 72 hours the guidance expects.", funnel_fig, 340,
                         funnel_summary + ".", funnel_notes)
    return [trend_chart, funnel_chart], {"trend": trend}


def _homes_section(con, params: dict, suppress: bool) -> dict:
    from dashboard.figures.homes import (
        ABOVE_95, NO_YEARS, OUTLIER, funnel_figure, funnel_frame, homes_table,
    )
    from pipelines.store import run_named

    frame = funnel_frame(run_named(con, "homes_rates", params))
    small = frame["episodes"].map(is_small).astype(bool) if suppress else pd.Series(False, index=frame.index)
    plotted = frame[~small]
    notes = []
    if small.any():
        notes.append(f"{int(small.sum())} home{'s' if small.sum() != 1 else ''} with 1 to 4 episodes "
                     f"{'are' if small.sum() != 1 else 'is'} not placed on the chart or assessed against the limits "
                     "(small numbers); the overall rate and the limits still count them.")
    figure = funnel_figure(plotted)
    placed = frame[frame["position"] != NO_YEARS]
    # A home of 1 to 4 episodes is not assessed in the suppressed pack: its position against
    # the limits, with its placed-child-years, would narrow its count down within 1 to 4.
    # Outliers in order of episodes above expected (the dashboard's table order).
    assessed = placed[~small[placed.index]].assign(_excess=lambda f: f["episodes"] - f["expected"])
    outliers = assessed[assessed["position"] == OUTLIER].sort_values("_excess", ascending=False)
    above = assessed[assessed["position"] == ABOVE_95].sort_values("_excess", ascending=False)
    if placed.empty or placed["overall_rate"].isna().all():
        summary = "No children's home had placement days in this period, so no rates can be compared."
        overall = None
    else:
        overall = float(placed["overall_rate"].iloc[0])
        summary = (f"{len(placed)} homes had children placed in the period: {count_text(int(placed['episodes'].sum()), suppress)} "
                   f"episodes over {placed['placed_child_years'].sum():.1f} placed-child-years, an overall rate of "
                   f"{overall:.2f} episodes per placed-child-year. {len(outliers)} above the 99.8% limit "
                   f"(outliers), {len(above)} more above the 95% limit only"
                   + (f"; {int(small.sum())} with 1 to 4 episodes not assessed here (small numbers)." if small.any()
                      else "."))
    not_ours = int(frame["episodes_child_not_in_ssda903"].sum())
    if not_ours:
        notes.append(f"{count_text(not_ours, suppress)} episodes are of children not in this authority's SSDA903 "
                     "return (for example placed here by another authority): their placement days are unknown, so "
                     "rates that include them are overstated.")
    rows = []
    # Homes of 1 to 4 episodes are left out of the (worst first) table when suppressed: their
    # place in its order would tell how they stand against the limits.
    listed = frame[~small]
    for row in homes_table(listed).head(HOMES_LISTED).to_dict("records"):
        episodes = int(row["Episodes"])
        hidden = suppress and is_small(episodes)
        rows.append({
            "home": row["Home"],
            "episodes": SMALL_COUNT if hidden else f"{episodes:,}",
            "years": f"{row['Child-years']:.2f}",
            # A rate is a ratio: not shown when its episodes are under 5 (zero included).
            "rate": "not shown" if suppress and under_threshold(episodes) and pd.notna(row["Rate"])
            else ("–" if pd.isna(row["Rate"]) else f"{row['Rate']:.1f}"),
            "expected": "–" if pd.isna(row["Expected"]) else f"{row['Expected']:.1f}",
            "position": "not shown (small numbers)" if hidden else row["Position"],
        })
    chart = Chart("Children's homes: episodes per placed-child-year (funnel plot)",
                  "Each home's rate of episodes per placed-child-year against the 95% and 99.8% control limits "
                  "around the overall rate; a home above the 99.8% limit is an outlier and is named.",
                  figure, 450, summary, notes)
    unlisted = ""
    if len(listed) > HOMES_LISTED:
        unlisted = (f"{len(listed) - HOMES_LISTED} more homes are listed on the dashboard's Children's homes page"
                    + ("." if len(outliers) + len(above) > HOMES_LISTED else ", none of them above the 95% limit."))
    if small.any():
        unlisted += (f" {int(small.sum())} home{'s' if small.sum() != 1 else ''} with 1 to 4 episodes "
                     f"{'are' if small.sum() != 1 else 'is'} not listed (small numbers).")
    return {"chart": chart, "table": rows, "unlisted": unlisted, "outliers": outliers, "above": above, "frame": frame,
            "small_homes": int(small.sum()), "overall": overall}


def _hotspots_section(con, params: dict, suppress: bool) -> dict:
    from dashboard.figures.hotspots import cluster_outlines, ward_map_figure, ward_table
    from pipelines.store import run_named

    place = {**params, "place": "missing_from"}
    rates = run_named(con, "hotspots_ward_rates", place)
    boundaries = run_named(con, "hotspots_ward_boundaries")
    cells = run_named(con, "hotspots_found_cells", params)
    clusters = cluster_outlines(cells, dict(zip(boundaries["ward"], boundaries["ward_name"])))
    # The map already shows no rate under 5 episodes (grey, "<5"), and clusters of fewer
    # than 5 episodes are never drawn: nothing on it gives a small count away.
    figure = ward_map_figure(rates, boundaries, clusters, "missing_from")
    top = ward_table(rates, top=8)
    rows = [{"ward": r[0], "episodes": count_text(r[1], suppress), "children": r[2], "rate": r[3], "imd": r[4]}
            for r in top.itertuples(index=False)]
    summary = _map_words(rates, clusters, suppress)
    chart = Chart("Area hotspots: where children went missing from, per 1,000 children",
                  "Episodes by the ward the child went missing from, per 1,000 children living there (Census 2021). "
                  "Wards with fewer than 5 episodes show no rate (grey, marked <5). Dashed outlines are clusters "
                  "of places where children were found.", figure, 500, summary)
    return {"chart": chart, "table": rows, "rates": rates, "clusters": clusters}


def _map_words(rates: pd.DataFrame, clusters: pd.DataFrame, suppress: bool) -> str:
    """The map in words, shorter than the dashboard's (which lists every cluster): only
    wards with a rate (5 or more episodes) and clusters (5 or more) are named with counts."""
    total = int(rates["episodes"].sum()) if len(rates) else 0
    if not total:
        return "No episodes with a known ward in this period."
    rated = rates[rates["rate_per_1000"].notna()].sort_values("rate_per_1000", ascending=False)
    text = [f"{count_text(total, suppress)} episodes by the ward children went missing from, across {len(rates)} "
            "wards."]
    if len(rated):
        text.append("Highest rates per 1,000 children: " + "; ".join(
            f"{r.ward_name} {r.rate_per_1000:.1f}" for r in rated.head(3).itertuples()) + ".")
    if len(rates) > len(rated):
        text.append(f"{len(rates) - len(rated)} wards have fewer than 5 episodes and no rate.")
    if len(clusters):
        text.append(f"{len(clusters)} found-location cluster{'s' if len(clusters) != 1 else ''} outlined; the "
                    "largest: " + "; ".join(f"{c.cluster} {c.episodes:,} episodes ({c.wards.split(', ')[0]})"
                                            for c in clusters.head(3).itertuples()) + ".")
    return " ".join(text)


def _repeat_section(con, params: dict, settings: Settings, suppress: bool) -> dict:
    from dashboard.figures.repeat import (
        BAND_LABELS, cohort_bands_figure, escalation_by_month, escalation_figure, escalation_words,
        newly_repeat_figure,
    )
    from pipelines.store import run_named

    rule = settings.escalation
    bands = run_named(con, "repeat_cohort_bands", params)
    newly = run_named(con, "repeat_newly_by_month", params)
    flagged = run_named(con, "repeat_escalation", {**params, "escalation_episodes": rule.episodes,
                                                   "escalation_days": rule.days})
    by_month = escalation_by_month(flagged, newly["month"])
    charts = []

    figure = cohort_bands_figure(bands)
    band_small = [suppress and (is_small(c) or is_small(e)) for c, e in zip(bands["children"], bands["episodes"])]
    if bands["children"].sum():
        texts = []
        for c, e, s, hide in zip(bands["children"], bands["episodes"], bands["share_of_episodes_pct"], band_small):
            share = "" if s is None or pd.isna(s) or (suppress and under_threshold(e)) else f" ({s:.1f}%)"
            texts.append(f"{count_text(c, suppress)} children<br>{count_text(e, suppress)} episodes{share}")
        figure.data[0].text = texts
        hidden = _withhold_bars(figure, 0, band_small)
    else:
        hidden = 0
    children, episodes = int(bands["children"].sum()), int(bands["episodes"].sum())
    if children:
        repeat = bands[bands["band"] != "1"]
        heavy = bands[bands["band"].isin(["6-9", "10+"])]
        heavy_children = int(heavy["children"].sum())
        summary = (f"{count_text(children, suppress)} children had {count_text(episodes, suppress)} episodes; "
                   f"{count_text(int(repeat['children'].sum()), suppress)} of them went missing more than once.")
        if not (suppress and under_threshold(heavy_children)):
            summary += (f" Children with 6 or more episodes ({heavy_children:,}) account for "
                        f"{100 * heavy['episodes'].sum() / episodes:.1f}% of episodes.")
    else:
        summary = "No episodes in this period."
    notes = [f"{hidden} band{'s' if hidden != 1 else ''} of 1 to 4 children or episodes not drawn: marked <5 "
             "(small numbers)."] if hidden else []
    charts.append(Chart("Repeat missing: children by number of episodes",
                        "Children banded by their number of episodes in the period ("
                        + ", ".join(BAND_LABELS.values()) + ").", figure, 250, summary, notes))

    figure = newly_repeat_figure(newly)
    mask = _small_mask(newly["children_newly_repeat"]) if suppress else []
    hidden = _withhold_bars(figure, 0, mask) if len(newly) else 0
    total = int(newly["children_newly_repeat"].sum()) if len(newly) else 0
    summary = (f"{count_text(total, suppress)} children became repeat missing (a second episode within 12 months) "
               "in the period." if total else "No child became a repeat missing child in this period.")
    notes = [f"{hidden} month{'s' if hidden != 1 else ''} with 1 to 4 children: bar not drawn, marked <5."] if hidden else []
    charts.append(Chart("Children newly repeat missing, by month",
                        "Children whose second episode within 12 months started in the month.", figure, 220,
                        summary, notes))

    figure = escalation_figure(by_month)
    mask = _small_mask(by_month["children_flagged"]) if suppress else []
    hidden = _withhold_bars(figure, 0, mask) if by_month["children_flagged"].sum() else 0
    count = len(flagged)
    summary = (f"{count_text(count, suppress)} children had {rule.episodes} or more episodes within {rule.days} days "
               "in the period." if count else
               f"No child had {rule.episodes} or more episodes within {rule.days} days in this period.")
    notes = [f"{hidden} month{'s' if hidden != 1 else ''} with 1 to 4 children: bar not drawn, marked <5."] if hidden else []
    charts.append(Chart("Children meeting the escalation rule, by month first met",
                        escalation_words(rule.episodes, rule.days), figure, 220, summary, notes))
    return {"charts": charts, "bands": bands, "flagged": count, "rule": rule, "newly": total}


def _interviews_section(con, params: dict, suppress: bool) -> dict:
    from dashboard.figures.interviews import (
        FACTOR_LABELS, NO_OFFER, factors_figure, outcomes_figure, outcomes_frame, provider_figure,
        timeliness_figure,
    )
    from pipelines.store import run_named

    rhi = ("rhi_offered_within_72h", "rhi_completed_within_72h")
    by_month = run_named(con, "interviews_by_month", params)
    providers = run_named(con, "interviews_by_provider", params)
    outcomes = outcomes_frame(run_named(con, "interviews_outcomes", params))
    factors = run_named(con, "interviews_factors", params)
    returned = int(by_month["returned_missing_episodes"].sum())  # before suppression blanks small months
    if suppress:
        by_month = suppress_frame(by_month, counts=("returned_missing_episodes", *rhi),
                                  shares={f"{c}_pct": (c, "returned_missing_episodes") for c in rhi})
        providers = suppress_frame(providers, counts=("episodes", *rhi),
                                   shares={f"{c}_pct": (c, "episodes") for c in rhi})
    charts = []
    notes = []
    withheld = sum(len(by_month.attrs.get("suppressed", {}).get(f"{c}_pct", [])) for c in rhi)
    if withheld:
        notes.append(f"{withheld} monthly percentage{'s' if withheld != 1 else ''} built on fewer than 5 episodes "
                     "left out (small numbers).")
    summary = "No returned missing episodes in this period."
    if returned:
        summary = ("Monthly share of returned missing episodes offered, and completed, an interview within 72 "
                   "hours.")
    charts.append(Chart("Return interviews within 72 hours, by month",
                        "Of the returned missing episodes of each month, the share offered and the share completed "
                        "within 72 hours of the return.", _legend_on_top(timeliness_figure(by_month)), 360, summary, notes))

    rated = providers[(providers["provider"] != NO_OFFER) & providers["rhi_completed_within_72h_pct"].notna()]
    notes = []
    unrated = providers[(providers["provider"] != NO_OFFER) & providers["rhi_completed_within_72h_pct"].isna()]
    if len(unrated):
        notes.append(f"{len(unrated)} provider{'s' if len(unrated) != 1 else ''} with fewer than 5 episodes (or "
                     f"fewer than 5 within 72 hours) show{'s' if len(unrated) == 1 else ''} no rate.")
    if rated.empty:
        summary = "No provider held enough interviews in this period to show a rate."
    else:
        best = rated.sort_values("rhi_completed_within_72h_pct", ascending=False).iloc[0]
        worst = rated.sort_values("rhi_completed_within_72h_pct").iloc[0]
        summary = (f"{len(rated)} providers with a rate. Highest completion within 72 hours: {best['provider']} "
                   f"({best['rhi_completed_within_72h_pct']:.1f}%); lowest: {worst['provider']} "
                   f"({worst['rhi_completed_within_72h_pct']:.1f}%).")
    charts.append(Chart("Return interviews within 72 hours, by provider",
                        "Each provider's share of its returned missing episodes offered and completed within 72 "
                        "hours.", provider_figure(providers), max(280, 60 * max(len(rated), 1) + 140), summary,
                        notes))

    figure = outcomes_figure(outcomes)
    notes = []
    if len(outcomes) and outcomes["denominator"].sum():
        texts, widths = [], []
        for r in outcomes.itertuples():
            hide = suppress and (under_threshold(r.count) or under_threshold(r.denominator))
            if hide:
                texts.append(f"{WITHHELD} ({count_text(r.count, True)} of {count_text(r.denominator, True)})")
                widths.append(None)
            else:
                counts = f"{int(r.count):,} of {int(r.denominator):,}"
                texts.append(f"{r.percent:.1f}% ({counts})" if pd.notna(r.percent) else f"– ({counts})")
                widths.append(0 if pd.isna(r.percent) else r.percent)
        figure.data[0].text = texts
        figure.data[0].x = widths
        if None in widths:
            notes.append("A rate built on fewer than 5 episodes or interviews is not shown (small numbers).")
    summary = "; ".join(f"{r.measure}: {t}" for r, t in zip(outcomes.itertuples(), figure.data[0].text or [])) \
        if len(outcomes) and outcomes["denominator"].sum() else "No returned missing episodes in this period."
    charts.append(Chart("Declined, no contact, and parents or carers consulted",
                        "Returned missing episodes whose interviews were all declined or all no contact; and, of "
                        "declined interviews, those where parents or carers were consulted.", figure, 260,
                        summary.replace("<br>", " ") + ".", notes))

    figure = factors_figure(factors)
    hidden = _withhold_bars(figure, 0, _small_mask(factors["interviews"]), horizontal=True) \
        if suppress and len(factors) and factors["interviews"].sum() else 0
    notes = [f"{hidden} factor{'s' if hidden != 1 else ''} named in 1 to 4 interviews: bar not drawn, marked <5."] \
        if hidden else []
    top = factors.head(3)
    summary = ("Most often named: " + "; ".join(f"{FACTOR_LABELS.get(r.factor, r.factor)} "
                                                f"({count_text(r.interviews, suppress)} interviews)"
                                                for r in top.itertuples()) + ".") if len(top) else \
        "No push or pull factors recorded on interviews linked to this period's episodes."
    charts.append(Chart("Push and pull factors named in return interviews",
                        "How many interviews linked to the period's episodes name each factor.", figure,
                        max(240, 26 * len(factors) + 100), summary, notes))
    return {"charts": charts, "rated_providers": rated, "outcomes": outcomes}


def _quality_section(con, params: dict, load_id: str | None, suppress: bool) -> dict:
    from dashboard.figures.quality import source_status_words, unmatched_words
    from pipelines.store import run_named

    log = run_named(con, "quality_load_log")
    if load_id is not None and len(log):
        log = log[log["load_id"] == load_id]
    files = [{"file": r.file, "read": f"{int(r.rows_read):,}", "loaded": f"{int(r.rows_loaded):,}",
              "rejected": f"{int(r.rows_rejected):,}",
              "unknown": "" if pd.isna(r.unknown_postcodes) else f"{int(r.unknown_postcodes):,}"}
             for r in log.itertuples()]
    rules = run_named(con, "quality_rejections_by_rule")
    findings = run_named(con, "quality_ssda903_findings")
    status = run_named(con, "quality_source_status")
    gap = run_named(con, "quality_police_not_in_ssda903", params)
    unmatched = run_named(con, "quality_rhi_unmatched")
    gap_total = int(gap["episodes"].sum()) if len(gap) else 0
    return {
        "files": files,
        "rules": [{"rule": rule, "files": ", ".join(sorted(part["file"])), "rows": f"{int(part['rows_rejected'].sum()):,}"}
                  for rule, part in sorted(rules.groupby("rule"), key=lambda item: -item[1]["rows_rejected"].sum())],
        "rejected_total": int(rules["rows_rejected"].sum()) if len(rules) else 0,
        "findings": [{"code": r.code, "message": r.message, "findings": f"{int(r.findings):,}"}
                     for r in findings.itertuples()],
        "sources": source_status_words(status) if len(status) else "No record of the sources expected.",
        "unmatched": unmatched_words(unmatched),
        "police_gap": (f"{count_text(gap_total, suppress)} police-known episodes of looked-after children in the "
                       "period are not in the SSDA903 Missing table." if gap_total else
                       "Every police-known episode of a looked-after child in the period is in the SSDA903 "
                       "Missing table."),
    }


def _narrative(period: str, current: dict, previous: dict, year_before: dict, homes: dict, hotspots: dict,
               repeat: dict, interviews: dict, quality: dict, suppress: bool) -> dict:
    """Plain English from the figures: what improved and worsened on a year before, the
    outlier homes, the areas, repeat missing, interviews and the data. Every number in it
    is the suppressed one when suppression is on."""
    improved, worsened, same = comparison_sentences(current, year_before, previous)
    lead = (f"In {period[:1].lower() + period[1:] if period.startswith('Financial') else period}, {_count(current['episodes'])} episodes of {_count(current['children'])} children "
            f"started; {_count(current['repeat_children'])} children went missing more than once and "
            f"{_count(current['from_care_episodes'])} episodes were from care.")
    other = []
    outliers, above = homes["outliers"], homes["above"]
    if homes["overall"] is None:
        other.append("No children's home had children placed in the period, so homes cannot be compared.")
    elif outliers.empty:
        other.append("No children's home is above the 99.8% control limit: every home's rate of episodes is within "
                     "what chance would explain around the overall rate"
                     + (f", though {len(above)} {'is' if len(above) == 1 else 'are'} above the 95% limit and worth "
                        "watching: " + ", ".join(above['home_name']) + "." if len(above) else "."))
    else:
        parts = []
        for r in outliers.head(3).itertuples():
            times = r.episodes / r.expected if r.expected else float("inf")
            parts.append(f"{r.home_name} had {r.episodes:,} episodes where about {r.expected:.1f} were expected "
                         f"from its placements — {_times(times)} the rate of homes overall")
        other.append(f"{len(outliers)} children's home{'s are' if len(outliers) != 1 else ' is'} above the 99.8% "
                     "control limit, more than chance would explain, and named as outlier"
                     f"{'s' if len(outliers) != 1 else ''}: " + "; ".join(parts)
                     + (f"; and {len(outliers) - 3} more (see the homes table)" if len(outliers) > 3 else "")
                     + ". The board may wish to ask "
                     "how these homes and their placing authorities are responding."
                     + (f" {len(above)} more {'is' if len(above) == 1 else 'are'} above the 95% limit only." if len(above)
                        else ""))
    rates = hotspots["rates"]
    rated = rates[rates["rate_per_1000"].notna()].sort_values("rate_per_1000", ascending=False)
    if len(rated):
        top = rated.head(3)
        words = "; ".join(f"{r.ward_name} ({r.rate_per_1000:.1f} per 1,000 children)" for r in top.itertuples())
        text = f"Children went missing most often, for the number of children living there, from {words}."
        if len(rated) >= 4:
            median = rated["rate_per_1000"].median()
            text += (f" The highest, {top.iloc[0]['ward_name']}, is {_times(top.iloc[0]['rate_per_1000'] / median)} "
                     f"the rate of the typical ward ({median:.1f}).")
        clusters = hotspots["clusters"]
        if len(clusters):
            text += (f" {len(clusters)} place{'s' if len(clusters) != 1 else ''} where many children were found "
                     "stand out, the largest: " + "; ".join(f"{c.cluster} around {' and '.join(c.wards.split(', ')[:2])}"
                                                      for c in clusters.head(3).itertuples())
                     + ".")
        other.append(text)
    bands = repeat["bands"]
    episodes = int(bands["episodes"].sum())
    heavy = bands[bands["band"].isin(["6-9", "10+"])]
    heavy_children = int(heavy["children"].sum())
    if episodes and heavy_children and not (suppress and under_threshold(heavy_children)):
        other.append(f"A few children account for much of the work: {heavy_children:,} children with 6 or more "
                     f"episodes had {100 * heavy['episodes'].sum() / episodes:.0f}% of all episodes.")
    elif episodes and heavy_children:
        other.append("Fewer than 5 children had 6 or more episodes in the period.")
    rule = repeat["rule"]
    if repeat["flagged"]:
        other.append(f"{count_text(repeat['flagged'], suppress)} children met the escalation rule ({rule.episodes} "
                     f"or more episodes within {rule.days} days), which the local protocol flags for a strategy discussion.")
    rated_providers = interviews["rated_providers"]
    if len(rated_providers) >= 2:
        best = rated_providers.sort_values("rhi_completed_within_72h_pct", ascending=False).iloc[0]
        worst = rated_providers.sort_values("rhi_completed_within_72h_pct").iloc[0]
        gap = best["rhi_completed_within_72h_pct"] - worst["rhi_completed_within_72h_pct"]
        if gap >= 5:
            other.append(f"Return interview providers differ: {best['provider']} completed "
                         f"{best['rhi_completed_within_72h_pct']:.0f}% within 72 hours, {worst['provider']} "
                         f"{worst['rhi_completed_within_72h_pct']:.0f}%.")
        else:
            other.append("Return interview providers complete interviews within 72 hours at similar rates.")
    other.append(f"The last load rejected {quality['rejected_total']:,} source rows (see the data-quality appendix). "
                 + quality["sources"])
    return {"lead": lead, "improved": improved, "worsened": worsened, "same": same, "other": other}


def _times(ratio: float) -> str:
    if not math.isfinite(ratio):
        return "far above"
    if ratio >= 1.9:
        return f"about {ratio:.0f} times" if ratio >= 2.5 else "about twice"
    if ratio >= 1.15:
        return f"about {ratio:.1f} times"
    return "about the same as"


# --------------------------------------------------------------------------- HTML and PDF

def local_only_fetcher():
    """WeasyPrint's URL fetcher, restricted: `data:` URLs, and `file:` URLs inside the
    templates folder. Anything else (the network, any other file) stops the build."""
    from urllib.parse import unquote, urlsplit

    from weasyprint import URLFetcher

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower()
            if scheme == "file":
                if not Path(unquote(urlsplit(url).path)).resolve().is_relative_to(TEMPLATES):
                    raise ValueError(f"the board pack may not read {url}")
            elif scheme != "data":
                raise ValueError(f"the board pack may not fetch {url}")
            return super().fetch(url, headers)

    return LocalOnlyFetcher(allowed_protocols={"data", "file"}, allow_redirects=False, fail_on_errors=True)


def render_html(context: dict) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["capitalize_first"] = lambda text: text[:1].upper() + text[1:]
    return environment.get_template("board_pack.html").render(**context)


def html_to_pdf(html: str) -> tuple[bytes, int]:
    from weasyprint import HTML

    document = HTML(string=html, base_url=TEMPLATES.as_uri() + "/", url_fetcher=local_only_fetcher()).render()
    return document.write_pdf(), len(document.pages)


def pack_context(settings: Settings, con, period_start: dt.date, period_end: dt.date, suppress: bool,
                 produced_by: str) -> dict:
    """Everything the template prints (charts not yet turned into images)."""
    from dashboard.filters import Filters
    from pipelines.checklist import checklist
    from pipelines.kpis import compute_kpis

    meta = dict(con.execute("select key, value from meta").fetchall())
    first, last = con.execute("select min(start_date), max(start_date) from fct_episode").fetchone()
    filters = Filters(period_start, period_end)
    previous_filters, year_filters = filters.previous_period(), filters.year_before()
    current = compute_kpis(con, period_start, period_end, suppress=suppress)
    previous = compute_kpis(con, previous_filters.period_start, previous_filters.period_end, suppress=suppress)
    year_before = compute_kpis(con, year_filters.period_start, year_filters.period_end, suppress=suppress)
    raw = compute_kpis(con, period_start, period_end) if suppress else current
    params = filters.sql_params()
    period = _period_name(period_start, period_end)

    overview_charts, _ = _overview_charts(con, params, raw, suppress)
    homes = _homes_section(con, params, suppress)
    hotspots = _hotspots_section(con, params, suppress)
    repeat = _repeat_section(con, params, settings, suppress)
    interviews = _interviews_section(con, params, suppress)
    quality = _quality_section(con, params, meta.get("load_id"), suppress)
    narrative = _narrative(period, current, previous, year_before, homes, hotspots, repeat, interviews, quality,
                           suppress)
    loaded_at = meta.get("loaded_at")
    try:
        loaded_words = f"{dt.datetime.fromisoformat(loaded_at):%-d %B %Y, %H:%M}" if loaded_at else "unknown"
    except ValueError:
        loaded_words = loaded_at
    questions = []
    for item in checklist(settings):
        when = item.get("answered_at")
        try:
            when = f"{dt.datetime.fromisoformat(when):%-d %b %Y}" if when else ""
        except ValueError:
            pass
        questions.append({**item, "answered_at": when or "", "answered_by": item.get("answered_by") or ""})
    return {
        "authority": settings.authority_name,
        "period": period,
        "period_dates": f"{period_start:%-d %B %Y} to {period_end:%-d %B %Y}",
        "previous_dates": f"{previous_filters.period_start:%-d %b %Y} to {previous_filters.period_end:%-d %b %Y}",
        "year_dates": f"{year_filters.period_start:%-d %b %Y} to {year_filters.period_end:%-d %b %Y}",
        "produced_on": f"{dt.date.today():%-d %B %Y}",
        "produced_by": produced_by,
        "loaded_at": loaded_words,
        "latest_episode": f"{last:%-d %B %Y}" if last else "no episodes loaded",
        "first_episode": f"{first:%-d %B %Y}" if first else "",
        "synthetic": meta.get("synthetic") == "true",
        "suppress": suppress,
        "kpi_rows": kpi_rows(current, previous, year_before),
        "withheld": [k for k in current.get("suppressed", ())],
        "narrative": narrative,
        "overview_charts": overview_charts,
        "homes": homes,
        "hotspots": hotspots,
        "repeat_charts": repeat["charts"],
        "interview_charts": interviews["charts"],
        "quality": quality,
        "glossary": GLOSSARY,
        "checklist": questions,
    }


def charts_of(context: dict) -> list[Chart]:
    return [*context["overview_charts"], context["homes"]["chart"], context["hotspots"]["chart"],
            *context["repeat_charts"], *context["interview_charts"]]


def render_board_pack(settings: Settings, period_start: dt.date, period_end: dt.date, *, suppress: bool = True,
                      produced_by: str) -> tuple[bytes, int]:
    """(PDF bytes, number of pages). Raises StoreMissing when there is no store."""
    from pipelines.store import read_only

    if period_start > period_end:
        raise BoardPackError("the period ends before it starts")
    if not Path(settings.db_path).exists():
        with read_only(settings.db_path):
            pass  # raises StoreMissing
    start_renderer()
    with read_only(settings.db_path) as con:
        context = pack_context(settings, con, period_start, period_end, suppress, produced_by)
    for chart in charts_of(context):
        chart.image = _png(chart.figure, chart.height)
    return html_to_pdf(render_html(context))


def build_board_pack(settings: Settings, period_start: dt.date, period_end: dt.date, *, suppress: bool = True,
                     produced_by: str, where: str = "cli") -> bytes:
    """The board pack as PDF bytes, and an audit entry (`board_pack`) saying who made it,
    for which period, how many pages and whether small numbers were suppressed."""
    from pipelines.audit import record

    pdf, pages = render_board_pack(settings, period_start, period_end, suppress=suppress, produced_by=produced_by)
    record("board_pack", user=produced_by, what=f"{period_start}..{period_end}", where=where, settings=settings,
           pages=pages, suppressed=suppress)
    return pdf

