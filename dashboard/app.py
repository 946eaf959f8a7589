"""The dashboard (a first page: headline KPIs of the latest financial year in the store).

The multi-page dashboard is the next piece of work; this page already reads the store
only through the queries layer and opens it read-only per request.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from dash import Dash, html

from pipelines.config import load_settings
from pipelines.kpis import compute_kpis
from pipelines.store import StoreMissing, read_only

ASSETS = Path(__file__).resolve().parents[1] / "assets"
ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right 2024. Contains National Statistics data © Crown "
    "copyright and database right 2024. Source: Office for National Statistics, licensed under the Open "
    "Government Licence v3.0. English Indices of Deprivation 2019 © Ministry of Housing, Communities & Local "
    "Government, OGL v3.0."
)


def financial_year_of(day: dt.date) -> tuple[dt.date, dt.date]:
    start_year = day.year if day.month >= 4 else day.year - 1
    return dt.date(start_year, 4, 1), dt.date(start_year + 1, 3, 31)


def store_facts(con) -> dict:
    meta = dict(con.execute("select key, value from meta").fetchall())
    latest = con.execute("select max(start_date) from fct_episode").fetchone()[0]
    return {"synthetic": meta.get("synthetic") == "true", "loaded_at": meta.get("loaded_at"), "latest": latest}


def tile(label: str, value) -> html.Div:
    shown = "–" if value is None else (f"{value:,}" if isinstance(value, int) else str(value))
    return html.Div([html.Div(shown, className="tile-value"), html.Div(label, className="tile-label")],
                    className="tile")


def overview_layout(facts: dict, figures: dict) -> html.Div:
    banner = (html.Div("Synthetic demonstration data on Wolverhampton's real geography: not real children.",
                       className="banner", role="status") if facts["synthetic"] else None)
    period = figures["period"]
    return html.Div([
        banner,
        html.H1("Children missing from home and care"),
        html.P(f"Financial year {period['from']} to {period['to']}; data loaded {facts['loaded_at']}."),
        html.Div([
            tile("Episodes", figures["episodes"]),
            tile("Children", figures["children"]),
            tile("Children with 2+ episodes", figures["repeat_children"]),
            tile("Episodes from care", figures["from_care_episodes"]),
            tile("RHIs completed within 72 hours (%)", figures["rhi_completed_within_72h_pct"]),
            tile("Median duration (hours)", figures["median_duration_hours"]),
        ], className="tiles"),
        html.Footer(ATTRIBUTION, className="attribution"),
    ])


def page(db_path: Path):
    try:
        with read_only(db_path) as con:
            facts = store_facts(con)
            latest = facts["latest"] or dt.date.today()
            start, end = financial_year_of(latest)
            figures = compute_kpis(con, start, end)
    except StoreMissing as exc:
        return html.Div([html.H1("No data loaded yet"), html.P(str(exc))])
    return overview_layout(facts, figures)


def create_app(db_path: Path | None = None) -> Dash:
    db_path = Path(db_path or load_settings().db_path)
    app = Dash(__name__, assets_folder=str(ASSETS), title="mfhc", serve_locally=True)
    app.layout = lambda: page(db_path)
    return app


app = create_app(Path(os.environ["MFHC_DB"])) if os.environ.get("MFHC_DB") else create_app()
server = app.server
