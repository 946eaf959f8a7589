"""The synthetic source-folder generator: determinism, schema and realism checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines import schema as S
from pipelines.generate import (
    CAL_DIR, DEFAULT_CHILDREN, FAKE_URN_PREFIX, GEO_DIR, OTHER_LAS, WOLVERHAMPTON, _load_postcodes, generate,
)

YEARS = ("2024", "2025", "2026")


def _read(folder: Path, rel: str) -> pd.DataFrame:
    return pd.read_csv(folder / rel, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    d = tmp_path_factory.mktemp("clean")
    return d, generate(d, errors=False)


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    d = tmp_path_factory.mktemp("dirty")
    return d, generate(d)


@pytest.fixture(scope="module")
def postcodes():
    return _load_postcodes().set_index("pc")


def _police(folder):
    p = _read(folder, "police_incidents.csv")
    p["ls"] = pd.to_datetime(p["last_seen_at"], format="%Y-%m-%dT%H:%M")
    p["fd"] = pd.to_datetime(p["found_at"].replace("", None), format="%Y-%m-%dT%H:%M")
    return p


def _ssda(folder, name):
    frames = []
    for y in YEARS:
        df = _read(folder, f"ssda903/{y}/{name}.csv")
        df["year"] = y
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _dmy(s):
    return pd.to_datetime(s.replace("", None), format="%d/%m/%Y")


# ------------------------------------------------------------------ determinism, schema
def test_deterministic(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    sa = generate(a, children=300, years=2, seed=5)
    sb = generate(b, children=300, years=2, seed=5)
    generate(c, children=300, years=2, seed=6)
    assert sa == sb
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert (a / "police_incidents.csv").read_bytes() != (c / "police_incidents.csv").read_bytes()
    assert sorted(x.name for x in (a / "ssda903").iterdir()) == ["2025", "2026"]


def test_every_file_has_the_schema_columns_in_order(clean):
    d, summary = clean
    for t in S.TABLES:
        if t.path.startswith("ssda903/"):
            paths = [f"ssda903/{y}/{Path(t.path).name}" for y in YEARS]
        else:
            paths = [t.path]
        for rel in paths:
            df = _read(d, rel)
            assert list(df.columns) == t.column_names, rel
            if rel in summary["files"]:
                assert len(df) == summary["files"][rel], rel
    for f in ("wards.geojson", "lsoas.geojson", "population.csv"):
        assert (d / "geography" / f).stat().st_size > 1000
    assert "SYNTHETIC" in (d / "README.txt").read_text()


def test_references_are_well_formed_and_no_names(clean):
    d, _ = clean
    p = _read(d, "police_incidents.csv")
    assert p["person_ref"].str.fullmatch(r"P\d{6,9}").all()
    assert p["incident_ref"].str.fullmatch(r"INC-\d{4}-\d{6}").all()
    assert p["incident_ref"].is_unique
    assert p.loc[p["la_child_ref"] != "", "la_child_ref"].str.fullmatch(r"\d{6,8}").all()
    h = _ssda(d, "header")
    assert h["CHILD"].str.fullmatch(r"\d{6,8}").all()
    upn = h.loc[h["UPN"] != "", "UPN"]
    assert len(upn) > 100 and upn.str.fullmatch(r"[A-Z]\d{12}").all()
    r = _read(d, "return_interviews.csv")
    assert r["rhi_ref"].str.fullmatch(r"RHI\d+").all() and r["rhi_ref"].is_unique
    att = _read(d, "attendance.csv")
    assert att["upn"].str.fullmatch(r"[A-Z]\d{12}").all()
    # no person's names anywhere: no name-like columns except the homes' (fictional) names
    for f in d.rglob("*.csv"):
        cols = [c.lower() for c in pd.read_csv(f, nrows=0).columns]
        if f.name != "homes.csv":
            assert not any(k in c for c in cols for k in ("name", "forename", "surname")), f
    reasons = set(p["safe_and_well_not_done_reason"]) - {""}
    assert 0 < len(reasons) <= 6


# ------------------------------------------------------------------ calibration
def test_looked_after_counts_match_wolverhampton(clean):
    d, _ = clean
    target = pd.read_csv(CAL_DIR / "targets.csv").set_index("measure")["value"]
    for y in YEARS:
        h = _read(d, f"ssda903/{y}/header.csv")
        m = _read(d, f"ssda903/{y}/missing.csv")
        mm = m[m["MISSING"] == "M"]
        got = {"cla_during_year": len(h), "children_missing": mm["CHILD"].nunique(),
               "missing_incidents": len(mm)}
        for k, v in got.items():
            assert abs(v - target[k]) <= 0.15 * target[k], (y, k, v, target[k])
        a = m[m["MISSING"] == "A"]
        assert len(a) < 0.05 * len(h)  # away: a few (Wolverhampton reports none; see SOURCES.md)


def test_default_size_is_one_authority(clean):
    _, s = clean
    assert s["children"] == pytest.approx(DEFAULT_CHILDREN, rel=0.01)
    assert 3000 <= s["episodes"] <= 10000
    assert 4 <= s["episodes"] / s["children"] <= 6


# ------------------------------------------------------------------ episodes and people
def test_heavy_tailed_repeat_episodes(clean):
    p = _police(clean[0])
    counts = p["person_ref"].value_counts()
    top = counts.iloc[: len(counts) // 5].sum() / counts.sum()
    assert top > 0.52
    assert 3 <= (counts >= 20).sum() <= 0.05 * len(counts)
    assert (counts == 1).mean() > 0.2


def test_two_populations(clean):
    d, _ = clean
    p = _police(d)
    xr = _read(d, "child_xref.csv")
    care = p["missing_from_type"].isin(S.CARE_MISSING_FROM_TYPES)
    # episodes a year per child who went missing that year: looked after (SSDA903) vs from home
    m = _ssda(d, "missing")
    m = m[m["MISSING"] == "M"]
    lac_rate = m.groupby("year").size() / m.groupby("year")["CHILD"].nunique()
    fy = (p["ls"] - pd.DateOffset(months=3)).dt.year + 1
    home = p[(p["missing_from_type"] == "home") & (p["la_child_ref"] == "")]
    home_fy = fy[home.index]
    home_rate = home.groupby(home_fy).size() / home.groupby(home_fy)["person_ref"].nunique()
    for y in YEARS:
        assert lac_rate[y] > 2 * home_rate[int(y)], (y, lac_rate[y], home_rate[int(y)])
    # some looked-after children of Wolverhampton also go missing from home (care for part of the window)
    lac_people = set(p.loc[p["la_child_ref"] != "", "person_ref"]) | set(
        xr.loc[xr["child_ref"].str.fullmatch(r"\d+"), "person_ref"])
    both = p[p["person_ref"].isin(lac_people)].groupby("person_ref")["missing_from_type"].agg(
        lambda s: ("home" in set(s)) and bool(set(s) & set(S.CARE_MISSING_FROM_TYPES)))
    assert both.sum() >= 3
    assert (p.loc[care & (p["la_child_ref"] != ""), "placing_la_code"].isin([WOLVERHAMPTON, ""])).all()
    other = p["placing_la_code"].isin(OTHER_LAS)
    assert other.sum() > 50 and (p.loc[other, "la_child_ref"] == "").all()
    assert p["placing_la_code"].str.fullmatch(r"(E\d{8})?").all()


def test_police_times_and_outcomes(clean):
    p = _police(clean[0])
    h = p["ls"].dt.hour
    assert ((h >= 16) | (h < 2)).mean() > 0.6
    days = p["ls"].dt.normalize()
    per_day = days.value_counts()
    all_days = pd.date_range(days.min(), days.max())
    per_day = per_day.reindex(all_days, fill_value=0)
    dow = per_day.groupby(per_day.index.day_of_week).mean()
    assert dow[[4, 5]].mean() > 1.2 * dow[[0, 1, 2]].mean()
    late_fri = p[(p["ls"].dt.day_of_week == 4) & (h >= 20)]
    late_tue = p[(p["ls"].dt.day_of_week == 1) & (h >= 20)]
    assert len(late_fri) > 1.3 * len(late_tue)
    month = per_day.groupby(per_day.index.month).mean()
    assert month[[5, 6, 7]].mean() > 1.15 * month[[1, 2]].mean()
    idx = per_day.index
    xmas = per_day[((idx.month == 12) & (idx.day >= 20)) | ((idx.month == 1) & (idx.day <= 3))].mean()
    assert xmas < 0.8 * month[[4, 5, 6, 7, 8]].mean()
    dur = (p["fd"] - p["ls"]).dt.total_seconds() / 3600
    dur = dur.dropna()
    assert 3 <= dur.median() <= 12
    assert 0.01 < (dur > 72).mean() < 0.1
    still = p[p["found_at"] == ""]
    assert 1 <= len(still) <= 30
    assert (still["ls"] >= pd.Timestamp("2026-02-01")).all()
    assert 0.07 <= (p["risk_level"] == "high").mean() <= 0.14
    assert p["risk_level"].isin(["medium", "low"]).mean() > 0.75
    rep = pd.to_datetime(p["reported_at"], format="%Y-%m-%dT%H:%M")
    assert (rep >= p["ls"]).all()
    assert (p["fd"].dropna() >= p.loc[p["fd"].notna(), "ls"]).all()
    saw = pd.to_datetime(p["safe_and_well_at"].replace("", None), format="%Y-%m-%dT%H:%M")
    gap = ((saw - p["fd"]).dt.total_seconds() / 3600).dropna()
    assert (gap >= 0).all() and (gap <= 72).mean() > 0.85
    assert ((p["safe_and_well_at"] == "") & (p["safe_and_well_not_done_reason"] != "")).sum() > 20
    assert set(p["category"]) == {"missing", "absent"} and (p["category"] == "absent").mean() < 0.05


def test_postcodes_real_near_and_deprived(clean, postcodes):
    d, _ = clean
    p = _police(d)
    known = postcodes.index
    for col in ("missing_from_postcode", "found_postcode"):
        v = p.loc[p[col] != "", col]
        assert v.isin(known).all(), col
    both = p[(p["missing_from_postcode"] != "") & (p["found_postcode"] != "")]
    a = postcodes.loc[both["missing_from_postcode"], ["e", "n"]].to_numpy()
    b = postcodes.loc[both["found_postcode"], ["e", "n"]].to_numpy()
    dist = np.hypot(*(a - b).T)
    assert (dist < 2000).mean() > 0.55
    assert (dist > 5000).mean() > 0.03  # sometimes found far away
    found_la = postcodes.loc[both["found_postcode"], "la"]
    assert (found_la == WOLVERHAMPTON).mean() > 0.85
    top5 = both["found_postcode"].value_counts().iloc[:5].sum() / len(both)
    assert top5 > 0.1  # recurring city-centre hotspots
    # home children: spread over LSOAs with the child population, more in deprived ones
    home = p[p["missing_from_type"] == "home"].drop_duplicates("person_ref")
    lsoa = postcodes.loc[home["missing_from_postcode"].replace("", None).dropna(), "lsoa"]
    pop = pd.read_csv(d / "geography" / "population.csv").set_index("area_code")["children"]
    cnt = lsoa.value_counts().reindex(pop.index, fill_value=0)
    assert np.corrcoef(cnt.rank(), pop.rank())[0, 1] > 0.3
    imd = pd.read_csv(GEO_DIR / "imd2019_lsoa11.csv")
    dec = imd.set_index("lsoa11_code")["imd_decile"]
    kids_dec = dec.reindex(lsoa.to_numpy()).dropna().mean()
    pop_dec = np.average(dec.reindex(pop.index).fillna(5), weights=pop)
    assert kids_dec < pop_dec - 0.4


# ------------------------------------------------------------------ homes
def test_homes_match_ofsted_and_urns_are_fictional(clean):
    d, s = clean
    homes = _read(d, "homes.csv")
    ofsted = pd.read_csv(CAL_DIR / "ofsted_childrens_homes_wolverhampton.csv")
    latest = ofsted.sort_values("snapshot").iloc[-1]
    assert len(homes) == latest["n_providers"]
    assert abs(homes["places"].astype(int).sum() - latest["n_places"]) <= 0.25 * latest["n_places"]
    # fictional URNs: no real Ofsted URN starts SC9 (checked against all provider files)
    assert homes["urn"].str.fullmatch(FAKE_URN_PREFIX + r"\d{5}").all() and homes["urn"].is_unique
    assert homes["postcode"].str.startswith("WV").all()
    ep = _ssda(d, "episodes")
    k = ep["PLACE"].isin(S.CHILDRENS_HOME_PLACE_CODES)
    assert ep.loc[k, "URN"].str.fullmatch(FAKE_URN_PREFIX + r"\d{5}").all()
    assert (ep.loc[~k, "URN"] == "XXXXXXX").all()
    assert ep.loc[k, "URN"].isin(homes["urn"]).mean() > 0.2
    assert (ep.loc[k, "URN"].isin(homes["urn"]) == False).any()  # noqa: E712  out-of-area homes
    # missing rates differ a lot, with clear outliers: police episodes from each home per place
    p = _police(d)
    ch = p[p["missing_from_type"] == "childrens_home"]
    per_home = ch["missing_from_postcode"].value_counts().reindex(homes["postcode"], fill_value=0)
    rate = per_home.to_numpy() / homes["places"].astype(int).to_numpy()
    assert rate.max() > 3 * np.median(rate)
    out = homes.set_index("urn").loc[s["outlier_homes"], "postcode"]
    assert per_home.loc[out.to_numpy()].sum() > 0


# ------------------------------------------------------------------ SSDA903
def test_ssda903_rules_hold_without_errors(clean):
    d, _ = clean
    for i, y in enumerate(YEARS):
        h = _read(d, f"ssda903/{y}/header.csv")
        assert set(h["SEX"]) == ({"1", "2"} if i == 0 else {"M", "F"})
        for col in ("DOB",):
            assert _dmy(h[col]).notna().all()
    ep = _ssda(d, "episodes")
    assert _dmy(ep["DECOM"]).notna().all()
    dec = _dmy(ep["DEC"])
    assert (dec.dropna() >= _dmy(ep.loc[dec.notna(), "DECOM"])).all()
    assert ep["PLACE"].isin(S.PLACE_CODES).all()
    sector = r"[A-Z]{1,2}\d[A-Z\d]? \d"
    assert ep["HOME_POST"].str.fullmatch(sector).all() and ep["PL_POST"].str.fullmatch(sector).all()
    assert (~ep["PL_POST"].str.startswith("WV")).mean() > 0.1  # placed out of area
    assert set(ep["LS"]) <= {"C1", "C2", "V2", "J2", "E1", "D1", "L2"}
    m = _ssda(d, "missing")
    assert m["MISSING"].isin(["M", "A"]).all() and (m["MISSING"] == "A").sum() > 0
    st, en = _dmy(m["MIS_START"]), _dmy(m["MIS_END"])
    assert st.notna().all() and (en.dropna() >= st[en.notna()]).all()
    # no overlapping periods of one child within a year's return (a blank end is open)
    m2 = m.assign(st=st, en=en.fillna(pd.Timestamp("2100-01-01"))).sort_values(["year", "CHILD", "st"])
    prev_end = m2.groupby(["year", "CHILD"])["en"].shift()
    assert not (m2["st"] <= prev_end).any()
    # every period starts while the child is looked after
    e = ep.assign(d0=_dmy(ep["DECOM"]), d1=dec.fillna(pd.Timestamp("2100-01-01")))
    e = e[["CHILD", "d0", "d1"]].drop_duplicates()
    j = m2[["CHILD", "st", "year"]].reset_index().merge(e, on="CHILD")
    covered = j[(j["d0"] <= j["st"]) & (j["st"] <= j["d1"])]["index"].unique()
    assert len(covered) == len(m2)


def test_police_and_ssda903_overlap_with_gaps(clean):
    d, _ = clean
    p = _police(d)
    m = _ssda(d, "missing")
    m = m[m["MISSING"] == "M"].assign(st=lambda x: _dmy(x["MIS_START"]), en=lambda x: _dmy(x["MIS_END"]))
    lac = p[(p["la_child_ref"] != "") & p["missing_from_type"].isin(S.CARE_MISSING_FROM_TYPES)]
    j = lac.reset_index().merge(m, left_on="la_child_ref", right_on="CHILD")
    end = j["en"].fillna(pd.Timestamp("2100-01-01"))
    fd = j["fd"].fillna(pd.Timestamp("2100-01-01")).dt.normalize()
    hit = j[(j["st"] <= fd) & (end >= j["ls"].dt.normalize())]
    share = hit["index"].nunique() / len(lac)
    assert 0.7 < share < 0.97  # most matched; some police incidents absent from SSDA903
    same_day = hit[hit["st"] == hit["ls"].dt.normalize()]
    assert same_day["index"].nunique() / hit["index"].nunique() > 0.95
    police_keys = set(zip(hit["CHILD"], hit["MIS_START"]))
    only903 = [k for k in zip(m["CHILD"], m["MIS_START"]) if k not in police_keys]
    assert len(only903) > 0.1 * len(m)


def test_uasc_some_go_missing_soon_after_arriving(clean):
    d, _ = clean
    u = _ssda(d, "uasc")
    assert 5 <= u["CHILD"].nunique() <= 80
    ep = _ssda(d, "episodes")
    first = ep.assign(d0=_dmy(ep["DECOM"])).groupby("CHILD")["d0"].min()
    m = _ssda(d, "missing")
    m = m[m["CHILD"].isin(u["CHILD"])].assign(st=lambda x: _dmy(x["MIS_START"]))
    p = _police(d)
    p = p[p["la_child_ref"].isin(u["CHILD"])]
    starts = pd.concat([m.groupby("CHILD")["st"].min(), p.groupby("la_child_ref")["ls"].min().dt.normalize()])
    first_miss = starts.groupby(level=0).min()
    gap = (first_miss - first.reindex(first_miss.index)).dt.days
    assert (gap <= 2).sum() >= 1
    assert (gap <= 7).sum() >= (gap <= 2).sum()


# ------------------------------------------------------------------ return interviews
def test_return_interviews(clean):
    d, _ = clean
    r = _read(d, "return_interviews.csv")
    p = _police(d)
    assert set(r["outcome"]) == set(S.RHI_OUTCOMES)
    assert ((r["child_ref"] != "") ^ (r["person_ref"] != "")).all()
    assert (r["child_ref"] != "").sum() > 100 and (r["person_ref"] != "").sum() > 100
    refs = r["episode_refs"]
    assert (refs.str.count(";") == 1).sum() > 20  # RHIs covering two episodes
    assert refs.str.contains(r"^\d{6,8}:\d{2}/\d{2}/\d{4}").sum() > 20  # SSDA903-only episodes
    assert (r.loc[r["outcome"] == "not_offered", "episode_refs"] != "").all()
    assert (r.loc[r["outcome"] == "not_offered", "offered_at"] == "").all()
    done = r["outcome"] == "completed"
    assert (r.loc[done, "completed_at"] != "").all() and (r.loc[~done, "completed_at"] == "").all()
    assert (r.loc[r["outcome"] != "declined", "parent_carer_consulted"] == "").all()
    assert (r.loc[r["outcome"] == "declined", "parent_carer_consulted"] != "").all()
    pf = r.loc[r["push_pull_factors"] != "", "push_pull_factors"].str.split(";").explode()
    assert pf.isin(S.PUSH_PULL_FACTORS).all()
    # implicit links: offered after the child's latest police episode that had ended
    blank = r[(r["episode_refs"] == "") & (r["person_ref"] != "")]
    assert len(blank) > 20
    off = pd.to_datetime(blank["offered_at"], format="%Y-%m-%dT%H:%M")
    pe = p[p["fd"].notna()][["person_ref", "fd"]]
    j = blank.assign(off=off).reset_index().merge(pe, on="person_ref")
    assert j[j["fd"] <= j["off"]]["index"].nunique() == len(blank)
    # offered within 72 h of the end, at rates that differ by provider
    inc = p.set_index("incident_ref")["fd"]
    one = r[r["episode_refs"].str.fullmatch(r"INC-\d{4}-\d{6}") & (r["offered_at"] != "")]
    lag = (pd.to_datetime(one["offered_at"], format="%Y-%m-%dT%H:%M").to_numpy()
           - inc.reindex(one["episode_refs"]).to_numpy()) / np.timedelta64(1, "h")
    within = pd.Series(lag <= 72, index=one.index).groupby(one["provider"]).mean()
    assert len(within) >= 3 and within.max() - within.min() > 0.15
    assert 0.5 < within.min() and within.max() < 0.92
    # most returned missing episodes have an RHI
    returned = p[(p["category"] == "missing") & p["fd"].notna()]
    linked = set(refs.str.split(";").explode())
    assert returned["incident_ref"].isin(linked).mean() > 0.7


# ------------------------------------------------------------------ attendance, xref
def test_attendance_poorer_for_children_who_go_missing(clean):
    d, _ = clean
    a = _read(d, "attendance.csv")
    for c in ("sess_possible", "sess_authorised", "sess_unauthorised"):
        a[c] = a[c].astype(int)
    assert ((a["sess_authorised"] + a["sess_unauthorised"]) <= a["sess_possible"]).all()
    assert set(a["term"]) == set(S.TERMS)
    upns = set(_ssda(d, "header")["UPN"]) | set(_read(d, "child_xref.csv")["upn"])
    upns.discard("")
    a["miss"] = a["upn"].isin(upns)
    y = a.groupby(["upn", "academic_year", "miss"])[["sess_possible", "sess_authorised", "sess_unauthorised"]].sum()
    y = y.reset_index()
    y["rate"] = (y["sess_authorised"] + y["sess_unauthorised"]) / y["sess_possible"]
    g = y.groupby("miss")
    overall = g.apply(lambda x: (x["sess_authorised"] + x["sess_unauthorised"]).sum() / x["sess_possible"].sum())
    assert 0.15 <= overall[True] <= 0.27
    assert 0.05 <= overall[False] <= 0.095
    pa = g["rate"].apply(lambda r: (r >= 0.1).mean())
    assert pa[True] > 2.5 * pa[False] and 0.1 < pa[False] < 0.3
    assert (~a["miss"]).groupby(a["upn"]).first().sum() >= 3000
    cme = _read(d, "children_missing_education.csv")
    assert len(cme) > 10 and ((cme["child_ref"] != "") ^ (cme["upn"] != "")).all()
    assert pd.to_datetime(cme["start_date"], format="%Y-%m-%d").notna().all()


def test_child_xref(clean):
    d, _ = clean
    x = _read(d, "child_xref.csv")
    p = _read(d, "police_incidents.csv")
    assert x["person_ref"].is_unique and x["person_ref"].isin(p["person_ref"]).all()
    share = x["person_ref"].nunique() / p["person_ref"].nunique()
    assert 0.2 < share < 0.6
    assert (x["upn"] != "").mean() > 0.7


# ------------------------------------------------------------------ errors
def test_errors_are_written_and_counted(dirty):
    d, s = dirty
    e = s["errors"]
    assert set(e) >= {
        "police_required_missing", "police_unknown_code", "police_bad_date",
        "police_found_before_last_seen", "police_duplicate_incident_ref", "police_unknown_postcode",
        "ssda903_mis_end_before_start", "ssda903_missing_code_invalid", "ssda903_mis_start_blank",
        "ssda903_missing_overlap", "ssda903_missing_not_looked_after", "rhi_completed_without_completed_at",
    }
    assert all(v >= 1 for v in e.values())
    p = _read(d, "police_incidents.csv")
    assert sum(v for k, v in e.items() if k.startswith("police_")) <= 0.01 * len(p) + 6
    assert p["incident_ref"].duplicated().sum() == e["police_duplicate_incident_ref"]
    assert (~p["risk_level"].isin(S.RISK_LEVELS + ("",))).sum() + (
        ~p["missing_from_type"].isin(S.MISSING_FROM_TYPES)).sum() == e["police_unknown_code"]
    ls = pd.to_datetime(p["last_seen_at"], format="%Y-%m-%dT%H:%M", errors="coerce")
    assert ls.isna().sum() == e["police_bad_date"]
    fd = pd.to_datetime(p["found_at"].replace("", None), format="%Y-%m-%dT%H:%M")
    assert (fd < ls).sum() == e["police_found_before_last_seen"]
    m = _ssda(d, "missing")
    assert (~m["MISSING"].isin(["M", "A"])).sum() == e["ssda903_missing_code_invalid"]
    assert (m["MIS_START"] == "").sum() == e["ssda903_mis_start_blank"]
    r = _read(d, "return_interviews.csv")
    assert ((r["outcome"] == "completed") & (r["completed_at"] == "")).sum() == \
        e["rhi_completed_without_completed_at"]


def test_no_simple_rule_breaks_without_errors(clean):
    d, s = clean
    assert s["errors"] == {}
    p = _police(d)
    assert p["incident_ref"].is_unique and (p["person_ref"] != "").all()
    for c in ("risk_level", "sex", "category", "missing_from_type"):
        assert (p[c] != "").all()
    assert p["risk_level"].isin(S.RISK_LEVELS).all() and p["sex"].isin(S.SEX_CODES).all()
    assert p["missing_from_type"].isin(S.MISSING_FROM_TYPES).all()
    assert p.loc[p["ethnicity"] != "", "ethnicity"].isin(S.ETHNICITY_CODES).all()
    assert p.loc[p["found_location_type"] != "", "found_location_type"].isin(S.FOUND_LOCATION_TYPES).all()
    assert p.loc[p["found_by"] != "", "found_by"].isin(S.FOUND_BY).all()
    assert pd.to_datetime(p["date_of_birth"], format="%Y-%m-%d").notna().all()
    age = (p["ls"] - pd.to_datetime(p["date_of_birth"])).dt.days / 365.25
    assert (age < 18).all() and (age > 5).all()
    assert (p["fd"].dropna() >= p.loc[p["fd"].notna(), "ls"]).all()
    r = _read(d, "return_interviews.csv")
    assert r["outcome"].isin(S.RHI_OUTCOMES).all()
    assert (r.loc[r["outcome"] == "completed", "completed_at"] != "").all()
    m = _ssda(d, "missing")
    assert m["MISSING"].isin(["M", "A"]).all() and (m["MIS_START"] != "").all()
