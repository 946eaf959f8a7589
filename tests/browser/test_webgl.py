"""WebGL charts draw under the dashboard's Content Security Policy (no `unsafe-eval`).

The homes funnel draws its homes with `scattergl` above 2,000 homes. Plotly.js's default
bundle compiles WebGL shaders with `new Function`, which the policy forbids: the chart
showed "WebGL is not supported" in place of the homes. The app serves Plotly's strict
bundle (assets/plotly/), which needs no eval."""

from __future__ import annotations

# Draw a WebGL scatter with the page's own Plotly, under the page's own policy, and report
# whether points were drawn (a WebGL canvas, no "not supported" notice) and any error. The
# drawing runs from a timer, as a page's own script would: code that the browser tooling
# evaluates directly is exempt from the policy's ban on eval.
DRAW_WEBGL = """() => new Promise(resolve => setTimeout(async () => {
    const div = document.createElement('div');
    div.style.width = '400px'; div.style.height = '300px';
    document.body.appendChild(div);
    try {
        await window.Plotly.newPlot(div, [{type: 'scattergl', mode: 'markers', x: [1, 2, 3], y: [3, 1, 2]}]);
    } catch (error) {
        resolve({error: String(error)});
        return;
    }
    resolve({
        canvases: div.querySelectorAll('canvas.gl-canvas').length,
        unsupported: div.innerText.includes('WebGL is not supported'),
        points: (div._fullData || [])[0] ? div._fullData[0]._length : 0,
    });
}, 0))"""


def test_a_webgl_chart_draws_under_the_content_security_policy(server, context):
    page = context.new_page()
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    response = page.goto(server.base_url + "/homes")
    assert "unsafe-eval" not in response.headers.get("content-security-policy", "")
    page.wait_for_function("() => window.Plotly !== undefined")
    drawn = page.evaluate(DRAW_WEBGL)
    assert "error" not in drawn, drawn
    assert drawn["canvases"] > 0 and not drawn["unsupported"] and drawn["points"] == 3, drawn
    assert not [v for v in violations if "eval" in v], violations
    page.close()


def test_the_page_loads_plotly_once_and_it_is_the_strict_bundle(server, context):
    page = context.new_page()
    scripts = []
    page.on("response", lambda response: scripts.append(response) if response.request.resource_type == "script"
            and "plotly" in response.url.rsplit("/", 1)[-1] else None)
    page.goto(server.base_url + "/")
    page.wait_for_selector(".js-plotly-plot .main-svg")
    assert len(scripts) == 1, [r.url for r in scripts]
    assert "(strict - minified)" in scripts[0].text()[:300]
    page.close()
