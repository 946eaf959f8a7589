"""Dashboard without a browser: filter state, the shell, and the Overview's figures equal `mfhc kpis`."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from hypothesis import given, strategies as st

from dashboard import data
from dashboard.app import create_app, shell
from dashboard.components import csv_text, frame_to_store, store_to_frame
from dashboard.figures.overview import change_words, funnel_frame, summary_sentences
from dashboard.filters import AGE_BANDS, CARE_OPTIONS, Filters, financial_quarter, financial_year, period_options
from pipelines.config import Settings
from pipelines.kpis import compute_kpis
from pipelines.load import SYNTHETIC_MARKER, load
from pipelines.store import read_only
from sources import police, write_table, write_three_episodes


@pytest.fixture()
def demo_store(tmp_path):
    source = tmp_path / "src"
    write_three_episodes(source)
    (source / SYNTHETIC_MARKER).write_text("synthetic", encoding="utf-8")
    db = tmp_path / "mfhc.duckdb"
    load(source, Settings(db_path=db))
    create_app(db)
    yield db
    data.configure(None)


def test_financial_years_and_quarters():
    assert financial_year(dt.date(2025, 3, 31)) == (dt.date(2024, 4, 1), dt.date(2025, 3, 31))
    assert financial_quarter(dt.date(2025, 2, 10)) == (dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    assert financial_quarter(dt.date(2025, 11, 30)) == (dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    options = period_options(dt.date(2024, 6, 1), dt.date(2025, 5, 1))
    assert options[0] == {"label": "Financial year 2025/26", "value": "2025-04-01_2026-03-31"}
    assert {"label": "Q2 2024/25 (Jul–Sep 2024)", "value": "2024-07-01_2024-09-30"} in options


@given(
    st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 1, 1)),
    st.integers(0, 800),
    st.sampled_from(sorted(CARE_OPTIONS)),
    st.sampled_from([None, *AGE_BANDS]),
    st.sampled_from([None, "F", "M", "U"]),
    st.sampled_from([None, "White", "Black", "Not known"]),
    st.sampled_from([None, "high", "no_apparent_risk"]),
)
def test_url_reproduces_the_filters(start, days, care, age, sex, ethnicity, risk):
    filters = Filters(start, start + dt.timedelta(days=days), care, age, sex, ethnicity, risk)
    assert Filters.from_query(filters.to_query(), Filters.default(None)) == filters


def test_crafted_filter_values_fall_back_to_no_filter():
    fallback = Filters.default(dt.date(2025, 6, 1))
    crafted = Filters.from_query("?from=x&to=2025-01-01&care=evil&age=1%27%20or%201=1&risk=high", fallback)
    assert crafted.care == "all" and crafted.age_band is None and crafted.risk_level == "high"
    # The unreadable start falls back to the default (1 April 2025), after the end: the two are swapped.
    assert (crafted.period_start, crafted.period_end) == (dt.date(2025, 1, 1), dt.date(2025, 4, 1))


def test_shell_shows_the_banner_and_the_filters_from_the_url(demo_store):
    page = str(shell({"from": "2025-04-01", "to": "2025-06-30", "care": "care"}))
    assert "Synthetic demonstration data" in page
    assert "filter-care" in page and "'care'" in page


def test_overview_figures_equal_mfhc_kpis(demo_store):
    from dashboard.pages.overview import update_overview

    values = ("2025-04-01", "2026-03-31", "all", None, None, None, None)
    period, tiles, summary, *charts = update_overview(*values)
    with read_only(demo_store) as con:
        expected = compute_kpis(con, dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    shown = {tile.children[1].children: tile.children[0].children for tile in tiles}
    assert shown["Episodes"] == str(expected["episodes"]) == "2"
    assert shown["Children"] == "2"
    assert shown["High-risk episodes"] == "1"
    assert shown["RHIs completed within 72 hours"] == "50.0%"
    funnel = store_to_frame(charts[4])
    assert funnel["episodes"].tolist() == [2, 1, 1, 1, 1]


def test_filters_change_the_figures(demo_store):
    care_only = Filters(dt.date(2025, 4, 1), dt.date(2026, 3, 31), care="care")
    assert data.kpis(care_only)["episodes"] == 1
    assert data.query("overview_monthly_trend", care_only)["episodes"].tolist() == [1]
    under_ten = Filters(dt.date(2025, 4, 1), dt.date(2026, 3, 31), age_band="13-15")
    assert data.kpis(under_ten)["episodes"] == 2


def test_change_words_say_direction_without_colour():
    assert change_words(12, 10, "count", "a year before") == "▲ up 2 on a year before (10)"
    assert change_words(48.0, 61.0, "pct", "a year before") == "▼ down 13.0 points on a year before (61.0%)"
    assert change_words(None, 3, "count", "a year before") == "no figure for a year before"


def test_summary_is_written_from_the_figures():
    current = {"episodes": 120, "children": 50, "repeat_children": 20, "rhi_completed_within_72h_pct": 48.0,
               "rhi_offered_within_72h_pct": 70.0, "still_missing": 0}
    before = {**current, "episodes": 100, "rhi_completed_within_72h_pct": 61.0}
    text = summary_sentences(current, before, before)
    assert "RHIs completed within 72 hours fell from 61.0% a year before to 48.0%." in text
    assert "There were 20% more episodes than in the previous period." in text


def test_csv_download_neutralises_formulas_and_matches_the_data():
    import pandas as pd

    frame = pd.DataFrame({"area": ["=HYPERLINK(1)", "Bilston", "+1", "-2", "@x"], "episodes": [1, 2, 3, 4, 5]})
    text = csv_text(store_to_frame(frame_to_store(frame)))
    assert text.splitlines() == ["area,episodes", "'=HYPERLINK(1),1", "Bilston,2", "'+1,3", "'-2,4", "'@x,5"]


def test_funnel_frame_percentages():
    kpis = {"returned_missing_episodes": 4, "rhi_offered": 3, "rhi_offered_within_72h": 2, "rhi_completed": 1,
            "rhi_completed_within_72h": 0}
    assert funnel_frame(kpis)["percent_of_returned"].tolist() == [100.0, 75.0, 50.0, 25.0, 0.0]


def test_a_damaged_store_gives_a_clear_page_not_a_traceback(tmp_path):
    broken = tmp_path / "mfhc.duckdb"
    broken.write_bytes(b"this is not a duckdb file" * 100)
    create_app(broken)
    try:
        assert "could not be read" in str(shell({}))
    finally:
        data.configure(None)


def test_previous_period_steps_back_whole_months_and_days_otherwise():
    year = Filters(dt.date(2024, 4, 1), dt.date(2025, 3, 31))
    assert (year.previous_period().period_start, year.previous_period().period_end) == (
        dt.date(2023, 4, 1), dt.date(2024, 3, 31))
    quarter = Filters(dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    assert (quarter.previous_period().period_start, quarter.previous_period().period_end) == (
        dt.date(2024, 10, 1), dt.date(2024, 12, 31))
    days = Filters(dt.date(2025, 1, 10), dt.date(2025, 1, 19))
    assert (days.previous_period().period_start, days.previous_period().period_end) == (
        dt.date(2024, 12, 31), dt.date(2025, 1, 9))
    assert year.year_before().period_start == dt.date(2023, 4, 1)


def test_a_new_load_is_served_without_a_restart(tmp_path):
    db = tmp_path / "mfhc.duckdb"
    source = tmp_path / "src"
    write_table(source, "police_incidents", [police("I1", "P1", "2025-05-01T08:00", "2025-05-01T10:00")])
    load(source, Settings(db_path=db))
    create_app(db)
    try:
        period = Filters(dt.date(2025, 4, 1), dt.date(2026, 3, 31))
        assert data.kpis(period)["episodes"] == 1
        write_table(source, "police_incidents", [police("I1", "P1", "2025-05-01T08:00", "2025-05-01T10:00"),
                                                 police("I2", "P2", "2025-06-01T08:00", "2025-06-01T10:00")])
        load(source, Settings(db_path=db))
        assert data.kpis(period)["episodes"] == 2
    finally:
        data.configure(None)


def test_one_store_connection_per_request_closed_at_the_end(demo_store):
    app = create_app(demo_store)
    with app.server.test_request_context():
        with data.connection() as first, data.connection() as second:
            assert first is second
        data.close_request_connection()
        import flask

        assert "mfhc_store" not in flask.g


def test_one_instance_per_store_version_and_readers_of_a_replaced_store_finish(tmp_path):
    """Requests share the worker's instance over the store; a store swapped in by os.replace
    is a new instance at the next request, while a request already reading the old one
    finishes on the old one (DuckDB's own instance cache would hand back the old file)."""
    import os

    from sources import store_of_this_build

    db = tmp_path / "mfhc.duckdb"

    def write_store(path, value):  # a store of this version's build, of one value
        con = store_of_this_build(path)
        con.execute("create table answer as select ?::integer as value", [value])
        con.close()

    write_store(db, 1)
    data.configure(db)
    try:
        old_reader, old_version = data._open(db, None)
        again, same_version = data._open(db, None)
        assert same_version == old_version
        assert data._instances[str(db)][2] is data._instance(db, None)[0]
        assert again.execute("select value from answer").fetchone() == (1,)
        again.close()

        write_store(tmp_path / "next.duckdb", 2)
        os.replace(tmp_path / "next.duckdb", db)
        new_reader, new_version = data._open(db, None)
        assert new_version != old_version
        assert new_reader.execute("select value from answer").fetchone() == (2,)
        assert old_reader.execute("select value from answer").fetchone() == (1,)
        with pytest.raises(data.StoreChanged):
            data._open(db, old_version)
        old_reader.close()
        new_reader.close()
    finally:
        data.forget_instances()
        data.configure(None)


@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(-10**6, 10**6)),
                          st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False)),
                          st.one_of(st.none(), st.text(max_size=5)),
                          st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)))),
                max_size=30))
