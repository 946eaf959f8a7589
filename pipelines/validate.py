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


# --------------------------------------------------------------------------- in DuckDB
# The load validates each file as SQL over the whole columns of its raw text table
# (`pipelines.read.read_source_into`), giving exactly what `validate` gives: the same
# typed values and the same rejections in the same order. Values the SQL parse calls
# invalid (few: the rejections) are parsed again by `parse_date` / `parse_datetime`, so
# anything pandas accepts and DuckDB's strptime does not (an offset, a leap second) gets
# pandas' value. `tests/test_load_speed_equivalence.py` checks the two give the same.

# What Python's str.strip() removes.
_STRIP_CHARS = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
_SQL_KIND = {"text": "VARCHAR", "code": "VARCHAR", "date": "DATE", "date_dmy": "DATE", "datetime": "TIMESTAMP",
             "int": "BIGINT", "flag": "BOOLEAN", "code_list": "VARCHAR[]", "ref_list": "VARCHAR[]"}


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _strip_sql(expr: str) -> str:
    chars = sql_literal(_STRIP_CHARS)  # trim() with a character set is slow: only where needed
    return (f"case when contains({chars}, substring({expr}, 1, 1)) or contains({chars}, substring({expr}, "
            f"length({expr}), 1)) then trim({expr}, {chars}) else {expr} end")


def _t(name: str) -> str:
    return _q("t_" + name)


def _v(name: str) -> str:
    return _q("v_" + name)


def _parse_sql(column: Column) -> str:
    t = _t(column.name)
    kind = column.kind
    if kind == "text" or (kind == "code" and not column.codes):
        return f"nullif({t}, '')"
    if kind == "code":
        cases = " ".join(f"when {sql_literal(c.lower())} then {sql_literal(c)}" for c in column.codes)
        return f"case lower({t}) {cases} end"
    # pandas has no year 0 (DuckDB's strptime reads it as 1 BC)
    if kind == "date":
        return (f"case when regexp_full_match({t}, {sql_literal(_DATE_ISO[1:-1])}) and {t} not like '0000%' "
                f"then try_strptime({t}, '%Y-%m-%d')::date end")
    if kind == "date_dmy":
        return (f"case when regexp_full_match({t}, {sql_literal(_DATE_DMY[1:-1])}) and {t} not like '%/0000' "
                f"then try_strptime({t}, '%d/%m/%Y')::date end")
    if kind == "datetime":
        return (f"case when regexp_full_match({t}, {sql_literal(_DATETIME[1:-1])}) and {t} not like '0000%' "
                f"then try_strptime(replace({t}, 'T', ' ') || case when length({t}) = 16 then ':00' else '' end, "
                f"'%Y-%m-%d %H:%M:%S') end")
    if kind == "int":
        return f"case when regexp_full_match({t}, {sql_literal(_INT[1:-1])}) then {t}::hugeint::bigint end"
    if kind == "flag":
        return f"case upper({t}) when 'Y' then true when 'N' then false end"
    if kind in ("code_list", "ref_list"):
        items = (f"list_filter(list_transform(string_split({t}, ';'), lambda x: {_strip_sql('x')}), lambda x: x <> '')")
        if kind == "code_list" and column.codes:
            cases = " ".join(f"when {sql_literal(c.lower())} then {sql_literal(c)}" for c in column.codes)
            items = f"list_transform({items}, lambda x: coalesce(case lower(x) {cases} end, x))"
        return f"case when {t} <> '' then {items} end"
    raise ValueError(f"unknown kind {kind}")


def _shown_sql(column: Column) -> str:
    if column.identifier in ("pseudonymise", "month", "postcode", "drop", "sector"):
        return "''"
    return f"' ''' || substring({_t(column.name)}, 1, 40) || ''''"


@dataclass
class _Rule:
    condition: str
    column: str
    rule: str
    message: str  # SQL expression


