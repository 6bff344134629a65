"""The notebook reader: Arrow from ADBC into polars with the right types, values bound by psycopg, sessions
read-only. Pure conversions on hand-built Arrow tables, then the real path against the embedded Postgres."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import polars as pl
import pyarrow as pa
import pytest


def _field(name, kind, pg_type, typmod=-1):
    return pa.field(name, kind, metadata={"POSTGRESQL:type": pg_type, "POSTGRESQL:typmod": str(typmod)})


def test_numeric_typmod_gives_decimal_or_float():
    from orchestration.notebook import numeric_dtype

    assert numeric_dtype(((12 << 16) | 4) + 4) == pl.Decimal(12, 4)
    assert numeric_dtype(((10 << 16) | 0) + 4) == pl.Decimal(10, 0)
    assert numeric_dtype(-1) == pl.Float64                        # unconstrained numeric
    assert numeric_dtype(((60 << 16) | 2) + 4) == pl.Float64      # wider than a 128-bit decimal


def test_read_only_conninfo_keeps_existing_options():
    from psycopg.conninfo import conninfo_to_dict

    from orchestration.notebook import read_only_conninfo

    info = conninfo_to_dict(read_only_conninfo("postgresql://u@/db?host=/tmp&port=5433&options=-c%20work_mem%3D8MB"))
    assert info["dbname"] == "db" and info["port"] == "5433" and info["host"] == "/tmp"
    assert info["options"] == "-c work_mem=8MB -c default_transaction_read_only=on"
    assert conninfo_to_dict(read_only_conninfo("dbname=x"))["options"] == "-c default_transaction_read_only=on"


def test_arrow_to_polars_converts_postgres_storage_types():
    from orchestration.notebook import arrow_to_polars

    ids = [uuid.UUID("12345678-9abc-4def-8123-456789abcdef"), None]
    table = pa.table({
        "amount": pa.array(["1.2500", None], pa.string()),
        "ratio": pa.array(["0.5", "NaN"], pa.string()),
        "id": pa.array([u.bytes if u else None for u in ids], pa.binary(16)),
        "doc": pa.array(['{"a": 1, "b": [1, 2]}', '{"a": 2}'], pa.string()),
        "mixed": pa.array(['[1, 2]', '{"a": 1}'], pa.string()),
        "tags": pa.array([["x", "y"], None], pa.list_(pa.string())),
        "span": pa.array([(1, 2, 3_000), None], pa.month_day_nano_interval()),
    }).cast(pa.schema([
        _field("amount", pa.string(), "numeric", ((12 << 16) | 4) + 4),
        _field("ratio", pa.string(), "numeric"),
        _field("id", pa.binary(16), "uuid"),
        _field("doc", pa.string(), "jsonb"),
        _field("mixed", pa.string(), "json"),
        _field("tags", pa.list_(pa.string()), "_text"),
        _field("span", pa.month_day_nano_interval(), "interval"),
    ]))
    # ADBC hands numeric and uuid over as extension types; rebuild them the way the driver does
    table = pa.table([pa.ExtensionArray.from_storage(pa.opaque(pa.string(), "numeric", "PostgreSQL"), table["amount"].combine_chunks()),
                      pa.ExtensionArray.from_storage(pa.opaque(pa.string(), "numeric", "PostgreSQL"), table["ratio"].combine_chunks()),
                      pa.ExtensionArray.from_storage(pa.uuid(), table["id"].combine_chunks()),
                      pa.ExtensionArray.from_storage(pa.json_(), table["doc"].combine_chunks()),
                      pa.ExtensionArray.from_storage(pa.json_(), table["mixed"].combine_chunks()),
                      table["tags"].combine_chunks(), table["span"].combine_chunks()],
                     schema=pa.schema([f.with_type(t) for f, t in zip(table.schema, [
                         pa.opaque(pa.string(), "numeric", "PostgreSQL"), pa.opaque(pa.string(), "numeric", "PostgreSQL"),
                         pa.uuid(), pa.json_(), pa.json_(), pa.list_(pa.string()), pa.month_day_nano_interval()])]))
    frame = arrow_to_polars(table)
    assert frame.schema["amount"] == pl.Decimal(12, 4) and frame["amount"].to_list() == [Decimal("1.2500"), None]
    assert frame.schema["ratio"] == pl.Float64 and frame["ratio"][0] == 0.5
    assert frame["id"].to_list() == [str(ids[0]), None]
    assert frame.schema["doc"] == pl.Struct({"a": pl.Int64, "b": pl.List(pl.Int64)})
    assert frame["doc"].to_list() == [{"a": 1, "b": [1, 2]}, {"a": 2, "b": None}]
    assert frame.schema["mixed"] == pl.String  # two shapes: kept as the JSON text
    assert frame["tags"].to_list() == [["x", "y"], None]
    assert frame["span"].to_list() == [timedelta(days=32, microseconds=3), None]


def test_arrow_to_polars_refuses_types_it_cannot_decode():
    from orchestration.notebook import arrow_to_polars

    inet = pa.opaque(pa.binary(), "inet", "PostgreSQL")
    table = pa.table([pa.ExtensionArray.from_storage(inet, pa.array([b"\x02\x20\x00\x04\x01\x02\x03\x04"]))],
                     schema=pa.schema([_field("ip", inet, "inet")]))
    with pytest.raises(ValueError, match=r"ip::text"):
        arrow_to_polars(table)


def test_figure_png_draws_with_agg():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from orchestration.notebook import figure_png

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [1, 0])
    png = figure_png(fig, dpi=50)
    plt.close(fig)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 200


MART_DDL = """
CREATE SCHEMA marts;
CREATE TABLE marts.reader_probe (id uuid PRIMARY KEY, user_id text NOT NULL, cost numeric(12, 4), score numeric,
    at timestamptz NOT NULL, day date, doc jsonb, tags text[], counts int[], n bigint);
