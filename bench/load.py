"""`mfhc load` of a source folder against DuckDB alone reading the same CSV files.

    .venv/bin/python bench/load.py --source data/bench/national [--db data/bench/national.duckdb] [--rounds 3]

First times DuckDB reading every CSV the load reads (police_incidents.csv,
return_interviews.csv, attendance.csv, children_missing_education.csv, child_xref.csv,
homes.csv, ssda903/*/*.csv) into tables of an in-memory database with
`read_csv(..., all_varchar=true)`: the floor for any load, and the baseline of the
issue's target. Then the same read into tables of a new database file, checkpointed (what
any store on disk pays to compress and write its rows), shown beside it for reference only.
Then runs `mfhc load` as a
subprocess under `/usr/bin/time -v`; the three, `--rounds` times over, one after the other.
Prints a markdown table row per round and one of the medians (the ratios of the median
load to the median reads): episodes, rows read, raw read time, load wall time, load CPU
time (user + system: fairer than the wall on a shared machine), rows read per second,
peak RSS and load / raw read,
and the machine's load average (1, 5, 15 min) before and after, since other work on the
machine slows both timings. Run on demand, not in CI; results go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
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
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of (raw read, raw read into a file, load), one after the other; the "
                             "ratio is taken from the medians, since both timings move with the machine")
    args = parser.parse_args()
    files = source_csvs(args.source)
    load_before = os.getloadavg()
    measured = []
    with tempfile.TemporaryDirectory() as scratch:
        db = args.db or Path(scratch) / "bench.duckdb"
        for _ in range(args.rounds):
            raw_seconds, raw_cpu, rows = raw_read(files)
            with tempfile.TemporaryDirectory() as raw_scratch:
                file_seconds, _, _ = raw_read(files, str(Path(raw_scratch) / "raw.duckdb"))
            wall, rss, cpu, _ = timed_load(args.source, db)
            measured.append((raw_seconds, raw_cpu, file_seconds, wall, cpu, rss))
        load_after = os.getloadavg()
        con = duckdb.connect(str(db), read_only=True)
        episodes = con.execute("select count(*) from fct_episode").fetchone()[0]
        con.close()
    print(f"source: {args.source}, {len(files)} CSV files, {sum(p.stat().st_size for p in files) / 1e6:,.0f} MB")
    print("load average before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f}".format(*load_before, *load_after))
    print("| round | episodes | rows read | raw read_csv s (CPU s) | raw read into a file, checkpointed s "
          "| load wall s | load CPU s (user + sys) | rows/s | peak RSS | load / raw read | load / read into a file |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def row(label, raw_seconds, raw_cpu, file_seconds, wall, cpu, rss):
        print(f"| {label} | {episodes:,} | {rows:,} | {raw_seconds:.1f} ({raw_cpu:.1f}) | {file_seconds:.1f} "
              f"| {wall:.1f} | {cpu:.1f} | {rows / wall:,.0f} "
              f"| {rss / 1024 / 1024:.2f} GiB, {rss * 1024 / 1e9:.2f} GB ({int(rss):,} KB) "
              f"| {wall / raw_seconds:.1f}× | {wall / file_seconds:.1f}× |")

    for number, values in enumerate(measured, start=1):
        row(str(number), *values)
    if len(measured) > 1:
        row("**median**", *(statistics.median(column) for column in zip(*measured)))


if __name__ == "__main__":
    main()
