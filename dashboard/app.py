"""The mfhc dashboard: a Dash multi-page app over the read-only store.

The shell (banner, navigation, filter bar, footer) is rendered once per full page load
from the URL's query string; pages live in dashboard/pages/. The filter state is written
back into the URL with `history.replaceState`, so a copied link reproduces the view
without the page re-rendering on every change.
"""

from __future__ import annotations

import os
from pathlib import Path

import dash
import duckdb
import flask
from dash import ALL, Dash, Input, Output, State, callback, clientside_callback, dcc, html

from dashboard import components  # noqa: F401  (registers the table and CSV callbacks)
from dashboard import access, auth, data, prefetch, prime, warm
from dashboard.figures.common import PLOTLY_JS
from dashboard.filters import FILTER_INPUTS, Filters, filter_bar
from pipelines.store import StoreMissing, StoreOutdated

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right 2024. Contains National Statistics data © Crown "
    "copyright and database right 2024. Source: Office for National Statistics, licensed under the Open "
    "Government Licence v3.0. English Indices of Deprivation 2019 © Ministry of Housing, Communities & Local "
    "Government, OGL v3.0."
)
SYNTHETIC_BANNER = "Synthetic demonstration data on Wolverhampton's real geography: not real children."


def navigation(query: str, role: str | None = None) -> html.Nav:
    """The pages this role may open (a page registered with `roles=` is for those roles only)."""
    pages = sorted((p for p in dash.page_registry.values() if role in p.get("roles", access.ROLES)),
                   key=lambda p: p.get("order", 99))
    return html.Nav(html.Ul([
        html.Li(dcc.Link(page["name"], href=page["relative_path"] + query,
                         id={"type": "nav-link", "path": page["relative_path"]}))
        for page in pages
    ]), className="site-nav", **{"aria-label": "Pages"})


def shell(query_args: dict) -> html.Div:
    try:
        facts = data.store_facts()
    except StoreOutdated:
        return html.Main([html.H1("The data needs loading again"),
                          html.P("The store was built by an earlier version of mfhc. An administrator should "
                                 "load the data again with `mfhc load`; the previous figures are not shown.")],
                         id="main")
    except StoreMissing as exc:
        return html.Main([html.H1("No data loaded yet"), html.P(str(exc))], id="main")
    except duckdb.Error:
        return html.Main([html.H1("The data store could not be read"),
                          html.P("The store file is damaged or from another version. Reload the data with "
                                 "`mfhc load`; the previous figures are not shown.")], id="main")
    filters = Filters.from_query(query_args, Filters.default(facts["last"]))
    query = filters.to_query()
    who = data.viewer()
    return html.Div([
        html.A("Skip to content", href="#main", className="skip-link"),
        html.Div(SYNTHETIC_BANNER, className="banner", role="status") if facts["synthetic"] else None,
        html.Header([
            html.Div([
                html.Span("mfhc", className="brand"),
                html.Span("Children missing from home and care", className="brand-sub"),
            ], className="brand-block"),
            html.Div([
                html.Span([f"Signed in as {who.name} ", html.Span(f"({access.ROLE_LABELS.get(who.role, who.role)})",
                                                               className="role")], className="signed-in"),
                html.A("Sign out", href="/logout", className="sign-out"),
                html.Button("Presentation mode", id="presentation-toggle", n_clicks=0,
                            className="button secondary", **{"aria-pressed": "false"}),
            ], className="header-actions"),
        ], className="site-header"),
        navigation(query, who.role),
        filter_bar(filters, facts["first"], facts["last"], access.may_show_small_numbers(who.role)),
        html.P(f"Data loaded {facts['loaded_at']}; episodes from {facts['first']} to {facts['last']}.",
               className="data-note"),
        html.Main(dash.page_container, id="main", tabIndex="-1"),
        html.Footer([html.P(ATTRIBUTION)], className="attribution"),
        dcc.Store(id="url-sync"),
        dcc.Store(id="page-view"),
        dcc.Location(id="url", refresh=False),
    ], id="shell")


