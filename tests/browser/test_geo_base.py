"""The ward map draws without Plotly's world topojson (assets/geo_base.js).

The map hides Plotly's base map, yet Plotly.js fetched `world_110m.json` (137 KB) before
drawing it; an empty topology under that name, set by a page script, saves that request
on the hotspots page. The map must still draw its wards and labels."""

from __future__ import annotations

MAP_DRAWN = """() => {
    const plot = document.querySelector('#hotspots-map-graph .js-plotly-plot');
    if (!plot || !plot._fullLayout) return false;
    return plot.querySelectorAll('.choroplethlayer path.choroplethlocation').length > 0
        && plot.querySelectorAll('.scattergeo text').length > 0;
}"""


def test_the_ward_map_draws_its_wards_without_the_world_topojson(server, context):
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.base_url + "/hotspots")
    page.wait_for_function(MAP_DRAWN)
    wards = page.evaluate("() => document.querySelectorAll("
                          "'#hotspots-map-graph .choroplethlayer path.choroplethlocation').length")
    assert wards > 0
    assert not [url for url in requested if "/topojson/" in url], requested
    assert not errors, errors
    page.close()
