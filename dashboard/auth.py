"""Sign-in, sessions and the web hardening around the dashboard's Flask server.

- Every route needs a session except the sign-in pages and `/healthz` (which says only
  "ok"): pages redirect to `/login`; callbacks, layout, assets and downloads answer 401.
- Local accounts (pipelines/users.py: argon2id, rate-limited) and, when `[auth.oidc]` is
  configured, single sign-on through OpenID Connect (Microsoft Entra ID or any provider).
- Sessions are Flask's signed cookies: HttpOnly, SameSite=Lax, Secure; they end after
  60 idle minutes or `[auth] session_minutes` (default 8 hours) after sign-in. The role is
  read from the accounts on every request, so a removed user or a changed role takes
  effect at once.
- Security headers (flask-talisman): a Content Security Policy without `unsafe-eval`
  (Dash's inline scripts allowed by their hashes), no framing, no referrer; data
  responses are never cached; requests over 2 MB are refused; errors never show a trace.
- The secret key comes from MFHC_SECRET_KEY; with MFHC_ENV=production the server refuses
  to start without one (or with a short one). Elsewhere a random key is kept in
  `session.key` beside the application state (mode 600), shared by the workers.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import logging
import os
import secrets
import time
import uuid
from urllib.parse import urlencode

import duckdb
import flask
from flask import g, jsonify, redirect, render_template_string, request, session
from flask_talisman import Talisman
from werkzeug.exceptions import HTTPException

from dashboard import data
from dashboard.access import ROLES, AccessDenied
from pipelines import audit, state, users
from pipelines.config import Settings, load_settings
from pipelines.store import StoreMissing

log = logging.getLogger("mfhc.auth")

OPEN_PATHS = frozenset({"/login", "/login/oidc", "/login/oidc/callback", "/healthz"})
NOT_PAGES = ("/_dash-", "/assets/", "/_reload-hash", "/_favicon.ico", "/static/")
IDLE_MINUTES = 60
MAX_REQUEST_BYTES = 2 * 1024 * 1024
MIN_SECRET_LENGTH = 32
SECRET_FILE = "session.key"

LOGIN_PAGE = """<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in — mfhc</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;background:#f3f2f1;color:#0b0c0c;margin:0}
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-top:6px solid #1d70b8}
h1{font-size:1.6rem;margin:0 0 .3rem}p{line-height:1.5}label{display:block;font-weight:600;margin:1rem 0 .3rem}
input{width:100%;box-sizing:border-box;font-size:1.1rem;padding:.5rem;border:2px solid #0b0c0c}
input:focus,button:focus,a:focus{outline:3px solid #fd0;outline-offset:0}
button{margin-top:1.5rem;font-size:1.1rem;padding:.6rem 1.2rem;background:#00703c;color:#fff;border:0;cursor:pointer}
.error{border-left:5px solid #d4351c;padding:.5rem 1rem;color:#0b0c0c;background:#fdf0ee}
.sso{display:inline-block;margin-top:1.5rem;color:#1d70b8}
</style></head>
<body><main>
<h1>mfhc</h1><p>Children missing from home and care. Sign in to continue.</p>
{% if message %}<p class="error" role="alert">{{ message }}</p>{% endif %}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="next" value="{{ next }}">
<label for="username">User name</label><input id="username" name="username" autocomplete="username" required value="{{ username }}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
{% if sso_label %}<a class="sso" href="/login/oidc?{{ sso_query }}">{{ sso_label }}</a>{% endif %}
</main></body></html>"""


class InsecureConfiguration(RuntimeError):
    """Refusing to start: production without a proper secret key."""


def production() -> bool:
    return os.environ.get("MFHC_ENV", "").lower() == "production"


def secret_key(settings: Settings) -> str:
    key = os.environ.get("MFHC_SECRET_KEY", "")
    if key:
        if len(key) < MIN_SECRET_LENGTH:
            raise InsecureConfiguration(f"MFHC_SECRET_KEY must have at least {MIN_SECRET_LENGTH} characters")
        return key
    if production():
        raise InsecureConfiguration("MFHC_ENV=production needs MFHC_SECRET_KEY (at least "
                                    f"{MIN_SECRET_LENGTH} random characters); refusing to start with a default")
    path = settings.state_path / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written whole under a temporary name, then linked into place: workers starting at
        # once all read the same complete key.
        temporary = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_SECRET_LENGTH:
        raise InsecureConfiguration(f"{path}: the session key file is damaged; delete it to make a new one")
    return key


def client_address() -> str:
    return request.remote_addr or "unknown"


def record(event: str, what: str = "", user: str | None = None, **details) -> None:
    """An audit entry for this request: who (the session's user), from where."""
    who = user if user is not None else getattr(getattr(g, "mfhc_user", None), "name", "anonymous")
    audit.record(event, user=who, what=what, where=client_address(), settings=_settings(), **details)


def _settings() -> Settings:
    return flask.current_app.config["MFHC_SETTINGS"]


def _safe_next(target: str | None) -> str:
    """Only a path of this site (no scheme, no host, no `//` or backslash tricks)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _login_page(message: str = "", status: int = 200, username: str = "", next_path: str = "/"):
    oidc = _settings().oidc
    body = render_template_string(
        LOGIN_PAGE, message=message, csrf=_csrf_token(), next=_safe_next(next_path), username=username,
        sso_label=(oidc or {}).get("label", "Sign in with your organisation's account") if oidc else "",
        sso_query=urlencode({"next": _safe_next(next_path)}))
    return body, status, {"Content-Type": "text/html; charset=utf-8"}


def _start_session(user: users.User) -> None:
    session.clear()
    session.permanent = True
    session["user"] = user.username
    session["login_at"] = time.time()
    session["csrf"] = secrets.token_urlsafe(32)
    session["sid"] = secrets.token_urlsafe(24)


def _unauthenticated():
    path = request.path
    if request.method == "GET" and not path.startswith(NOT_PAGES):
        return redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))
    return jsonify(error="sign in required"), 401


def require_session():
    """Runs before every request (after Dash's own first-request setup)."""
    if request.path in OPEN_PATHS:
        return None
    username = session.get("user")
    login_at = float(session.get("login_at") or 0)
    session_id = session.get("sid")
    account = users.get_user(username, _settings()) if username else None
    too_old = time.time() - login_at > _settings().session_minutes * 60
    # A signed-out session's cookie can come back on a response to a request sent before the
    # sign-out (every response refreshes the cookie): its id says it has ended.
    ended = not session_id or (account is not None and state.session_ended(str(session_id), _settings()))
    if account is None or too_old or ended:
        if username:        # a removed account or an expired sign-in: end it (an anonymous
            session.clear()  # visitor's session only holds the sign-in form's token: kept)
        return _unauthenticated()
    g.mfhc_user = data.Viewer(account.username, account.role)
    if request.method == "POST" and request.path == "/_dash-update-component" and not request.is_json:
        # Cross-site forms cannot send JSON without a preflight: callbacks take JSON only.
        return jsonify(error="callbacks take JSON"), 400
    return None


def login():
    settings = _settings()
    if request.method == "GET":
        return _login_page(next_path=request.args.get("next", "/"))
    form = request.form
    next_path = _safe_next(form.get("next"))
    username = (form.get("username") or "").strip()[:64]
    if not hmac.compare_digest(str(form.get("csrf", "")), str(session.get("csrf", ""))):
        return _login_page("Your sign-in form had expired. Please try again.", 400, username, next_path)
    outcome = users.authenticate(username, form.get("password") or "", client_address(), settings)
    if outcome.user is None:
        record("login_failed", what=outcome.reason, user=username or "(blank)")
        if outcome.reason == "locked":
            minutes = max(1, (outcome.retry_after + 59) // 60)
            return _login_page(f"Too many failed sign-ins. Try again in {minutes} minutes.", 429, username,
                               next_path)
        return _login_page("The user name or password is not right.", 401, username, next_path)
    _start_session(outcome.user)
    record("login", what="password", user=outcome.user.username, role=outcome.user.role)
    return redirect(next_path)


def logout():
    username = session.get("user")
    if username:
        record("logout", user=username)
    if session.get("sid"):
        until = float(session.get("login_at") or time.time()) + _settings().session_minutes * 60
        state.end_session(str(session["sid"]), until, _settings())
    session.clear()
    return redirect("/login")


def healthz():
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


# --- single sign-on (OpenID Connect) --------------------------------------------------------

def _oidc_client():
    return flask.current_app.extensions["mfhc_oidc"]


def _install_oidc(server: flask.Flask, oidc: dict) -> None:
    from authlib.integrations.flask_client import OAuth

    secret_env = oidc.get("client_secret_env", "MFHC_OIDC_CLIENT_SECRET")
    oauth = OAuth(server)
    client = oauth.register(
        "sso",
        client_id=oidc["client_id"],
        client_secret=os.environ.get(secret_env),
        server_metadata_url=oidc["metadata_url"],
        client_kwargs={"scope": oidc.get("scope", "openid profile email")},
    )
    server.extensions["mfhc_oidc"] = client


def _role_from_claims(claims: dict, oidc: dict) -> str | None:
    """The highest mfhc role the identity provider's role (or group) claims map to."""
    claimed = claims.get(oidc.get("role_claim", "roles")) or []
    if isinstance(claimed, str):
        claimed = [claimed]
    mapping = oidc.get("role_map") or {role: role for role in ROLES}
    granted = {mapping[c] for c in claimed if c in mapping and mapping[c] in ROLES}
    return max(granted, key=ROLES.index) if granted else None


def login_oidc():
    session["oidc_next"] = _safe_next(request.args.get("next"))
    redirect_uri = _settings().oidc.get("redirect_uri") or flask.url_for("login_oidc_callback", _external=True)
    return _oidc_client().authorize_redirect(redirect_uri)


def login_oidc_callback():
    oidc = _settings().oidc
    try:
        token = _oidc_client().authorize_access_token()
    except Exception as exc:  # noqa: BLE001 - any provider error is a failed sign-in
        record("login_failed", what=f"single sign-on: {type(exc).__name__}", user="(single sign-on)")
        return _login_page("Single sign-on did not complete. Please try again.", 401)
    claims = token.get("userinfo") or {}
    username = str(claims.get(oidc.get("username_claim", "preferred_username")) or claims.get("sub") or "")[:64]
    role = _role_from_claims(claims, oidc)
    if not username or role is None:
        record("login_failed", what="single sign-on: no mfhc role", user=username or "(single sign-on)")
        return _login_page("Your account has no mfhc role. Ask your administrator for access.", 403)
    try:
        account = users.upsert_sso_user(username, role, _settings())
    except users.UserError as exc:
        record("login_failed", what=f"single sign-on: {exc}", user=username)
        return _login_page("This account cannot sign in with single sign-on.", 403)
    next_path = session.get("oidc_next", "/")
    _start_session(account)
    record("login", what="single sign-on", user=username, role=role)
    return redirect(_safe_next(next_path))


# --- errors, headers and the retry of a callback caught by a load ----------------------------

def _access_denied(exc: AccessDenied):
    if getattr(g, "mfhc_user", None) is not None:
        record("access_denied", what=request.path, reason=str(exc))
    return jsonify(error="not permitted"), 403


def _store_unavailable(exc: Exception):
    log.error("store unavailable: %s", exc)
    return jsonify(error="The data store is not available. An administrator should reload the data."), 503


def _unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return exc
    reference = uuid.uuid4().hex[:8]
    log.exception("unexpected error %s on %s", reference, request.path)
    return jsonify(error=f"Something went wrong (reference {reference})."), 500


def _no_store(response: flask.Response) -> flask.Response:
    if not request.path.startswith(("/assets/", "/_dash-component-suites/")):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    return response


def _retry_when_store_changes(view):
    """A load swapped in while a callback was being answered: answer it again, whole, from
    the new store (so no response mixes two loads)."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        for attempt in range(3):
            try:
                return view(*args, **kwargs)
            except data.StoreChanged:
                data.close_request_connection()
                if attempt == 2:
                    raise
        return None
    return wrapped


CSP = {
    "default-src": "'self'",
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def install(app, settings: Settings | None = None) -> None:
    """Sign-in, roles and hardening around a Dash app (before it serves anything)."""
    settings = settings or load_settings(db_path=data.db_path())
    server: flask.Flask = app.server
    server.config.update(
        MFHC_SETTINGS=settings,
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_NAME="mfhc_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=min(IDLE_MINUTES, settings.session_minutes)),
        SESSION_REFRESH_EACH_REQUEST=True,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        PROPAGATE_EXCEPTIONS=False,
        TRAP_HTTP_EXCEPTIONS=False,
    )
    proxies = int(os.environ.get("MFHC_TRUSTED_PROXIES", "0") or 0)
    if proxies > 0:
        # Behind a TLS-terminating proxy: trust its X-Forwarded-For/-Proto/-Host (that many hops),
        # so addresses in the audit log and the sign-in limits are the clients', and https is seen.
        from werkzeug.middleware.proxy_fix import ProxyFix

        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    secure_cookie = os.environ.get("MFHC_INSECURE_COOKIES", "") != "1" or production()
    # Set here, not left to Talisman, which sets it only from inside a request (and not in debug).
    server.config["SESSION_COOKIE_SECURE"] = secure_cookie
    csp = {k: (list(v) if isinstance(v, list) else v) for k, v in CSP.items()}
    Talisman(
        server,
        content_security_policy=csp,
        force_https=production(),
        strict_transport_security=production(),
        session_cookie_secure=secure_cookie,
        session_cookie_http_only=True,
        frame_options="DENY",
        referrer_policy="no-referrer",
    )
    server.before_request(require_session)
    server.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", logout, methods=["GET"])
    server.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    if settings.oidc:
        _install_oidc(server, settings.oidc)
        server.add_url_rule("/login/oidc", "login_oidc", login_oidc, methods=["GET"])
        server.add_url_rule("/login/oidc/callback", "login_oidc_callback", login_oidc_callback, methods=["GET"])
    server.register_error_handler(AccessDenied, _access_denied)
    server.register_error_handler(StoreMissing, _store_unavailable)
    server.register_error_handler(duckdb.Error, _store_unavailable)
    server.register_error_handler(Exception, _unexpected)
    server.after_request(_no_store)
    endpoint = "/_dash-update-component"
    server.view_functions[endpoint] = data.cached_responses(
        _retry_when_store_changes(server.view_functions[endpoint]), app.callback_map)
    # Dash's inline scripts (one of them exists only after its first-request setup): warm up,
    # then allow exactly those scripts by hash. Talisman keeps a shallow copy of the policy,
    # so the script-src list is extended in place.
    # Dash's setup hands the callbacks registered with `dash.callback` to this app and empties
    # the global registry; they are put back so that another app made in this process (tests)
    # gets them too.
    from dash import _callback

    callbacks, callback_list = dict(_callback.GLOBAL_CALLBACK_MAP), list(_callback.GLOBAL_CALLBACK_LIST)
    server.test_client().get("/healthz")
    _callback.GLOBAL_CALLBACK_MAP.update(callbacks)
    _callback.GLOBAL_CALLBACK_LIST.extend(c for c in callback_list if c not in _callback.GLOBAL_CALLBACK_LIST)
    csp["script-src"].extend(h for h in app.csp_hashes() if h not in csp["script-src"])