def layout() -> html.Div:
    """The shell for the signed-in viewer. Dash also builds the layout once at its first-request
    setup, which may be a request without a session (the sign-in page): then only the page
    container (no data)."""
    try:
        data.viewer()
    except access.AccessDenied:
        return html.Div(html.Main(dash.page_container, id="main"), id="shell")
    args = dict(flask.request.args) if flask.has_request_context() else {}
    return shell(args)


@callback(
    Output("filter-period", "value"),
    Output("filter-start", "value", allow_duplicate=True),
    Output("filter-end", "value", allow_duplicate=True),
    Output("filter-care", "value"),
    Output("filter-age", "value"),
    Output("filter-sex", "value"),
    Output("filter-ethnicity", "value"),
    Output("filter-risk", "value"),
    Output("filter-small", "value"),
    Input("url", "search"),
    State("filter-period", "options"),
    prevent_initial_call="initial_duplicate",
)
def _filters_from_url(search, period_options):
    """The layout is fetched without the page's query string, so the filters are set from the
    URL once the page is in the browser (and again when a link changes it)."""
    filters = Filters.from_query(search or "", Filters.default(None))
    if not search or "from=" not in search:
        return (dash.no_update,) * 9
    period = f"{filters.period_start}_{filters.period_end}"
    known = {option["value"] for option in period_options or []}
    return (period if period in known else "custom", filters.period_start.isoformat(),
            filters.period_end.isoformat(), filters.care, filters.age_band, filters.sex,
            filters.ethnicity_group, filters.risk_level, "show" if filters.show_small else "hide")


@callback(
    Output("filter-start", "value"),
    Output("filter-end", "value"),
    Input("filter-period", "value"),
    State("filter-start", "value"),
    State("filter-end", "value"),
    prevent_initial_call=True,
)
def _period_to_dates(period, start, end):
    if not period or period == "custom":
        return start, end
    first, last = period.split("_")
    return first, last


@callback(
    Output({"type": "nav-link", "path": ALL}, "href"),
    *FILTER_INPUTS,
    State({"type": "nav-link", "path": ALL}, "id"),
    prevent_initial_call=True,
)
def _nav_links(*values):
    *filter_values, link_ids = values
    query = Filters.from_values(*filter_values).to_query()
    return [link["path"] + query for link in link_ids]


clientside_callback(
    """
    function(start, end, care, age, sex, ethnicity, risk, small) {
        const params = new URLSearchParams();
        if (start) params.set('from', String(start).slice(0, 10));
        if (end) params.set('to', String(end).slice(0, 10));
        if (care && care !== 'all') params.set('care', care);
        if (age) params.set('age', age);
        if (sex) params.set('sex', sex);
        if (ethnicity) params.set('ethnicity', ethnicity);
        if (risk) params.set('risk', risk);
        if (small === 'show') params.set('small', 'show');
        const query = '?' + params.toString();
        if (window.location.search !== query) {
            window.history.replaceState(window.history.state, '', window.location.pathname + query);
        }
        return query;
    }
    """,
    Output("url-sync", "data"),
    *FILTER_INPUTS,
)


@callback(Output("page-view", "data"), Input("url", "pathname"))
def _page_view(pathname):
    """Every page view goes to the audit log (the first load and each move between pages)."""
    if flask.has_request_context() and pathname:
        auth.record("page_view", what=str(pathname)[:200])
    return str(pathname)[:200] if pathname else None


