"""A dashboard figure is sent exactly as Plotly would send it, without being copied, changed or
built: the browser gets the JSON of the figure go.Figure would build."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from plotly.io.json import to_json_plotly

from dashboard.figures.common import ServedFigure, figure_from

numbers = hnp.arrays(st.sampled_from([np.float64, np.int64, np.int32]), st.integers(0, 40),
                     elements=st.integers(-10**6, 10**6))


def as_plotly_sends_it(figure: ServedFigure) -> dict:
    return json.loads(to_json_plotly(go.Figure.to_dict(figure)))


@given(numbers, numbers, st.lists(st.text(max_size=5), max_size=10), st.booleans())
def test_a_served_figure_encodes_as_plotly_encodes_it(x, y, labels, with_annotation):
    layout = {"annotations": [{"text": "note", "x": 1, "y": 2}]} if with_annotation else {}
    figure = figure_from([
        {"type": "scatter", "x": x, "y": y, "marker": {"size": np.ones(len(x))}, "customdata": [[1, "a"]]},
        {"type": "bar", "x": labels, "y": list(range(len(labels)))},
    ], {**layout, "xaxis": {"range": np.array([0.0, 1.0])}}, title="A chart")
    sent = json.loads(to_json_plotly(figure))
    assert sent == as_plotly_sends_it(figure)
    # Numeric arrays go as base64 typed arrays, as Plotly sends them (not lists of numbers).
    if len(x):
        assert set(sent["data"][0]["x"]) == {"dtype", "bdata"}


def test_encoding_leaves_the_figure_as_it_was():
    x = np.arange(5.0)
    figure = figure_from([{"type": "scatter", "x": x, "y": [1, 2, 3, 4, 5]}])
    to_json_plotly(figure)
    figure.to_dict()
    assert figure.data[0].x is not None and list(figure.data[0].x) == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert isinstance(figure._data[0]["x"], np.ndarray)
    # The default template is still sent with every figure (the charts keep their look).
    assert json.loads(to_json_plotly(figure))["layout"]["template"]["layout"]["font"]


def built_by_plotly(traces: list[dict], layout: dict) -> dict:
    """What the browser got before: the figure built by go.Figure's own constructor, sent as
    Plotly sends it."""
    return json.loads(to_json_plotly(go.Figure.to_dict(go.Figure({"data": traces, "layout": layout},
                                                                 _validate=False))))


maybe_none = st.one_of(st.none(), st.integers(0, 9), st.text(max_size=3))


@given(numbers, st.lists(st.text(max_size=4), max_size=6), maybe_none, maybe_none, st.booleans(), st.booleans())
def test_the_browser_gets_the_json_of_the_figure_plotly_would_build(x, labels, name, hovertext, typed, with_map):
    # Properties set to None (go.Figure leaves them out), a trace with no type (a scatter),
    # nested dicts, a list of dicts, numeric arrays, a map's GeoJSON: sent without building
    # the figure, exactly as the built figure is sent.
    geojson = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "W1", "properties": {"name": None},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}
    traces = [
        {"x": x, "y": x * 2, "name": name, "hovertext": hovertext, "marker": {"size": np.ones(len(x)), "color": None}},
        {"type": "bar", "x": labels, "y": list(range(len(labels))), "text": None, "customdata": [[1, None]]},
    ]
    if typed:
        traces[0]["type"] = "scatter"
    if with_map:
        traces.append({"type": "choropleth", "geojson": geojson, "locations": ["W1"], "z": [1.5],
                       "featureidkey": "id", "colorscale": [[0, "#fff"], [1, "#000"]]})
    layout = {"annotations": [{"text": "note", "x": 1, "y": None}], "title": {"text": "A chart"},
              "xaxis": {"range": np.array([0.0, 1.0]), "title": None}, "showlegend": None, "height": 300}
    figure = ServedFigure({"data": traces, "layout": layout}, _validate=False)
    assert "_pending" in figure.__dict__          # sent as it is: nothing built
    sent = json.loads(to_json_plotly(figure))
    assert "_pending" in figure.__dict__
    assert sent == built_by_plotly(traces, layout)


def test_a_figure_is_built_on_first_use_and_is_an_ordinary_figure_from_then_on():
    figure = figure_from([{"type": "bar", "x": ["a", "b"], "y": [1, 2]}], {"yaxis": {"title": {"text": "n"}}})
    assert "_pending" in figure.__dict__ and isinstance(figure, go.Figure)
    # Probes for special names (numpy's, copy's) find nothing and build nothing.
    assert not hasattr(figure, "__array_interface__") and not hasattr(figure, "__deepcopy__")
    assert "_pending" in figure.__dict__
    assert figure.data[0].type == "bar" and list(figure.data[0].y) == [1, 2]
    assert figure.layout.yaxis.title.text == "n" and figure.layout.template.layout.font is not None
    assert "_pending" not in figure.__dict__
    figure.update_layout(title={"text": "Changed"})
    figure.add_trace(go.Scatter(x=["a"], y=[3], name="added"))
    figure.add_annotation(x="a", y=0, text="<5", showarrow=False)
    sent = json.loads(to_json_plotly(figure))
    assert sent == as_plotly_sends_it(figure)
    assert sent["layout"]["title"]["text"] == "Changed" and sent["data"][1]["name"] == "added"
    assert sent["layout"]["annotations"][0]["text"] == "<5"
    # Anything the instance does not have is still an AttributeError, built or not.
    with pytest.raises(AttributeError):
        figure.no_such_thing  # noqa: B018
    with pytest.raises(AttributeError):
        figure_from([]).no_such_thing  # noqa: B018


def test_dicts_go_figure_would_rewrite_are_built_at_once():
    # A magic underscore name (marker_color), a subplot (xaxis2), a template of its own, graph
    # objects: go.Figure changes these, so the figure is built straight away, as before.
    for traces, layout in [
        ([{"type": "bar", "x": [1], "y": [2], "marker_color": "red"}], {}),
        ([{"type": "bar", "x": [1], "y": [2], "xaxis": "x2"}], {"xaxis2": {"anchor": "y"}}),
        ([{"type": "bar", "x": [1], "y": [2]}], {"template": "simple_white"}),
        ([{"type": "bar", "x": [1], "y": [2], "marker": go.bar.Marker(color="red")}], {}),
        ([go.Bar(x=[1], y=[2])], {}),
    ]:
        figure = ServedFigure({"data": traces, "layout": layout}, _validate=False)
        assert "_pending" not in figure.__dict__
        assert json.loads(to_json_plotly(figure)) == as_plotly_sends_it(figure)
    assert json.loads(to_json_plotly(ServedFigure({"data": [{"type": "bar", "x": [1], "y": [2], "marker_color": "red"}]},
                                                  _validate=False)))["data"][0]["marker"] == {"color": "red"}


def test_a_figure_goes_through_pickle_and_deepcopy():
    import copy
    import pickle

    figure = figure_from([{"type": "bar", "x": ["a"], "y": np.array([1.0])}], title="T")
    for clone in (pickle.loads(pickle.dumps(figure)), copy.deepcopy(figure)):
        assert json.loads(to_json_plotly(clone)) == json.loads(to_json_plotly(figure))


def test_figures_are_encoded_by_the_standard_librarys_json_whatever_is_installed():
    # Plotly's "auto" engine would take orjson when it is installed, and be slower (common.py).
    import plotly.io as pio

    import dashboard.figures.common  # noqa: F401

    assert pio.json.config.default_engine == "json"
