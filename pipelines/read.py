"""Readers: find each source file of a source folder and read it as text.

Every value is read as a string (blanks as ""); typing is validation's job. Only the
columns the schema declares are read, so a column of names in an extract is never read.
A file that cannot be read at all raises `SourceFileError`, which stops the load.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.config import normalise_header
from pipelines.schema import HOMES, SSDA903_TABLES, TABLES, Table

_CHUNK = 1 << 22


class SourceFileError(Exception):
    """A file that cannot be used at all: the load stops and the old store stays."""

    def __init__(self, file: str, message: str):
        super().__init__(f"{file}: {message}")
        self.file = file
        self.message = message


@dataclass
class RawFile:
    table: Table
    label: str  # the file's path relative to the source folder, as reports show it
    frame: pd.DataFrame  # str columns named as the schema, in schema order
    sha256: str
    collection_year: str | None = None  # SSDA903 files in ssda903/<year>/


def file_checksum_and_check_utf8(path: Path, label: str) -> str:
    """SHA-256 of the file; raises SourceFileError unless it is UTF-8 text."""
    return _scan(path, label)[0]


# Bytes that may begin (LEAD) or end (TRAIL) whitespace as str.strip() sees it, in UTF-8:
# ASCII whitespace other than CR/LF, the lead bytes of the non-ASCII ones, and (to stay
# on the safe side) any continuation byte before a delimiter.
_LEAD = np.zeros(256, dtype=bool)
_TRAIL = np.zeros(256, dtype=bool)
for _byte in (0x09, 0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x1F, 0x20):
    _LEAD[_byte] = _TRAIL[_byte] = True
_LEAD[[0xC2, 0xE1, 0xE2, 0xE3]] = True
_TRAIL[0x80:0xC0] = True


def _padded(data: bytes) -> bool:
    """Whether any byte next to a delimiter (comma, quote, CR, LF) may be whitespace."""
    a = np.frombuffer(data, dtype=np.uint8)
    edges = np.flatnonzero((a == 44) | (a == 10) | (a == 34) | (a == 13))
    if not len(edges):
        return False
    after = a[np.minimum(edges + 1, len(a) - 1)]
    before = a[np.maximum(edges - 1, 0)]
    return bool(_LEAD[after].any() or _TRAIL[before].any())


def _scan(path: Path, label: str) -> tuple[str, int, bool]:
    """(SHA-256, number of lines, whether any field may start or end with whitespace) of a
    UTF-8 text file, in one pass; SourceFileError otherwise."""
    digest = hashlib.sha256()
    lines = 0
    last = b""
    padded = False
    tail = b"\n"
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            if b"\x00" in chunk:
                raise SourceFileError(label, "not a text CSV file (it contains NUL bytes)")
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise SourceFileError(
                    label, f"not UTF-8 text (invalid byte at offset {offset + exc.start}); save it as UTF-8 CSV"
                ) from exc
            offset += len(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
            if not padded:
                padded = _padded(tail + chunk)
            tail = chunk[-1:]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise SourceFileError(label, "not UTF-8 text (truncated character at the end)") from exc
    if last and last != b"\n":
        lines += 1
    padded = padded or _padded(tail + b"\n")
    return digest.hexdigest(), lines, padded


def _header_map(header: list[str], table: Table, column_map: dict[str, str], label: str) -> dict[str, str]:
    """{name in file: schema column name} for the columns the schema declares."""
    wanted = {normalise_header(c.name): c.name for c in table.columns}
    found: dict[str, str] = {}
    for raw_name in header:
        key = normalise_header(raw_name)
        key = column_map.get(key, key)
        if key in wanted:
            target = wanted[key]
            if target in found.values():
                raise SourceFileError(label, f"column '{target}' appears more than once in the header")
            found[raw_name] = target
    missing = [c.name for c in table.columns if c.required and c.name not in found.values()]
    if missing:
        raise SourceFileError(
            label,
            f"required column(s) {', '.join(missing)} absent from the header "
            f"(found: {', '.join(h.strip() for h in header) or 'nothing'}); "
            "map local names in mfhc.toml under [sources." + table.name + ".columns]",
        )
    return found


def _csv_header(path: Path, table: Table, column_map: dict[str, str], label: str) -> tuple[list[str], dict[str, str]]:
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        first_line = handle.readline()
    if not first_line.strip():
        raise SourceFileError(label, "the file is empty (no header row)")
    header = next(csv.reader([first_line]))
    return header, _header_map(header, table, column_map, label)


def read_csv_file(path: Path, table: Table, column_map: dict[str, str], label: str) -> tuple[pd.DataFrame, str]:
    checksum = file_checksum_and_check_utf8(path, label)
    return _pandas_csv(path, table, column_map, label), checksum


def _pandas_csv(path: Path, table: Table, column_map: dict[str, str], label: str) -> pd.DataFrame:
    _, mapping = _csv_header(path, table, column_map, label)
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            usecols=list(mapping),
            skip_blank_lines=True,
            on_bad_lines="error",
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise SourceFileError(label, f"not a readable CSV file ({exc})") from exc
    frame = frame.rename(columns=mapping)
    return _complete(frame, table)


def read_xlsx_file(path: Path, table: Table, column_map: dict[str, str], label: str) -> tuple[pd.DataFrame, str]:
    checksum = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for a bad workbook
        raise SourceFileError(label, f"not a readable .xlsx workbook ({exc})") from exc
    mapping = _header_map([str(c) for c in frame.columns], table, column_map, label)
    frame = frame[list(mapping)].rename(columns=mapping)
    return _complete(frame, table), checksum


def _complete(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    for column in table.column_names:
        if column not in frame.columns:
            frame[column] = ""
    frame = frame[table.column_names].astype(str)
    return frame.reset_index(drop=True)


_YEAR_DIR = re.compile(r"^\d{4}([-_]?\d{2,4})?$")


def find_source_files(source_dir: Path) -> dict[str, list[tuple[Path, str | None]]]:
    """{table name: [(path, collection year folder or None)]} of the files present."""
    found: dict[str, list[tuple[Path, str | None]]] = {}
    for table in TABLES:
        if table in SSDA903_TABLES:
            continue
        path = source_dir / table.path
        if path.exists():
            found[table.name] = [(path, None)]
        elif table is HOMES and path.with_suffix(".xlsx").exists():
            found[table.name] = [(path.with_suffix(".xlsx"), None)]
    ssda_dir = source_dir / "ssda903"
    if ssda_dir.is_dir():
        year_dirs = sorted(p for p in ssda_dir.iterdir() if p.is_dir() and _YEAR_DIR.match(p.name))
        for table in SSDA903_TABLES:
            file_name = Path(table.path).name
            paths: list[tuple[Path, str | None]] = []
            if (ssda_dir / file_name).exists():
                paths.append((ssda_dir / file_name, None))
            paths.extend((d / file_name, d.name) for d in year_dirs if (d / file_name).exists())
            if paths:
                found[table.name] = paths
    return found


def read_source_file(path: Path, table: Table, source_dir: Path, column_map: dict[str, str],
                     collection_year: str | None = None) -> RawFile:
    label = path.relative_to(source_dir).as_posix()
    if path.suffix.lower() == ".xlsx":
        frame, checksum = read_xlsx_file(path, table, column_map, label)
    else:
        frame, checksum = read_csv_file(path, table, column_map, label)
    return RawFile(table=table, label=label, frame=frame, sha256=checksum, collection_year=collection_year)


# --------------------------------------------------------------------------- into DuckDB
# The load reads each file straight into a DuckDB table of text (the schema's columns, blanks as "", in file order so that `rowid + 2` is the row number
# the reports give), so validation and degrading run as SQL over whole columns. The result is the
# same as `read_source_file`'s frame row for row: DuckDB's reader is used only when it
# reads the file strictly (every row with the header's number of fields) and yields one
# row per line, so nothing was skipped or joined; any other file (blank lines, quoted
# line breaks, ragged rows) takes the pandas way (`read_source_file`, `validate`, `degrade`).


@dataclass
class StagedRaw:
    table: Table
    label: str
    relation: str  # temporary table of the schema's columns as VARCHAR, in file order (rowid)
    rows: int
    sha256: str
    collection_year: str | None = None
    padded: bool = True  # False: no value starts or ends with whitespace, so none needs trimming

    def frame(self, con) -> pd.DataFrame:
        """The text as `read_source_file` gives it (for the SSDA903 rules, which read frames)."""
        cols = ", ".join(_quote(c) for c in self.table.column_names)
        # Through Arrow straight into pandas' str columns (no Python string per value); the
        # first statement completes any result left open on the connection, as con.sql needs.
        con.execute("select 1").fetchall()
        text = pd.StringDtype("pyarrow", na_value=np.nan)
        frame = con.sql(f"select {cols} from {self.relation} order by rowid").to_arrow_table().to_pandas(
            types_mapper=lambda t: text if pa.types.is_string(t) or pa.types.is_large_string(t)
            or pa.types.is_string_view(t) else None)
        frame.columns = self.table.column_names
        return frame.astype(str).reset_index(drop=True)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_source_into(con, path: Path, table: Table, source_dir: Path, column_map: dict[str, str],
                     relation: str, collection_year: str | None = None) -> StagedRaw | None:
    """Read one CSV source file into the temporary table `relation` of `con` (see above);
    None when DuckDB cannot read it exactly as `read_source_file` would (then use that)."""
    label = path.relative_to(source_dir).as_posix()
    if path.suffix.lower() != ".csv":
        return None
    # The checksum and UTF-8 scan run beside DuckDB's read (hashlib, numpy and DuckDB all
    # release the GIL); a file the scan refuses is refused before anything is kept.
    with ThreadPoolExecutor(max_workers=1) as pool:
        scanned = pool.submit(_scan, path, label)
        try:
            rows = _read_into(con, path, table, column_map, label, relation)
        finally:
            checksum, lines, padded = scanned.result()  # its SourceFileError comes first
    if rows is None:
        return None
    if rows != lines - 1:
        con.execute(f"drop table if exists {relation}")
        return None
    return StagedRaw(table, label, relation, rows, checksum, collection_year, padded)


def _read_into(con, path: Path, table: Table, column_map: dict[str, str], label: str, relation: str) -> int | None:
    """Rows DuckDB read strictly into `relation`, or None (nothing kept) when it will not."""
    header, mapping = _csv_header(path, table, column_map, label)
    position = {target: index for index, (raw_name, target) in enumerate(
        (h, mapping.get(h)) for h in header) if target is not None}
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    select = ", ".join(
        (f"coalesce(c{position[c]}, '')" if c in position else "''") + f" as {_quote(c)}"
        for c in table.column_names)
    try:
        con.execute(
            f"create or replace temp table {relation} as "
            f"select {select} "
            f"from read_csv(?, header = true, auto_detect = false, delim = ',', quote = '\"', "
            f"escape = '\"', columns = {columns}, strict_mode = true, null_padding = false, "
            f"encoding = 'utf-8')",
            [str(path)])
        return con.execute(f"select count(*) from {relation}").fetchone()[0]
    except Exception:  # anything DuckDB will not read strictly goes the pandas way
        con.execute(f"drop table if exists {relation}")
        return None
