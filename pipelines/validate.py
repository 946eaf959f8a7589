"""Row-level validation driven by the schema declarations.

Each rule break becomes one rejection: file, row (line number in the file, the header
being line 1), column, rule and message. A row with any rejection is kept out of the
store, never silently changed. Values of identifier columns never appear in messages,
so the rejection report can be stored without leaking a reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from pipelines.read import RawFile
from pipelines.schema import Column, Table

REJECTION_COLUMNS = ["file", "row", "column", "rule", "message"]

_DATE_ISO = r"^\d{4}-\d{2}-\d{2}$"
_DATE_DMY = r"^\d{1,2}/\d{1,2}/\d{4}$"  # the DfE validator accepts 1/4/2024 too
_DATETIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$"
_DATETIME_OFFSET = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})$"
_INT = r"^\d+$"
_FLAGS = {"Y": True, "N": False}


@dataclass
class Validated:
    table: Table
    label: str
    frame: pd.DataFrame  # typed values, one row per input row (NA where invalid)
    rejected: pd.Series  # bool per row
    rejections: pd.DataFrame  # REJECTION_COLUMNS
    collection_year: str | None = None

    @property
    def accepted(self) -> pd.DataFrame:
        return self.frame[~self.rejected]


class _Collector:
    def __init__(self, label: str, n_rows: int):
        self.label = label
        self.parts: list[pd.DataFrame] = []
        self.rejected = np.zeros(n_rows, dtype=bool)

    def add(self, mask: pd.Series, column: str, rule: str, message: str | pd.Series) -> None:
        mask = mask.fillna(False).to_numpy(dtype=bool)
        if not mask.any():
            return
        self.rejected |= mask
        rows = np.flatnonzero(mask)
        messages = message[mask].to_numpy() if isinstance(message, pd.Series) else message
        self.parts.append(
            pd.DataFrame({"file": self.label, "row": rows + 2, "column": column, "rule": rule, "message": messages})
        )

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype="object" if c != "row" else "int64") for c in REJECTION_COLUMNS})
        return pd.concat(self.parts, ignore_index=True).sort_values(["row", "column"], kind="stable")


def _shown(column: Column, values: pd.Series) -> pd.Series | str:
    """The value as a message may quote it: never an identifier's."""
    if column.identifier in ("pseudonymise", "month", "postcode", "drop", "sector"):
        return pd.Series("", index=values.index)
    return " '" + values.str.slice(0, 40) + "'"


