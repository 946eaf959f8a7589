"""`mfhc load`: read → validate → degrade/pseudonymise → link → store, swapped in atomically.

The new store is built in `<db>.new` beside the live one and only `os.replace`d over it
once complete and checkpointed, so a load that fails, or is killed at any point, leaves
the previous database exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from tqdm import tqdm

import queries
from pipelines import geocode, ssda903_rules
from pipelines.config import Settings
from pipelines.degrade import Geography, KeyTables, Pseudonymiser, degrade, degrade_in_duckdb, load_or_create_key
from pipelines.read import RawFile, SourceFileError, find_source_files, read_source_file, read_source_into
from pipelines.schema import (
    ETHNICITY_GROUPS, POLICE_INCIDENTS, POPULATION, SSDA903_EPISODES, SSDA903_TABLES, TABLES,
    TABLES_BY_NAME, staging_ddl,
)
from pipelines.store import build_fingerprint
from pipelines.validate import REJECTION_COLUMNS, CheckedInDuckDB, Validated, validate, validate_in_duckdb

ASSETS_GEO = Path(__file__).resolve().parents[1] / "assets" / "geo"
SYNTHETIC_MARKER = "SYNTHETIC_DATA"

BUILD_BEFORE_LINKING = ("core/005_macros.sql", "core/010_ssda903.sql", "core/020_police.sql")
BUILD_AFTER_LINKING = (
    "core/040_episode.sql", "core/050_return_interview.sql", "core/060_children_placements_attendance.sql",
)
# The staged rows (stg_<table>) and the linking's intermediate tables are temporary tables
# of the build connection: only the build reads them, so they are not kept in the store (at
# national scale the store is a third smaller, 550 MB against 855 MB; the load takes about
# as long, the compression saved being spent holding them in memory or spilling them).
# `keep_staging` (`mfhc load --keep-staging`) copies them into the store for an audit of
# the linking. The interviews' staging table is kept as a view of
# core_return_interview anyway (queries/core/050_return_interview.sql).
LINKING_TABLES = (
    "core_ssda903_header", "core_ssda903_episode", "core_ssda903_missing", "core_ssda903_child",
    "core_person_child", "core_police_island", "core_police_span", "core_span_missing_edge",
    "core_span_episode", "core_missing_episode", "core_incident_episode", "core_child_upn",
)
# Each released (copied into the store first with keep_staging) as soon as the build step
# that last reads it is done, so the later steps have its memory: the staged incidents alone
# are about half a gigabyte at national scale. What is left is released at the end.
RELEASED_AFTER = {
    "core/040_episode.sql": ("stg_police_incidents", "core_police_island", "core_police_span",
                             "core_span_episode", "core_span_missing_edge", "stg_ssda903_uasc"),
    "core/060_children_placements_attendance.sql": (
        "stg_ssda903_header", "stg_ssda903_episodes", "stg_ssda903_missing", "stg_homes", "stg_attendance",
        "stg_child_xref", "stg_children_missing_education", "core_ssda903_header", "core_ssda903_episode",
        "core_ssda903_missing", "core_person_child", "core_missing_episode", "core_incident_episode"),
}


# The build connection: DuckDB's own memory (buffer pool, joins, sorts, temporary tables)
# capped so the whole process, pandas frames and postcode directory included, stays under
# 4 GB (decimal) at national scale; beyond it DuckDB spills to `<db>.new.tmp`. A smaller
# default (DuckDB takes 80 % of the machine's or container's memory) is kept. Every core
# is used (DuckDB's default); insertion order is kept, so the stored row order is as before.
BUILD_MEMORY_LIMIT = 2_800_000_000  # bytes
_SIZE_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
               "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}


def _connect_for_build(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    shown = con.execute("select current_setting('memory_limit')").fetchone()[0]
    match = re.fullmatch(r"([\d.]+)\s*(\w+)", str(shown).strip())
    default = float(match[1]) * _SIZE_UNITS.get(match[2], 0) if match else 0
    if not default or default > BUILD_MEMORY_LIMIT:
        con.execute(f"set memory_limit = '{BUILD_MEMORY_LIMIT}B'")
    return con


def mart_steps() -> list[str]:
    """Every queries/marts/*.sql, in file-name order (each page may add its own)."""
    return sorted(f"marts/{p.name}" for p in (queries.QUERIES_DIR / "marts").glob("*.sql"))


class LoadError(Exception):
    """A data error that stops the load (exit status 1); the old store stays as it was."""

    def __init__(self, message: str, report: "LoadReport | None" = None):
        super().__init__(message)
        self.report = report


@dataclass
class FileReport:
    file: str
    table: str
    collection_year: str | None
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    unknown_postcodes: int
    sha256: str


@dataclass
class LoadReport:
    load_id: str
    source: str
    files: list[FileReport] = field(default_factory=list)
    rejections: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECTION_COLUMNS))
    findings: pd.DataFrame = field(default_factory=pd.DataFrame)
    sources_missing: list[str] = field(default_factory=list)
    episodes: int = 0
    db_path: Path | None = None

    def summary_lines(self) -> list[str]:
        lines = [f"load {self.load_id} from {self.source}"]
        width = max([len(f.file) for f in self.files] + [4])
        lines.append(f"  {'file'.ljust(width)}  {'read':>9} {'loaded':>9} {'rejected':>9}")
        for f in self.files:
            lines.append(f"  {f.file.ljust(width)}  {f.rows_read:>9,} {f.rows_loaded:>9,} {f.rows_rejected:>9,}"
                         + (f"  ({f.unknown_postcodes:,} postcodes not located)" if f.unknown_postcodes else ""))
        if self.sources_missing:
            lines.append("  not supplied: " + ", ".join(self.sources_missing))
        if len(self.rejections):
            lines.append(f"  {len(self.rejections):,} rule breaks; first ones:")
            for r in self.rejections.head(20).itertuples(index=False):
                lines.append(f"    {r.file} row {r.row}, column {r.column}: [{r.rule}] {r.message}")
        if len(self.findings):
            lines.append(f"  {len(self.findings):,} SSDA903 findings that do not stop a row loading")
        if self.episodes:
            lines.append(f"  {self.episodes:,} episodes in the store")
        return lines


class _PandasFile:
    """A file read, validated and degraded in pandas (xlsx, or a CSV DuckDB cannot read
    exactly as pandas does)."""

    def __init__(self, raw: RawFile, checked: Validated):
        self.raw, self.checked = raw, checked
        self.table, self.label, self.collection_year = raw.table, raw.label, raw.collection_year
        self.sha256, self.rows_read = raw.sha256, len(checked.frame)
        self.frame = raw.frame

    @property
    def rejections(self) -> pd.DataFrame:
        return self.checked.rejections

    def block(self, rejections: pd.DataFrame, positions: np.ndarray) -> None:
        self.checked.rejections = rejections
        self.checked.rejected = self.checked.rejected.copy()
        self.checked.rejected.iloc[positions] = True

    def accepted(self, con, columns: list[str]) -> pd.DataFrame:
        return self.checked.accepted[columns]

    def stage(self, con, pseudonymiser, keys, geography, homes_by_postcode, collection_year) -> tuple[int, int]:
        accepted = self.checked.accepted
        frame, unknown = degrade(self.table, accepted, pseudonymiser, geography, self.label, collection_year,
                                 _extra_columns(self.checked, geography, homes_by_postcode))
        _write_frame(con, f"stg_{self.table.name}", frame)
        return len(accepted), unknown

    def release(self, con) -> None:
        self.raw = self.checked = self.frame = None


class _DuckDBFile:
    """A CSV read into DuckDB and validated and degraded there as SQL."""

    def __init__(self, staged, checked: CheckedInDuckDB, frame: pd.DataFrame | None):
        self.checked = checked
        self.table, self.label, self.collection_year = checked.table, checked.label, checked.collection_year
        self.sha256, self.rows_read = staged.sha256, checked.rows_read
        self.rejections = checked.rejections
        self.frame = frame  # raw text, kept only for the SSDA903 rules

    def block(self, rejections: pd.DataFrame, positions: np.ndarray) -> None:
        self.rejections = rejections  # every blocked row has its finding among the rejections

    def _accepted_sql(self, con) -> str:
        rows = pd.DataFrame({"row": np.unique(self.rejections["row"].to_numpy(dtype=np.int64))})
        name = self.checked.relation + "_rejected"
        con.register("incoming_rejected", rows)
        con.execute(f"create or replace temp table {name} as select row from incoming_rejected")
        con.unregister("incoming_rejected")
        return f"select * from {self.checked.relation} where row not in (select row from {name})"

    def accepted(self, con, columns: list[str]) -> pd.DataFrame:
        cols = ", ".join(f'"v_{c}" as "{c}"' for c in columns)
        return con.execute(f"select {cols} from ({self._accepted_sql(con)}) order by row").df()

    def stage(self, con, pseudonymiser, keys, geography, homes_by_postcode, collection_year) -> tuple[int, int]:
        accepted_sql = self._accepted_sql(con)
        loaded = self.rows_read - int(self.rejections["row"].nunique())
        extra = _extra_sql(con, self.checked, geography, homes_by_postcode)
        unknown = degrade_in_duckdb(con, self.checked, accepted_sql, keys, pseudonymiser, geography,
                                    collection_year, extra)
        return loaded, unknown

    def release(self, con) -> None:
        con.execute(f"drop table if exists {self.checked.relation}")
        con.execute(f"drop table if exists {self.checked.relation}_rejected")
        self.frame = None


def _extra_sql(con, checked: CheckedInDuckDB, geography: Geography, homes_by_postcode: dict[str, str]) -> dict:
    """`_extra_columns` as SQL over the accepted rows `a`, from lookups of distinct values."""
    relation = checked.relation
    if checked.table is POLICE_INCIDENTS:
        values = con.execute(f'select distinct "v_missing_from_postcode" from {relation} '
                             f'where "v_missing_from_postcode" is not null').df().iloc[:, 0]
        values = pd.Series(values.to_numpy(dtype=object), dtype=object)
        urn = geocode.normalise_postcode(values).map(homes_by_postcode)
        con.register("incoming_homes", pd.DataFrame({"value": values.astype("string"),
                                                     "urn": pd.Series(urn, dtype="string")}))
        con.execute("create or replace temp table home_by_postcode as "
                    "select value::varchar as value, urn::varchar as urn from incoming_homes")
        con.unregister("incoming_homes")
        return {
            "home_urn": ("case when a.\"v_missing_from_type\" = 'childrens_home' then hp.urn end",
                         "left join home_by_postcode as hp on hp.value = a.\"v_missing_from_postcode\""),
            "safe_and_well_reason_given": ("a.\"v_safe_and_well_not_done_reason\" is not null", ""),
        }
    if checked.table is SSDA903_EPISODES:
        pairs = con.execute(f'select distinct coalesce("v_HOME_POST", \'\') as home, '
                            f'coalesce("v_PL_POST", \'\') as placement from {relation}').df()
        home = pd.Series(pairs["home"].to_numpy(dtype=object), dtype=object)
        placement = pd.Series(pairs["placement"].to_numpy(dtype=object), dtype=object)
        miles = geocode.distance_miles(home, placement, geography.directory)
        con.register("incoming_miles", pd.DataFrame({"home": home.astype("string"),
                                                     "placement": placement.astype("string"),
                                                     "miles": miles.astype("Float64")}))
        con.execute("create or replace temp table placement_miles as select home::varchar as home, "
                    "placement::varchar as placement, miles::double as miles from incoming_miles")
        con.unregister("incoming_miles")
        return {"placement_distance_miles": (
            "pm.miles", "left join placement_miles as pm on pm.home = coalesce(a.\"v_HOME_POST\", '') "
                        "and pm.placement = coalesce(a.\"v_PL_POST\", '')")}
    return {}


@contextmanager
def _exclusive(db_path: Path):
    db_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = db_path.with_name(db_path.name + ".lock")
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LoadError(f"another load into {db_path} is running") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check_ssda903(files_by_table: dict[str, list]) -> pd.DataFrame:
    """Run the DfE Missing-table rules per collection-year folder. Blocking findings reject the
    row under the DfE code; the others are returned to be listed."""
    groups: dict[str | None, dict[str, object]] = {}
    for table in SSDA903_TABLES:
        for raw in files_by_table.get(table.name, []):
            short = table.name.removeprefix("ssda903_")
            groups.setdefault(raw.collection_year, {})[short] = raw
    years_missing = {}
    for folder, files in groups.items():
        if folder and "missing" in files:
            try:
                years_missing[ssda903_rules.parse_collection_year(folder)] = files["missing"].frame
            except ValueError:
                pass
    listed = []
    for folder, files in groups.items():
        if "missing" not in files:
            continue
        frames = {name: raw.frame for name, raw in files.items()}
        try:
            year = (ssda903_rules.parse_collection_year(folder) if folder
                    else ssda903_rules.infer_collection_year(frames))
        except ValueError as exc:
            raise LoadError(f"{files['missing'].label}: {exc}") from exc
        previous = years_missing.get(year - 1)
        if previous is not None:
            frames["missing_last"] = previous  # rule 576 compares with last year's return
        missing_raw = files["missing"]
        findings = ssda903_rules.check_missing(frames, year)
        if not findings:
            continue
        found = pd.DataFrame([{
            "file": missing_raw.label, "row": f.row + 2, "column": ",".join(f.columns), "rule": f.code,
            "message": f.message, "blocking": f.blocking, "position": f.row, "collection_year": year,
        } for f in findings])
        blocking = found[found["blocking"]]
        if len(blocking):
            # A DfE finding replaces mfhc's own rejection of the same row and column.
            covered = {(r, c) for r, cols in zip(blocking["row"], blocking["column"]) for c in cols.split(",")}
            own = missing_raw.rejections
            keep = [(r, c) not in covered for r, c in zip(own["row"], own["column"])]
            missing_raw.block(pd.concat([own[keep], blocking[REJECTION_COLUMNS]], ignore_index=True)
                              .sort_values(["row", "column"], kind="stable"), blocking["position"].to_numpy())
        listed.append(found[~found["blocking"]])
    columns = REJECTION_COLUMNS + ["collection_year"]
    if not listed:
        return pd.DataFrame(columns=columns)
    return pd.concat(listed, ignore_index=True)[columns]


def _geography(source_dir: Path, settings: Settings) -> Geography:
    locator = geocode.AreaLocator.from_folder(_geography_folder(source_dir))
    directory = (geocode.PostcodeDirectory.from_onspd(settings.onspd_path) if settings.onspd_path
                 else geocode.PostcodeDirectory.default())
    return Geography(directory=directory, locator=locator)


def _extra_columns(checked: Validated, geography: Geography, homes_by_postcode: dict[str, str]) -> dict:
    frame = checked.accepted
    if checked.table is POLICE_INCIDENTS:
        postcode = geocode.normalise_postcode(frame["missing_from_postcode"].fillna(""))
        home = postcode.map(homes_by_postcode).where(frame["missing_from_type"] == "childrens_home")
        return {
            "home_urn": home,
            "safe_and_well_reason_given": frame["safe_and_well_not_done_reason"].notna(),
        }
    if checked.table is SSDA903_EPISODES:
        return {"placement_distance_miles": geocode.distance_miles(
            frame["HOME_POST"].fillna(""), frame["PL_POST"].fillna(""), geography.directory)}
    return {}


def _assign_episodes(con: duckdb.DuckDBPyConnection) -> None:
    """Connected components of police spans and SSDA903 Missing rows joined by overlap."""
    n_spans = con.execute("select count(*) from core_police_span").fetchone()[0]
    n_missing = con.execute("select count(*) from core_ssda903_missing").fetchone()[0]
    edges = con.execute("select span_id, missing_id from core_span_missing_edge").fetchnumpy()
    n = n_spans + n_missing
    rows = np.asarray(edges["span_id"], dtype=np.int64)
    cols = np.asarray(edges["missing_id"], dtype=np.int64) + n_spans
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False) if n else (0, np.zeros(0, dtype=np.int64))
    span_episode = pd.DataFrame({"span_id": np.arange(n_spans, dtype=np.int64),
                                 "episode_id": labels[:n_spans].astype(np.int64)})
    missing_episode = pd.DataFrame({"missing_id": np.arange(n_missing, dtype=np.int64),
                                    "episode_id": labels[n_spans:].astype(np.int64)})
    con.register("span_episode_frame", span_episode)
    con.register("missing_episode_frame", missing_episode)
    con.execute("create temp table core_span_episode as select * from span_episode_frame")
    con.execute("create temp table core_missing_episode as select * from missing_episode_frame")
    con.unregister("span_episode_frame")
    con.unregister("missing_episode_frame")


def _geography_folder(source_dir: Path) -> Path:
    folder = source_dir / "geography"
    if (folder / "wards.geojson").exists() and (folder / "lsoas.geojson").exists():
        return folder
    return ASSETS_GEO


def _write_areas(con, geography: Geography, folder: Path) -> None:
    """Boundaries the maps draw (WGS84 GeoJSON per area), each LSOA's ward, and IMD 2019."""
    import json

    import geopandas as gpd

    rows = []
    for level, frame, file_name, name_pattern in (
        ("ward", geography.locator.wards, "wards.geojson", r"WD\d\dNM"),
        ("lsoa", geography.locator.lsoas, "lsoas.geojson", r"LSOA\d\dNM"),
    ):
        names = gpd.read_file(folder / file_name, ignore_geometry=True)
        name_column = next((c for c in names.columns if re.fullmatch(name_pattern, str(c), re.IGNORECASE)), None)
        code_column = next(c for c in names.columns if re.fullmatch(name_pattern[:-2] + "CD", str(c), re.IGNORECASE))
        name_of = dict(zip(names[code_column].astype(str), names[name_column].astype(str))) if name_column else {}
        wgs84 = frame.to_crs("EPSG:4326")
        for code, geometry in zip(wgs84["code"], wgs84.geometry):
            rows.append({"level": level, "code": str(code), "name": name_of.get(str(code), str(code)),
                         "geojson": json.dumps(geometry.__geo_interface__, separators=(",", ":"))})
    con.execute("create table ref_area (level varchar, code varchar, name varchar, geojson varchar)")
    _write_frame(con, "ref_area", pd.DataFrame(rows))

    points = geography.locator.lsoas.copy()
    points["geometry"] = points.geometry.representative_point()
    joined = gpd.sjoin(points, geography.locator.wards, how="left", predicate="within")
    lsoa_ward = pd.DataFrame({"lsoa": joined["code_left"].astype(str), "ward": joined["code_right"].astype("string")})
    con.execute("create table ref_lsoa_ward (lsoa varchar, ward varchar)")
    _write_frame(con, "ref_lsoa_ward", lsoa_ward.drop_duplicates("lsoa"))

    imd_path = folder / "imd.csv" if (folder / "imd.csv").exists() else ASSETS_GEO / "imd2019_lsoa11.csv"
    con.execute("create table ref_imd (lsoa varchar, imd_rank integer, imd_decile integer)")
    if imd_path.exists():
        imd = pd.read_csv(imd_path, dtype=str)
        code = next(c for c in imd.columns if c.lower().startswith("lsoa") and c.lower().endswith("code"))
        _write_frame(con, "ref_imd", pd.DataFrame({"lsoa": imd[code], "imd_rank": imd["imd_rank"].astype(int),
                                                   "imd_decile": imd["imd_decile"].astype(int)}))


def _write_reference_tables(con) -> None:
    groups = pd.DataFrame([(code, group) for group, codes in ETHNICITY_GROUPS.items() for code in codes],
                          columns=["code", "ethnicity_group"])
    con.execute("create table ref_ethnicity_group (code varchar primary key, ethnicity_group varchar)")
    _write_frame(con, "ref_ethnicity_group", groups)


def _previous_load_log(db_path: Path) -> pd.DataFrame | None:
    if not db_path.exists():
        return None
    try:
        with duckdb.connect(str(db_path), read_only=True) as old:
            return old.execute("select * from load_log").df()
    except duckdb.Error:
        return None


def _write_frame(con, table: str, frame: pd.DataFrame) -> None:
    con.register("incoming_frame", frame.reset_index(drop=True))
    con.execute(f"insert into {table} by name select * from incoming_frame")  # table names are ours
    con.unregister("incoming_frame")


def _release(con, names, keep: bool) -> None:
    """Drop these temporary tables of the build (staged rows, linking tables); with `keep`,
    copy each into the store first."""
    database = con.execute("select current_database()").fetchone()[0]
    temporary = {r[0] for r in con.execute(
        "select table_name from duckdb_tables() where temporary").fetchall()}
    if "stg_police_incidents" in names:
        con.execute("drop view if exists temp.main.core_police_incident")  # a view of it
    for name in names:
        if name in temporary:  # names are ours
            if keep:
                con.execute(f'create table "{database}".main.{name} as select * from temp.main.{name}')
            con.execute(f"drop table temp.main.{name}")


def load(source_dir: Path, settings: Settings, strict: bool = False, progress: bool = False,
         keep_staging: bool = False) -> LoadReport:
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise LoadError(f"{source_dir}: no such source folder")
    db_path = Path(settings.db_path)
    report = LoadReport(load_id=uuid.uuid4().hex[:12], source=source_dir.name, db_path=db_path)
    found = find_source_files(source_dir)
    if not found:
        raise LoadError(f"{source_dir}: no source files found (expected police_incidents.csv, ssda903/, ...)")
    if POPULATION.name not in found and (ASSETS_GEO / "population.csv").exists():
        found[POPULATION.name] = [(ASSETS_GEO / "population.csv", None)]
    report.sources_missing = [t.path for t in TABLES if t.name not in found]

    with _exclusive(db_path):
        files_total = sum(len(paths) for paths in found.values())
        steps = tqdm(total=files_total + 3, desc="load", unit="step", disable=not progress)
        settings_maps = settings.column_maps
        previous_log = _previous_load_log(db_path)
        new_path = db_path.with_name(db_path.name + ".new")
        for leftover in (new_path, new_path.with_name(new_path.name + ".wal")):
            leftover.unlink(missing_ok=True)
        con = _connect_for_build(new_path)
        rejections: list[pd.DataFrame] = []
        try:
            def read_and_validate(table_name: str, path: Path, year: str | None, index: int):
                table = TABLES_BY_NAME[table_name]
                base = source_dir if path.is_relative_to(source_dir) else path.parent
                column_map = settings_maps.get(table_name, {})
                try:
                    staged = read_source_into(con, path, table, base, column_map, f"raw_{table_name}_{index}", year)
                    if staged is None:
                        raw = read_source_file(path, table, base, column_map, year)
                        return _PandasFile(raw, validate(raw))
                except SourceFileError as exc:
                    raise LoadError(str(exc), report) from exc
                frame = staged.frame(con) if table in SSDA903_TABLES else None
                checked = validate_in_duckdb(con, staged, f"typed_{table_name}_{index}")
                con.execute(f"drop table if exists {staged.relation}")
                return _DuckDBFile(staged, checked, frame)

            # First the small tables others depend on: SSDA903 (the DfE rules read its tables
            # together) and homes (police records are attributed to homes by postcode).
            early: dict[str, list] = {}
            for table_name in [t.name for t in SSDA903_TABLES] + ["homes"]:
                for index, (path, year) in enumerate(found.get(table_name, [])):
                    early.setdefault(table_name, []).append(read_and_validate(table_name, path, year, index))
            report.findings = _check_ssda903(early)
            homes_by_postcode: dict[str, str] = {}
            for item in early.get("homes", []):
                homes = item.accepted(con, ["postcode", "urn"])
                postcodes = geocode.normalise_postcode(homes["postcode"].fillna(""))
                homes_by_postcode.update({p: u for p, u in zip(postcodes, homes["urn"]) if isinstance(p, str)})

            key = load_or_create_key(db_path)
            pseudonymiser = Pseudonymiser(key)
            keys = KeyTables(con, key)
            geography = _geography(source_dir, settings)
            # Then every file in turn: read, validate, degrade, stage, and let it go, so
            # memory holds one file at a time however large the folder.
            for table in TABLES:
                con.execute(staging_ddl(table, temporary=True))
                for index, (path, year) in enumerate(found.get(table.name, [])):
                    item = (early[table.name][index] if table.name in early
                            else read_and_validate(table.name, path, year, index))
                    collection_year = (str(ssda903_rules.parse_collection_year(item.collection_year))
                                       if item.collection_year else None)
                    loaded, unknown = item.stage(con, pseudonymiser, keys, geography, homes_by_postcode,
                                                 collection_year)
                    if len(item.rejections):
                        rejections.append(item.rejections)
                    report.files.append(FileReport(
                        file=item.label, table=item.table.name, collection_year=collection_year,
                        rows_read=item.rows_read, rows_loaded=loaded,
                        rows_rejected=item.rows_read - loaded, unknown_postcodes=unknown, sha256=item.sha256))
                    item.release(con)
                    del item
                    steps.update()
                early.pop(table.name, None)
            for namespace in list(keys.made):
                con.execute(f"drop table if exists {keys.table(namespace)}")
            report.rejections = (pd.concat(rejections, ignore_index=True) if rejections
                                 else pd.DataFrame(columns=REJECTION_COLUMNS))
            if strict and len(report.rejections):
                raise LoadError(f"--strict: {len(report.rejections):,} rows break a rule; nothing was loaded",
                                report)
            _write_reference_tables(con)
            _write_areas(con, geography, _geography_folder(source_dir))
            steps.update()
            # Every file is staged (the raw tables' rowid is the file's row order, so the
            # reads keep insertion order). The build's tables are sets: nothing reads their
            # row order, and a table that needs one (mart_episode, for its zone maps) sorts
            # with ORDER BY, which this setting keeps. Not keeping it lets DuckDB write and
            # join in parallel without restoring the order of its input.
            con.execute("set preserve_insertion_order = false")
            # The escalation rule's days, for mart_episode's windows (queries/marts/020).
            con.execute("set variable escalation_days = ?", [settings.escalation.days])
            for step in BUILD_BEFORE_LINKING:
                con.execute(queries.build_sql(step))
            _assign_episodes(con)
            for step in (*BUILD_AFTER_LINKING, *mart_steps()):
                con.execute(queries.build_sql(step))
                _release(con, RELEASED_AFTER.get(step, ()), keep_staging)
            _release(con, [f"stg_{t.name}" for t in TABLES] + list(LINKING_TABLES), keep_staging)
            con.execute("set preserve_insertion_order = true")  # the frames of _write_meta in their order
            steps.update()
            _write_meta(con, report, previous_log, source_dir)
            report.episodes = con.execute("select count(*) from fct_episode").fetchone()[0]
            con.execute("checkpoint")
        except BaseException:
            con.close()
            new_path.unlink(missing_ok=True)
            new_path.with_name(new_path.name + ".wal").unlink(missing_ok=True)
            raise
        con.close()
        os.replace(new_path, db_path)
        _fsync_dir(db_path.parent)
        steps.update()
        steps.close()
    return report


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_meta(con, report: LoadReport, previous_log: pd.DataFrame | None, source_dir: Path) -> None:
    now = dt.datetime.now().replace(microsecond=0)
    con.execute("""
        create table load_log (
            load_id varchar, loaded_at timestamp, source varchar, file varchar, source_table varchar,
            collection_year varchar, rows_read bigint, rows_loaded bigint, rows_rejected bigint,
            unknown_postcodes bigint, sha256 varchar
        )""")
    if previous_log is not None and len(previous_log):
        _write_frame(con, "load_log", previous_log)
    log = pd.DataFrame([{
        "load_id": report.load_id, "loaded_at": now, "source": report.source, "file": f.file,
        "source_table": f.table, "collection_year": f.collection_year, "rows_read": f.rows_read,
        "rows_loaded": f.rows_loaded, "rows_rejected": f.rows_rejected,
        "unknown_postcodes": f.unknown_postcodes, "sha256": f.sha256,
    } for f in report.files])
    if len(log):
        _write_frame(con, "load_log", log)

    con.execute("create table rejected_rows (load_id varchar, file varchar, row bigint, "
                "\"column\" varchar, rule varchar, message varchar)")
    if len(report.rejections):
        _write_frame(con, "rejected_rows", report.rejections.assign(load_id=report.load_id))
    con.execute("create table ssda903_findings (load_id varchar, file varchar, row bigint, \"column\" varchar, "
                "rule varchar, message varchar, collection_year varchar)")
    if len(report.findings):
        _write_frame(con, "ssda903_findings",
                     report.findings.assign(load_id=report.load_id, collection_year=report.findings[
                         "collection_year"].astype(str)))
    con.execute("create table source_status (source_file varchar, supplied boolean)")
    supplied = {TABLES_BY_NAME[f.table].path for f in report.files}
    _write_frame(con, "source_status", pd.DataFrame(
        {"source_file": [t.path for t in TABLES], "supplied": [t.path in supplied for t in TABLES]}))
    synthetic = (source_dir / SYNTHETIC_MARKER).exists()
    con.execute("create table meta (key varchar primary key, value varchar)")
    _write_frame(con, "meta", pd.DataFrame({"key": ["load_id", "loaded_at", "source", "synthetic", "store_build"],
                                            "value": [report.load_id, now.isoformat(), report.source,
                                                      "true" if synthetic else "false", build_fingerprint()]}))
