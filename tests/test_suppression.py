"""Small-number suppression (docs/metrics.md "Small numbers"): hand-checked frames and KPIs,
and a property: whatever the counts, nothing from 1 to 4 is left to see."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from pipelines.kpis import _suppressed
from pipelines.suppression import SMALL_COUNT, count_text, display_frame, suppress_frame


def test_counts_and_the_ratios_built_on_them():
    frame = pd.DataFrame({"provider": ["A", "B", "C"], "episodes": [10, 4, 0], "offered": [3, 4, 0],
                          "offered_pct": [30.0, 100.0, None]})
    out = suppress_frame(frame, counts=("episodes", "offered"), shares={"offered_pct": ("offered", "episodes")})
    # A: 3 offered of 10 -> the count is small, so its percentage goes too; B: 4 of 4 -> both small; C: zeros shown.
    assert out["episodes"].tolist()[0] == 10 and math.isnan(out["episodes"].tolist()[1]) and out["episodes"][2] == 0
    assert math.isnan(out["offered"][0]) and math.isnan(out["offered"][1]) and out["offered"][2] == 0
    assert math.isnan(out["offered_pct"][0]) and math.isnan(out["offered_pct"][1])
    shown = display_frame(out)
    assert shown.values.tolist()[:2] == [["A", 10, SMALL_COUNT, "suppressed"],
                                         ["B", SMALL_COUNT, SMALL_COUNT, "suppressed"]]
    assert shown.iloc[2, :3].tolist() == ["C", 0, 0] and math.isnan(shown.iloc[2, 3])   # no rate of 0 of 0
    assert frame["episodes"].tolist() == [10, 4, 0]   # the input is not changed


def test_count_text():
    assert [count_text(v, True) for v in (0, 1, 4, 5, 1234)] == ["0", "<5", "<5", "5", "1,234"]
    assert count_text(3, False) == "3"


def test_kpis_hand_checked():
    kpis = {"period": {}, "episodes": 12, "episodes_by_category": {"missing": 9, "absent": 3, "away": 0},
            "children": 4, "repeat_children": 3, "episodes_per_child": 3.0, "from_care_episodes": 5,
            "high_risk_episodes": 0, "still_missing": 1, "returned_missing_episodes": 8,
            "rhi_offered": 6, "rhi_offered_pct": 75.0, "rhi_offered_within_72h": 5, "rhi_offered_within_72h_pct": 62.5,
            "rhi_completed": 2, "rhi_completed_pct": 25.0, "rhi_completed_within_72h": 2,
            "rhi_completed_within_72h_pct": 25.0, "safe_and_well_done": 7, "safe_and_well_done_pct": 87.5,
            "median_duration_hours": 6.5}
    counts = {"episodes": 12, "children": 4, "returned_missing_episodes": 8, "rhi_offered": 6,
              "rhi_offered_within_72h": 5, "rhi_completed": 2, "rhi_completed_within_72h": 2,
              "safe_and_well_done": 7, "returned_missing_police_known": 8}
    out = _suppressed(kpis, counts)
    assert out["episodes"] == 12 and out["children"] == SMALL_COUNT and out["repeat_children"] == SMALL_COUNT
    assert out["episodes_per_child"] is None                      # 12 over 4 children: denominator small
    assert out["high_risk_episodes"] == 0 and out["still_missing"] == SMALL_COUNT
    assert out["rhi_offered_pct"] == 75.0 and out["rhi_offered_within_72h_pct"] == 62.5
    assert out["rhi_completed"] == SMALL_COUNT and out["rhi_completed_pct"] is None
    assert out["safe_and_well_done_pct"] == 87.5 and out["median_duration_hours"] == 6.5
    assert out["episodes_by_category"] == {"missing": 9, "absent": SMALL_COUNT, "away": 0}
    assert set(out["suppressed"]) == {"children", "repeat_children", "episodes_per_child", "still_missing",
                                      "rhi_completed", "rhi_completed_pct", "rhi_completed_within_72h",
                                      "rhi_completed_within_72h_pct", "episodes_by_category.absent"}


counts = st.lists(st.integers(0, 30), min_size=1, max_size=20)


@given(counts, counts)
def test_nothing_from_1_to_4_is_left_to_see(episodes, children):
    size = min(len(episodes), len(children))
    frame = pd.DataFrame({"episodes": episodes[:size], "children": children[:size]})
    frame["per_child"] = frame["episodes"] / frame["children"].where(frame["children"] > 0)
    out = display_frame(suppress_frame(frame, counts=("episodes", "children"),
                                       shares={"per_child": ("episodes", "children")}))
    for column in ("episodes", "children"):
        for before, after in zip(frame[column], out[column]):
            assert after == SMALL_COUNT if 0 < before < 5 else after == before
    for (e, c), ratio in zip(zip(frame["episodes"], frame["children"]), out["per_child"]):
        if e < 5 or c < 5:
            assert ratio in ("suppressed", None) or (isinstance(ratio, float) and math.isnan(ratio))


@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 20)), st.one_of(st.none(), st.floats(0, 100)),
                          st.sampled_from(["a", "b", None])), min_size=1, max_size=30), st.data())
def test_display_frame_marks_exactly_the_cells_it_is_given(rows, data):
    frame = pd.DataFrame(rows, columns=["episodes", "pct", "name"]).astype({"episodes": "Int64"})
    marks = {column: sorted(data.draw(st.sets(st.integers(0, len(rows) - 1)), label=column))
             for column in ("episodes", "pct")}
    frame.attrs = {"suppressed": marks, "suppression_kinds": {"pct": "suppressed"}}
    shown = display_frame(frame)
    for column in ("episodes", "pct"):
        for position in range(len(rows)):
            value = shown[column].iat[position]
            if position in marks[column]:
                assert value == (SMALL_COUNT if column == "episodes" else "suppressed")
            else:
                original = frame[column].astype(object).iat[position]
                if pd.isna(original):
                    assert pd.isna(value)
                else:
                    assert value == original
    assert shown["name"].tolist() == frame["name"].tolist() and not shown.attrs
