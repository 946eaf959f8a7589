"""Children's homes: episode rates per placed-child-year on a funnel plot, with a chosen
home's monthly trend and its hour-of-day by day-of-week pattern."""

from __future__ import annotations

import dash
import numpy as np
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboard import data
from dashboard.components import (
    chart_card, chart_outputs, chart_values, downloadable_table, full_rows_from_server,
)
from dashboard.figures.homes import (
    DENSITY_ABOVE, FUNNEL_PAGE_LAYOUT, OUTLIER, default_home, funnel_data, funnel_figure, funnel_frame,
    funnel_summary, home_options, homes_table, hour_day_figure, hour_day_frame, hour_day_summary, monthly_figure,
    monthly_summary, outlier_frame, shaded_words,
)
from dashboard.figures.common import empty_figure
from dashboard.filters import FILTER_INPUTS, Filters
from pipelines.suppression import display_frame

dash.register_page(__name__, path="/homes", name="Children's homes", title="Children's homes — mfhc", order=1)


def layout(**_query) -> html.Div:
    return html.Div([
        html.H1("Children's homes"),
        html.P("Episodes are attributed to a children's home when the child's placement on the day they went "
               "missing was at that home. A home's rate is its episodes per placed-child-year (days children "
               "were placed there in the period ÷ 365.25), so homes of different sizes can be compared. The "
               "filters select episodes; placement days count every child placed."),
        html.P(id="homes-period", className="period-line"),
        html.Div([
            html.Div(chart_card(
                "homes-funnel", "Episode rates against control limits (funnel plot)",
                "Each marker is a home. The solid line is the overall rate; the dashed and dotted curves are the "
                "95% and 99.8% control limits for a home of that size. A home above the dotted curve is an "
                "outlier (diamond, named): more episodes than chance alone would explain. With thousands of "
                "homes, those within or below the limits are shaded by how many lie in each part of the chart."),
                style={"flex": "1 1 36rem", "minWidth": 0}),
            html.Section([
                html.H2("Homes against their expected episodes", id="homes-table-title"),
                html.Div(id="homes-table", className="homes-table-scroll", tabIndex="0", role="region",
                         style={"maxHeight": "40rem", "overflowY": "auto"},
                         **{"aria-labelledby": "homes-table-title"}),
            ], style={"flex": "1 1 26rem", "minWidth": 0, "fontSize": ".9rem"},
                **{"aria-labelledby": "homes-table-title"}),
        ], style={"display": "flex", "flexWrap": "wrap", "gap": "1.5rem", "alignItems": "flex-start"}),
        html.Div([
            html.Label("Home to look at", htmlFor="homes-choice", className="filter-label"),
            dcc.Dropdown(id="homes-choice", options=[], value=None, clearable=False,
                         placeholder="Type part of a home's name or URN"),
            html.P(f"The list offers the outliers and the homes with most episodes; type to find any other "
                   f"(the first {CHOICES_SHOWN} that match).", className="chart-description"),
        ], className="filter", style={"maxWidth": "32rem", "marginTop": "1rem"}),
        chart_card("homes-trend", "Episodes by month at the chosen home",
                   "Episodes at the home by the month they started."),
        chart_card("homes-hours", "When episodes start at the chosen home",
                   "Police-known episodes by day of week and the hour the child was last seen; the number in "
                   "each cell is the count of episodes."),
    ])


CHOICES_SHOWN = 50   # homes offered at once: a national store has 12,672


def _placed_rates(filters: Filters) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """The homes placed on the funnel (board view: not those whose episode count is withheld,
    1–4), which rows of `homes_rates` they are, and its small-number marks
    (`pipelines.suppression`: {column: row positions}). The rows are worked on without the
    marks: pandas deep-copies a frame's attrs at every step, which with a national store's
    thousands of marks cost more than the funnel."""
    rates = data.query("homes_rates", filters)
    marks, rates.attrs = rates.attrs, {}
    placed = rates["episodes"].notna().to_numpy()
    return (rates if placed.all() else rates[placed]), placed, marks


