"""`mfhc load` of a source folder against DuckDB alone reading the same CSV files.

    .venv/bin/python bench/load.py --source data/bench/national [--db data/bench/national.duckdb]

First times DuckDB reading every CSV the load reads (police_incidents.csv,
return_interviews.csv, attendance.csv, children_missing_education.csv, child_xref.csv,
homes.csv, ssda903/*/*.csv) into tables of an in-memory database with
`read_csv(..., all_varchar=true)`: the floor for any load, and the baseline of the
issue's target. Then the same read into tables of a new database file, checkpointed (what
any store on disk pays to compress and write its rows), shown beside it for reference only.
Then runs `mfhc load` as a
subprocess under `/usr/bin/time -v` and prints one markdown table row: episodes, rows
read, raw read time, load wall time, load CPU time (user + system: fairer than the wall on
a shared machine), rows read per second, peak RSS and load / raw read,
and the machine's load average (1, 5, 15 min) before and after, since other work on the
machine slows both timings. Run on demand, not in CI; results go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
TOP_LEVEL = ("police_incidents.csv", "return_interviews.csv", "attendance.csv",
             "children_missing_education.csv", "child_xref.csv", "homes.csv")


def source_csvs(source: Path) -> list[Path]:
    files = [source / name for name in TOP_LEVEL if (source / name).exists()]
    files += sorted(source.glob("ssda903/*.csv")) + sorted(source.glob("ssda903/*/*.csv"))
    return files


def raw_read(files: list[Path], database: str = ":memory:") -> tuple[float, float, int]:
    """Seconds (wall, and CPU of every thread) for DuckDB alone to read every file into a
    table (all columns as text) of `database`, checkpointed when it is a file, and rows."""
    con = duckdb.connect(database)
    con.execute("set preserve_insertion_order = false")
    rows = 0
    began, began_cpu = time.perf_counter(), time.process_time()
    for number, path in enumerate(files):
        con.execute(f"create table t{number} as select * from read_csv(?, header = true, all_varchar = true)",
                    [str(path)])
    if database != ":memory:":
        con.execute("checkpoint")
    seconds, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    for number in range(len(files)):
        rows += con.execute(f"select count(*) from t{number}").fetchone()[0]
    con.close()
    return seconds, cpu, rows


def timed_load(source: Path, db: Path) -> tuple[float, int, float, str]:
    """Wall seconds, max RSS (KB), CPU seconds (user + system) and output of `mfhc load`
    under /usr/bin/time -v."""
    mfhc = Path(sys.executable).with_name("mfhc")
    began = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", str(mfhc), "load", str(source), "--db", str(db)],
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"mfhc load failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    cpu = sum(float(re.search(rf"{kind} time \(seconds\): ([\d.]+)", done.stderr).group(1))
              for kind in ("User", "System"))
    return wall, rss, cpu, done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True, type=Path)
    parser.add_argument("--db", type=Path, help="store to build (default: a temporary file, removed after)")
    args = parser.parse_args()
    files = source_csvs(args.source)
    load_before = os.getloadavg()
    raw_seconds, raw_cpu, rows = raw_read(files)
    with tempfile.TemporaryDirectory() as scratch:
        file_seconds, _, _ = raw_read(files, str(Path(scratch) / "raw.duckdb"))
    with tempfile.TemporaryDirectory() as scratch:
        db = args.db or Path(scratch) / "bench.duckdb"
        wall, rss, cpu, _ = timed_load(args.source, db)
        load_after = os.getloadavg()
        con = duckdb.connect(str(db), read_only=True)
        episodes = con.execute("select count(*) from fct_episode").fetchone()[0]
        con.close()
    print(f"source: {args.source}, {len(files)} CSV files, {sum(p.stat().st_size for p in files) / 1e6:,.0f} MB")
    print("load average before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f}".format(*load_before, *load_after))
    print(f"raw read CPU (user + sys): {raw_cpu:.1f} s")
    print(f"for reference, the same read into a database file, checkpointed: {file_seconds:.1f} s "
          f"(load / that: {wall / file_seconds:.1f}×)")
    print("| episodes | rows read | raw read_csv s | load wall s | load CPU s (user + sys) | rows/s | peak RSS "
          "| load / raw read |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {episodes:,} | {rows:,} | {raw_seconds:.1f} | {wall:.1f} | {cpu:.1f} | {rows / wall:,.0f} "
          f"| {rss / 1024 / 1024:.2f} GiB, {rss * 1024 / 1e9:.2f} GB ({rss:,} KB) | {wall / raw_seconds:.1f}× |")


if __name__ == "__main__":
    main()
