"""Reusable pieces of every page: a chart card with its text summary, its data as a table
(toggle) and a CSV download of exactly the rows the chart draws.

A chart's rows travel with its figure (a `dcc.Store`) for the data table and downloads. A
chart with thousands of rows (the homes funnel: one per children's home, 12,672 nationally)
holds only the rows its data table shows (`TABLE_ROWS`); its downloads are built on the
server from the same named queries (`full_rows_from_server`), for the viewer's role."""

from __future__ import annotations

from html import escape

import flask
import pandas as pd
from dash import MATCH, Input, Output, State, callback, clientside_callback, dcc, html, no_update

from dashboard import access, data
from dashboard.filters import FILTER_INPUTS, Filters
from pipelines.spreadsheet import csv_text, xlsx_bytes
from pipelines.suppression import display_frame

TOPOJSON_URL = "/assets/topojson/"
GRAPH_CONFIG = {"displaylogo": False, "topojsonURL": TOPOJSON_URL}


def chart_card(chart_id: str, title: str, description: str = "") -> html.Section:
    """A chart with a heading, a plain-text summary (its text alternative), a data table
    toggle and a CSV download. The page's callback fills it through `chart_outputs`."""
    return html.Section([
        html.H2(title, id=f"{chart_id}-title"),
        html.P(description, className="chart-description") if description else None,
        html.Figure([
            dcc.Loading(dcc.Graph(id=f"{chart_id}-graph", config=GRAPH_CONFIG)),
            html.Figcaption(id=f"{chart_id}-summary", className="chart-summary", **{"aria-live": "polite"}),
        ], **{"aria-labelledby": f"{chart_id}-title"}),
        html.Div([
            html.Button("Show data table", id={"type": "table-toggle", "chart": chart_id}, n_clicks=0,
                        className="button secondary", **{"aria-expanded": "false"}),
            html.Button("Download CSV", id={"type": "csv-button", "chart": chart_id}, n_clicks=0,
                        className="button secondary"),
            html.Button("Download Excel", id={"type": "xlsx-button", "chart": chart_id}, n_clicks=0,
                        className="button secondary"),
        ], className="chart-actions"),
        dcc.Download(id={"type": "csv-download", "chart": chart_id}),
        dcc.Download(id={"type": "xlsx-download", "chart": chart_id}),
        dcc.Store(id={"type": "chart-data", "chart": chart_id}),
        dcc.Store(id={"type": "chart-table-refresh", "chart": chart_id}),
        html.Div(id={"type": "chart-table", "chart": chart_id}, hidden=True, className="chart-table"),
    ], className="chart-card", id=f"{chart_id}-card", **{"aria-labelledby": f"{chart_id}-title"})


def chart_outputs(chart_id: str) -> list[Output]:
    return [
        Output(f"{chart_id}-graph", "figure"),
        Output({"type": "chart-data", "chart": chart_id}, "data"),
        Output(f"{chart_id}-summary", "children"),
    ]


TABLE_ROWS = 500   # rows a chart's data table shows
_FULL_ROWS: dict = {}


def full_rows_from_server(chart_id: str, rows_of) -> None:
    """Register how the server rebuilds every row of a large chart or table for its downloads:
    `rows_of(filters)` returns the frame the page passed to `chart_values` or
    `downloadable_table` (the name is the chart's id or the table's name)."""
    _FULL_ROWS[chart_id] = rows_of


def chart_values(figure, frame: pd.DataFrame, summary: str, chart_id: str | None = None) -> tuple:
    """The figure, its rows for the table and downloads (withheld small numbers as `<5`), and
    its words. A chart registered with `full_rows_from_server` (name it in `chart_id`) sends
    only the rows its data table shows, with the count of all of them."""
    shown = display_frame(frame)
    if chart_id in _FULL_ROWS and len(shown) > TABLE_ROWS:
        store = frame_to_store(shown.head(TABLE_ROWS))
        store["rows"] = len(shown)
        return figure, store, summary
    return figure, frame_to_store(shown), summary


