"""The analytics relations, on TimescaleDB when the warehouse has it and on native partitioning otherwise.

Both paths expose the same relations with the same columns (DESIGN "Warehouse"):
analytics.mood_events, analytics.user_activity_events, analytics.journal_insights and the rollups
analytics.mood_daily_summary, analytics.user_weekly_activity.

TimescaleDB path (extension installed and licence `timescale`, i.e. not an Apache-only build which lacks
continuous aggregates, compression and policies): hypertables with the seed's chunk intervals,
continuous aggregates `WITH NO DATA` plus the seed's refresh policies, the seed's retention policies
and compression of old chunks. The refresh-window trap (FIELD-NOTES): a refresh over a window whose raw
chunks retention already dropped deletes those aggregate buckets, so `validate_policies` insists every
refresh window (start_offset) lies inside its source's retention, and compression starts only after
the refresh window so the hourly refresh reads uncompressed chunks.

Native path: the same tables, range-partitioned (7-day partitions aligned like Timescale chunks for the
event tables, calendar months for journal_insights), partitions created ahead of time, retention by
detach + drop of partitions wholly older than the cutoff, and the two rollups as TABLES refreshed bucket
by bucket (assets.mood.rollups).

Every DDL statement is built by a pure function returning psycopg `sql.Composed` objects (tested as
strings without a server); `ensure_analytics` runs them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from psycopg import sql

from assets.mood import buckets
from sources.sql_files import sql_text

SCHEMA = "analytics"
INSIGHTS_PACKAGE = "assets.insights"  # journal_insights lives in the analytics schema, its DDL with insights
TIMESCALE_ORIGIN_LITERAL = "2000-01-03 00:00:00+00"
ADVISORY_LOCK = 7240511


@dataclass(frozen=True)
class HypertableSpec:
    table: str
    time_column: str
    chunk_interval: str
    retention: str | None = None
    compress_after: str | None = None
    segmentby: str | None = None
    orderby: str | None = None


@dataclass(frozen=True)
class RollupSpec:
    name: str
    source: str
    bucket_column: str
    width: str
    aggregates: str  # select-list after "<bucket> AS <col>, user_id,"
    start_offset: str
    end_offset: str
    schedule_interval: str


HYPERTABLES = (
    HypertableSpec("mood_events", "time", "7 days", retention="1 year", compress_after="30 days",
                   segmentby="user_id", orderby="time DESC"),
    HypertableSpec("user_activity_events", "time", "7 days", retention="6 months", compress_after="60 days",
                   segmentby="user_id", orderby="time DESC"),
    HypertableSpec("journal_insights", "generated_at", "1 month"),  # seed: no retention on insights
)
ROLLUPS = (
    RollupSpec(
        "mood_daily_summary", "mood_events", "day", "1 day",
        "COUNT(*) AS entry_count, AVG(mood_score) AS avg_mood_score, "
        "MODE() WITHIN GROUP (ORDER BY mood) AS most_common_mood, SUM(word_count) AS total_words",
        start_offset="7 days", end_offset="1 hour", schedule_interval="1 hour",
    ),
    RollupSpec(
        "user_weekly_activity", "user_activity_events", "week", "7 days",
        "COUNT(*) FILTER (WHERE event_type = 'login') AS login_count, "
        "COUNT(*) FILTER (WHERE event_type = 'entry_created') AS entries_created, "
        "COUNT(*) FILTER (WHERE event_type = 'entry_updated') AS entries_updated, "
        "COUNT(*) AS total_events",
        start_offset="4 weeks", end_offset="1 hour", schedule_interval="1 hour",
    ),
)


def hypertable(name: str) -> HypertableSpec:
    return next(h for h in HYPERTABLES if h.table == name)


def rollup(name: str) -> RollupSpec:
    return next(r for r in ROLLUPS if r.name == name)


# ----------------------------------------------------------------------------------------- intervals
_UNIT_DAYS = {"hour": 1 / 24, "day": 1, "week": 7, "month": 30, "year": 365}


def interval_days(text: str) -> float:
    """Approximate length of a simple Postgres interval literal ('7 days', '6 months', '1 hour')."""
    m = re.fullmatch(r"\s*(\d+)\s*(hour|day|week|month|year)s?\s*", text)
    if not m:
        raise ValueError(f"unsupported interval {text!r}")
    return int(m.group(1)) * _UNIT_DAYS[m.group(2)]


def validate_policies(hypertables=HYPERTABLES, rollups=ROLLUPS) -> None:
    """Refuse policy combinations that lose data (the refresh-window-vs-retention trap)."""
    by_table = {h.table: h for h in hypertables}
    for r in rollups:
        src = by_table[r.source]
        if src.retention and interval_days(r.start_offset) >= interval_days(src.retention):
            raise ValueError(
                f"{r.name}: refresh window start_offset {r.start_offset} reaches past the retention "
                f"of {r.source} ({src.retention}); a refresh there would delete kept aggregate buckets")
        if src.compress_after and interval_days(src.compress_after) < interval_days(r.start_offset):
            raise ValueError(f"{r.source}: compress_after {src.compress_after} is inside the refresh window "
                             f"of {r.name} ({r.start_offset})")
        if interval_days(r.end_offset) >= interval_days(r.start_offset):
            raise ValueError(f"{r.name}: empty refresh window")


# ----------------------------------------------------------------------------------------- builders
def _statements(text: str) -> list[str]:
    body = "\n".join(line for line in text.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def _from_file(name: str, schema: str, partitioning: sql.Composable = sql.SQL(""), *,
               package: str = __package__) -> list[sql.Composed]:
    return [sql.SQL(s).format(schema=sql.Identifier(schema), partitioning=partitioning)
            for s in _statements(sql_text(package, name))]


def bucket_expression(width: str, column: str, *, timescale: bool) -> sql.Composed:
    """The bucket expression of a rollup: time_bucket on Timescale, the identical date_bin otherwise."""
    if timescale:
        return sql.SQL("time_bucket(INTERVAL {}, {})").format(sql.Literal(width), sql.Identifier(column))
    return sql.SQL("date_bin(INTERVAL {}, {}, TIMESTAMPTZ {})").format(
        sql.Literal(width), sql.Identifier(column), sql.Literal(TIMESCALE_ORIGIN_LITERAL))


def rollup_select(spec: RollupSpec, schema: str, *, timescale: bool,
                  join: sql.Composable | None = None, where: sql.Composable | None = None) -> sql.Composed:
    """The aggregate query both paths share (the continuous aggregate's body on Timescale).

    The fallback refreshes a set of buckets by adding `join` (e.g. the changed buckets) and `where`."""
    return sql.SQL("SELECT {bucket} AS {col}, src.user_id, {aggs} FROM {src} AS src{join}{where} GROUP BY 1, 2").format(
        bucket=bucket_expression(spec.width, "time", timescale=timescale),
        col=sql.Identifier(spec.bucket_column),
        aggs=sql.SQL(spec.aggregates),
        src=sql.Identifier(schema, spec.source),
        join=sql.SQL(" ") + join if join is not None else sql.SQL(""),
        where=sql.SQL(" WHERE ") + where if where is not None else sql.SQL(""),
    )


def common_ddl(schema: str = SCHEMA, *, partitioned: bool) -> list[sql.Composed]:
    def part(col: str) -> sql.Composable:
        return sql.SQL("PARTITION BY RANGE ({})").format(sql.Identifier(col)) if partitioned else sql.SQL("")

    out = [sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))]
    out += _from_file("state.sql", schema)
    out += _from_file("mood_events.sql", schema, part("time"))
    out += _from_file("user_activity_events.sql", schema, part("time"))
    out += _from_file("journal_insights.sql", schema, part("generated_at"), package=INSIGHTS_PACKAGE)
    return out


def index_ddl(schema: str = SCHEMA) -> list[sql.Composed]:
    return _from_file("indexes.sql", schema) + _from_file("journal_insights_indexes.sql", schema, package=INSIGHTS_PACKAGE)


def timescale_ddl(schema: str = SCHEMA) -> list[sql.Composed]:
    """Everything the Timescale path runs, in order (idempotent: if_not_exists everywhere)."""
    validate_policies()
    out = [sql.SQL("CREATE EXTENSION IF NOT EXISTS timescaledb")]
    out += common_ddl(schema, partitioned=False)
    for h in HYPERTABLES:
        out.append(sql.SQL(
            "SELECT create_hypertable({rel}, {col}, chunk_time_interval => INTERVAL {iv}, if_not_exists => TRUE)"
        ).format(rel=sql.Literal(f"{schema}.{h.table}"), col=sql.Literal(h.time_column), iv=sql.Literal(h.chunk_interval)))
    out += index_ddl(schema)
    for r in ROLLUPS:
        out.append(sql.SQL(
            "CREATE MATERIALIZED VIEW IF NOT EXISTS {view} WITH (timescaledb.continuous, "
            "timescaledb.materialized_only = true) AS {body} WITH NO DATA"
        ).format(view=sql.Identifier(schema, r.name), body=rollup_select(r, schema, timescale=True)))
        out.append(sql.SQL(
            "SELECT add_continuous_aggregate_policy({view}, start_offset => INTERVAL {so}, "
            "end_offset => INTERVAL {eo}, schedule_interval => INTERVAL {si}, if_not_exists => TRUE)"
        ).format(view=sql.Literal(f"{schema}.{r.name}"), so=sql.Literal(r.start_offset),
                 eo=sql.Literal(r.end_offset), si=sql.Literal(r.schedule_interval)))
    for h in HYPERTABLES:
        rel = sql.Literal(f"{schema}.{h.table}")
        if h.compress_after:
            out.append(sql.SQL(
                "ALTER TABLE {tbl} SET (timescaledb.compress, timescaledb.compress_segmentby = {seg}, "
                "timescaledb.compress_orderby = {ord})"
            ).format(tbl=sql.Identifier(schema, h.table), seg=sql.Literal(h.segmentby), ord=sql.Literal(h.orderby)))
            out.append(sql.SQL(
                "SELECT add_compression_policy({rel}, compress_after => INTERVAL {iv}, if_not_exists => TRUE)"
            ).format(rel=rel, iv=sql.Literal(h.compress_after)))
        if h.retention:
            out.append(sql.SQL("SELECT add_retention_policy({rel}, drop_after => INTERVAL {iv}, if_not_exists => TRUE)")
                       .format(rel=rel, iv=sql.Literal(h.retention)))
    return out


def native_ddl(schema: str = SCHEMA) -> list[sql.Composed]:
    """Everything the fallback runs once (partitions are added by `partition_ddl`)."""
    validate_policies()
    return common_ddl(schema, partitioned=True) + index_ddl(schema) + _from_file("rollup_tables.sql", schema)


def partition_name(parent: str, lower: datetime) -> str:
    return f"{parent}_p{lower:%Y%m%d}"


def partition_ddl(schema: str, parent: str, lower: datetime, upper: datetime) -> sql.Composed:
    return sql.SQL("CREATE TABLE IF NOT EXISTS {part} PARTITION OF {parent} FOR VALUES FROM ({lo}) TO ({hi})").format(
        part=sql.Identifier(schema, partition_name(parent, lower)), parent=sql.Identifier(schema, parent),
        lo=sql.Literal(lower), hi=sql.Literal(upper))


def partition_ranges(spec: HypertableSpec, first: datetime, last: datetime) -> list[tuple[datetime, datetime]]:
    if spec.chunk_interval == "1 month":
        return buckets.monthly_ranges(first, last)
    return buckets.weekly_ranges(first, last, timedelta(days=interval_days(spec.chunk_interval)))


def drop_partition_ddl(schema: str, name: str) -> list[sql.Composed]:
    parent, _ = name.rsplit("_p", 1)
    return [
        sql.SQL("ALTER TABLE {parent} DETACH PARTITION {part}").format(
            parent=sql.Identifier(schema, parent), part=sql.Identifier(schema, name)),
        sql.SQL("DROP TABLE {part}").format(part=sql.Identifier(schema, name)),
    ]


# ----------------------------------------------------------------------------------------- detection
@dataclass(frozen=True)
class Capabilities:
    timescale: bool
    extension_version: str | None = None
    license: str | None = None
    reason: str = ""

    @property
    def mode(self) -> str:
        return "timescaledb" if self.timescale else "native"


def detect(conn) -> Capabilities:
    """TimescaleDB with continuous aggregates and policies, or the native fallback (with the reason)."""
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    if row is None:
        available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
        if not available:
            return Capabilities(False, reason="timescaledb is not available on this server")
        preload = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()[0]
        if "timescaledb" not in preload:
            # CREATE EXTENSION would end the session with FATAL ("must be preloaded"), not an error
            return Capabilities(False, reason="timescaledb is installed but not in shared_preload_libraries")
        try:
            with conn.transaction():
                conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        except Exception as exc:  # not preloaded, no privilege, ...
            return Capabilities(False, reason=f"timescaledb available but cannot be created: {exc}".strip())
        row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    licence = conn.execute("SELECT current_setting('timescaledb.license', true)").fetchone()[0]
    if licence == "apache":
        return Capabilities(False, row[0], licence,
                            "Apache-only TimescaleDB build: no continuous aggregates, compression or policies")
    return Capabilities(True, row[0], licence or "timescale", "timescaledb extension with community licence")


def stored_mode(conn, schema: str = SCHEMA) -> str | None:
    if not conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}._analytics_meta",)).fetchone()[0]:
        return None
    row = conn.execute(sql.SQL("SELECT value->>'mode' FROM {} WHERE key = 'storage'").format(
        sql.Identifier(schema, "_analytics_meta"))).fetchone()
    return row[0] if row else None


# ----------------------------------------------------------------------------------------- apply
def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def existing_partitions(conn, schema: str, parent: str) -> list[tuple[str, datetime, datetime]]:
    rows = conn.execute(
        """SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
            WHERE n.nspname = %s AND p.relname = %s""",
        (schema, parent),
    ).fetchall()
    out = []
    for name, bound in rows:
        m = re.search(r"FROM \('([^']+)'\) TO \('([^']+)'\)", bound or "")
        if m:
            lo, hi = (datetime.fromisoformat(v).astimezone(timezone.utc) for v in m.groups())
            out.append((name, lo, hi))
    return sorted(out, key=lambda r: r[1])


def ensure_partitions(conn, first: datetime, last: datetime, schema: str = SCHEMA,
                      tables: tuple[str, ...] | None = None) -> int:
    """Native path: create missing partitions covering [first, last] for the given tables."""
    created = 0
    for spec in HYPERTABLES:
        if tables and spec.table not in tables:
            continue
        have = {lo for _, lo, _ in existing_partitions(conn, schema, spec.table)}
        for lo, hi in partition_ranges(spec, first, last):
            if lo not in have:
                conn.execute(partition_ddl(schema, spec.table, lo, hi))
                created += 1
    return created


def retention_cutoff(conn, spec: HypertableSpec, now: datetime) -> datetime:
    return conn.execute("SELECT %s::timestamptz - %s::interval", (now, spec.retention)).fetchone()[0]


def retention_floor(conn, table: str, now: datetime | None = None) -> datetime | None:
    """Oldest time kept in `table` after retention (None: no retention)."""
    spec = hypertable(table)
    if not spec.retention:
        return None
    cutoff = retention_cutoff(conn, spec, now or _utcnow())
    return buckets.retention_floor(cutoff, timedelta(days=interval_days(spec.chunk_interval)))


def apply_native_retention(conn, now: datetime | None = None, schema: str = SCHEMA) -> list[str]:
    """Detach and drop partitions wholly older than each table's retention; rollups are kept."""
    now = now or _utcnow()
    dropped = []
    for spec in HYPERTABLES:
        if not spec.retention:
            continue
        cutoff = retention_cutoff(conn, spec, now)
        for name, lo, hi in existing_partitions(conn, schema, spec.table):
            if hi <= cutoff:
                for stmt in drop_partition_ddl(schema, name):
                    conn.execute(stmt)
                dropped.append(name)
    return dropped


def ensure_analytics(conn, now: datetime | None = None, schema: str = SCHEMA) -> Capabilities:
    """Create (idempotently) every analytics relation for this warehouse; returns the path taken.

    The first run fixes the storage mode in analytics._analytics_meta; later runs keep it (a warehouse
    switched to TimescaleDB after the fact needs a rebuild, which this refuses to guess)."""
    now = now or _utcnow()
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK,))
    mode = stored_mode(conn, schema)
    caps = detect(conn)
    if mode == "native" and caps.timescale:
        caps = Capabilities(False, caps.extension_version, caps.license,
                            "analytics schema was built natively before TimescaleDB was available")
    elif mode == "timescaledb" and not caps.timescale:
        raise RuntimeError(f"analytics schema was built on TimescaleDB but the warehouse lacks it: {caps.reason}")
    statements = timescale_ddl(schema) if caps.timescale else native_ddl(schema)
    for stmt in statements:
        conn.execute(stmt)
    if not caps.timescale:
        for spec in HYPERTABLES:
            floor = retention_floor(conn, spec.table, now) or (now - timedelta(days=62))
            ensure_partitions(conn, floor, now + timedelta(days=35), schema, (spec.table,))
    conn.execute(
        sql.SQL("INSERT INTO {} (key, value) VALUES ('storage', %s::jsonb) ON CONFLICT (key) DO NOTHING").format(
            sql.Identifier(schema, "_analytics_meta")),
        (json.dumps({"mode": caps.mode, "reason": caps.reason}),),
    )
    return caps
