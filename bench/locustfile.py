"""Locust users of the dashboard: each signs in through the sign-in form, opens a page and
then changes filters, as board members and officers do. Run by bench/load_test.py (which
starts gunicorn, the users and the timed run); not part of the test suite.

Each task is one real request the browser makes: a page's HTML, its layout, or a page's
callback with a new filter set (the callback request body is built from the app's own
`/_dash-dependencies`, as the renderer builds it).
"""

from __future__ import annotations

import json
import os
import random
import re

from locust import HttpUser, between, task

PASSWORD = os.environ.get("MFHC_BENCH_PASSWORD", "load-test-password")
ROLES = ("board", "manager", "analyst")
PAGES = {   # a page: the output its main callback fills
    "/": "overview-period",
    "/homes": "homes-period",
    "/hotspots": "hotspots-coverage",
    "/interviews": "interviews-provider-table",
    "/repeat": "repeat-bands-graph",
}
PERIODS = [("2025-04-01", "2026-03-31"), ("2024-04-01", "2025-03-31"), ("2025-10-01", "2025-12-31"),
           ("2025-01-01", "2025-03-31"), ("2025-06-15", "2025-09-14")]
CARE = ["all", "care", "home"]
AGES = [None, "13-15", "16-17"]


def _outputs(output: str) -> list[dict] | dict:
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    found = []
    for part in parts:
        ident, prop = part.rsplit(".", 1)
        found.append({"id": json.loads(ident) if ident.startswith("{") else ident, "property": prop})
    return found if output.startswith("..") else found[0]


# Seconds a person spends on a view before the next change ("5,15": reading a chart; "1,5": a stress run).
WAIT = tuple(float(v) for v in os.environ.get("MFHC_BENCH_WAIT", "5,15").split(","))


class DashboardUser(HttpUser):
    wait_time = between(*WAIT)

    def on_start(self):
        self.role = random.choice(ROLES)
        page = self.client.get("/login", name="/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        self.client.post("/login", data={"username": f"bench-{self.role}", "password": PASSWORD, "csrf": token,
                                         "next": "/"}, name="/login (post)", allow_redirects=False)
        deps = self.client.get("/_dash-dependencies", name="/_dash-dependencies").json()
        self.callbacks = {}
        for path, marker in PAGES.items():
            spec = next(d for d in deps if marker in d["output"])
            self.callbacks[path] = spec

    def _filters(self) -> dict:
        start, end = random.choice(PERIODS)
        return {"filter-start": start, "filter-end": end, "filter-care": random.choice(CARE),
                "filter-age": random.choice(AGES), "filter-sex": None, "filter-ethnicity": None,
                "filter-risk": None, "filter-small": "hide", "hotspots-place": "missing_from"}

    def _callback(self, path: str) -> None:
        spec = self.callbacks[path]
        values = self._filters()
        body = {"output": spec["output"], "outputs": _outputs(spec["output"]),
                "inputs": [{**i, "value": values.get(i["id"]) if isinstance(i["id"], str) else None}
                           for i in spec["inputs"]],
                "state": [{**s, "value": None} for s in spec["state"]],
                "changedPropIds": ["filter-care.value"]}
        with self.client.post("/_dash-update-component", json=body, name=f"callback {path}",
                              catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")

    @task(2)
    def open_page(self):
        path = random.choice(list(PAGES))
        self.client.get(path, name="page html")
        self.client.get("/_dash-layout", name="/_dash-layout")
        self._callback(path)

    @task(6)
    def change_filters(self):
        self._callback(random.choice(list(PAGES)))
