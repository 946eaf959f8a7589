"""Repeat missing: cohort bands, children newly repeat by month, the escalation rule and,
for analysts, one pseudonymised child's timeline.

Readings of metrics.md "Repeat-missing cohorts" (the SQL in queries/metrics/repeat.sql
says the same): a child is *newly repeat* in the month of their first episode in the
period that is their second in the rolling 12 months — the child's episodes in order of
start, counting those up to and including this one that start in the 365 days ending on
its start date, the count being exactly 2 — looking back 365 days before the period over
episodes that match the same filters. The *escalation rule* (mfhc.toml `[escalation]
episodes, days`, default 3 in 30) flags a child with that many episodes starting within
that many consecutive days, the last of them in the period. Only pseudonymised keys reach
the browser (the pseudonym in the timeline's choices, 8 characters of it in the lists).
"""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, callback, dcc, html

from dashboard import access, data
from dashboard.components import (
    HTML_TABLE_ROWS, chart_card, chart_outputs, chart_values, downloadable_table, full_rows_from_server,
)
from dashboard.figures.repeat import (
    PAGE_LAYOUT, child_options, cohort_bands_figure, cohort_summary, escalation_by_month, escalation_figure,
    escalation_summary, escalation_table, escalation_words, newly_repeat_figure, newly_repeat_summary,
    timeline_figure, timeline_summary, timeline_table,
)
from dashboard.figures.common import count_label, empty_figure
from dashboard.filters import FILTER_INPUTS, Filters
from pipelines.suppression import display_frame
from pipelines.config import ConfigError, EscalationRule, load_settings

dash.register_page(__name__, path="/repeat", name="Repeat missing", title="Repeat missing — mfhc", order=3)


def escalation_rule() -> EscalationRule:
    try:
        return load_settings().escalation
    except ConfigError:
        return EscalationRule()


def _flagged_children(filters: Filters) -> pd.DataFrame:
    """Every child meeting the escalation rule, as listed (record level: analysts only)."""
    rule = escalation_rule()
    return escalation_table(data.query("repeat_escalation", filters, escalation_episodes=rule.episodes,
                                       escalation_days=rule.days), top=None)


full_rows_from_server("escalation-children", _flagged_children)


def layout(**_query) -> html.Div:
    rule = escalation_rule()
    return html.Div([
        html.H1("Repeat missing"),
        html.P("Children who go missing again and again are at the greatest risk. This page shows how episodes "
               "concentrate in a few children, when children become repeat missing, and who meets the local "
               "escalation rule."),
        chart_card("repeat-bands", "Children by number of episodes",
                   "Children grouped by how many episodes they had in the period (1, 2, 3–5, 6–9, 10 or more), "
                   "with the episodes of each group and their share of all episodes."),
        chart_card("repeat-newly", "Children newly repeat by month",
                   "A child becomes repeat missing in the month their second episode within 12 months starts "
                   "(episodes in the 12 months before the period count towards it). Each child is counted once."),
        chart_card("repeat-escalation", "Children meeting the escalation rule",
                   escalation_words(rule.episodes, rule.days) + " Children by the month they first met it; the "
                   "list below names them by a shortened pseudonymised key."),
        html.Section([
            html.H3("Children meeting the rule (pseudonymised)", id="repeat-escalation-list-title"),
            html.P(id="repeat-escalation-rule", className="chart-description"),
            html.Div(id="repeat-escalation-list", className="chart-table", tabIndex="0", role="region",
                     style={"maxHeight": "32rem", "overflowY": "auto"},
                     **{"aria-label": "List of children meeting the escalation rule (scrolls)"}),
        ], className="chart-card", **{"aria-labelledby": "repeat-escalation-list-title"}),
        html.Section([
            html.H2("A child's timeline (analysts)", id="repeat-child-title"),
            html.P("The 50 children with the most episodes in the period, by a shortened pseudonymised key. "
                   "Bars are episodes from start to return (episodes known only from SSDA903 are hatched whole "
                   "days); triangles are return interviews offered, stars completed; circles safe and well "
                   "checks; the band underneath shows placements.", className="chart-description"),
            html.Label("Child", htmlFor="repeat-child"),
            dcc.Dropdown(id="repeat-child", options=[], value=None, clearable=False,
                         placeholder="Choose a child"),
        ], className="chart-controls", **{"aria-labelledby": "repeat-child-title"}),
        chart_card("repeat-timeline", "Episode timeline of the chosen child"),
    ])


