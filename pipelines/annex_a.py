"""`mfhc export annex-a`: the missing columns of Ofsted's Annex A list of children in care.

Figures come from the store (`annex_a_children` in queries/metrics/annex_a.sql); the
child's reference, which the store does not hold, comes back from the SSDA903 files of
the source folder the authority already has (`pipelines.reidentify`). The workbook is
written with `pipelines.spreadsheet.xlsx_bytes`, so no cell is ever a formula.
Column wording and choices: docs/exports.md.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines import reidentify
from pipelines.config import Settings
from pipelines.degrade import Pseudonymiser
from pipelines.schema import SSDA903_TABLES
from pipelines.spreadsheet import xlsx_bytes
from pipelines.store import read_only, run_named

# Ofsted's column headings, as in the Annex A child-level data template (list of
# children in care); see docs/exports.md for where the wording comes from.
CHILD_ID = "Child Unique ID"
MISSING = "Number of Episodes the Child has been 'Missing' from their Placement in the last 12 months"
ABSENT = "Number of Episodes the Child has been 'Absent' from their Placement in the last 12 months"
OFFERED = "Was the child offered a Return Interview after their last missing episode (Y/N)?"
ACCEPTED = "Did the child accept a Return Interview after their last missing episode (Y/N)?"
COLUMNS = (CHILD_ID, MISSING, ABSENT, OFFERED, ACCEPTED)
WINDOW_MONTHS = 12
SHEET = "Children in care - missing"
UNMATCHED_SHEET = "Not re-identified"
NOTES_SHEET = "Notes"


@dataclass
class AnnexA:
    as_at: dt.date
    window_start: dt.date
    children: pd.DataFrame  # COLUMNS, one row per re-identified child
    unmatched: pd.DataFrame  # store children the source folder does not name (pseudonymised key prefix)
    synthetic: bool

    @property
    def unmatched_count(self) -> int:
        return len(self.unmatched)


def window_start(as_at: dt.date) -> dt.date:
    """First day of the 12 months ending on `as_at` (both ends inclusive), as the SQL does."""
    return (pd.Timestamp(as_at) - pd.DateOffset(months=WINDOW_MONTHS) + pd.Timedelta(days=1)).date()


def _yes_no(value) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return "Y" if bool(value) else "N"


def build(as_at: dt.date, source_dir: Path, settings: Settings) -> AnnexA:
    """The Annex A rows; raises ReidentifyError (nothing written) when the source folder,
    the key or the match between them is not usable, StoreMissing without a store."""
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise reidentify.ReidentifyError(f"{source_dir}: no such source folder")
    if not reidentify.ssda903_files_present(source_dir):
        raise reidentify.ReidentifyError(
            f"{source_dir.name}: no SSDA903 file (ssda903/header.csv, episodes.csv or missing.csv): "
            "the children in care cannot be named")
    with read_only(settings.db_path) as con:
        figures = run_named(con, "annex_a_children", {"as_at": as_at})
        children = reidentify.store_children(con)
        meta = dict(con.execute("select key, value from meta").fetchall())
    pseudonymiser = Pseudonymiser(reidentify.load_key(settings.db_path))
    occurrences = reidentify.source_occurrences(source_dir, settings, pseudonymiser, tables=SSDA903_TABLES)
    occurrences = occurrences[occurrences["namespace"] == "child"]
    reidentify.check_key(occurrences, children)

    reference_of = occurrences.drop_duplicates("key").set_index("key")["reference"]
    figures["reference"] = figures["child_id"].map(reference_of)
    # Plain objects, so "no answer" stays None (a blank cell), never NaN.
    figures["offered"] = pd.Series([_yes_no(v) for v in figures["rhi_offered"]], index=figures.index, dtype=object)
    figures["accepted"] = pd.Series([_yes_no(v) for v in figures["rhi_accepted"]], index=figures.index,
                                    dtype=object)
    figures = figures.astype({"missing_episodes": "int64", "away_episodes": "int64"})
    matched = figures[figures["reference"].notna()]
    unmatched = figures[figures["reference"].isna()]

    rows = pd.DataFrame({
        CHILD_ID: matched["reference"],
        MISSING: matched["missing_episodes"],
        ABSENT: matched["away_episodes"],
        OFFERED: matched["offered"],
        ACCEPTED: matched["accepted"],
    }).sort_values(CHILD_ID, kind="stable").reset_index(drop=True)
    unmatched_rows = pd.DataFrame({
        "Pseudonymised key (as the dashboard shows it)": unmatched["child_id"].str[:8],
        MISSING: unmatched["missing_episodes"],
        ABSENT: unmatched["away_episodes"],
        OFFERED: unmatched["offered"],
        ACCEPTED: unmatched["accepted"],
    }).reset_index(drop=True)
    return AnnexA(as_at=as_at, window_start=window_start(as_at), children=rows, unmatched=unmatched_rows,
                  synthetic=meta.get("synthetic") == "true")


def notes(result: AnnexA) -> pd.DataFrame:
    lines = [
        ("As at", result.as_at.isoformat()),
        ("Period counted", f"{result.window_start.isoformat()} to {result.as_at.isoformat()} (both days included)"),
        ("Children listed", str(len(result.children))),
        ("Children in the store not found in the source folder",
         f"{result.unmatched_count} (listed by pseudonymised key on the sheet '{UNMATCHED_SHEET}': their "
         "references are not in the SSDA903 files given)" if result.unmatched_count else "0"),
        ("'Missing' column", "episodes missing from care (police missing or absent, SSDA903 M) starting in the period"),
        ("'Absent' column", "episodes away from placement without authorisation (SSDA903 A) starting in the period"),
        ("Return Interview columns", "the child's last missing episode in the period; blank: no missing episode "
                                     "(both) or no interview offered (accepted)"),
        ("Definitions", "docs/exports.md in the mfhc project"),
    ]
    if result.synthetic:
        lines.insert(0, ("SYNTHETIC DATA", "made by mfhc generate: not real children"))
    return pd.DataFrame(lines, columns=["Item", "Value"])


def workbook(result: AnnexA) -> bytes:
    sheets = {SHEET: result.children, NOTES_SHEET: notes(result)}
    if result.unmatched_count:
        sheets[UNMATCHED_SHEET] = result.unmatched
    return xlsx_bytes(sheets)


def write(result: AnnexA, out: Path) -> None:
    """Write the workbook in one step (a temporary file renamed), so a failure leaves no
    half-written file."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = workbook(result)
    temporary = out.with_name(f".{out.name}.partial")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)
