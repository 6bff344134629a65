"""dbt read views: full `dbt run` of the stored models vs their refresh after ~1% of rows change, with the
ingest tick and the data tests timed apart, cold (a `dbt` subprocess per command) and warm (one
in-process session, assets/dbt/runner.py).

    tessera bench dbt [--users 2000] [--days 365] [--seed 7] [--change 0.01] [--repeat 3] [--keep] [--reuse]
                      [--verify]

Generates the dataset into a source/warehouse pair on the configured server (embedded by default) and
ingests it; with --reuse an existing pair (bench_dbt_app / bench_dbt_wh, kept from an earlier --reuse
or --keep run) is used as it stands, since generation at the default scale takes many minutes. Then:

- setup (untimed, one-time): the raw indexes and the raw change log's triggers (on-run-start hooks),
  and the views (`dbt run` of the view models; views read raw live and never need a refresh);
- cold: `dbt run --full-refresh` of the stored models in a subprocess (every incremental mart rebuilt
  from scratch); then a change (below) and one ingest tick (timed apart), and `dbt run` of the stored
  models in a subprocess. Each command pays dbt's start-up (imports, manifest load: about 3.5 s here);
- warm: a DbtSession parses the project once (session_start_s; its dbt threads keep one connection each
  per command, assets/dbt/kept_connections.py) and runs an untimed warm-up (a refresh
  with nothing to do: the first command in a process pays one-time costs), then in that process: `dbt
  run --full-refresh` of the stored models, `dbt test` of them, then --repeat times: another change and
  ingest tick, `dbt run` of the stored models (the refresh); then the tests, and --repeat - 1 more full
  runs. Full and refresh run like for like, each as one dbt invocation over the same kept manifest; the
  ratio is the median refresh over the median full run (each run's seconds are listed); one more
  refresh runs right after a CHECKPOINT (refresh_after_checkpoint_s: every page it modifies is written
  to the WAL whole once, as in a checkpoint cycle's first ticks);
- change: --change of the journal entries edited in the source (a tenth soft-deleted), a few users
  soft-deleted, attachments and tag links hard-deleted, a few study sessions and agent sessions
  hard-deleted (the hard deletes reach the marts through the raw change log);
- --verify: the refreshed marts are fingerprinted, rebuilt by a full run (warm), and compared.

Every dbt command runs with --no-write-json, as in Dagster.
ratio_warm_refresh_to_full = median warm refresh run / median warm full run, wall clock (target <= 0.10);
ratio_cold_refresh_to_full the same for the subprocess runs; warm.ratio_refresh_with_tick_to_full also
counts the ingest tick; *.ratio_dbt_execution_to_full compares dbt's own elapsed time of the two runs.
Per-node seconds are dbt's execution time of each model and hook. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

SOURCE_DB, WAREHOUSE_DB = "bench_dbt_app", "bench_dbt_wh"
STORED = ["--exclude", "config.materialized:view"]
VOLATILE_COLUMNS = {"computed_at", "_ingested_at"}  # differ between a refresh and a rebuild by design
# Columns relative to the moment of reading (views and tables stamped with now()): never comparable between two reads.
READ_TIME_COLUMNS = {"as_of", "assembled_at", "hours_to_expiry", "oldest_waiting_age_seconds"}


def _admin(server):
    """An autocommit connection to the server's maintenance database."""
    import psycopg

    return psycopg.connect(server.url(), autocommit=True)


def _fresh_databases(tag: str) -> tuple[str, str, object]:
    from orchestration.embedded import ensure_embedded_server
    from orchestration.settings import Settings
    from sources.migrate import apply_migrations

    server = ensure_embedded_server(Settings.from_env())
    src, wh = f"bench_{tag}_app", f"bench_{tag}_wh"
    with _admin(server) as admin:
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
    with _admin(server) as admin:
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
    with _admin(server) as admin:
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
        picked = [r[0] for r in conn.execute(  # live entries of live users: what the app edits
            "select e.id from mindflow.journal_entries e join mindflow.users u on u.id = e.user_id "
            "where e.deleted_at is null and u.deleted_at is null order by random() limit %s", (n,))]
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


