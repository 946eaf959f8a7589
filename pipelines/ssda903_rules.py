"""DfE SSDA903 validation rules for the Missing table, as the public
``csc-validator-be-903`` package (version 0.1.17, import name ``lac_validator``) runs them.

Each rule below reproduces the rule of the same code in
``lac_validator/rules/lac2022_23/rule_<code>.py`` (the newest year folder holding any of
these rules: later rule sets 2023/24 to 2026/27 inherit them unchanged and delete none of
them), vectorised for pandas 3 / numpy, including the reference's quirks. See
``docs/ssda903_rules.md`` for the table of codes.

What the reference does to the data before any rule runs, and which this module mirrors:

* CSVs are read with a converter on every column: an empty field becomes NaN, everything
  else stays the literal string (``NA``, ``NULL``, ``nan`` and a single space are *not*
  blank). Every string is then upper-cased (Python ``str.upper``), so ``m`` is a valid
  MISSING code and child references ``ab1`` and ``AB1`` are the same child.
* Dates are parsed with ``pd.to_datetime(format="%d/%m/%Y", errors="coerce")`` under
  pandas 1.5: day and month may be one digit (``1/4/2024``), the day may be
  space-padded (``" 1/04/2024"``), the year must be four digits, nothing may trail, and
  dates outside 22/09/1677 - 11/04/2262 (nanosecond bounds) are invalid.
* The collection year is passed as metadata ``collectionYear`` (the calendar year in which
  the collection ends, e.g. ``"2025"``); ``collection_start`` becomes ``01/04/<year-1>``
  and ``collection_end`` ``31/03/<year>``. mfhc's ``collection_year`` is exactly that year.
* In joins on CHILD, a blank CHILD matches a blank CHILD (pandas merges NaN keys with each
  other); in ``groupby`` and in ``==`` comparisons blank children are left out.

Inputs are DataFrames of strings as read with ``dtype=str, keep_default_na=False``;
NaN/None cells are treated like blanks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Callable

import numpy as np
import pandas as pd

__all__ = [
    "Finding",
    "Rule",
    "RULES",
    "MISSING_COLUMNS",
    "check_missing",
    "check_tables",
    "findings_frame",
    "blocked_rows",
    "skipped_rules",
    "parse_collection_year",
    "infer_collection_year",
    "parse_dfe_dates",
    "collection_bounds",
]

MISSING_COLUMNS = ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END")
_REQUIRED_COLUMNS = {
    "missing": MISSING_COLUMNS,
    "missing_last": ("CHILD", "MIS_START", "MIS_END"),
    "episodes": ("CHILD", "DECOM", "DEC", "REC"),
}
KNOWN_TABLES = ("header", "episodes", "missing", "uasc", "missing_last")


@dataclass(frozen=True)
class Finding:
    code: str
    row: int  # 0-based position in the table's DataFrame (missing unless stated otherwise)
    columns: tuple[str, ...]
    message: str
    blocking: bool


@dataclass(frozen=True)
class Rule:
    code: str
    message: str
    columns: tuple[str, ...]
    needs: tuple[str, ...]  # tables beyond "missing"
    blocking: bool
    func: Callable[["_Data"], dict[str, np.ndarray]] = field(repr=False, compare=False)
    table: str = "missing"  # the table whose rows the reference flags

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or "").strip()


RULES: dict[str, Rule] = {}


def rule(
    code: str,
    message: str,
    columns: tuple[str, ...],
    needs: tuple[str, ...] = (),
    blocking: bool = False,
    table: str = "missing",
):
    """Register a rule function under its DfE code."""

    def decorator(func):
        if code in RULES:
            raise ValueError(f"rule {code} registered twice")
        RULES[code] = Rule(code, message, tuple(columns), tuple(needs), blocking, func, table)
        return func

    return decorator


# --------------------------------------------------------------------------------------
# Parsing, exactly as the reference (pandas 1.5 strptime, errors="coerce") does it
# --------------------------------------------------------------------------------------

# The regexes Python's _strptime builds for %d, %m and %Y (pandas 1.5 uses them as is).
# \d is Unicode-aware, as in the reference; int() accepts any Unicode decimal digit.
_DATE_RE = re.compile(
    r"(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])/(?P<m>1[0-2]|0[1-9]|[1-9])/(?P<Y>\d\d\d\d)",
    re.IGNORECASE,
)
_MIN_DATE = date(1677, 9, 22)  # pd.Timestamp.min is 1677-09-21 00:12:43.145...
_MAX_DATE = date(2262, 4, 11)  # pd.Timestamp.max is 2262-04-11 23:47:16.854...
_NAT = np.datetime64("NaT", "D")
_NAT_STRINGS = {"NaT", "nat", "NAT", "nan", "NaN", "NAN"}


def _parse_one(value: str) -> np.datetime64:
    if value in _NAT_STRINGS:
        return _NAT
    m = _DATE_RE.fullmatch(value)
    if m is None:
        return _NAT
    try:
        d = date(int(m["Y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        return _NAT
    if d < _MIN_DATE or d > _MAX_DATE:
        return _NAT
    return np.datetime64(d, "D")


def _factorize_strings(values: pd.Series) -> tuple[np.ndarray, list]:
    """codes (-1 for blank) and upper-cased uniques, as the reference's ingress sees them."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)  # NaN/None -> -1
    uniq = [str(u).upper() for u in uniques]
    codes = np.asarray(codes, dtype=np.int64)
    blank = np.array([u == "" for u in uniq] + [True], dtype=bool)  # last slot: code -1
    codes = np.where(blank[codes], -1, codes)
    return codes, uniq


