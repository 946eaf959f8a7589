"""Tests of mfhc's SSDA903 Missing-table rules (pipelines/ssda903_rules.py).

Unit tests are written from the reference's rule sources (csc-validator-be-903 0.1.17,
lac_validator/rules/lac2022_23/rule_<code>.py). The agreement test (marker ``validator``)
runs the real package in its own venv (tests/ssda903_reference.py) on seeded random
folders and asserts identical (code, row) findings.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from pipelines import ssda903_rules as R

MIS_COLS = ["CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"]
EP_COLS = ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
           "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"]
HEADER_COLS = ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]
UASC_COLS = ["CHILD", "SEX", "DOB", "DUC"]


def mis(*rows):
    return pd.DataFrame([dict(zip(MIS_COLS, r)) for r in rows], columns=MIS_COLS, dtype=str)


def eps(*rows):
    """rows of (CHILD, DECOM, DEC, REC)"""
    recs = [{**{c: "" for c in EP_COLS}, "CHILD": c, "DECOM": a, "DEC": b, "REC": r}
            for c, a, b, r in rows]
    return pd.DataFrame(recs, columns=EP_COLS, dtype=str)


def hits(code, missing, episodes=None, last=None, year=2025, table="missing"):
    tables = {"missing": missing}
    if episodes is not None:
        tables["episodes"] = episodes
    if last is not None:
        tables["missing_last"] = last
    return [f.row for f in R.check_tables(tables, year, codes=[code])[table]]


D = "01/01/2010"  # a DOB


# ------------------------------------------------------------------ unit tests per code

def test_1004():
    m = mis(("C1", D, "M", "", ""), ("C1", D, "M", "31/02/2024", ""), ("C1", D, "M", "01/05/2024", ""),
            ("C1", D, "M", "1/5/2024", ""))
    assert hits("1004", m) == [0, 1]


def test_1005():
    m = mis(("C1", D, "M", "01/05/2024", "2024-05-02"), ("C1", D, "M", "01/05/2024", ""),
            ("C1", D, "M", "01/05/2024", "02/05/2024"))
    assert hits("1005", m) == [0]


def test_1006():
    m = mis(("C1", D, "X", "01/05/2024", ""), ("C1", D, "m", "01/05/2024", ""), ("C1", D, "", "01/05/2024", ""),
            ("C1", D, "M ", "01/05/2024", ""))
    assert hits("1006", m) == [0, 3]  # lower case is upper-cased first; blank is 565's business


def test_564():
    m = mis(("C1", D, "A", "", ""), ("C1", D, "A", " ", ""), ("C1", D, "", "", ""))
    assert hits("564", m) == [0]


def test_565():
    m = mis(("C1", D, "", "01/05/2024", ""), ("C1", D, "M", "01/05/2024", ""), ("C1", D, "", "", ""))
    assert hits("565", m) == [0]


def test_566():
    m = mis(("C1", D, "", "", "xx"), ("C1", D, "M", "", "02/05/2024"), ("C1", D, "", "", ""))
    assert hits("566", m) == [0]


def test_567():
    m = mis(("C1", D, "M", "05/05/2024", "04/05/2024"), ("C1", D, "M", "05/05/2024", "05/05/2024"),
            ("C2", D, "M", "05/05/2024", "bad"))
    assert hits("567", m) == [0]


def test_570():
    m = mis(("C1", D, "M", "01/04/2025", ""), ("C2", D, "M", "31/03/2025", ""))
    assert hits("570", m, year=2025) == [0]
    assert hits("570", m, year=2026) == []


def test_571():
    m = mis(("C1", D, "M", "01/01/2024", "31/03/2024"), ("C2", D, "M", "01/03/2025", "01/04/2025"),
            ("C3", D, "M", "01/04/2024", "01/04/2024"), ("C4", D, "M", "01/03/2025", "31/03/2025"))
    assert hits("571", m, year=2025) == [0, 1]


def test_574():
    m = mis(("C1", D, "M", "01/05/2024", ""),            # open
            ("c1", D, "M", "03/05/2024", "04/05/2024"),  # same child (upper-cased), after open one
            ("C2", D, "M", "01/06/2024", "05/06/2024"),
            ("C2", D, "M", "07/06/2024", "08/06/2024"),  # no overlap
            ("", D, "M", "01/05/2024", ""), ("", D, "M", "02/05/2024", ""))  # blank child: never compared
    assert hits("574", m) == [1]


def test_575():
    e = eps(("C1", "01/04/2024", "30/06/2024", "E11"), ("C2", "01/04/2024", "", ""))
    m = mis(("C1", D, "M", "01/05/2024", ""), ("C1", D, "M", "01/05/2024", "02/05/2024"),
            ("C2", D, "M", "01/05/2024", ""), ("C1", D, "M", "01/05/2024", "bad"))
    assert hits("575", m, e) == [0]


def test_576():
    last = mis(("C1", D, "M", "20/03/2024", ""), ("C2", D, "M", "20/03/2024", ""),
               ("C3", D, "M", "01/03/2024", "02/03/2024"))
    m = mis(("C1", D, "M", "21/03/2024", ""), ("C2", D, "M", "20/03/2024", "01/04/2024"),
            ("C3", D, "M", "10/04/2024", ""))
    assert hits("576", m, last=last) == [0]
    assert "576" in R.skipped_rules({"missing": m})


def test_577():
    e = eps(("C1", "01/04/2024", "30/06/2024", "E11"), ("C2", "01/04/2024", "", ""))
    m = mis(("C1", D, "M", "01/05/2024", ""),            # care ended, still missing
            ("C1", D, "M", "01/05/2024", "03/05/2024"),  # fine
            ("C2", D, "M", "01/05/2024", ""),            # open period of care: fine
            ("C3", D, "M", "01/05/2024", ""))            # no episodes: not flagged
    assert hits("577", m, e) == [0]


def test_578():
    e = eps(("C1", "01/04/2024", "30/06/2024", "E11"), ("C1", "30/06/2024", "31/07/2024", "E11"))
    m = mis(("C1", D, "M", "01/09/2024", ""), ("C1", D, "M", "15/07/2024", ""), ("C1", D, "M", "bad", ""))
    assert hits("578", m, e) == [0]


def test_580_flags_episodes_not_missing():
    e = eps(("C1", "01/04/2024", "10/05/2028", "E11"), ("C2", "01/04/2024", "10/05/2028", "E8"))
    m = mis(("C1", "10/05/2010", "M", "01/05/2028", "10/05/2028"),
            ("C2", "10/05/2010", "M", "01/05/2028", "10/05/2028"))
    assert hits("580", m, e) == []
    assert hits("580", m, e, table="episodes") == [0]
    e2 = eps(("C1", "01/04/2024", "28/02/2030", "E11"))
    m2 = mis(("C1", "29/02/2012", "M", "01/02/2030", "28/02/2030"))  # 18th birthday of a leapling: 28 Feb
    assert hits("580", m2, e2, table="episodes") == [0]


def test_581():
    e = eps(("C1", "01/04/2024", "30/06/2024", "E11"), ("C2", "bad", "", ""))
    m = mis(("C1", D, "M", "01/03/2024", ""), ("C1", D, "M", "01/05/2024", ""), ("C1", D, "M", "", ""),
            ("C2", D, "M", "01/05/2024", ""), ("C3", D, "M", "01/05/2024", ""))
    assert hits("581", m, e) == [0, 2, 3]


def test_586():
    m = mis(("C1", "01/05/2024", "M", "01/05/2024", ""), ("C1", "01/05/2010", "M", "01/05/2024", ""),
            ("C1", "", "M", "01/05/2024", ""))
    assert hits("586", m) == [0]


# ------------------------------------------------------------------ API

def test_registry_and_skips():
    assert set(R.RULES) == {"1004", "1005", "1006", "564", "565", "566", "567", "570", "571", "574",
                            "575", "576", "577", "578", "580", "581", "586"}
    for r in R.RULES.values():
        assert r.message and r.columns and r.doc
        assert set(r.needs) <= {"episodes", "missing_last"}
    m = mis(("C1", D, "M", "01/05/2024", ""))
    assert R.skipped_rules({"missing": m, "episodes": eps()}) == ["576"]
    assert R.check_missing({"episodes": eps()}, 2025) == []
    f = R.check_missing({"missing": mis(("C1", D, "Q", "", ""))}, 2025)
    assert {x.code for x in f} == {"1004", "1006"} and all(x.blocking and x.row == 0 for x in f)


def test_date_parsing_matches_pandas15_strptime():
    vals = ["01/04/2024", "1/4/2024", " 1/04/2024", "1/04/24", "01/04/2024 ", "2024-04-01",
            "31/02/2024", "29/02/2024", "22/09/1677", "21/09/1677", "11/04/2262", "12/04/2262",
            "01/04/２０２４", "NaT", "", "  1/04/2024"]
    got = R.parse_dfe_dates(pd.Series(vals, dtype=str))
    exp = ["2024-04-01", "2024-04-01", "2024-04-01", "NaT", "NaT", "NaT", "NaT", "2024-02-29",
           "1677-09-22", "NaT", "2262-04-11", "NaT", "2024-04-01", "NaT", "NaT", "NaT"]
    assert [str(x) for x in got] == exp


@pytest.mark.parametrize("name", ["2025", "2024-25", "2024_25", "2024-2025", "202425", " 2024-25 "])
def test_parse_collection_year(name):
    assert R.parse_collection_year(name) == 2025


@pytest.mark.parametrize("name", ["2024-26", "2024-2026", "24-25", "ssda903", "20245", ""])
def test_parse_collection_year_rejects(name):
    with pytest.raises(ValueError):
        R.parse_collection_year(name)


def test_infer_collection_year():
    m = mis(("C1", D, "M", "01/03/2025", "bad"))
    assert R.infer_collection_year({"missing": m}) == 2025
    e = eps(("C1", "01/04/2025", "", ""))
    assert R.infer_collection_year({"missing": m, "episodes": e}) == 2026
    with pytest.raises(ValueError):
        R.infer_collection_year({"missing": mis(("C1", D, "M", "", ""))})


# ------------------------------------------------------------------ agreement with the reference

def _fmt(d: date, rnd: random.Random) -> str:
    r = rnd.random()
    if r < 0.85:
        return d.strftime("%d/%m/%Y")
    if r < 0.93:
        return f"{d.day}/{d.month}/{d.year}"
    if r < 0.97 and d.day < 10:
        return f" {d.day}/{d.month:02d}/{d.year}"
    return d.strftime("%d/%m/%Y")


BAD_DATES = ["", "", "", "31/02/2024", "2024-04-01", "xx", "NA", " ", "01/04/24", "01/13/2024",
             "00/01/2024", "12/04/2262", "01/04/2024 ", "nan", "29/02/2023"]


def _date_or_bad(d: date, rnd: random.Random, p_bad: float) -> str:
    if rnd.random() < p_bad:
        return rnd.choice(BAD_DATES)
    return _fmt(d, rnd)


def _write(path: Path, cols, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in rows:
            w.writerow([r.get(c, "") for c in cols])


def make_folder(folder: Path, seed: int) -> int:
    """Write a random SSDA903 folder; return its collection year."""
    rnd = random.Random(seed)
    year = rnd.choice([2023, 2024, 2025, 2026])
    cs = date(year - 1, 4, 1)
    n_child = rnd.randint(3, 25 if seed % 5 else 120)
    children = [f"C{seed}_{i}" for i in range(n_child)]
    # case variants and blank children
    variants = {c: rnd.choice([c, c, c, c.lower()]) for c in children}
    p_bad = rnd.choice([0.0, 0.05, 0.15, 0.3])
    header, episodes, missing, uasc, last = [], [], [], [], []
    for c in children + [""] * rnd.randint(0, 2):
        dob = cs - timedelta(days=rnd.randint(365 * 8, 365 * 18))
        leap18 = rnd.random() < 0.15
        if leap18:  # 18th birthday within the year; sometimes a leap-day birthday
            if rnd.random() < 0.3:
                dob = rnd.choice([date(2008, 2, 29), date(2004, 2, 29), date(2006, 2, 28)])
            else:
                b = cs + timedelta(days=rnd.randint(0, 364))
                dob = b.replace(year=b.year - 18) if (b.month, b.day) != (2, 29) else date(b.year - 18, 3, 1)
        try:
            b18 = dob.replace(year=dob.year + 18)
        except ValueError:
            b18 = date(dob.year + 18, 2, 28)
        dob_s = _date_or_bad(dob, rnd, p_bad / 2)
        if c and rnd.random() < 0.9:
            header.append({"CHILD": c, "SEX": rnd.choice("MFU12"), "ETHNIC": "WBRI",
                           "DOB": dob_s if rnd.random() < 0.9 else _fmt(dob + timedelta(days=3), rnd)})
        if c and rnd.random() < 0.2:
            uasc.append({"CHILD": c, "SEX": "M", "DOB": dob_s, "DUC": ""})
        # episodes: a chain with occasional gaps, open ends, overlaps
        spans = []
        if rnd.random() < 0.85:
            t = cs - timedelta(days=rnd.randint(-200, 700))
            for _ in range(rnd.randint(1, 4)):
                length = rnd.randint(1, 250)
                end = t + timedelta(days=length)
                open_ = rnd.random() < 0.25
                rec = rnd.choice(["E8", "E11", "X1", "E4A", ""])
                dec = end
                if leap18 and rnd.random() < 0.6:
                    dec = b18
                episodes.append({"CHILD": variants.get(c, c), "DECOM": _date_or_bad(t, rnd, p_bad),
                                 "RNE": "S", "LS": "C2", "CIN": "N1", "PLACE": rnd.choice(["K2", "U1"]),
                                 "PLACE_PROVIDER": "PR1", "DEC": "" if open_ else _date_or_bad(dec, rnd, p_bad),
                                 "REC": "" if open_ else rec, "URN": "XXXXXXX"})
                spans.append((t, None if open_ else dec))
                gap = rnd.choice([0, 0, 0, 1, 5, 60, -3])
                t = end + timedelta(days=gap)
        # missing periods
        for _ in range(rnd.randint(0, 5)):
            if spans and rnd.random() < 0.7:
                a, b = rnd.choice(spans)
                b = b or a + timedelta(days=300)
                start = a + timedelta(days=rnd.randint(-5, max(0, (b - a).days + 5)))
            else:
                start = cs + timedelta(days=rnd.randint(-120, 420))
            k = rnd.random()
            if k < 0.25:
                end_s = ""
            elif k < 0.3:
                end_s = _fmt(start - timedelta(days=rnd.randint(1, 5)), rnd)
            else:
                end = start + timedelta(days=rnd.choice([0, 1, 2, 3, 10, 40]))
                if leap18 and rnd.random() < 0.5:
                    end = b18
                end_s = _date_or_bad(end, rnd, p_bad)
            missing.append({"CHILD": rnd.choice([c, variants.get(c, c)]),
                            "DOB": dob_s if rnd.random() < 0.9 else _date_or_bad(start + timedelta(days=2), rnd, 0.2),
                            "MISSING": rnd.choices(["M", "A", "m", "a", "", "X", "M "], [40, 40, 4, 4, 5, 4, 2])[0],
                            "MIS_START": _date_or_bad(start, rnd, p_bad), "MIS_END": end_s})
            if rnd.random() < 0.1:  # exact duplicate / same start
                missing.append(dict(missing[-1]))
        if c and rnd.random() < 0.3:  # last year's open period
            ls = cs - timedelta(days=rnd.randint(1, 30))
            last.append({"CHILD": c, "DOB": dob_s, "MISSING": "M",
                         "MIS_START": _fmt(ls, rnd) if rnd.random() < 0.9 else "bad",
                         "MIS_END": rnd.choice(["", "", "", _fmt(ls + timedelta(days=2), rnd)])})
            if rnd.random() < 0.5:
                missing.append({"CHILD": c, "DOB": dob_s, "MISSING": "M", "MIS_START": _fmt(ls, rnd),
                                "MIS_END": rnd.choice(["", _fmt(cs + timedelta(days=3), rnd)])})
    rnd.shuffle(missing)
    rnd.shuffle(episodes)
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "header.csv", HEADER_COLS, header)
    _write(folder / "episodes.csv", EP_COLS, episodes)
    _write(folder / "missing.csv", MIS_COLS, missing)
    if seed % 3:
        _write(folder / "uasc.csv", UASC_COLS, uasc)
    if seed % 2:
        _write(folder / "missing_last.csv", MIS_COLS, last)
    return year


def make_edge_folder(folder: Path) -> int:
    """Hand-made awkward cases for the agreement test (collection year 2025)."""
    def ep(child, decom, dec, rec="E11"):
        return {"CHILD": child, "DECOM": decom, "DEC": dec, "REC": rec, "RNE": "S", "LS": "C2"}

    def ms(child, start, end, typ="M", dob="01/01/2010"):
        return {"CHILD": child, "DOB": dob, "MISSING": typ, "MIS_START": start, "MIS_END": end}

    episodes = [
        ep("", "01/04/2024", "30/06/2024"), ep("", "01/08/2024", ""),            # blank children
        ep("T1", "01/04/2024", "10/04/2024"), ep("T1", "01/04/2024", ""),       # tie on DECOM
        ep("T2", "01/04/2024", ""), ep("T2", "01/04/2024", "10/04/2024"),
        ep("R1", "10/05/2024", "01/05/2024"),                                   # DEC before DECOM
        ep("STRASSE", "01/04/2024", "30/04/2024"),
        ep("L1", "01/04/2024", "28/02/2026", "e8"), ep("L2", "01/04/2024", "28/02/2026", "E8 "),
        ep("L3", "01/04/2024", "28/02/2026", ""), ep("", "01/04/2024", "28/02/2026", "X1"),
        ep("G1", "01/04/2024", "01/06/2024"), ep("G1", "01/06/2024", "01/07/2024"),  # chained
        ep("G1", "02/07/2024", "01/08/2024"),                                    # new period
        ep("BAD", "bad", "01/08/2024"), ep(" ", "01/04/2024", ""),
    ]
    missing = [
        ms("", "01/05/2024", ""), ms("", "02/05/2024", ""), ms("", "01/09/2024", "02/09/2024"),
        ms("", "01/03/2024", "NA"), ms("T1", "05/04/2024", ""), ms("T1", "20/04/2024", ""),
        ms("T2", "05/04/2024", ""), ms("T2", "20/04/2024", "21/04/2024"),
        ms("R1", "05/05/2024", "06/05/2024"), ms("straße", "10/04/2024", ""),
        ms("L1", "01/02/2026", "28/02/2026", dob="29/02/2008"),
        ms("L2", "01/02/2026", "28/02/2026", dob="29/02/2008"),
        ms("L3", "01/02/2026", "28/02/2026", dob="28/02/2008"),
        ms("", "01/02/2026", "28/02/2026", dob="28/02/2008"),
        ms("G1", "15/06/2024", "20/06/2024"), ms("G1", "01/07/2024", "02/07/2024"),
        ms("G1", "30/06/2024", "03/07/2024"), ms("G1", "20/07/2024", ""),
        ms("BAD", "01/05/2024", ""), ms(" ", "01/05/2024", ""), ms("NA", "NA", "NA", typ="NA"),
        ms("D1", "01/05/2024", "", dob="01/01/2250"), ms("D1", "01/05/2024", "", dob="01/05/2024"),
        ms("P1", "20/03/2024", ""), ms("P1", "20/03/2024", ""), ms("P2", "", ""), ms("P2", "", "01/04/2024"),
        ms("P3", "31/03/2024", "01/04/2024"), ms("P4", "01/04/2024", "31/03/2025", typ="a"),
    ]
    last = [ms("P1", "20/03/2024", ""), ms("P1", "19/03/2024", ""), ms("P2", "01/03/2024", ""),
            ms("", "01/03/2024", ""), ms("P3", "31/03/2024", ""), ms("P4", "bad", ""),
            ms("P4", "01/04/2024", "")]
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "episodes.csv", EP_COLS, episodes)
    _write(folder / "missing.csv", MIS_COLS, missing)
    _write(folder / "missing_last.csv", MIS_COLS, last)
    return 2025


def _read_folder(folder: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for name in ("header", "episodes", "missing", "uasc", "missing_last"):
        p = folder / f"{name}.csv"
        if p.exists():
            out[name] = pd.read_csv(p, dtype=str, keep_default_na=False)
    return out


N_FOLDERS = 60


@pytest.fixture(scope="module")
def agreement(tmp_path_factory):
    from ssda903_reference import run_reference

    base = tmp_path_factory.mktemp("ssda903")
    folders, years = [], []
    for seed in range(N_FOLDERS):
        folders.append(base / f"f{seed}")
        years.append(make_folder(folders[-1], seed))
    # special folders: no uasc, no episodes, empty episodes, empty missing, no header
    specials = {}
    for name, drop in (("no_uasc", "uasc"), ("no_episodes", "episodes"), ("no_header", "header")):
        f = base / name
        make_folder(f, 1001)
        p = f / f"{drop}.csv"
        if p.exists():
            p.unlink()
        specials[name] = f
    f = base / "empty_episodes"
    make_folder(f, 1003)
    _write(f / "episodes.csv", EP_COLS, [])
    specials["empty_episodes"] = f
    f = base / "empty_missing"
    make_folder(f, 1005)
    _write(f / "missing.csv", MIS_COLS, [])
    specials["empty_missing"] = f
    f = base / "edge"
    make_edge_folder(f)
    specials["edge"] = f
    for name, f in specials.items():
        folders.append(f)
        years.append(2025)
    results = run_reference(folders, years)
    return folders, years, results


def _mfhc(folder: Path, year: int):
    tables = _read_folder(folder)
    out = R.check_tables(tables, year)
    return ({(f.code, f.row) for f in out["missing"]},
            {(f.code, f.row) for f in out["episodes"]},
            set(R.skipped_rules(tables)))


@pytest.mark.validator
def test_agreement_with_reference(agreement):
    folders, years, results = agreement
    seen = set()
    mismatches = []
    for folder, year, res in zip(folders, years, results):
        assert res["error"] is None, (folder.name, res["error"])
        assert res["failed"] == [], (folder.name, res["failed"])
        ref_m = {(c, r) for c, r in res["missing"]}
        ref_e = {(c, r) for c, r in res["episodes"] if c == "580"}
        got_m, got_e, skipped = _mfhc(folder, year)
        seen |= {c for c, _ in ref_m | ref_e}
        if got_m != ref_m or got_e != ref_e:
            mismatches.append((folder.name, year, sorted(ref_m - got_m), sorted(got_m - ref_m),
                               sorted(ref_e ^ got_e)))
        assert skipped == set(res["skipped"]), (folder.name, skipped, res["skipped"])
    assert not mismatches, mismatches[:5]
    # every code is exercised (580 on the Episodes table)
    assert seen == set(R.RULES), set(R.RULES) - seen


@pytest.mark.validator
def test_agreement_special_folders(agreement):
    folders, years, results = agreement
    by_name = {f.name: r for f, r in zip(folders, results)}
    assert set(by_name["no_episodes"]["skipped"]) >= {"575", "577", "578", "580", "581"}
    assert by_name["empty_missing"]["missing"] == []
    # a rule needing a table that is present but empty runs and finds nothing on its own
    assert not {c for c, _ in by_name["empty_episodes"]["missing"]} & {"575", "577", "578", "581"}