def _wal(admin) -> tuple[int, float]:
    """(full-page images, bytes) the server has written to the WAL so far."""
    fpi, size = admin.execute("select wal_fpi, wal_bytes from pg_stat_wal").fetchone()
    return int(fpi), float(size)


def _log_rows(warehouse_url: str) -> dict:
    """Rows in the raw change log by op (pruned at each run's start once every mart consumed them)."""
    import psycopg

    with psycopg.connect(warehouse_url) as conn:
        return dict(conn.execute("select op, count(*) from tessera_meta.raw_deletions group by op").fetchall())


def mart_fingerprints(warehouse_url: str, volatile: set[str] = VOLATILE_COLUMNS) -> dict[str, dict]:
    """Row count and an order-independent md5 of every mart (`volatile` and read-time columns left out)."""
    import psycopg
    from psycopg import sql

    out = {}
    with psycopg.connect(warehouse_url) as conn:
        marts = [r[0] for r in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1")]
        for mart in marts:
            cols = [r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = 'marts' and table_name = %s "
                "order by ordinal_position", (mart,)) if r[0] not in volatile | READ_TIME_COLUMNS]
            query = sql.SQL("select count(*), md5(coalesce(string_agg(h, '' order by h), '')) "
                            "from (select md5(row({cols})::text) as h from {t}) x").format(
                cols=sql.SQL(", ").join(sql.Identifier(c) for c in cols), t=sql.Identifier("marts", mart))
            rows, digest = conn.execute(query).fetchone()
            out[mart] = {"rows": rows, "md5": digest}
    return out


