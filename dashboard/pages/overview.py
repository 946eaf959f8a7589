"""Overview: the board's headline figures, the monthly trend and the RHI funnel."""

from __future__ import annotations

import dash
import flask
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import data
from dashboard.components import chart_card, chart_outputs, chart_values
from dashboard.figures.common import count_label
from dashboard.figures.overview import (
    TILES, change_words, format_value, funnel_figure, funnel_frame, monthly_trend_figure, summary_sentences,
)
from dashboard.filters import FILTER_INPUTS, Filters

dash.register_page(__name__, path="/", name="Overview", title="Overview — mfhc", order=0)


def board_pack_control() -> html.Div | None:
    """The board pack of the period, for the roles that take one to the board."""
    if data.viewer().role not in data.PACK_ROLES:
        return None
    return html.Div([
        html.Button("Download board pack (PDF)", id="board-pack-button", n_clicks=0, className="button"),
        html.Span(" The period above; small numbers withheld as in your view. It takes a few seconds.",
                  className="chart-description"),
        dcc.Loading(dcc.Download(id="board-pack-download")),
    ], className="board-pack")


def layout(**_query) -> html.Div:
    return html.Div([
        html.H1("Overview"),
        html.P(id="overview-period", className="period-line"),
        board_pack_control(),
        html.Div(id="overview-tiles", className="tiles"),
        html.Section([html.H2("In brief"), html.Ul(id="overview-summary")], className="summary",
                     **{"aria-live": "polite"}),
        chart_card("overview-trend", "Episodes and children by month",
                   "Episodes by the month they started, and the distinct children who went missing in each month."),
        chart_card("overview-funnel", "Return home interviews",
                   "Of the missing episodes that ended, how many were offered an interview and how many "
                   "completed one, within the 72 hours the guidance expects."),
    ])


def tile(label: str, value: str, versus_previous: str, versus_year: str) -> html.Div:
    return html.Div([
        html.P(value, className="tile-value"),
        html.H3(label, className="tile-label"),
        html.P(versus_previous, className="tile-change"),
        html.P(versus_year, className="tile-change"),
    ], className="tile")


@callback(
    Output("overview-period", "children"),
    Output("overview-tiles", "children"),
    Output("overview-summary", "children"),
    *chart_outputs("overview-trend"),
    *chart_outputs("overview-funnel"),
    *FILTER_INPUTS,
)
@data.cached_answer()
def update_overview(*values):
    filters = Filters.from_values(*values)
    current = data.kpis(filters)
    previous_filters, year_filters = filters.previous_period(), filters.year_before()
    previous = data.kpis(previous_filters)
    year_before = data.kpis(year_filters)
    tiles = [
        tile(label, format_value(current[key], kind),
             change_words(current[key], previous[key], kind, "the previous period"),
             change_words(current[key], year_before[key], kind, "a year before"))
        for key, label, kind in TILES
    ]
    trend = data.query("overview_monthly_trend", filters)
    funnel = funnel_frame(current)
    return (
        f"Showing {filters.describe()}.",
        tiles,
        [html.Li(sentence) for sentence in summary_sentences(current, previous, year_before)],
        *chart_values(monthly_trend_figure(trend), trend,
                      f"{count_label(current['episodes'])} episodes over {len(trend)} months; the busiest month "
                      f"had {count_label(trend['episodes'].max())}." if len(trend) else "No episodes in this period."),
        *chart_values(funnel_figure(funnel), funnel,
                      "; ".join(f"{r.step}: {count_label(r.episodes)}" for r in funnel.itertuples())),
    )


@callback(
    Output("board-pack-download", "data"),
    Input("board-pack-button", "n_clicks"),
    *[State(i.component_id, i.component_property) for i in FILTER_INPUTS],
    prevent_initial_call=True,
)
def download_board_pack(n_clicks, *filter_values):
    if not n_clicks:
        return no_update
    filters = Filters.from_values(*filter_values)
    where = flask.request.remote_addr if flask.has_request_context() else "local"
    pdf = data.board_pack(filters, where=where or "unknown")
    return dcc.send_bytes(pdf, f"mfhc-board-pack-{filters.period_start}-to-{filters.period_end}.pdf")
