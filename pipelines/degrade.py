"""The degrade stage: what leaves ingest is never an identifier.

References become keyed hashes (HMAC-SHA256 with a secret key, stable across loads, in a
namespace per kind of reference so that a police person reference can never equal a
local-authority child reference); dates of birth become their month; full postcodes
become ward, LSOA, authority and the centre of a 100 m grid cell; postcode sectors become
a distance; free text is dropped. Each column's treatment is declared in the schema.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines import geocode
from pipelines.schema import Table

KEY_ENV = "MFHC_PSEUDONYM_KEY"
KEY_FILE_NAME = "pseudonym.key"
HASH_HEX_CHARS = 20  # 80 bits: no collision in practice at tens of millions of references

_EPISODE_KEY = re.compile(r"^(?P<child>.+):(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})$")


def load_or_create_key(db_path: Path) -> bytes:
    """The key from MFHC_PSEUDONYM_KEY, else the key file beside the database (created once, mode 600)."""
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        return from_env.encode("utf-8")
    key_path = db_path.parent / KEY_FILE_NAME
    if key_path.exists():
        return key_path.read_bytes().strip()
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode("ascii")
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


class Pseudonymiser:
    def __init__(self, key: bytes):
        if not key:
            raise ValueError("the pseudonymisation key is empty")
        self._base = hmac.new(key, digestmod=hashlib.sha256)

    def one(self, namespace: str, value: str) -> str:
        mac = self._base.copy()
        mac.update(f"{namespace}\x1f{value}".encode("utf-8"))
        return mac.hexdigest()[:HASH_HEX_CHARS]

    def hash_series(self, namespace: str, values: pd.Series) -> pd.Series:
        """Keyed hash of each non-blank value (blank/NA stays NA); each distinct value hashed once."""
        present = values.dropna()
        present = present[present.astype(str).str.strip() != ""].astype(str).str.strip()
        uniques = present.unique()
        lookup = {v: self.one(namespace, v) for v in uniques}
        return present.map(lookup).reindex(values.index)

    def episode_refs(self, refs: pd.Series) -> pd.Series:
        """Hash each reference of an RHI's episode_refs: police incident refs in the incident
        namespace, `CHILD:DD/MM/YYYY` keys as the child's key and the ISO date."""
        def convert(items):
            if not isinstance(items, list):
                return None
            out = []
            for item in items:
                match = _EPISODE_KEY.match(item)
                if match:
                    day = f"{match['year']}-{int(match['month']):02d}-{int(match['day']):02d}"
                    out.append(f"{self.one('child', match['child'].strip())}:{day}")
                else:
                    out.append(self.one("incident", item))
            return out

        return refs.map(convert)


@dataclass
class Geography:
    directory: "geocode.PostcodeDirectory"
    locator: "geocode.AreaLocator"


def degrade(table: Table, accepted: pd.DataFrame, pseudonymiser: Pseudonymiser,
            geography: Geography | None, source_file: str, collection_year: str | None,
            extra: dict[str, pd.Series] | None = None) -> tuple[pd.DataFrame, int]:
    """The rows as they may be stored, and the number of postcodes that could not be located."""
    stored = pd.DataFrame(index=accepted.index)
    stored["source_file"] = source_file
    stored["source_row"] = (accepted.index.to_numpy() + 2).astype("int32")
    unknown_postcodes = 0
    for column in table.columns:
        values = accepted[column.name]
        names = [name for name, _ in column.stored_columns()]
        if column.identifier == "pseudonymise":
            if column.kind == "ref_list":
                stored[names[0]] = pseudonymiser.episode_refs(values)
            else:
                stored[names[0]] = pseudonymiser.hash_series(column.namespace, values)
        elif column.identifier == "month":
            stored[names[0]] = values.dt.to_period("M").dt.to_timestamp().astype("datetime64[us]")
        elif column.identifier == "postcode":
            if geography is None:
                located = pd.DataFrame(index=values.index, columns=["ward", "lsoa", "la", "grid_e", "grid_n"])
                known = values.isna()
            else:
                located = geocode.locate_postcodes(values, geography.directory, geography.locator)
                known = located["known"]
            unknown_postcodes += int((~known.astype(bool)).sum())
            for name, part in zip(names, ["ward", "lsoa", "la", "grid_e", "grid_n"]):
                stored[name] = located[part]
        elif column.identifier in ("drop", "sector"):
            continue
        else:
            stored[names[0]] = values
    for name, _ in table.extra_stored:
        if extra and name in extra:
            stored[name] = extra[name].reindex(accepted.index)
        elif name == "collection_year":
            stored[name] = collection_year
        else:
            stored[name] = None
    return stored[[name for name, _ in table.stored_columns()]], unknown_postcodes


