"""Single sign-on through OpenID Connect, against a small identity provider run in the test
(discovery, authorisation redirect, token endpoint, signed ID token, JWKS), as Microsoft
Entra ID answers: the role comes from the `roles` claim through `[auth.oidc] role_map`."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from dashboard import data
from dashboard.app import create_app
from pipelines import audit, users
from pipelines.config import Settings
from pipelines.load import load
from sources import police, write_table

CLIENT_ID = "mfhc-test-client"


class Provider:
    """An identity provider on 127.0.0.1 that signs in whoever the test says."""

    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
        self.claims: dict = {}
        self.nonce = ""
        app = Flask("provider")
        app.add_url_rule("/.well-known/openid-configuration", "meta", self.metadata)
        app.add_url_rule("/token", "token", self.token, methods=["POST"])
        app.add_url_rule("/keys", "keys", lambda: jsonify({"keys": [self.key.as_dict(private=False)]}))
        self.server = make_server("127.0.0.1", 0, app)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def metadata(self):
        return jsonify({"issuer": self.base, "authorization_endpoint": self.base + "/authorize",
                        "token_endpoint": self.base + "/token", "jwks_uri": self.base + "/keys",
                        "response_types_supported": ["code"], "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"]})

    def token(self):
        client = request.authorization.username if request.authorization else request.form.get("client_id")
        if request.form.get("code") != "the-code" or client != CLIENT_ID:
            return jsonify({"error": "invalid_grant"}), 400
        now = int(time.time())
        claims = {"iss": self.base, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": self.nonce,
                  **self.claims}
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key)
        return jsonify({"access_token": "access", "token_type": "Bearer", "expires_in": 300, "id_token": id_token})

    def stop(self):
        self.server.shutdown()


@pytest.fixture()
def sso(tmp_path, monkeypatch):
    provider = Provider()
    config = tmp_path / "mfhc.toml"
    config.write_text(f'''
[auth.oidc]
metadata_url = "{provider.base}/.well-known/openid-configuration"
client_id = "{CLIENT_ID}"
label = "Sign in with Microsoft"
role_claim = "roles"
[auth.oidc.role_map]
"MFHC.Board" = "board"
"MFHC.Analyst" = "analyst"
''', encoding="utf-8")
    monkeypatch.setenv("MFHC_CONFIG", str(config))
    monkeypatch.setenv("MFHC_OIDC_CLIENT_SECRET", "client-secret")
    monkeypatch.setenv("MFHC_STATE_DIR", str(tmp_path / "state"))
    source = tmp_path / "src"
    write_table(source, "police_incidents", [police("I1", "P1", "2025-05-01T08:00", "2025-05-01T10:00")])
    db = tmp_path / "mfhc.duckdb"
    load(source, Settings(db_path=db))
    app = create_app(db)
    yield app, provider, Settings(db_path=db, state_dir=tmp_path / "state")
    provider.stop()
    data.configure(None)


def sign_in_with_sso(app, provider, claims: dict):
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with Microsoft" in page
    redirect = client.get("/login/oidc?next=/homes")
    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == provider.base + "/authorize"
    assert query["client_id"] == CLIENT_ID and "openid" in query["scope"]
    provider.nonce = query["nonce"]
    provider.claims = claims
    return client, client.get(f"/login/oidc/callback?code=the-code&state={query['state']}")


def test_a_provider_role_signs_in_with_its_mfhc_role(sso):
    app, provider, settings = sso
    client, answer = sign_in_with_sso(app, provider, {"sub": "u-1", "preferred_username": "jo@council.gov.uk",
                                                      "roles": ["Other.Role", "MFHC.Board", "MFHC.Analyst"]})
    assert answer.status_code == 302 and answer.headers["Location"] == "/homes"
    assert client.get("/_dash-layout").status_code == 200
    account = users.get_user("jo@council.gov.uk", settings)
    assert account.role == "analyst" and account.sso      # the highest role mapped
    entry = [e for e in audit.entries(settings=settings) if e["event"] == "login"][-1]
    assert entry["user"] == "jo@council.gov.uk" and entry["what"] == "single sign-on"


def test_no_mapped_role_no_entry(sso):
    app, provider, settings = sso
    client, answer = sign_in_with_sso(app, provider, {"sub": "u-2", "preferred_username": "sam@council.gov.uk",
                                                      "roles": ["Something.Else"]})
    assert answer.status_code == 403 and b"no mfhc role" in answer.data
    assert client.get("/_dash-layout").status_code == 401
    assert users.get_user("sam@council.gov.uk", settings) is None


def test_a_forged_state_is_refused(sso):
    app, provider, settings = sso
    client = app.server.test_client()
    client.get("/login/oidc")
    provider.claims = {"sub": "u-3", "preferred_username": "x@council.gov.uk", "roles": ["MFHC.Board"]}
    answer = client.get("/login/oidc/callback?code=the-code&state=forged")
    assert answer.status_code == 401
    assert client.get("/_dash-layout").status_code == 401
    assert any(e["event"] == "login_failed" for e in audit.entries(settings=settings))
