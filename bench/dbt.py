"""dbt run the way Dagster runs it: a full rebuild of the stored models against their refresh after a
share of the source rows changed, timed by the wall clock and by dbt's own run_results.json.

    tessera bench dbt [--users 2000] [--days 365] [--seed 7] [--change 0.01] [--repeat 3] [--keep] [--reuse]
                      [--verify]

How dbt is invoked: through the very DbtCliResource the dbt assets use
(assets.dbt.definitions.defs.resources["dbt"]), outside an asset context, as
`dbt.cli(["build", ..., "--indirect-selection", "buildable"], raise_on_error=False, manifest=...)`
with the environment that assets/dbt/definitions.py's `_build` sets: the warehouse's TESSERA_DBT_*
variables and DBT_TARGET_PATH at its partial-parse directory (`partial_parse_target(env)`, whose
manifest.json, parsed for this warehouse, is the manifest passed). Its events are consumed as the
incremental marts' asset consumes them (`.stream().fetch_row_counts()
.fetch_column_metadata(with_column_lineage=False)`). So each command is a `dbt` subprocess started by
dagster-dbt, which copies the partial-parse file into the invocation's own target directory
(DBT_TARGET_PATH/<id>), and the wall time holds what a Dagster step pays around it (the adapter handle,
the event stream, the row counts). The differences from an asset run:
- the selection is passed as --select/--exclude (an asset context computes it from the asset's own);
- events get asset keys from dagster-dbt's default translator (the project's TesseraDbtTranslator turns
  code references on, which need the DbtProject only an asset context hands to the invocation);
- --no-write-json is left out, so dbt writes run_results.json (and manifest.json) into the invocation's
  target directory; the bench reads dbt's timings there and removes the directory;
- dbt's log lines, which dagster-dbt echoes to stdout (Dagster's compute log), go to /dev/null.

The dataset is generated into a source/warehouse pair (bench_dbt_app / bench_dbt_wh) on the embedded
server and ingested; with --reuse a pair kept by an earlier --keep or --reuse run is used as it stands
(generation at the default scale takes many minutes). Then:

- setup (untimed): `dbt build` of the views (config.materialized:view), which also runs the project's
  on-run-start hooks once, writes this warehouse's partial-parse file and loads dbt's adapter in this
  process, so that no timed command pays a one-time cost;
- --repeat times: full (`dbt build --full-refresh` of the stored models, i.e. everything but the views);
  then `change_source` (--change of the journal entries edited, a tenth of them soft-deleted, a few users
  soft-deleted, attachments, tag links, study sessions and agent sessions hard-deleted) and one ingest
  tick (timed apart: tick_ingest_s); then refresh: `dbt build` of the stored models downstream of the
  products with unconsumed change-feed rows (`--select source:raw_<product>+`), which is what Dagster
  builds: the ingest sensor selects the changed products, the ingest asset reports each of their tables,
  and the marts' eager automation requests what lies downstream (refresh_products, refresh_invocation);
- --verify: the refreshed marts are fingerprinted (row count and an order-independent md5 of each), rebuilt
  by one more full build, fingerprinted again and compared: verify.equal and the marts that differ.

For full and refresh (medians over the runs, each run listed):
  wall_s               the invocation through dagster-dbt, from cli() until its event stream ends;
  dbt_elapsed_s        run_results.json's elapsed_time (dbt's run after its start-up and parse);
  startup_share        (wall_s - dbt_elapsed_s) / wall_s;
  marts_execution_s    the sum of execution_time over the stored models (models materialized table or
                       incremental: the marts), with each listed under marts_s; tests and hooks apart.
ratio_marts_execution_refresh_to_full (the target: at most 0.15) and ratio_wall_refresh_to_full compare
the medians. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from contextlib import redirect_stdout
from typing import Any, Mapping

SOURCE_DB, WAREHOUSE_DB = "bench_dbt_app", "bench_dbt_wh"
STORED = ["--exclude", "config.materialized:view"]
VIEWS = ["--select", "config.materialized:view"]
DAGSTER_FLAGS = ["--indirect-selection", "buildable"]  # what the dbt assets pass (assets/dbt/definitions.py)
STORED_MATERIALIZATIONS = {"table", "incremental"}
FAILED_STATUSES = {"error", "fail", "runtime error", "skipped"}
TARGET_RATIO = 0.15  # the refresh's marts execution time over the full rebuild's
VOLATILE_COLUMNS = {"computed_at", "_ingested_at"}  # differ between a refresh and a rebuild by design
# Columns relative to the moment of reading (views and tables stamped with now()): never comparable between two reads.
READ_TIME_COLUMNS = {"as_of", "assembled_at", "hours_to_expiry", "oldest_waiting_age_seconds"}


def _admin(server):
    """An autocommit connection to the server's maintenance database."""
    import psycopg

    return psycopg.connect(server.url(), autocommit=True)


