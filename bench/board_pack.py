"""Time the board pack on a store: `mfhc report` end to end, then warm builds in one process.

    .venv/bin/mfhc demo --db data/bench/demo.duckdb
    .venv/bin/python bench/board_pack.py --db data/bench/demo.duckdb [--from 2025-04-01 --to 2026-03-31]

1. `mfhc report` as a subprocess, as a user runs it: imports, Chromium's cold start,
   queries, charts, PDF (wall time; the best of `--cold` runs).
2. In this process, `render_board_pack` `--warm` times with the kaleido server already
   running (the dashboard's "Download board pack" case), split into queries and figures,
   chart images, and HTML + PDF.
Prints markdown rows for BENCHMARKS.md. Run on demand, not in CI. The PDFs go to a
temporary folder; each `mfhc report` run adds a `board_pack` entry to the audit log
beside the store (that is what the command does).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cold_runs(db: Path, start: str, end: str, runs: int) -> tuple[list[float], int]:
    times, pages = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pack.pdf"
        for _ in range(runs):
            began = time.perf_counter()
            subprocess.run([str(ROOT / ".venv" / "bin" / "mfhc"), "report", "--from", start, "--to", end,
                            "--db", str(db), "--out", str(out)], check=True, capture_output=True)
            times.append(time.perf_counter() - began)
        info = subprocess.run(["pdfinfo", str(out)], check=True, capture_output=True, text=True).stdout
        pages = int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))
    return times, pages


def warm_runs(db: Path, start: dt.date, end: dt.date, runs: int) -> list[dict]:
    from pipelines import board_pack
    from pipelines.config import Settings
    from pipelines.store import read_only

    settings = Settings(db_path=db)
    board_pack.start_renderer()
    board_pack.render_board_pack(settings, start, end, produced_by="bench")  # warm Chromium and imports
    results = []
    for _ in range(runs):
        began = time.perf_counter()
        with read_only(db) as con:
            context = board_pack.pack_context(settings, con, start, end, True, "bench")
        queried = time.perf_counter()
        charts = board_pack.charts_of(context)
        for chart in charts:
            chart.image = board_pack._png(chart.figure, chart.height)
        drawn = time.perf_counter()
        _, pages = board_pack.html_to_pdf(board_pack.render_html(context))
        done = time.perf_counter()
        results.append({"queries": queried - began, "images": drawn - queried, "pdf": done - drawn,
                        "total": done - began, "charts": len(charts), "pages": pages})
    board_pack.close_renderer()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--from", dest="start", default="2025-04-01")
    parser.add_argument("--to", dest="end", default="2026-03-31")
    parser.add_argument("--cold", type=int, default=3, help="mfhc report runs (default 3)")
    parser.add_argument("--warm", type=int, default=3, help="in-process builds (default 3)")
    args = parser.parse_args()
    import duckdb

    with duckdb.connect(str(args.db), read_only=True) as con:
        episodes = con.execute("select count(*) from fct_episode").fetchone()[0]
    cold, pages = cold_runs(args.db, args.start, args.end, args.cold)
    warm = warm_runs(args.db, dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end), args.warm)
    print(f"store: {episodes:,} episodes; period {args.start} to {args.end}; {pages} pages, "
          f"{warm[0]['charts']} charts\n")
    print("| run | best s | median s |")
    print("|---|---:|---:|")
    print(f"| `mfhc report` (cold: imports, Chromium start, queries, charts, PDF) | {min(cold):.1f} | "
          f"{statistics.median(cold):.1f} |")
    for part in ("queries", "images", "pdf", "total"):
        values = [r[part] for r in warm]
        label = {"queries": "warm: queries, figures and narrative", "images": "warm: chart images (kaleido)",
                 "pdf": "warm: HTML and PDF (WeasyPrint)", "total": "warm build in a running process"}[part]
        print(f"| {label} | {min(values):.1f} | {statistics.median(values):.1f} |")


if __name__ == "__main__":
    main()
