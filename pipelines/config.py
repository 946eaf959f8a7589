"""Settings from `mfhc.toml` (path from MFHC_CONFIG) and the environment.

Secrets never live in the file: the pseudonymisation key comes from MFHC_PSEUDONYM_KEY
or from a key file beside the database that the first load creates.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DB = Path("data/mfhc.duckdb")
DEFAULT_CONFIG = Path("mfhc.toml")


class ConfigError(Exception):
    """The configuration file is unreadable or names something that does not exist."""


@dataclass(frozen=True)
class EscalationRule:
    episodes: int = 3
    days: int = 30


@dataclass(frozen=True)
class Settings:
    db_path: Path = DEFAULT_DB
    authority_name: str = "Wolverhampton"
    authority_code: str = "E08000031"
    # {source table name: {column name in the extract (normalised): mfhc column name}}
    column_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    onspd_path: Path | None = None
    escalation: EscalationRule = EscalationRule()
    # Users, board checklist answers and the audit log live here, outside the analytical
    # store, so a load never touches them. Default: the store's folder.
    state_dir: Path | None = None
    # Single sign-on (OpenID Connect), e.g. Microsoft Entra ID; None: local accounts only.
    oidc: dict | None = None
    session_minutes: int = 480
    # The dashboard's DuckDB memory per worker (its block cache and query memory), as DuckDB
    # writes sizes ("1GB", "512MiB"); None: DuckDB's default, 80 % of the machine's memory.
    serve_memory_limit: str | None = None

    @property
    def state_path(self) -> Path:
        return Path(self.state_dir) if self.state_dir else Path(self.db_path).parent

    @property
    def audit_log_path(self) -> Path:
        return self.state_path / "audit.jsonl"

    @property
    def state_db_path(self) -> Path:
        return self.state_path / "mfhc-state.sqlite"


def normalise_header(name: str) -> str:
    return name.strip().lower()


def load_settings(config_path: Path | None = None, db_path: Path | None = None) -> Settings:
    path = config_path or Path(os.environ.get("MFHC_CONFIG", DEFAULT_CONFIG))
    raw: dict = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    elif config_path is not None:
        raise ConfigError(f"{path}: configuration file not found")

    column_maps: dict[str, dict[str, str]] = {}
    for source, section in (raw.get("sources") or {}).items():
        columns = (section or {}).get("columns") or {}
        column_maps[source] = {normalise_header(k): normalise_header(v) for k, v in columns.items()}

    authority = raw.get("authority") or {}
    geography = raw.get("geography") or {}
    escalation = raw.get("escalation") or {}
    onspd = geography.get("onspd")
    env_db = os.environ.get("MFHC_DB")
    state = raw.get("state") or {}
    state_dir = os.environ.get("MFHC_STATE_DIR") or state.get("dir")
    auth = raw.get("auth") or {}
    database = raw.get("database") or {}
    serve_memory_limit = database.get("serve_memory_limit")
    if serve_memory_limit is not None and not re.fullmatch(
            r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", str(serve_memory_limit).strip()):
        raise ConfigError(f"{path}: [database] serve_memory_limit {serve_memory_limit!r} is not a size such as "
                          "'1GB' or '512MiB'")
    rule = EscalationRule(episodes=int(escalation.get("episodes", EscalationRule.episodes)),
                          days=int(escalation.get("days", EscalationRule.days)))
    if rule.episodes < 1 or rule.days < 1:
        raise ConfigError(f"{path}: [escalation] episodes and days must each be 1 or more "
                          f"(found {rule.episodes} in {rule.days} days)")
    return Settings(
        db_path=Path(db_path or env_db or database.get("path") or DEFAULT_DB),
        authority_name=authority.get("name", Settings.authority_name),
        authority_code=authority.get("code", Settings.authority_code),
        column_maps=column_maps,
        onspd_path=Path(onspd) if onspd else None,
        escalation=rule,
        state_dir=Path(state_dir) if state_dir else None,
        oidc=auth.get("oidc") or None,
        session_minutes=int(auth.get("session_minutes", Settings.session_minutes)),
        serve_memory_limit=str(serve_memory_limit).strip() if serve_memory_limit is not None else None,
    )
