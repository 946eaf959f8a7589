"""Run the real DfE ``csc-validator-be-903`` (0.1.17) on SSDA903 folders, in its own
virtual environment (it pins pandas<2 and numpy<1.25, so it can never be an mfhc
dependency).

    results = run_reference([folder, ...], [2025, ...])

Each folder holds any of header.csv, episodes.csv, missing.csv, uasc.csv (uploaded as
"This year") and optionally missing_last.csv (last year's Missing table, uploaded as
"Prev year", used by rule 576). The validator identifies each CSV by its columns, so file
names do not matter to it. It is called as its own CLI does: ``LacValidator(metadata=
{"collectionYear": "<year>", "localAuthority": ...}, files=[...], registry=<ruleset of
that year>, selected_rules=[codes])``; ``collectionYear`` is the year the collection
ends in (its datastore derives collection_start 01/04/<year-1> and collection_end
31/03/<year>). Findings are read from the ``ERR_<code>`` columns it adds to its copies of
the tables, whose index is the CSV's 0-based data-row position.

Each result is a dict: {"missing": [[code, row], ...], "episodes": [[code, row], ...],
"skipped": [codes], "failed": [codes], "error": str | None}.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".cache" / "validator-903-venv"
PACKAGE = "csc-validator-be-903"
VERSION = "0.1.17"
CODES = ("1004", "1005", "1006", "564", "565", "566", "567", "570", "571", "574", "575",
         "576", "577", "578", "580", "581", "586")


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _venv_works() -> bool:
    py = _venv_python()
    if not py.exists():
        return False
    check = (
        "import importlib.metadata as m, lac_validator.lac_validator;"
        f"assert m.version({PACKAGE!r}) == {VERSION!r}"
    )
    return subprocess.run([str(py), "-c", check], capture_output=True).returncode == 0


def _base_python() -> str:
    """An interpreter the pinned numpy<1.25 has wheels for (3.9-3.11), else python3."""
    for name in ("python3.11", "python3.10", "python3.9", "python3"):
        exe = shutil.which(name)
        if exe and subprocess.run([exe, "-c", "import venv, ensurepip"], capture_output=True).returncode == 0:
            return exe
    return sys.executable


def ensure_venv() -> Path:
    """Create (once) the validator's venv and return its python."""
    if _venv_works():
        return _venv_python()
    if VENV.exists():
        shutil.rmtree(VENV)
    VENV.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([_base_python(), "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(_venv_python()), "-m", "pip", "install", "--quiet", f"{PACKAGE}=={VERSION}"],
        check=True,
    )
    if not _venv_works():
        raise RuntimeError(f"{PACKAGE}=={VERSION} installed in {VENV} but cannot be imported")
    return _venv_python()


_SCRIPT = r'''
import importlib, json, logging, sys
from pathlib import Path

logging.disable(logging.CRITICAL)
import pandas as pd
from lac_validator.lac_validator import LacValidator

jobs = json.loads(Path(sys.argv[1]).read_text())
out = []
for job in jobs:
    folder, year, codes = Path(job["folder"]), str(job["collection_year"]), job["codes"]
    files = []
    for name in ("header", "episodes", "missing", "uasc"):
        p = folder / f"{name}.csv"
        if p.exists():
            files.append({"name": p.name, "description": "This year", "file_content": p.read_bytes()})
    p = folder / "missing_last.csv"
    if p.exists():
        files.append({"name": p.name, "description": "Prev year", "file_content": p.read_bytes()})
    ruleset = f"lac{int(year) - 1}_{year[2:4]}"
    try:
        module = importlib.import_module(f"lac_validator.rules.{ruleset}")
    except ModuleNotFoundError:  # these rules are identical in every rule set
        module = importlib.import_module("lac_validator.rules.lac2025_26")
    res = {"missing": [], "episodes": [], "skipped": [], "failed": [], "error": None}
    try:
        v = LacValidator(
            metadata={"collectionYear": year, "localAuthority": "E09000027"},
            files=files, registry=module.registry, selected_rules=codes,
        )
    except Exception as e:
        res["error"] = f"{type(e).__name__}: {e}"
        out.append(res)
        continue
    res["skipped"], res["failed"] = list(v.skips), list(v.fails)
    for table, key in (("Missing", "missing"), ("Episodes", "episodes")):
        df = v.ds_results.get(table)
        if df is None:
            continue
        for code in codes:
            col = f"ERR_{code}"
            if col in df.columns:
                labels = df.index[df[col].fillna(False).astype(bool)]
                for pos in df.index.get_indexer(labels):
                    res[key].append([code, int(pos)])
    out.append(res)
print(json.dumps(out))
'''


def run_reference(folders, collection_years, codes=CODES) -> list[dict]:
    """Validate each folder (for its collection year) with the real package, all in one
    subprocess."""
    py = ensure_venv()
    jobs = [
        {"folder": str(Path(f).resolve()), "collection_year": int(y), "codes": list(codes)}
        for f, y in zip(folders, collection_years, strict=True)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        job_file = Path(tmp) / "jobs.json"
        job_file.write_text(json.dumps(jobs))
        script = Path(tmp) / "run_903.py"
        script.write_text(_SCRIPT)
        proc = subprocess.run(
            [str(py), str(script), str(job_file)], capture_output=True, text=True, cwd=tmp,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"reference validator failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":  # python tests/ssda903_reference.py FOLDER YEAR
    print(json.dumps(run_reference([sys.argv[1]], [int(sys.argv[2])]), indent=1))
