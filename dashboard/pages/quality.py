"""Data quality: what each load read and rejected, sources not supplied, SSDA903 consistency."""

from __future__ import annotations

import dash
from dash import Output, callback, html

from dashboard import access, data
from dashboard.components import chart_card, chart_outputs, chart_values, downloadable_table, not_in_view
from dashboard.figures.quality import (
    findings_figure, findings_summary, police_gap_figure, police_gap_summary, rejections_figure,
    rejections_summary, source_status_words, unmatched_words,
)
from dashboard.filters import FILTER_INPUTS, Filters

# Long tables scroll inside a box so the charts below stay near; focusable for keyboard scrolling.
SCROLL_BOX = {"maxHeight": "32rem", "overflowY": "auto"}

dash.register_page(__name__, path="/quality", name="Data quality", title="Data quality — mfhc", order=7, roles=access.OFFICERS)


def layout(**_query) -> html.Div:
    if (instead := not_in_view(access.OFFICERS)) is not None:
        return instead
    return html.Div([
        html.H1("Data quality"),
        html.P("What the loads read and rejected, which sources were not supplied, and the consistency "
               "checks between the police, the SSDA903 return and the return interviews. Everything here "
               "describes the files as loaded and is not narrowed by the filter bar, except the chart of "
               "police episodes not in the SSDA903 return, which follows the filters like every episode figure."),
        html.Section([
            html.H2("Recent loads", id="quality-loads-title"),
            html.P("Each file of the most recent loads: rows read, loaded and rejected, postcodes that could "
                   "not be located, and the start of the file's SHA-256 checksum. Not filtered.",
                   className="chart-description"),
            html.Div(id="quality-loads", tabIndex="0", role="region", style=SCROLL_BOX,
                     **{"aria-label": "Recent loads, scrollable"}),
        ], className="chart-card"),
        html.Section([
            html.H2("Sources not supplied"),
            html.P(id="quality-sources", **{"aria-live": "polite"}),
        ], className="chart-card"),
        chart_card("quality-rejections", "Rows rejected by rule",
                   "Rows of the last load that failed a rule and were not loaded, by rule and file. Not "
                   "filtered."),
        chart_card("quality-findings", "SSDA903 rule findings",
                   "Findings of the DfE's SSDA903 Missing-table rules that did not stop a row loading, by DfE "
                   "rule code. The code table, with what each rule checks, is in docs/ssda903_rules.md of "
                   "the project. Not filtered."),
        chart_card("quality-police-gap", "Police episodes of looked-after children missing from SSDA903",
                   "Police-known episodes of children the SSDA903 return knows, from care, that no SSDA903 "
                   "Missing row covers: the return may be incomplete. Filtered by the filter bar."),
        html.Section([
            html.H2("Return interview references that matched no episode"),
            html.P(id="quality-rhi-unmatched", **{"aria-live": "polite"}),
        ], className="chart-card"),
        html.Section([
            html.H2("The first 100 rejected rows"),
            html.P("File, row (the line in the file, the header being line 1), column, rule and message. "
                   "The messages hold no identifiers.", className="chart-description"),
            html.Div(id="quality-rejected-rows", tabIndex="0", role="region",
                     style=SCROLL_BOX, **{"aria-label": "Rejected rows, scrollable"}),
        ], className="chart-card"),
    ])


@callback(
    Output("quality-loads", "children"),
    Output("quality-sources", "children"),
    Output("quality-rejected-rows", "children"),
    Output("quality-rhi-unmatched", "children"),
    *chart_outputs("quality-rejections"),
    *chart_outputs("quality-findings"),
    *chart_outputs("quality-police-gap"),
    *FILTER_INPUTS,
)
@data.cached_answer(records=True)
def update_quality(*values):
    filters = Filters.from_values(*values)
    loads = data.query("quality_load_log")
    sources = data.query("quality_source_status")
    records = access.may_see_records(data.viewer().role)
    rejected = data.query("quality_rejected_rows") if records else None
    unmatched = data.query("quality_rhi_unmatched")
    by_rule = data.query("quality_rejections_by_rule")
    findings = data.query("quality_ssda903_findings")
    police_gap = data.query("quality_police_not_in_ssda903", filters)
    shown_loads = loads.assign(loaded_at=loads["loaded_at"].astype(str))
    return (
        downloadable_table(shown_loads, "Files of the five most recent loads, newest first", "loads") if len(loads)
        else html.P("No loads recorded."),
        source_status_words(sources),
        (html.P("The rejected rows (file, row, column, rule) are for analysts; the counts by rule are below.")
         if rejected is None else downloadable_table(rejected, "Rejected rows (first 100)", "rejected-rows") if len(rejected)
         else html.P("No rows were rejected.")),
        unmatched_words(unmatched),
        *chart_values(rejections_figure(by_rule), by_rule, rejections_summary(by_rule)),
        *chart_values(findings_figure(findings), findings, findings_summary(findings)),
        *chart_values(police_gap_figure(police_gap), police_gap, police_gap_summary(police_gap)),
    )
