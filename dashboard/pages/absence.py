"""School absence: children who go missing against all pupils, and children missing education."""

from __future__ import annotations

import dash
from dash import Output, callback, html

from dashboard import access, data
from dashboard.components import chart_card, chart_outputs, chart_values, downloadable_table, not_in_view
from dashboard.figures.absence import (
    absence_rate_figure, absence_summary, absence_table, cme_figure, cme_summary, linkage_sentence,
    persistent_absence_figure, persistent_summary,
)
from dashboard.filters import FILTER_INPUTS, Filters

dash.register_page(__name__, path="/absence", name="School absence", title="School absence — mfhc", order=5,
                   roles=access.OFFICERS)


def layout(**_query) -> html.Div:
    if (instead := not_in_view(access.OFFICERS)) is not None:
        return instead
    return html.Div([
        html.H1("School absence"),
        html.P("Children who went missing in the period, followed into the school attendance file in the "
               "academic years (September to August) of their episodes, term by term, beside all pupils in "
               "the file for the same terms. The overall absence rate is authorised plus unauthorised "
               "absence as a share of possible sessions; a pupil is persistently absent when missing 10% "
               "or more of their sessions in the term, severely absent at 50% or more."),
        html.P(id="absence-linkage", className="period-line", **{"aria-live": "polite"}),
        chart_card("absence-rate", "Overall absence rate by term",
                   "Share of possible sessions missed: children who went missing (hatched bars) and all pupils "
                   "(plain bars)."),
        chart_card("absence-persistent", "Persistent and severe absence by term",
                   "Share of pupils persistently absent (solid lines) and severely absent (dashed lines): "
                   "children who went missing (diamonds) and all pupils (circles)."),
        html.Section([
            html.H2("Absence by term: the figures"),
            html.Div(id="absence-table"),
        ], className="chart-card"),
        chart_card("absence-cme", "Children missing education",
                   "Children recorded as missing education (not on a school roll or receiving suitable "
                   "education) at any time in the period, and how many of them also went missing from home "
                   "or care in it. The filters other than the period narrow only the second count."),
    ])


@callback(
    Output("absence-linkage", "children"),
    Output("absence-table", "children"),
    *chart_outputs("absence-rate"),
    *chart_outputs("absence-persistent"),
    *chart_outputs("absence-cme"),
    *FILTER_INPUTS,
)
@data.cached_answer()
def update_absence(*values):
    filters = Filters.from_values(*values)
    by_term = data.query("absence_by_term", filters)
    linkage = data.query("absence_linkage", filters)
    cme = data.query("absence_children_missing_education", filters)
    table = absence_table(by_term)
    return (
        linkage_sentence(linkage),
        downloadable_table(table, "Absence of children who went missing and of all pupils, by term", "absence-by-term") if len(table)
        else html.P("No attendance records for this period."),
        *chart_values(absence_rate_figure(by_term), by_term, absence_summary(by_term)),
        *chart_values(persistent_absence_figure(by_term), by_term, persistent_summary(by_term)),
        *chart_values(cme_figure(cme), cme, cme_summary(cme)),
    )