@callback(
    *chart_outputs("repeat-bands"),
    *chart_outputs("repeat-newly"),
    *FILTER_INPUTS,
)
@data.cached_answer()
def update_repeat(*values):
    """The cohort bands and the children newly repeat (aggregates for every role: the answer
    is cached). The escalation rule's chart and list (`update_repeat_escalation`) and the
    chosen child's timeline with the chooser (`update_repeat_timeline`) are asked for at the
    same time."""
    filters = Filters.from_values(*values)
    bands = data.query("repeat_cohort_bands", filters)
    newly = data.query("repeat_newly_by_month", filters)
    return (
        *chart_values(cohort_bands_figure(bands, PAGE_LAYOUT), display_frame(bands), cohort_summary(bands)),
        *chart_values(newly_repeat_figure(newly, PAGE_LAYOUT), display_frame(newly), newly_repeat_summary(newly)),
    )


@callback(
    *chart_outputs("repeat-escalation"),
    Output("repeat-escalation-rule", "children"),
    Output("repeat-escalation-list", "children"),
    *FILTER_INPUTS,
)
@data.cached_answer(records=True)
def update_repeat_escalation(*values):
    """The escalation rule: children by the month they first met it and, for analysts, the
    list of them (record level: their answer is never cached)."""
    filters = Filters.from_values(*values)
    rule = escalation_rule()
    # Every month of the period, as repeat_newly_by_month lists them (no query for that).
    months = pd.Series(pd.date_range(filters.period_start.replace(day=1), filters.period_end, freq="MS"))
    rule_params = {"escalation_episodes": rule.episodes, "escalation_days": rule.days}
    if not access.may_see_records(data.viewer().role):
        # Board and managers: the month-by-month count only (the list of children stays here).
        by_month = data.aggregate("repeat_escalation", filters, lambda f: escalation_by_month(f, months),
                                  counts=("children_flagged",), **rule_params)
        total = data.aggregate("repeat_escalation", filters,
                               lambda f: pd.DataFrame({"children": [len(f)]}), counts=("children",), **rule_params)
        words = (f"{count_label(total['children'].iloc[0])} children had {rule.episodes} or more episodes within "
                 f"{rule.days} days in the period. The list of children is for analysts.")
        return (
            *chart_values(escalation_figure(by_month, PAGE_LAYOUT), display_frame(by_month), words),
            f"Rule: {rule.episodes} or more episodes within {rule.days} days.",
            html.P("The list of children meeting the rule, and a child's timeline, are for analysts."),
        )
    flagged = data.query("repeat_escalation", filters, **rule_params)
    by_month = escalation_by_month(flagged, months)
    listing = (downloadable_table(escalation_table(flagged, top=HTML_TABLE_ROWS), f"{len(flagged):,} children "
                                  "flagged, most episodes in a window first", "escalation-children",
                                  total_rows=len(flagged))
               if len(flagged) else html.P("No child met the rule in this period."))
    return (
        *chart_values(escalation_figure(by_month, PAGE_LAYOUT), by_month,
                      escalation_summary(flagged, rule.episodes, rule.days)),
        f"Rule: {rule.episodes} or more episodes within {rule.days} days. Episodes in window: the most in any "
        f"{rule.days}-day window ending in the period; latest episode, from care/home and age band: of the "
        "child's latest episode in the period.",
        listing,
    )


@callback(
    *chart_outputs("repeat-timeline"),
    Output("repeat-child", "options"),
    Output("repeat-child", "value"),
    Input("repeat-child", "value"),
    *FILTER_INPUTS,
)
def update_repeat_timeline(child_id, *filter_values):
    """The chooser of children (analysts: the 50 with most episodes in the period) and the
    chosen child's timeline: the child asked for while among them, else the first. Asked for
    with the page's charts, not after them (record level: never cached)."""
    filters = Filters.from_values(*filter_values)
    if not access.may_see_records(data.viewer().role):
        note = "A child's timeline is for analysts."
        return (*chart_values(empty_figure(note), pd.DataFrame(), note), [], None)
    options = child_options(data.query("repeat_top_children", filters))
    keys = [o["value"] for o in options]
    key = child_id if child_id in keys else (keys[0] if keys else None)
    return (*_timeline(filters, str(key) if key else ""), options, key)


def _timeline(filters: Filters, key: str) -> tuple:
    """A child's timeline (chart_values); no child: the figure asking for one."""
    episodes = data.query("repeat_child_episodes", filters, child_id=key)
    interviews = data.query("repeat_child_interviews", filters, child_id=key)
    placements = data.query("repeat_child_placements", filters, child_id=key)
    return chart_values(
        timeline_figure(episodes, interviews, placements, filters.period_end),
        timeline_table(episodes, interviews, placements),
        timeline_summary(key, episodes, interviews, placements),
    )
