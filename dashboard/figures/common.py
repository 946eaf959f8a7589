"""Shared look of every chart: a colour-blind-safe palette (Okabe–Ito) and plain layouts."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils.utils import is_homogeneous_array, is_skipped_key, to_typed_array_spec
from plotly.basedatatypes import BasePlotlyType

# Figures (and Dash's responses, through Plotly's encoder) are encoded by the standard
# library's json, whatever else is installed: Plotly's default engine ("auto") switches to
# orjson when that package is present, and its orjson path first walks every value of the
# response in Python. Measured at national scale with orjson installed: the homes callback's
# encoding took 63 ms against 13 ms, the data quality page's 28 against 14.
pio.json.config.default_engine = "json"

# The Plotly.js every chart is drawn with, in the dashboard (dashboard/app.py serves it) and
# in the board pack (kaleido loads it): mfhc's own bundle of the trace types it draws
# (assets/plotly/README.md), from this machine, never the libraries' CDN defaults.
PLOTLY_JS = Path(__file__).resolve().parents[2] / "assets" / "plotly" / "plotly-mfhc.min.js"

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
FONT = "DejaVu Sans, Arial, sans-serif"


def count_label(value) -> str:
    """A count as shown: a count withheld by small-number suppression (NaN in a count
    column, "<5" from the KPIs) reads "<5"."""
    if isinstance(value, str):
        return value
    if value is None or value != value:
        return "<5"
    return f"{int(value):,}"


def suppressing(frame) -> bool:
    """The frame came through small-number suppression (dashboard.data marks it)."""
    return "suppressed" in getattr(frame, "attrs", {})


def small_label(value, withheld: bool) -> str:
    """A count, or a difference of counts, as shown: "<5" when suppression is on and it is 1–4."""
    if withheld and (value is None or value != value or 0 < value < 5):
        return "<5"
    return count_label(value)


def merged_layout(base: dict, extra: dict) -> dict:
    """`extra` over `base`, dicts merged key by key; None removes a key (as update_layout's None does)."""
    out = dict(base)
    for key, value in extra.items():
        if value is None:
            out.pop(key, None)
        else:
            nested = isinstance(value, dict) and isinstance(out.get(key), dict)
            out[key] = merged_layout(out[key], value) if nested else value
    return out


def _sent(value):
    """`value` as Plotly sends it to the browser (what `go.Figure.to_dict` gives): numeric
    arrays as base64 typed arrays, dicts and lists of dicts rebuilt, every other leaf shared.
    Nothing of the figure is copied or changed (see `ServedFigure`)."""
    if isinstance(value, dict):
        return {key: (item if is_skipped_key(key)
                      else to_typed_array_spec(item) if is_homogeneous_array(item) else _sent(item))
                for key, item in value.items()}
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (dict, list, tuple)):
        return [_sent(item) for item in value]
    return value


class ServedFigure(go.Figure):
    """A figure as the dashboard sends it. `go.Figure.to_dict` (which Dash's encoder calls
    for every figure of a response) deep-copies the whole figure, its default template of
    some 600 values included, and then walks every value of every array again to find the
    numeric ones: about 7 ms a figure, a third of a small callback's time. This gives the
    same dict without copying: new dicts over the figure's own values, numeric arrays
    base64-encoded as Plotly does. Lists of values (a trace's x or text) are shared, not
    copied, so the result is for encoding, not for changing.

    Built unvalidated from plain dicts (`figure_from`), it is not built at all until it is
    used as a figure: go.Figure's constructor makes an object per trace, deep-copies every
    trace (a map's GeoJSON with it) and the default template, 3 ms for a small chart and
    10-15 ms for a map, and a callback only encodes its figures. The dicts are kept as
    given; the first use of anything else of the figure (`fig.data`, `fig.layout`,
    `update_layout`, `add_trace`, ...) builds it exactly as go.Figure would have, and it is
    an ordinary figure from then on. Only dicts go.Figure would keep as they are (every key
    a property of its trace type or of the layout, by its plain name, no template of its
    own) wait for their first use; anything else is built at once."""

    def __init__(self, data=None, layout=None, frames=None, skip_invalid=False, **kwargs):
        pending = _pending_figure(data, layout, frames, skip_invalid, kwargs)
        if pending is None:
            super().__init__(data, layout, frames, skip_invalid, **kwargs)
        else:
            object.__setattr__(self, "_pending", pending)

    def __getattr__(self, name):
        # Only called for what the instance does not have: the state go.Figure's constructor
        # makes. Build it (once) and look again.
        pending = self.__dict__.pop("_pending", None)
        if pending is None or name.startswith("__"):
            if pending is not None:
                object.__setattr__(self, "_pending", pending)
            raise AttributeError(name)
        traces, layout = pending
        go.Figure.__init__(self, {"data": traces, "layout": layout}, _validate=False)
        return getattr(self, name)

    def to_dict(self):
        pending = self.__dict__.get("_pending")
        if pending is not None:
            traces, layout = pending
            template = _default_template()
            sent_layout = _sent(_without_none(layout))
            if template is not None:
                sent_layout["template"] = _sent(template)
            return {"data": [_sent({**_without_none(trace), "type": trace.get("type", "scatter")})
                             for trace in traces],
                    "layout": sent_layout}
        return _sent({"data": self._data, "layout": self._layout})


