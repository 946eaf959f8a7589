// Plotly's world base map, as the ward maps use it: not at all.
//
// The maps draw the ward boundaries stored with each load and hide Plotly's own base map
// (`geo.visible = false`: no land, coastlines, countries, lakes or rivers). Plotly.js
// still fetches the world topojson (assets/topojson/world_110m.json, 137 KB) before it
// draws any geo chart, one more request and parse on the hotspots page's critical path.
// An empty topology under that name, set before Plotly.js loads, is what it draws from
// instead (tests/browser/test_geo_base.py). The ward map is the only geo chart and keeps
// its base map hidden (tests/test_page_hotspots.py). The board pack draws with kaleido,
// which never reads this script and keeps the vendored file.
(function () {
  var layers = ['coastlines', 'land', 'ocean', 'lakes', 'rivers', 'countries', 'subunits'];
  var objects = {};
  layers.forEach(function (name) { objects[name] = { type: 'GeometryCollection', geometries: [] }; });
  var assets = window.PlotlyGeoAssets = window.PlotlyGeoAssets || { topojson: {} };
  assets.topojson = assets.topojson || {};
  if (assets.topojson.world_110m === undefined) {
    assets.topojson.world_110m = { type: 'Topology', objects: objects, arcs: [] };
  }
})();