def parse_dfe_dates(values: pd.Series) -> np.ndarray:
    """DD/MM/YYYY strings -> datetime64[D] (NaT where blank or not a valid date), as the
    reference's ``pd.to_datetime(..., format="%d/%m/%Y", errors="coerce")`` does after
    its ingress (blank -> NaN, upper-casing)."""
    codes, uniq = _factorize_strings(values)
    parsed = np.array([_parse_one(u) if u else _NAT for u in uniq] + [_NAT], dtype="datetime64[D]")
    return parsed[codes]


def collection_bounds(collection_year: int) -> tuple[np.datetime64, np.datetime64]:
    """The reference's metadata collection_start (01/04/<year-1>) and collection_end
    (31/03/<year>) for mfhc's collection_year."""
    y = int(collection_year)
    return np.datetime64(f"{y - 1:04d}-04-01", "D"), np.datetime64(f"{y:04d}-03-31", "D")


# --------------------------------------------------------------------------------------
# Helpers for the vectorised joins
# --------------------------------------------------------------------------------------

_K = np.int64(1 << 20)  # composite key: child_code * _K + (day + _OFF)
_OFF = np.int64(1 << 19)
_INF = _K - 1  # "no end date": later than any day


def _days(d: np.ndarray) -> np.ndarray:
    """datetime64[D] -> int64 day offsets in [0, _K-1) (garbage where NaT; mask it)."""
    out = d.astype("datetime64[D]").astype(np.int64)
    return np.where(np.isnat(d), 0, out) + _OFF


def _any_interval_contains(
    iv_child: np.ndarray, iv_lo: np.ndarray, iv_hi: np.ndarray, iv_hi_open: np.ndarray,
    pt_child: np.ndarray, pt_day: np.ndarray,
) -> np.ndarray:
    """For each point, is there an interval of the same child with lo <= day <= hi (hi
    open-ended where iv_hi_open)?  lo/day: datetime64[D] without NaT."""
    if len(pt_child) == 0:
        return np.zeros(0, dtype=bool)
    if len(iv_child) == 0:
        return np.zeros(len(pt_child), dtype=bool)
    base = iv_child.astype(np.int64) * _K
    lo_key = base + _days(iv_lo)
    hi_key = base + np.where(iv_hi_open, _INF, _days(iv_hi))
    order = np.argsort(lo_key, kind="stable")
    lo_sorted = lo_key[order]
    cummax = np.maximum.accumulate(hi_key[order])
    q = pt_child.astype(np.int64) * _K + _days(pt_day)
    i = np.searchsorted(lo_sorted, q, side="right") - 1
    ok = i >= 0
    res = np.zeros(len(q), dtype=bool)
    res[ok] = cummax[i[ok]] >= q[ok]
    return res


