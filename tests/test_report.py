"""The board pack (`mfhc report`): the PDF's figures are `mfhc kpis`'s, its pages render,
small numbers are suppressed (and shown on request), page numbers, cover, checklist
answers and the audit entry.

Two stores, each built once for the module:
- a small synthetic store (`mfhc generate`, 150 children, 2 years) loaded through the
  real pipeline: the pack of financial year 2025/26 is compared with `mfhc kpis --json`;
- a hand-built store where the figures are small, worked out by hand:
    P1: episodes on 2, 9 and 20 May 2025 (3 episodes), P2: 1 June 2025 (1 episode), so in
    Q1 2025/26 (1 April - 30 June 2025): episodes 4, children 2, repeat children 1 (P1):
    every count from 1 to 4, printed <5; nothing in the previous quarter or a year before.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines import audit
from pipelines.board_pack import GLOSSARY, KPI_ROWS, html_to_pdf, local_only_fetcher, pack_context
from pipelines.checklist import record_answer
from pipelines.cli import main
from pipelines.config import Settings
from pipelines.kpis import compute_kpis
from pipelines.load import SYNTHETIC_MARKER, load
from pipelines.store import read_only
from sources import police, rhi, write_table

ROOT = Path(__file__).resolve().parents[1]
YEAR = ("2025-04-01", "2026-03-31")
QUARTER = ("2025-04-01", "2025-06-30")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def pdf_text(pdf: Path, *pages: int, layout: bool = True) -> str:
    """The PDF's text: laid out as on the page (a table's row on one line), or in reading
    order (a table cell's lines together)."""
    first_last = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    return subprocess.run(["pdftotext", *(["-layout"] if layout else []), *first_last, str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def kpi_line(text: str, label: str) -> str:
    """The line of the headline table that starts with the label (two spaces after it)."""
    lines = [line for line in text.splitlines() if re.match(rf"\s*{re.escape(label)}\s{{2,}}", line)]
    assert lines, f"no line for {label!r}"
    return lines[0]


@pytest.fixture(scope="module")
def isolated_env(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MFHC_CONFIG", str(tmp_path_factory.mktemp("config") / "no-config.toml"))
        patch.setenv("MFHC_PSEUDONYM_KEY", "test-key-not-secret")
        patch.delenv("MFHC_DB", raising=False)
        patch.delenv("MFHC_STATE_DIR", raising=False)
        yield


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory, isolated_env):
    """A small synthetic store, its board pack for 2025/26 (suppressed) and `mfhc kpis --json`."""
    from pipelines import generate

    tmp = tmp_path_factory.mktemp("report-synthetic")
    source = tmp / "src"
    generate.generate(source, children=150, years=2)
    (source / SYNTHETIC_MARKER).write_text("synthetic", encoding="utf-8")
    db = tmp / "store" / "mfhc.duckdb"
    load(source, Settings(db_path=db))
    pdf = tmp / "pack.pdf"
    result = run("report", "--from", YEAR[0], "--to", YEAR[1], "--db", db, "--out", pdf)
    assert result.exit_code == 0, result.output
    figures = run("kpis", "--from", YEAR[0], "--to", YEAR[1], "--db", db, "--json")
    assert figures.exit_code == 0, figures.output
    return {"db": db, "pdf": pdf, "text": pdf_text(pdf), "kpis": json.loads(figures.output)}


@pytest.fixture(scope="module")
def small(tmp_path_factory, isolated_env):
    """The hand-built store of the module's docstring, a checklist answer, and its pack
    for Q1 2025/26 twice: suppressed and with --show-small-numbers."""
    tmp = tmp_path_factory.mktemp("report-small")
    source = tmp / "src"
    write_table(source, "police_incidents", [
        police("I1", "P1", "2025-05-02T08:00", "2025-05-02T20:00", risk_level="high"),
        police("I2", "P1", "2025-05-09T08:00", "2025-05-09T20:00"),
        police("I3", "P1", "2025-05-20T08:00", "2025-05-20T20:00"),
        police("I4", "P2", "2025-06-01T08:00", "2025-06-01T11:00"),
    ])
    write_table(source, "return_interviews", [
        rhi("R1", "completed", "2025-05-03T08:00", "2025-05-03T09:00", person_ref="P1", episode_refs="I1",
            provider="Service A"),
    ])
    (source / SYNTHETIC_MARKER).write_text("synthetic", encoding="utf-8")
    db = tmp / "store" / "mfhc.duckdb"
    settings = Settings(db_path=db)
    load(source, settings)
    record_answer("return-interviews", "partly", "Take-up reviewed quarterly by the missing lead.", "chair.smith",
                  settings=settings, at=dt.datetime(2025, 7, 14, 10, 0, tzinfo=dt.timezone.utc))
    suppressed, shown = tmp / "suppressed.pdf", tmp / "shown.pdf"
    result = run("report", "--from", QUARTER[0], "--to", QUARTER[1], "--db", db, "--out", suppressed)
    assert result.exit_code == 0, result.output
    result = run("report", "--from", QUARTER[0], "--to", QUARTER[1], "--db", db, "--out", shown,
                 "--show-small-numbers")
    assert result.exit_code == 0, result.output
    return {"db": db, "settings": settings, "suppressed": pdf_text(suppressed), "shown": pdf_text(shown),
            "pdf": suppressed}


# --------------------------------------------------------------------------- the real store

@pytest.mark.slow
def test_pdf_holds_the_kpis_of_mfhc_kpis(synthetic):
    figures = synthetic["kpis"]
    with read_only(synthetic["db"]) as con:
        board = compute_kpis(con, dt.date.fromisoformat(YEAR[0]), dt.date.fromisoformat(YEAR[1]), suppress=True)
    # The suppressed figures are `mfhc kpis`'s wherever nothing was withheld.
    for key, value in board.items():
        if key not in ("suppressed", "episodes_by_category") and key not in board["suppressed"]:
            assert value == figures[key], key
    text = synthetic["text"]
    for label, key, pct_key, kind in KPI_ROWS:
        line = kpi_line(text, label)
        value = board["episodes_by_category"][key.split(".")[1]] if "." in key else board[key]
        if value == "<5":
            expected = "<5"
        elif kind == "ratio":
            expected = f"{value:.2f}"
        elif kind == "number":
            expected = f"{value:,.1f}"
        else:
            expected = f"{value:,}"
        assert re.search(rf"(?<![\d,.]){re.escape(expected)}(?![\d,])", line), (label, expected, line)
        if pct_key and board[pct_key] is not None:
            assert f"({board[pct_key]:.1f}%)" in line, (label, line)


@pytest.mark.slow
def test_pages_render_to_images(synthetic, tmp_path):
    from PIL import Image, ImageStat

    pages = pdf_pages(synthetic["pdf"])
    assert 8 <= pages <= 16
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(synthetic["pdf"]), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages
    for image in images:
        with Image.open(image) as picture:
            grey = picture.convert("L")
            assert grey.getextrema()[0] < 128, f"{image.name} is blank"
            assert ImageStat.Stat(grey).stddev[0] > 5, f"{image.name} is blank"


@pytest.mark.slow
def test_page_numbers_cover_and_sections(synthetic):
    text = synthetic["text"]
    pages = pdf_pages(synthetic["pdf"])
    for number in range(1, pages + 1):
        assert f"Page {number} of {pages}" in text
    cover = pdf_text(synthetic["pdf"], 1)
    assert "Wolverhampton" in cover
    assert "Financial year 2025/26" in cover and "1 April 2025 to 31 March 2026" in cover
    assert "SYNTHETIC DATA" in cover
    with read_only(synthetic["db"]) as con:
        latest = con.execute("select max(start_date) from fct_episode").fetchone()[0]
    assert "Data as at" in cover and f"the latest episode started {latest:%-d %B %Y}" in cover
    for heading in ("Headline figures", "What the figures say", "Children's homes", "Area hotspots",
                    "Repeat missing", "Return interviews", "Board checklist", "Appendix A: data quality",
                    "Appendix B: glossary"):
        assert heading in text
    assert "Improved on a year before" in text and "Worsened on a year before" in text


# --------------------------------------------------------------------------- small numbers

@pytest.mark.slow
def test_small_counts_print_as_under_5_and_not_the_number(small):
    text = small["suppressed"]
    for label, raw in (("Episodes", "4"), ("Children", "2"), ("Children with 2 or more episodes", "1"),
                       ("High-risk episodes", "1")):
        line = kpi_line(text, label)
        rest = line.split(label, 1)[1]
        assert rest.split()[0] == "<5", line
        assert raw not in re.findall(r"(?<![\d.,<])\d+(?![\d.,])", rest), line
    # Nor anywhere else: chart captions and the narrative say <5 too.
    flat = re.sub(r"\s+", " ", text)
    assert "4 episodes" not in flat and "2 children" not in flat
    assert "<5 episodes of <5 children started" in flat
    # A percentage built on fewer than 5 returned episodes is not shown.
    assert "(% not shown)" in kpi_line(text, "RHIs completed within 72 hours")
    assert "Small numbers" in text and "Suppressed" in text
    assert "SMALL NUMBERS SHOWN" not in text


@pytest.mark.slow
def test_show_small_numbers_prints_them(small):
    text = small["shown"]
    assert re.search(r"\s4\s", kpi_line(text, "Episodes")[len("Episodes"):])
    assert re.search(r"\s2\s", kpi_line(text, "Children")[len("Children"):])
    assert "(25.0%)" in kpi_line(text, "RHIs completed within 72 hours")  # 1 of 4 returned episodes
    assert "SMALL NUMBERS SHOWN" in text


@pytest.mark.slow
def test_charts_draw_no_count_from_1_to_4(small, isolated_env):
    """The figures handed to kaleido: no bar or point of a count from 1 to 4 is drawn."""
    with read_only(small["db"]) as con:
        context = pack_context(small["settings"], con, dt.date(2025, 4, 1), dt.date(2025, 6, 30), True, "t")
    trend, funnel = context["overview_charts"]
    bands, newly, escalation = context["repeat_charts"]
    factors = context["interview_charts"][-1]
    for chart in (trend, funnel, bands, newly, escalation, factors):
        for trace in chart.figure.data:
            values = [v for axis in (trace.x, trace.y) for v in (axis if axis is not None else ())
                      if isinstance(v, (int, float)) and not isinstance(v, bool)]
            assert not [v for v in values if 0 < v < 5], (chart.title, trace.name, values)
    assert any("<5" in str(a.text) for a in bands.figure.layout.annotations)
    # The homes and the funnel plot: no home placed with 1-4 episodes (no homes here at all).
    assert context["homes"]["small_homes"] == 0


@pytest.mark.slow
def test_funnel_plot_and_homes_table_leave_out_homes_of_1_to_4_episodes(synthetic):
    settings = Settings(db_path=synthetic["db"])
    start, end = (dt.date.fromisoformat(d) for d in YEAR)
    with read_only(synthetic["db"]) as con:
        suppressed = pack_context(settings, con, start, end, True, "t")["homes"]
        shown = pack_context(settings, con, start, end, False, "t")["homes"]
    frame = suppressed["frame"]
    small_homes = set(frame.loc[frame["episodes"].between(1, 4), "home_name"])
    assert small_homes, "the synthetic store should have a home of 1 to 4 episodes"
    drawn_x = [x for trace in suppressed["chart"].figure.data if trace.mode and "markers" in trace.mode
               for x in trace.x]
    placed = frame[(frame["placed_child_years"] > 0) & ~frame["home_name"].isin(small_homes)]
    assert len(drawn_x) == len(placed)
    assert not small_homes & {row["home"] for row in suppressed["table"]}
    assert all(row["episodes"] != "<5" for row in suppressed["table"])
    assert suppressed["small_homes"] == len(small_homes)
    # Shown in full, every home with placement days is placed.
    assert shown["small_homes"] == 0
    assert len([x for trace in shown["chart"].figure.data if trace.mode and "markers" in trace.mode
                for x in trace.x]) == int((frame["placed_child_years"] > 0).sum())


@pytest.mark.slow
def test_checklist_answer_appears_with_who_and_when(small):
    text = re.sub(r"\s+", " ", pdf_text(small["pdf"], layout=False))
    assert "Take-up reviewed quarterly by the missing lead." in text
    assert "chair.smith, 14 Jul 2025" in text
    assert "partly" in text and "not answered" in text


@pytest.mark.slow
def test_audit_log_records_the_pack(small):
    entries = [e for e in audit.entries(settings=small["settings"]) if e["event"] == "board_pack"]
    assert len(entries) == 2
    suppressed, shown = entries
    assert suppressed["what"] == "2025-04-01..2025-06-30" and suppressed["where"] == "cli"
    assert suppressed["details"] == {"pages": pdf_pages(small["pdf"]), "suppressed": True}
    assert shown["details"]["suppressed"] is False
    assert audit.verify(settings=small["settings"]) >= 2


# --------------------------------------------------------------------------- cheap checks

def test_glossary_is_quoted_from_docs_metrics():
    def plain(text: str) -> str:
        return re.sub(r"\s+", " ", text.replace("**", "").replace("`", "")).strip()

    docs = plain((ROOT / "docs" / "metrics.md").read_text(encoding="utf-8"))
    missing = [term for term, definition, _ in GLOSSARY if plain(definition) not in docs]
    assert missing == []
    assert all(section for _, _, section in GLOSSARY)


def test_every_kpi_is_in_the_table():
    from pipelines.kpis import KPI_KEYS

    keys = {key.split(".")[0] for _, key, _, _ in KPI_ROWS}
    assert set(KPI_KEYS) <= keys


def test_fetcher_reads_only_data_and_template_files(tmp_path):
    fetcher = local_only_fetcher()
    for url in ("http://example.org/a.png", "https://example.org/a.css", f"file://{tmp_path}/x.css",
                "ftp://example.org/a"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    from weasyprint.urls import FatalURLFetchingError

    with pytest.raises(FatalURLFetchingError):
        html_to_pdf('<html><body><img src="http://127.0.0.1:9/x.png"></body></html>')


def test_usage_errors_and_missing_store(tmp_path):
    assert run("report", "--from", "2025-04-01", "--to", "2026-03-31").exit_code == 2
    assert run("report", "--from", "2026-04-01", "--to", "2026-03-31", "--out", tmp_path / "a.pdf").exit_code == 2
    missing = run("report", "--from", "2025-04-01", "--to", "2026-03-31", "--db", tmp_path / "none.duckdb",
                  "--out", tmp_path / "a.pdf")
    assert missing.exit_code == 1 and "no store yet" in missing.output
    no_folder = run("report", "--from", "2025-04-01", "--to", "2026-03-31", "--db", tmp_path / "none.duckdb",
                    "--out", tmp_path / "nowhere" / "a.pdf")
    assert no_folder.exit_code == 1
    assert not (tmp_path / "a.pdf").exists()
