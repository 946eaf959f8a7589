"""Administration: the audit log (newest first, filterable by event and user) and the
accounts. For administrators only: the page and its callback both check the role."""

from __future__ import annotations

import datetime as dt

import dash
import pandas as pd
from dash import Input, Output, callback, dcc, html

from dashboard import access, data
from dashboard.components import downloadable_table, html_table, not_in_view
from pipelines import audit, users
from pipelines.config import load_settings

dash.register_page(__name__, path="/admin", name="Administration", title="Administration — mfhc", order=9,
                   roles=("admin",))

SHOWN_ENTRIES = 500


def layout(**_query) -> html.Div:
    if (instead := not_in_view(("admin",))) is not None:
        return instead
    return html.Div([
        html.H1("Administration"),
        html.Section([
            html.H2("Audit log"),
            html.P("Sign-ins (and failures), page views, downloads, exports, board packs, re-identifications and "
                   "account changes: who, when, what and from where. The log is append-only and chained by hashes; "
                   "`mfhc audit --verify` checks it. It lives beside the application state, not in the store, so a "
                   "load never touches it.", className="chart-description"),
            html.Div([
                html.Div([html.Label("Event", htmlFor="admin-event"),
                          dcc.Dropdown(id="admin-event", options=list(audit.EVENTS), placeholder="All events")],
                         className="filter"),
                html.Div([html.Label("User", htmlFor="admin-user"),
                          dcc.Input(id="admin-user", type="text", debounce=True, placeholder="Any user")],
                         className="filter"),
                html.Div([html.Label("Since", htmlFor="admin-since"),
                          dcc.Input(id="admin-since", type="date")], className="filter"),
            ], className="filter-bar"),
            html.P(id="admin-chain", className="data-note"),
            html.Div(id="admin-audit", className="chart-table", tabIndex="0", role="region",
                     style={"maxHeight": "40rem", "overflowY": "auto"}, **{"aria-label": "Audit log (scrolls)"}),
        ], className="chart-card"),
        html.Section([
            html.H2("Accounts"),
            html.P("Add, remove and change accounts with `mfhc users` on the server; each change is audited.",
                   className="chart-description"),
            html.Div(id="admin-users"),
        ], className="chart-card"),
    ])


def audit_frame(entries: list[dict]) -> pd.DataFrame:
    rows = [{"When (UTC)": e["at"].replace("T", " ")[:19], "Event": e["event"], "User": e["user"],
             "What": e.get("what", ""), "From": e.get("where", ""),
             "Details": ", ".join(f"{k}={v}" for k, v in (e.get("details") or {}).items())}
            for e in reversed(entries)]
    return pd.DataFrame(rows, columns=["When (UTC)", "Event", "User", "What", "From", "Details"])


@callback(
    Output("admin-audit", "children"),
    Output("admin-chain", "children"),
    Output("admin-users", "children"),
    Input("admin-event", "value"),
    Input("admin-user", "value"),
    Input("admin-since", "value"),
)
def update_admin(event, user, since):
    data.require_admin()
    settings = load_settings(db_path=data.db_path())
    try:
        start = dt.datetime.fromisoformat(str(since)[:10]) if since else None
    except ValueError:
        start = None
    entries = [e for e in audit.entries(start, settings)
               if (not event or e["event"] == event) and (not user or e["user"] == str(user))]
    try:
        chain = f"Hash chain intact: {audit.verify(settings):,} entries."
    except audit.AuditChainBroken as exc:
        chain = f"The hash chain is broken: {exc}"
    frame = audit_frame(entries[-SHOWN_ENTRIES:])
    accounts = pd.DataFrame(users.list_users(settings))
    if len(accounts):
        accounts = accounts.assign(sso=accounts["sso"].map({0: "local", 1: "single sign-on"}),
                                   role=accounts["role"].map(access.ROLE_LABELS))
        accounts.columns = ["User", "Role", "Kind", "Added (UTC)", "Added by"]
    return (downloadable_table(frame, f"The latest {len(frame):,} of {len(entries):,} matching entries, newest first", "audit-log")
            if len(frame) else html.P("No entries match."), chain,
            html_table(accounts, "Accounts") if len(accounts) else html.P("No accounts."))
