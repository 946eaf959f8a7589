"""The application's own state, outside the analytical store: user accounts, login
attempts and the board checklist's answers, in one SQLite file (`mfhc-state.sqlite`
beside the store, or `[state] dir`). SQLite in WAL mode takes writes from every gunicorn
worker and the command line at once, which DuckDB's single-writer file cannot; a load
replaces only the DuckDB file and never touches this one."""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager

from pipelines.config import Settings, load_settings

SCHEMA = """
create table if not exists users (
    username text primary key,
    password_hash text,            -- argon2id; null for single-sign-on accounts
    role text not null check (role in ('board', 'manager', 'analyst', 'admin')),
    created_at text not null,
    created_by text not null
);
create table if not exists login_attempts (
    username text not null,
    address text not null,
    at real not null,              -- unix time
    succeeded integer not null
);
create index if not exists login_attempts_at on login_attempts (at);
create table if not exists checklist_answers (
    question_id text not null,
    answer text not null check (answer in ('yes', 'partly', 'no', 'not answered')),
    note text not null,
    answered_by text not null,
    answered_at text not null      -- every answer is kept; the latest per question is current
);
create table if not exists ended_sessions (
    session_id text primary key,   -- the random id a sign-in gives its session cookie
    until real not null            -- unix time after which the cookie has expired anyway
);
"""


@contextmanager
def connect(settings: Settings | None = None):
    settings = settings or load_settings()
    path = settings.state_db_path
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    if new:
        os.chmod(path, 0o600)
    try:
        con.row_factory = sqlite3.Row
        con.execute("pragma journal_mode=wal")
        con.execute("pragma busy_timeout=30000")
        con.executescript(SCHEMA)
        yield con
    finally:
        con.close()


def end_session(session_id: str, until: float, settings: Settings | None = None) -> None:
    """A signed-out session stays ended: a response to a request sent before the sign-out
    may still carry its cookie back to the browser. Kept until the cookie would expire."""
    import time

    with connect(settings) as con:
        con.execute("delete from ended_sessions where until < ?", (time.time(),))
        con.execute("insert or replace into ended_sessions values (?, ?)", (session_id, until))


def session_ended(session_id: str, settings: Settings | None = None) -> bool:
    with connect(settings) as con:
        return con.execute("select 1 from ended_sessions where session_id = ?", (session_id,)).fetchone() is not None