def not_in_view(roles: tuple) -> html.Div | None:
    """For a page some roles may not open: None when the viewer may, else what they see instead."""
    role = data.viewer().role
    if role in roles:
        return None
    names = ", ".join(access.ROLE_LABELS[r].lower() + "s" for r in roles if r != "admin")
    return html.Div([html.H1("Not in your view"),
                     html.P(f"This page is for {names}. Your role is {access.ROLE_LABELS.get(role, role).lower()}.")])


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def frame_to_store(frame: pd.DataFrame) -> dict:
    """A frame as JSON-ready rows: dates as ISO text, every missing value None. Column by
    column (a pandas pass over the whole frame cost more than the chart it feeds)."""
    columns = []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            column = column.dt.strftime("%Y-%m-%d")
        values = column.tolist()
        if column.dtype.kind not in "biu" or isinstance(column.dtype, pd.api.extensions.ExtensionDtype):
            values = [None if _missing(value) else value for value in values]
        columns.append(values)
    return {"columns": [str(c) for c in frame.columns], "data": [list(row) for row in zip(*columns)]}


def store_to_frame(store: dict | None) -> pd.DataFrame:
    if not store:
        return pd.DataFrame()
    return pd.DataFrame(store["data"], columns=store["columns"])


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return str(value)


def _escaped(value) -> str:
    """A cell's text as HTML text: every markup character escaped, and a line break a space
    (so the table stays one HTML block of one line for the Markdown component)."""
    return escape(_cell_text(value), quote=True).replace("\r", " ").replace("\n", " ")


