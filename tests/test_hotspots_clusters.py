"""The found-location clusters against plain definitions: the labels are scikit-learn's
DBSCAN, each outline is the padded hull of every corner of its cells, and the cluster
rows are what a plain pandas reading of those labels gives (random cells, hypothesis)."""

from __future__ import annotations

import string

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPoint
from sklearn.cluster import DBSCAN

from dashboard.figures import hotspots
from dashboard.figures.hotspots import (
    GRID_METRES, MIN_EPISODES, OUTLINE_PADDING_METRES, OUTSIDE, cluster_outlines, find_clusters, hull_outlines,
    to_wgs84,
)

WARDS = {"W1": "Ward One", "W2": "Ward Two", "W3": "Ward One"}   # two codes, one name: one ward
CODES = ["W1", "W2", "W3", "X9", None]                            # X9 and None: outside the authority


def grid_cells(draw, size: int, spread: int) -> pd.DataFrame:
    """Cells on the 100 m grid (centres at ...50, as the store's), some repeated in another
    ward, in the store's order (grid_e, grid_n, ward)."""
    rows = draw(st.lists(st.tuples(st.integers(0, spread), st.integers(0, spread), st.sampled_from(CODES),
                                   st.integers(1, 6)), min_size=0, max_size=size))
    frame = pd.DataFrame(
        [(391150 + GRID_METRES * i, 298650 + GRID_METRES * j, ward, n) for i, j, ward, n in rows],
        columns=["grid_e", "grid_n", "ward", "episodes"]).astype({"grid_e": "int32", "grid_n": "int32"})
    frame = frame.drop_duplicates(["grid_e", "grid_n", "ward"])
    return frame.sort_values(["grid_e", "grid_n", "ward"], na_position="last").reset_index(drop=True)


@st.composite
def cells_on_the_grid(draw):
    return grid_cells(draw, 120, draw(st.sampled_from([3, 12, 30])))


def dbscan(cells: pd.DataFrame, eps: float, min_samples: int) -> np.ndarray:
    if cells.empty:
        return np.zeros(0, dtype=int)
    points = cells[["grid_e", "grid_n"]].to_numpy(dtype=float)
    return DBSCAN(eps=eps, min_samples=min_samples).fit(points, sample_weight=cells["episodes"]).labels_


EPS = st.sampled_from([1.0, 100.0, 141.0, 141.5, 200.0, 250.0, 300.0, 360.0, 500.0])


@settings(max_examples=150)
@given(cells_on_the_grid(), EPS, st.integers(1, 25))
def test_grid_cells_get_scikit_learns_dbscan_labels(cells, eps, min_samples):
    assert find_clusters(cells, eps, min_samples).tolist() == dbscan(cells, eps, min_samples).tolist()


@settings(max_examples=60)
@given(st.lists(st.tuples(st.floats(0, 2000), st.floats(0, 2000), st.integers(1, 6)), max_size=80),
       EPS, st.integers(1, 15), st.booleans())
def test_points_off_the_grid_get_scikit_learns_dbscan_labels(points, eps, min_samples, far):
    # Points anywhere (a k-d tree pairs them), and grid points spread wider than the grid
    # array takes (one far away point).
    cells = pd.DataFrame([(e, n, "W1", w) for e, n, w in points], columns=["grid_e", "grid_n", "ward", "episodes"])
    if far:
        cells = pd.DataFrame({"grid_e": [391150 + GRID_METRES * round(e / 100) for e, _, _ in points] + [391150, 91150],
                              "grid_n": [298650 + GRID_METRES * round(n / 100) for _, n, _ in points] + [298650, 998650],
                              "ward": "W1", "episodes": [w for _, _, w in points] + [1, 1]})
        assert hotspots._grid_pairs(cells["grid_e"].to_numpy(), cells["grid_n"].to_numpy(), eps) is None
    assert find_clusters(cells, eps, min_samples).tolist() == dbscan(cells, eps, min_samples).tolist()


def plain_outline(grid_e, grid_n, padding: float) -> list[tuple[float, float]]:
    """The padded convex hull of every corner of every cell, one geometry call at a time."""
    half = GRID_METRES / 2
    corners = [(e + dx, n + dy) for e, n in zip(grid_e, grid_n) for dx in (-half, half) for dy in (-half, half)]
    hull = MultiPoint(corners).convex_hull
    if padding:
        hull = hull.buffer(padding, quad_segs=4)
    return [(float(x), float(y)) for x, y in hull.exterior.coords]


