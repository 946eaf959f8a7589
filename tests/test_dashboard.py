"""The first dashboard page serves the store's figures, the same as `mfhc kpis`."""

from __future__ import annotations

import datetime as dt
import json

from dashboard.app import create_app, financial_year_of
from pipelines.config import Settings
from pipelines.load import SYNTHETIC_MARKER, load
from sources import police, write_table


def test_financial_year_runs_april_to_march():
    assert financial_year_of(dt.date(2025, 3, 31)) == (dt.date(2024, 4, 1), dt.date(2025, 3, 31))
    assert financial_year_of(dt.date(2025, 4, 1)) == (dt.date(2025, 4, 1), dt.date(2026, 3, 31))


def test_page_shows_latest_financial_year_and_synthetic_banner(tmp_path):
    source = tmp_path / "src"
    write_table(source, "police_incidents", [
        police("I1", "P1", "2025-05-01T08:00", "2025-05-01T10:00"),
        police("I2", "P2", "2025-06-01T08:00", "2025-06-01T09:00"),
        police("I3", "P2", "2024-06-01T08:00", "2024-06-01T09:00"),  # the year before: not shown
    ])
    (source / SYNTHETIC_MARKER).write_text("synthetic", encoding="utf-8")
    db = tmp_path / "mfhc.duckdb"
    load(source, Settings(db_path=db))
    client = create_app(db).server.test_client()
    assert client.get("/").status_code == 200
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert "Synthetic demonstration data" in layout
    assert "2025-04-01 to 2026-03-31" in layout
    assert tiles(json.loads(layout)) == {
        "Episodes": "2", "Children": "2", "Children with 2+ episodes": "0", "Episodes from care": "0",
        "RHIs completed within 72 hours (%)": "0.0", "Median duration (hours)": "1.5",
    }


def tiles(node) -> dict:
    """{label: value} of the KPI tiles in a Dash layout's JSON."""
    found = {}
    if isinstance(node, dict):
        props = node.get("props", {})
        if props.get("className") == "tile":
            value, label = props["children"]
            found[label["props"]["children"]] = value["props"]["children"]
        for child in props.values():
            found.update(tiles(child))
    elif isinstance(node, list):
        for item in node:
            found.update(tiles(item))
    return found


def test_page_without_a_store_says_so(tmp_path):
    client = create_app(tmp_path / "none.duckdb").server.test_client()
    assert "No data loaded yet" in client.get("/_dash-layout").get_data(as_text=True)