def table_html(frame: pd.DataFrame, caption: str = "") -> str:
    """The frame as the markup of one HTML table (caption, column headers, rows), every text
    escaped."""
    head = "".join(f'<th scope="col">{_escaped(c)}</th>' for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_escaped(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False, name=None))
    return ('<table class="data-table">' + (f"<caption>{_escaped(caption)}</caption>" if caption else "")
            + f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def html_table(frame: pd.DataFrame, caption: str = "") -> dcc.Markdown:
    """A table the page draws as one component: its escaped markup (`table_html`) in a
    Markdown component that passes HTML through. The same table as html.Table, html.Tr and
    html.Td components was one Dash component per cell, and the browser's Dash renderer
    does work for every component of a page on every update (about 180 ms a visit of the
    homes or care page, with 100 rows drawn); the markup also carries a fraction of the
    bytes."""
    return dcc.Markdown(table_html(frame, caption), dangerously_allow_html=True, className="data-table-holder")


# A chart's new rows redraw its data table only while the table is shown: decided in the
# browser, so a page's charts cost no request each for their hidden tables.
clientside_callback(
    """function(rows, clicks) {
        return (clicks && clicks % 2) ? Date.now() : window.dash_clientside.no_update;
    }""",
    Output({"type": "chart-table-refresh", "chart": MATCH}, "data"),
    Input({"type": "chart-data", "chart": MATCH}, "data"),
    State({"type": "table-toggle", "chart": MATCH}, "n_clicks"),
    prevent_initial_call=True,
)


@callback(
    Output({"type": "chart-table", "chart": MATCH}, "children"),
    Output({"type": "chart-table", "chart": MATCH}, "hidden"),
    Output({"type": "table-toggle", "chart": MATCH}, "children"),
    Output({"type": "table-toggle", "chart": MATCH}, "aria-expanded"),
    Input({"type": "table-toggle", "chart": MATCH}, "n_clicks"),
    Input({"type": "chart-table-refresh", "chart": MATCH}, "data"),
    State({"type": "chart-data", "chart": MATCH}, "data"),
    prevent_initial_call=True,
)
def _toggle_table(n_clicks, _refreshed, store):
    shown = bool(n_clicks and n_clicks % 2)
    if not shown:
        return None, True, "Show data table", "false"
    table = html_table(store_to_frame(store).head(TABLE_ROWS))
    rows = (store or {}).get("rows")
    if rows:
        return (html.Div([html.P(f"The first {TABLE_ROWS:,} of {rows:,} rows; the downloads hold them all.",
                                 className="chart-description"), table]), False, "Hide data table", "true")
    return table, False, "Hide data table", "true"


def _download(n_clicks, store, name: str, kind: str, filter_values=()):
    """A chart's or table's rows as the file asked for (audited); formulas neutralised. A
    chart holding only some of its rows has them all rebuilt on the server for this viewer."""
    if not n_clicks:
        return no_update
    if (store or {}).get("rows") and name in _FULL_ROWS:
        filters = Filters.from_values(*filter_values)
        frame = display_frame(_FULL_ROWS[name](filters))
    else:
        frame = store_to_frame(store)
    name = _safe_name(name)
    filename = f"mfhc-{name}.{kind}"
    _audit_download(filename, frame)
    if kind == "csv":
        return dcc.send_string(csv_text(frame), filename)
    return dcc.send_bytes(xlsx_bytes({name: frame}), filename)


def _register_downloads(group: str, key: str, data_type: str) -> None:
    """CSV and Excel downloads for every component of a group (charts or tables)."""
    filter_states = [State(item.component_id, item.component_property) for item in FILTER_INPUTS]
    for kind in ("csv", "xlsx"):
        def download(n_clicks, store, button_id, *filter_values, kind=kind):
            return _download(n_clicks, store, button_id[key], kind, filter_values)

        callback(
            Output({"type": f"{group}{kind}-download", key: MATCH}, "data"),
            Input({"type": f"{group}{kind}-button", key: MATCH}, "n_clicks"),
            State({"type": data_type, key: MATCH}, "data"),
            State({"type": f"{group}{kind}-button", key: MATCH}, "id"),
            *filter_states,
            prevent_initial_call=True,
        )(download)


_register_downloads("", "chart", "chart-data")
_register_downloads("table-", "table", "table-data")


HTML_TABLE_ROWS = 100   # rows of a downloadable table drawn in the page


def downloadable_table(frame: pd.DataFrame, caption: str, name: str, total_rows: int | None = None) -> html.Div:
    """A table with CSV and Excel downloads of exactly its rows (a callback's output). The
    page draws the first HTML_TABLE_ROWS (each cell is a component to build, send and draw);
    the downloads hold every row. A table registered with `full_rows_from_server` under its
    name sends only the rows drawn, and its downloads are rebuilt on the server; its page
    may pass only those first rows, with `total_rows` the count of all of them."""
    shown = display_frame(frame.head(HTML_TABLE_ROWS) if name in _FULL_ROWS else frame)
    total = len(frame) if total_rows is None else total_rows
    more = total - HTML_TABLE_ROWS
    store = frame_to_store(shown)
    if name in _FULL_ROWS and more > 0:
        store["rows"] = total
    return html.Div([
        html_table(shown.head(HTML_TABLE_ROWS), caption),
        html.P(f"The first {HTML_TABLE_ROWS:,} of {total:,} rows are shown; the downloads hold them all.",
               className="chart-description") if more > 0 else None,
        html.Div([
            html.Button("Download CSV", id={"type": "table-csv-button", "table": name}, n_clicks=0,
                        className="button secondary"),
            html.Button("Download Excel", id={"type": "table-xlsx-button", "table": name}, n_clicks=0,
                        className="button secondary"),
        ], className="chart-actions"),
        dcc.Store(id={"type": "table-data", "table": name}, data=store),
        dcc.Download(id={"type": "table-csv-download", "table": name}),
        dcc.Download(id={"type": "table-xlsx-download", "table": name}),
    ], className="downloadable-table")


def _safe_name(text) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in str(text))[:60] or "chart"


def _audit_download(name: str, frame: pd.DataFrame) -> None:
    """Downloads are audited. The rows come back from the browser's own copy of the chart's
    data, which the same role's callback put there; they are the rows the chart draws."""
    if flask.has_request_context():
        from dashboard import auth

        auth.record("download", what=name, rows=len(frame))
