from pathlib import Path

import pytest

from pipelines.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_example_config_loads():
    settings = load_settings(ROOT / "mfhc.example.toml")
    assert settings.escalation.episodes == 3 and settings.escalation.days == 30
    assert settings.authority_code == "E08000031"


def test_environment_overrides_the_database_path(tmp_path, monkeypatch):
    monkeypatch.setenv("MFHC_DB", str(tmp_path / "x.duckdb"))
    assert load_settings(ROOT / "mfhc.example.toml").db_path == tmp_path / "x.duckdb"


def test_broken_config_is_a_clear_error(tmp_path):
    bad = tmp_path / "mfhc.toml"
    bad.write_text("[sources\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)
