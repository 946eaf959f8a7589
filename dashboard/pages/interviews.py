"""Return interviews: timeliness against the 72-hour expectation by month and by
provider, declined and no-contact rates, and what the interviews disclosed.

The denominator of the rates is the returned missing episodes, as `mfhc kpis`. An
episode's provider is the provider of its earliest completed linked RHI, or else of its
earliest offered one; a provider with fewer than 5 episodes shows no rate. Factors and
risks count the distinct RHIs linked to the period's (filtered) episodes.
"""

from __future__ import annotations

import dash
import pandas as pd
from dash import Output, callback, html

from dashboard import data
from dashboard.components import chart_card, chart_outputs, chart_values, downloadable_table
from dashboard.figures.interviews import (
    FACTOR_LABELS, counts_summary, factors_figure, outcomes_figure, outcomes_frame, outcomes_summary,
    provider_figure, provider_summary, risks_figure, timeliness_figure, timeliness_summary,
)
from dashboard.filters import FILTER_INPUTS, Filters

PROVIDER_HEADINGS = {
    "provider": "Provider", "episodes": "Returned missing episodes",
    "rhi_offered_within_72h": "Offered within 72 h", "rhi_completed_within_72h": "Completed within 72 h",
    "rhi_offered_within_72h_pct": "Offered within 72 h %", "rhi_completed_within_72h_pct": "Completed within 72 h %",
}

dash.register_page(__name__, path="/interviews", name="Return interviews", title="Return interviews — mfhc",
                   order=4)


def layout(**_query) -> html.Div:
    return html.Div([
        html.H1("Return interviews"),
        html.P("Every child who returns from a missing episode should be offered an independent return home "
               "interview within 72 hours. Rates are shares of the missing episodes that ended in the period "
               "(returned missing episodes), the same figures as the Overview."),
        chart_card("interviews-month", "Offered and completed within 72 hours, by month",
                   "Percentage of returned missing episodes offered (circles) and completed (squares) within "
                   "72 hours of the return, by the month the episode started. The table gives the counts."),
        chart_card("interviews-provider", "Timeliness by provider",
                   "An episode belongs to the provider of its earliest completed interview, or else of its "
                   "earliest offered one. Providers with fewer than 5 episodes show no rate. Sorted by the "
                   "completion rate."),
        html.Div(id="interviews-provider-table", className="chart-table"),
        chart_card("interviews-outcomes", "Declined, no contact, and parents/carers consulted",
                   "Returned missing episodes whose interviews were all declined, or all ended with no contact; "
                   "and of the declined interviews, how many asked the parents or carers instead."),
        chart_card("interviews-factors", "Push and pull factors",
                   "How many interviews linked to the period's episodes recorded each factor (an interview may "
                   "record several)."),
        chart_card("interviews-risks", "Risks disclosed",
                   "How many interviews linked to the period's episodes recorded each risk."),
    ])


@callback(
    *chart_outputs("interviews-month"),
    *chart_outputs("interviews-provider"),
    Output("interviews-provider-table", "children"),
    *chart_outputs("interviews-outcomes"),
    *chart_outputs("interviews-factors"),
    *chart_outputs("interviews-risks"),
    *FILTER_INPUTS,
)
@data.cached_answer()
def update_interviews(*values):
    filters = Filters.from_values(*values)
    by_month = data.query("interviews_by_month", filters)
    providers = data.query("interviews_by_provider", filters)
    outcomes = outcomes_frame(data.query("interviews_outcomes", filters))
    factors = data.query("interviews_factors", filters)
    risks = data.query("interviews_risks", filters)[["risk", "interviews"]]
    # The table's rows as Python values, a blank (withheld or no rate) as None: built from
    # lists (astype(object).where(...) over the few rows cost about 3 ms an answer).
    provider_rows = pd.DataFrame({
        heading: [None if pd.isna(value) else value for value in providers[column].tolist()]
        for column, heading in PROVIDER_HEADINGS.items()
    }, index=providers.index, dtype=object)
    return (
        *chart_values(timeliness_figure(by_month), by_month, timeliness_summary(by_month)),
        *chart_values(provider_figure(providers), providers, provider_summary(providers)),
        downloadable_table(provider_rows, "Interviews by provider (a blank rate: fewer than 5 episodes)", "providers")
        if len(providers) else None,
        *chart_values(outcomes_figure(outcomes), outcomes, outcomes_summary(outcomes)),
        *chart_values(factors_figure(factors), factors, counts_summary(factors, "factor", "factor", FACTOR_LABELS)),
        *chart_values(risks_figure(risks), risks, counts_summary(risks, "risk", "risk")),
    )
