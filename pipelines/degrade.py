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
