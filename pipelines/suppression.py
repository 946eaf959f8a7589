"""Small-number suppression (docs/metrics.md, "Small numbers").

In the board view and the board pack, a count from 1 to 4 is shown as `<5`, and a
percentage (or any ratio) whose numerator or denominator is under 5 is not shown. Zero is
shown: it discloses no child. Managers and analysts may turn suppression off; the board
role cannot (enforced in the dashboard's data layer, not only in the page).

Frames keep their numeric columns numeric: a suppressed cell becomes NaN and is listed in
`frame.attrs["suppressed"]` ({column: [row positions]}), so charts leave it out and tables
and downloads print `<5` (counts) or `suppressed` (ratios) in its place.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

SMALL_COUNT = "<5"
HIDDEN_SHARE = "suppressed"
THRESHOLD = 5


def is_small(value) -> bool:
    """A count from 1 to 4 (a missing value or zero is not small)."""
    if value is None:
        return False
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return not math.isnan(number) and 0 < number < THRESHOLD


def under_threshold(value) -> bool:
    """Numerators and denominators: under 5, zero included."""
    if value is None:
        return True
    try:
        number = float(value)
    except (TypeError, ValueError):
        return True
    return math.isnan(number) or number < THRESHOLD


def count_text(value, suppress: bool) -> str:
    """A count as the board reads it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if suppress and is_small(value):
        return SMALL_COUNT
    return f"{int(value):,}"


def suppress_frame(frame: pd.DataFrame, counts=(), shares: dict | None = None) -> pd.DataFrame:
    """A copy of `frame` with small counts and the ratios built on small numbers blanked.

    `counts`: columns holding counts of episodes or children. `shares`: {ratio column:
    (the columns it is built on: numerator, denominator)}; the ratio is hidden when any of
    them is under 5. They are judged before any count is blanked.
    """
    shares = shares or {}
    out = frame.copy()
    marked: dict[str, list[int]] = {}
    for column, parts in shares.items():
        if column not in out.columns:
            continue
        hide = pd.Series(False, index=out.index)
        for part in parts:
            if part in frame.columns:
                hide |= frame[part].map(under_threshold).astype(bool)
        hide &= out[column].notna()
        if hide.any():
            out[column] = out[column].astype("float64").where(~hide)
            marked[column] = [int(i) for i in hide.to_numpy().nonzero()[0]]
    for column in counts:
        if column not in out.columns:
            continue
        small = frame[column].map(is_small).astype(bool)
        if small.any():
            out[column] = out[column].astype("float64").where(~small)
            marked[column] = [int(i) for i in small.to_numpy().nonzero()[0]]
    out.attrs["suppressed"] = {**frame.attrs.get("suppressed", {}), **marked}
    out.attrs["suppression_kinds"] = {**{c: SMALL_COUNT for c in counts}, **{c: HIDDEN_SHARE for c in shares}}
    return out


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """For tables and downloads: suppressed cells as `<5` / `suppressed` (object columns)."""
    marked = frame.attrs.get("suppressed") or {}
    if not marked:
        return frame
    kinds = frame.attrs.get("suppression_kinds", {})
    out = frame.copy()
    for column, positions in marked.items():
        if column not in out.columns or not positions:
            continue
        # One assignment per column (a national homes table marks thousands of cells).
        values = out[column].astype(object).to_numpy(copy=True)
        values[np.asarray(positions, dtype=np.intp)] = kinds.get(column, SMALL_COUNT)
        out[column] = values
    out.attrs = {}
    return out


def any_suppressed(*frames: pd.DataFrame) -> bool:
    return any(any(f.attrs.get("suppressed", {}).values()) for f in frames)