def _fresh_databases(tag: str) -> tuple[str, str, object]:
    from core.embedded import ensure_embedded_server
    from core.settings import Settings
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

    from core.embedded import ensure_embedded_server
    from core.settings import Settings

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


def dbt_timings(run_results: Mapping[str, Any], manifest_nodes: Mapping[str, Mapping[str, Any]]) -> dict:
    """dbt's own timings of one invocation (pure): run_results.json's elapsed_time, the execution_time of
    each stored model (materialized table or incremental, per the invocation's manifest nodes) and their
    sum, the tests' and hooks' sums, and the nodes that failed or were skipped."""
    marts: dict[str, float] = {}
    tests = hooks = 0.0
    failed = []
    for result in run_results["results"]:
        unique_id = result["unique_id"]
        seconds = float(result.get("execution_time") or 0.0)
        kind = unique_id.split(".", 1)[0]
        node = manifest_nodes.get(unique_id, {})
        if result.get("status") in FAILED_STATUSES:
            failed.append(unique_id)
        if kind == "model" and node.get("config", {}).get("materialized") in STORED_MATERIALIZATIONS:
            marts[node.get("name") or unique_id.rsplit(".", 1)[-1]] = round(seconds, 3)
        elif kind in ("test", "unit_test"):
            tests += seconds
        elif kind == "operation":
            hooks += seconds
    return {"dbt_elapsed_s": round(float(run_results["elapsed_time"]), 3),
            "marts_execution_s": round(sum(marts.values()), 3), "marts_s": dict(sorted(marts.items())),
            "tests_execution_s": round(tests, 3), "hooks_execution_s": round(hooks, 3),
            "nodes": len(run_results["results"]), "failed": sorted(failed)}


def ratio(part: float | None, whole: float | None) -> float | None:
    """part / whole to three places; None when either is missing or whole is not positive (pure)."""
    if part is None or whole is None or whole <= 0:
        return None
    return round(part / whole, 3)


def startup_share(wall_s: float, dbt_elapsed_s: float) -> float | None:
    """The share of the wall time spent outside dbt's own run: start-up, parse, event handling (pure)."""
    return ratio(wall_s - dbt_elapsed_s, wall_s)


def summarize(runs: list[dict]) -> dict:
    """Medians of the runs' wall, elapsed, marts, tests and hooks seconds and start-up share, with the
    per-mart seconds of the run nearest the median marts_execution_s, and the runs themselves (pure)."""
    keys = ("wall_s", "dbt_elapsed_s", "startup_share", "marts_execution_s", "tests_execution_s", "hooks_execution_s")
    out: dict = {k: round(statistics.median(r[k] for r in runs), 3) for k in keys}
    typical = min(runs, key=lambda r: abs(r["marts_execution_s"] - out["marts_execution_s"]))
    out["marts_s"] = typical["marts_s"]
    out["runs"] = [{k: r[k] for k in ("wall_s", "dbt_elapsed_s", "marts_execution_s")} for r in runs]
    return out


def compare_fingerprints(refreshed: Mapping[str, Any], rebuilt: Mapping[str, Any]) -> dict:
    """{"equal": bool, "differs": the marts whose fingerprint differs or that only one side has} (pure)."""
    differs = sorted(m for m in refreshed.keys() | rebuilt.keys() if refreshed.get(m) != rebuilt.get(m))
    return {"equal": not differs, "differs": differs}


