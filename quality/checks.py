"""Dagster asset checks built from the suites and monitors (thin: resources in, logic from quality.*,
an AssetCheckResult with failing counts and sample rows out). The raw suites and the monitors, which
run after every ingest tick, report their stored result again while their product's raw tables and
quarantine are unchanged (quality/fingerprints.py)."""

from datetime import datetime, timezone

import dagster as dg

from assets.resources import SourceDatabase, WarehouseDatabase
from quality.monitors import MONITORS, Monitor, MonitorResult
from quality.suites import ALL_SUITES, Suite

SUITE_CHECK = "gx_suite"


def _source_url(source: SourceDatabase) -> str | None:
    try:
        return source.get_url()
    except Exception:  # noqa: BLE001 - the source is only needed for its foreign keys
        return None


def _markdown_table(rows: list[tuple], header: tuple[str, ...]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def suite_check_result(outcome, suite: Suite, *, keyed: bool = False) -> dg.AssetCheckResult:
    """Failed ERROR expectations -> failed check with ERROR severity (blocks when the check blocks);
    only WARN expectations failing -> failed with WARN; a table not built yet -> failed WARN with
    that reason (never a silent pass)."""
    key = {"asset_key": dg.AssetKey(suite.asset_key), "check_name": SUITE_CHECK} if keyed else {}
    if outcome.status == "not_built":
        return dg.AssetCheckResult(
            **key,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{suite.name}: table not built yet",
            metadata={"status": "not_built", "suite": suite.name},
        )
    failures = outcome.failures
    metadata = {
        "status": outcome.status,
        "suite": suite.name,
        "row_count": outcome.row_count or 0,
        "expectations": len(outcome.results),
        "failing_expectations": len(failures),
        "failing_rows": sum(f.unexpected_count or 0 for f in failures),
        "failures": dg.MetadataValue.md(_markdown_table(
            [(f.id, f.severity, f.unexpected_count if f.unexpected_count is not None else "", f.error or "")
             for f in failures], ("expectation", "severity", "failing rows", "error")) if failures else "none"),
        "samples": dg.MetadataValue.json({f.id: f.sample for f in failures if f.sample}),
        "skipped": dg.MetadataValue.json({i: why for i, why in outcome.skipped}),
    }
    severity = dg.AssetCheckSeverity.ERROR if outcome.status == "failed" else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        **key,
        passed=outcome.status == "passed",
        severity=severity,
        description=f"{suite.name}: {outcome.status} ({len(failures)} of {len(outcome.results)} expectations failing)",
        metadata=metadata,
    )


def suite_check(suite: Suite) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(suite.asset_key),
        name=SUITE_CHECK,
        blocking=suite.blocking,
        description=f"GX suite {suite.name}: {suite.description}",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseDatabase,
               source: SourceDatabase) -> dg.AssetCheckResult:
        from quality.gx_runner import run_suites

        outcome = run_suites(warehouse.get_url(), [suite], run_id=context.run.run_id, source_url=_source_url(source))[0]
        return suite_check_result(outcome, suite)

    return _check


def monitor_check_result(result: MonitorResult, monitor: Monitor) -> dg.AssetCheckResult:
    if not result.built:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                                   description=f"{monitor.table.raw_schema}.{monitor.table.name}: table not built yet",
                                   metadata={"status": "not_built"})
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{monitor.description}: {result.problems} found, {result.quarantined} quarantined",
        metadata={
            "problems": result.problems,
            "quarantined": result.quarantined,
            "unquarantined": result.unquarantined,
            "sample": dg.MetadataValue.json(result.sample or []),
            "seed": monitor.seed,
        },
    )


def monitor_check(monitor: Monitor) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(monitor.table.asset_key),
        name=monitor.id,
        blocking=False,
        description=f"Seed monitor ({monitor.seed}): {monitor.description}",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseDatabase) -> dg.AssetCheckResult:
        from quality import fingerprints
        from quality.monitors import evaluate_monitor

        key = f"monitor:{monitor.id}"
        with warehouse.connect() as conn:
            fingerprint = fingerprints.product_fingerprint(conn, monitor.table.product)
            stored = fingerprints.load(conn, [key]).get(key)
            if fingerprints.may_reuse(stored, fingerprint, datetime.now(timezone.utc)):
                return reused_result(stored)
            result = monitor_check_result(evaluate_monitor(conn, monitor), monitor)
            fingerprints.save(conn, key, fingerprint, context.run.run_id, result_record(result))
            return result

    return _check


