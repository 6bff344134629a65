"""`tessera bench ingest [--users 2000 --days 365 --seed 1] [--reuse]`: ingest speed against the physical limit.

On the embedded server (or the servers of TESSERA_SOURCE_URL/WAREHOUSE_URL), in one run on the same data:
  (a) physical limit: plain binary COPY (SELECT ...) TO STDOUT piped into COPY ... FROM STDIN, every
      registry table, into a scratch database whose tables have the raw layout (same columns, same PK);
      rows/s and MB/s. For information, also the same pipe into tables indexed after the load
      (`physical_limit_index_after`), which is how Tessera loads a new table;
  (b) Tessera's full load tick: sync_all on an empty warehouse (slot and publication set-up, loads,
      indexes, and the drain of the change stream past the loads' own WAL included); rows/s, MB/s and
      the ratio to (a) (target >= 0.8);
  (c) steady state: one more sync_all (absorbs anything left), then about 1% of the rows changed
      (updates, soft deletes, inserts, a few cascading hard deletes) and ONE incremental sync_all timed,
      as a ratio of its time to (b)'s (target <= 0.05). Reported with it: the tick's phases, and the
      server floor: the source decoding the pending change once (a peek counted on the server) plus the
      warehouse's own time in the tick's apply statements, as a ratio to (b): what no client can go under.
--reuse keeps the generated source in a database named after the scale (generated once; about 4 to 6
minutes at 2000 x 365) and runs on a copy of it, so the kept source stays as generated. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time

log = logging.getLogger(__name__)

KEPT_MARK = "tessera bench ingest source: complete"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tessera bench ingest")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--change-share", type=float, default=0.01, help="share of rows changed before (c)")
    parser.add_argument("--reuse", action="store_true",
                        help="generate the source once into a kept database and run on a copy of it")
    parser.add_argument("--no-index-after", action="store_true", help="skip the informational second pipe")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    return parser.parse_args(argv)


def _with_db(url: str, name: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    return make_conninfo(**{**conninfo_to_dict(url), "dbname": name})


def _admin_url() -> tuple[str, str]:
    from core.embedded import database_urls
    from core.settings import Settings

    settings = Settings.from_env()
    source, warehouse = database_urls(settings)
    return _with_db(source, "postgres"), _with_db(warehouse, "postgres")


def _create(admin: str, name: str, template: str | None = None) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin, autocommit=True) as conn:
        if template:
            # FILE_COPY: copies the files (no WAL for the whole database, unlike the default WAL_LOG).
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template)))
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop(admin: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin, autocommit=True) as conn:
        for (slot,) in conn.execute("SELECT slot_name FROM pg_replication_slots WHERE database = %s", (name,)).fetchall():
            conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _checkpoint(url: str) -> None:
    """Start each measured phase without the previous phase's dirty buffers (superuser only)."""
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    except psycopg.Error as exc:
        log.info("no CHECKPOINT between phases: %s", exc)


def _wal_lsn(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]


