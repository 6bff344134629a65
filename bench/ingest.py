"""`tessera bench ingest [--users 2000 --days 365 --seed 1]`: ingest speed against the physical limit.

Into fresh databases on the embedded server (or the servers of TESSERA_SOURCE_URL/WAREHOUSE_URL):
  (a) physical limit: plain binary COPY (SELECT ...) TO STDOUT piped into COPY ... FROM STDIN, every
      registry table, into a scratch database whose tables have the raw layout (same columns, same PK);
  (b) Tessera's full load: sync_all on an empty warehouse (slot and publication set-up included);
      rows/s, MB/s and the ratio to (a) (target >= 0.8);
  (c) about 1% of the rows changed (updates, soft deletes, inserts, a few cascading hard deletes), then
      one incremental sync_all, as a ratio of its time to the full load's (target <= 0.05).
Prints the figures as JSON (and returns them).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time

log = logging.getLogger(__name__)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tessera bench ingest")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--change-share", type=float, default=0.01, help="share of rows changed before (c)")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    return parser.parse_args(argv)


def _with_db(url: str, name: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    return make_conninfo(**{**conninfo_to_dict(url), "dbname": name})


def _admin_url() -> tuple[str, str]:
    from orchestration.settings import Settings

    settings = Settings.from_env()
    source, warehouse = settings.database_urls()
    return _with_db(source, "postgres"), _with_db(warehouse, "postgres")


def _create(admin: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop(admin: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin, autocommit=True) as conn:
        for (slot,) in conn.execute("SELECT slot_name FROM pg_replication_slots WHERE database = %s", (name,)).fetchall():
            conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def physical_limit(source_url: str, target_url: str) -> dict:
    """(a): plain streamed COPY of every registry table into same-shaped tables of another database."""
    import psycopg
    from psycopg import sql

    from assets.ingest import drift
    from orchestration.db import columns_of
    from sources.registry import TABLES

    rows = nbytes = 0
    started = time.monotonic()
    with psycopg.connect(source_url) as src, psycopg.connect(target_url) as dst:
        for table in TABLES:
            cols = columns_of(src, table.product, table.name)
            names = [c for c, _ in cols]
            dst.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(table.raw_schema)))
            dst.execute(drift.create_raw_table(table.raw_schema, table.name, cols, table.key))
            out = sql.SQL("COPY (SELECT {} FROM {}.{}) TO STDOUT (FORMAT binary)").format(
                sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(table.product), sql.Identifier(table.name)
            )
            into = sql.SQL("COPY {}.{} ({}) FROM STDIN (FORMAT binary)").format(
                sql.Identifier(table.raw_schema), sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
            )
            with src.cursor() as oc, dst.cursor() as ic:
                with oc.copy(out) as reader, ic.copy(into) as writer:
                    for chunk in reader:
                        writer.write(chunk)
                        nbytes += len(chunk)
                rows += ic.rowcount
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

    from orchestration.db import count_rows
    from sources.registry import TABLES

    with psycopg.connect(source_url) as src, psycopg.connect(warehouse_url) as wh:
        return all(count_rows(src, t.product, t.name) == count_rows(wh, t.raw_schema, t.name) for t in TABLES)


def main(argv: list[str]) -> dict:
    import psycopg

    from assets.ingest.pipeline import sync_all
    from sources.generator import generate
    from sources.migrate import apply_migrations

    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    admin_src, admin_wh = _admin_url()
    tag = f"{os.getpid()}"
    names = {"source": f"bench_ingest_src_{tag}", "warehouse": f"bench_ingest_wh_{tag}", "limit": f"bench_ingest_lim_{tag}"}
    admins = {"source": admin_src, "warehouse": admin_wh, "limit": admin_wh}
    for key, name in names.items():
        _create(admins[key], name)
    urls = {key: _with_db(admins[key], name) for key, name in names.items()}
    figures: dict = {"scale": {"users": args.users, "days": args.days, "seed": args.seed}}
    try:
        apply_migrations(urls["source"])
        started = time.monotonic()
        generate(urls["source"], users=args.users, days=args.days, seed=args.seed)
        figures["generate_seconds"] = round(time.monotonic() - started, 1)
        with psycopg.connect(urls["source"], autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        log.info("(a) physical limit: plain COPY pipe")
        limit = physical_limit(urls["source"], urls["limit"])
        figures["physical_limit"] = limit

        log.info("(b) Tessera full load")
        started = time.monotonic()
        full = sync_all(urls["source"], urls["warehouse"])
        full_seconds = time.monotonic() - started
        full_rows = sum(r["full_load_rows"] for r in full.values())
        full_bytes = sum(r["bytes"] for r in full.values())
        figures["full_load"] = {
            "rows": full_rows,
            "bytes": full_bytes,
            "seconds": round(full_seconds, 3),
            "rows_per_s": round(full_rows / full_seconds),
            "mb_per_s": round(full_bytes / full_seconds / 1e6, 2),
            "ratio_to_physical_limit": round((full_rows / full_seconds) / limit["rows_per_s"], 3),
            "target_ratio": ">= 0.8",
        }

        log.info("(c) change about %.1f%% of the rows, then one incremental tick", args.change_share * 100)
        touched = apply_changes(urls["source"], args.change_share)
        started = time.monotonic()
        incr = sync_all(urls["source"], urls["warehouse"])
        incr_seconds = time.monotonic() - started
        changes = {k: sum(r[k] for r in incr.values()) for k in ("inserted", "updated", "deleted")}
        figures["incremental"] = {
            "source_rows_touched": touched,
            "changes_applied": changes,
            "share_of_rows": round(sum(changes.values()) / max(full_rows, 1), 4),
            "seconds": round(incr_seconds, 3),
            "ratio_to_full_load": round(incr_seconds / full_seconds, 4),
            "target_ratio": "<= 0.05",
        }
        figures["converged_row_counts"] = _same_counts(urls["source"], urls["warehouse"])
    finally:
        if not args.keep:
            for key, name in names.items():
                _drop(admins[key], name)
    print(json.dumps(figures, indent=2))
    return figures