def product_suite_checks(product: str, suites: list[Suite]) -> dg.AssetChecksDefinition:
    """The raw suites of one product as one check step (one GX import and context instead of one per
    table; raw tables never depend on each other, so one step cannot sit between them). Each table
    still has its own `gx_suite` check, blocking, and only the selected ones run."""
    by_key = {dg.AssetCheckKey(dg.AssetKey(s.asset_key), SUITE_CHECK): s for s in suites}
    specs = [
        dg.AssetCheckSpec(SUITE_CHECK, asset=dg.AssetKey(s.asset_key), blocking=s.blocking,
                          description=f"GX suite {s.name}: {s.description}")
        for s in suites
    ]

    @dg.multi_asset_check(specs=specs, can_subset=True, name=f"gx_suites_raw_{product}")
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseDatabase, source: SourceDatabase):
        from quality import fingerprints
        from quality.gx_runner import run_suites

        selected = [s for k, s in by_key.items() if k in context.selected_asset_check_keys]
        with warehouse.connect() as conn:
            fingerprint = fingerprints.product_fingerprint(conn, product)
            stored = fingerprints.load(conn, [suite_check_key(s) for s in selected])
            conn.commit()
        now = datetime.now(timezone.utc)
        to_run = [s for s in selected if not fingerprints.may_reuse(stored.get(suite_check_key(s)), fingerprint, now)]
        outcomes = dict(zip((s.name for s in to_run), run_suites(
            warehouse.get_url(), to_run, run_id=context.run.run_id, source_url=_source_url(source)))) if to_run else {}
        if len(to_run) < len(selected):
            context.log.info(f"{len(selected) - len(to_run)} raw suite(s) of {product} unchanged since their last run: reported again")
        with warehouse.connect() as conn:
            for suite in selected:
                key = suite_check_key(suite)
                if suite.name not in outcomes:
                    yield reused_result(stored[key], asset_key=dg.AssetKey(suite.asset_key), check_name=SUITE_CHECK)
                    continue
                result = suite_check_result(outcomes[suite.name], suite, keyed=True)
                fingerprints.save(conn, key, fingerprint, context.run.run_id, result_record(result))
                yield result

    return _checks


def suite_check_key(suite: Suite) -> str:
    return f"{SUITE_CHECK}:{suite.name}"


def _plain(value):
    if isinstance(value, dg.MarkdownMetadataValue):
        return {"md": value.value}
    if isinstance(value, dg.JsonMetadataValue):
        return {"json": value.value}
    return value.value if isinstance(value, dg.MetadataValue) else value


def _typed(value):
    if isinstance(value, dict) and len(value) == 1 and "md" in value:
        return dg.MetadataValue.md(value["md"])
    if isinstance(value, dict) and len(value) == 1 and "json" in value:
        return dg.MetadataValue.json(value["json"])
    return value


def result_record(result: dg.AssetCheckResult) -> dict:
    """A check result as JSON (stored with its fingerprint)."""
    return {"passed": result.passed, "severity": result.severity.value, "description": result.description,
            "metadata": {k: _plain(v) for k, v in (result.metadata or {}).items()}}


def reused_result(stored, **key) -> dg.AssetCheckResult:
    """The stored result, reported again: same outcome and severity (a failed blocking check blocks)."""
    record = stored.result
    return dg.AssetCheckResult(
        **key,
        passed=record["passed"],
        severity=dg.AssetCheckSeverity(record["severity"]),
        description=f"{record['description']} (inputs unchanged since {stored.checked_at:%Y-%m-%d %H:%M:%S})",
        metadata={**{k: _typed(v) for k, v in record["metadata"].items()},
                  "reused_from_run": stored.run_id or "", "unchanged_since": stored.checked_at.isoformat()},
    )


def all_suite_checks() -> list[dg.AssetChecksDefinition]:
    """Raw suites grouped per product; mart, analytics and vector suites one check each (they may
    depend on each other, so they cannot share a step)."""
    raw: dict[str, list[Suite]] = {}
    for suite in ALL_SUITES:
        if suite.area == "raw":
            raw.setdefault(suite.source.product, []).append(suite)
    return [*(product_suite_checks(p, s) for p, s in raw.items()),
            *(suite_check(s) for s in ALL_SUITES if s.area != "raw")]


def all_monitor_checks() -> list[dg.AssetChecksDefinition]:
    return [monitor_check(m) for m in MONITORS]