def _wal_since(url: str, lsn: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return int(conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", (lsn,)).fetchone()[0])


def _generate(url: str, args) -> float:
    from sources.generator import generate
    from sources.migrate import apply_migrations
    import psycopg

    apply_migrations(url)
    started = time.monotonic()
    generate(url, users=args.users, days=args.days, seed=args.seed)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return round(time.monotonic() - started, 1)


def _kept_source(admin: str, args) -> tuple[str, float | None]:
    """Name of the kept, fully generated source for this scale (generating it when absent or partial)."""
    import psycopg
    from psycopg import sql

    name = f"bench_ingest_src_u{args.users}_d{args.days}_s{args.seed}"
    with psycopg.connect(admin, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
    if row is not None and row[0] == KEPT_MARK:
        log.info("reusing the generated source %s", name)
        return name, None
    if row is not None:
        _drop(admin, name)
    _create(admin, name)
    log.info("generating the source into %s (kept for --reuse)", name)
    seconds = _generate(_with_db(admin, name), args)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(KEPT_MARK)))
    return name, seconds


def physical_limit(source_url: str, target_url: str, index_after: bool = False) -> dict:
    """(a): plain streamed COPY of every registry table into same-shaped tables of another database.
    index_after: tables created without their key, COPY FREEZE, primary key built after (informational)."""
    import psycopg
    from psycopg import sql

    from assets.ingest import drift
    from core.db import columns_of
    from sources.registry import TABLES

    rows = nbytes = 0
    started = time.monotonic()
    with psycopg.connect(source_url) as src, psycopg.connect(target_url) as dst:
        for table in TABLES:
            cols = columns_of(src, table.product, table.name)
            names = [c for c, _ in cols]
            dst.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(table.raw_schema)))
            dst.execute(drift.create_raw_table(table.raw_schema, table.name, cols, table.key, primary_key=not index_after))
            out = sql.SQL("COPY (SELECT {} FROM {}.{}) TO STDOUT (FORMAT binary)").format(
                sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(table.product), sql.Identifier(table.name)
            )
            into = sql.SQL("COPY {}.{} ({}) FROM STDIN (FORMAT binary{})").format(
                sql.Identifier(table.raw_schema), sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names)),
                sql.SQL(", FREEZE" if index_after else ""),
            )
            with src.cursor() as oc, dst.cursor() as ic:
                with oc.copy(out) as reader, ic.copy(into) as writer:
                    for chunk in reader:
                        writer.write(chunk)
                        nbytes += len(chunk)
                rows += ic.rowcount
            if index_after:
                dst.execute(drift.add_primary_key(table.raw_schema, table.name, table.key))
            dst.commit()
        src.rollback()
    seconds = time.monotonic() - started
    return {"rows": rows, "bytes": nbytes, "seconds": round(seconds, 3), "rows_per_s": round(rows / seconds),
            "mb_per_s": round(nbytes / seconds / 1e6, 2)}


CHANGE_SQL = {
    # updates (about 0.5%): the apps' edits, triggers bump updated_at / version
    "update_entries": "UPDATE mindflow.journal_entries SET title = left(title, 180) || ' (edited)', version = version + 1 "
    "WHERE id IN (SELECT id FROM mindflow.journal_entries TABLESAMPLE BERNOULLI ({pct_update}))",
    "update_api": "UPDATE mindflow.api_requests SET response_time = coalesce(response_time, 0) + 1 "
    "WHERE id IN (SELECT id FROM mindflow.api_requests TABLESAMPLE BERNOULLI ({pct_update}))",
    "update_observations": "UPDATE personakit.observations SET processing_status = 'approved', approved_by = 'bench', "
    "approved_at = now() WHERE processing_status = 'pending' AND observation_id IN "
    "(SELECT observation_id FROM personakit.observations TABLESAMPLE BERNOULLI ({pct_update}))",
    "update_dialogue": "UPDATE coach.dialogue_messages SET flagged_for_recall = NOT flagged_for_recall "
    "WHERE id IN (SELECT id FROM coach.dialogue_messages TABLESAMPLE BERNOULLI ({pct_update}))",
    # soft deletes (about 0.2%)
    "soft_delete_entries": "UPDATE mindflow.journal_entries SET deleted_at = now() WHERE deleted_at IS NULL AND id IN "
    "(SELECT id FROM mindflow.journal_entries TABLESAMPLE BERNOULLI ({pct_soft}))",
    "soft_delete_dialogue": "UPDATE coach.dialogue_messages SET deleted_at = now() WHERE deleted_at IS NULL AND id IN "
    "(SELECT id FROM coach.dialogue_messages TABLESAMPLE BERNOULLI ({pct_soft}))",
    # inserts (about 0.3%): new log rows
    "insert_api": "INSERT INTO mindflow.api_requests (request_id, method, path, query, headers, status_code, response_time, user_id) "
    "SELECT gen_random_uuid(), method, path, query, headers, status_code, response_time, user_id "
    "FROM mindflow.api_requests TABLESAMPLE BERNOULLI ({pct_insert})",
    "insert_audit": "INSERT INTO mindflow.audit_logs (user_id, action, metadata) SELECT user_id, action, metadata "
    "FROM mindflow.audit_logs TABLESAMPLE BERNOULLI ({pct_insert})",
    "insert_applog": "INSERT INTO mindflow.application_logs (level, service, message, context) "
    "SELECT level, service, message, context FROM mindflow.application_logs TABLESAMPLE BERNOULLI ({pct_insert})",
    "insert_study": "INSERT INTO coach.study_sessions (user_id, session_id, minutes) SELECT user_id, session_id, minutes "
    "FROM coach.study_sessions TABLESAMPLE BERNOULLI ({pct_insert})",
    # a few hard deletes that cascade (stories -> plugin metadata, mentions)
    "hard_delete_stories": "DELETE FROM mosaic.stories WHERE id IN (SELECT id FROM mosaic.stories ORDER BY id LIMIT {n_hard})",
}


