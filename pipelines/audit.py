"""The audit log: who did what, when and from where, appended to a JSON-lines file outside
the analytical store (a load never touches it).

Append-only in two senses: the file is only ever opened for appending (under an exclusive
lock, so gunicorn workers and the command line can write at once), and each entry carries
the SHA-256 of the line before it, so an edited or deleted line breaks the chain that
`mfhc audit --verify` checks.

Entries never hold a child's identifier: re-identifications record the pseudonymised key
and how many records were shown, not the reference they resolved to.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os

from pipelines.config import Settings, load_settings

EVENTS = (
    "login", "login_failed", "logout", "page_view", "download", "export", "board_pack",
    "reidentify", "user_added", "user_removed", "role_changed", "password_changed",
    "checklist_answered", "access_denied", "load",
)
GENESIS = "0" * 64


class AuditChainBroken(Exception):
    pass


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _last_line(handle) -> str | None:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    if size == 0:
        return None
    block = min(size, 65536)
    while True:
        handle.seek(size - block)
        tail = handle.read(block)
        lines = tail.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or block == size:
            return lines[-1].decode("utf-8")
        block = min(size, block * 2)


def record(event: str, *, user: str, what: str = "", where: str = "", settings: Settings | None = None,
           **details) -> dict:
    """Append one entry; returns it. `where` is the client address (or "cli")."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    settings = settings or load_settings()
    path = settings.audit_log_path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "r+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            last = _last_line(handle)
            previous = hashlib.sha256(last.encode("utf-8")).hexdigest() if last else GENESIS
            entry = {"at": _now(), "event": event, "user": user, "what": what, "where": where,
                     **({"details": details} if details else {}), "prev": previous}
            handle.write((json.dumps(entry, sort_keys=True, default=str) + "\n").encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return entry


def entries(since: dt.datetime | None = None, settings: Settings | None = None) -> list[dict]:
    """The entries at or after `since` (UTC if naive), oldest first."""
    settings = settings or load_settings()
    path = settings.audit_log_path
    if not path.exists():
        return []
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.timezone.utc)
    found = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            entry = json.loads(line)
            if since is None or dt.datetime.fromisoformat(entry["at"]) >= since:
                found.append(entry)
    return found


def verify(settings: Settings | None = None) -> int:
    """Check the hash chain; returns the number of entries, raises AuditChainBroken naming the line."""
    settings = settings or load_settings()
    path = settings.audit_log_path
    if not path.exists():
        return 0
    previous = GENESIS
    count = 0
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\n")
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AuditChainBroken(f"{path}: line {number} is not JSON") from exc
            if entry.get("prev") != previous:
                raise AuditChainBroken(f"{path}: line {number} does not follow line {number - 1} "
                                       "(an entry was changed, removed or inserted)")
            previous = hashlib.sha256(line.encode("utf-8")).hexdigest()
            count += 1
    return count