def _without_none(props: dict) -> dict:
    """The properties go.Figure keeps of a dict: a property set to None is not set."""
    return {key: value for key, value in props.items() if value is not None}


def _pending_figure(data, layout, frames, skip_invalid, kwargs):
    """(traces, layout) when go.Figure(data, layout, _validate=False) would keep the dicts'
    properties as they are (so `to_dict` can send them without building the figure), else
    None. go.Figure keeps the value of every property named by its plain name; it rewrites
    a name with an underscore, a dot or brackets (marker_color, a path), a subplot
    (xaxis2), graph objects (turned into dicts) and fills in the default template unless
    the layout has one."""
    if kwargs.keys() != {"_validate"} or kwargs["_validate"] is not False or frames is not None or skip_invalid:
        return None
    if not isinstance(data, dict) or layout is not None or not data.keys() <= {"data", "layout"}:
        return None
    traces, layout = data.get("data") or [], data.get("layout") or {}
    if not isinstance(traces, list) or not isinstance(layout, dict) or "template" in layout:
        return None
    if not _plain_props(layout, go.Layout._valid_props):
        return None
    for trace in traces:
        if not isinstance(trace, dict):
            return None
        kind = _trace_classes().get(trace.get("type", "scatter"))
        if kind is None or not _plain_props(trace, kind._valid_props | {"type"}):
            return None
    return traces, layout


def _plain_props(props: dict, valid: set) -> bool:
    for key, value in props.items():
        if key not in valid or isinstance(value, BasePlotlyType) or (
                isinstance(value, (list, tuple)) and value and isinstance(value[0], BasePlotlyType)):
            return False
    return True


@lru_cache(maxsize=1)
def _trace_classes() -> dict:
    """Trace type name to its graph_objects class, as go.Figure's data validator maps them."""
    from plotly.validator_cache import ValidatorCache

    validator = ValidatorCache.get_validator("", "data")
    return {name: validator.get_trace_class(name) for name in validator.class_strs_map}


def _default_template():
    """The template go.Figure puts in a figure's layout (plotly.io's default), made once per
    default template, or None when there is none."""
    global _made_template
    import plotly.io as pio

    default = pio.templates.default
    if default is None:
        return None
    template = default if isinstance(default, BasePlotlyType) else pio.templates[default]
    of, made = _made_template
    if of is not template:
        made = go.Figure(_validate=False)._layout.get("template")
        _made_template = (template, made)   # one assignment: a reader sees the old pair or the new
    return made


_made_template: tuple = (None, None)


def figure_from(traces: list[dict], layout: dict | None = None, title: str = "", height: int = 380) -> ServedFigure:
    """A figure from plain trace dicts with the dashboard's look, `layout` merged over it the
    way update_layout merges. Built in one go without validation: for figures with
    thousands of points or large GeoJSON, each validated call copies them again (most of
    a callback's time). The traces must be valid Plotly; the tests draw them. Only the
    first pair of axes gets the look: a figure with more (xaxis2, yaxis2) styles them in
    `layout` (as care.away_figure does)."""
    base = {
        "font": {"family": FONT, "size": 14, "color": "#0b0c0c"},
        "colorway": PALETTE,
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 50 if title else 20, "b": 50},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
        "legend": {"orientation": "h", "y": -0.2},
        "hoverlabel": {"font": {"family": FONT}},
        "xaxis": {"showgrid": False, "linecolor": "#505a5f"},
        "yaxis": {"gridcolor": "#dddddd", "linecolor": "#505a5f", "rangemode": "tozero"},
    }
    if title:
        base["title"] = {"text": title, "x": 0, "xanchor": "left"}
    # go.Figure puts in the default template itself (its axes, hover mode and geo colours),
    # as for a validated figure: setting it again would validate and copy it once more.
    return ServedFigure({"data": traces, "layout": merged_layout(base, layout or {})}, _validate=False)


def empty_figure(message: str) -> go.Figure:
    return figure_from([], {
        "annotations": [{"text": message, "showarrow": False, "font": {"size": 16}}],
        "xaxis": {"visible": False}, "yaxis": {"visible": False},
    }, height=240)
