"""Every KPI key and every input column is documented, and the generated column tables are current."""

from pathlib import Path

from pipelines import docs
from pipelines.kpis import KPI_KEYS, RHI_KEYS
from pipelines.schema import TABLES

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_kpi_key_is_documented():
    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    keys = list(KPI_KEYS) + [f"{k}_pct" for k in (*RHI_KEYS, "safe_and_well_done")]
    assert [k for k in keys if f"`{k}`" not in text] == []


def test_every_input_column_is_documented():
    text = (DOCS / "inputs.md").read_text(encoding="utf-8")
    missing = [(t.path, c.name) for t in TABLES for c in t.columns if f"| {c.name} |" not in text]
    assert missing == []


def test_generated_column_tables_are_current():
    text = (DOCS / "inputs.md").read_text(encoding="utf-8")
    assert docs.render_columns() in text, "run: python -m pipelines.docs"
