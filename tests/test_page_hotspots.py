"""Area hotspots: ward counts and rates, the small-number rule, population summed to wards,
IMD, DBSCAN clusters of found places and their outlines, the figures and the page callback.

The tiny store uses real Wolverhampton postcodes (qlacref, laua E08000031; see
tests/test_geocode.py) so the real ward boundaries of assets/geo place them:
    WV1 4ED  -> St Peters (E05014853), LSOA E01034312 (a 2021 code: no IMD 2019 row)
    WV6 6GW  -> St Peters (E05014853), LSOA E01010522 (IMD decile 2)
    WV10 9YZ -> Heath Town (E05014848), LSOA E01010472 (IMD decile 2)
    WV3 7BD  -> Graiseley (E05014847), LSOA E01010469 (IMD decile 6)
Episodes starting in 2025/26 (one person each, so no merging):
    St Peters: S1-S3 from WV1 4ED, S4-S6 from WV6 6GW      -> 6 episodes missing from
    Heath Town: H1-H4 from WV10 9YZ                         -> 4 episodes (fewer than 5)
    Graiseley: G1 from WV3 7BD, risk high                   -> 1 episode
    U1 with no postcode                                     -> police-known, no ward
    G0 from WV3 7BD in May 2024                             -> outside the period
Found: S1-S6 and G1 found at WV1 4ED (St Peters 7), H1-H4 at WV10 9YZ (Heath Town 4),
U1 found nowhere known.
Population (geography/population.csv): E01034312 300 + E01010522 200 = St Peters 500;
E01010472 400 = Heath Town; E01010469 1,000 = Graiseley; E05014840 250 (a ward code:
Blakenhall, used directly).
So, missing from: St Peters 6 / 500 x 1,000 = 12.0 per 1,000; Heath Town 4 -> no rate;
Graiseley 1 -> no rate. Found: St Peters 7 / 500 x 1,000 = 14.0; Heath Town 4 -> no rate.
IMD (population-weighted over LSOAs with IMD and population): St Peters 2.0 (only
E01010522 has IMD), Heath Town 2.0, Graiseley 6.0.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import plotly.graph_objects as go
import pytest
from shapely.geometry import Polygon

from dashboard import data
from dashboard.app import create_app
from dashboard.components import store_to_frame
from dashboard.figures.hotspots import (
    CLUSTER_EPS_METRES, CLUSTER_MIN_SAMPLES, OUTSIDE, SUPPRESSED, cluster_outlines, feature_collection,
    find_clusters, hull_outline, imd_figure, to_wgs84, ward_map_figure, ward_table,
)
from dashboard.filters import Filters
from pipelines.config import Settings
from pipelines.load import SYNTHETIC_MARKER, load
from pipelines.store import read_only
from sources import police, write_table

ST_PETERS, HEATH_TOWN, GRAISELEY, BLAKENHALL = "E05014853", "E05014848", "E05014847", "E05014840"
YEAR = ("2025-04-01", "2026-03-31")
ALL = (*YEAR, "all", None, None, None, None)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hotspots")
    source = tmp / "src"
    rows = []
    for i, postcode in enumerate(["WV1 4ED"] * 3 + ["WV6 6GW"] * 3, start=1):
        rows.append(police(f"IS{i}", f"S{i}", f"2025-05-{i:02d}T08:00", f"2025-05-{i:02d}T20:00",
                           missing_from_postcode=postcode, found_postcode="WV1 4ED"))
    for i in range(1, 5):
        rows.append(police(f"IH{i}", f"H{i}", f"2025-06-{i:02d}T08:00", f"2025-06-{i:02d}T20:00",
                           missing_from_postcode="WV10 9YZ", found_postcode="WV10 9YZ"))
    rows.append(police("IG1", "G1", "2025-07-01T08:00", "2025-07-01T20:00", risk_level="high",
                       missing_from_postcode="WV3 7BD", found_postcode="WV1 4ED"))
    rows.append(police("IU1", "U1", "2025-08-01T08:00", "2025-08-01T20:00"))
    rows.append(police("IG0", "G0", "2024-05-01T08:00", "2024-05-01T20:00", missing_from_postcode="WV3 7BD",
                       found_postcode="WV3 7BD"))
    write_table(source, "police_incidents", rows)
    population = source / "geography" / "population.csv"
    population.parent.mkdir(parents=True, exist_ok=True)
    population.write_text("area_code,children\nE01034312,300\nE01010522,200\nE01010472,400\nE01010469,1000\n"
                          f"{BLAKENHALL},250\n", encoding="utf-8")
    (source / SYNTHETIC_MARKER).write_text("synthetic", encoding="utf-8")
    db = tmp / "mfhc.duckdb"
    load(source, Settings(db_path=db))
    create_app(db)
    yield db
    data.configure(None)


def year(**extra) -> Filters:
    return Filters(dt.date(2025, 4, 1), dt.date(2026, 3, 31), **extra)


def by_ward(frame: pd.DataFrame) -> dict:
    return {row.ward: row for row in frame.itertuples()}


# --------------------------------------------------------------------------- queries

def test_the_postcodes_fall_in_the_wards_worked_out_by_hand(store):
    with read_only(store) as con:
        wards = dict(con.execute("select lsoa, ward from ref_lsoa_ward where lsoa in "
                                 "('E01034312', 'E01010522', 'E01010472', 'E01010469')").fetchall())
    assert wards == {"E01034312": ST_PETERS, "E01010522": ST_PETERS, "E01010472": HEATH_TOWN,
                     "E01010469": GRAISELEY}


def test_missing_from_counts_rates_and_suppression_under_5(store):
    rates = data.query("hotspots_ward_rates", year(), place="missing_from")
    assert len(rates) == 20  # every ward of Wolverhampton, with or without episodes
    wards = by_ward(rates)
    assert (wards[ST_PETERS].episodes, wards[ST_PETERS].children, wards[ST_PETERS].rate_per_1000) == (6, 500, 12.0)
    assert (wards[HEATH_TOWN].episodes, wards[HEATH_TOWN].children) == (4, 400)
    assert pd.isna(wards[HEATH_TOWN].rate_per_1000)  # 4 episodes: fewer than 5, no rate
    assert wards[GRAISELEY].episodes == 1 and pd.isna(wards[GRAISELEY].rate_per_1000)
    assert rates["episodes"].sum() == 11 and rates["rate_per_1000"].notna().sum() == 1
    assert rates["ward"].iloc[0] == ST_PETERS  # sorted by episodes


def test_population_is_summed_to_wards_and_a_ward_code_is_used_directly(store):
    wards = by_ward(data.query("hotspots_ward_rates", year(), place="missing_from"))
    assert wards[ST_PETERS].children == 300 + 200
    assert wards[GRAISELEY].children == 1000
    assert wards[BLAKENHALL].children == 250 and wards[BLAKENHALL].episodes == 0


def test_found_counts_and_rates(store):
    wards = by_ward(data.query("hotspots_ward_rates", year(), place="found"))
    assert (wards[ST_PETERS].episodes, wards[ST_PETERS].rate_per_1000) == (7, 14.0)
    assert wards[HEATH_TOWN].episodes == 4 and pd.isna(wards[HEATH_TOWN].rate_per_1000)
    assert wards[GRAISELEY].episodes == 0


def test_imd_is_the_population_weighted_decile_of_lsoas_with_imd(store):
    wards = by_ward(data.query("hotspots_ward_rates", year(), place="missing_from"))
    assert (wards[ST_PETERS].imd_decile, wards[HEATH_TOWN].imd_decile, wards[GRAISELEY].imd_decile) == (2.0, 2.0, 6.0)
    coverage = data.query("hotspots_imd_coverage").iloc[0]
    # The real Wolverhampton geography: 161 LSOAs 2021, 6 with new codes and no IMD 2019 row.
    assert (coverage["lsoas"], coverage["lsoas_without_imd"]) == (161, 6)


def test_coverage_counts_episodes_without_a_ward(store):
    coverage = data.query("hotspots_place_coverage", year(), place="missing_from").iloc[0]
    assert (coverage["episodes"], coverage["police_known"], coverage["with_ward"]) == (12, 12, 11)
    assert (coverage["place_unknown"], coverage["outside_area"], coverage["ssda903_only"]) == (1, 0, 0)


def test_a_filter_changes_the_ward_counts(store):
    high = by_ward(data.query("hotspots_ward_rates", year(risk_level="high"), place="missing_from"))
    assert high[GRAISELEY].episodes == 1 and high[ST_PETERS].episodes == 0
    last_year = data.query("hotspots_ward_rates", Filters(dt.date(2024, 4, 1), dt.date(2025, 3, 31)),
                           place="missing_from")
    assert by_ward(last_year)[GRAISELEY].episodes == 1 and last_year["episodes"].sum() == 1


def test_found_cells_are_the_snapped_grid_points(store):
    cells = data.query("hotspots_found_cells", year())
    # WV1 4ED (391100, 298600) snaps to the centre of its 100 m cell; WV10 9YZ (392321, 298952) likewise.
    assert cells[["grid_e", "grid_n", "ward", "episodes"]].values.tolist() == [
        [391150, 298650, ST_PETERS, 7], [392350, 298950, HEATH_TOWN, 4]]


# --------------------------------------------------------------------------- clusters

def cells(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["grid_e", "grid_n", "ward", "episodes"])


def test_dbscan_weights_each_cell_by_its_episodes():
    frame = cells([
        (1050, 1050, "W1", 4), (1150, 1050, "W1", 4), (1250, 1050, "W2", 4),  # 12 within 300 m: a cluster
        (5050, 5050, "W1", 9),                                                  # 9 alone: noise
        (9050, 1050, "W2", 5), (9250, 1050, None, 5),                           # 5 + 5 within 200 m: a cluster
        (1050, 9050, "W1", 6), (1450, 9050, "W1", 6),                           # 400 m apart: both noise
    ])
    labels = find_clusters(frame)
    assert (CLUSTER_EPS_METRES, CLUSTER_MIN_SAMPLES) == (300, 10)
    assert labels[0] == labels[1] == labels[2] >= 0
    assert labels[4] == labels[5] >= 0 and labels[4] != labels[0]
    assert list(labels[[3, 6, 7]]) == [-1, -1, -1]

    outlines = cluster_outlines(frame, {"W1": "Ward One", "W2": "Ward Two"})
    assert outlines[["cluster", "episodes", "wards", "ward_count"]].values.tolist() == [
        ["A", 12, "Ward One, Ward Two", 2],       # most episodes first: Ward One 8, Ward Two 4
        ["B", 10, f"Ward Two, {OUTSIDE}", 2],     # a tie keeps name order
    ]


def test_clusters_under_5_episodes_are_not_shown():
    frame = cells([(1050, 1050, "W1", 3), (5050, 5050, "W1", 6)])
    shown = cluster_outlines(frame, {"W1": "Ward One"}, min_samples=3)
    assert shown["episodes"].tolist() == [6]  # the 3-episode cluster is dropped
    assert cluster_outlines(cells([]), {}).empty


def test_hull_outline_covers_the_cells_and_is_padded():
    square = Polygon(hull_outline([0], [0], padding=0))
    assert square.area == pytest.approx(100 * 100) and square.bounds == (-50, -50, 50, 50)
    strip = Polygon(hull_outline([0, 200], [0, 0], padding=0))
    assert strip.area == pytest.approx(300 * 100) and strip.bounds == (-50, -50, 250, 50)
    padded = hull_outline([0, 200], [0, 0])
    assert padded[0] == padded[-1]  # a closed ring
    assert Polygon(padded).bounds == pytest.approx((-200, -200, 400, 200))


def test_outlines_are_reprojected_to_wgs84():
    lon, lat = to_wgs84([391100], [298600])  # WV1 4ED, Wolverhampton city centre
    assert -2.15 < lon[0] < -2.11 and 52.58 < lat[0] < 52.60
    frame = cells([(391150, 298650, "E05014853", 12)])
    outline = cluster_outlines(frame, {"E05014853": "St Peters"}).iloc[0]
    assert len(outline["lon"]) == len(outline["lat"]) > 4
    assert all(-2.2 < x < -2.08 for x in outline["lon"]) and all(52.57 < y < 52.62 for y in outline["lat"])


# --------------------------------------------------------------------------- figures

def square(lon0: float, lat0: float) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [[[lon0, lat0], [lon0 + 0.01, lat0], [lon0 + 0.01, lat0 + 0.01],
                                                           [lon0, lat0 + 0.01], [lon0, lat0]]]})


BOUNDARIES = pd.DataFrame({"ward": ["W1", "W2"], "ward_name": ["Ward One", "Ward Two"],
                           "geojson": [square(-2.13, 52.58), square(-2.12, 52.58)]})
RATES = pd.DataFrame({"ward": ["W1", "W2"], "ward_name": ["Ward One", "Ward Two"], "episodes": [6, 3],
                      "children": [500, 400], "rate_per_1000": [12.0, None], "imd_decile": [2.0, 6.0]})


def test_feature_collection_ids_are_ward_codes():
    collection = feature_collection(BOUNDARIES)
    assert [f["id"] for f in collection["features"]] == ["W1", "W2"]
    assert collection["features"][0]["geometry"]["type"] == "Polygon"


def test_ward_map_figure_traces():
    clusters = cluster_outlines(cells([(391150, 298650, "W1", 12)]), {"W1": "Ward One"})
    figure = ward_map_figure(RATES, BOUNDARIES, clusters, "missing_from")
    kinds = [type(t).__name__ for t in figure.data]
    assert kinds == ["Choropleth", "Choropleth", "Scattergeo", "Scattergeo", "Scattergeo"]
    rated, grey, labels, outline, cluster_label = figure.data
    assert list(rated.locations) == ["W1"] and list(rated.z) == [12.0] and rated.featureidkey == "id"
    assert list(grey.locations) == ["W2"] and grey.name.startswith("Fewer than 5")
    # Each map trace carries the boundaries of its own wards only: none is sent twice.
    assert [f["id"] for f in rated.geojson["features"]] == ["W1"]
    assert [f["id"] for f in grey.geojson["features"]] == ["W2"]
    assert list(labels.text) == ["12.0", "<5"]  # the numbers are written, not only coloured
    assert outline.mode == "lines" and "12 episodes" in outline.hovertext
    assert list(cluster_label.text) == ["<b>A: 12</b>"]
    assert figure.layout.geo.visible is False and figure.layout.geo.fitbounds == "locations"
    assert "Rate per 1,000 children: %{customdata[3]}" in grey.hovertemplate
    assert grey.customdata[0][3] == SUPPRESSED and rated.customdata[0][3] == "12.0"


def test_imd_figure_plots_only_wards_with_a_rate():
    figure = imd_figure(RATES)
    assert list(figure.data[0].x) == [2.0] and list(figure.data[0].y) == [12.0]
    assert list(figure.data[0].text) == ["Ward One"]
    assert "1 ward with fewer than 5" in figure.layout.annotations[0].text
    empty = imd_figure(RATES.assign(rate_per_1000=None))
    assert "No ward has 5 or more" in empty.layout.annotations[0].text


def test_ward_table_says_fewer_than_5():
    table = ward_table(RATES)
    assert table.values.tolist() == [["Ward One", 6, "500", "12.0", "2.0"], ["Ward Two", 3, "400", SUPPRESSED, "6.0"]]


# --------------------------------------------------------------------------- page

def test_page_callback_and_filters(store):
    from dashboard.pages.hotspots import layout, update_hotspots

    assert "hotspots-place" in str(layout())
    coverage, map_fig, map_store, map_summary, clusters, imd_fig, imd_store, imd_summary, top = \
        update_hotspots(*ALL, "missing_from")
    assert "11 of 12 episodes" in coverage and "1 police record had no usable postcode" in coverage
    assert isinstance(map_fig, go.Figure) and any(isinstance(t, go.Choropleth) for t in map_fig.data)
    table = store_to_frame(map_store)
    assert table.iloc[0].tolist()[:4] == ["St Peters", 6, "500", "12.0"]
    assert "St Peters 12.0 (6 episodes)" in map_summary
    assert "No cluster" in str(clusters)  # 7 found at one cell: under 10, no core point
    assert list(imd_fig.data[0].y) == [12.0]
    assert "St Peters" in str(top)

    found = update_hotspots(*ALL, "found")
    assert store_to_frame(found[2]).iloc[0].tolist()[:4] == ["St Peters", 7, "500", "14.0"]

    high = update_hotspots(*YEAR, "all", None, None, None, "high", "missing_from")
    assert "1 of 1 episodes" in high[0]
    assert store_to_frame(high[2]).iloc[0].tolist()[:4] == ["Graiseley", 1, "1,000", SUPPRESSED]
    choropleths = [t for t in high[1].data if isinstance(t, go.Choropleth)]
    assert [t.name for t in choropleths] == ["Fewer than 5 episodes: no rate"]  # no ward has a rate: all grey
    assert len(choropleths[0].locations) == 20
