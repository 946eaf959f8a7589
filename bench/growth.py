"""How the load and the slowest dashboard callback grow with the number of episodes.

    .venv/bin/python bench/growth.py --out data/bench/growth \\
        data/bench/10k data/bench/100k data/bench/1m data/bench/national

Each argument is a source folder (`mfhc generate --children N`: about 5 episodes a child;
2,000 / 20,000 / 200,000 / 400,000 children give about 10k / 100k / 1M / 2M episodes).
For each, in turn (one heavy job at a time): `mfhc load` into `<out>/<folder name>.duckdb`
timed with its peak memory (or, with `--reuse`, an existing store there is used and its
load is not timed), then `bench/callbacks.py --repeat 1` on that store. Prints a table of
the load and the slowest callback at each size and draws it to `--plot` (PNG, through
Plotly and kaleido). Run on demand, not in CI; results go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]


def load(source: Path, db: Path) -> tuple[float, float]:
    """Wall seconds and peak memory (GiB) of `mfhc load`, from /usr/bin/time -v."""
    mfhc = str(Path(sys.executable).with_name("mfhc"))
    began = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", mfhc, "load", str(source), "--db", str(db)],
                          capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"mfhc load {source} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return seconds, (int(peak.group(1)) / 2**20 if peak else float("nan"))


def callbacks(db: Path) -> dict:
    out = db.with_suffix(".callbacks.json")
    subprocess.run([sys.executable, str(ROOT / "bench" / "callbacks.py"), "--db", str(db), "--repeat", "1",
                    "--json", str(out)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text(encoding="utf-8"))


def plot(rows: list[dict], path: Path) -> None:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    episodes = [row["episodes"] for row in rows]
    figure = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
        "Slowest dashboard callback (server side)", "mfhc load"))
    figure.add_trace(go.Scatter(x=episodes, y=[row["slowest_warm_p50_ms"] for row in rows], mode="lines+markers",
                                name="slowest callback, warm p50", line={"color": "#0072B2"}), row=1, col=1)
    figure.add_trace(go.Scatter(x=episodes, y=[row["worst_p95_ms"] for row in rows], mode="lines+markers",
                                name="worst callback p95 (cold or warm)", marker={"symbol": "diamond"},
                                line={"color": "#D55E00", "dash": "dash"}), row=1, col=1)
    figure.add_trace(go.Scatter(x=[min(episodes), max(episodes)], y=[150, 150], mode="lines", name="150 ms target",
                                line={"color": "#009E73", "dash": "dot"}), row=1, col=1)
    figure.add_trace(go.Scatter(x=episodes, y=[row["load_s"] for row in rows], mode="lines+markers",
                                name="load (s)", marker={"symbol": "square"}, line={"color": "#505a5f"}),
                     row=1, col=2)
    figure.update_xaxes(title="Episodes in the store", type="log")
    figure.update_yaxes(title="ms", type="log", row=1, col=1)
    figure.update_yaxes(title="seconds", type="log", row=1, col=2)
    figure.update_layout(width=1000, height=480, plot_bgcolor="white", legend={"orientation": "h", "y": -0.25},
                         margin={"b": 130}, title="mfhc at growing sizes (2-core machine, shared)")
    figure.write_image(str(path))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sources", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "bench" / "growth")
    parser.add_argument("--reuse", action="store_true", help="use a store already in --out (load not timed)")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "images" / "growth.png")
    parser.add_argument("--json", type=Path, help="also write the table to this JSON file")
    parser.add_argument("--loads-from", type=Path,
                        help="with --reuse: take the load times from an earlier run's --json")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    earlier = {}
    if args.loads_from:
        earlier = {row["source"]: row for row in json.loads(args.loads_from.read_text(encoding="utf-8"))}
    rows = []
    for source in args.sources:
        db = args.out / f"{source.name}.duckdb"
        load_s = peak = None
        if not (args.reuse and db.exists()):
            load_s, peak = load(source, db)
        elif source.name in earlier:
            load_s, peak = earlier[source.name]["load_s"], earlier[source.name]["load_peak_gib"]
        with duckdb.connect(str(db), read_only=True) as con:
            episodes = con.execute("select count(*) from fct_episode").fetchone()[0]
        timings = callbacks(db)
        slowest = max(timings, key=lambda name: timings[name]["warm_p50"])
        worst = max(timings, key=lambda name: max(timings[name]["warm_p95"], timings[name]["cold_p95"]))
        row = {"source": source.name, "episodes": episodes, "load_s": load_s, "load_peak_gib": peak,
               "slowest": slowest, "slowest_warm_p50_ms": timings[slowest]["warm_p50"], "worst": worst,
               "worst_p95_ms": max(timings[worst]["warm_p95"], timings[worst]["cold_p95"]),
               "overview_warm_p50_ms": timings.get("overview", {}).get("warm_p50"),
               "largest_figure_kb": max(t["largest_figure_kb"] for t in timings.values())}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("| episodes | load s | load peak GiB | slowest callback (warm p50) | warm p50 ms | worst p95 ms "
          "(callback) | overview warm p50 ms | largest figure KB |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|")
    for row in rows:
        load_s = "" if row["load_s"] is None else f"{row['load_s']:.0f}"
        peak = "" if row["load_peak_gib"] is None else f"{row['load_peak_gib']:.2f}"
        print(f"| {row['episodes']:,} | {load_s} | {peak} | {row['slowest']} | {row['slowest_warm_p50_ms']:,.0f} | "
              f"{row['worst_p95_ms']:,.0f} ({row['worst']}) | {row['overview_warm_p50_ms']:,.0f} | "
              f"{row['largest_figure_kb']:,.0f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    plot([dict(row, load_s=float("nan") if row["load_s"] is None else row["load_s"]) for row in rows], args.plot)


if __name__ == "__main__":
    main()
