"""The Children's homes and Repeat missing pages in headless Chromium, as an analyst: the
chosen home's and child's charts are asked for with the page's other charts (not after
them), once, and the chooser names what they show; no chart is drawn twice by Plotly to
make room for its labels (automargin)."""

from __future__ import annotations

import json

import pytest

from browser.test_pages import Watched

# Each drawn chart's margins as asked for and as Plotly drew them (it grows them, and draws
# the whole figure again, when the labels or the legend need more room).
MARGINS = """() => Array.from(document.querySelectorAll('#main .dash-graph')).map(graph => {
    const plot = graph.querySelector('.js-plotly-plot');
    const asked = Object.assign({l: 80, r: 80, t: 100, b: 80}, (plot.layout || {}).margin || {});
    const drawn = plot._fullLayout._size;
    return {graph: graph.id, traces: (plot.data || []).length,
            asked: [asked.l, asked.r, asked.t, asked.b], drawn: [drawn.l, drawn.r, drawn.t, drawn.b]};
})"""


def _callbacks(page, requests: list) -> None:
    """Record the output of every callback request the page makes."""
    def seen(request):
        if "/_dash-update-component" in request.url:
            requests.append(json.loads(request.post_data or "{}").get("output", ""))
    page.on("request", seen)


def _chosen_label(page, dropdown_id: str) -> str:
    return page.inner_text(f"#{dropdown_id}").strip()


@pytest.mark.parametrize("path, detail, chooser, summary", [
    ("/homes", "homes-trend-graph.figure", "homes-choice", "homes-trend-summary"),
    ("/repeat", "repeat-timeline-graph.figure", "repeat-child", "repeat-timeline-summary"),
])
def test_the_chosen_charts_come_once_with_a_chooser_naming_them(server, context, path, detail, chooser, summary):
    watched = Watched(context, server)
    requests: list[str] = []
    _callbacks(watched.page, requests)
    page = watched.open(path)
    asked = [output for output in requests if detail in output]
    assert len(asked) == 1, f"{path}: the chosen one's charts were asked for {len(asked)} times: {requests}"
    label = _chosen_label(page, chooser)
    assert label, f"{path}: the chooser shows no choice"
    # The chooser's label begins with the name (or shortened key) its charts name.
    name = label.split(" (")[0]
    assert name[:8] in page.inner_text(f"#{summary}"), (label, page.inner_text(f"#{summary}"))
    assert watched.problems() == {}


def test_choosing_another_home_redraws_its_charts_and_keeps_the_choice(server, context):
    watched = Watched(context, server)
    page = watched.open("/homes")
    first = _chosen_label(page, "homes-choice").split(" (")[0]
    page.click("#homes-choice")
    options = page.get_by_role("option")
    other = next(text for text in (options.nth(i).inner_text().strip() for i in range(options.count()))
                 if not text.startswith(first + " ("))
    page.get_by_role("option", name=other, exact=True).click()
    page.keyboard.press("Escape")
    name = other.split(" (")[0]
    page.wait_for_function("(name) => document.getElementById('homes-trend-summary').textContent.includes(name)",
                           arg=name, timeout=30_000)
    watched.wait_drawn()
    assert _chosen_label(page, "homes-choice") == other
    assert watched.problems() == {}


@pytest.mark.parametrize("path", ["/homes", "/repeat"])
def test_no_chart_is_drawn_again_to_make_room_for_its_labels(server, context, path):
    page = Watched(context, server).open(path)
    grown = [chart for chart in page.evaluate(MARGINS)
             if chart["traces"] and chart["drawn"] != chart["asked"]]
    assert not grown, f"{path}: Plotly needed more room than asked for (and drew these again): {grown}"


# Draw a figure with the page's own Plotly, in a box as wide as the page's funnel, from a
# timer (as a page's own script would), and report what Plotly drew.
DRAW_FIGURE = """(figure) => new Promise(resolve => setTimeout(async () => {
    const div = document.createElement('div');
    div.style.width = document.getElementById('homes-funnel-graph').clientWidth + 'px';
    document.body.appendChild(div);
    await window.Plotly.newPlot(div, figure.data, figure.layout);
    const asked = Object.assign({l: 80, r: 80, t: 100, b: 80}, figure.layout.margin || {});
    const drawn = div._fullLayout._size;
    resolve({asked: [asked.l, asked.r, asked.t, asked.b], drawn: [drawn.l, drawn.r, drawn.t, drawn.b],
             images: div.querySelectorAll('.hm image').length, points: div.querySelectorAll('.point').length,
             canvases: div.querySelectorAll('canvas').length,
             legend: [...div.querySelectorAll('.legendtext')].map(text => text.textContent)});
}, 0))"""


def test_a_national_funnel_draws_its_shaded_homes_once_without_webgl(server, context):
    """A funnel of thousands of homes, as the page sends it: one shaded image for the homes
    within or below the limits, a marker for each home above them, no WebGL, and room for
    its colour scale and legend within the margins it asks for (drawn once)."""
    import numpy as np
    import pandas as pd
    from plotly.utils import PlotlyJSONEncoder

    from dashboard.figures import homes as fig

    rng = np.random.default_rng(3)
    count = fig.DENSITY_ABOVE + 500
    years = rng.uniform(0.02, 3.0, count)
    rates = pd.DataFrame({
        "urn": [f"SC{n:06d}" for n in range(count)], "home_name": [f"Home {n}" for n in range(count)],
        "episodes": rng.poisson(years * 4 * rng.gamma(1.5, 1 / 1.5, count)),
        "placement_days": (years * 365.25).round().astype(int), "placed_child_years": years,
    })
    frame = fig.funnel_frame(rates)
    figure = fig.funnel_figure(frame, density_above=fig.DENSITY_ABOVE, layout=fig.FUNNEL_PAGE_LAYOUT)
    above = int(frame["position"].isin((fig.OUTLIER, fig.ABOVE_95)).sum())
    watched = Watched(context, server)
    page = watched.open("/homes")
    drawn = page.evaluate(DRAW_FIGURE, json.loads(json.dumps(figure.to_dict(), cls=PlotlyJSONEncoder)))
    assert drawn["drawn"] == drawn["asked"], drawn
    assert drawn["images"] == 1 and drawn["points"] == above and drawn["canvases"] == 0, drawn
    assert fig.DENSITY_NAME in drawn["legend"], drawn["legend"]
    assert watched.problems() == {}
