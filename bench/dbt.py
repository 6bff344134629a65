"""dbt read views: full `dbt run` of the stored models vs their refresh after ~1% of rows change, with the
ingest tick and the data tests timed apart.

    tessera bench dbt [--users 2000] [--days 365] [--seed 7] [--change 0.01] [--keep] [--reuse] [--verify]

Generates the dataset into a source/warehouse pair on the configured server (embedded by default) and
ingests it; with --reuse an existing pair (bench_dbt_app / bench_dbt_wh, kept from an earlier --reuse
or --keep run) is used as it stands, since generation at the default scale takes many minutes. Then:

- setup (untimed, one-time): the raw indexes and the raw change log's triggers (on-run-start hooks),
  and the views (`dbt run` of the view models; views read raw live and never need a refresh);
- full: `dbt run --full-refresh` of the stored models (every incremental mart rebuilt from scratch),
  then `dbt test` (data tests) timed separately;
- change: --change of the journal entries edited in the source (a tenth soft-deleted), a few users
  soft-deleted, attachments and tag links hard-deleted, a few study sessions and agent sessions
  hard-deleted (the hard deletes reach the marts through the raw change log);
- refresh: one ingest tick (timed apart) + `dbt run` of the stored models, then their data tests,
  timed separately (in Dagster they are asset checks);
- --verify: the refreshed marts are fingerprinted, rebuilt by a second full run, and compared.

Both dbt runs are like for like (`dbt run` of the same models, parse cache warm, --no-write-json as
in Dagster).
ratio_dbt_run_to_full = refresh run / full run, wall clock (target <= 0.10); ratio_refresh_to_full also
counts the ingest tick; ratio_dbt_execution_to_full compares dbt's own execution time of the two runs
(what is left once dbt's fixed per-invocation cost, about 3.5 s here, is set aside). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import time

SOURCE_DB, WAREHOUSE_DB = "bench_dbt_app", "bench_dbt_wh"
STORED = ["--exclude", "config.materialized:view"]
VOLATILE_COLUMNS = {"computed_at", "_ingested_at"}  # differ between a refresh and a rebuild by design


def _fresh_databases(tag: str) -> tuple[str, str, object]:
    import psycopg

    from orchestration.embedded import ensure_embedded_server
    from orchestration.settings import Settings
    from sources.migrate import apply_migrations

    server = ensure_embedded_server(Settings.from_env())
    src, wh = f"bench_{tag}_app", f"bench_{tag}_wh"
    with psycopg.connect(server.url(), autocommit=True) as admin:
        for name in (src, wh):
            for (slot,) in admin.execute("select slot_name from pg_replication_slots where database = %s", (name,)).fetchall():
                admin.execute("select pg_drop_replication_slot(%s)", (slot,))
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    apply_migrations(server.url(src))
    return server.url(src), server.url(wh), server


def _reusable(tag: str) -> tuple[str, str, object] | None:
    """The kept pair when both databases exist and the warehouse holds ingested journal entries."""
    import psycopg

    from orchestration.embedded import ensure_embedded_server
    from orchestration.settings import Settings

    server = ensure_embedded_server(Settings.from_env())
    src, wh = f"bench_{tag}_app", f"bench_{tag}_wh"
    with psycopg.connect(server.url(), autocommit=True) as admin:
        have = {r[0] for r in admin.execute("select datname from pg_database where datname = any(%s)", ([src, wh],))}
    if have != {src, wh}:
        return None
    with psycopg.connect(server.url(wh)) as conn:
        if conn.execute("select to_regclass('raw_mindflow.journal_entries') is null").fetchone()[0]:
            return None
        if not conn.execute("select exists (select 1 from raw_mindflow.journal_entries)").fetchone()[0]:
            return None
    return server.url(src), server.url(wh), server


def _drop(server, names) -> None:
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as admin:
        for name in names:
            for (slot,) in admin.execute("select slot_name from pg_replication_slots where database = %s", (name,)).fetchall():
                admin.execute("select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name = %s and active_pid is not null", (slot,))
                admin.execute("select pg_drop_replication_slot(%s)", (slot,))
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def change_source(source_url: str, share: float, seed: int) -> dict:
    """Edit `share` of the live journal entries (1 in 10 of them soft-deleted), soft-delete a few users,
    hard-delete a few attachments. Returns the counts."""
    import psycopg

    with psycopg.connect(source_url, autocommit=True) as conn:
        conn.execute("select setseed(%s)", (((seed % 1000) / 1000.0),))
        total = conn.execute("select count(*) from mindflow.journal_entries").fetchone()[0]
        n = max(1, int(total * share))
        picked = [r[0] for r in conn.execute(
            "select id from mindflow.journal_entries where deleted_at is null order by random() limit %s", (n,))]
        cut = max(1, n // 10)
        conn.execute("update mindflow.journal_entries set deleted_at = now() where id = any(%s)", (picked[:cut],))
        conn.execute("update mindflow.journal_entries set word_count = word_count + 1, title = title || ' (edited)' "
                     "where id = any(%s)", (picked[cut:],))
        users = [r[0] for r in conn.execute(
            "select id from mindflow.users where deleted_at is null order by random() limit greatest(1, %s)",
            (int(n / 1000),))]
        conn.execute("update mindflow.users set deleted_at = now() where id = any(%s)", (users,))
        atts = conn.execute("delete from mindflow.attachments where id in (select id from mindflow.attachments "
                            "order by random() limit greatest(1, %s))", (n // 50,)).rowcount
        links = conn.execute("delete from mindflow.journal_entry_tags where id in (select id from "
                             "mindflow.journal_entry_tags order by random() limit greatest(1, %s))", (n // 50,)).rowcount
        study = conn.execute("delete from coach.study_sessions where id in (select id from coach.study_sessions "
                             "order by random() limit greatest(1, %s))", (n // 100,)).rowcount
        sessions = [r[0] for r in conn.execute(
            "select agent_session_id from devassist.agent_sessions order by random() limit greatest(1, %s)", (n // 500,))]
        conn.execute("delete from devassist.governance_events where agent_session_id = any(%s)", (sessions,))
        agent = conn.execute("delete from devassist.agent_sessions where agent_session_id = any(%s)", (sessions,)).rowcount
    return {"entries_total": total, "entries_edited": n - cut, "entries_soft_deleted": cut,
            "users_soft_deleted": len(users), "attachments_hard_deleted": atts, "tag_links_hard_deleted": links,
            "study_sessions_hard_deleted": study, "agent_sessions_hard_deleted": agent}


def _timed_dbt(args: list[str], url: str) -> tuple[float, dict]:
    """Seconds for `dbt <args>`, and per-node seconds from dbt's JSON log events. Runs with
    --no-write-json, as Dagster's dbt assets do: writing manifest.json and run_results.json after
    every invocation costs about two seconds, a fixed cost that refreshes need not pay."""
    from assets.dbt.project import run_dbt

    t = time.perf_counter()
    result = run_dbt([*args, "--no-write-json", "--log-format", "json"], url=url, check=True)
    seconds = round(time.perf_counter() - t, 2)
    nodes = {}
    for line in result.stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        data = event.get("data", {})
        if event.get("info", {}).get("name") in ("LogModelResult", "LogHookEndLine") and "execution_time" in data:
            name = data.get("node_info", {}).get("node_name") or data.get("statement", "hook")
            nodes[name] = round(float(data["execution_time"]), 2)
        if event.get("info", {}).get("name") == "FinishedRunningStats" and "execution_time" in data:
            nodes["dbt_execution_s"] = round(float(data["execution_time"]), 2)  # in-process: after startup/parse
        if "rebuilding every key" in event.get("info", {}).get("msg", ""):
            nodes.setdefault("forced_rebuild", []).append(event["info"]["msg"].split(":")[0])
    return seconds, nodes


def _log_rows(warehouse_url: str) -> dict:
    """Rows in the raw change log by op (pruned at each run's start once every mart consumed them)."""
    import psycopg

    with psycopg.connect(warehouse_url) as conn:
        return dict(conn.execute("select op, count(*) from tessera_meta.raw_deletions group by op").fetchall())


def mart_fingerprints(warehouse_url: str) -> dict[str, dict]:
    """Row count and an order-independent md5 of every mart (volatile columns left out)."""
    import psycopg
    from psycopg import sql

    out = {}
    with psycopg.connect(warehouse_url) as conn:
        marts = [r[0] for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1")]
        for mart in marts:
            cols = [r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = 'marts' and table_name = %s "
                "order by ordinal_position", (mart,)) if r[0] not in VOLATILE_COLUMNS]
            query = sql.SQL("select count(*), md5(coalesce(string_agg(h, '' order by h), '')) "
                            "from (select md5(row({cols})::text) as h from {t}) x").format(
                cols=sql.SQL(", ").join(sql.Identifier(c) for c in cols), t=sql.Identifier("marts", mart))
            rows, digest = conn.execute(query).fetchone()
            out[mart] = {"rows": rows, "md5": digest}
    return out


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="tessera bench dbt")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--change", type=float, default=0.01)
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    parser.add_argument("--reuse", action="store_true",
                        help="use the kept bench databases as they stand (create and keep them when absent)")
    parser.add_argument("--verify", action="store_true",
                        help="after the refresh, rebuild from scratch and compare every mart")
    args = parser.parse_args(argv)

    from assets.dbt.project import ensure_manifest, run_dbt
    from assets.ingest.pipeline import sync_all
    from sources.generator import generate

    ensure_manifest()
    figures: dict = {"users": args.users, "days": args.days, "seed": args.seed, "change_share": args.change}
    reused = _reusable("dbt") if args.reuse else None
    if reused:
        source_url, warehouse_url, server = reused
        figures["reused"] = True
        sync_all(source_url, warehouse_url)  # converge whatever an earlier run left behind
    else:
        source_url, warehouse_url, server = _fresh_databases("dbt")
        figures["reused"] = False
    keep = args.keep or args.reuse
    try:
        if not reused:
            t = time.perf_counter()
            generate(source_url, users=args.users, days=args.days, seed=args.seed)
            figures["generate_s"] = round(time.perf_counter() - t, 2)
            t = time.perf_counter()
            sync_all(source_url, warehouse_url)
            figures["initial_ingest_s"] = round(time.perf_counter() - t, 2)

        # warm dbt's parse cache for this environment, so neither timed run pays a full parse
        run_dbt(["parse", "--quiet"], url=warehouse_url, check=True)
        # one-time setup before timing (on-run-start hooks): raw indexes, the raw change log's triggers
        figures["raw_index_setup_s"], _ = _timed_dbt(["run-operation", "tessera_ensure_raw_indexes"], warehouse_url)
        figures["deletion_log_setup_s"], _ = _timed_dbt(["run-operation", "tessera_ensure_deletion_log"], warehouse_url)
        figures["views_run_s"], _ = _timed_dbt(["run", "--select", "config.materialized:view"], warehouse_url)

        figures["full_run_s"], full_nodes = _timed_dbt(["run", "--full-refresh", *STORED], warehouse_url)
        figures["full_run_nodes_s"] = {k: v for k, v in full_nodes.items() if not isinstance(v, float) or v >= 0.5}
        figures["full_test_s"], _ = _timed_dbt(["test"], warehouse_url)

        figures["changes"] = change_source(source_url, args.change, args.seed)
        t = time.perf_counter()
        sync_all(source_url, warehouse_url)
        figures["tick_ingest_s"] = round(time.perf_counter() - t, 2)
        figures["tick_change_log_rows"] = _log_rows(warehouse_url)
        figures["tick_dbt_run_s"], tick_nodes = _timed_dbt(["run", *STORED], warehouse_url)
        figures["tick_dbt_run_nodes_s"] = tick_nodes
        figures["tick_test_s"], _ = _timed_dbt(["test", *STORED], warehouse_url)

        figures["refresh_s"] = round(figures["tick_ingest_s"] + figures["tick_dbt_run_s"], 2)
        figures["ratio_refresh_to_full"] = round(figures["refresh_s"] / figures["full_run_s"], 3)
        figures["ratio_dbt_run_to_full"] = round(figures["tick_dbt_run_s"] / figures["full_run_s"], 3)
        # the same two runs without dbt's fixed per-invocation cost (process start, imports, manifest load)
        full_exec, tick_exec = full_nodes.get("dbt_execution_s"), tick_nodes.get("dbt_execution_s")
        if full_exec and tick_exec:
            figures["ratio_dbt_execution_to_full"] = round(tick_exec / full_exec, 3)
        figures["target_ratio"] = 0.10

        if args.verify:
            refreshed = mart_fingerprints(warehouse_url)
            figures["verify_full_run_s"], _ = _timed_dbt(["run", "--full-refresh", *STORED], warehouse_url)
            rebuilt = mart_fingerprints(warehouse_url)
            figures["verify_marts_equal"] = refreshed == rebuilt
            figures["verify_differs"] = sorted(m for m in rebuilt if refreshed.get(m) != rebuilt[m])
        figures["mart_rows"] = {m: f["rows"] for m, f in mart_fingerprints(warehouse_url).items()}
    finally:
        if not keep:
            _drop(server, [SOURCE_DB, WAREHOUSE_DB])
    print(json.dumps(figures, indent=2, default=str))
    return figures
