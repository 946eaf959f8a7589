"""The degrade stage on its own: what each identifier becomes."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, strategies as st

from pipelines.degrade import HASH_HEX_CHARS, Pseudonymiser, degrade
from pipelines.read import read_source_file
from pipelines.schema import HOMES, POLICE_INCIDENTS
from pipelines.validate import validate
from sources import police, write_table

PSEUDONYMISER = Pseudonymiser(b"unit-test-key")


def test_namespaces_keep_kinds_of_reference_apart():
    same = pd.Series(["12345"])
    assert PSEUDONYMISER.hash_series("person", same)[0] != PSEUDONYMISER.hash_series("child", same)[0]
    assert len(PSEUDONYMISER.hash_series("child", same)[0]) == HASH_HEX_CHARS


@given(st.lists(st.text(min_size=1, max_size=12).filter(lambda s: s.strip()), min_size=1, max_size=20))
def test_hashing_is_deterministic_blank_stays_blank_and_distinct_values_stay_distinct(values):
    series = pd.Series(values + ["", None])
    hashed = PSEUDONYMISER.hash_series("person", series)
    assert hashed.iloc[-2:].isna().all()
    again = PSEUDONYMISER.hash_series("person", series)
    assert hashed.iloc[:-2].tolist() == again.iloc[:-2].tolist()
    assert hashed.iloc[:-2].nunique() == len({v.strip() for v in values})


def test_episode_refs_hash_incidents_and_ssda903_keys_like_their_sources():
    refs = pd.Series([["INC-1", "C77:1/4/2025"]])
    converted = PSEUDONYMISER.episode_refs(refs)[0]
    assert converted == [PSEUDONYMISER.one("incident", "INC-1"), PSEUDONYMISER.one("child", "C77") + ":2025-04-01"]


def test_police_row_keeps_no_identifier(tmp_path):
    write_table(tmp_path, "police_incidents", [police(
        "INC-9", "PER-9", "2025-05-01T08:00", "2025-05-01T10:00", date_of_birth="2010-06-15",
        missing_from_postcode="WV1 1RE", safe_and_well_not_done_reason="a name")])
    checked = validate(read_source_file(tmp_path / "police_incidents.csv", POLICE_INCIDENTS, tmp_path, {}))
    stored, unknown = degrade(POLICE_INCIDENTS, checked.accepted, PSEUDONYMISER, None, "police_incidents.csv", None)
    assert list(stored.columns) == [name for name, _ in POLICE_INCIDENTS.stored_columns()]
    row = stored.iloc[0]
    assert row["incident_key"] == PSEUDONYMISER.one("incident", "INC-9")
    assert row["person_key"] == PSEUDONYMISER.one("person", "PER-9")
    assert str(row["birth_month"].date()) == "2010-06-01"
    assert "missing_from_postcode" not in stored.columns and "safe_and_well_not_done_reason" not in stored.columns
    assert unknown == 1  # no geography given: the postcode could not be located


def test_homes_xlsx_is_read_like_the_csv(tmp_path):
    frame = pd.DataFrame({"URN": ["SC900001"], "Name": ["Fictional House"], "Places": [4], "Provider": ["P"]})
    frame.to_excel(tmp_path / "homes.xlsx", index=False)
    raw = read_source_file(tmp_path / "homes.xlsx", HOMES, tmp_path, {})
    checked = validate(raw)
    assert checked.rejections.empty
    assert checked.accepted.loc[0, "urn"] == "SC900001" and checked.accepted.loc[0, "places"] == 4
