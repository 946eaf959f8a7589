"""What a worker process would otherwise pay on its first request for each kind of chart,
paid once when the process makes the app.

A fresh Python process pays, on the first chart of each kind, for work that has nothing
to do with the data: Plotly reads its validator table (a 3 MB JSON file) and
imports the classes of each trace type on the first figure that has one, and pyproj is
imported and builds the British National Grid → WGS84 transformer on the first hotspot map
with found-location clusters (about 100 ms). `prime()` does all of that with a tiny figure
of every trace type the dashboard draws and one transformer, so a worker's first visitors
do not wait for it. It reads no store and builds nothing from anyone's data; it runs in
`dashboard.app.create_app`, so in every gunicorn worker (and `mfhc serve`, and the callback
benchmark, which make the app the same way), whatever the result cache's setting. The first
reads of each table by a worker's DuckDB instance are `dashboard.prefetch`'s concern.

Last of all, `freeze_startup_objects` sets what the process made as it started aside from
the garbage collector, whose full collections otherwise walked it all in the middle of
requests.
"""

from __future__ import annotations

import atexit
import gc
import logging
import time

import numpy as np
from plotly.io.json import to_json_plotly

from dashboard.figures.common import figure_from
from dashboard.figures.hotspots import wgs84_transformer

log = logging.getLogger(__name__)

# Every trace type of dashboard/figures/ (tests/test_prime.py checks that none is missing),
# and the trace types of mfhc's Plotly.js bundle (tools/plotly-bundle/entry.cjs: scatter comes
# with Plotly's core; tests/test_plotly_bundle.py checks the two agree).
TRACE_TYPES = ("bar", "choropleth", "funnel", "heatmap", "scatter", "scattergeo")


def _tiny_trace(kind: str) -> dict:
    """One trace of `kind` with a point or two, numbers as numpy arrays as the figures pass
    them (their encoding is part of the first response's cost)."""
    values = np.array([1.0, 2.0])
    if kind == "choropleth":
        square = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}
        return {"type": kind, "geojson": {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": "a", "properties": {}, "geometry": square}]},
            "featureidkey": "id", "locations": ["a"], "z": values[:1], "showscale": False}
    if kind == "scattergeo":
        return {"type": kind, "lon": values, "lat": values, "mode": "lines+markers+text", "text": ["a", "b"],
                "fill": "toself"}
    if kind == "heatmap":
        return {"type": kind, "z": np.array([[1.0, 2.0], [3.0, 4.0]]), "x": ["a", "b"], "y": ["c", "d"]}
    if kind == "funnel":
        return {"type": kind, "y": ["a", "b"], "x": values, "textinfo": "value"}
    return {"type": kind, "x": ["a", "b"], "y": values, "text": ["1", "2"],
            "marker": {"color": "#000000"}, "hovertemplate": "%{y}<extra></extra>"}


def prime_plotly() -> None:
    """Build and encode, as Dash does, one tiny figure of each trace type the dashboard draws."""
    for kind in TRACE_TYPES:
        layout = {"xaxis": {"type": "category"}}
        if kind in ("choropleth", "scattergeo"):
            layout = {"geo": {"projection": {"type": "mercator"}, "fitbounds": "locations", "visible": False}}
        to_json_plotly(figure_from([_tiny_trace(kind)], layout, title="prime"))


def prime_transformer() -> None:
    """pyproj imported and the hotspot maps' transformer made (it is kept for the process)."""
    wgs84_transformer().transform(np.array([391100.0]), np.array([298600.0]))


def prime() -> float:
    """Pay this process's first-chart costs now; seconds taken."""
    began = time.perf_counter()
    prime_plotly()
    prime_transformer()
    took = time.perf_counter() - began
    log.debug("process primed in %.0f ms", took * 1000)
    return took


def freeze_startup_objects() -> int:
    """Set the objects this process has made so far (Dash, Plotly's validators, pandas, the
    pages and their layouts: some 160,000) aside from the garbage collector; how many.

    Python's full collection walks every tracked object. In a worker those are mostly what
    it made as it started, which live as long as it does, and each full collection took
    35–45 ms of whichever callback happened to allocate past the threshold: most of the
    slowest responses, at any size of store. `gc.freeze` moves them to a permanent
    generation, so a full collection walks only what the requests made. Called once the app
    is made (each gunicorn worker makes its own); at exit they are handed back, so the
    interpreter's final collection frees them as before."""
    gc.collect()
    gc.freeze()
    atexit.unregister(gc.unfreeze)    # once, however many apps the process makes
    atexit.register(gc.unfreeze)
    return gc.get_freeze_count()