class _Data:
    """Lazily normalised and parsed columns, shared by the rules of one run."""

    def __init__(self, tables: dict[str, pd.DataFrame], collection_year: int):
        self.tables = tables
        self.collection_year = int(collection_year)
        self.collection_start, self.collection_end = collection_bounds(collection_year)
        self._dates: dict[tuple[str, str], np.ndarray] = {}
        self._factorized: dict[tuple[str, str], tuple[np.ndarray, list]] = {}

    def col(self, table: str, column: str) -> pd.Series:
        return self.tables[table][column]

    def factorized(self, table: str, column: str) -> tuple[np.ndarray, list]:
        key = (table, column)
        if key not in self._factorized:
            self._factorized[key] = _factorize_strings(self.col(table, column))
        return self._factorized[key]

    def dates(self, table: str, column: str) -> np.ndarray:
        key = (table, column)
        if key not in self._dates:
            codes, uniq = self.factorized(table, column)
            parsed = np.array([_parse_one(u) if u else _NAT for u in uniq] + [_NAT], dtype="datetime64[D]")
            self._dates[key] = parsed[codes]
        return self._dates[key]

    def blank(self, table: str, column: str) -> np.ndarray:
        return self.factorized(table, column)[0] < 0

    def upper(self, table: str, column: str) -> np.ndarray:
        codes, uniq = self.factorized(table, column)
        return np.array([u if u else None for u in uniq] + [None], dtype=object)[codes]

    @cached_property
    def child_codes(self) -> dict[str, np.ndarray]:
        """CHILD as integer codes shared across tables (upper-cased; every blank CHILD
        shares one code, since the reference's merges match NaN with NaN)."""
        names = [t for t in ("missing", "episodes", "missing_last") if t in self.tables]
        per = {t: self.factorized(t, "CHILD") for t in names}
        allu = pd.Index([u for t in names for u in per[t][1]], dtype=object)
        gcodes, guniq = pd.factorize(allu)
        blank_code = len(guniq)
        out, pos = {}, 0
        for t in names:
            codes, uniq = per[t]
            g = np.append(np.asarray(gcodes[pos:pos + len(uniq)], dtype=np.int64), blank_code)
            pos += len(uniq)
            out[t] = g[codes]
        self._blank_child_code = blank_code
        return out

    @property
    def blank_child_code(self) -> int:
        self.child_codes
        return self._blank_child_code

    @cached_property
    def periods_of_care(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(child code, poc_DECOM, poc_DEC) per period of care, built as rules 577/578 do:
        episodes with a valid DECOM, sorted (stably) by CHILD then DECOM; a new period
        starts when the child changes (a blank CHILD always differs from the previous
        row) or DECOM > previous DEC (a NaT previous DEC never starts a new one);
        poc_DECOM is the first DECOM and poc_DEC the DEC of the *last* episode (may be NaT)."""
        child = self.child_codes["episodes"]
        decom = self.dates("episodes", "DECOM")
        dec = self.dates("episodes", "DEC")
        keep = np.flatnonzero(~np.isnat(decom))
        child, decom, dec = child[keep], decom[keep], dec[keep]
        order = np.lexsort((np.arange(len(keep)), decom, child))
        child, decom, dec = child[order], decom[order], dec[order]
        n = len(child)
        new = np.ones(n, dtype=bool)
        if n > 1:
            same_child = (child[1:] == child[:-1]) & (child[1:] != self.blank_child_code)
            new[1:] = ~same_child | (decom[1:] > dec[:-1])
        starts = np.flatnonzero(new)
        ends = np.append(starts[1:], n)[: len(starts)] - 1
        return child[starts], decom[starts], dec[ends]


# --------------------------------------------------------------------------------------
# The rules
# --------------------------------------------------------------------------------------

M = "missing"


@rule(
    "1004",
    "The start date of the missing episode or episode that the child was away from placement without authorisation is not a valid date.",
    ("MIS_START",),
    blocking=True,
)
def rule_1004(d: _Data):
    """MIS_START blank or not a valid DD/MM/YYYY date.

    Blocking: without a start date mfhc cannot place the period in time."""
    return {M: np.isnat(d.dates(M, "MIS_START"))}


@rule(
    "1005",
    "The end date of the missing episode or episode that the child was away from placement without authorisation is not a valid date.",
    ("MIS_END",),
    blocking=True,
)
def rule_1005(d: _Data):
    """MIS_END filled in but not a valid date (a blank end is allowed: still missing).

    Blocking: an invalid date; mfhc cannot tell an open period from a garbled end."""
    return {M: ~d.blank(M, "MIS_END") & np.isnat(d.dates(M, "MIS_END"))}


@rule("1006", "Missing type invalid.", ("MISSING",), blocking=True)
def rule_1006(d: _Data):
    """MISSING neither M nor A (after upper-casing, so m/a pass) and not blank.

    Blocking: an invalid code; mfhc cannot tell missing from away."""
    u = d.upper(M, "MISSING")
    return {M: ~(np.isin(u, ["M", "A"]) | pd.isna(u))}


@rule(
    "564",
    "Child was missing or away from placement without authorisation and the date started is blank.",
    ("MISSING", "MIS_START"),
    blocking=True,
)
def rule_564(d: _Data):
    """MISSING is M or A and MIS_START is blank (empty field only; a space is not blank).

    Blocking: missing start date."""
    return {M: np.isin(d.upper(M, "MISSING"), ["M", "A"]) & d.blank(M, "MIS_START")}


@rule(
    "565",
    "The date that the child started to be missing or away from placement without authorisation has been completed but whether the child was missing or away from placement without authorisation has not been completed.",
    ("MISSING", "MIS_START"),
    blocking=True,
)
def rule_565(d: _Data):
    """MIS_START filled in (any text) but MISSING blank.

    Blocking: MISSING is required by mfhc (schema); a period that is neither M nor A
    cannot be counted as missing or as away."""
    return {M: ~d.blank(M, "MIS_START") & d.blank(M, "MISSING")}


@rule(
    "566",
    "The date that the child" + chr(39) + "s episode of being missing or away from placement without authorisation ended has been completed but whether the child was missing or away without authorisation has not been completed.",
    ("MISSING", "MIS_END"),
    blocking=True,
)
def rule_566(d: _Data):
    """MIS_END filled in (any text) but MISSING blank.

    Blocking: as 565, no M/A code."""
    return {M: d.blank(M, "MISSING") & ~d.blank(M, "MIS_END")}


@rule(
    "567",
    "The date that the missing episode or episode that the child was away from placement without authorisation ended is before the date that it started.",
    ("MIS_START", "MIS_END"),
    blocking=True,
)
def rule_567(d: _Data):
    """MIS_END before MIS_START (both valid dates; same day is fine).

    Blocking: end before start, the duration would be negative."""
    return {M: d.dates(M, "MIS_START") > d.dates(M, "MIS_END")}


@rule(
    "570",
    "The date that the child started to be missing or away from placement without authorisation is after the end of the collection year.",
    ("MIS_START",),
)
def rule_570(d: _Data):
    """MIS_START after collection_end (31 March of collection_year).

    Not blocking: the period is well formed, only outside the collection year."""
    return {M: d.dates(M, "MIS_START") > d.collection_end}


@rule(
    "571",
    "The date that the child ceased to be missing or away from placement without authorisation is before the start or after the end of the collection year.",
    ("MIS_END",),
)
def rule_571(d: _Data):
    """MIS_END (valid) before 1 April of collection_year-1 or after 31 March of
    collection_year.

    Not blocking: well formed, only outside the collection year."""
    e = d.dates(M, "MIS_END")
    return {M: (e < d.collection_start) | (e > d.collection_end)}


@rule(
    "574",
    "A new missing/away from placement without authorisation period cannot start when the previous missing/away from placement without authorisation period is still open. Missing/away from placement without authorisation periods should also not overlap.",
    ("MIS_START", "MIS_END"),
)
def rule_574(d: _Data):
    """Rows of a child sorted (stably) by MIS_END-or-else-MIS_START, then MIS_START
    (invalid dates last); a row is flagged when the row before it (same non-blank child)
    has no valid MIS_END, or when its MIS_START is before that row's MIS_END. Invalid end
    dates count as open; rows with a blank CHILD are never compared.

    Not blocking: each period is valid on its own; the overlap is listed for review."""
    s = d.dates(M, "MIS_START")
    e = d.dates(M, "MIS_END")
    child = d.child_codes[M]
    fill = np.where(np.isnat(e), s, e)
    big = np.iinfo(np.int64).max
    fill_k = np.where(np.isnat(fill), big, fill.astype(np.int64))
    s_k = np.where(np.isnat(s), big, s.astype(np.int64))
    n = len(s)
    order = np.lexsort((np.arange(n), s_k, fill_k, child))
    out = np.zeros(n, dtype=bool)
    if n > 1:
        cur, prev = order[1:], order[:-1]
        same = (child[cur] == child[prev]) & (child[cur] != d.blank_child_code)
        hit = same & (np.isnat(e[prev]) | (s[cur] < e[prev]))
        out[cur[hit]] = True
    return {M: out}


@rule(
    "575",
    "If the placement from which the child goes missing/away from placement without authorisation ends, the missing/away from placement without authorisation period in the missing module must also have an end date.",
    ("MIS_END",),
    needs=("episodes",),
)
def rule_575(d: _Data):
    """MIS_END blank (empty field; an invalid end is not blank here) and MIS_START
    within an episode of the same child that has ended (DECOM <= MIS_START <= DEC, DEC a
    valid date).

    Not blocking: the period still loads (as open); the inconsistency is listed."""
    s = d.dates(M, "MIS_START")
    cand = np.flatnonzero(d.blank(M, "MIS_END") & ~np.isnat(s))
    decom = d.dates("episodes", "DECOM")
    dec = d.dates("episodes", "DEC")
    ok = ~np.isnat(decom) & ~np.isnat(dec)
    ec = d.child_codes["episodes"]
    hit = _any_interval_contains(ec[ok], decom[ok], dec[ok], np.zeros(ok.sum(), bool),
                                 d.child_codes[M][cand], s[cand])
    out = np.zeros(len(s), dtype=bool)
    out[cand[hit]] = True
    return {M: out}


@rule(
    "576",
    "There is an open missing/away from placement without authorisation period in last year’s return and there is no corresponding period recorded at the start of this year.",
    ("CHILD",),
    needs=("missing_last",),
)
def rule_576(d: _Data):
    """Needs last year's Missing table (tables["missing_last"]). For each non-blank child,
    its row with the earliest MIS_START (invalid/blank taken as 01/01/2099; ties: first
    row) is flagged when last year has an open period (MIS_END blank) for the child whose
    valid MIS_START differs from it.

    Not blocking: a cross-year continuity finding."""
    s = d.dates(M, "MIS_START")
    child = d.child_codes[M]
    n = len(s)
    out = np.zeros(n, dtype=bool)
    valid = np.flatnonzero(child != d.blank_child_code)
    if len(valid) == 0:
        return {M: out}
    s_fill = np.where(np.isnat(s), np.datetime64("2099-01-01", "D"), s)
    order = valid[np.lexsort((valid, s_fill[valid], child[valid]))]
    first = np.ones(len(order), dtype=bool)
    first[1:] = child[order[1:]] != child[order[:-1]]
    rows = order[first]  # earliest row per child

    lc = d.child_codes["missing_last"]
    ls = d.dates("missing_last", "MIS_START")
    open_l = d.blank("missing_last", "MIS_END") & ~np.isnat(ls)
    lc, ls = lc[open_l], ls[open_l]
    n_open = np.bincount(lc, minlength=d.blank_child_code + 1)
    keys_l = lc.astype(np.int64) * _K + _days(ls)
    uk, cnt = np.unique(keys_l, return_counts=True)
    q = child[rows].astype(np.int64) * _K + _days(s_fill[rows])
    n_eq = np.zeros(len(q), dtype=np.int64)
    if len(uk):
        i = np.clip(np.searchsorted(uk, q), 0, len(uk) - 1)
        n_eq = np.where(uk[i] == q, cnt[i], 0)
    hit = n_open[child[rows]] > n_eq
    out[rows[hit]] = True
    return {M: out}


@rule(
    "577",
    "Child ceased to be looked after but there is a missing/away from placement without authorisation period without an end date.",
    ("MIS_END",),
    needs=("episodes",),
)
def rule_577(d: _Data):
    """For rows with a valid MIS_START whose child has at least one period of care
    (episodes chained while DECOM <= previous DEC): flagged when the row fits no period.
    An open row (MIS_END blank or invalid) fits an open period (last DEC blank) that
    began on or before MIS_START; a closed row fits a period with
    poc_DECOM <= MIS_END <= poc_DEC (open period: no upper limit).

    Not blocking: the episode data may be the wrong side; the finding is listed."""
    s = d.dates(M, "MIS_START")
    e = d.dates(M, "MIS_END")
    child = d.child_codes[M]
    pc, plo, phi = d.periods_of_care
    has_poc = np.zeros(d.blank_child_code + 1, dtype=bool)
    has_poc[pc] = True
    base = ~np.isnat(s) & has_poc[child]
    out = np.zeros(len(s), dtype=bool)
    open_rows = np.flatnonzero(base & np.isnat(e))
    closed_rows = np.flatnonzero(base & ~np.isnat(e))
    popen = np.isnat(phi)
    fit_open = _any_interval_contains(pc[popen], plo[popen], phi[popen], np.ones(popen.sum(), bool),
                                      child[open_rows], s[open_rows])
    fit_closed = _any_interval_contains(pc, plo, phi, popen, child[closed_rows], e[closed_rows])
    out[open_rows[~fit_open]] = True
    out[closed_rows[~fit_closed]] = True
    return {M: out}


@rule(
    "578",
    "The date that the child started to be missing is after the child ceased to be looked after.",
    ("MIS_START",),
    needs=("episodes",),
)
def rule_578(d: _Data):
    """Valid MIS_START of a child with at least one period of care that lies in none of
    its periods (poc_DECOM <= MIS_START <= poc_DEC; open period: no upper limit).
    Rows with an invalid/blank MIS_START or a child without episodes are not flagged.

    Not blocking: the episode data may be the wrong side; the finding is listed."""
    s = d.dates(M, "MIS_START")
    child = d.child_codes[M]
    pc, plo, phi = d.periods_of_care
    has_poc = np.zeros(d.blank_child_code + 1, dtype=bool)
    has_poc[pc] = True
    rows = np.flatnonzero(~np.isnat(s) & has_poc[child])
    fit = _any_interval_contains(pc, plo, phi, np.isnat(phi), child[rows], s[rows])
    out = np.zeros(len(s), dtype=bool)
    out[rows[~fit]] = True
    return {M: out}


@rule(
    "580",
    "Child is missing when cease being looked after but reason episode ceased not ‘E8’.",
    ("DOB", "MIS_END"),  # the reference's affected field is REC (Episodes)
    needs=("episodes",),
    table="episodes",
)
def rule_580(d: _Data):
    """The reference flags *Episodes* rows, never Missing rows: an episode whose DEC
    (valid) equals the MIS_END of a Missing row of the same child that is also the
    child's 18th birthday (Missing DOB + 18 years, 29 Feb -> 28 Feb), and whose REC is
    not E8 (blank REC counts as not E8). check_missing therefore returns nothing for 580;
    check_tables(...)["episodes"] has the episode rows.

    Not blocking: about the episode's REC, not about the missing period."""
    dob = d.dates(M, "DOB")
    e = d.dates(M, "MIS_END")
    ok = ~np.isnat(dob) & ~np.isnat(e)
    mo = dob[ok].astype("datetime64[M]")
    day = (dob[ok] - mo.astype("datetime64[D]")).astype(np.int64)
    tm = mo + np.timedelta64(18 * 12, "M")
    month_len = ((tm + np.timedelta64(1, "M")).astype("datetime64[D]") - tm.astype("datetime64[D]")).astype(np.int64)
    bd18 = tm.astype("datetime64[D]") + np.minimum(day, month_len - 1)
    # beyond pandas' ns bounds the reference's sum wraps to a time that never equals a date
    match = (bd18 == e[ok]) & (bd18 <= np.datetime64("2262-04-11", "D"))
    mc = d.child_codes[M][ok][match]
    keys = np.unique(mc.astype(np.int64) * _K + _days(e[ok][match]))
    dec = d.dates("episodes", "DEC")
    rec = d.upper("episodes", "REC")
    ec = d.child_codes["episodes"]
    q = ec.astype(np.int64) * _K + _days(dec)
    hit = ~np.isnat(dec) & (rec != "E8") & np.isin(q, keys)
    return {"episodes": hit}


@rule(
    "581",
    "Child is missing but has not yet started to be looked after.",
    ("MIS_START",),
    needs=("episodes",),
)
def rule_581(d: _Data):
    """Rows of a child who has at least one episode (any, even with invalid dates) whose
    MIS_START is in none of the child's episodes (DECOM <= MIS_START and, when DEC is a
    valid date, MIS_START <= DEC). A blank/invalid MIS_START is flagged; rows of children
    with no episode are not.

    Not blocking: the episode data may be the wrong side; the finding is listed."""
    s = d.dates(M, "MIS_START")
    child = d.child_codes[M]
    ec = d.child_codes["episodes"]
    in_eps = np.zeros(d.blank_child_code + 1, dtype=bool)
    in_eps[ec] = True
    rows = np.flatnonzero(in_eps[child])
    decom = d.dates("episodes", "DECOM")
    dec = d.dates("episodes", "DEC")
    ok = ~np.isnat(decom)
    valid = ~np.isnat(s[rows])
    fit = np.zeros(len(rows), dtype=bool)
    fit[valid] = _any_interval_contains(ec[ok], decom[ok], dec[ok], np.isnat(dec[ok]),
                                        child[rows][valid], s[rows][valid])
    out = np.zeros(len(s), dtype=bool)
    out[rows[~fit]] = True
    return {M: out}


@rule(
    "586",
    "Dates of missing periods are before child’s date of birth.",
    ("MIS_START",),
)
def rule_586(d: _Data):
    """Valid MIS_START on or before the DOB given on the Missing row (valid date).

    Not blocking: the period is well formed in itself and the conflict may be in the DOB
    (which mfhc keeps only to the month); the finding is listed."""
    s = d.dates(M, "MIS_START")
    return {M: ~np.isnat(s) & (s <= d.dates(M, "DOB"))}


# --------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------


def skipped_rules(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Codes of the rules that cannot run on these tables (missing, or a table they need,
    absent); the reference skips these too (they return no findings)."""
    return [c for c, r in RULES.items() if any(t not in tables for t in ("missing",) + r.needs)]


def _check_columns(tables: dict[str, pd.DataFrame]) -> None:
    for t, cols in _REQUIRED_COLUMNS.items():
        if t in tables:
            missing = [c for c in cols if c not in tables[t].columns]
            if missing:
                raise ValueError(f"SSDA903 {t} table lacks column(s) {', '.join(missing)}")


def findings_frame(
    tables: dict[str, pd.DataFrame], collection_year: int, codes: list[str] | None = None
) -> dict[str, pd.DataFrame]:
    """Vectorised form of check_tables: per table ("missing", "episodes") a DataFrame
    with columns code, row, blocking, sorted by row then rule order."""
    _check_columns(tables)
    skip = set(skipped_rules(tables))
    data = _Data(tables, collection_year)
    order = list(RULES)
    parts: dict[str, list[tuple[np.ndarray, int]]] = {"missing": [], "episodes": []}
    for i, (code, r) in enumerate(RULES.items()):
        if code in skip or (codes is not None and code not in codes):
            continue
        for table, mask in r.func(data).items():
            parts[table].append((np.flatnonzero(mask), i))
    out = {}
    for table, ps in parts.items():
        rows = np.concatenate([p for p, _ in ps] + [np.zeros(0, np.int64)]).astype(np.int64)
        idx = np.concatenate([np.full(len(p), i) for p, i in ps] + [np.zeros(0, np.int64)]).astype(np.int64)
        o = np.lexsort((idx, rows))
        rows, idx = rows[o], idx[o]
        code_arr = np.array(order, dtype=object)[idx]
        blocking = np.array([RULES[c].blocking for c in order], dtype=bool)[idx]
        out[table] = pd.DataFrame({"code": code_arr, "row": rows, "blocking": blocking})
    return out


def check_tables(
    tables: dict[str, pd.DataFrame], collection_year: int, codes: list[str] | None = None
) -> dict[str, list[Finding]]:
    """Run the rules; findings per table ("missing", and "episodes" for 580), each
    sorted by row then rule order. Rules whose tables are absent are skipped."""
    frames = findings_frame(tables, collection_year, codes)
    out = {}
    for table, df in frames.items():
        cache = {c: (r.columns, r.message, r.blocking) for c, r in RULES.items()}
        out[table] = [Finding(c, row, *cache[c]) for c, row in zip(df["code"].tolist(), df["row"].tolist())]
    return out


def check_missing(tables: dict[str, pd.DataFrame], collection_year: int) -> list[Finding]:
    """Findings about Missing-table rows (row = 0-based position in tables["missing"])."""
    if "missing" not in tables:
        return []
    return check_tables(tables, collection_year)["missing"]


def blocked_rows(findings: list[Finding]) -> set[int]:
    """Rows with at least one blocking finding."""
    return {f.row for f in findings if f.blocking}


# --------------------------------------------------------------------------------------
# Collection year
# --------------------------------------------------------------------------------------

_YEAR_PATTERNS = (
    (re.compile(r"(\d{4})"), None),
    (re.compile(r"(\d{4})[-_](\d{2})"), 2),
    (re.compile(r"(\d{4})[-_](\d{4})"), 4),
    (re.compile(r"(\d{4})(\d{2})"), 2),
)


def parse_collection_year(folder_name: str) -> int:
    """Collection year (calendar year in which it ends) from a folder name: "2025",
    "2024-25", "2024_25", "2024-2025" or "202425" all give 2025."""
    name = str(folder_name).strip()
    for pattern, width in _YEAR_PATTERNS:
        m = pattern.fullmatch(name)
        if not m:
            continue
        first = int(m.group(1))
        if width is None:
            return first
        second = int(m.group(2))
        expected = first + 1 if width == 4 else (first + 1) % 100
        if second != expected:
            raise ValueError(
                f"SSDA903 folder {folder_name!r}: {m.group(2)} does not follow {first}; "
                f"a collection year folder is named like 2025, 2024-25, 2024_25, 2024-2025 or 202425"
            )
        return first + 1
    raise ValueError(
        f"SSDA903 folder {folder_name!r} is not a collection year; expected a name like "
        f"2025, 2024-25, 2024_25, 2024-2025 or 202425"
    )


def infer_collection_year(tables: dict[str, pd.DataFrame]) -> int:
    """For a flat ssda903/ folder: the collection year (April-March, named by the year it
    ends in) holding the latest valid date among episodes DECOM/DEC and missing
    MIS_START/MIS_END (dates parsed as the reference parses them)."""
    latest = _NAT
    for table, cols in (("episodes", ("DECOM", "DEC")), ("missing", ("MIS_START", "MIS_END"))):
        if table not in tables:
            continue
        for c in cols:
            if c in tables[table].columns:
                v = parse_dfe_dates(tables[table][c])
                v = v[~np.isnat(v)]
                if len(v) and (np.isnat(latest) or v.max() > latest):
                    latest = v.max()
    if np.isnat(latest):
        raise ValueError("cannot infer the SSDA903 collection year: no valid date in episodes or missing")
    y = int(latest.astype("datetime64[Y]").astype(int)) + 1970
    m = int(latest.astype("datetime64[M]").astype(int)) % 12 + 1
    return y + 1 if m >= 4 else y