def dagster_dbt_resource():
    """The DbtCliResource the dbt assets run with (one definition, read here, not rebuilt)."""
    from assets.dbt.definitions import defs

    return defs.resources["dbt"]


def run_as_dagster(dbt, args: list[str], warehouse_url: str) -> dict:
    """`dbt <args>` through dagster-dbt as the dbt assets run it (module docstring), against
    `warehouse_url`: the wall seconds and dbt's own timings (dbt_timings). Raises with dbt's errors
    when the command fails or a node fails or is skipped."""
    from assets.dbt.project import dbt_env, partial_parse_target, temporary_environ

    env = dbt_env(warehouse_url)
    parsed = partial_parse_target(env)
    # the manifest parsed for this warehouse: the project's target/manifest.json names the default
    # database in every relation, and dagster-dbt's row counts and column queries would then reach
    # across databases
    manifest = parsed / "manifest.json"
    environ = {**env, "DBT_TARGET_PATH": str(parsed)}
    with temporary_environ(environ), open(os.devnull, "w") as sink, redirect_stdout(sink):
        started = time.perf_counter()
        invocation = dbt.cli([*args, *DAGSTER_FLAGS], raise_on_error=False, manifest=manifest)
        for _ in invocation.stream().fetch_row_counts().fetch_column_metadata(with_column_lineage=False):
            pass
        wall = time.perf_counter() - started
        error = invocation.get_error()
    try:
        if error is not None:
            raise RuntimeError(f"dbt {' '.join(args)} failed: {error}")
        run_results = invocation.get_artifact("run_results.json")
        nodes = invocation.get_artifact("manifest.json")["nodes"]
    finally:
        shutil.rmtree(invocation.target_path, ignore_errors=True)
    timings = dbt_timings(run_results, nodes)
    if timings["failed"]:
        raise RuntimeError(f"dbt {' '.join(args)}: nodes failed or skipped: {', '.join(timings['failed'])}")
    return {"wall_s": round(wall, 3), **timings, "startup_share": startup_share(wall, timings["dbt_elapsed_s"])}


def refresh_selection(products: list[str]) -> list[str]:
    """The stored models downstream of the changed products' raw tables: what a Dagster refresh builds
    (the ingest sensor selects the products whose tables changed, the ingest asset reports each of
    their tables, and the marts' eager automation requests what lies downstream)."""
    if not products:
        return ["--select", "none_changed", *STORED]  # a selector that matches nothing
    # one --select value, its selectors separated by spaces (dagster-dbt reads one value per flag)
    return ["--select", " ".join(f"source:raw_{p}+" for p in sorted(products)), *STORED]


def changed_products(warehouse_url: str) -> list[str]:
    """The products with change-feed rows that some mart has not consumed yet."""
    import psycopg

    with psycopg.connect(warehouse_url) as conn:
        schemas = [r[0] for r in conn.execute(
            "select distinct split_part(f.table_name, '.', 1) from tessera_meta.change_feed f "
            "where f.position > (select coalesce(min(c.position), 0) from tessera_meta.feed_cursors c) "
            "order by 1").fetchall()]
    return [s.removeprefix("raw_") for s in schemas if s.startswith("raw_")]