def test_store_rows_hold_every_value_and_none_for_every_missing_one(rows):
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["count", "share", "label", "day"])
    frame["day"] = pd.to_datetime(frame["day"])
    frame["count"] = frame["count"].astype("Int64")
    store = frame_to_store(frame)
    assert store["columns"] == ["count", "share", "label", "day"] and len(store["data"]) == len(rows)
    for (count, share, label, day), stored in zip(rows, store["data"]):
        assert stored[0] == count and stored[2] == label
        assert stored[1] == (None if share is None or share != share else share)
        assert stored[3] == (day.isoformat() if day else None)
    assert store_to_frame(store).shape == frame.shape


def test_a_long_table_draws_its_first_rows_and_downloads_them_all():
    import pandas as pd

    import dashboard.components as components

    rows = components.HTML_TABLE_ROWS + 5
    frame = pd.DataFrame({"child": [f"c{n:04d}" for n in range(rows)], "episodes": range(rows)})

    def parts(table):
        found = {"tr": 0, "store": None, "note": None}

        def walk(node):
            name = type(node).__name__
            if name == "Markdown":    # the table, as one component of its markup
                found["tr"] += node.children.count("<tr>")
            if name == "Store":
                found["store"] = node.data
            if name == "P":
                found["note"] = node.children
            children = getattr(node, "children", None)
            for child in children if isinstance(children, list) else [children] if children is not None else []:
                if hasattr(child, "to_plotly_json"):
                    walk(child)
        walk(table)
        return found

    plain = parts(components.downloadable_table(frame, "caption", "test-plain-table"))
    assert plain["tr"] == components.HTML_TABLE_ROWS + 1          # the header and the first rows
    assert len(plain["store"]["data"]) == rows and "the downloads hold them all" in plain["note"]

    components.full_rows_from_server("test-long-table", lambda filters: frame)
    try:
        served = parts(components.downloadable_table(frame, "caption", "test-long-table"))
        assert len(served["store"]["data"]) == components.HTML_TABLE_ROWS and served["store"]["rows"] == rows
        sent = components._download(1, served["store"], "test-long-table", "csv",
                                    (None,) * len(components.FILTER_INPUTS))
        assert len(sent["content"].splitlines()) == rows + 1
    finally:
        components._FULL_ROWS.pop("test-long-table")
    short = parts(components.downloadable_table(frame.head(3), "caption", "test-plain-table"))
    assert short["tr"] == 4 and short["note"] is None