def parse_datetime(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(parsed local UK time, invalid mask) for ISO 8601 text; blanks parse to NaT."""
    blank = text == ""
    plain = text.str.match(_DATETIME)
    with_offset = text.str.match(_DATETIME_OFFSET) & ~plain
    normalised = text.where(plain, "").str.replace("T", " ", regex=False)
    normalised = normalised.where(normalised.str.len() != 16, normalised + ":00")
    parsed = pd.to_datetime(normalised.where(plain), format="%Y-%m-%d %H:%M:%S", errors="coerce")
    if with_offset.any():
        aware = pd.to_datetime(text.where(with_offset), utc=True, errors="coerce", format="ISO8601")
        local = aware.dt.tz_convert("Europe/London").dt.tz_localize(None)
        parsed = parsed.where(~with_offset, local)
    parsed = parsed.astype("datetime64[us]")
    invalid = ~blank & parsed.isna()
    return parsed, invalid


def parse_date(text: pd.Series, kind: str) -> tuple[pd.Series, pd.Series]:
    blank = text == ""
    pattern, fmt = (_DATE_ISO, "%Y-%m-%d") if kind == "date" else (_DATE_DMY, "%d/%m/%Y")
    shaped = text.str.match(pattern)
    parsed = pd.to_datetime(text.where(shaped), format=fmt, errors="coerce").astype("datetime64[us]")
    invalid = ~blank & parsed.isna()
    return parsed, invalid


def _parse_column(column: Column, text: pd.Series, out: _Collector) -> pd.Series:
    blank = text == ""
    if column.required:
        out.add(blank, column.name, "required", f"{column.name} is required but blank")
    kind = column.kind
    shown = _shown(column, text)
    if kind in ("text",):
        return text.where(~blank)
    if kind == "code":
        if not column.codes:
            return text.where(~blank)
        canonical = {c.lower(): c for c in column.codes}
        parsed = text.str.lower().map(canonical)
        bad = ~blank & parsed.isna()
        out.add(bad, column.name, "invalid_code",
                f"{column.name}: unknown code" + shown + "; expected one of " + ", ".join(column.codes[:12])
                + (" ..." if len(column.codes) > 12 else ""))
        return parsed
    if kind in ("date", "date_dmy"):
        parsed, bad = parse_date(text, kind)
        expected = "YYYY-MM-DD" if kind == "date" else "DD/MM/YYYY"
        out.add(bad, column.name, "invalid_date", f"{column.name}: not a valid date" + shown + f" (expected {expected})")
        return parsed
    if kind == "datetime":
        parsed, bad = parse_datetime(text)
        out.add(bad, column.name, "invalid_datetime",
                f"{column.name}: not a valid date-time" + shown + " (expected YYYY-MM-DDTHH:MM)")
        return parsed
    if kind == "int":
        shaped = text.str.match(_INT)
        bad = ~blank & ~shaped
        out.add(bad, column.name, "invalid_number", f"{column.name}: not a whole number" + shown)
        return pd.to_numeric(text.where(shaped), errors="coerce").astype("Int64")
    if kind == "flag":
        parsed = text.str.upper().map(_FLAGS).astype("boolean")
        bad = ~blank & parsed.isna()
        out.add(bad, column.name, "invalid_flag", f"{column.name}: expected Y or N, found" + shown)
        return parsed
    if kind in ("code_list", "ref_list"):
        items = text.str.split(";").map(lambda parts: [p.strip() for p in parts if p.strip()])
        if kind == "code_list" and column.codes:
            allowed = {c.lower(): c for c in column.codes}
            bad = items.map(lambda parts: any(p.lower() not in allowed for p in parts))
            out.add(bad, column.name, "invalid_code",
                    f"{column.name}: unknown code in list" + shown + "; expected ';'-separated "
                    + ", ".join(column.codes))
            items = items.map(lambda parts: [allowed.get(p.lower(), p) for p in parts])
        return items.where(~blank)
    raise ValueError(f"unknown kind {kind}")


# Table-level checks: each takes the typed frame and reports through the collector.
TableCheck = Callable[[pd.DataFrame, pd.DataFrame, _Collector], None]
TABLE_CHECKS: dict[str, list[TableCheck]] = {}


def table_check(table_name: str):
    def register(fn: TableCheck) -> TableCheck:
        TABLE_CHECKS.setdefault(table_name, []).append(fn)
        return fn

    return register


def _not_before(typed: pd.DataFrame, out: _Collector, later: str, earlier: str) -> None:
    bad = typed[later].notna() & typed[earlier].notna() & (typed[later] < typed[earlier])
    out.add(bad, later, "end_before_start", f"{later} is before {earlier}")


@table_check("police_incidents")
def _police_times(typed, raw, out):
    _not_before(typed, out, "reported_at", "last_seen_at")
    _not_before(typed, out, "found_at", "last_seen_at")


@table_check("ssda903_episodes")
def _episode_dates(typed, raw, out):
    _not_before(typed, out, "DEC", "DECOM")


@table_check("return_interviews")
def _rhi_rules(typed, raw, out):
    not_offered = typed["outcome"] == "not_offered"
    out.add(typed["outcome"].notna() & ~not_offered & (raw["offered_at"] == ""), "offered_at", "required",
            "offered_at is required unless the outcome is not_offered")
    out.add(not_offered & (raw["episode_refs"].str.strip() == ""), "episode_refs", "required",
            "a not_offered row must list the episodes it concerns in episode_refs")
    out.add((typed["outcome"] == "completed") & (raw["completed_at"] == ""), "completed_at", "required",
            "completed_at is required when the outcome is completed")
    _not_before(typed, out, "completed_at", "offered_at")


@table_check("attendance")
def _sessions(typed, raw, out):
    absent = typed["sess_authorised"] + typed["sess_unauthorised"]
    out.add(absent > typed["sess_possible"], "sess_unauthorised", "absence_exceeds_possible",
            "authorised + unauthorised sessions exceed possible sessions")


@table_check("children_missing_education")
def _cme_dates(typed, raw, out):
    _not_before(typed, out, "end_date", "start_date")


def validate(raw: RawFile) -> Validated:
    table = raw.table
    text = raw.frame.apply(lambda s: s.str.strip())
    out = _Collector(raw.label, len(text))
    typed = pd.DataFrame(index=text.index)
    for column in table.columns:
        typed[column.name] = _parse_column(column, text[column.name], out)

    groups: dict[str, list[str]] = {}
    for column in table.columns:
        if column.one_of:
            groups.setdefault(column.one_of, []).append(column.name)
    for members in groups.values():
        none_given = np.logical_and.reduce([text[m] == "" for m in members])
        out.add(pd.Series(none_given, index=text.index), members[0], "required",
                f"one of {', '.join(members)} is required")

    for check in TABLE_CHECKS.get(table.name, []):
        check(typed, text, out)

    for column in table.columns:
        if column.unique:
            values = text[column.name]
            dup = (values != "") & values.duplicated(keep="first")
            out.add(dup, column.name, "duplicate_reference",
                    f"{column.name} repeats an earlier row's value (must be unique in the file)")

    rejected = pd.Series(out.rejected, index=text.index)
    return Validated(table=table, label=raw.label, frame=typed, rejected=rejected,
                     rejections=out.frame(), collection_year=raw.collection_year)
