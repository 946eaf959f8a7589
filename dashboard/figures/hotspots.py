"""Figures and words of the Area hotspots page: ward maps, rate against deprivation, and
clusters of found locations.

Small numbers: a ward with fewer than `MIN_EPISODES` episodes gets no rate; it is drawn
grey and labelled "fewer than 5", so nothing is told by colour alone (hover text, the
labels on the map and the tables carry the numbers).

Found-location clusters are DBSCAN on the 100 m grid points (British National Grid
metres) of where children were found, each grid cell weighted by its episodes (the same
as DBSCAN on one point per episode):

- `CLUSTER_EPS_METRES = 300`: three grid cells, a few streets; the neighbourhood of a
  town-centre block, a station or a park. Much smaller and the 100 m snapping splits one
  place into several; much larger and a whole ward centre merges into one "hotspot".
- `CLUSTER_MIN_SAMPLES = 10`: a core point needs 10 episodes found within 300 m, twice
  the small-number threshold of 5, so a cluster is never a handful of one child's
  returns home and every cluster shown is well above the suppression limit.

These fit a quarter or a half year of a city the size of Wolverhampton. Over a whole year
found places are dense enough (about 8 episodes in an average 300 m circle of the demo)
that neighbouring clusters chain into large ones spanning several wards: narrow the
period, or a filter, to separate them.

Privacy: no point or grid cell of a child is ever drawn, only each cluster's outline (the
convex hull of its 100 m cells, padded by `OUTLINE_PADDING_METRES` so the outline never
outlines a single address) and its episode count; clusters with fewer than
`MIN_EPISODES` episodes are not shown.
"""

from __future__ import annotations

import json
import string
from functools import lru_cache

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry import shape

from dashboard.figures.common import (
    PALETTE, count_label, empty_figure, figure_from, small_label, suppressing,
)

MIN_EPISODES = 5
SUPPRESSED = "fewer than 5"
CLUSTER_EPS_METRES = 300
CLUSTER_MIN_SAMPLES = 10
GRID_METRES = 100
OUTLINE_PADDING_METRES = 150
PLACE_LABELS = {"missing_from": "went missing from", "found": "were found in"}
NO_RATE_GREY = "#bdbdbd"
RATE_SCALE = [[0.0, "#deebf7"], [0.5, "#6baed6"], [1.0, "#08306b"]]
OUTSIDE = "outside the authority"


# --------------------------------------------------------------------------- wards

def feature_collection(boundaries: pd.DataFrame) -> dict:
    """A GeoJSON FeatureCollection of the wards, each feature's `id` its ward code."""
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": row.ward, "properties": {"name": row.ward_name},
             "geometry": json.loads(row.geojson)}
            for row in boundaries.itertuples()
        ],
    }


def rate_text(rate) -> str:
    return SUPPRESSED if rate is None or pd.isna(rate) else f"{rate:.1f}"


