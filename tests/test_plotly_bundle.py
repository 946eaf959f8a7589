"""The one Plotly.js every chart is drawn with: mfhc's bundle in assets/plotly/ (the trace
types the charts draw, nothing else), of the version the Python plotly package ships, named
to kaleido for the board pack."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from plotly.offline import get_plotlyjs_version

from dashboard import prime
from dashboard.figures.common import PLOTLY_JS
from pipelines import board_pack

ROOT = Path(__file__).resolve().parents[1]

BUILD = Path(__file__).resolve().parents[1] / "tools" / "plotly-bundle"


def _header() -> str:
    with PLOTLY_JS.open(encoding="utf-8") as handle:
        return handle.read(300)


def test_the_bundle_is_the_version_of_the_plotly_package():
    found = re.search(r"plotly\.js \(mfhc: ([a-z, ]+) - minified\) v(\d+\.\d+\.\d+)", _header())
    assert found, _header()
    assert found.group(2) == get_plotlyjs_version()
    recipe = (BUILD / "package.json").read_text(encoding="utf-8")
    assert f'"plotly.js": "{get_plotlyjs_version()}"' in recipe


def test_the_bundle_holds_every_trace_type_the_charts_draw():
    """The recipe registers the trace types prime.TRACE_TYPES lists (every one the figures
    draw: tests/test_prime.py), scatter coming with Plotly's core; the header says so."""
    registered = set(re.findall(r"require\('plotly\.js/lib/(\w+)'\)", (BUILD / "entry.cjs").read_text("utf-8")))
    assert registered - {"core"} == set(prime.TRACE_TYPES) - {"scatter"}
    named = re.search(r"\(mfhc: ([a-z, ]+) - minified\)", _header()).group(1).split(", ")
    assert sorted(named) == sorted(prime.TRACE_TYPES)


def test_nothing_in_the_bundle_needs_eval():
    """The Content Security Policy has no `unsafe-eval` (docs/security.md)."""
    text = PLOTLY_JS.read_text(encoding="utf-8")
    assert "new Function" not in text and not re.search(r"(?<![\w.$])eval\(", text)


def test_the_bundle_names_no_cdn_and_finds_the_topojson_here():
    """mfhc runs offline: the build sets Plotly's default topojson address (its CDN) to the
    vendored files in assets/topojson/."""
    text = PLOTLY_JS.read_text(encoding="utf-8")
    assert "cdn" not in text.lower()
    assert 'topojsonURL:{valType:"string",noBlank:!0,dflt:"/assets/topojson/"' in text


# Web addresses of CDNs, web fonts and map tiles: mfhc serves every asset from assets/.
CDN_ADDRESS = re.compile(r"(?i)//cdn[.\w-]*\.|cdn\.plot\.ly|jsdelivr|unpkg\.com|cdnjs|fonts\.googleapis|fonts\.gstatic"
                         r"|tile\.openstreetmap|api\.mapbox|basemaps\.cartocdn")


def test_no_file_of_the_project_names_a_cdn():
    """Not the bundle's build either: it finds Plotly's default topojson address by its shape."""
    import subprocess

    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    named = []
    for name in filter(None, listed.stdout.split("\0")):
        path = ROOT / name
        if path == Path(__file__).resolve():      # this file names them, to look for them
            continue
        if path.is_file() and path.stat().st_size < 20_000_000:
            text = path.read_bytes().decode("utf-8", errors="ignore")
            named += [f"{name}: {match.group(0)}" for match in CDN_ADDRESS.finditer(text)]
    assert not named, named


def test_the_board_pack_draws_with_the_same_plotly_js_from_this_machine(monkeypatch):
    import kaleido

    started = []
    monkeypatch.setattr(kaleido, "start_sync_server", lambda *args, **kwargs: started.append(kwargs))
    monkeypatch.setattr(board_pack, "_kaleido_started", False)
    board_pack.start_renderer()
    assert started == [{"mathjax": False, "plotlyjs": (PLOTLY_JS.as_uri(), "utf-8"), "silence_warnings": True}]
