"""Re-identification from the source folder the authority already holds.

The store keeps no reference of a child, only keyed hashes. Staff who hold the source
files (and the key) can go back from a hash to the record it came from: every reference
in the source folder is read with the load's readers, hashed with the same key and
namespace as the load (`pipelines.degrade`), and looked up by its hash. Nothing here
writes to the store; references found are printed or written to the requested output
only, never to the audit log.

Refusals (`ReidentifyError`): the source folder is missing or holds no source file the
use needs, the key is missing (a key file is never created here), or the key is wrong
(no reference of the source hashes to a child of the store).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from pipelines.config import Settings
from pipelines.degrade import HASH_HEX_CHARS, KEY_ENV, KEY_FILE_NAME, Pseudonymiser
from pipelines.read import SourceFileError, find_source_files, read_source_file
from pipelines.schema import SSDA903_TABLES, TABLES, Table

OCCURRENCE_COLUMNS = ["namespace", "key", "file", "row", "column", "reference"]
MIN_PREFIX = 8  # the dashboard shows 8 characters; shorter prefixes would invite fishing
_HEX = re.compile(r"^[0-9a-f]+$")
# Namespaces that name a child (an LA child or a police person) in the store's child_id.
CHILD_NAMESPACES = ("child", "person")


class ReidentifyError(Exception):
    """Re-identification refused: nothing is written."""


def load_key(db_path: Path) -> bytes:
    """The key the load used: MFHC_PSEUDONYM_KEY, else `pseudonym.key` beside the store.
    Unlike the load, never creates one: a new key could only give wrong answers."""
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        return from_env.encode("utf-8")
    key_path = Path(db_path).parent / KEY_FILE_NAME
    if key_path.exists():
        key = key_path.read_bytes().strip()
        if key:
            return key
    raise ReidentifyError(
        f"no pseudonymisation key: set {KEY_ENV} to the key the store was loaded with, "
        f"or keep the {KEY_FILE_NAME} file the load created beside the store")


def pseudonymised_columns(table: Table) -> list[tuple[str, str]]:
    """(column, namespace) of the single-reference columns the load hashes."""
    return [(c.name, c.namespace) for c in table.columns
            if c.identifier == "pseudonymise" and c.kind != "ref_list"]


def source_occurrences(source_dir: Path, settings: Settings, pseudonymiser: Pseudonymiser,
                       tables: tuple[Table, ...] = TABLES,
                       keep: Callable[[pd.DataFrame], pd.Series] | None = None) -> pd.DataFrame:
    """Every reference in the source folder's files of `tables`: namespace, key (the
    load's hash), file, row (the load report's numbering: the header is row 1), column
    and the reference itself. With `keep` (rows -> mask), only the rows it keeps are
    returned, so a large police file never sits in memory whole; `attrs["child_references"]`
    still counts every child and person reference read, for `check_key`."""
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise ReidentifyError(f"{source_dir}: no such source folder")
    found = find_source_files(source_dir)
    parts: list[pd.DataFrame] = []
    child_references = 0
    for table in tables:
        columns = pseudonymised_columns(table)
        if not columns:
            continue
        for path, year in found.get(table.name, []):
            try:
                raw = read_source_file(path, table, source_dir, settings.column_maps.get(table.name, {}), year)
            except SourceFileError as exc:
                raise ReidentifyError(f"cannot read the source folder: {exc}") from exc
            for column, namespace in columns:
                values = raw.frame[column].str.strip()
                present = values[values != ""]
                if present.empty:
                    continue
                keys = pseudonymiser.hash_series(namespace, present)
                part = pd.DataFrame({
                    "namespace": namespace, "key": keys, "file": raw.label,
                    "row": present.index.to_numpy() + 2, "column": column, "reference": present,
                })
                if namespace in CHILD_NAMESPACES:
                    child_references += len(part)
                if keep is not None:
                    part = part[keep(part).to_numpy(dtype=bool)]
                parts.append(part)
    frame = (pd.concat(parts, ignore_index=True)[OCCURRENCE_COLUMNS] if parts
             else pd.DataFrame(columns=OCCURRENCE_COLUMNS))
    frame.attrs["child_references"] = child_references
    return frame


def ssda903_files_present(source_dir: Path) -> bool:
    found = find_source_files(Path(source_dir))
    return any(t.name in found for t in SSDA903_TABLES)


def store_children(con) -> set[str]:
    return {row[0] for row in con.execute("select child_id from dim_child").fetchall()}


def check_key(occurrences: pd.DataFrame, children: set[str]) -> int:
    """How many distinct child references of the source are children of the store;
    refuses when none is (the usual sign of a wrong key)."""
    child_keys = set(occurrences.loc[occurrences["namespace"].isin(CHILD_NAMESPACES), "key"])
    matched = len(child_keys & children)
    read = occurrences.attrs.get("child_references", len(child_keys))
    if read and children and not matched:
        raise ReidentifyError(
            "none of the source folder's child references hashes to a child of the store: "
            "the key is not the one the store was loaded with (or the folder is another "
            "authority's); nothing was re-identified")
    if not read:
        raise ReidentifyError("the source folder holds no child reference to re-identify from")
    return matched


def normalise_asked(asked: list[str]) -> list[str]:
    """Lower-cased keys; ValueError for anything that is not 8 to 20 hex characters."""
    out = []
    for raw in asked:
        key = raw.strip().lower()
        if not (_HEX.match(key) and MIN_PREFIX <= len(key) <= HASH_HEX_CHARS):
            raise ValueError(f"{raw!r} is not a pseudonymised key: give the {MIN_PREFIX} characters the "
                             f"dashboard shows or the full {HASH_HEX_CHARS}-character key")
        out.append(key)
    return out


@dataclass
class Resolution:
    asked: str
    keys: list[str] = field(default_factory=list)  # distinct full keys starting with `asked`
    occurrences: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=OCCURRENCE_COLUMNS))

    @property
    def status(self) -> str:
        if not self.keys:
            return "not found"
        return "matched" if len(self.keys) == 1 else "ambiguous"


def resolve(asked: list[str], occurrences: pd.DataFrame) -> list[Resolution]:
    """Each asked key with the source rows whose reference hashes to it. A prefix shared
    by more than one distinct key is ambiguous: its rows are not returned."""
    results = []
    for prefix in asked:
        rows = occurrences[occurrences["key"].str.startswith(prefix)]
        keys = sorted(rows["key"].unique())
        resolution = Resolution(asked=prefix, keys=keys)
        if len(keys) == 1:
            resolution.occurrences = rows.sort_values(["file", "row", "column"]).reset_index(drop=True)
        results.append(resolution)
    return results


def all_tables() -> tuple[Table, ...]:
    return tuple(t for t in TABLES if pseudonymised_columns(t))

