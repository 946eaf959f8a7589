"""Time for each dashboard page to be drawn in a real browser, served as in production.

    .venv/bin/python bench/pages.py --db data/bench/national.duckdb [--rounds 3] [--workers 2]

Starts `gunicorn dashboard.app:server` on 127.0.0.1 with MFHC_DB pointing at the store (a
fresh application-state folder, so the result cache starts empty and the first visit of a
page is cold), waits `--settle` seconds (the workers read the store ahead as they start),
signs in as a bench analyst, then opens every page in headless Chromium
(Playwright, Debian's /usr/bin/chromium) and times from navigation until every chart on
the page has drawn its figure: every `.js-plotly-plot` holds traces or its "no data"
message, and no Dash component is loading. The first visit of each page is cold, the
others warm. Also reports the bytes the page's callback responses carried.
Run on demand, not in CI; results go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"Overview": "/", "Children's homes": "/homes", "Area hotspots": "/hotspots", "Repeat missing": "/repeat",
         "Return interviews": "/interviews", "School absence": "/absence", "Care and placements": "/care",
         "Data quality": "/quality"}

# True once every graph on the page shows its figure (traces, or the annotation of an empty
# figure) and Dash has nothing loading.
ALL_DRAWN = """() => {
    const graphs = [...document.querySelectorAll('.dash-graph')];
    if (!graphs.length) return false;
    if (document.querySelector('[data-dash-is-loading="true"]')) return false;
    return graphs.every(g => {
        const plot = g.querySelector('.js-plotly-plot');
        if (!plot || !plot._fullLayout) return false;
        const traces = (plot.data || []).length;
        const notes = ((plot.layout || {}).annotations || []).length;
        return traces > 0 || notes > 0;
    });
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not start")


def wait_for_warm_up(state: Path, timeout: float) -> None:
    """Until a worker has warmed the default view (its lock file in the cache says done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(lock.read_text() == "done" for lock in state.glob("**/warm-*.lock")):
            return
        time.sleep(0.5)
    raise RuntimeError("the default view was not warmed in time")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--rounds", type=int, default=3, help="visits of each page (the first one cold)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for a page")
    parser.add_argument("--only", default="", help="comma-separated paths of the pages to time (default: all)")
    parser.add_argument("--settle", type=float, default=5,
                        help="seconds to wait after the server is up before the first visit: each worker reads "
                             "the store's tables ahead when it starts (dashboard.prefetch, about a second at "
                             "national scale), as a deployed server has long done before its first visitor")
    parser.add_argument("--warmed", action="store_true",
                        help="let the server warm the default view first (dashboard.warm, as in production) and "
                             "wait for it before the first visit; by default warming is off, so first visits are cold")
    args = parser.parse_args()
    pages = {name: path for name, path in PAGES.items()
             if not args.only or path in {p.strip() for p in args.only.split(",")}}
    from playwright.sync_api import sync_playwright

    state = Path(tempfile.mkdtemp(prefix="mfhc-pages-"))
    password = secrets.token_urlsafe(18)
    env = {**os.environ, "MFHC_DB": str(Path(args.db).resolve()), "MFHC_STATE_DIR": str(state),
           "MFHC_INSECURE_COOKIES": "1", "MFHC_AUTH": "off", "MFHC_WARM": "on" if args.warmed else "off"}
    mfhc = str(Path(sys.executable).with_name("mfhc"))
    subprocess.run([mfhc, "users", "add", "bench", "--role", "analyst", "--password-stdin", "--db", args.db],
                   input=password + "\n", text=True, env=env, check=True, capture_output=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "dashboard.app:server", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--timeout", "300", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    results: dict[str, list[float]] = {name: [] for name in pages}
    payload: dict[str, int] = {}
    try:
        wait_until_up(url)
        time.sleep(args.settle)
        if args.warmed:
            urllib.request.urlopen(url + "/healthz", timeout=30).read()
            wait_for_warm_up(state, args.timeout * 10)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=["--no-sandbox", "--disable-dev-shm-usage"])
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.goto(url + "/login")
            if page.locator("#username").count():  # an app without sign-in has no form
                page.fill("#username", "bench")
                page.fill("#password", password)
                page.click("button[type=submit]")
                page.wait_for_load_state("networkidle")
            received = {"bytes": 0}

            def count(response):
                if "/_dash-update-component" in response.url:
                    try:
                        received["bytes"] += len(response.body())
                    except Exception:  # noqa: BLE001 - a response the page navigated away from
                        pass

            page.on("response", count)
            for round_number in range(args.rounds):
                for name, path in pages.items():
                    received["bytes"] = 0
                    began = time.perf_counter()
                    page.goto(url + path)
                    page.wait_for_function(ALL_DRAWN, timeout=args.timeout * 1000, polling=50)
                    results[name].append(time.perf_counter() - began)
                    if round_number == 0:
                        page.wait_for_load_state("networkidle")
                        payload[name] = received["bytes"]
            browser.close()
    finally:
        server.terminate()
        try:
            _, errors = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            _, errors = server.communicate()
        shutil.rmtree(state, ignore_errors=True)
    if errors and errors.strip():
        print(errors.strip()[-2000:], file=sys.stderr)
    print(f"store: {args.db}; gunicorn, {args.workers} workers; {args.rounds} visits per page (the first cold)")
    print("| page | cold s | warm median s | warm max s | callback responses KB |")
    print("|---|---:|---:|---:|---:|")
    for name, times in results.items():
        warm = times[1:] or times
        print(f"| {name} | {times[0]:.2f} | {statistics.median(warm):.2f} | {max(warm):.2f} | "
              f"{payload.get(name, 0) / 1024:,.0f} |")


if __name__ == "__main__":
    main()