def _warm_run(session, args: list[str]) -> tuple[float, dict, list[str]]:
    """Seconds for `dbt <args>` in the warm session, per-node seconds (and dbt's own elapsed time as
    dbt_execution_s), and the marts that logged a forced rebuild."""
    forced: list[str] = []

    def watch(event) -> None:
        if "rebuilding every key" in getattr(event.info, "msg", ""):
            forced.append(event.info.msg.split(":")[0])

    run = session.invoke(args, callbacks=[watch])
    nodes: dict = {n.name if n.resource_type != "operation" else n.unique_id.split(".")[-1]: round(n.seconds, 2)
                   for n in run.nodes.values()}
    if run.execution_s is not None:
        nodes["dbt_execution_s"] = round(run.execution_s, 2)
    return round(run.seconds, 2), nodes, forced


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="tessera bench dbt")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--change", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=3, help="warm refreshes (and full runs) to take the median of")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    parser.add_argument("--reuse", action="store_true",
                        help="use the kept bench databases as they stand (create and keep them when absent)")
    parser.add_argument("--verify", action="store_true",
                        help="after the refresh, rebuild from scratch and compare every mart")
    args = parser.parse_args(argv)
    repeat = max(1, args.repeat)

    from assets.dbt.project import ensure_manifest, run_dbt
    from assets.dbt.runner import DbtSession
    from assets.ingest.pipeline import sync_all
    from sources.generator import generate

    ensure_manifest()
    figures: dict = {"users": args.users, "days": args.days, "seed": args.seed, "change_share": args.change}
    reused = _reusable("dbt") if args.reuse else None
    if reused:
        source_url, warehouse_url, server = reused
        figures["reused"] = True
        sync_all(source_url, warehouse_url)  # converge whatever an earlier run left behind
        # every run soft-deletes a few users for good: a pair kept for many runs drifts from the
        # generated dataset (and its full rebuild shrinks), which this shows
        import psycopg

        with psycopg.connect(source_url) as conn:
            live, generated = conn.execute(
                "select count(*) filter (where deleted_at is null), count(*) from mindflow.users").fetchone()
        figures["reused_live_users"] = live
        if live < 0.9 * generated:  # the refreshes cost the same, the full rebuild less: the ratio skews
            print(f"bench dbt: the reused dataset has {live} live users of the {generated} generated; "
                  "regenerate it (without --reuse) for figures at full size", file=sys.stderr)
    else:
        source_url, warehouse_url, server = _fresh_databases("dbt")
        figures["reused"] = False
    keep = args.keep or args.reuse
    session = None
    try:
        if not reused:
            t = time.perf_counter()
            generate(source_url, users=args.users, days=args.days, seed=args.seed)
            figures["generate_s"] = round(time.perf_counter() - t, 2)
            t = time.perf_counter()
            sync_all(source_url, warehouse_url)
            figures["initial_ingest_s"] = round(time.perf_counter() - t, 2)

        # warm dbt's parse cache for this environment, so no cold run pays a full parse
        run_dbt(["parse", "--quiet"], url=warehouse_url, check=True)
        # one-time setup before timing (on-run-start hooks): raw indexes, the raw change log's triggers
        figures["raw_index_setup_s"], _ = _timed_dbt(["run-operation", "tessera_ensure_raw_indexes"], warehouse_url)
        figures["deletion_log_setup_s"], _ = _timed_dbt(["run-operation", "tessera_ensure_deletion_log"], warehouse_url)
        figures["views_run_s"], _ = _timed_dbt(["run", "--select", "config.materialized:view"], warehouse_url)

        # cold: one `dbt` subprocess per command (start-up, imports and manifest load each time)
        cold: dict = {}
        cold["full_run_s"], full_nodes = _timed_dbt(["run", "--full-refresh", *STORED], warehouse_url)
        cold["full_run_nodes_s"] = {k: v for k, v in full_nodes.items() if not isinstance(v, float) or v >= 0.5}
        cold["changes"] = change_source(source_url, args.change, args.seed)
        t = time.perf_counter()
        sync_all(source_url, warehouse_url)
        cold["tick_ingest_s"] = round(time.perf_counter() - t, 2)
        cold["tick_change_log_rows"] = _log_rows(warehouse_url)
        refresh = ["run", *STORED]
        cold["refresh_run_s"], tick_nodes = _timed_dbt(refresh, warehouse_url)
        cold["refresh_run_nodes_s"] = tick_nodes
        cold["ratio_refresh_run_to_full"] = round(cold["refresh_run_s"] / cold["full_run_s"], 3)
        full_exec, tick_exec = full_nodes.get("dbt_execution_s"), tick_nodes.get("dbt_execution_s")
        if full_exec and tick_exec:
            cold["ratio_dbt_execution_to_full"] = round(tick_exec / full_exec, 3)
        figures["cold"] = cold

        # warm: one in-process session (parsed once), both runs like for like
        t = time.perf_counter()
        session = DbtSession(warehouse_url)
        warm: dict = {"session_start_s": round(time.perf_counter() - t, 2)}
        # untimed warm-up: the session's first command pays one-time costs (dbt's lazy imports, macro
        # templates compiled once per process); here a refresh with nothing to do (the marts are current)
        warm["warmup_run_s"], _, _ = _warm_run(session, ["run", *STORED])
        fulls, full_execs, refreshes, refresh_execs, ticks = [], [], [], [], []
        seconds, full_nodes, _ = _warm_run(session, ["run", "--full-refresh", *STORED])
        fulls.append(seconds)
        full_execs.append(full_nodes.get("dbt_execution_s"))
        warm["full_run_nodes_s"] = full_nodes
        warm["full_test_s"], _, _ = _warm_run(session, ["test", *STORED])
        for i in range(repeat):
            changes = change_source(source_url, args.change, args.seed + 1 + i)
            t = time.perf_counter()
            sync_all(source_url, warehouse_url)
            ticks.append(round(time.perf_counter() - t, 2))
            if i == 0:
                warm["changes"] = changes
                warm["tick_change_log_rows"] = _log_rows(warehouse_url)
            seconds, tick_nodes, forced = _warm_run(session, refresh)
            refreshes.append(seconds)
            refresh_execs.append(tick_nodes.get("dbt_execution_s"))
            if i == 0:
                warm["refresh_run_nodes_s"] = tick_nodes
            if forced:
                warm.setdefault("forced_rebuild", []).extend(forced)
        # one more refresh right after a CHECKPOINT: every page it modifies then goes to the WAL whole
        # (a full-page image), as when ticks touch pages no earlier write of the checkpoint cycle
        # touched; the refreshes above mostly modify pages the full rebuild wrote since the server's
        # last checkpoint, which need no image
        change_source(source_url, args.change, args.seed + 1 + repeat)
        sync_all(source_url, warehouse_url)
        with _admin(server) as admin:
            admin.execute("checkpoint")
            wal_before = _wal(admin)
        warm["refresh_after_checkpoint_s"], _, _ = _warm_run(session, refresh)
        with _admin(server) as admin:
            wal_after = _wal(admin)
        warm["refresh_after_checkpoint_wal"] = {"full_page_images": wal_after[0] - wal_before[0],
                                                "mb": round((wal_after[1] - wal_before[1]) / 1e6, 1)}
        # the marts as the refreshes left them, before the tests and any later full run
        refreshed = mart_fingerprints(warehouse_url) if args.verify else None
        warm["refresh_test_s"], _, _ = _warm_run(session, ["test", *STORED])
        for _ in range(repeat - 1):
            seconds, nodes, _ = _warm_run(session, ["run", "--full-refresh", *STORED])
            fulls.append(seconds)
            full_execs.append(nodes.get("dbt_execution_s"))
        warm["full_runs_s"], warm["refresh_runs_s"], warm["tick_ingest_runs_s"] = fulls, refreshes, ticks
        warm["full_run_s"], warm["refresh_run_s"] = statistics.median(fulls), statistics.median(refreshes)
        warm["tick_ingest_s"] = statistics.median(ticks)
        warm["ratio_refresh_run_to_full"] = round(warm["refresh_run_s"] / warm["full_run_s"], 3)
        warm["ratio_refresh_runs_to_median_full"] = [round(r / warm["full_run_s"], 3) for r in refreshes]
        warm["ratio_refresh_after_checkpoint_to_full"] = round(warm["refresh_after_checkpoint_s"] / warm["full_run_s"], 3)
        warm["ratio_refresh_with_tick_to_full"] = round(
            (warm["tick_ingest_s"] + warm["refresh_run_s"]) / warm["full_run_s"], 3)
        if all(full_execs) and all(refresh_execs):
            warm["ratio_dbt_execution_to_full"] = round(
                statistics.median(refresh_execs) / statistics.median(full_execs), 3)
        figures["warm"] = warm
        figures["ratio_warm_refresh_to_full"] = warm["ratio_refresh_run_to_full"]
        figures["ratio_cold_refresh_to_full"] = cold["ratio_refresh_run_to_full"]
        figures["target_ratio"] = 0.10

        if args.verify:
            figures["verify_full_run_s"], _, _ = _warm_run(session, ["run", "--full-refresh", *STORED])
            rebuilt = mart_fingerprints(warehouse_url)
            figures["verify_marts_equal"] = refreshed == rebuilt
            figures["verify_differs"] = sorted(m for m in rebuilt if refreshed.get(m) != rebuilt[m])
        figures["mart_rows"] = {m: f["rows"] for m, f in mart_fingerprints(warehouse_url).items()}
    finally:
        if session is not None:
            session.close()
        if not keep:
            _drop(server, [SOURCE_DB, WAREHOUSE_DB])
    print(json.dumps(figures, indent=2, default=str))
    return figures
