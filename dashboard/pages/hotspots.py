"""Area hotspots: where children went missing from and where they were found, by ward, per
1,000 resident children, beside deprivation; clusters of found locations; the top wards."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from dashboard import data
from dashboard.components import chart_card, chart_outputs, chart_values, downloadable_table
from dashboard.figures.hotspots import (
    CLUSTER_EPS_METRES, CLUSTER_MIN_SAMPLES, PLACE_LABELS, cluster_outlines, cluster_table, coverage_sentence,
    imd_figure, imd_summary, map_summary, ward_map_figure, ward_table,
)
from dashboard.filters import FILTER_INPUTS, Filters

dash.register_page(__name__, path="/hotspots", name="Area hotspots", title="Area hotspots — mfhc", order=2)

PLACES = {"missing_from": "Where they went missing from", "found": "Where they were found"}
TOP_WARDS = 10
MAP_HEIGHT_PX = 640
IMD_HEIGHT_PX = 460


def _with_graph_height(card, pixels: int):
    """A chart card whose graph container is as tall as its figure (taller than the default
    450 px), so a tall map never spills over the card below, responsive graph or not."""
    def walk(node):
        if isinstance(node, dcc.Graph):
            node.style = {**(getattr(node, "style", None) or {}), "height": f"{pixels}px"}
            return
        children = getattr(node, "children", None)
        for child in children if isinstance(children, (list, tuple)) else [children]:
            if child is not None and hasattr(child, "to_plotly_json"):
                walk(child)

    walk(card)
    return card


def layout(**_query) -> html.Div:
    return html.Div([
        html.H1("Area hotspots"),
        html.P("Episodes by the ward a child went missing from or was found in, per 1,000 children aged 0-15 "
               "living in the ward (Census 2021). Only episodes known to the police record a place. Wards with "
               "fewer than 5 episodes get no rate: they are grey and marked \"<5\"."),
        html.Fieldset([
            html.Legend("Show episodes by"),
            html.Div(**{"data-label": "Show episodes by"}, children=dcc.RadioItems(id="hotspots-place", value="missing_from", inline=True,
                           options=[{"label": label, "value": value} for value, label in PLACES.items()])),
        ], className="filter"),
        html.P(id="hotspots-coverage", className="period-line", **{"aria-live": "polite"}),
        _with_graph_height(chart_card("hotspots-map", "Episodes per 1,000 children by ward",
                   "Darker wards have more episodes per 1,000 resident children; the number on each ward is its "
                   "rate. Dashed outlines are clusters of places where children were found (whichever view is "
                   "chosen), lettered with their episode count; no child's location is ever drawn."), MAP_HEIGHT_PX),
        html.Section([
            html.H2("Found-location clusters", id="hotspots-clusters-title"),
            html.P(f"Places where children were found close together: a cluster grows from spots where at least "
                   f"{CLUSTER_MIN_SAMPLES} episodes were found within {CLUSTER_EPS_METRES} m (DBSCAN on the 100 m "
                   "grid points of the found locations). A cluster can cross ward boundaries: the wards it spans are listed, the ward with most episodes first. Clusters "
                   "with fewer than 5 episodes are not shown.", className="chart-description"),
            html.Div(id="hotspots-clusters"),
        ], className="chart-card", **{"aria-labelledby": "hotspots-clusters-title"}),
        _with_graph_height(chart_card("hotspots-imd", "Rate against deprivation (IMD 2019)",
                   "Each ward's rate against the deprivation of where its children live: the mean IMD 2019 "
                   "decile of its neighbourhoods (LSOAs), weighted by their child population. Decile 1 is the "
                   "most deprived tenth of England."), IMD_HEIGHT_PX),
        html.Section([
            html.H2("Top areas", id="hotspots-top-title"),
            html.Div(id="hotspots-top"),
        ], className="chart-card", **{"aria-labelledby": "hotspots-top-title"}),
    ])


@callback(
    Output("hotspots-coverage", "children"),
    *chart_outputs("hotspots-map"),
    Output("hotspots-clusters", "children"),
    *chart_outputs("hotspots-imd"),
    Output("hotspots-top", "children"),
    *FILTER_INPUTS,
    Input("hotspots-place", "value"),
)
@data.cached_answer()
def update_hotspots(*values):
    *filter_values, place = values
    place = place if place in PLACES else "missing_from"
    filters = Filters.from_values(*filter_values)
    rates = data.query("hotspots_ward_rates", filters, place=place)
    coverage = data.query("hotspots_place_coverage", filters, place=place)
    boundaries = data.query("hotspots_ward_boundaries")
    imd_coverage = data.query("hotspots_imd_coverage").iloc[0]
    ward_names = dict(zip(boundaries["ward"], boundaries["ward_name"]))
    # The 100 m cells stay in the data layer: only the cluster outlines leave it (each holds at
    # least CLUSTER_MIN_SAMPLES episodes), so the board sees clusters built from every cell.
    clusters = data.aggregate("hotspots_found_cells", filters, lambda cells: cluster_outlines(cells, ward_names),
                              counts=("episodes",))

    table = ward_table(rates)
    if len(clusters):
        clusters_shown = downloadable_table(cluster_table(clusters), "Found-location clusters, most episodes first", "hotspot-clusters")
    else:
        clusters_shown = html.P(f"No cluster: nowhere were {CLUSTER_MIN_SAMPLES} or more children found within "
                                f"{CLUSTER_EPS_METRES} m of each other in this selection.")
    imd_note = html.P(f"IMD 2019 is published for 2011 neighbourhoods (LSOAs); {int(imd_coverage['lsoas_without_imd'])}"
                      f" of {int(imd_coverage['lsoas'])} 2021 LSOAs have a new code with no IMD match and are left "
                      "out of the ward deciles.", className="chart-description")
    where = PLACE_LABELS[place]
    return (
        f"Showing {filters.describe()}, by the ward children {where}. " + coverage_sentence(coverage, place),
        *chart_values(ward_map_figure(rates, boundaries, clusters, place), table,
                      map_summary(rates, clusters, place)),
        clusters_shown,
        *chart_values(imd_figure(rates, place), table, imd_summary(rates)),
        [downloadable_table(table.head(TOP_WARDS),  # = ward_table(rates, top=TOP_WARDS), not sorted again
                            f"The {TOP_WARDS} wards with most episodes (children {where} the ward)", "top-wards"),
         imd_note],
    )