def _tick(source_url: str, warehouse_url: str) -> float:
    """Seconds of one ingest tick."""
    from assets.ingest.pipeline import sync_all

    started = time.perf_counter()
    sync_all(source_url, warehouse_url)
    return round(time.perf_counter() - started, 3)


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="tessera bench dbt")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--change", type=float, default=0.01,
                        help="share of the journal entries changed before a refresh")
    parser.add_argument("--repeat", type=int, default=3, help="full rebuilds and refreshes to take the median of")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    parser.add_argument("--reuse", action="store_true",
                        help="use the kept bench databases as they stand (create and keep them when absent)")
    parser.add_argument("--verify", action="store_true",
                        help="after the last refresh, rebuild from scratch and compare every mart")
    args = parser.parse_args(argv)
    repeat = max(1, args.repeat)

    from assets.dbt.project import ensure_manifest
    from sources.generator import generate

    ensure_manifest()
    dbt = dagster_dbt_resource()
    figures: dict = {"users": args.users, "days": args.days, "seed": args.seed, "change_share": args.change,
                     "repeat": repeat, "invocation": ["dbt", "build", *DAGSTER_FLAGS, "[--full-refresh]", *STORED]}
    reused = _reusable("dbt") if args.reuse else None
    if reused:
        source_url, warehouse_url, server = reused
        figures["reused"] = True
        import psycopg

        # every run soft-deletes a few users for good: a pair kept for many runs drifts from the
        # generated dataset (and its full rebuild shrinks), which this shows
        with psycopg.connect(source_url) as conn:
            live, generated = conn.execute(
                "select count(*) filter (where deleted_at is null), count(*) from mindflow.users").fetchone()
        figures["reused_live_users"] = live
        if live < 0.9 * generated:
            print(f"bench dbt: the reused dataset has {live} live users of the {generated} generated; "
                  "regenerate it (without --reuse) for figures at full size", file=sys.stderr)
    else:
        source_url, warehouse_url, server = _fresh_databases("dbt")
        figures["reused"] = False
    keep = args.keep or args.reuse
    try:
        if reused:
            figures["initial_ingest_s"] = _tick(source_url, warehouse_url)  # converge what an earlier run left
        else:
            started = time.perf_counter()
            generate(source_url, users=args.users, days=args.days, seed=args.seed)
            figures["generate_s"] = round(time.perf_counter() - started, 2)
            figures["initial_ingest_s"] = _tick(source_url, warehouse_url)

        figures["setup_views_wall_s"] = run_as_dagster(dbt, ["build", *VIEWS], warehouse_url)["wall_s"]
        fulls, refreshes, ticks = [], [], []
        for i in range(repeat):
            fulls.append(run_as_dagster(dbt, ["build", "--full-refresh", *STORED], warehouse_url))
            changes = change_source(source_url, args.change, args.seed + i)
            if i == 0:
                figures["changes"] = changes
            ticks.append(_tick(source_url, warehouse_url))
            products = changed_products(warehouse_url)
            if i == 0:
                figures["refresh_products"] = products
                figures["refresh_invocation"] = ["dbt", "build", *DAGSTER_FLAGS, *refresh_selection(products)]
            refreshes.append(run_as_dagster(dbt, ["build", *refresh_selection(products)], warehouse_url))
        full, refresh = summarize(fulls), summarize(refreshes)
        refresh["tick_ingest_s"] = round(statistics.median(ticks), 3)
        figures["full"], figures["refresh"] = full, refresh
        figures["ratio_marts_execution_refresh_to_full"] = ratio(refresh["marts_execution_s"],
                                                                 full["marts_execution_s"])
        figures["ratio_wall_refresh_to_full"] = ratio(refresh["wall_s"], full["wall_s"])
        figures["ratio_dbt_elapsed_refresh_to_full"] = ratio(refresh["dbt_elapsed_s"], full["dbt_elapsed_s"])
        figures["target_ratio_marts_execution"] = TARGET_RATIO
        figures["meets_target"] = (figures["ratio_marts_execution_refresh_to_full"] is not None
                                   and figures["ratio_marts_execution_refresh_to_full"] <= TARGET_RATIO)

        if args.verify:
            refreshed = mart_fingerprints(warehouse_url)
            rebuild = run_as_dagster(dbt, ["build", "--full-refresh", *STORED], warehouse_url)
            figures["verify"] = {**compare_fingerprints(refreshed, mart_fingerprints(warehouse_url)),
                                 "full_wall_s": rebuild["wall_s"]}
        figures["mart_rows"] = {m: f["rows"] for m, f in mart_fingerprints(warehouse_url).items()}
    finally:
        if not keep:
            _drop(server, [SOURCE_DB, WAREHOUSE_DB])
    print(json.dumps(figures, indent=2, default=str))
    return figures