def _column_rules(column: Column) -> list[_Rule]:
    t, v, name = _t(column.name), _v(column.name), column.name
    rules = []
    if column.required:
        rules.append(_Rule(f"{t} = ''", name, "required", sql_literal(f"{name} is required but blank")))
    kind = column.kind
    shown = _shown_sql(column)
    if kind == "code" and column.codes:
        tail = "; expected one of " + ", ".join(column.codes[:12]) + (" ..." if len(column.codes) > 12 else "")
        rules.append(_Rule(f"{t} <> '' and {v} is null", name, "invalid_code",
                           f"{sql_literal(name + ': unknown code')} || {shown} || {sql_literal(tail)}"))
    elif kind in ("date", "date_dmy"):
        expected = "YYYY-MM-DD" if kind == "date" else "DD/MM/YYYY"
        rules.append(_Rule(f"{t} <> '' and {v} is null", name, "invalid_date",
                           f"{sql_literal(name + ': not a valid date')} || {shown} || "
                           f"{sql_literal(f' (expected {expected})')}"))
    elif kind == "datetime":
        rules.append(_Rule(f"{t} <> '' and {v} is null", name, "invalid_datetime",
                           f"{sql_literal(name + ': not a valid date-time')} || {shown} || "
                           f"{sql_literal(' (expected YYYY-MM-DDTHH:MM)')}"))
    elif kind == "int":
        rules.append(_Rule(_q("b_" + name), name, "invalid_number", f"{sql_literal(name + ': not a whole number')} || {shown}"))
    elif kind == "flag":
        rules.append(_Rule(f"{t} <> '' and {v} is null", name, "invalid_flag",
                           f"{sql_literal(name + ': expected Y or N, found')} || {shown}"))
    elif kind == "code_list" and column.codes:
        allowed = ", ".join(sql_literal(c.lower()) for c in column.codes)
        items = f"list_filter(list_transform(string_split({t}, ';'), lambda x: {_strip_sql('x')}), lambda x: x <> '')"
        rules.append(_Rule(f"len(list_filter({items}, lambda x: lower(x) not in ({allowed}))) > 0", name, "invalid_code",
                           f"{sql_literal(name + ': unknown code in list')} || {shown} || "
                           f"{sql_literal('; expected ' + chr(39) + ';' + chr(39) + '-separated ' + ', '.join(column.codes))}"))
    return rules


def _not_before_sql(later: str, earlier: str) -> _Rule:
    return _Rule(f"{_v(later)} < {_v(earlier)}", later, "end_before_start", sql_literal(f"{later} is before {earlier}"))


# The table checks of TABLE_CHECKS, as SQL conditions over the typed (v_) and text (t_) columns.
SQL_TABLE_CHECKS: dict[str, list[_Rule]] = {
    "police_incidents": [_not_before_sql("reported_at", "last_seen_at"), _not_before_sql("found_at", "last_seen_at")],
    "ssda903_episodes": [_not_before_sql("DEC", "DECOM")],
    "return_interviews": [
        _Rule(f"{_v('outcome')} is not null and {_v('outcome')} <> 'not_offered' and {_t('offered_at')} = ''",
              "offered_at", "required", sql_literal("offered_at is required unless the outcome is not_offered")),
        _Rule(f"{_v('outcome')} = 'not_offered' and {_t('episode_refs')} = ''", "episode_refs", "required",
              sql_literal("a not_offered row must list the episodes it concerns in episode_refs")),
        _Rule(f"{_v('outcome')} = 'completed' and {_t('completed_at')} = ''", "completed_at", "required",
              sql_literal("completed_at is required when the outcome is completed")),
        _not_before_sql("completed_at", "offered_at"),
    ],
    "attendance": [
        _Rule(f"{_v('sess_authorised')} + {_v('sess_unauthorised')} > {_v('sess_possible')}", "sess_unauthorised",
              "absence_exceeds_possible", sql_literal("authorised + unauthorised sessions exceed possible sessions")),
    ],
    "children_missing_education": [_not_before_sql("end_date", "start_date")],
}


@dataclass
class CheckedInDuckDB:
    """A file validated in DuckDB: `relation` holds row, t_<column> (trimmed text) and
    v_<column> (typed value) for every row read; `rejections` is what `validate` gives."""
    table: Table
    label: str
    relation: str
    rows_read: int
    rejections: pd.DataFrame
    collection_year: str | None = None


