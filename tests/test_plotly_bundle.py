"""The one Plotly.js every chart is drawn with: the strict bundle in assets/plotly/, the
version the Python plotly package ships, named to kaleido for the board pack."""

from __future__ import annotations

import re

from plotly.offline import get_plotlyjs_version

from dashboard.figures.common import PLOTLY_JS
from pipelines import board_pack


def test_strict_bundle_matches_the_plotly_package():
    with PLOTLY_JS.open(encoding="utf-8") as handle:
        header = handle.read(300)
    found = re.search(r"plotly\.js \(strict - minified\) v(\d+\.\d+\.\d+)", header)
    assert found, header
    assert found.group(1) == get_plotlyjs_version()


def test_the_board_pack_draws_with_the_same_plotly_js_from_this_machine(monkeypatch):
    import kaleido

    started = []
    monkeypatch.setattr(kaleido, "start_sync_server", lambda *args, **kwargs: started.append(kwargs))
    monkeypatch.setattr(board_pack, "_kaleido_started", False)
    board_pack.start_renderer()
    assert started == [{"mathjax": False, "plotlyjs": (PLOTLY_JS.as_uri(), "utf-8"), "silence_warnings": True}]
