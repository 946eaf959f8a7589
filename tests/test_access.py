"""Access control over HTTP, through the real Flask server of the Dash app: every route
without a session, sign-in (rate limits, CSRF, redirects), sessions that end, each role's
access to callbacks asked directly (crafted requests), suppression that the board cannot
turn off, the audit entries, the security headers, injection through filter values, and
the faults (an error, a damaged store, a load swapped in while answering)."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from dashboard import auth, data
from dashboard.app import create_app
from pipelines import audit, users
from pipelines.config import Settings
from pipelines.load import SYNTHETIC_MARKER, load
from sources import police, rhi, write_table

PASSWORD = "a long enough password"
ROLES = ("board", "manager", "analyst", "admin")
YEAR = {"filter-start": "2025-04-01", "filter-end": "2026-03-31", "filter-care": "all", "filter-age": None,
        "filter-sex": None, "filter-ethnicity": None, "filter-risk": None, "filter-small": "hide"}


def write_source(source, episodes: int = 3) -> None:
    """`episodes` police incidents of distinct children in 2025/26 (3: every count is small)."""
    rows = [police(f"I{i}", f"P{i}", f"2025-0{5 + i % 4}-0{1 + i % 8}T08:00", f"2025-0{5 + i % 4}-0{1 + i % 8}T10:00",
                   risk_level="high" if i % 2 else "medium") for i in range(episodes)]
    write_table(source, "police_incidents", rows)
    write_table(source, "return_interviews", [rhi("R0", "completed", "2025-05-02T08:00", "2025-05-02T09:00",
                                                  person_ref="P0", episode_refs="I0")])
    (source / SYNTHETIC_MARKER).write_text("synthetic", encoding="utf-8")


@pytest.fixture()
def site(tmp_path, monkeypatch):
    """A small store, its app, and one account per role (named after the role)."""
    monkeypatch.setenv("MFHC_STATE_DIR", str(tmp_path / "state"))
    source = tmp_path / "src"
    write_source(source)
    db = tmp_path / "mfhc.duckdb"
    load(source, Settings(db_path=db))
    settings = Settings(db_path=db, state_dir=tmp_path / "state")
    for role in ROLES:
        users.add_user(role, role, PASSWORD, by="test", settings=settings)
    app = create_app(db)
    yield app, settings, db, source
    data.configure(None)


def csrf_of(response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def sign_in(client, username: str, password: str = PASSWORD, next_path: str = "/", address: str = "10.0.0.1"):
    token = csrf_of(client.get("/login"))
    return client.post("/login", data={"username": username, "password": password, "csrf": token,
                                       "next": next_path}, environ_base={"REMOTE_ADDR": address})


def client_as(app, role: str):
    client = app.server.test_client()
    assert sign_in(client, role).status_code == 302
    return client


def callback_spec(client, output_contains: str) -> dict:
    deps = client.get("/_dash-dependencies").get_json()
    return next(d for d in deps if output_contains in d["output"])


def _outputs(output: str) -> list[dict]:
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    found = []
    for part in parts:
        ident, prop = part.rsplit(".", 1)
        found.append({"id": json.loads(ident) if ident.startswith("{") else ident, "property": prop})
    return found


def _value(values: dict, dependency: dict):
    """The value for an input or state: by "id.property", else by id (ids of dicts as compact JSON)."""
    key = dependency["id"] if isinstance(dependency["id"], str) else json.dumps(dependency["id"], separators=(",", ":"))
    return values.get(f"{key}.{dependency['property']}", values.get(key))


def call(client, output_contains: str, values: dict, extra: dict | None = None, match: str | None = None):
    """A callback asked directly, as a crafted request would (values by input id; `match`
    fills a pattern-matching callback's MATCH)."""
    spec = callback_spec(client, output_contains)
    output = spec["output"]
    if match is not None:   # the request names the callback by its pattern, the components by their ids
        spec = json.loads(json.dumps(spec).replace('[\\"MATCH\\"]', json.dumps(json.dumps(match))[1:-1])
                          .replace('["MATCH"]', json.dumps(match)))
    values = {**values, **(extra or {})}
    body = {
        "output": output,
        "outputs": _outputs(spec["output"]) if spec["output"].startswith("..") else _outputs(spec["output"])[0],
        "inputs": [{**i, "value": _value(values, i)} for i in spec["inputs"]],
        "state": [{**s, "value": _value(values, s)} for s in spec["state"]],
        "changedPropIds": [f"{spec['inputs'][0]['id']}.{spec['inputs'][0]['property']}"],
    }
    return client.post("/_dash-update-component", json=body)


def numbers(values) -> list:
    """A trace's values, whether a list or Plotly's base64 typed array."""
    if isinstance(values, dict) and "bdata" in values:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"])).tolist()
    return list(values or [])


# --- every route without a session --------------------------------------------------------------

def test_no_route_answers_without_a_session(site):
    app, *_ = site
    client = app.server.test_client()
    pages = ["/", "/homes", "/repeat", "/quality", "/admin", "/checklist", "/anything?from=2025-04-01"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next="), path
    suites = [r.rule for r in app.server.url_map.iter_rules() if r.rule.startswith("/_dash-component-suites")]
    assert suites
    for path in ["/_dash-layout", "/_dash-dependencies", "/_reload-hash", "/_favicon.ico", "/assets/mfhc.css",
                 "/assets/topojson/world_110m.json", "/_dash-component-suites/dash/dcc/dash_core_components.js",
                 "/_dash-component-suites/plotly/package_data/plotly.min.js"]:
        response = client.get(path)
        assert response.status_code == 401, path
        assert b"episodes" not in response.data and b"plotly.js" not in response.data
    response = client.post("/_dash-update-component", json={"output": "overview-period.children"})
    assert response.status_code == 401
    # Every rule of the server is either open (sign-in, health) or behind the session.
    for rule in app.server.url_map.iter_rules():
        if rule.rule in auth.OPEN_PATHS:
            continue
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        method = "POST" if "POST" in rule.methods and "GET" not in rule.methods else "GET"
        response = client.open(path, method=method, json={} if method == "POST" else None)
        assert response.status_code in (302, 401), (rule.rule, response.status_code)
    health = client.get("/healthz")
    assert health.status_code == 200 and health.data == b"ok"


def test_sign_in_redirects_only_within_the_site(site):
    app, *_ = site
    for target, expected in (("/homes?from=2025-04-01", "/homes?from=2025-04-01"), ("//evil.example/x", "/"),
                             ("https://evil.example/", "/"), ("/\\evil.example", "/")):
        client = app.server.test_client()
        response = sign_in(client, "analyst", next_path=target)
        assert response.status_code == 302 and response.headers["Location"] == expected, target


def test_sign_in_needs_the_form_token_and_the_right_password(site):
    app, settings, *_ = site
    client = app.server.test_client()
    client.get("/login")
    assert client.post("/login", data={"username": "analyst", "password": PASSWORD}).status_code == 400
    assert sign_in(client, "analyst", "wrong password").status_code == 401
    assert sign_in(client, "nobody", PASSWORD).status_code == 401
    assert client.get("/_dash-layout").status_code == 401
    events = [(e["event"], e["user"]) for e in audit.entries(settings=settings)]
    assert ("login_failed", "analyst") in events and ("login_failed", "nobody") in events


def test_repeated_failures_lock_the_account_and_the_address(site):
    app, settings, *_ = site
    client = app.server.test_client()
    for _ in range(users.MAX_FAILURES_PER_USER):
        assert sign_in(client, "manager", "wrong password").status_code == 401
    locked = sign_in(client, "manager", PASSWORD)
    assert locked.status_code == 429 and b"Too many failed sign-ins" in locked.data
    # Another account from another address still signs in; the lock is per account...
    assert sign_in(app.server.test_client(), "analyst", address="10.0.0.2").status_code == 302
    # ...and per address: 20 failures from one address lock it for every account.
    for number in range(users.MAX_FAILURES_PER_ADDRESS):
        sign_in(app.server.test_client(), f"guess{number}", "wrong", address="10.9.9.9")
    assert sign_in(app.server.test_client(), "board", address="10.9.9.9").status_code == 429
    # The window passes: the lock lifts.
    later = time.time() + users.WINDOW_SECONDS + 1
    assert users.authenticate("manager", PASSWORD, "10.0.0.3", settings, now=later).user is not None


def test_sessions_end_on_expiry_removal_and_sign_out(site):
    app, settings, *_ = site
    client = client_as(app, "analyst")
    assert client.get("/_dash-layout").status_code == 200
    with client.session_transaction() as session:
        session["login_at"] = time.time() - settings.session_minutes * 60 - 1
    assert client.get("/_dash-layout").status_code == 401
    client = client_as(app, "manager")
    users.remove_user("manager", settings)
    assert client.get("/_dash-layout").status_code == 401
    client = client_as(app, "analyst")
    assert client.get("/logout").status_code == 302
    assert client.get("/_dash-layout").status_code == 401


def test_a_signed_out_session_stays_ended_when_its_cookie_comes_back(site):
    """Every response refreshes the session cookie, so one answering a request sent before
    the sign-out can hand the browser the signed-in cookie again: it must not work."""
    app, settings, *_ = site
    client = client_as(app, "analyst")
    assert client.get("/_dash-layout").status_code == 200
    before = client.get_cookie("mfhc_session").value      # what a late response would set again
    assert client.get("/logout").status_code == 302
    client.set_cookie("mfhc_session", before, domain="localhost")
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/").status_code == 302
    # Signing in again is a new session, which works; the ended one stays ended.
    again = client_as(app, "analyst")
    assert again.get("/_dash-layout").status_code == 200
    client.set_cookie("mfhc_session", before, domain="localhost")
    assert client.get("/_dash-layout").status_code == 401


def test_a_role_change_takes_effect_at_the_next_request(site):
    app, settings, *_ = site
    client = client_as(app, "analyst")
    assert "for analysts" not in call(client, "repeat-timeline-graph", YEAR).get_data(as_text=True)
    users.set_role("analyst", "board", settings)
    assert "timeline is for analysts" in call(client, "repeat-timeline-graph", YEAR).get_data(as_text=True)
    assert call(client, "care-source-graph", YEAR).status_code == 403


# --- roles in the data layer ----------------------------------------------------------------------

def test_record_level_callbacks_refuse_board_and_manager(site):
    app, settings, *_ = site
    for role in ("board", "manager"):
        client = client_as(app, role)
        for output in ("repeat-timeline-graph", "repeat-escalation-graph"):
            response = call(client, output, {**YEAR, "repeat-child": None})
            text = response.get_data(as_text=True)
            # The timeline answers with a note; the escalation list with the words "for analysts".
            assert response.status_code == 200, (role, output, text[:300])
            assert "for analysts" in text
            assert not re.search(r'"child": "[0-9a-f]{8}', text)
        # A record-level query asked for through the data layer is refused, whatever the page does.
        with app.server.test_request_context():
            import flask

            flask.g.mfhc_user = data.Viewer(role, role)
            with pytest.raises(data.AccessDenied):
                data.query("repeat_top_children", None)
    analyst = client_as(app, "analyst")
    listing = call(analyst, "repeat-escalation-graph", YEAR).get_data(as_text=True)
    assert "children flagged" in listing or "No child met the rule" in listing
    timeline = call(analyst, "repeat-timeline-graph", {**YEAR, "repeat-child": None}).get_data(as_text=True)
    assert re.search(r'"value": ?"[0-9a-f]{16,}"', timeline)  # the timeline's choices: pseudonymised keys


def test_officers_pages_refuse_the_board(site):
    app, settings, *_ = site
    board = client_as(app, "board")
    for output in ("care-source-graph", "absence-", "quality-loads"):
        response = call(board, output, YEAR)
        assert response.status_code == 403, output
        assert response.get_json() == {"error": "not permitted"}
    assert any(e["event"] == "access_denied" and e["user"] == "board" for e in audit.entries(settings=settings))
    manager = client_as(app, "manager")
    assert call(manager, "care-source-graph", YEAR).status_code == 200
    assert call(manager, "admin-audit", {"admin-event": None, "admin-user": None, "admin-since": None}
                ).status_code == 403
    admin = client_as(app, "admin")
    answer = call(admin, "admin-audit", {"admin-event": None, "admin-user": None, "admin-since": None})
    assert answer.status_code == 200 and "Hash chain intact" in answer.get_data(as_text=True)


def tiles_text(response) -> str:
    payload = response.get_json()["response"]
    return json.dumps(payload["overview-tiles"]["children"])


def test_the_board_cannot_turn_suppression_off(site):
    app, *_ = site
    board = client_as(app, "board")
    for small in ([], ["show"], "show"):
        text = tiles_text(call(board, "overview-period", YEAR, {"filter-small": small}))
        assert '"<5"' in text and '"3"' not in text
    manager = client_as(app, "manager")
    assert '"<5"' in tiles_text(call(manager, "overview-period", YEAR))
    shown = tiles_text(call(manager, "overview-period", YEAR, {"filter-small": "show"}))
    assert '"3"' in shown and '"<5"' not in shown


def test_suppressed_charts_carry_no_small_count(site):
    app, *_ = site
    board = client_as(app, "board")
    body = call(board, "overview-period", YEAR).get_json()["response"]
    trend = body["overview-trend-graph"]["figure"]
    assert trend["data"]
    for trace in trend["data"]:
        values = numbers(trace.get("y"))
        assert all(v is None or v != v or not (0 < v < 5) for v in values), trace.get("name")
    rows = body[next(k for k in body if "overview-trend" in k and "chart-data" in k)]["data"]["data"]
    assert rows and any(cell == "<5" for row in rows for cell in row)
    assert all(not isinstance(cell, (int, float)) or not (0 < cell < 5) for row in rows for cell in row)


# --- injection through filter values and URL parameters -----------------------------------------

@pytest.mark.parametrize("field,value", [
    ("filter-sex", "F' OR '1'='1"),
    ("filter-age", "13-15'); drop table fct_episode; --"),
    ("filter-start", "2025-04-01'; delete from meta; --"),
    ("filter-ethnicity", "<script>alert(1)</script>"),
    ("filter-risk", {"$ne": None}),
])
def test_crafted_filter_values_match_nothing_odd(site, field, value):
    app, settings, db, _ = site
    analyst = client_as(app, "analyst")
    plain = tiles_text(call(analyst, "overview-period", YEAR))
    crafted = call(analyst, "overview-period", YEAR, {field: value})
    assert crafted.status_code == 200
    assert tiles_text(crafted) == plain
    assert "<script>" not in crafted.get_data(as_text=True)
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from fct_episode").fetchone()[0] == 3
        assert con.execute("select count(*) from meta").fetchone()[0] > 0


def test_crafted_url_parameters_reach_no_page(site):
    app, *_ = site
    analyst = client_as(app, "analyst")
    for query in ("?age=<script>alert(1)</script>", "?from=2025-04-01%27%3B--&sex=%22%3E%3Cimg"):
        response = analyst.get("/" + query)
        assert response.status_code == 200
        assert b"<script>alert" not in response.data and b"<img" not in response.data
        url = call(analyst, "filter-period", {"url": query}).get_data(as_text=True)
        assert "<script>" not in url and "<img" not in url


# --- audit -----------------------------------------------------------------------------------------

def test_audit_records_who_what_when_and_where(site):
    app, settings, *_ = site
    analyst = client_as(app, "analyst")
    call(analyst, "page-view", {"url": "/homes"})
    store = {"columns": ["month", "episodes"], "data": [["2025-05-01", 3]]}
    download = call(analyst, "csv-download",
                    {'{"chart":"overview-trend","type":"csv-button"}.n_clicks': 1,
                     '{"chart":"overview-trend","type":"csv-button"}.id': {"chart": "overview-trend",
                                                                            "type": "csv-button"},
                     '{"chart":"overview-trend","type":"chart-data"}.data': store},
                    match="overview-trend")
    assert download.status_code == 200
    entries = audit.entries(settings=settings)
    kinds = {(e["event"], e["user"], e["what"]) for e in entries}
    assert ("login", "analyst", "password") in kinds
    assert ("page_view", "analyst", "/homes") in kinds
    assert ("download", "analyst", "mfhc-overview-trend.csv") in kinds
    where = {e["event"]: e["where"] for e in entries if e["user"] == "analyst"}
    assert where["login"] == "10.0.0.1" and where["page_view"] == "127.0.0.1"   # the test client's address
    assert all(e["at"].endswith("+00:00") for e in entries)
    assert audit.verify(settings) == len(entries)


def test_audit_log_is_a_chain_that_shows_tampering(site, tmp_path):
    app, settings, *_ = site
    client_as(app, "analyst")
    client_as(app, "board")
    path = settings.audit_log_path
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 2 and audit.verify(settings) == len(lines)
    edited = json.loads(lines[0])
    edited["user"] = "someone else"
    path.write_text("\n".join([json.dumps(edited, sort_keys=True), *lines[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(audit.AuditChainBroken, match="line 2"):
        audit.verify(settings)
    path.write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    with pytest.raises(audit.AuditChainBroken, match="line 1"):
        audit.verify(settings)


def test_a_load_never_touches_the_audit_log_or_the_accounts(site):
    app, settings, db, source = site
    client_as(app, "analyst")
    before = settings.audit_log_path.read_bytes()
    accounts = users.list_users(settings)
    load(source, Settings(db_path=db))
    assert settings.audit_log_path.read_bytes() == before
    assert users.list_users(settings) == accounts


# --- headers, cookies, errors, limits -----------------------------------------------------------

def test_security_headers_and_cookies(site):
    app, *_ = site
    client = app.server.test_client()
    login_page = client.get("/login")
    cookie = login_page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    analyst = client_as(app, "analyst")
    for response in (analyst.get("/"), analyst.get("/_dash-layout"), call(analyst, "overview-period", YEAR),
                     login_page):
        csp = response.headers["Content-Security-Policy"]
        assert "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
        script_src = re.search(r"script-src ([^;]+)", csp).group(1)
        assert "'unsafe-inline'" not in script_src and "'sha256-" in script_src
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    for response in (analyst.get("/_dash-layout"), call(analyst, "overview-period", YEAR), analyst.get("/")):
        assert response.headers["Cache-Control"] == "no-store"


def test_every_inline_script_of_the_page_is_allowed_by_its_hash(site):
    import base64
    import hashlib

    app, *_ = site
    analyst = client_as(app, "analyst")
    response = analyst.get("/")
    csp = response.headers["Content-Security-Policy"]
    page = re.sub(r"<!--\[if IE\]>.*?<!\[endif\]-->", "", response.get_data(as_text=True), flags=re.S)
    scripts = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", page, re.S)
    assert scripts
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
        assert f"'sha256-{digest}'" in csp


def test_errors_show_no_trace(site, monkeypatch):
    app, *_ = site
    analyst = client_as(app, "analyst")

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret detail of the server")

    monkeypatch.setattr(data, "kpis", broken)
    response = call(analyst, "overview-period", YEAR)
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong (reference" in text
    assert "secret detail" not in text and "Traceback" not in text and ".py" not in text


def test_requests_over_the_limit_are_refused(site):
    app, *_ = site
    analyst = client_as(app, "analyst")
    response = analyst.post("/_dash-update-component", data=b"x" * (auth.MAX_REQUEST_BYTES + 1),
                            content_type="application/json")
    assert response.status_code == 413


def test_callbacks_take_json_only(site):
    app, *_ = site
    analyst = client_as(app, "analyst")
    response = analyst.post("/_dash-update-component", data="output=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_production_refuses_a_default_or_short_secret(site, monkeypatch, tmp_path):
    _app, settings, db, _ = site
    monkeypatch.setenv("MFHC_ENV", "production")
    monkeypatch.delenv("MFHC_SECRET_KEY", raising=False)
    with pytest.raises(auth.InsecureConfiguration, match="MFHC_SECRET_KEY"):
        create_app(db)
    monkeypatch.setenv("MFHC_SECRET_KEY", "short")
    with pytest.raises(auth.InsecureConfiguration, match="at least"):
        create_app(db)
    monkeypatch.setenv("MFHC_SECRET_KEY", "x" * 40)
    app = create_app(db)
    assert app.server.config["SECRET_KEY"] == "x" * 40
    assert app.server.config["SESSION_COOKIE_SECURE"] is True


def test_outside_production_one_session_key_is_shared_by_every_worker(site):
    _app, settings, db, _ = site
    path = settings.state_path / auth.SECRET_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert create_app(db).server.config["SECRET_KEY"] == path.read_text().strip()


# --- faults -------------------------------------------------------------------------------------

def test_a_damaged_or_missing_store_gives_a_clear_answer(site):
    app, settings, db, _ = site
    analyst = client_as(app, "analyst")
    db.write_bytes(b"not a store" * 1000)
    response = call(analyst, "overview-period", YEAR)
    assert response.status_code == 503 and "not available" in response.get_json()["error"]
    layout = analyst.get("/_dash-layout").get_data(as_text=True)
    assert "could not be read" in layout
    db.unlink()
    assert call(analyst, "overview-period", YEAR).status_code == 503
    assert "No data loaded yet" in analyst.get("/_dash-layout").get_data(as_text=True)


def test_a_load_swapped_in_mid_request_never_mixes_two_stores(site, monkeypatch):
    app, settings, db, source = site
    analyst = client_as(app, "analyst")
    real_kpis = data.kpis
    swapped = {"done": False}

    def kpis_then_swap(*args, **kwargs):
        result = real_kpis(*args, **kwargs)
        if not swapped["done"]:
            swapped["done"] = True
            write_source(source, episodes=7)
            load(source, Settings(db_path=db))
        return result

    monkeypatch.setattr(data, "kpis", kpis_then_swap)
    response = call(analyst, "overview-period", YEAR, {"filter-small": "show"})
    assert response.status_code == 200 and swapped["done"]
    body = response.get_json()["response"]
    # Tiles and chart come from one store (the one the request opened), never a mix.
    trend = sum(v for v in numbers(body["overview-trend-graph"]["figure"]["data"][0]["y"]) if v)
    assert trend == 3 and '"3"' in json.dumps(body["overview-tiles"]["children"])
    # The next request reads the new store.
    body = call(analyst, "overview-period", YEAR, {"filter-small": "show"}).get_json()["response"]
    assert sum(v for v in numbers(body["overview-trend-graph"]["figure"]["data"][0]["y"]) if v) == 7


def test_a_callback_caught_by_a_swap_is_answered_again_whole(site, monkeypatch):
    app, *_ = site
    analyst = client_as(app, "analyst")
    real_kpis = data.kpis
    attempts = []

    def changed_once(*args, **kwargs):
        attempts.append(1)
        if len(attempts) == 1:
            raise data.StoreChanged("replaced during the request")
        return real_kpis(*args, **kwargs)

    monkeypatch.setattr(data, "kpis", changed_once)
    response = call(analyst, "overview-period", YEAR)
    assert response.status_code == 200 and len(attempts) == 4   # 1 refused + 3 (current, previous, year before)


def test_loads_while_serving_never_mix_two_stores_in_one_answer(site):
    app, settings, db, source = site
    analyst = client_as(app, "analyst")
    sizes = (3, 6)
    stop = threading.Event()
    errors: list[str] = []

    def loader():
        turn = 0
        while not stop.is_set():
            turn += 1
            write_source(source, episodes=sizes[turn % 2])
            try:
                load(source, Settings(db_path=db))
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))

    thread = threading.Thread(target=loader)
    thread.start()
    seen = set()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(seen) < 2 or time.monotonic() < deadline - 15:
            response = call(analyst, "overview-period", YEAR, {"filter-small": "show"})
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            body = response.get_json()["response"]
            tiles = json.dumps(body["overview-tiles"]["children"])
            trend = sum(v for v in numbers(body["overview-trend-graph"]["figure"]["data"][0]["y"]) if v)
            assert trend in sizes and f'"{trend}"' in tiles, (trend, tiles[:200])
            seen.add(trend)
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert seen == set(sizes)


def test_every_named_query_has_a_declared_level_of_detail():
    import glob
    from pathlib import Path

    from dashboard.access import QUERIES, RECORD, Aggregate

    names = set()
    for path in glob.glob(str(Path(__file__).resolve().parents[1] / "queries" / "metrics" / "*.sql")):
        names |= set(re.findall(r"^-- name: (\w+)", Path(path).read_text(encoding="utf-8"), re.M))
    assert names and names == set(QUERIES), sorted(names ^ set(QUERIES))
    for name, policy in QUERIES.items():
        assert policy in (RECORD, "admin") or isinstance(policy, Aggregate), name


def test_every_table_downloads_as_csv_and_excel_with_formulas_neutralised(site):
    import base64
    import io

    import openpyxl

    app, settings, *_ = site
    analyst = client_as(app, "analyst")
    store = {"columns": ["Home", "Episodes"], "data": [["=HYPERLINK(\"http://x\")", 7], ["Oak House", "<5"]]}
    values = {'{"table":"homes","type":"table-xlsx-button"}.n_clicks': 1,
              '{"table":"homes","type":"table-xlsx-button"}.id': {"table": "homes", "type": "table-xlsx-button"},
              '{"table":"homes","type":"table-data"}.data': store}
    answer = call(analyst, "table-xlsx-download", values, match="homes")
    assert answer.status_code == 200
    download = next(iter(answer.get_json()["response"].values()))["data"]
    assert download["filename"] == "mfhc-homes.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(download["content"])))["homes"]
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells == [["Home", "Episodes"], ["'=HYPERLINK(\"http://x\")", 7], ["Oak House", "<5"]]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    values = {k.replace("xlsx", "csv"): v for k, v in values.items()}
    values['{"table":"homes","type":"table-csv-button"}.id'] = {"table": "homes", "type": "table-csv-button"}
    answer = call(analyst, "table-csv-download", values, match="homes")
    text = next(iter(answer.get_json()["response"].values()))["data"]["content"]
    assert text.splitlines() == ["Home,Episodes", "\"'=HYPERLINK(\"\"http://x\"\")\",7", "Oak House,<5"]
    downloads = [e["what"] for e in audit.entries(settings=settings) if e["event"] == "download"]
    assert downloads == ["mfhc-homes.xlsx", "mfhc-homes.csv"]


@pytest.mark.parametrize("output,extra", [
    ("overview-period", {}),
    ("homes-period", {"homes-choice": None}),
    ("homes-trend-graph", {"homes-choice": None}),
    ("hotspots-coverage", {"hotspots-place": "found"}),
    ("interviews-provider-table", {}),
    ("repeat-bands-graph", {}),
    ("repeat-escalation-graph", {}),
    ("repeat-timeline-graph", {"repeat-child": None}),
])
def test_every_board_view_callback_answers_the_board_with_small_numbers_withheld(site, output, extra):
    app, *_ = site
    board = client_as(app, "board")
    for small in ("hide", "show"):
        response = call(board, output, {**YEAR, **extra}, {"filter-small": small})
        assert response.status_code == 200, (output, response.get_data(as_text=True)[:300])
        body = response.get_json()["response"]
        for key, value in body.items():
            if "chart-data" in key:
                for row in value["data"]["data"]:
                    # every count in this store is 1-4: whatever a table shows of them reads "<5"
                    assert not any(isinstance(cell, int) and 0 < cell < 5 and column in (
                        "episodes", "children", "returned_missing_episodes", "children_newly_repeat",
                        "children_flagged", "interviews") for column, cell in zip(value["data"]["columns"], row)), \
                        (output, key, row)


def test_answers_are_cached_per_role_and_store_version_and_never_hold_records(site, monkeypatch):
    app, settings, db, source = site
    calls = []
    real_kpis = data.kpis
    monkeypatch.setattr(data, "kpis", lambda *a, **k: calls.append(1) or real_kpis(*a, **k))
    manager = client_as(app, "manager")
    first = call(manager, "overview-period", YEAR).get_json()
    assert len(calls) == 3                                     # current, previous, a year before
    second = call(manager, "overview-period", YEAR).get_json()
    # The same answer (a pickled figure may drop an empty `title: {}`), without running the queries again.
    for key in ("overview-tiles", "overview-summary", "overview-trend-summary"):
        assert second["response"][key] == first["response"][key]
    assert (second["response"]["overview-trend-graph"]["figure"]["data"]
            == first["response"]["overview-trend-graph"]["figure"]["data"])
    assert len(calls) == 3
    assert call(client_as(app, "board"), "overview-period", YEAR).status_code == 200 and len(calls) == 6
    write_source(source, episodes=6)
    load(source, Settings(db_path=db))                         # a new load: a new version, a new answer
    assert '"6"' in json.dumps(call(manager, "overview-period", YEAR, {"filter-small": "show"}).get_json())
    assert len(calls) == 9
    analyst = client_as(app, "analyst")
    listing = call(analyst, "repeat-timeline-graph", {**YEAR, "repeat-child": None}).get_data(as_text=True)
    call(analyst, "repeat-escalation-graph", YEAR)
    call(analyst, "repeat-bands-graph", YEAR)
    keys = set(re.findall(r'"value": ?"([0-9a-f]{16,})"', listing))
    assert keys
    cached = b"".join(p.read_bytes() for p in (settings.state_path / "cache").iterdir())
    assert not any(key.encode() in cached for key in keys)


def test_plotly_is_mfhcs_bundle_served_with_an_etag(site):
    app, *_ = site
    client = client_as(app, "analyst")
    path = "/_dash-component-suites/plotly/package_data/plotly.min.js"
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "application/javascript"
    assert b"plotly.js (mfhc: " in response.data[:300]
    again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    # Not also put in every page as a script of its own (it is loaded when a chart needs it).
    assert "plotly-mfhc" not in client.get("/").get_data(as_text=True)
