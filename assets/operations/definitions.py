"""Operations area: erasure, retention and BI access as assets (group `operations`)."""

import dagster as dg

from assets.operations import bi_access, erasure, health, retention
from assets.resources import SourceDatabase, WarehouseDatabase
from sources.registry import get_table

ERASURES = dg.AssetKey(["tessera_meta", "erasures"])
RETENTION = dg.AssetKey(["tessera_meta", "retention_log"])
BI_ACCESS = dg.AssetKey(["tessera_meta", "bi_access"])
DB_HEALTH = dg.AssetKey(["tessera_meta", "db_health"])
# the ingest assets of the account tables whose soft deletes start an erasure (the registry names their copies)
ACCOUNT_TABLE_KEYS = [dg.AssetKey(get_table(f"{p}.{t}").asset_key) for p, t, _ in erasure.ACCOUNT_TABLES]


@dg.asset(
    key=ERASURES,
    group_name="operations",
    deps=ACCOUNT_TABLE_KEYS,
    automation_condition=dg.AutomationCondition.eager(),
    retry_policy=dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL),
    description="Erases every account deleted in the source from all derived stores (audit logs kept) "
    "and records each erasure in tessera_meta.erasures.",
)
def erasures(context: dg.AssetExecutionContext, warehouse: WarehouseDatabase) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        subjects = erasure.pending_subjects(conn)
        result = erasure.erase_subjects(conn, subjects, trigger="source_deletion", run_id=context.run_id)
        conn.commit()
    context.log.info("erased %s subjects, %s rows", len(subjects), result.total)
    return dg.MaterializeResult(metadata={
        "subjects_erased": len(subjects),
        "rows_removed": result.total,
        "by_table": dg.MetadataValue.json(result.rows_removed),
    })


@dg.asset_check(asset=ERASURES, description="No derived store still holds the id of an erased subject.")
def erased_subjects_are_gone(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        conn.execute(erasure.DDL)
        subjects = [r[0] for r in conn.execute(
            "SELECT DISTINCT subject_id FROM tessera_meta.erasures WHERE completed_at > now() - interval '1 day'"
        ).fetchall()]
        leftovers = {str(s): erasure.find_subject(conn, s) for s in subjects}
    leftovers = {s: where for s, where in leftovers.items() if where}
    return dg.AssetCheckResult(
        passed=not leftovers,
        metadata={"subjects_checked": len(subjects), "still_found": dg.MetadataValue.json(leftovers)},
    )


@dg.asset(
    key=RETENTION,
    group_name="operations",
    retry_policy=dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL),
    description="Applies the seeds' retention rules: the source tables' copies, through ingest (audit logs 7 years, application logs 30 days, "
    "API requests 90 days, coach audit 180 days, dialogue 365 days; the AI assistant's cleanup_old_data: governance "
    "events 7 years, user sessions 2 years, completed agent sessions 1 year) and, through the mood area, raw mood "
    "events (1 year) and activity events (6 months); reports what it removed (metadata and one "
    "tessera_meta.retention_log row per table and run). Run daily by the retention_daily schedule.",
)
def retention_log(context: dg.AssetExecutionContext, warehouse: WarehouseDatabase) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        removed = retention.apply_retention(conn)
        retention.record_run(conn, removed, context.run_id)
        conn.commit()
    rules = retention.rule_descriptions()
    context.log.info("retention removed %s rows", sum(removed.values()))
    return dg.MaterializeResult(metadata={
        "rows_removed": sum(removed.values()),
        "by_table": dg.MetadataValue.md("\n".join(["| table | removed |", "|---|---|"] +
                                                  [f"| {t} | {n} |" for t, n in removed.items()])),
        "rules": dg.MetadataValue.json({t: rules.get(t, "") for t in removed}),
        "report_table": dg.MetadataValue.text("tessera_meta.retention_log"),
    })