def apply_changes(source_url: str, share: float) -> dict:
    """(c) input: change about `share` of the rows; returns rows touched per statement."""
    import psycopg

    pct = share * 100
    # The touched tables hold about 40% of all rows: scale so the total is about `share` of every row.
    params = {"pct_update": pct * 1.25, "pct_soft": pct * 0.5, "pct_insert": pct * 0.75, "n_hard": 5}
    touched = {}
    with psycopg.connect(source_url, autocommit=True) as conn:
        for name, statement in CHANGE_SQL.items():
            touched[name] = conn.execute(statement.format(**params)).rowcount
    return touched


def _same_counts(source_url: str, warehouse_url: str) -> bool:
    import psycopg

    from core.db import count_rows
    from sources.registry import TABLES

    with psycopg.connect(source_url) as src, psycopg.connect(warehouse_url) as wh:
        return all(count_rows(src, t.product, t.name) == count_rows(wh, t.raw_schema, t.name) for t in TABLES)


def _timed_sync(urls: dict, timings: dict | None = None) -> tuple[dict, float, int]:
    from assets.ingest.pipeline import sync_all

    wal_before = _wal_lsn(urls["source"])
    started = time.monotonic()
    results = sync_all(urls["source"], urls["warehouse"], timings=timings)
    return results, time.monotonic() - started, _wal_since(urls["source"], wal_before)


def decode_once_seconds(urls: dict) -> dict:
    """The server alone decoding the pending change stream once (what any client of this slot must wait
    for): pg_logical_slot_peek_binary_changes up to the flushed WAL, counted on the server, consuming
    nothing."""
    import psycopg

    from assets.ingest import state
    from core.db import database_name

    slot, publication = state.stream_names(database_name(urls["source"]), database_name(urls["warehouse"]))
    with psycopg.connect(urls["source"], autocommit=True) as conn:
        started = time.monotonic()
        messages, size = conn.execute(
            "SELECT count(*), coalesce(sum(octet_length(data)), 0) FROM pg_logical_slot_peek_binary_changes("
            "%s, pg_current_wal_flush_lsn(), NULL, 'proto_version', '1', 'publication_names', %s)",
            (slot, publication),
        ).fetchone()
        return {"seconds": round(time.monotonic() - started, 3), "messages": messages, "bytes": int(size)}