# --------------------------------------------------------------------------- in DuckDB
# The load degrades each validated file as one SQL insert into its staging table. Keyed
# hashes are computed by DuckDB itself (HMAC-SHA256 written as two `sha256` calls over
# BLOBs, in parallel), over distinct values only, once per load: a table of keys per
# namespace is kept in the connection (police incident refs hashed for the police file
# serve the RHIs' episode_refs), then joined; postcodes are located once per distinct
# value and joined. The stored rows are those `degrade` gives.

_SHA256_BLOCK = 64


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer key pads (RFC 2104): a key longer than the 64-byte
    block is hashed first, a shorter one padded with zero bytes."""
    if len(key) > _SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_SHA256_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def hmac_sql(value_sql: str, name: str = "hmac") -> str:
    """SQL giving `Pseudonymiser.one(namespace, value)` for the VARCHAR expression
    `value_sql`: HMAC(K, m) = SHA256((K ^ opad) || SHA256((K ^ ipad) || m)), with m the
    namespace, the separator and the value in UTF-8. Bind `hmac_parameters(key, namespace, name)`:
    the key material travels as parameters, never in the SQL text."""
    return f"left(sha256(${name}_outer || unhex(sha256(${name}_inner || encode({value_sql})))), {HASH_HEX_CHARS})"


def hmac_parameters(key: bytes, namespace: str, name: str = "hmac") -> dict[str, bytes]:
    inner, outer = hmac_pads(key)
    return {f"{name}_inner": inner + f"{namespace}\x1f".encode("utf-8"), f"{name}_outer": outer}


# Namespaces whose keys a later file looks up (the RHIs' episode_refs name police incidents).
_REUSED_NAMESPACES = {"incident"}


class KeyTables:
    """Per-namespace tables (value, key) in DuckDB, filled as files need them."""

    def __init__(self, con, key: bytes):
        if not key:
            raise ValueError("the pseudonymisation key is empty")
        self.con = con
        self.key = key
        self.made: set[str] = set()

    def table(self, namespace: str) -> str:
        name = f"pseudonym_keys_{namespace}"
        if namespace not in self.made:
            self.con.execute(f"create or replace temp table {name} (value varchar, key varchar)")
            self.made.add(namespace)
        return name

    def add(self, namespace: str, values_sql: str) -> str:
        """Make sure every non-null value the query `values_sql` (one column) gives has a key
        (each value once: those already there are left out)."""
        name = self.table(namespace)
        self.con.execute(
            f"insert into {name} select v, {hmac_sql('v')} from ("
            f"select distinct v from ({values_sql}) as s(v) where v is not null "
            f"and v not in (select value from {name}))",
            hmac_parameters(self.key, namespace))
        return name


def _episode_ref_item(pseudonymiser: Pseudonymiser, item: str) -> str:
    match = _EPISODE_KEY.match(item)
    if match:
        day = f"{match['year']}-{int(match['month']):02d}-{int(match['day']):02d}"
        return f"{pseudonymiser.one('child', match['child'].strip())}:{day}"
    return pseudonymiser.one("incident", item)


def degrade_in_duckdb(con, checked, accepted_sql: str, keys: KeyTables, pseudonymiser: Pseudonymiser,
                      geography: Geography | None, collection_year: str | None,
                      extra_sql: dict[str, tuple[str, str]] | None = None) -> int:
    """Insert the accepted rows of `checked` (a validate.CheckedInDuckDB; `accepted_sql` is a
    query of its accepted rows) into stg_<table>; the number of postcodes not located.
    `extra_sql`: {stored column: (SQL expression over `a` and joins, join clause)}."""
    from pipelines.validate import sql_literal, _q

    table = checked.table
    # A view, not a copy: the accepted rows are the typed table less the few rejected rows.
    con.execute(f"create or replace temp view accepted_rows as {accepted_sql}")
    select = [f"{sql_literal(checked.label)} as source_file", "a.row::integer as source_row"]
    joins: list[str] = []
    parameters: dict[str, bytes] = {}
    unknown = 0
    for index, column in enumerate(table.columns):
        v = _q("v_" + column.name)
        names = [name for name, _ in column.stored_columns()]
        if column.identifier == "pseudonymise" and column.kind == "ref_list":
            refs = _episode_refs_table(con, keys, pseudonymiser, v, f"refs_{index}")
            joins.append(f"left join {refs} on {refs}.row = a.row")
            select.append(f"case when a.{v} is null then null when len(a.{v}) = 0 then []::varchar[] "
                          f"else {refs}.refs end as {names[0]}")
        elif column.identifier == "pseudonymise" and column.unique and column.namespace not in _REUSED_NAMESPACES:
            # Unique in the file and looked up by no other: hashed in the insert itself.
            parameter = f"h{index}"
            parameters.update(hmac_parameters(keys.key, column.namespace, parameter))
            select.append(f"{hmac_sql(f'a.{v}', parameter)} as {names[0]}")
        elif column.identifier == "pseudonymise":
            name = keys.add(column.namespace, f"select a.{v} from accepted_rows as a")
            alias = f"k{index}"
            joins.append(f"left join {name} as {alias} on {alias}.value = a.{v}")
            select.append(f"{alias}.key as {names[0]}")
        elif column.identifier == "month":
            select.append(f"date_trunc('month', a.{v})::date as {names[0]}")
        elif column.identifier == "postcode":
            alias = f"p{index}"
            lookup = _postcode_table(con, geography, v, alias)
            joins.append(f"left join {lookup} as {alias} on {alias}.value = a.{v}")
            for name, part in zip(names, ["ward", "lsoa", "la", "grid_e", "grid_n"]):
                select.append(f"{alias}.{part} as {name}")
            unknown += con.execute(
                f"select count(*) from accepted_rows as a join {lookup} as l on l.value = a.{v} "
                f"where not l.known").fetchone()[0]
        elif column.identifier in ("drop", "sector"):
            continue
        else:
            select.append(f"a.{v} as {names[0]}")
    for name, _ in table.extra_stored:
        if extra_sql and name in extra_sql:
            expression, join = extra_sql[name]
            select.append(f"{expression} as {name}")
            if join:
                joins.append(join)
        elif name == "collection_year":
            select.append(f"{sql_literal(collection_year) if collection_year is not None else 'null'} as {name}")
        else:
            select.append(f"null as {name}")
    # In no particular order (source_row says where each row came from, and nothing reads
    # the staged order): no sort of the whole file, and DuckDB joins and writes in parallel.
    kept = con.execute("select current_setting('preserve_insertion_order')").fetchone()[0]
    con.execute("set preserve_insertion_order = false")
    try:
        con.execute(f"insert into stg_{table.name} by name select {', '.join(select)} "
                    f"from accepted_rows as a {' '.join(joins)}", parameters or None)
    finally:
        con.execute(f"set preserve_insertion_order = {'true' if kept else 'false'}")
    con.execute("drop view accepted_rows")
    return unknown


def _episode_refs_table(con, keys: KeyTables, pseudonymiser: Pseudonymiser, v: str, name: str) -> str:
    """row -> the list of hashed references. Police incident refs use the incident key table;
    plain ASCII `CHILD:DD/MM/YYYY` keys the child key table (the child part stripped, the
    date as YYYY-MM-DD), both in SQL; anything not plain ASCII (where Python's regex may
    read digits or spaces differently) is converted one by one as `Pseudonymiser.episode_refs` does."""
    import pyarrow as pa
    from pipelines.validate import _strip_sql

    con.execute(f"create or replace temp table {name}_items as "
                f"select row, unnest(a.{v}) as item, generate_subscripts(a.{v}, 1) as i, len(a.{v}) as n "
                f"from accepted_rows as a where len(a.{v}) > 0")
    ascii_only = "not regexp_matches(item, '[^\\x00-\\x7F]')"
    special = con.sql(
        f"select distinct item from {name}_items where not ({ascii_only})").to_arrow_table().column(0).to_pylist()
    con.execute(f"create or replace temp table {name}_special (item varchar, out varchar)")
    if special:
        converted = [_episode_ref_item(pseudonymiser, item) for item in special]
        con.register("incoming_special", pa.table({"item": pa.array(special, pa.string()),
                                                   "out": pa.array(converted, pa.string())}))
        con.execute(f"insert into {name}_special select * from incoming_special")
        con.unregister("incoming_special")
    # _EPISODE_KEY: greedy child part, then 1-2 digit day and month and a 4-digit year.
    pattern = "'^(.+):([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$'"
    con.execute(f"create or replace temp table {name}_child as "
                f"select item, {_strip_sql(f'regexp_extract(item, {pattern}, 1)')} as child, "
                f"regexp_extract(item, {pattern}, 4) || '-' || lpad(regexp_extract(item, {pattern}, 3), 2, '0') "
                f"|| '-' || lpad(regexp_extract(item, {pattern}, 2), 2, '0') as day "
                f"from (select distinct item from {name}_items where {ascii_only} "
                f"and regexp_full_match(item, {pattern}))")
    child = keys.add("child", f"select child from {name}_child")
    con.execute(f"insert into {name}_special select c.item, k.key || ':' || c.day "
                f"from {name}_child as c join {child} as k on k.value = c.child")
    incident = keys.add("incident", f"select item from {name}_items where item not in "
                                    f"(select item from {name}_special)")
    # A row of one ref (nearly all) needs no grouping: its list is that ref's key.
    hashed = (f"from {name}_items as i left join {name}_special as s using (item) "
              f"left join {incident} as k on k.value = i.item")
    con.execute(f"create or replace temp table {name} as "
                f"select i.row, [coalesce(s.out, k.key)] as refs {hashed} where i.n = 1 union all "
                f"select i.row, list(coalesce(s.out, k.key) order by i.i) as refs {hashed} where i.n > 1 "
                f"group by i.row")
    for temp in ("items", "special", "child"):
        con.execute(f"drop table {name}_{temp}")
    return name


def _postcode_table(con, geography: Geography | None, v: str, alias: str) -> str:
    """value -> ward, lsoa, la, grid_e, grid_n, known for each distinct postcode text."""
    values = con.execute(f"select distinct a.{v} from accepted_rows as a where a.{v} is not null").df().iloc[:, 0]
    values = pd.Series(values.to_numpy(dtype=object), dtype=object)
    if geography is None:
        located = pd.DataFrame({"ward": pd.Series(pd.NA, index=values.index, dtype="string"),
                                "lsoa": pd.Series(pd.NA, index=values.index, dtype="string"),
                                "la": pd.Series(pd.NA, index=values.index, dtype="string"),
                                "grid_e": pd.Series(pd.NA, index=values.index, dtype="Int64"),
                                "grid_n": pd.Series(pd.NA, index=values.index, dtype="Int64"),
                                "known": False})
    else:
        located = geocode.locate_postcodes(values, geography.directory, geography.locator)
    lookup = located.assign(value=values.astype("string"))
    name = f"postcode_lookup_{alias}"
    con.register("incoming_postcodes", lookup.reset_index(drop=True))
    con.execute(f"create or replace temp table {name} as select value::varchar as value, ward::varchar as ward, "
                f"lsoa::varchar as lsoa, la::varchar as la, grid_e::integer as grid_e, grid_n::integer as grid_n, "
                f"known::boolean as known from incoming_postcodes")
    con.unregister("incoming_postcodes")
    return name