def ward_table(rates: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
    """The wards for people: sorted by episodes, rate 'fewer than 5' where suppressed."""
    shown = rates.sort_values(["episodes", "ward_name"], ascending=[False, True])
    if top:
        shown = shown.head(top)
    return pd.DataFrame({
        "Ward": shown["ward_name"],
        "Episodes": shown["episodes"].map(lambda v: "<5" if v != v else int(v)),
        "Children (0-15)": shown["children"].map(lambda v: "" if pd.isna(v) else f"{int(v):,}"),
        "Rate per 1,000 children": shown["rate_per_1000"].map(rate_text),
        "IMD decile (1 = most deprived)": shown["imd_decile"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}"),
    }).reset_index(drop=True)


@lru_cache(maxsize=4)
def _label_points(geometries: tuple[str, ...]) -> tuple[list[float], list[float]]:
    """A point inside each ward, for its label (the boundaries change only with a load)."""
    points = [shape(json.loads(g)).representative_point() for g in geometries]
    return [p.x for p in points], [p.y for p in points]


@lru_cache(maxsize=4)
def _feature_collection(wards: tuple[str, ...], names: tuple[str, ...], geometries: tuple[str, ...]) -> dict:
    return feature_collection(pd.DataFrame({"ward": wards, "ward_name": names, "geojson": geometries}))


def _features_of(collection: dict, wards: list[str]) -> dict:
    """The collection's features for these wards only: each map trace carries the boundaries
    it draws, so a ward's boundary is sent once, not once per trace."""
    wanted = set(wards)
    return {"type": "FeatureCollection", "features": [f for f in collection["features"] if f["id"] in wanted]}


# --------------------------------------------------------------------------- clusters

def find_clusters(cells: pd.DataFrame, eps: float = CLUSTER_EPS_METRES,
                  min_samples: int = CLUSTER_MIN_SAMPLES) -> np.ndarray:
    """DBSCAN label of each grid cell (-1 = noise), each cell weighted by its episodes.

    The labels scikit-learn's DBSCAN gives (`DBSCAN(eps, min_samples).fit(points,
    sample_weight=weights)`), computed with neighbour pairs and connected components, which
    is many times faster on the tens of thousands of cells of a national store and needs no
    scikit-learn import (seconds, on a worker's first map): a cell is a core cell when the
    episodes of the cells within `eps` (itself included) reach `min_samples`; core cells
    within `eps` of each other form a cluster; clusters are numbered in the order of their
    first core cell; any other cell within `eps` of a core cell joins the first-numbered
    such cluster (scikit-learn's order of discovery), else it is noise.

    Rows at the same point (one cell found in two wards) are one place: everything is
    worked out once per distinct point (its episodes summed, its first row giving its
    order) and given back to each of its rows."""
    if cells.empty:
        return np.zeros(0, dtype=int)
    east = cells["grid_e"].to_numpy()
    north = cells["grid_n"].to_numpy()
    pairs = _grid_pairs(east, north, eps)
    if pairs is None:
        points, first_row, inverse = np.unique(np.column_stack([east, north]).astype(float), axis=0,
                                               return_index=True, return_inverse=True)
        pairs = cKDTree(points).query_pairs(eps, output_type="ndarray")
        first, second = pairs[:, 0], pairs[:, 1]
    else:
        first_row, inverse, first, second = pairs
    inverse = inverse.reshape(-1)
    n = len(first_row)
    weights = np.bincount(inverse, cells["episodes"].to_numpy(dtype=float), minlength=n)
    weight_within = weights + np.bincount(first, weights[second], minlength=n) \
        + np.bincount(second, weights[first], minlength=n)
    core = weight_within >= min_samples
    labels = np.full(n, -1, dtype=int)
    if not core.any():
        return labels[inverse]
    core_index = np.flatnonzero(core)
    position = np.full(n, -1)
    position[core_index] = np.arange(len(core_index))
    linked = core[first] & core[second]
    graph = coo_matrix((np.ones(int(linked.sum())), (position[first[linked]], position[second[linked]])),
                       shape=(len(core_index), len(core_index)))
    # (The weak components of the one-way graph: the components of the two-way one, found
    # without building its transpose.)
    _, component = connected_components(graph, directed=True, connection="weak")
    # Number the clusters by their first core row.
    first_cell = np.full(component.max() + 1, len(inverse))
    np.minimum.at(first_cell, component, first_row[core_index])
    number = np.empty_like(first_cell)
    number[np.argsort(first_cell, kind="stable")] = np.arange(len(first_cell))
    labels[core_index] = number[component]
    # Border points: the lowest-numbered cluster among their core neighbours.
    border = np.full(n, np.iinfo(np.int64).max)
    for a, b in ((first, second), (second, first)):
        join = core[b] & ~core[a]
        np.minimum.at(border, a[join], labels[b[join]])
    reached = ~core & (border < np.iinfo(np.int64).max)
    labels[reached] = border[reached]
    return labels[inverse]


# The largest grid of 100 m squares `_grid_pairs` lays out (4 bytes each): a box of
# 200 km by 200 km; the found places of a store spread wider are paired with a k-d tree.
GRID_SQUARES_MAX = 2000 * 2000


def _grid_pairs(east, north, eps: float):
    """The distinct points and their pairs within `eps`, when every point is on one 100 m
    grid (the found places always are) in a box of at most GRID_SQUARES_MAX squares: (first
    row of each point, point of each row, pairs as two arrays). The points are numbered on
    an array of the box and each point's neighbours read at a fixed set of steps from it:
    no tree to build or search. None otherwise."""
    if not (np.issubdtype(east.dtype, np.integer) and np.issubdtype(north.dtype, np.integer)):
        return None
    east, north = east.astype(np.int64), north.astype(np.int64)
    if ((east - east[0]) % GRID_METRES).any() or ((north - north[0]) % GRID_METRES).any():
        return None
    reach = int(eps // GRID_METRES)
    column = (east - east.min()) // GRID_METRES
    row = (north - north.min()) // GRID_METRES
    shape = (int(column.max()) + reach + 1, int(row.max()) + 2 * reach + 1)
    if shape[0] * shape[1] > GRID_SQUARES_MAX:
        return None
    _, first_row, inverse = np.unique(column * shape[1] + row, return_index=True, return_inverse=True)
    column, row = column[first_row], row[first_row] + reach
    box = np.full(shape, -1, dtype=np.int32)
    box[column, row] = np.arange(len(first_row))
    firsts, seconds = [], []
    for step_e in range(0, reach + 1):
        for step_n in range(-reach, reach + 1):
            if (step_e, step_n) <= (0, 0):
                continue  # each pair once, from its first point
            # The tree's test (distance <= eps), on the exact grid distances.
            if float(step_e * GRID_METRES) ** 2 + float(step_n * GRID_METRES) ** 2 > float(eps) ** 2:
                continue
            neighbour = box[column + step_e, row + step_n]
            found = neighbour >= 0
            firsts.append(np.flatnonzero(found))
            seconds.append(neighbour[found])
    first = np.concatenate(firsts) if firsts else np.zeros(0, dtype=np.int64)
    second = np.concatenate(seconds) if seconds else np.zeros(0, dtype=np.int64)
    return first_row, inverse, first, second


def hull_outline(grid_e, grid_n, padding: float = OUTLINE_PADDING_METRES) -> list[tuple[float, float]]:
    """Closed ring (BNG metres) of the convex hull of the 100 m cells centred on the points,
    padded by `padding` metres: a polygon even for one cell or a line of cells."""
    grid_e = np.atleast_1d(np.asarray(grid_e, dtype=float))
    ring = hull_outlines(grid_e, np.asarray(grid_n, dtype=float), np.zeros(len(grid_e), dtype=int), padding)[0]
    return [(float(x), float(y)) for x, y in ring]


def hull_outlines(grid_e, grid_n, group, padding: float = OUTLINE_PADDING_METRES) -> list[np.ndarray]:
    """`hull_outline` of each group of points (groups numbered 0, 1, ..., each with a point),
    as an array of (x, y) rows per group: every hull, padding and ring in one shapely call
    over all groups (the same geometry operations as one group at a time, without a Python
    round per cluster). A cell repeated, or inside the others, changes no hull."""
    half = GRID_METRES / 2
    grid_e, grid_n, group = (np.asarray(grid_e, dtype=float), np.asarray(grid_n, dtype=float),
                             np.asarray(group))
    # Only the first and last cell of each column of a group can put a corner on its hull (the
    # squares between them lie inside): drop the rest before the hull, not after.
    order = np.lexsort((grid_n, grid_e, group))
    grid_e, grid_n, group = grid_e[order], grid_n[order], group[order]
    new_column = np.r_[True, (group[1:] != group[:-1]) | (grid_e[1:] != grid_e[:-1])]
    ends = new_column | np.r_[new_column[1:], True]
    grid_e, grid_n, group = grid_e[ends], grid_n[ends], group[ends]
    centres = np.column_stack([grid_e, grid_n])
    offsets = np.array([(-half, -half), (-half, half), (half, -half), (half, half)])
    corners = (centres[:, None, :] + offsets[None, :, :]).reshape(-1, 2)
    owner = np.repeat(group, len(offsets))
    hulls = shapely.convex_hull(shapely.linestrings(corners, indices=owner))
    if padding:
        hulls = shapely.buffer(hulls, padding, quad_segs=4)
    coords, ring = shapely.get_coordinates(shapely.get_exterior_ring(hulls), return_index=True)
    return np.split(coords, np.flatnonzero(np.diff(ring)) + 1)


@lru_cache(maxsize=1)
def wgs84_transformer():
    """British National Grid to WGS84, made once per process (importing pyproj and making it
    take about 100 ms; dashboard.prime makes it when a worker starts)."""
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def to_wgs84(eastings, northings) -> tuple[list[float], list[float]]:
    lon, lat = wgs84_transformer().transform(np.asarray(eastings, dtype=float), np.asarray(northings, dtype=float))
    return np.atleast_1d(lon).astype(float).tolist(), np.atleast_1d(lat).astype(float).tolist()


def cluster_outlines(cells: pd.DataFrame, ward_names: dict[str, str],
                     eps: float = CLUSTER_EPS_METRES, min_samples: int = CLUSTER_MIN_SAMPLES) -> pd.DataFrame:
    """One row per cluster shown: label (A, B, ...), episodes, the wards it spans (most
    episodes first) and its outline in WGS84. Clusters under MIN_EPISODES are dropped.

    Worked out on arrays, not pandas groups: a national store has tens of thousands of
    cells in hundreds of clusters, and each pandas step costs more than its arithmetic."""
    columns = ["cluster", "episodes", "wards", "ward_count", "lon", "lat", "label_lon", "label_lat"]
    labels = find_clusters(cells, eps, min_samples)
    if not len(labels) or (labels < 0).all():
        return pd.DataFrame(columns=columns)
    clustered = np.flatnonzero(labels >= 0)
    label = labels[clustered]
    episodes = cells["episodes"].to_numpy()[clustered].astype(np.int64)
    totals = np.zeros(int(label.max()) + 1, dtype=np.int64)
    np.add.at(totals, label, episodes)
    kept = np.flatnonzero(totals >= MIN_EPISODES)
    if not len(kept):
        return pd.DataFrame(columns=columns)
    keep = np.isin(label, kept)
    clustered, label, episodes = clustered[keep], label[keep], episodes[keep]
    # The ward name of each cell (outside the authority when its ward is not one of them).
    ward, codes = pd.factorize(cells["ward"])
    ward = ward[clustered]
    code_names = [_ward_name(ward_names, code) for code in codes]
    name_of_code, names = pd.factorize(np.array(code_names + [OUTSIDE], dtype=object))
    name = name_of_code[ward]   # a missing ward (-1) takes the last: OUTSIDE
    names = list(names)
    # Episodes by cluster and ward name; the wards of each cluster most episodes first, a
    # tie in name order.
    pair, pair_index = np.unique(label * len(names) + name, return_inverse=True)
    pair_episodes = np.zeros(len(pair), dtype=np.int64)
    np.add.at(pair_episodes, pair_index.reshape(-1), episodes)
    pair_label, pair_name = pair // len(names), pair % len(names)
    name_rank = np.empty(len(names), dtype=np.int64)
    name_rank[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
    order = np.lexsort((name_rank[pair_name], -pair_episodes, pair_label))
    pair_label, pair_name = pair_label[order], pair_name[order]
    ward_lists = np.split(pair_name, np.flatnonzero(np.diff(pair_label)) + 1)
    # The outline of each cluster, every hull and reprojection in one call each.
    rings = hull_outlines(cells["grid_e"].to_numpy(dtype=float)[clustered],
                          cells["grid_n"].to_numpy(dtype=float)[clustered], np.searchsorted(kept, label))
    lon_all, lat_all = to_wgs84(np.concatenate([ring[:, 0] for ring in rings]),
                                np.concatenate([ring[:, 1] for ring in rings]))
    rows, at = [], 0
    for cluster, ring, ward_list in zip(kept, rings, ward_lists):
        lon, lat = lon_all[at:at + len(ring)], lat_all[at:at + len(ring)]
        at += len(ring)
        top = lat.index(max(lat))   # the northernmost point (the first of equals)
        wards = [names[i] for i in ward_list]
        rows.append((int(totals[cluster]), ", ".join(wards), len(wards), lon, lat, lon[top], lat[top]))
    rows.sort(key=lambda row: -row[0])   # stable: a tie keeps the order of discovery
    return pd.DataFrame(dict(zip(columns, [[_letter(i) for i in range(len(rows))], *map(list, zip(*rows))])),
                        columns=columns)


def _ward_name(ward_names: dict[str, str], code) -> str:
    name = ward_names.get(code)
    return OUTSIDE if name is None or name != name else name


def _letter(i: int) -> str:
    letters = string.ascii_uppercase
    return letters[i] if i < 26 else letters[i // 26 - 1] + letters[i % 26]


def cluster_table(clusters: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Cluster": clusters["cluster"],
        "Episodes found there": clusters["episodes"].astype(int),
        "Wards it spans": clusters["wards"],
    })


# --------------------------------------------------------------------------- figures

def ward_map_figure(rates: pd.DataFrame, boundaries: pd.DataFrame, clusters: pd.DataFrame | None = None,
                    place: str = "missing_from") -> go.Figure:
    """Choropleth of the ward rate; grey 'fewer than 5' wards; the rate written on each
    ward; found-location cluster outlines (dashed, lettered) over it."""
    if boundaries.empty:
        return empty_figure("No ward boundaries in the store")
    geojson = _feature_collection(tuple(boundaries["ward"]), tuple(boundaries["ward_name"]),
                                  tuple(boundaries["geojson"]))
    # A few dozen wards: plain lists, row by row (a pandas merge or mask costs more than
    # all of their arithmetic). The wards of `rates` that have a boundary, in rates' order.
    with_boundary = set(boundaries["ward"].tolist())
    columns = {name: rates[name].tolist() for name in ("ward", "ward_name", "episodes", "children",
                                                        "rate_per_1000", "imd_decile")}
    wards = [dict(zip(columns, values)) for values in zip(*columns.values()) if values[0] in with_boundary]
    hover = ("<b>%{customdata[0]}</b><br>Episodes: %{customdata[1]}<br>Children aged 0-15: %{customdata[2]}"
             "<br>Rate per 1,000 children: %{customdata[3]}<br>IMD decile (1 = most deprived): %{customdata[4]}"
             "<extra></extra>")

    def custom(ward: dict) -> list:
        return [ward["ward_name"], count_label(ward["episodes"]),
                "unknown" if pd.isna(ward["children"]) else f"{int(ward['children']):,}",
                rate_text(ward["rate_per_1000"]),
                "unknown" if pd.isna(ward["imd_decile"]) else f"{ward['imd_decile']:.1f}"]

    rated = [ward for ward in wards if not pd.isna(ward["rate_per_1000"])]
    suppressed = [ward for ward in wards if pd.isna(ward["rate_per_1000"])]
    # Plain dicts, one figure built at the end: the boundaries are the same on every call
    # (cached above) and each validated graph_objects call would copy them again.
    traces = []
    if rated:
        traces.append({
            "type": "choropleth", "geojson": _features_of(geojson, [w["ward"] for w in rated]), "featureidkey": "id",
            "locations": [w["ward"] for w in rated],
            "z": [w["rate_per_1000"] for w in rated], "colorscale": RATE_SCALE, "zauto": False, "zmin": 0,
            "zmax": float(max(w["rate_per_1000"] for w in rated)), "marker": {"line": {"color": "white", "width": 1}},
            "customdata": [custom(w) for w in rated], "hovertemplate": hover,
            "name": "Rate per 1,000 children",
            "colorbar": {"title": {"text": "Episodes per<br>1,000 children"}, "thickness": 14, "len": 0.7},
        })
    if suppressed:
        traces.append({
            "type": "choropleth", "geojson": _features_of(geojson, [w["ward"] for w in suppressed]),
            "featureidkey": "id", "locations": [w["ward"] for w in suppressed], "z": [0] * len(suppressed),
            "colorscale": [[0, NO_RATE_GREY], [1, NO_RATE_GREY]], "showscale": False,
            "marker": {"line": {"color": "white", "width": 1}},
            "customdata": [custom(w) for w in suppressed], "hovertemplate": hover,
            "name": "Fewer than 5 episodes: no rate", "showlegend": True,
        })
    # Each ward's label at a point inside it, in the boundaries' order.
    rate_of = {w["ward"]: w["rate_per_1000"] for w in wards}
    lon, lat = _label_points(tuple(boundaries["geojson"]))
    centres = [(x, y, rate_of[ward]) for ward, x, y in zip(boundaries["ward"].tolist(), lon, lat) if ward in rate_of]
    top_rate = max((w["rate_per_1000"] for w in rated), default=None)
    # Dark wards get white figures: the label must stay readable on every shade.
    dark_from = 0.55 * (top_rate if top_rate is not None else 1)
    dark = [(0 if pd.isna(rate) else rate) > dark_from for _, _, rate in centres]
    traces.append({
        "type": "scattergeo", "lon": [x for x, _, _ in centres], "lat": [y for _, y, _ in centres], "mode": "text",
        "hoverinfo": "skip", "showlegend": False,
        "text": ["<5" if pd.isna(rate) else f"{rate:.1f}" for _, _, rate in centres],
        "textfont": {"size": 11, "color": ["#ffffff" if d else "#0b0c0c" for d in dark]}, "name": "Rate labels",
    })
    if clusters is not None and len(clusters):
        # Every outline in one trace, rings separated by gaps (NaN): one legend entry and one
        # drawing layer however many clusters there are. The words of each cluster are on
        # its letter (and on its outline when there is only one).
        words = [f"Cluster {c}: {n} episodes found here; wards: {w}"
                 for c, n, w in zip(clusters["cluster"], clusters["episodes"], clusters["wards"])]
        gap = [np.nan]
        lon = np.concatenate([part for ring in clusters["lon"] for part in (ring, gap)][:-1])
        lat = np.concatenate([part for ring in clusters["lat"] for part in (ring, gap)][:-1])
        outline = {
            "type": "scattergeo", "lon": lon, "lat": lat, "mode": "lines", "fill": "toself",
            "fillcolor": "rgba(0,0,0,0.03)", "line": {"color": "#000000", "width": 2.5, "dash": "dash"},
            "name": "Found-location cluster (outline)", "legendgroup": "clusters", "showlegend": True,
            "hoverinfo": "skip",
        }
        if len(clusters) == 1:
            outline.update(hoverinfo="text", hovertext=words[0])
        traces.append(outline)
        traces.append({
            "type": "scattergeo", "lon": clusters["label_lon"].tolist(), "lat": clusters["label_lat"].tolist(),
            "mode": "text", "showlegend": False,
            "text": [f"<b>{c}: {n}</b>" for c, n in zip(clusters["cluster"], clusters["episodes"])],
            "textposition": "top center", "hoverinfo": "text", "hovertext": words,
            "textfont": {"size": 13, "color": "#000000", "shadow": "1px 1px 1px #fff, -1px -1px 1px #fff"},
            "name": "Cluster labels",
        })
    return figure_from(traces, {
        "geo": {"visible": False, "fitbounds": "locations", "projection": {"type": "mercator"}},
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "legend": {"orientation": "h", "y": -0.02},
    }, height=640)


def imd_figure(rates: pd.DataFrame, place: str = "missing_from") -> go.Figure:
    """Each ward's rate against its population-weighted IMD 2019 decile, ward names written."""
    shown = rates[rates["rate_per_1000"].notna() & rates["imd_decile"].notna()]
    if shown.empty:
        return empty_figure("No ward has 5 or more episodes in this selection")
    trace = {
        "type": "scatter", "x": shown["imd_decile"].tolist(), "y": shown["rate_per_1000"].tolist(),
        "mode": "markers+text", "text": shown["ward_name"].tolist(), "textposition": "top center",
        "textfont": {"size": 11},
        "marker": {"symbol": "circle", "size": 11, "color": PALETTE[0], "line": {"color": "white", "width": 1}},
        "customdata": shown[["episodes", "children"]].to_numpy().tolist(), "name": "Ward",
        "hovertemplate": ("<b>%{text}</b><br>IMD decile %{x:.1f}<br>Rate per 1,000 children: %{y:.1f}"
                          "<br>Episodes: %{customdata[0]}<br>Children aged 0-15: %{customdata[1]:,}<extra></extra>"),
    }
    layout = {
        "xaxis": {"title": {"text": "IMD 2019 decile of the ward (1 = most deprived 10% of England)"},
                  "range": [0.5, 10.5], "dtick": 1},
        "yaxis": {"title": {"text": "Episodes per 1,000 children"}},
    }
    left_out = len(rates) - len(shown)
    if left_out:
        layout["annotations"] = [{"text": f"{left_out} ward{'s' if left_out != 1 else ''} with fewer than 5 episodes "
                                          "(or no IMD) not shown", "xref": "paper", "yref": "paper", "x": 1,
                                  "y": 1.06, "xanchor": "right", "showarrow": False, "font": {"size": 12}}]
    return figure_from([trace], layout, height=460)


# --------------------------------------------------------------------------- words

def coverage_sentence(coverage: pd.DataFrame, place: str) -> str:
    row = coverage.iloc[0]
    withheld = suppressing(coverage)
    where = "where the child went missing from" if place == "missing_from" else "where the child was found"
    unknown = row["episodes"] - row["with_ward"]
    parts = [f"{small_label(row['with_ward'], withheld)} of {small_label(row['episodes'], withheld)} episodes in "
             f"this selection have a known ward ({where}); {small_label(unknown, withheld)} have none"]
    reasons = []
    ssda903_only, outside, unknown_place = (row[k] for k in ("ssda903_only", "outside_area", "place_unknown"))
    if ssda903_only != 0:
        reasons.append(f"{small_label(ssda903_only, withheld)} {'is' if ssda903_only == 1 else 'are'} known only "
                       "from the SSDA903 return, which records no place")
    if outside != 0:
        reasons.append(f"{small_label(outside, withheld)} {'was' if outside == 1 else 'were'} outside the authority")
    if unknown_place != 0:
        reasons.append(f"{small_label(unknown_place, withheld)} police record{' had' if unknown_place == 1 else 's had'}"
                       " no usable postcode")
    return parts[0] + (": " + "; ".join(reasons) if reasons else "") + "."


def map_summary(rates: pd.DataFrame, clusters: pd.DataFrame, place: str) -> str:
    where = PLACE_LABELS.get(place, place)
    rated = rates[rates["rate_per_1000"].notna()].sort_values("rate_per_1000", ascending=False)
    total = int(rates["episodes"].sum())
    withheld = int(rates["episodes"].isna().sum())
    if not total and not withheld:
        return "No episodes with a known ward in this selection."
    text = [f"{total:,} episodes by the ward children {where}, across {len(rates)} wards"
            + (f" ({withheld} more wards had 1–4 episodes each)." if withheld else ".")]
    if len(rated):
        top = rated.head(3)
        text.append("Highest rates per 1,000 children: " + "; ".join(
            f"{r.ward_name} {r.rate_per_1000:.1f} ({r.episodes} episodes)" for r in top.itertuples()) + ".")
    suppressed = len(rates) - len(rated)
    if suppressed:
        text.append(f"{suppressed} ward{'s have' if suppressed != 1 else ' has'} fewer than 5 episodes and no rate.")
    if len(clusters):
        text.append(f"{len(clusters)} found-location cluster{'s' if len(clusters) != 1 else ''} outlined: " + "; ".join(
            f"{c.cluster} {c.episodes} episodes ({c.wards})" for c in clusters.itertuples()) + ".")
    else:
        text.append("No found-location cluster of 10 or more episodes within 300 m.")
    return " ".join(text)


def imd_summary(rates: pd.DataFrame) -> str:
    shown = rates[rates["rate_per_1000"].notna() & rates["imd_decile"].notna()]
    if len(shown) < 2:
        return "Too few wards with a rate to compare with deprivation."
    deprived = shown[shown["imd_decile"] <= 3]
    others = shown[shown["imd_decile"] > 3]
    correlation = shown["imd_decile"].corr(shown["rate_per_1000"])
    text = [f"{len(shown)} wards with a rate."]
    if len(deprived) and len(others):
        text.append(f"Wards in deciles 1-3 (most deprived) average {deprived['rate_per_1000'].mean():.1f} episodes "
                    f"per 1,000 children; the other wards {others['rate_per_1000'].mean():.1f}.")
    if pd.notna(correlation):
        if abs(correlation) < 0.2:
            direction = "little relationship between deprivation and the rate"
        elif correlation < 0:
            direction = "more deprived wards tend to have higher rates"
        else:
            direction = "more deprived wards tend to have lower rates"
        text.append(f"Correlation of rate with IMD decile {correlation:.2f} ({direction}).")
    return " ".join(text)