def create_app(db_path: Path | None = None) -> Dash:
    data.configure(db_path)
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(Path(__file__).resolve().parent / "pages"),
        assets_folder=str(ASSETS),
        title="mfhc — children missing from home and care",
        serve_locally=True,
        suppress_callback_exceptions=True,
        update_title=None,
        assets_ignore=r"^plotly-mfhc\.min\.js$",   # served in place of Dash's Plotly.js (below)
    )
    app.index_string = app.index_string.replace("<html>", '<html lang="en-GB">', 1)
    app.layout = layout
    app.server.teardown_appcontext(data.close_request_connection)
    _serve_plotly(app)
    _serve_polyfill(app)
    auth.install(app)
    prime.prime()     # this process's first-chart costs (no data), whatever the cache's setting
    warm.install()
    prefetch.install()
    if warm.enabled() or prefetch.enabled():
        data.open_in_background()   # the store's version is new to this process: both run now
    prime.freeze_startup_objects()   # last: what the app made lives as long as the process
    return app


def _serve_plotly(app: Dash) -> None:
    """mfhc's Plotly.js bundle (assets/plotly/README.md: the trace types the charts draw,
    1.5 MB) at the address where `dcc.Graph` loads Plotly.js, in place of Dash's default
    bundle (every trace type, 4.8 MB; its WebGL traces need eval, which the Content Security
    Policy forbids). Loaded as Dash loads its own: when the first chart needs it, beside the
    page's other requests, not before the page starts. Only for a signed-in session, as
    every other script, with an ETag, as Dash serves its own.
    (Registered before `auth.install`, which ends the app's setup, so it asks the sign-in
    check itself.)"""
    address = app.config.requests_pathname_prefix + "_dash-component-suites/plotly/package_data/plotly.min.js"

    def plotly_bundle():
        if flask.request.path == address:
            refused = auth.require_session()
            if refused is not None:
                return refused
            return flask.send_file(PLOTLY_JS, mimetype="application/javascript", conditional=True, etag=True,
                                   max_age=None)
        return None

    app.server.before_request(plotly_bundle)


# Dash loads @babel/polyfill (core-js 2) before React. Its whitespace list still has U+180E,
# which the language stopped treating as whitespace in 2016, so in every current browser it
# takes the native String trims, parseFloat and parseInt for its own, slower, versions (and
# makes Function.prototype.toString call them native). Plotly trims strings all the time: on
# the children's homes page the polyfill's trim took 30-80 ms of each visit. The polyfill is
# served as Dash's file between a line that keeps these natives and one that puts them back.
POLYFILL = Path(dash.__file__).resolve().parent / "deps" / "polyfill@7.12.1.min.js"
NATIVES_KEPT = (
    "window.__mfhcNatives=[[String.prototype,['trim','trimStart','trimEnd','trimLeft','trimRight']],"
    "[window,['parseFloat','parseInt']],[Number,['parseFloat','parseInt']]].map(function(o){"
    "return [o[0],o[1].map(function(k){return [k,Object.getOwnPropertyDescriptor(o[0],k)];})];});\n")
NATIVES_RESTORED = (
    "\n;window.__mfhcNatives.forEach(function(o){o[1].forEach(function(k){"
    "if(k[1]){Object.defineProperty(o[0],k[0],k[1]);}});});delete window.__mfhcNatives;\n")


def polyfill_source() -> bytes:
    """Dash's polyfill with the native trims and number parsers kept (see POLYFILL)."""
    return NATIVES_KEPT.encode() + POLYFILL.read_bytes() + NATIVES_RESTORED.encode()


def _serve_polyfill(app: Dash) -> None:
    """`polyfill_source()` at the (fingerprinted) address where Dash serves its polyfill,
    as `_serve_plotly` serves the Plotly bundle: for a signed-in session, with an ETag."""
    prefix = app.config.requests_pathname_prefix + "_dash-component-suites/dash/deps/polyfill@7."
    body = polyfill_source()

    def polyfill():
        if flask.request.path.startswith(prefix) and flask.request.path.endswith(".min.js"):
            refused = auth.require_session()
            if refused is not None:
                return refused
            response = flask.make_response(body)
            response.mimetype = "application/javascript"
            response.add_etag()
            return response.make_conditional(flask.request)
        return None

    app.server.before_request(polyfill)


app = create_app(Path(os.environ["MFHC_DB"]) if os.environ.get("MFHC_DB") else None)
server = app.server
