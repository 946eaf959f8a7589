"""The load's SQL path (read into DuckDB, validate and degrade as SQL) gives exactly what the
pandas path (`read_source_file`, `validate`, `degrade`) gives: the same rejections, in the
same order with the same messages, and the same stored rows."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from pipelines import load as load_module
from pipelines.config import Settings
from pipelines.load import load
from pipelines.read import read_source_file, read_source_into
from pipelines.schema import (
    ATTENDANCE, CHILDREN_MISSING_EDUCATION, POLICE_INCIDENTS, RETURN_INTERVIEWS, SSDA903_EPISODES,
    SSDA903_MISSING,
)
from pipelines.validate import validate, validate_in_duckdb
from sources import police, rhi, write_table

# Values chosen to sit on the edges of each kind's rules: padding, case, Unicode digits
# and spaces, impossible dates, second 60, offsets, ';' lists with blanks.
_ANY = ["", " ", "\u3000", "x", "Zoë", "NA", "nan"]
_BY_KIND = {
    "text": ["A1", " A1 ", "A1\t", "a1", "P\u00a01", "INC-1", "X" * 45],
    "code": ["M", "m", " F ", "U", "WBRI", "wbri", "missing", "Missing", "high", "no_apparent_risk", "home",
             "childrens_home", "completed", "not_offered", "declined", "K1", "k2", "autumn", "2024/25", "Y"],
    "date": ["2010-01-31", "2010-02-30", "2010-1-01", "0001-01-01", "9999-12-31", " 2012-12-12",
             "٢٠١٠-٠١-٠١", "2010-01-01T00:00", "01/01/2010"],
    "date_dmy": ["01/04/2024", "1/4/2024", "31/04/2024", "29/02/2024", "29/02/2023", "1/13/2024",
                 "٠١/٠٤/٢٠٢٤", "2024-04-01", "00/01/2024", "7/07/2025"],
    "datetime": ["2025-01-01T10:00", "2025-01-01 10:00", "2025-01-01T10:00:59", "2025-01-01T10:00:60",
                 "2025-01-01T24:00", "2025-01-01T10:00+01:00", "2025-06-01T10:00Z", "2025-01-01T9:00",
                 "2025-02-29T10:00", "2024-02-29T23:59", "2025-01-02T10:00"],
    "int": ["0", "7", "007", "12", "٣", "-1", "1.5", "10 ", "999"],
    "flag": ["Y", "N", "y", " n ", "yes", "1"],
    "code_list": ["family_conflict", "Family_Conflict; other", ";", " ; mental_health ;", "other;nonsense",
                  "exploitation;;bereavement"],
    "ref_list": ["INC-1", "INC-1;INC-2", "C1:01/04/2024", " C1 : 1/4/2024 ; INC-3", ";", "C٣:01/04/2024",
                 "C1:01/04/24"],
}


def _cell(kind: str):
    return st.sampled_from(_BY_KIND[kind] + _ANY)


def _write(folder: Path, table, rows: list[list[str]]) -> Path:
    path = folder / Path(table.path).name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(table.column_names)
        writer.writerows(rows)
    return path


def _comparable(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value  # dates are compared as midnight
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(0))
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    return value


@pytest.mark.parametrize("table", [POLICE_INCIDENTS, RETURN_INTERVIEWS, ATTENDANCE, SSDA903_EPISODES,
                                   SSDA903_MISSING, CHILDREN_MISSING_EDUCATION], ids=lambda t: t.name)
@settings(max_examples=20, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_sql_validation_matches_pandas_validation(tmp_path_factory, table, data):
    rows = data.draw(st.lists(st.tuples(*[_cell(c.kind) for c in table.columns]).map(list), min_size=1, max_size=20))
    if data.draw(st.booleans()):  # a repeated row, for the duplicate rule
        rows.append(list(rows[0]))
    folder = tmp_path_factory.mktemp("eq")
    path = _write(folder, table, rows)
    reference = validate(read_source_file(path, table, folder, {}))
    con = duckdb.connect()
    staged = read_source_into(con, path, table, folder, {}, "raw_t")
    if staged is None:  # this file takes the pandas way in the load: nothing to compare
        return
    checked = validate_in_duckdb(con, staged, "typed_t")
    pd.testing.assert_frame_equal(checked.rejections.reset_index(drop=True),
                                  reference.rejections.reset_index(drop=True), check_dtype=False)
    typed = con.execute("select * from typed_t order by row").df()
    for column in table.columns:
        got = [_comparable(v) for v in typed["v_" + column.name]]
        want = [_comparable(v) for v in reference.frame[column.name]]
        assert got == want, column.name


def _folder(folder: Path) -> Path:
    write_table(folder, "police_incidents", [
        police("I1", "P1", "2025-05-01T08:00", "2025-05-01T10:00", la_child_ref="C1",
               missing_from_postcode="WV1 1AA", found_postcode=" wv1 1ab"),
        police("I2", "P1", "2025-05-03T08:00", "2025-05-03T12:00", risk_level="bogus"),
        police("I3", "P2", "2025-05-04T08:00", "2025-05-04T09:00", missing_from_type="childrens_home",
               missing_from_postcode="ZZ9 9ZZ"),
        police("I3", "P2", "2025-05-05T08:00"),
        police("I4", " P3 ", "2025-05-06T08:00+01:00", "2025-05-06T10:00:60"),
    ])
    write_table(folder, "return_interviews", [
        rhi("R1", "completed", "2025-05-02T09:00", "2025-05-02T10:00", person_ref="P1",
            episode_refs="I1; C1:1/5/2025", push_pull_factors="Family_Conflict;other"),
        rhi("R2", "not_offered", person_ref="P2"),
        rhi("R3", "declined", "2025-05-05T09:00", child_ref="C1", episode_refs=";"),
        rhi("R4", "no_contact", "2025-05-05T09:00"),
    ])
    write_table(folder, "attendance", [
        {"upn": "U1", "academic_year": "2024/25", "term": "spring", "sess_possible": "100",
         "sess_authorised": "5", "sess_unauthorised": "3"},
        {"upn": "U2", "academic_year": "2024/25", "term": "Summer", "sess_possible": "10",
         "sess_authorised": "8", "sess_unauthorised": "3"},
    ])
    return folder


def _tables(db: Path) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_name like 'stg_%' "
            "or table_name in ('rejected_rows', 'fct_episode', 'core_rhi_episode') order by 1").fetchall()]
        out = {}
        for name in names:
            columns = [c for c in con.execute(f"select * from {name} limit 0").df().columns if c != "load_id"]
            order = ", ".join(f'"{c}"' for c in columns)
            out[name] = con.execute(f"select {order} from {name} order by {order}").fetchall()
        return out


def test_a_load_stores_the_same_rows_either_way(tmp_path, monkeypatch):
    source = _folder(tmp_path / "source")
    monkeypatch.setenv("MFHC_PSEUDONYM_KEY", "equivalence-test-key")
    fast = tmp_path / "fast" / "mfhc.duckdb"
    load(source, Settings(db_path=fast), keep_staging=True)
    monkeypatch.setattr(load_module, "read_source_into", lambda *args, **kwargs: None)
    slow = tmp_path / "slow" / "mfhc.duckdb"
    load(source, Settings(db_path=slow), keep_staging=True)
    got, want = _tables(fast), _tables(slow)
    assert got.keys() == want.keys()
    assert {"stg_police_incidents", "stg_attendance", "stg_ssda903_missing"} <= set(want)
    for name in want:
        assert got[name] == want[name], name
    assert len(want["rejected_rows"]) >= 2


def _stored(db: Path) -> dict[str, list]:
    """Every table of a store, its rows sorted (the load's own ids and times left out)."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
        out = {}
        for name in names:
            columns = [c for c in con.execute(f"select * from {name} limit 0").df().columns
                       if c not in ("load_id", "loaded_at") and not (name == "meta" and c == "value")]
            order = ", ".join(f'"{c}"' for c in columns)
            out[name] = con.execute(f"select {order} from {name} order by {order}").fetchall()
        return out


def test_the_staged_rows_and_linking_tables_are_kept_only_when_asked(tmp_path, monkeypatch):
    """By default the store holds no stg_ table and none of the linking's intermediate tables
    (the build reads them as temporary tables); `keep_staging` adds exactly those, and every
    other table is the same either way."""
    source = _folder(tmp_path / "source")
    monkeypatch.setenv("MFHC_PSEUDONYM_KEY", "equivalence-test-key")
    plain, kept = tmp_path / "plain" / "mfhc.duckdb", tmp_path / "kept" / "mfhc.duckdb"
    load(source, Settings(db_path=plain))
    load(source, Settings(db_path=kept), keep_staging=True)
    without, with_staging = _stored(plain), _stored(kept)
    added = set(with_staging) - set(without)
    staged = {name for name in added if name.startswith("stg_")}
    assert not [name for name in without if name.startswith("stg_")]
    assert {"stg_police_incidents", "stg_ssda903_episodes", "stg_attendance", "stg_child_xref"} <= staged
    assert added - staged == set(load_module.LINKING_TABLES)
    assert set(without) <= set(with_staging)
    for name in without:
        assert without[name] == with_staging[name], name
    assert len(with_staging["stg_police_incidents"]) > 0 and len(with_staging["core_incident_episode"]) > 0
    # What the build releases early is only ever staged rows or linking tables.
    released = {name for names in load_module.RELEASED_AFTER.values() for name in names}
    assert released <= staged | set(load_module.LINKING_TABLES) | {f"stg_{t.name}" for t in load_module.TABLES}


_REF_ITEMS = ["INC-1", "C1:01/04/2024", "C1 :1/4/2024", "A:B:7/07/2025", "C1:01/04/24", "C1:1/13/2024",
              "C\u0663:01/04/2024", "C1:\u0661/04/2024", "Zo\u00eb:01/04/2024", "C1\u00a0:01/04/2024",
              "\x1cC\x1f:1/1/2024", ":1/1/2024", "C1:001/04/2024", "x:00/00/0000", "INC-2"]


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(st.sampled_from(_REF_ITEMS), max_size=5), min_size=1, max_size=8))
def test_episode_refs_in_sql_match_python(rows):
    """RHI episode_refs hashed in DuckDB (`degrade._episode_refs_table`) as `Pseudonymiser.episode_refs` does."""
    from pipelines.degrade import KeyTables, Pseudonymiser, _episode_refs_table

    key = b"episode-refs-key"
    with duckdb.connect() as con:
        con.execute("create temp table accepted_rows as select i::bigint as row, r as v "
                    "from unnest($rows) with ordinality as u(r, i)", {"rows": rows})
        name = _episode_refs_table(con, KeyTables(con, key), Pseudonymiser(key), "v", "refs_t")
        got = dict(con.execute(f"select row, refs from {name}").fetchall())
    want = Pseudonymiser(key).episode_refs(pd.Series(rows))
    for number, items in enumerate(rows, start=1):
        if items:
            assert got[number] == want[number - 1], items
        else:
            assert number not in got
