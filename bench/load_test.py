"""Load test: Locust users against the real app under gunicorn on 127.0.0.1, bounded in time.

    .venv/bin/python bench/load_test.py [--db DB] [--users 50] [--seconds 60] [--workers 2] [--with-loads]
                                        [--spawn-rate 10] [--reset-stats]

Builds the demo store when --db does not exist, makes one account per role for the users
(in a private state folder), starts gunicorn, runs `locust --headless` for --seconds (it
stops itself), stops gunicorn and prints requests per second, p50/p95/p99 and errors per
request kind. With --with-loads, while the users run, a full `mfhc load` of the demo source
is swapped in at a third of the run, and another is killed (SIGKILL) at two thirds: the
users must see no error. Needs the `bench` extra (`pip install -e '.[bench]'`). Run on
demand, not in CI; results go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load-test-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def mfhc(*args, env, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True, **kwargs)


def loads_during(db: Path, source: Path, env: dict, seconds: int, log: list[str], ramp: int = 0) -> None:
    time.sleep(ramp + seconds / 3)
    started = time.monotonic()
    mfhc("load", str(source), "--db", str(db), env=env)
    log.append(f"a load swapped in at {ramp + seconds / 3:.0f} s (took {time.monotonic() - started:.1f} s)")
    time.sleep(max(0.0, seconds / 3 - (time.monotonic() - started)))
    process = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "load", str(source), "--db", str(db)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    log.append("a second load killed (SIGKILL) 3 s after it started; the store it was replacing kept serving")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--with-loads", action="store_true")
    parser.add_argument("--wait", default="5,15",
                        help="Seconds between a user's actions, min,max (5,15: reading a chart; 1,5: stress).")
    parser.add_argument("--reset-stats", action="store_true",
                        help="Count only after every user has signed in (the sign-in burst left out).")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mfhc-load-test-"))
    env = {**os.environ, "MFHC_STATE_DIR": str(work / "state"), "MFHC_CONFIG": str(work / "none.toml"),
           "MFHC_PSEUDONYM_KEY": os.environ.get("MFHC_PSEUDONYM_KEY", "load-test-key")}
    db = args.db or work / "mfhc.duckdb"
    if not db.exists():
        mfhc("demo", "--db", str(db), env=env)
    source = db.parent / "demo_source"
    for role in ("board", "manager", "analyst"):
        mfhc("users", "add", f"bench-{role}", "--role", role, "--password-stdin", "--db", str(db),
             env=env, input=PASSWORD + "\n")
    load_before = os.getloadavg()
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    server_log = (work / "gunicorn.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
                               str(args.workers), "--timeout", "120", "dashboard.app:server"],
                              # Plain http on the loopback: Locust's client (requests) sends no Secure
                              # cookie over http, so this test run marks the session cookie not Secure.
                              cwd=ROOT, env={**env, "MFHC_DB": str(db), "MFHC_INSECURE_COOKIES": "1"},
                              stdout=server_log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(host + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        events: list[str] = []
        # With --reset-stats the users first all sign in (the ramp, not counted), then --seconds are measured.
        ramp = (args.users // max(1, args.spawn_rate) + 10) if args.reset_stats else 0
        run_time = args.seconds + ramp
        loader = None
        if args.with_loads:
            if not source.exists():
                raise SystemExit(f"--with-loads needs the demo source folder beside the store ({source})")
            loader = threading.Thread(target=loads_during, args=(db, source, env, args.seconds, events, ramp))
            loader.start()
        prefix = work / "locust"
        subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                        "-u", str(args.users), "-r", str(args.spawn_rate), "--run-time", f"{run_time}s",
                        "--stop-timeout", "10", "--host", host, "--csv", str(prefix), "--only-summary",
                        *(["--reset-stats"] if args.reset_stats else [])],
                       cwd=ROOT, env={**env, "MFHC_BENCH_PASSWORD": PASSWORD, "MFHC_BENCH_WAIT": args.wait}, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if loader:
            loader.join()
        with open(f"{prefix}_stats.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        print(f"{args.users} users, {args.seconds} s measured" + (f" after a {ramp} s sign-in ramp" if ramp else "")
              + f", {args.wait} s between actions, gunicorn --workers {args.workers}, {os.cpu_count()} cores, "
              + "load average before "
              + " ".join(f"{v:.2f}" for v in load_before))
        print(f"{'request':28} {'count':>7} {'fail':>5} {'rps':>6} {'p50':>6} {'p95':>6} {'p99':>6}  (ms)")
        for row in rows:
            print(f"{row['Name'][:28]:28} {row['Request Count']:>7} {row['Failure Count']:>5} "
                  f"{float(row['Requests/s']):6.1f} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}")
        for line in events:
            print(line)
        failures = (work / "locust_failures.csv").read_text() if (work / "locust_failures.csv").exists() else ""
        if failures.count("\n") > 1:
            print("failures:\n" + failures)
        return 0
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        server_log.close()


if __name__ == "__main__":
    raise SystemExit(main())