def _read_view_keys() -> list[dg.AssetKey]:
    """The marts and analytics tables the BI roles read: grants are applied after they are (re)built."""
    from assets.dbt.definitions import defs as dbt_defs
    from assets.mood.assets import ACTIVITY_EVENTS, MOOD_DAILY, MOOD_EVENTS, WEEKLY_ACTIVITY

    marts = sorted((k for k in dbt_defs.resolve_asset_graph().materializable_asset_keys if k.path[0] == "marts"),
                   key=lambda k: k.to_user_string())
    return [*marts, MOOD_EVENTS, ACTIVITY_EVENTS, MOOD_DAILY, WEEKLY_ACTIVITY]


@dg.asset(
    key=BI_ACCESS,
    group_name="operations",
    deps=_read_view_keys(),
    automation_condition=dg.AutomationCondition.on_cron("*/15 * * * *"),
    retry_policy=dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL),
    description="Read-only roles tessera_analyst and tessera_dashboard on marts and analytics only: "
    "dashboards see their user's rows (app.current_user_id) through row level security or the "
    "security-barrier views in schema dashboard; analysts see no private entry text or email "
    "(masked views in schema analyst).",
)
def bi_access_grants(warehouse: WarehouseDatabase) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        applied = bi_access.apply_bi_access(conn)
        conn.commit()
    return dg.MaterializeResult(metadata={
        "roles": ", ".join(applied["roles"]),
        "row_level_security": dg.MetadataValue.json(applied["row_level_security"]),
        "dashboard_shared": dg.MetadataValue.json(applied["dashboard_shared"]),
        "dashboard_views": dg.MetadataValue.json(applied["dashboard_views"]),
        "analyst_masked": dg.MetadataValue.json(applied["analyst_masked"]),
    })


@dg.asset(
    key=DB_HEALTH,
    group_name="operations",
    automation_condition=dg.AutomationCondition.on_cron("0 * * * *"),
    retry_policy=dg.RetryPolicy(max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL),
    description="Runs the AI assistant's db_health_check() (seed 003) on the source database every hour and "
    "records each metric (active connections, size, cache hit ratio) with the seed's status in tessera_meta.db_health.",
)
def db_health(context: dg.AssetExecutionContext, source: SourceDatabase,
              warehouse: WarehouseDatabase) -> dg.MaterializeResult:
    with source.connect() as src:
        metrics = health.run_health_check(src)
        database = src.info.dbname
    with warehouse.connect() as conn:
        health.record(conn, database, metrics, context.run_id)
        conn.commit()
    return dg.MaterializeResult(metadata={
        "database": database,
        "metrics": dg.MetadataValue.md(health.markdown(metrics)),
        **{m.metric: dg.MetadataValue.float(float(m.value)) for m in metrics},
        "unhealthy": dg.MetadataValue.json([m.metric for m in metrics if not m.healthy]),
    })


@dg.asset_check(asset=DB_HEALTH, description="Every metric of the latest db_health_check is within its threshold "
                "(ceilings for connections and size, a floor for the cache hit ratio).")
def db_health_within_thresholds(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        conn.execute(health.DDL)
        rows = conn.execute(
            """SELECT metric, value, threshold, seed_status, healthy FROM tessera_meta.db_health
               WHERE checked_at = (SELECT max(checked_at) FROM tessera_meta.db_health) ORDER BY metric""").fetchall()
    metrics = [health.HealthMetric(m, v, s, t) for m, v, t, s, _ in rows]
    return dg.AssetCheckResult(
        passed=bool(metrics) and all(m.healthy for m in metrics),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"metrics": dg.MetadataValue.md(health.markdown(metrics)) if metrics else "not run yet",
                  "unhealthy": dg.MetadataValue.json([m.metric for m in metrics if not m.healthy])},
    )


defs = dg.Definitions(assets=[erasures, retention_log, bi_access_grants, db_health],
                      asset_checks=[erased_subjects_are_gone, db_health_within_thresholds])