"""


def _seed_probe(url):
    import psycopg

    rows = [(uuid.UUID(int=i + 1, version=4), f"u{i % 3}", Decimal(f"{i}.1250"), Decimal(i) / 3,
             datetime(2025, 1, 1, 12, tzinfo=timezone.utc) + timedelta(hours=i), None if i == 4 else datetime(2025, 1, 1 + i).date(),
             psycopg.types.json.Jsonb({"mood": "happy" if i % 2 else "sad", "n": i}), ["a", "b"][: i % 3], [i, i + 1],
             None if i == 2 else i * 1000)
            for i in range(6)]
    with psycopg.connect(url) as conn:
        conn.execute(MART_DDL)
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO marts.reader_probe VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
    return rows


def test_read_mart_types_filters_and_read_only(databases):
    import psycopg

    from orchestration.notebook import read_mart, read_sql

    rows = _seed_probe(databases.warehouse_url)
    frame = read_mart("reader_probe", order_by="at")
    assert isinstance(frame, pl.DataFrame) and frame.height == len(rows)
    assert dict(frame.schema) == {
        "id": pl.String, "user_id": pl.String, "cost": pl.Decimal(12, 4), "score": pl.Float64,
        "at": pl.Datetime("us", "UTC"), "day": pl.Date, "doc": pl.Struct({"n": pl.Int64, "mood": pl.String}),  # jsonb keeps keys shortest first
        "tags": pl.List(pl.String), "counts": pl.List(pl.Int32), "n": pl.Int64}
    assert frame["id"].to_list() == [str(r[0]) for r in rows]
    assert frame["cost"].to_list() == [r[2] for r in rows]
    assert frame["score"].to_list() == pytest.approx([float(r[3]) for r in rows])
    assert frame["at"].to_list() == [r[4] for r in rows]
    assert frame["day"].to_list() == [r[5] for r in rows]
    assert frame["doc"].to_list() == [r[6].obj for r in rows]
    assert frame["tags"].to_list() == [r[7] for r in rows] and frame["counts"].to_list() == [r[8] for r in rows]
    assert frame["n"].to_list() == [r[9] for r in rows]

    # filters: equality, IN, uuid values, a quote in a value (bound by psycopg, not formatted in)
    assert read_mart("reader_probe", user_id="u1")["n"].to_list() == [r[9] for r in rows if r[1] == "u1"]
    assert sorted(read_mart("reader_probe", user_id=["u0", "u2"])["user_id"].to_list()) == sorted(
        r[1] for r in rows if r[1] in ("u0", "u2"))
    assert read_mart("reader_probe", id=rows[3][0])["n"].to_list() == [rows[3][9]]
    assert read_mart("reader_probe", user_id="u1' OR 'x' = 'x").height == 0
    assert read_mart("reader_probe", day=None)["n"].to_list() == [rows[4][9]]
    assert read_mart("reader_probe", limit=2, order_by="n").height == 2
    with pytest.raises(ValueError, match="no column"):
        read_mart("reader_probe", nope=1)
    with pytest.raises(LookupError):
        read_mart("missing_mart")

    pandas = read_mart("reader_probe", user_id="u0", frame="pandas")
    assert type(pandas).__module__.startswith("pandas") and len(pandas) == sum(r[1] == "u0" for r in rows)
    assert str(pandas["at"].dt.tz) == "UTC"
    with pytest.raises(ValueError, match="frame"):
        read_mart("reader_probe", frame="arrow")

    by_mood = read_sql("SELECT doc->>'mood' AS mood, count(*) AS entries FROM marts.reader_probe WHERE n > %s "
                       "GROUP BY 1 ORDER BY 1", (0,))
    expected = {}
    for r in rows:
        if r[9] is not None and r[9] > 0:
            expected[r[6].obj["mood"]] = expected.get(r[6].obj["mood"], 0) + 1
    assert dict(zip(by_mood["mood"].to_list(), by_mood["entries"].to_list())) == expected
    assert read_sql("SELECT %s::text AS v, 'a%%' AS pct", ("it's",)).row(0) == ("it's", "a%")

    for statement in ("CREATE TABLE marts.written (a int)", "DELETE FROM marts.reader_probe"):
        with pytest.raises(Exception, match="read-only"):
            read_sql(statement)
    # the session is reused between reads: what one read sets or ends cannot make the next one writable
    for statement in ("COMMIT", "SET default_transaction_read_only = off",
                      "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE"):
        read_sql(statement)
    with pytest.raises(Exception, match="read-only"):
        read_sql("CREATE TABLE marts.written (a int)")
    with pytest.raises(Exception, match="multiple commands"):
        read_sql("SET default_transaction_read_only = off; CREATE TABLE marts.written (a int)")
    with psycopg.connect(databases.warehouse_url) as conn:
        assert conn.execute("SELECT count(*) FROM marts.reader_probe").fetchone()[0] == len(rows)
        assert conn.execute("SELECT to_regclass('marts.written')").fetchone()[0] is None
