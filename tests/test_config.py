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


def test_serve_memory_limit_is_a_size_or_a_clear_error(tmp_path):
    config = tmp_path / "mfhc.toml"
    assert load_settings(config_path=Path("mfhc.example.toml")).serve_memory_limit in (None, "1GB")
    config.write_text('[database]\nserve_memory_limit = "512MiB"\n', encoding="utf-8")
    assert load_settings(config_path=config).serve_memory_limit == "512MiB"
    config.write_text('[database]\nserve_memory_limit = "lots"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="serve_memory_limit 'lots'"):
        load_settings(config_path=config)


def test_the_dashboard_instance_takes_the_serve_memory_limit(tmp_path, monkeypatch):
    from dashboard import data
    from sources import store_of_this_build

    db = tmp_path / "mfhc.duckdb"
    store_of_this_build(db).close()
    config = tmp_path / "mfhc.toml"
    config.write_text('[database]\nserve_memory_limit = "300MiB"\n', encoding="utf-8")
    monkeypatch.setenv("MFHC_CONFIG", str(config))
    data.configure(db)
    try:
        cursor, _ = data._open(db, None)
        shown = cursor.execute("select current_setting('memory_limit')").fetchone()[0]
        cursor.close()
        assert shown.replace(" ", "") in ("300.0MiB", "314.5MB", "300MiB"), shown
    finally:
        data.forget_instances()
        data.configure(None)


@pytest.mark.parametrize("rule", ["episodes = 0", "days = 0", "days = -3"])
def test_an_escalation_rule_of_nothing_is_a_clear_error(tmp_path, rule):
    path = tmp_path / "mfhc.toml"
    path.write_text(f"[escalation]\n{rule}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[escalation\] episodes and days must each be 1 or more"):
        load_settings(config_path=path)
