"""The keyed hashes DuckDB computes (`degrade.hmac_sql`, HMAC-SHA256 as two `sha256` calls)
are byte for byte `Pseudonymiser.one`'s (Python's `hmac`), for any key, namespace and value."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings, strategies as st

from pipelines.degrade import KeyTables, Pseudonymiser, hmac_parameters, hmac_sql

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)  # any valid UTF-8


@pytest.fixture(scope="module")
def con():
    with duckdb.connect() as connection:
        yield connection


@settings(max_examples=300, deadline=None)
@given(key=st.one_of(st.binary(min_size=1, max_size=150), _TEXT.filter(bool).map(lambda t: t.encode("utf-8"))),
       namespace=st.one_of(st.sampled_from(["incident", "person", "child", "rhi", "upn"]), _TEXT),
       values=st.lists(_TEXT, min_size=1, max_size=8))
def test_sql_hmac_is_pythons(con, key, namespace, values):
    got = [row[0] for row in con.execute(
        f"select {hmac_sql('v')} from unnest($values) with ordinality as u(v, i) order by i",
        {**hmac_parameters(key, namespace), "values": values}).fetchall()]
    pseudonymiser = Pseudonymiser(key)
    assert got == [pseudonymiser.one(namespace, v) for v in values]


@pytest.mark.parametrize("key", [b"k", b"x" * 64, b"y" * 65, "clé-ünïcode-鍵".encode("utf-8")])
def test_key_tables_hash_each_value_once(key):
    with duckdb.connect() as connection:
        keys = KeyTables(connection, key)
        values = ["INC-1", " padded ", "Zoë", "鍵", "", "INC-1"]
        connection.execute("create table src as select unnest($v) as v", {"v": values + [None]})
        name = keys.add("incident", "select v from src")
        keys.add("incident", "select v from src")  # a second file: nothing hashed twice
        stored = dict(connection.execute(f"select value, key from {name}").fetchall())
        assert connection.execute(f"select count(*) from {name}").fetchone()[0] == len(set(values))
        pseudonymiser = Pseudonymiser(key)
        assert stored == {v: pseudonymiser.one("incident", v) for v in values}
