"""`mfhc users ...` and `mfhc audit`: accounts and the audit log (for administrators, who
run them on the server). Every change to an account is written to the audit log."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import secrets
import sys
from pathlib import Path

import click

from pipelines import audit, users
from pipelines.cli import DATE, _settings, main
from pipelines.users import ROLES, UserError


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@main.group("users")
def users_group() -> None:
    """Local accounts: add, remove, list, set-role, passwd."""


DB_OPTION = click.option("--db", type=click.Path(path_type=Path, dir_okay=False), default=None,
                         help="Database file (the accounts live beside it, or in [state] dir).")


@users_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@DB_OPTION
def users_add(username: str, role: str, password_stdin: bool, db: Path | None) -> None:
    """Add a local account (the password is asked for, or read with --password-stdin)."""
    settings = _settings(db)
    try:
        users.add_user(username, role, _password(password_stdin), by=os_user(), settings=settings)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.record("user_added", user=os_user(), what=username, where="cli", settings=settings, role=role)
    click.echo(f"added {username} ({role})")


@users_group.command("remove")
@click.argument("username")
@DB_OPTION
def users_remove(username: str, db: Path | None) -> None:
    """Remove an account (its sessions end at their next request)."""
    settings = _settings(db)
    try:
        users.remove_user(username, settings)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.record("user_removed", user=os_user(), what=username, where="cli", settings=settings)
    click.echo(f"removed {username}")


@users_group.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@DB_OPTION
def users_set_role(username: str, role: str, db: Path | None) -> None:
    """Change an account's role (takes effect at its next request)."""
    settings = _settings(db)
    try:
        users.set_role(username, role, settings)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.record("role_changed", user=os_user(), what=username, where="cli", settings=settings, role=role)
    click.echo(f"{username} is now {role}")


@users_group.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@DB_OPTION
def users_passwd(username: str, password_stdin: bool, db: Path | None) -> None:
    """Set a local account's password."""
    settings = _settings(db)
    try:
        users.set_password(username, _password(password_stdin), settings)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.record("password_changed", user=os_user(), what=username, where="cli", settings=settings)
    click.echo(f"password of {username} changed")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@DB_OPTION
def users_list(as_json: bool, db: Path | None) -> None:
    """List the accounts (never their password hashes)."""
    rows = users.list_users(_settings(db))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        kind = "single sign-on" if row["sso"] else "local"
        click.echo(f"{row['username']:24} {row['role']:8} {kind:15} added {row['created_at']} by {row['created_by']}")


def ensure_first_admin(settings) -> str | None:
    """A fresh installation has no accounts: create `admin` with a random password, once, and
    return the password so the console can show it (it is stored only as its hash)."""
    if users.list_users(settings):
        return None
    password = secrets.token_urlsafe(12)
    users.add_user("admin", "admin", password, by="first start", settings=settings)
    audit.record("user_added", user="first start", what="admin", where="cli", settings=settings, role="admin")
    return password


@users_group.command("first-admin")
@DB_OPTION
def users_first_admin(db: Path | None) -> None:
    """When there are no accounts at all, create `admin` with a random password and print it once."""
    password = ensure_first_admin(_settings(db))
    if password:
        click.echo(f"No accounts yet: created user 'admin' with password {password} (shown once; change it with "
                   "`mfhc users passwd admin`).")
    else:
        click.echo("accounts exist: none created")


@main.command("audit")
@click.option("--since", type=DATE, default=None, help="Entries from this day (YYYY-MM-DD, UTC).")
@click.option("--verify", is_flag=True, help="Check the log's hash chain (exit 1 if broken).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@DB_OPTION
def audit_command(since: dt.datetime | None, verify: bool, as_json: bool, db: Path | None) -> None:
    """The audit log: sign-ins, page views, downloads, exports, board packs, re-identifications, account changes."""
    settings = _settings(db)
    if verify:
        try:
            count = audit.verify(settings)
        except audit.AuditChainBroken as exc:
            click.echo(f"audit log broken: {exc}", err=True)
            sys.exit(1)
        click.echo(f"audit log intact: {count} entries")
        return
    for entry in audit.entries(since, settings):
        if as_json:
            click.echo(json.dumps(entry, sort_keys=True))
        else:
            details = " ".join(f"{k}={v}" for k, v in (entry.get("details") or {}).items())
            click.echo(f"{entry['at']}  {entry['event']:16} {entry['user']:20} {entry['where']:15} "
                       f"{entry['what']} {details}".rstrip())