def _funnel(filters: Filters) -> tuple[pd.DataFrame, int, dict]:
    """The funnel's frame, how many homes it leaves out as small numbers, and the small-number
    marks of its rows for its data table and downloads."""
    rates, placed, marks = _placed_rates(filters)
    return funnel_frame(rates), int((~placed).sum()), _marks_of_rows(marks, placed)


def _outliers(filters: Filters) -> pd.DataFrame:
    """The funnel's homes as far as choosing one needs them (`outlier_frame`: which are
    outliers, without the limits that place the others)."""
    return outlier_frame(_placed_rates(filters)[0])


def _marks_of_rows(marks: dict, kept: np.ndarray) -> dict:
    """Small-number marks (by row position) of the rows `kept`, at their positions among them."""
    if not marks.get("suppressed"):
        return {}
    position = np.cumsum(kept) - 1
    return {**marks, "suppressed": {column: [int(position[row]) for row in rows if kept[row]]
                                    for column, rows in marks["suppressed"].items()}}


def _funnel_rows(frame: pd.DataFrame, marks: dict) -> pd.DataFrame:
    """Every figure of the funnel with its small-number marks (the chart's table and downloads)."""
    rows = funnel_data(frame)
    rows.attrs = marks
    return rows


def home_choices(frame: pd.DataFrame, search: str | None, chosen: str | None) -> list[dict]:
    """The chooser's options: without a search, the outliers and then the homes with most
    episodes; with one, the homes whose name or URN holds it (by name). The chosen home is
    always among them (a dropdown clears a value missing from its options)."""
    if frame.empty:
        return []
    text = (search or "").strip().lower()
    if text:
        found = frame["home_name"].astype(str).str.lower().str.contains(text, regex=False) | \
            frame["urn"].astype(str).str.lower().str.contains(text, regex=False)
        picked = frame[found].sort_values("home_name").head(CHOICES_SHOWN)
    else:
        # Ranked on the columns the order needs, over the homes that can be among the first
        # CHOICES_SHOWN (the outliers and the homes with at least the CHOICES_SHOWN-th most
        # episodes; a stable sort of them keeps their order in the whole); only the rows
        # offered are taken from the frame.
        outlier = (frame["position"] == OUTLIER).to_numpy()
        episodes = frame["episodes"].to_numpy()
        candidates = np.arange(len(frame))
        if len(frame) > CHOICES_SHOWN and not pd.isna(episodes).any():
            least = np.partition(episodes, len(frame) - CHOICES_SHOWN)[len(frame) - CHOICES_SHOWN]
            candidates = np.flatnonzero(outlier | (episodes >= least))
        ranked = pd.DataFrame({"_outlier": outlier[candidates], "episodes": episodes[candidates],
                               "home_name": frame["home_name"].iloc[candidates].reset_index(drop=True)}).sort_values(
            ["_outlier", "episodes", "home_name"], ascending=[False, False, True], kind="stable")
        picked = frame.iloc[candidates[ranked.index[:CHOICES_SHOWN]]]
    if chosen is not None and chosen not in set(picked["urn"]):
        picked = pd.concat([picked, frame[frame["urn"] == chosen]])
    return home_options(picked)


def _all_funnel_rows(filters: Filters) -> pd.DataFrame:
    frame, _withheld, marks = _funnel(filters)
    return _funnel_rows(frame, marks)


full_rows_from_server("homes-funnel", _all_funnel_rows)