@settings(max_examples=150)
@given(st.lists(st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), min_size=1, max_size=30),
                min_size=1, max_size=6),
       st.sampled_from([0, OUTLINE_PADDING_METRES]), st.randoms())
def test_every_hull_at_once_is_each_hull_alone(groups, padding, random):
    # Lines of cells, single cells, cells repeated, groups overlapping, in any order.
    rows = [(100.0 * i + 50, 100.0 * j + 50, g) for g, cells in enumerate(groups) for i, j in cells]
    random.shuffle(rows)
    east, north, group = (np.array(column) for column in zip(*rows))
    rings = hull_outlines(east, north, group, padding)
    assert len(rings) == len(groups)
    for g, ring in enumerate(rings):
        plain = plain_outline([100.0 * i + 50 for i, _ in groups[g]], [100.0 * j + 50 for _, j in groups[g]], padding)
        assert [(float(x), float(y)) for x, y in ring] == plain


def plain_clusters(cells: pd.DataFrame, ward_names: dict, eps: float, min_samples: int) -> pd.DataFrame:
    """The cluster rows read plainly: scikit-learn's labels, pandas groups, one hull at a time."""
    columns = ["cluster", "episodes", "wards", "ward_count", "lon", "lat", "label_lon", "label_lat"]
    frame = cells.assign(label=dbscan(cells, eps, min_samples),
                         name=cells["ward"].map(ward_names).fillna(OUTSIDE))
    frame = frame[frame["label"] >= 0]
    totals = frame.groupby("label")["episodes"].sum()
    rows = []
    for label, total in totals[totals >= MIN_EPISODES].items():
        members = frame[frame["label"] == label]
        by_name = members.groupby("name")["episodes"].sum().reset_index()
        names = by_name.sort_values(["episodes", "name"], ascending=[False, True])["name"].tolist()
        ring = plain_outline(members["grid_e"], members["grid_n"], OUTLINE_PADDING_METRES)
        lon, lat = to_wgs84([x for x, _ in ring], [y for _, y in ring])
        top = int(np.argmax(lat))
        rows.append({"episodes": int(total), "wards": ", ".join(names), "ward_count": len(names),
                     "lon": lon, "lat": lat, "label_lon": lon[top], "label_lat": lat[top]})
    if not rows:
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame(rows).sort_values("episodes", ascending=False, kind="stable").reset_index(drop=True)
    out.insert(0, "cluster", [string.ascii_uppercase[i] for i in range(len(out))])
    return out[columns]


@settings(max_examples=80)
@given(cells_on_the_grid(), st.sampled_from([200.0, 300.0]), st.integers(2, 12))
def test_cluster_rows_are_the_plain_reading_of_the_labels(cells, eps, min_samples):
    got = cluster_outlines(cells, WARDS, eps, min_samples)
    want = plain_clusters(cells, WARDS, eps, min_samples)
    if want.empty:
        assert got.empty and list(got.columns) == list(want.columns)
    else:
        pd.testing.assert_frame_equal(got, want)


def test_a_hand_checked_case():
    # Two clusters: 4+4 in W1 and W3 (one name, "Ward One") and 4 in W2 within 300 m; 5 found
    # outside the authority next to 5 in W2, 200 m apart. The first cluster's outline is
    # the 300 m by 100 m strip padded by 150 m.
    cells = pd.DataFrame([(391150, 298650, "W1", 4), (391250, 298650, "W3", 4), (391350, 298650, "W2", 4),
                          (395150, 298650, "W2", 5), (395350, 298650, None, 5)],
                         columns=["grid_e", "grid_n", "ward", "episodes"])
    out = cluster_outlines(cells, WARDS)
    assert out[["cluster", "episodes", "wards", "ward_count"]].values.tolist() == [
        ["A", 12, "Ward One, Ward Two", 2], ["B", 10, f"Ward Two, {OUTSIDE}", 2]]
    ring = hull_outlines(np.array([391150.0, 391250, 391350]), np.array([298650.0] * 3), np.zeros(3, dtype=int))[0]
    assert (ring[:, 0].min(), ring[:, 0].max(), ring[:, 1].min(), ring[:, 1].max()) == (
        391100 - 150, 391400 + 150, 298600 - 150, 298700 + 150)
    assert out["lon"][0] == to_wgs84(ring[:, 0], ring[:, 1])[0]
