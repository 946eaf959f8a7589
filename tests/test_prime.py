"""Priming a worker process (dashboard/prime.py): what the first chart of each kind would
pay is paid when the app is made, without reading any store."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import plotly.graph_objects as go

from dashboard import prime

ROOT = Path(__file__).resolve().parents[1]


def _fresh_python(script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """`script` in a new interpreter (nothing imported or made yet), with no store, no cache
    and no warm-up, in an empty working directory."""
    env = {**os.environ, "MFHC_CONFIG": str(tmp_path / "no-config.toml"), "MFHC_DB": str(tmp_path / "none.duckdb"),
           "MFHC_STATE_DIR": str(tmp_path / "state"), "MFHC_CACHE": "off", "MFHC_WARM": "off",
           "MFHC_PSEUDONYM_KEY": "test-key-not-secret", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_prime_draws_every_trace_type_the_figures_draw():
    trace_types = set(go.Figure()._data_validator.class_strs_map)
    drawn = {kind for path in (ROOT / "dashboard" / "figures").glob("*.py")
             for kind in re.findall(r'"type": "(\w+)"', path.read_text(encoding="utf-8")) if kind in trace_types}
    assert {"bar", "scatter", "choropleth"} <= drawn
    assert drawn == set(prime.TRACE_TYPES) and drawn <= trace_types


def test_prime_loads_each_trace_type_and_makes_the_transformer(tmp_path):
    script = f"""
import sys
from plotly.validator_cache import ValidatorCache
from dashboard import data, prime
from dashboard.figures import hotspots

kinds = {prime.TRACE_TYPES!r}
def loaded():
    return [kind for kind in kinds if "plotly.graph_objs._" + kind in sys.modules]
assert loaded() == [], loaded()
assert "pyproj" not in sys.modules and hotspots.wgs84_transformer.cache_info().currsize == 0
assert ValidatorCache._json_cache is None
took = prime.prime()
assert loaded() == list(kinds), loaded()
assert "pyproj" in sys.modules and hotspots.wgs84_transformer.cache_info().currsize == 1
assert ValidatorCache._json_cache is not None
assert not data._instances                    # no store opened: nothing of any child read
print(took)
"""
    took = float(_fresh_python(script, tmp_path).stdout.split()[-1])
    assert took < 5      # about 0.2 s; generous for a shared, noisy machine


def test_every_worker_is_primed_when_it_makes_the_app(tmp_path):
    """gunicorn's workers import dashboard.app, whose module makes the app, as `mfhc serve` and
    the callback benchmark do: priming is part of create_app, whatever the cache's setting."""
    script = """
import sys
import dashboard.app
from dashboard.figures import hotspots
assert hotspots.wgs84_transformer.cache_info().currsize == 1
assert all("plotly.graph_objs._" + kind in sys.modules for kind in ("bar", "scattergeo", "choropleth", "heatmap"))
"""
    _fresh_python(script, tmp_path)


def test_the_hotspot_maps_use_the_primed_transformer():
    from dashboard.figures import hotspots

    prime.prime_transformer()
    made = hotspots.wgs84_transformer()
    lon, lat = hotspots.to_wgs84([391100], [298600])       # WV1 4ED, Wolverhampton city centre
    assert hotspots.wgs84_transformer() is made
    assert abs(lon[0] - -2.128) < 0.01 and abs(lat[0] - 52.586) < 0.01


def test_a_worker_sets_what_it_made_at_start_aside_from_the_garbage_collector(tmp_path):
    """The app's objects (its layout, the pages, Plotly's and Dash's own) are frozen when the
    app is made, so a full collection in a request does not walk them; the process still
    ends cleanly (frozen objects handed back at exit, so DuckDB's bindings report no leak)."""
    script = """
import gc
import dash
import dashboard.app
tracked = {id(o) for o in gc.get_objects()}
assert gc.get_freeze_count() > 50_000, gc.get_freeze_count()
assert id(dash.page_registry) not in tracked and id(dashboard.app.app) not in tracked
assert len(tracked) < gc.get_freeze_count() / 10, (len(tracked), gc.get_freeze_count())
"""
    done = _fresh_python(script, tmp_path)
    assert "leaked" not in done.stderr, done.stderr[-2000:]