def validate_in_duckdb(con, staged, relation: str) -> CheckedInDuckDB:
    table = staged.table
    text_cols = ", ".join(f"{_strip_sql(_q(c.name)) if staged.padded else _q(c.name)} as {_t(c.name)}"
                          for c in table.columns)
    typed_cols = ", ".join(f"({_parse_sql(c)})::{_SQL_KIND[c.kind]} as {_v(c.name)}" for c in table.columns)
    typed_cols += "".join(f", {_t(c.name)} <> '' and not regexp_full_match({_t(c.name)}, {sql_literal(_INT[1:-1])}) "
                          f"as {_q('b_' + c.name)}" for c in table.columns if c.kind == "int")
    if staged.padded:  # trim once into a table of text, then type it
        con.execute(f"create or replace temp table {relation}_text as "
                    f"select rowid + 2 as row, {text_cols} from {staged.relation}")
        con.execute(f"drop table if exists {staged.relation}")
        source = f"{relation}_text"
    else:  # nothing to trim: text and typed values in one pass over the raw table
        source = f"(select rowid + 2 as row, {text_cols} from {staged.relation})"
    con.execute(f"create or replace temp table {relation} as select *, {typed_cols} from {source}")
    con.execute(f"drop table if exists {relation}_text")
    con.execute(f"drop table if exists {staged.relation}")
    _repair_with_pandas(con, table, relation)

    rules: list[_Rule] = []
    for column in table.columns:
        rules.extend(_column_rules(column))
    groups: dict[str, list[str]] = {}
    for column in table.columns:
        if column.one_of:
            groups.setdefault(column.one_of, []).append(column.name)
    for members in groups.values():
        rules.append(_Rule(" and ".join(f"{_t(m)} = ''" for m in members), members[0], "required",
                           sql_literal(f"one of {', '.join(members)} is required")))
    rules.extend(SQL_TABLE_CHECKS.get(table.name, []))
    unique = [c.name for c in table.columns if c.unique]
    # One pass finds the rows breaking any rule (few); each rule is then read off those.
    flagged = f"{relation}_flagged"
    any_rule = " or ".join(f"coalesce({r.condition}, false)" for r in rules) or "false"
    con.execute(f"create or replace temp table {flagged} as select * from {relation} where {any_rule}")
    parts = [f"select row, {sql_literal(r.column)} as \"column\", {sql_literal(r.rule)} as rule, {r.message} as message, "
             f"{i} as seq from {flagged} where coalesce({r.condition}, false)" for i, r in enumerate(rules)]
    for j, name in enumerate(unique):
        parts.append(
            f"select row, {sql_literal(name)}, 'duplicate_reference', "
            f"{sql_literal(f'{name} repeats an earlier row' + chr(39) + 's value (must be unique in the file)')}, "
            f"{len(rules) + j} from (select row, {_t(name)} as t, row_number() over (partition by {_t(name)} "
            f"order by row) as n from {relation} where {_t(name)} <> '') where n > 1")
    rejections = con.execute(
        f"select {sql_literal(staged.label)} as file, row, \"column\", rule, message from ("
        + " union all ".join(parts) + ") order by row, \"column\", seq").df()
    rejections = rejections.astype({"file": object, "row": "int64", "column": object, "rule": object,
                                    "message": object})
    con.execute(f"drop table {flagged}")
    return CheckedInDuckDB(table=table, label=staged.label, relation=relation, rows_read=staged.rows,
                           rejections=rejections.reset_index(drop=True), collection_year=staged.collection_year)


def _repair_with_pandas(con, table: Table, relation: str) -> None:
    """Dates and date-times the SQL parse left empty, and whole numbers with characters
    beyond ASCII (pandas' \\d takes any Unicode digit), are parsed again the pandas way."""
    for column in table.columns:
        if column.kind == "int":
            t, v, b = _t(column.name), _v(column.name), _q("b_" + column.name)
            texts = [r[0] for r in con.execute(
                f"select distinct {t} from {relation} where regexp_matches({t}, '[^\\x00-\\x7F]')").fetchall()]
            if texts:
                series = pd.Series(texts, dtype="str")
                shaped = series.str.match(_INT)
                fixed = pd.DataFrame({"t": texts, "b": ~shaped.to_numpy(dtype=bool),
                                      "v": pd.to_numeric(series.where(shaped), errors="coerce").astype("Int64")})
                con.register("repaired_values", fixed)
                con.execute(f"update {relation} set {v} = repaired_values.v, {b} = repaired_values.b "
                            f"from repaired_values where {relation}.{t} = repaired_values.t")
                con.unregister("repaired_values")
            continue
        if column.kind not in ("date", "date_dmy", "datetime"):
            continue
        t, v = _t(column.name), _v(column.name)
        texts = [r[0] for r in con.execute(
            f"select distinct {t} from {relation} where {t} <> '' and {v} is null").fetchall()]
        if not texts:
            continue
        series = pd.Series(texts, dtype="str")
        parsed, _ = parse_datetime(series) if column.kind == "datetime" else parse_date(series, column.kind)
        fixed = pd.DataFrame({"t": texts, "v": parsed})
        fixed = fixed[fixed["v"].notna()]
        if not len(fixed):
            continue
        con.register("repaired_values", fixed)
        con.execute(f"update {relation} set {v} = repaired_values.v::{_SQL_KIND[column.kind]} "
                    f"from repaired_values where {relation}.{t} = repaired_values.t")
        con.unregister("repaired_values")
