"""A dashboard figure is sent exactly as Plotly would send it, without being copied or changed."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
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
