"""The quarantine asset ["quality", "quarantine"]: evaluates the row-level rules on the raw tables after
ingest, quarantines the rows that break them and releases the rows fixed since; and its blocking check
that no rule-breaking raw row is left outside the quarantine."""


import re

import dagster as dg

from assets.resources import WarehouseDatabase
from quality.rules import ROW_RULES
from sources.registry import get_table

QUARANTINE_KEY = dg.AssetKey(["quality", "quarantine"])


def rule_input_keys() -> list[dg.AssetKey]:
    """The raw tables the rules read: each rule's own table and the ones its predicate joins."""
    keys: set[tuple[str, str]] = set()
    for rule in ROW_RULES:
        table = rule.table
        keys.add((table.raw_schema, table.name))
        for name in re.findall(r"\{raw\}\.(\w+)", rule.predicate):
            keys.add((table.raw_schema, get_table(f"{table.product}.{name}").name))
    return [dg.AssetKey(list(k)) for k in sorted(keys)]


@dg.asset(
    key=QUARANTINE_KEY,
    group_name="quality",
    deps=rule_input_keys(),
    automation_condition=dg.AutomationCondition.eager(),
    description="Rows of the raw tables that break a row-level rule (quality/rules.py), with reason, row "
    "and run id; released when the source fixes them. AI outputs and search skip quality.active_quarantine; read views keep the rows flagged (staging quality_issues).",
    kinds={"postgres"},
)
def quarantine(context: dg.AssetExecutionContext, warehouse: WarehouseDatabase) -> dg.MaterializeResult:
    from quality.quarantine import refresh_quarantine

    with warehouse.connect() as conn:
        summary = refresh_quarantine(conn, ROW_RULES, context.run.run_id)
    if summary["missing_tables"]:
        context.log.warning("raw tables not built yet, rules not evaluated: %s", summary["missing_tables"])
    return dg.MaterializeResult(metadata={
        "active": summary["active"],
        "newly_quarantined": summary["newly_quarantined"],
        "released": summary["released"],
        "failing_by_rule": dg.MetadataValue.json(summary["failing_by_rule"]),
        "released_rows": dg.MetadataValue.json(summary["released_rows"][:20]),
        "tables_not_built": dg.MetadataValue.json(summary["missing_tables"]),
    })


def unquarantined_breaks(conn) -> dict[str, int]:
    """rule id -> raw rows breaking it that the quarantine does not hold (should be all zero)."""
    from psycopg import sql

    from core.db import table_exists
    from quality.quarantine import ensure_quarantine_schema
    from quality.rules import failing_rows_query

    ensure_quarantine_schema(conn)
    out: dict[str, int] = {}
    for rule in ROW_RULES:
        if not table_exists(conn, rule.table.raw_schema, rule.table.name):
            continue
        query = sql.SQL(
            "SELECT count(*) FROM ({q}) f WHERE NOT EXISTS (SELECT 1 FROM quality.quarantine qq "
            "WHERE qq.released_at IS NULL AND qq.source_table = {src} AND qq.record_key = f.record_key AND qq.rule = {rule})"
        ).format(q=failing_rows_query(rule), src=sql.Literal(rule.source_table), rule=sql.Literal(rule.id))
        out[rule.id] = out.get(rule.id, 0) + conn.execute(query).fetchone()[0]
    return out


@dg.asset_check(asset=QUARANTINE_KEY, blocking=True,
                description="Every raw row that breaks a row-level rule is in the quarantine (nothing slips through).")
def all_rule_breaks_quarantined(warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        missing = unquarantined_breaks(conn)
    leaking = {k: v for k, v in missing.items() if v}
    return dg.AssetCheckResult(
        passed=not leaking,
        severity=dg.AssetCheckSeverity.ERROR,
        description="all rule breaks quarantined" if not leaking else f"rule breaks outside the quarantine: {leaking}",
        metadata={"unquarantined_by_rule": dg.MetadataValue.json(missing)},
    )
