"""Care and placements: from care or home, away from placement, distance, other authorities' children, UASC."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import dash
import pandas as pd
from dash import Output, callback, html

from dashboard import access, data
from dashboard.components import chart_card, chart_outputs, chart_values, downloadable_table, not_in_view
from dashboard.figures.care import (
    away_figure, away_summary, distance_figure, distance_summary, name_authorities, other_la_figure,
    other_la_summary, source_by_month_figure, source_summary, uasc_counts, uasc_figure, uasc_summary,
)
from dashboard.filters import FILTER_INPUTS, Filters
from pipelines.config import load_settings

dash.register_page(__name__, path="/care", name="Care and placements", title="Care and placements — mfhc",
                   order=6, roles=access.OFFICERS)

LA_NAMES = Path(__file__).resolve().parents[2] / "assets" / "geo" / "la_names.csv"


@lru_cache(maxsize=1)
def la_names() -> pd.DataFrame:
    """ONS codes and names of English authorities: static reference data shipped with the app."""
    return pd.read_csv(LA_NAMES, dtype=str)


def layout(**_query) -> html.Div:
    if (instead := not_in_view(access.OFFICERS)) is not None:
        return instead
    return html.Div([
        html.H1("Care and placements"),
        html.P("Episodes of looked-after children: how many start from a placement rather than from home, "
               "how often children are away from their placement without authorisation, whether placements "
               "far from home go with more episodes, children placed in the area by other authorities, and "
               "unaccompanied asylum-seeking children who go missing soon after coming into care (a "
               "trafficking risk)."),
        chart_card("care-source", "Episodes from care and from home by month",
                   "An episode is from care when an SSDA903 placement covers its start date (or, for a child "
                   "the return does not know, the police record says foster care, a children's home or another "
                   "placement). The care filter above still applies."),
        chart_card("care-away", "Away from placement without authorisation",
                   "SSDA903 'away' episodes by month, and their share of the month's episodes from care."),
        chart_card("care-distance", "Episodes by distance from home to placement",
                   "Episodes from care per placed-child-year, by the straight-line distance between the "
                   "child's home and the placement postcode sectors. Denominator: days placed within the "
                   "period / 365.25 (all SSDA903 placements; the age, sex, ethnicity and risk filters narrow "
                   "only the episodes). Only episodes whose SSDA903 placement is known are counted."),
        chart_card("care-other-la", "Children placed in the area by other authorities",
                   "Police episodes whose placing authority is not this authority, by placing authority."),
        chart_card("care-uasc", "Unaccompanied asylum-seeking children missing soon after coming into care",
                   "Children who went missing within 48 hours and within 7 days of first becoming looked "
                   "after (first SSDA903 placement start, counted from midnight of that day), from the "
                   "episodes in the period."),
        html.Section([
            html.H2("For analysts: UASC children missing within 7 days (pseudonymised)"),
            html.P("Pseudonymised keys shortened to 8 characters; no names or references are held.",
                   className="chart-description"),
            html.Div(id="care-uasc-list"),
        ], className="chart-card"),
    ])


@callback(
    *chart_outputs("care-source"),
    *chart_outputs("care-away"),
    *chart_outputs("care-distance"),
    *chart_outputs("care-other-la"),
    *chart_outputs("care-uasc"),
    Output("care-uasc-list", "children"),
    *FILTER_INPUTS,
)
@data.cached_answer(records=True)
def update_care(*values):
    filters = Filters.from_values(*values)
    source = data.query("care_source_by_month", filters)
    away = data.query("care_away_by_month", filters)
    # Bands with no placement days in the period have no rate: left out of the chart and its data.
    distance = data.query("care_distance_rates", filters)
    distance = distance[distance["placement_days"] > 0]
    other_la = name_authorities(
        data.query("care_placed_by_other_la", filters, authority_code=load_settings().authority_code), la_names())
    records = access.may_see_records(data.viewer().role)
    uasc = (data.query("care_uasc_missing", filters) if records
            else data.aggregate("care_uasc_missing", filters, uasc_counts))
    cohort = data.query("care_uasc_first_looked_after", None, period_start=filters.period_start,
                        period_end=filters.period_end)
    counts = uasc_counts(uasc) if records else uasc
    return (
        *chart_values(source_by_month_figure(source), source, source_summary(source)),
        *chart_values(away_figure(away), away, away_summary(away)),
        *chart_values(distance_figure(distance), distance, distance_summary(distance)),
        *chart_values(other_la_figure(other_la), other_la, other_la_summary(other_la)),
        *chart_values(uasc_figure(counts), counts, uasc_summary(counts, cohort)),
        (html.P("The list of children is for analysts.") if not records
         else downloadable_table(uasc.astype(str), "UASC episodes within 7 days of first becoming looked after", "uasc-children") if len(uasc)
         else html.P("None in this period.")),
    )
