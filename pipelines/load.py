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
from pipelines.degrade import Geography, Pseudonymiser, degrade, load_or_create_key
from pipelines.read import RawFile, SourceFileError, find_source_files, read_source_file
from pipelines.schema import (
    ETHNICITY_GROUPS, POLICE_INCIDENTS, POPULATION, SSDA903_EPISODES, SSDA903_TABLES, TABLES,
    TABLES_BY_NAME, staging_ddl,
)
from pipelines.validate import REJECTION_COLUMNS, Validated, validate

ASSETS_GEO = Path(__file__).resolve().parents[1] / "assets" / "geo"
SYNTHETIC_MARKER = "SYNTHETIC_DATA"

BUILD_BEFORE_LINKING = ("core/005_macros.sql", "core/010_ssda903.sql", "core/020_police.sql")
BUILD_AFTER_LINKING = (
    "core/040_episode.sql", "core/050_return_interview.sql", "core/060_children_placements_attendance.sql",
)


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


def _check_ssda903(raw_by_table: dict[str, list[RawFile]], validated: dict[int, Validated]) -> pd.DataFrame:
    """Run the DfE Missing-table rules per collection-year folder. Blocking findings reject the
    row under the DfE code; the others are returned to be listed."""
    groups: dict[str | None, dict[str, RawFile]] = {}
    for table in SSDA903_TABLES:
        for raw in raw_by_table.get(table.name, []):
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
        checked = validated[id(missing_raw)]
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
            own = checked.rejections
            keep = [(r, c) not in covered for r, c in zip(own["row"], own["column"])]
            checked.rejections = pd.concat([own[keep], blocking[REJECTION_COLUMNS]], ignore_index=True) \
                .sort_values(["row", "column"], kind="stable")
            checked.rejected = checked.rejected.copy()
            checked.rejected.iloc[blocking["position"].to_numpy()] = True
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
    con.execute("create table core_span_episode as select * from span_episode_frame")
    con.execute("create table core_missing_episode as select * from missing_episode_frame")
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


def load(source_dir: Path, settings: Settings, strict: bool = False, progress: bool = False) -> LoadReport:
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

        def read_and_validate(table_name: str, path: Path, year: str | None) -> tuple[RawFile, Validated]:
            base = source_dir if path.is_relative_to(source_dir) else path.parent
            try:
                raw = read_source_file(path, TABLES_BY_NAME[table_name], base, settings_maps.get(table_name, {}),
                                       year)
            except SourceFileError as exc:
                raise LoadError(str(exc), report) from exc
            return raw, validate(raw)

        # First the small tables others depend on: SSDA903 (the DfE rules read its tables
        # together) and homes (police records are attributed to homes by postcode).
        early: dict[str, list[tuple[RawFile, Validated]]] = {}
        for table_name in [t.name for t in SSDA903_TABLES] + ["homes"]:
            for path, year in found.get(table_name, []):
                early.setdefault(table_name, []).append(read_and_validate(table_name, path, year))
        report.findings = _check_ssda903(
            {name: [raw for raw, _ in pairs] for name, pairs in early.items()},
            {id(raw): checked for pairs in early.values() for raw, checked in pairs})
        homes_by_postcode: dict[str, str] = {}
        for _, checked in early.get("homes", []):
            homes = checked.accepted
            postcodes = geocode.normalise_postcode(homes["postcode"].fillna(""))
            homes_by_postcode.update({p: u for p, u in zip(postcodes, homes["urn"]) if isinstance(p, str)})

        pseudonymiser = Pseudonymiser(load_or_create_key(db_path))
        geography = _geography(source_dir, settings)
        previous_log = _previous_load_log(db_path)
        new_path = db_path.with_name(db_path.name + ".new")
        for leftover in (new_path, new_path.with_name(new_path.name + ".wal")):
            leftover.unlink(missing_ok=True)
        con = duckdb.connect(str(new_path))
        rejections: list[pd.DataFrame] = []
        try:
            # Then every file in turn: read, validate, degrade, stage, and let it go, so
            # memory holds one file at a time however large the folder.
            for table in TABLES:
                con.execute(staging_ddl(table))
                for index, (path, year) in enumerate(found.get(table.name, [])):
                    raw, checked = (early[table.name][index] if table.name in early
                                    else read_and_validate(table.name, path, year))
                    collection_year = (str(ssda903_rules.parse_collection_year(raw.collection_year))
                                       if raw.collection_year else None)
                    accepted = checked.accepted
                    frame, unknown = degrade(raw.table, accepted, pseudonymiser, geography, raw.label,
                                             collection_year, _extra_columns(checked, geography, homes_by_postcode))
                    _write_frame(con, f"stg_{table.name}", frame)
                    if len(checked.rejections):
                        rejections.append(checked.rejections)
                    report.files.append(FileReport(
                        file=raw.label, table=raw.table.name, collection_year=collection_year,
                        rows_read=len(checked.frame), rows_loaded=len(accepted),
                        rows_rejected=int(checked.rejected.sum()), unknown_postcodes=unknown, sha256=raw.sha256))
                    del raw, checked, accepted, frame
                    steps.update()
                early.pop(table.name, None)
            report.rejections = (pd.concat(rejections, ignore_index=True) if rejections
                                 else pd.DataFrame(columns=REJECTION_COLUMNS))
            if strict and len(report.rejections):
                raise LoadError(f"--strict: {len(report.rejections):,} rows break a rule; nothing was loaded",
                                report)
            _write_reference_tables(con)
            _write_areas(con, geography, _geography_folder(source_dir))
            steps.update()
            for step in BUILD_BEFORE_LINKING:
                con.execute(queries.build_sql(step))
            _assign_episodes(con)
            for step in (*BUILD_AFTER_LINKING, *mart_steps()):
                con.execute(queries.build_sql(step))
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
    _write_frame(con, "meta", pd.DataFrame({"key": ["load_id", "loaded_at", "source", "synthetic", "schema_version"],
                                            "value": [report.load_id, now.isoformat(), report.source,
                                                      "true" if synthetic else "false", "1"]}))
