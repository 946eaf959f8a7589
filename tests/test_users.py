"""Local accounts and the `mfhc users` / `mfhc audit` commands."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from pipelines import audit, users
from pipelines.cli import main
from pipelines.config import Settings


@pytest.fixture()
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("MFHC_DB", str(tmp_path / "mfhc.duckdb"))
    return Settings(db_path=tmp_path / "mfhc.duckdb")


def test_passwords_are_argon2_hashes_never_stored_plain(settings):
    users.add_user("alice", "analyst", "correct horse battery", by="test", settings=settings)
    with sqlite3.connect(settings.state_db_path) as con:
        stored = con.execute("select password_hash from users where username = 'alice'").fetchone()[0]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert settings.state_db_path.stat().st_mode & 0o777 == 0o600
    assert users.authenticate("alice", "correct horse battery", "1.2.3.4", settings).user.role == "analyst"
    assert users.authenticate("alice", "Correct horse battery", "1.2.3.4", settings).user is None


@pytest.mark.parametrize("name,role,password,message", [
    ("bob", "analyst", "short", "at least 12"),
    ("bob", "superuser", "long enough password", "role must be"),
    ("../bob", "analyst", "long enough password", "user name"),
    ("", "analyst", "long enough password", "user name"),
])
def test_bad_accounts_are_refused(settings, name, role, password, message):
    with pytest.raises(users.UserError, match=message):
        users.add_user(name, role, password, by="test", settings=settings)


def test_single_sign_on_cannot_take_over_a_local_account(settings):
    users.add_user("carol", "board", "long enough password", by="test", settings=settings)
    with pytest.raises(users.UserError, match="local account"):
        users.upsert_sso_user("carol", "admin", settings)
    assert users.upsert_sso_user("dave@council.gov.uk", "manager", settings).role == "manager"
    assert users.upsert_sso_user("dave@council.gov.uk", "board", settings).role == "board"
    assert users.authenticate("dave@council.gov.uk", "", "1.2.3.4", settings).user is None


def test_the_users_commands_and_their_audit_entries(settings):
    runner = CliRunner()
    added = runner.invoke(main, ["users", "add", "erin", "--role", "manager", "--password-stdin"],
                          input="a long enough password\n")
    assert added.exit_code == 0, added.output
    assert runner.invoke(main, ["users", "add", "erin", "--role", "board", "--password-stdin"],
                         input="a long enough password\n").exit_code == 1
    assert runner.invoke(main, ["users", "set-role", "erin", "analyst"]).exit_code == 0
    listed = json.loads(runner.invoke(main, ["users", "list", "--json"]).output)
    assert [(u["username"], u["role"]) for u in listed] == [("erin", "analyst")]
    assert "password" not in json.dumps(listed)
    assert runner.invoke(main, ["users", "passwd", "erin", "--password-stdin"],
                         input="another long password\n").exit_code == 0
    assert users.authenticate("erin", "another long password", "x", settings).user is not None
    assert runner.invoke(main, ["users", "remove", "erin"]).exit_code == 0
    assert runner.invoke(main, ["users", "remove", "erin"]).exit_code == 1
    events = [e["event"] for e in audit.entries(settings=settings)]
    assert events == ["user_added", "role_changed", "password_changed", "user_removed"]
    shown = runner.invoke(main, ["audit", "--since", "2000-01-01"])
    assert shown.exit_code == 0 and shown.output.count("\n") == 4 and "role_changed" in shown.output
    assert runner.invoke(main, ["audit", "--since", "2999-01-01"]).output == ""
    verified = runner.invoke(main, ["audit", "--verify"])
    assert verified.exit_code == 0 and "4 entries" in verified.output


def test_first_start_makes_one_admin(settings):
    from pipelines.cli_admin import ensure_first_admin

    password = ensure_first_admin(settings)
    assert password and users.authenticate("admin", password, "x", settings).user.role == "admin"
    assert ensure_first_admin(settings) is None
