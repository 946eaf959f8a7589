"""The strict Plotly.js bundle the app serves is the version the Python plotly package ships."""

from __future__ import annotations

import re
from pathlib import Path

from plotly.offline import get_plotlyjs_version

STRICT = Path(__file__).resolve().parents[1] / "assets" / "plotly" / "plotly-strict.min.js"


def test_strict_bundle_matches_the_plotly_package():
    with STRICT.open(encoding="utf-8") as handle:
        header = handle.read(300)
    found = re.search(r"plotly\.js \(strict - minified\) v(\d+\.\d+\.\d+)", header)
    assert found, header
    assert found.group(1) == get_plotlyjs_version()
