"""`tessera quality ...`: run the suites and write the GX data docs."""

from __future__ import annotations

import fnmatch
import sys
import uuid

import click


def select_suites(patterns: tuple[str, ...]):
    """Suites whose name matches any glob in `patterns` (all when none)."""
    from quality.suites import ALL_SUITES

    if not patterns:
        return list(ALL_SUITES)
    chosen = [s for s in ALL_SUITES if any(fnmatch.fnmatch(s.name, p) for p in patterns)]
    if not chosen:
        raise click.BadParameter(f"no suite matches {', '.join(patterns)}", param_hint="--suite")
    return chosen


@click.group()
def quality() -> None:
    """Data quality: GX suites, quarantine, data docs."""


@quality.command()
@click.option("--suite", "patterns", multiple=True, metavar="GLOB",
              help="Only suites matching this glob (e.g. 'raw_mosaic.*'); repeatable. Default: all.")
@click.option("--quarantine/--no-quarantine", default=True, show_default=True,
              help="Refresh quality.quarantine from the row-level rules first.")
def report(patterns: tuple[str, ...], quarantine: bool) -> None:
    """Run the suites against the warehouse and write the GX data docs under TESSERA_HOME."""
    import psycopg

    from core.embedded import database_urls
    from core.settings import Settings
    from quality.gx_runner import docs_index, run_suites

    settings = Settings.from_env()
    source_url, warehouse_url = database_urls(settings)
    suites = select_suites(patterns)
    run_id = f"report-{uuid.uuid4().hex[:12]}"
    if quarantine:
        from quality.quarantine import refresh_quarantine
        from quality.rules import ROW_RULES

        with psycopg.connect(warehouse_url) as conn:
            summary = refresh_quarantine(conn, ROW_RULES, run_id)
        click.echo(f"quarantine: {summary['active']} active, {summary['newly_quarantined']} new, "
                   f"{summary['released']} released")
    outcomes = run_suites(warehouse_url, suites, run_id=run_id, source_url=source_url,
                          docs_dir=settings.data_docs_dir)
    width = max(len(o.suite) for o in outcomes)
    for o in outcomes:
        detail = "table not built yet" if o.status == "not_built" else (
            f"{o.row_count} rows, {len(o.results) - len(o.failures)}/{len(o.results)} expectations met"
            + (f"; failing: {', '.join(f.id for f in o.failures)}" if o.failures else ""))
        click.echo(f"{o.suite:<{width}}  {o.status:<9}  {detail}")
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("passed", "warned", "failed", "not_built")}
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
    click.echo(f"data docs: {docs_index(settings.data_docs_dir)}")
    if counts["failed"]:
        sys.exit(1)
