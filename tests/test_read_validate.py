"""Readers and validators: clear errors for unusable files, one rejection per rule break."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pipelines.config import load_settings
from pipelines.read import SourceFileError, read_source_file
from pipelines.schema import POLICE_INCIDENTS, RETURN_INTERVIEWS, TABLES
from pipelines.validate import parse_date, parse_datetime, validate
from sources import police, rhi, write_table


def read_police(folder, column_map=None):
    return read_source_file(folder / "police_incidents.csv", POLICE_INCIDENTS, folder, column_map or {})


def test_utf8_bom_and_header_case_and_spaces_are_accepted(tmp_path):
    text = "\ufeff Incident_Ref ,PERSON_REF,date_of_birth,Sex,category,risk_level,last_seen_at,reported_at," \
           "missing_from_type\nI1,P1,2010-01-01,F,missing,low,2025-01-01T10:00,2025-01-01T11:00,home\n"
    (tmp_path / "police_incidents.csv").write_text(text, encoding="utf-8")
    raw = read_police(tmp_path)
    assert raw.frame.loc[0, "incident_ref"] == "I1"
    assert list(raw.frame.columns) == POLICE_INCIDENTS.column_names
    assert validate(raw).rejections.empty


def test_other_encoding_is_a_clear_file_error(tmp_path):
    path = write_table(tmp_path, "police_incidents", [police("I1", "P1", "2025-01-01T10:00")])
    path.write_bytes(path.read_bytes() + "Zoë".encode("latin-1"))
    with pytest.raises(SourceFileError, match=r"police_incidents.csv: not UTF-8"):
        read_police(tmp_path)


def test_required_column_absent_names_file_and_column(tmp_path):
    (tmp_path / "police_incidents.csv").write_text("incident_ref,person_ref\nI1,P1\n", encoding="utf-8")
    with pytest.raises(SourceFileError, match=r"police_incidents.csv: required column\(s\) date_of_birth"):
        read_police(tmp_path)


def test_local_column_names_are_mapped_from_config(tmp_path):
    config = tmp_path / "mfhc.toml"
    config.write_text('[sources.police_incidents.columns]\n"Person ID" = "person_ref"\n', encoding="utf-8")
    settings = load_settings(config)
    rows = [police("I1", "P1", "2025-01-01T10:00")]
    path = write_table(tmp_path, "police_incidents", rows)
    path.write_text(path.read_text().replace("person_ref", "Person ID"), encoding="utf-8")
    raw = read_police(tmp_path, settings.column_maps["police_incidents"])
    assert raw.frame.loc[0, "person_ref"] == "P1"


def test_columns_not_in_the_schema_are_never_read(tmp_path):
    path = write_table(tmp_path, "police_incidents", [police("I1", "P1", "2025-01-01T10:00")])
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",child_name", lines[1] + ",Jane Doe"]) + "\n", encoding="utf-8")
    raw = read_police(tmp_path)
    assert "child_name" not in raw.frame.columns
    assert "Jane Doe" not in raw.frame.to_csv()


def test_each_rule_break_is_rejected_with_row_column_and_rule(tmp_path):
    rows = [
        police("I1", "P1", "2025-01-01T10:00", "2025-01-01T12:00"),                  # row 2: fine
        police("I2", "P1", "2025-01-02T10:00", risk_level="extreme"),                 # row 3: unknown code
        police("I3", "P1", "2025-02-30T10:00"),                                       # row 4: bad date-time
        police("I4", "P1", "2025-01-03T10:00", "2025-01-03T09:00"),                   # row 5: end before start
        police("I1", "P2", "2025-01-04T10:00"),                                       # row 6: duplicate ref
        police("I6", "", "2025-01-05T10:00"),                                         # row 7: required
        police("I7", "P3", "2025-01-05T10:00", date_of_birth="15/06/2010"),          # row 8: bad date
    ]
    write_table(tmp_path, "police_incidents", rows)
    checked = validate(read_police(tmp_path))
    got = set(zip(checked.rejections["row"], checked.rejections["column"], checked.rejections["rule"]))
    assert got == {
        (3, "risk_level", "invalid_code"),
        (4, "last_seen_at", "invalid_datetime"),
        (4, "reported_at", "invalid_datetime"),
        (5, "found_at", "end_before_start"),
        (6, "incident_ref", "duplicate_reference"),
        (7, "person_ref", "required"),
        (8, "date_of_birth", "invalid_date"),
    }
    assert list(checked.rejected) == [False, True, True, True, True, True, True]
    assert (checked.rejections["file"] == "police_incidents.csv").all()


def test_rhi_rules(tmp_path):
    rows = [
        rhi("R1", "completed", "2025-01-01T10:00", "", person_ref="P1"),             # completed_at required
        rhi("R2", "declined", "", person_ref="P1"),                                   # offered_at required
        rhi("R3", "not_offered", "", person_ref="P1"),                                # episode_refs required
        rhi("R4", "declined", "2025-01-01T10:00"),                                    # no child or person
        rhi("R5", "declined", "2025-01-01T10:00", person_ref="P1", push_pull_factors="peer_influence;boredom"),
        rhi("R6", "not_offered", "", person_ref="P1", episode_refs="I1"),             # fine
    ]
    write_table(tmp_path, "return_interviews", rows)
    raw = read_source_file(tmp_path / "return_interviews.csv", RETURN_INTERVIEWS, tmp_path, {})
    checked = validate(raw)
    got = set(zip(checked.rejections["row"], checked.rejections["column"], checked.rejections["rule"]))
    assert got == {
        (2, "completed_at", "required"), (3, "offered_at", "required"), (4, "episode_refs", "required"),
        (5, "child_ref", "required"), (6, "push_pull_factors", "invalid_code"),
    }


def test_messages_never_quote_identifiers(tmp_path):
    rows = [police("SECRET-INC", "SECRET-PERSON", "2025-01-01T10:00"), police("SECRET-INC", "X", "bad")]
    write_table(tmp_path, "police_incidents", rows)
    checked = validate(read_police(tmp_path))
    assert not checked.rejections.empty
    assert not checked.rejections.to_csv().count("SECRET")


# Property tests -----------------------------------------------------------------------------

datetimes = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2040, 12, 31)).map(
    lambda d: d.replace(microsecond=0))


@given(st.lists(st.tuples(datetimes, st.sampled_from(["T", " "]), st.booleans()), min_size=1, max_size=30))
def test_iso_datetimes_parse_back_to_the_same_moment(values):
    texts = [d.strftime(f"%Y-%m-%d{sep}%H:%M" + (":%S" if secs else "")) for d, sep, secs in values]
    parsed, invalid = parse_datetime(pd.Series(texts))
    assert not invalid.any()
    for (d, _, secs), p in zip(values, parsed):
        assert p.to_pydatetime() == (d if secs else d.replace(second=0))


@given(st.lists(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31)), min_size=1, max_size=30))
def test_dfe_dates_parse_back(values):
    parsed, invalid = parse_date(pd.Series([d.strftime("%d/%m/%Y") for d in values]), "date_dmy")
    assert not invalid.any()
    assert [p.date() for p in parsed] == values


@given(st.lists(st.text(max_size=20), min_size=1, max_size=30))
def test_any_text_either_parses_or_is_flagged_never_both(texts):
    texts = [t.strip() for t in texts]
    parsed, invalid = parse_datetime(pd.Series(texts, dtype=str))
    blank = pd.Series(texts) == ""
    assert ((parsed.notna()) ^ invalid ^ blank).all()


_CORRUPTIONS = {
    "risk_level": ("nonsense", "invalid_code"),
    "last_seen_at": ("2025-13-01T10:00", "invalid_datetime"),
    "date_of_birth": ("2010-02-30", "invalid_date"),
    "sex": ("", "required"),
    "cse_concern": ("maybe", "invalid_flag"),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.none(), st.sampled_from(sorted(_CORRUPTIONS))), min_size=1, max_size=25))
def test_every_corrupted_cell_is_rejected_and_clean_rows_load(tmp_path_factory, corruptions):
    folder = tmp_path_factory.mktemp("prop")
    rows = []
    for i, corrupt in enumerate(corruptions):
        row = police(f"I{i}", f"P{i % 3}", f"2025-01-{1 + i % 28:02d}T10:00", f"2025-01-{1 + i % 28:02d}T12:00",
                     cse_concern="N")
        if corrupt:
            row[corrupt] = _CORRUPTIONS[corrupt][0]
        rows.append(row)
    write_table(folder, "police_incidents", rows)
    checked = validate(read_police(folder))
    expected = {(i + 2, c, _CORRUPTIONS[c][1]) for i, c in enumerate(corruptions) if c}
    got = set(zip(checked.rejections["row"], checked.rejections["column"], checked.rejections["rule"]))
    # A bad last_seen_at also makes reported_at/found_at incomparable, nothing more.
    assert got == expected
    assert list(checked.rejected) == [c is not None for c in corruptions]
    assert len(checked.accepted) == sum(c is None for c in corruptions)


def test_every_table_has_sql_types_for_every_column():
    for table in TABLES:
        for name, sql_type in table.stored_columns():
            assert name and sql_type
