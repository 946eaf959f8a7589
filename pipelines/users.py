"""Local user accounts: argon2id password hashes, roles, and rate-limited sign-in.

Accounts live in the application state (pipelines/state.py), never in the analytical
store. Single-sign-on users (OpenID Connect) are recorded with no password and the role
their identity provider's claims map to.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pipelines.config import Settings
from pipelines.state import connect

ROLES = ("board", "manager", "analyst", "admin")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
# Sign-in attempts: after 5 failures for one user, or 20 from one address, within 15
# minutes, sign-in is refused (even with the right password) until the window has passed.
WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone's")


class UserError(ValueError):
    pass


@dataclass(frozen=True)
class User:
    username: str
    role: str
    sso: bool = False


@dataclass(frozen=True)
class SignIn:
    user: User | None
    reason: str = ""          # why not: "bad credentials" | "locked"
    retry_after: int = 0      # seconds, when locked


def _check_username(username: str) -> str:
    if not isinstance(username, str) or not USERNAME.match(username):
        raise UserError("a user name is 1–64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
    return username


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    return password


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def add_user(username: str, role: str, password: str | None, by: str, settings: Settings | None = None,
             sso: bool = False) -> User:
    _check_username(username)
    _check_role(role)
    password_hash = None if sso else _hasher.hash(check_password(password))
    with connect(settings) as con:
        if con.execute("select 1 from users where username = ?", (username,)).fetchone():
            raise UserError(f"user {username!r} already exists")
        con.execute("insert into users values (?, ?, ?, ?, ?)", (username, password_hash, role, _now(), by))
    return User(username, role, sso)


def remove_user(username: str, settings: Settings | None = None) -> None:
    with connect(settings) as con:
        if con.execute("delete from users where username = ?", (username,)).rowcount == 0:
            raise UserError(f"no user {username!r}")


def set_role(username: str, role: str, settings: Settings | None = None) -> None:
    _check_role(role)
    with connect(settings) as con:
        if con.execute("update users set role = ? where username = ?", (role, username)).rowcount == 0:
            raise UserError(f"no user {username!r}")


def set_password(username: str, password: str, settings: Settings | None = None) -> None:
    password_hash = _hasher.hash(check_password(password))
    with connect(settings) as con:
        if con.execute("update users set password_hash = ? where username = ? and password_hash is not null",
                       (password_hash, username)).rowcount == 0:
            raise UserError(f"no local user {username!r}")


def list_users(settings: Settings | None = None) -> list[dict]:
    with connect(settings) as con:
        rows = con.execute("select username, role, password_hash is null as sso, created_at, created_by "
                           "from users order by username").fetchall()
    return [dict(row) for row in rows]


def get_user(username: str, settings: Settings | None = None) -> User | None:
    """The account as it is now (a removed user or a changed role takes effect at once)."""
    with connect(settings) as con:
        row = con.execute("select username, role, password_hash is null as sso from users where username = ?",
                          (username,)).fetchone()
    return User(row["username"], row["role"], bool(row["sso"])) if row else None


def upsert_sso_user(username: str, role: str, settings: Settings | None = None) -> User:
    _check_role(role)
    with connect(settings) as con:
        row = con.execute("select password_hash from users where username = ?", (username,)).fetchone()
        if row is None:
            con.execute("insert into users values (?, null, ?, ?, 'single sign-on')", (username, role, _now()))
        elif row["password_hash"] is not None:
            raise UserError(f"{username!r} is a local account; single sign-on cannot take it over")
        else:
            con.execute("update users set role = ? where username = ?", (role, username))
    return User(username, role, True)


def authenticate(username: str, password: str, address: str, settings: Settings | None = None,
                 now: float | None = None) -> SignIn:
    """Check a local sign-in, rate-limited per user and per address; every attempt is recorded."""
    now = time.time() if now is None else now
    username = (username or "")[:64]
    with connect(settings) as con:
        since = now - WINDOW_SECONDS
        con.execute("delete from login_attempts where at < ?", (now - 7 * 24 * 3600,))
        user_failures = con.execute(
            "select count(*), min(at) from login_attempts where username = ? and at >= ? and not succeeded",
            (username, since)).fetchone()
        address_failures = con.execute(
            "select count(*), min(at) from login_attempts where address = ? and at >= ? and not succeeded",
            (address, since)).fetchone()
        for (count, first), limit in ((user_failures, MAX_FAILURES_PER_USER),
                                      (address_failures, MAX_FAILURES_PER_ADDRESS)):
            if count >= limit:
                con.execute("insert into login_attempts values (?, ?, ?, 0)", (username, address, now))
                return SignIn(None, "locked", int(first + WINDOW_SECONDS - now) + 1)
        row = con.execute("select username, role, password_hash from users where username = ?",
                          (username,)).fetchone()
        ok = False
        try:
            # Unknown users cost the same as known ones.
            _hasher.verify(row["password_hash"] if row and row["password_hash"] else _DUMMY_HASH, password or "")
            ok = bool(row and row["password_hash"])
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        con.execute("insert into login_attempts values (?, ?, ?, ?)", (username, address, now, int(ok)))
        if ok and _hasher.check_needs_rehash(row["password_hash"]):
            con.execute("update users set password_hash = ? where username = ?",
                        (_hasher.hash(password), username))
    return SignIn(User(row["username"], row["role"]) if ok else None, "" if ok else "bad credentials")