def test_a_request_asks_the_store_each_question_once(demo_store, monkeypatch):
    """A year's previous period is the year before: the Overview asks for both, the store is
    asked once; the next request asks again (nothing is kept across requests)."""
    import flask

    from dashboard.pages.overview import update_overview

    monkeypatch.setenv("MFHC_CACHE", "off")
    data.configure(demo_store)
    ran = []
    real = data.run_named
    monkeypatch.setattr(data, "run_named", lambda con, name, params=None: ran.append(name) or real(con, name, params))
    app = create_app(demo_store)
    values = ("2025-04-01", "2026-03-31", "all", None, None, None, None, None)
    for _ in range(2):
        with app.server.test_request_context():
            flask.g.mfhc_user = data.Viewer("t", "analyst")
            update_overview(*values)
            data.close_request_connection()
    assert ran.count("kpis") == 4 and ran.count("overview_monthly_trend") == 2, ran


class _TableReader(HTMLParser):
    """The caption, header cells and body rows of one table's markup, and every tag seen."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.caption, self.header, self.rows = [], "", [], []
        self._text, self._in = None, None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "tr" and self._in == "tbody":
            self.rows.append([])
        if tag in ("thead", "tbody"):
            self._in = tag
        if tag in ("caption", "th", "td"):
            self._text = ""

    def handle_data(self, data):
        if self._text is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "caption":
            self.caption = self._text
        elif tag == "th":
            self.header.append(self._text)
        elif tag == "td":
            self.rows[-1].append(self._text)
        if tag in ("caption", "th", "td"):
            self._text = None


# Markup's own characters and words drawn often, any other character now and then.
cell_text = st.lists(st.one_of(st.sampled_from(list("<>&\"'/=;# \n\r") + ["td", "tr", "b", "amp", "lt", "x3c"]),
                              st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))),
                     max_size=8).map("".join)


@given(st.lists(cell_text, min_size=1, max_size=4, unique=True),
       st.lists(st.lists(st.one_of(cell_text, st.none(), st.integers(), st.floats(allow_nan=True))), max_size=5),
       cell_text)
def test_a_drawn_table_is_its_cells_text_whatever_they_hold(columns, rows, caption):
    """Any text in a cell, header or caption comes back as that text (a line break as a
    space), inside the one table's structure: no value can add markup."""
    import pandas as pd

    from dashboard.components import _cell_text, html_table, table_html

    frame = pd.DataFrame([(row + [None] * len(columns))[:len(columns)] for row in rows], columns=columns)
    markup = table_html(frame, caption)
    assert "\n" not in markup and "\r" not in markup    # one HTML block of one line for the Markdown
    reader = _TableReader()
    reader.feed(markup)
    reader.close()
    flat = lambda text: text.replace("\r", " ").replace("\n", " ")  # noqa: E731
    assert reader.header == [flat(c) for c in columns]
    assert reader.rows == [[flat(_cell_text(v)) for v in row] for row in frame.itertuples(index=False, name=None)]
    assert reader.caption == (flat(caption) if caption else "")
    allowed = {"table", "caption", "thead", "tbody", "tr", "th", "td"}
    assert set(reader.tags) <= allowed
    assert reader.tags.count("tr") == len(frame) + 1
    component = html_table(frame, caption)
    assert component.children == markup and component.dangerously_allow_html
