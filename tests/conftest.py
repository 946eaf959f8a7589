import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """No test reads the developer's mfhc.toml or key, or writes the default store."""
    monkeypatch.setenv("MFHC_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("MFHC_PSEUDONYM_KEY", "test-key-not-secret")
    monkeypatch.delenv("MFHC_DB", raising=False)
    # The default view's warm-up thread (dashboard.warm) runs in tests/test_warm.py only, and
    # the read-ahead of the store's tables (dashboard.prefetch) in tests/test_prefetch.py only.
    monkeypatch.setenv("MFHC_WARM", "off")
    monkeypatch.setenv("MFHC_PREFETCH", "off")


# The machine is shared and noisy: hypothesis checks behaviour here, not speed.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("mfhc", deadline=None)
_hypothesis_settings.load_profile("mfhc")


@pytest.fixture(scope="session")
def generated_authority(tmp_path_factory):
    """A read-only connection on the store of a synthetic 400-child authority (`mfhc
    generate`, loaded through the real pipeline), shared by the tests that hold a query to
    its plain definition over any period and filter (tests/sources.py: FILTER_SETS)."""
    import duckdb

    from pipelines.config import Settings
    from pipelines.generate import generate
    from pipelines.load import load

    folder = tmp_path_factory.mktemp("authority")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MFHC_CONFIG", str(folder / "no-config.toml"))
        patch.setenv("MFHC_PSEUDONYM_KEY", "test-key-not-secret")
        generate(folder / "source", children=400, errors=False)
        db = folder / "mfhc.duckdb"
        load(folder / "source", Settings(db_path=db))
    con = duckdb.connect(str(db), read_only=True)
    yield con
    con.close()
