"""The dashboard's Plotly.js in the browser: mfhc's own bundle (assets/plotly/), loaded
once, drawing every trace type the charts use under the Content Security Policy (no
`unsafe-eval`).

Plotly.js's default bundle compiles its WebGL shaders with `new Function`, which the policy
forbids: a WebGL chart once showed "WebGL is not supported" in place of its points. mfhc's
bundle holds only the trace types its charts draw (none of them WebGL), and a chart of each
must draw under the page's own policy."""

from __future__ import annotations

import json

from plotly.io.json import to_json_plotly

from dashboard import prime

# Draw one small chart of each kind with the page's own Plotly, under the page's own
# policy, and report what was drawn and any error. The drawing runs from a timer, as a
# page's own script would: code that the browser tooling evaluates directly is exempt from
# the policy's ban on eval.
DRAW_EACH = """(figures) => new Promise(resolve => setTimeout(async () => {
    const drawn = {};
    for (const [kind, figure] of Object.entries(figures)) {
        const div = document.createElement('div');
        div.style.width = '400px'; div.style.height = '300px';
        document.body.appendChild(div);
        try {
            await window.Plotly.newPlot(div, figure.data, figure.layout);
            const trace = (div._fullData || [])[0] || {};
            drawn[kind] = {type: trace.type, visible: trace.visible,
                           marks: div.querySelectorAll('g.trace path, g.trace text, g.trace image, g.hm image, path.choroplethlocation').length};
        } catch (error) {
            drawn[kind] = {error: String(error)};
        }
    }
    resolve(drawn);
}, 0))"""


def test_every_trace_type_the_charts_draw_draws_under_the_content_security_policy(server, context):
    page = context.new_page()
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    response = page.goto(server.base_url + "/homes")
    assert "unsafe-eval" not in response.headers.get("content-security-policy", "")
    page.wait_for_function("() => window.Plotly !== undefined")
    figures = {}
    for kind in prime.TRACE_TYPES:
        layout = {"geo": {"visible": False, "fitbounds": "locations"}} if kind in ("choropleth", "scattergeo") else {}
        figures[kind] = json.loads(to_json_plotly({"data": [prime._tiny_trace(kind)], "layout": layout}))
    drawn = page.evaluate(DRAW_EACH, figures)
    for kind in prime.TRACE_TYPES:
        assert drawn[kind].get("type") == kind and drawn[kind]["visible"] is True, (kind, drawn[kind])
        assert drawn[kind]["marks"] > 0, (kind, drawn[kind])
    registered = page.evaluate("() => Object.keys(window.Plotly.PlotSchema.get().traces).sort()")
    assert registered == sorted(prime.TRACE_TYPES)
    assert not violations, violations
    page.close()


def test_the_page_loads_plotly_once_and_it_is_mfhcs_bundle(server, context):
    page = context.new_page()
    scripts = []
    page.on("response", lambda response: scripts.append(response) if response.request.resource_type == "script"
            and "plotly" in response.url.rsplit("/", 1)[-1] else None)
    page.goto(server.base_url + "/")
    page.wait_for_selector(".js-plotly-plot .main-svg")
    assert len(scripts) == 1, [r.url for r in scripts]
    assert "plotly.js (mfhc: " in scripts[0].text()[:300]
    page.close()