def main(argv: list[str]) -> dict:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    admin_src, admin_wh = _admin_url()
    tag = f"{os.getpid()}"
    names = {"source": f"bench_ingest_src_{tag}", "warehouse": f"bench_ingest_wh_{tag}", "limit": f"bench_ingest_lim_{tag}"}
    admins = {"source": admin_src, "warehouse": admin_wh, "limit": admin_wh}
    figures: dict = {"scale": {"users": args.users, "days": args.days, "seed": args.seed}}
    created: list[str] = []
    try:
        if args.reuse:
            kept, seconds = _kept_source(admin_src, args)
            figures["source"] = {"kept_database": kept, "generate_seconds": seconds}
            started = time.monotonic()
            _create(admin_src, names["source"], template=kept)
            created.append("source")
            figures["source"]["copy_seconds"] = round(time.monotonic() - started, 1)
        else:
            _create(admin_src, names["source"])
            created.append("source")
            figures["source"] = {"generate_seconds": _generate(_with_db(admin_src, names["source"]), args)}
        for key in ("warehouse", "limit"):
            _create(admins[key], names[key])
            created.append(key)
        urls = {key: _with_db(admins[key], name) for key, name in names.items()}

        log.info("(a) physical limit: plain COPY pipe")
        _checkpoint(admin_wh)
        limit = physical_limit(urls["source"], urls["limit"])
        figures["physical_limit"] = limit
        if not args.no_index_after:
            _drop(admin_wh, names["limit"])
            _create(admin_wh, names["limit"])
            _checkpoint(admin_wh)
            figures["physical_limit_index_after"] = physical_limit(urls["source"], urls["limit"], index_after=True)
        _drop(admin_wh, names["limit"])
        created.remove("limit")

        log.info("(b) Tessera full load tick")
        _checkpoint(admin_wh)
        full, full_seconds, full_wal = _timed_sync(urls)
        full_rows = sum(r["full_load_rows"] for r in full.values())
        full_bytes = sum(r["bytes"] for r in full.values())
        figures["full_load"] = {
            "rows": full_rows,
            "bytes": full_bytes,
            "seconds": round(full_seconds, 3),
            "load_seconds": round(sum(r["full_load_seconds"] for r in full.values()), 3),
            "rows_per_s": round(full_rows / full_seconds),
            "mb_per_s": round(full_bytes / full_seconds / 1e6, 2),
            "ratio_to_physical_limit": round((full_rows / full_seconds) / limit["rows_per_s"], 3),
            "target_ratio": ">= 0.8",
            "wal_bytes_written": full_wal,
            "lag_bytes_after": max(r["lag_bytes"] for r in full.values()),
        }

        log.info("(c) steady state: one more tick, then change about %.1f%% of the rows and time one tick",
                 args.change_share * 100)
        settle, settle_seconds, _ = _timed_sync(urls)
        touched = apply_changes(urls["source"], args.change_share)
        decode_once = decode_once_seconds(urls)
        phases: dict = {}
        incr, incr_seconds, incr_wal = _timed_sync(urls, phases)
        floor_seconds = decode_once["seconds"] + phases["apply_sql_s"]
        changes = {k: sum(r[k] for r in incr.values()) for k in ("inserted", "updated", "deleted")}
        figures["incremental"] = {
            "settle_tick_seconds": round(settle_seconds, 3),
            "settle_tick_changes": sum(r["inserted"] + r["updated"] + r["deleted"] for r in settle.values()),
            "source_rows_touched": touched,
            "changes_applied": changes,
            "share_of_rows": round(sum(changes.values()) / max(full_rows, 1), 4),
            "seconds": round(incr_seconds, 3),
            "rows_per_s": round(sum(changes.values()) / incr_seconds),
            "ratio_to_full_load": round(incr_seconds / full_seconds, 4),
            "target_ratio": "<= 0.05",
            "wal_bytes_during_tick": incr_wal,
            "phases": phases,
            # The server's share alone, with no client work at all: decoding the change once, and the
            # warehouse running the upserts/patches/deletes of this tick (timed inside it).
            "server_floor": {
                "decode_once": decode_once,
                "apply_sql_seconds": phases["apply_sql_s"],
                "seconds": round(floor_seconds, 3),
                "ratio_to_full_load": round(floor_seconds / full_seconds, 4),
            },
        }
        figures["converged_row_counts"] = _same_counts(urls["source"], urls["warehouse"])
        figures["row_count_metadata_exact"] = _row_counts_exact(urls["warehouse"], incr)
    finally:
        if not args.keep:
            for key in created:
                _drop(admins[key], names[key])
    print(json.dumps(figures, indent=2))
    return figures


def _row_counts_exact(warehouse_url: str, results: dict) -> bool:
    import psycopg

    from core.db import count_rows
    from sources.registry import get_table

    with psycopg.connect(warehouse_url) as wh:
        return all(
            r["row_count"] == count_rows(wh, get_table(q).raw_schema, get_table(q).name) for q, r in results.items()
        )