@callback(
    Output("homes-period", "children"),
    Output("homes-table", "children"),
    *chart_outputs("homes-funnel"),
    *FILTER_INPUTS,
)
@data.cached_answer()
def update_homes(*values):
    """The funnel and the table beside it. The chosen home is not needed here: its charts
    (`update_home_detail`) are asked for at the same time, not after this answer."""
    filters = Filters.from_values(*values)
    frame, withheld, marks = _funnel(filters)
    table = homes_table(frame)
    side_table = downloadable_table(table, "Outliers first, then by episodes above expected. Rate = episodes per "
                                   "placed-child-year; expected = overall rate × the home's child-years. Provider, "
                                   "places and Ofsted judgement are in the funnel's data table.", "homes")
    return (
        f"Showing {filters.describe()}.",
        side_table if len(table) else html.P("No homes in this period."),
        *chart_values(funnel_figure(frame, density_above=DENSITY_ABOVE, layout=FUNNEL_PAGE_LAYOUT),
                      _funnel_rows(frame, marks), funnel_summary(frame) + (
                          f" {withheld} {'home' if withheld == 1 else 'homes'} with 1–4 episodes "
                          f"{'is' if withheld == 1 else 'are'} not shown (small numbers)." if withheld else "")
                      + shaded_words(frame, DENSITY_ABOVE),
                      chart_id="homes-funnel"),
    )


@callback(
    Output("homes-choice", "options"),
    Input("homes-choice", "search_value"),
    State("homes-choice", "value"),
    *(State(item.component_id, item.component_property) for item in FILTER_INPUTS),
    prevent_initial_call=True,
)
@data.cached_answer()
def update_home_choices(search, chosen, *filter_values):
    """The chooser's options for what is typed (the page's first options, and those after a
    change of filters or home, come with the chosen home's charts)."""
    return home_choices(_outliers(Filters.from_values(*filter_values)), search, chosen)


@callback(
    *chart_outputs("homes-trend"),
    *chart_outputs("homes-hours"),
    Output("homes-choice", "value"),
    Output("homes-choice", "options", allow_duplicate=True),
    *FILTER_INPUTS,
    Input("homes-choice", "value"),
    prevent_initial_call="initial_duplicate",
)
@data.cached_answer()
def update_home_detail(*values):
    """The chosen home's two charts, and the chooser: its value, the home chosen while it is
    on the funnel for these filters, else the first outlier or the busiest home, and its
    options, which hold it (a dropdown given a value missing from its options clears it).
    Asked for with the funnel, not after its answer. The value is not sent again when it is
    the home asked for."""
    *filter_values, asked = values
    filters = Filters.from_values(*filter_values)
    frame = _outliers(filters)
    chosen = asked if asked is not None and (frame["urn"] == asked).any() else default_home(frame)
    # The home's name as the funnel names it (homes_rates: dim_home's name, else the URN).
    name = frame["home_name"][(frame["urn"] == chosen).to_numpy()].iloc[0] if chosen else None
    return (*_home_charts(filters, chosen, name), dash.no_update if chosen == asked else chosen,
            home_choices(frame, None, chosen))


def _home_charts(filters: Filters, chosen: str | None, name: str | None) -> tuple:
    """The chosen home's monthly trend and hour-by-day pattern (chart_values of each)."""
    if not chosen:
        empty = empty_figure("No children's homes in this period")
        return (*chart_values(empty, pd.DataFrame(), "No children's homes in this period."),
                *chart_values(empty, pd.DataFrame(), "No children's homes in this period."))
    monthly = data.query("homes_monthly", filters, home_urn=chosen)
    hours = data.query("homes_hour_day", filters, home_urn=chosen)
    if not data.suppressing(filters):
        return (
            *chart_values(monthly_figure(monthly, name), monthly, monthly_summary(monthly, name)),
            *chart_values(hour_day_figure(hours, name), hour_day_frame(hours), hour_day_summary(hours, name)),
        )
    # Small numbers withheld: months with 1–4 episodes are gaps; one home's hour-by-day grid
    # is nearly all small numbers, so it is left to those who may show them.
    shown = monthly.dropna(subset=["episodes"])
    withheld = len(monthly) - len(shown)
    words = (monthly_summary(shown, name) if len(shown) else f"Every month at {name} had fewer than 5 episodes.")
    if withheld:
        words += f" {withheld} {'month' if withheld == 1 else 'months'} with 1–4 episodes not shown (small numbers)."
    note = "Small numbers are withheld: the hour-by-day pattern of one home is shown with small numbers on."
    return (
        *chart_values(monthly_figure(shown, name), display_frame(monthly), words),
        *chart_values(empty_figure(note), hour_day_frame(hours.iloc[0:0]), note),
    )
