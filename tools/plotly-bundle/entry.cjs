// Plotly.js with the trace types mfhc draws, and no other (dashboard/prime.py lists them;
// tests/test_plotly_bundle.py checks the two lists agree). `scatter` comes with the core.
'use strict';

var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/choropleth'),
    require('plotly.js/lib/funnel'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/scattergeo'),
]);

module.exports = Plotly;
