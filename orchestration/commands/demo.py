"""`tessera demo`: from nothing to a working workspace in one command (what `make demo` runs)."""

from __future__ import annotations

import time

import click
from psycopg import sql

from core.embedded import database_urls
from core.settings import Settings

DEMO_SCALE = {"users": 60, "days": 90, "seed": 7}


def schema_row_counts(url: str, schemas_like: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """{schema: (tables, rows)} with exact counts, for schemas matching any LIKE pattern."""
    import psycopg

    counts: dict[str, tuple[int, int]] = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type IN ('BASE TABLE', 'VIEW') AND table_schema LIKE ANY(%s) ORDER BY 1, 2",
            (list(schemas_like),),
        ).fetchall()
        for schema, table in tables:
            rows = conn.execute(
                sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            ).fetchone()[0]
            n_tables, n_rows = counts.get(schema, (0, 0))
            counts[schema] = (n_tables + 1, n_rows + rows)
    return counts


def _source_is_empty(url: str) -> bool:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT NOT EXISTS (SELECT 1 FROM mindflow.users)").fetchone()[0]


@click.command()
@click.option("--users", default=DEMO_SCALE["users"], show_default=True)
@click.option("--days", default=DEMO_SCALE["days"], show_default=True)
@click.option("--seed", default=DEMO_SCALE["seed"], show_default=True)
def demo(users: int, days: int, seed: int) -> None:
    """Start the embedded Postgres, apply the schemas, seed a small dataset, materialize every asset,
    and print where everything is. The terminal gets one line per step and asset group; Dagster's
    events, dbt's output and any traceback go to the log file the summary names."""
    from orchestration.commands.materialize import log_path
    from core.signals import EXIT_INTERRUPTED, stop_on_signal
    from orchestration.console import quiet_console

    started = time.monotonic()
    settings = Settings.from_env()
    log = log_path(settings, "demo")
    with quiet_console(log) as echo, stop_on_signal(echo=echo) as stop:
        try:
            failed = _demo(settings, users, days, seed, echo, stop, log, started)
        except KeyboardInterrupt:
            echo(f"interrupted: the running step rolled back; `tessera demo` again picks up from there. Log: {log}")
            raise SystemExit(EXIT_INTERRUPTED)
    if failed:
        raise click.ClickException("some runs failed: " + "; ".join(f"{r.keys[0]}: {r.failed_steps}" for r in failed)
                                   + f" (details in {log})")


def _demo(settings: Settings, users: int, days: int, seed: int, echo, stop, log, started: float) -> list:
    if settings.uses_embedded:
        from core.embedded import ensure_embedded_server

        server = ensure_embedded_server(settings)
        echo(f"==> embedded Postgres running (pid {server.pid}), data in {server.pgdata}")
    source_url, warehouse_url = database_urls(settings)

    from sources.migrate import apply_migrations

    applied = apply_migrations(source_url)
    echo(f"==> source schemas: {len(applied)} migrations applied" if applied else "==> source schemas up to date")

    if _source_is_empty(source_url):
        from sources.generator import generate

        echo(f"==> seeding --users {users} --days {days} --seed {seed}")
        report = generate(source_url, users=users, days=days, seed=seed)
        echo(f"    {report.rows:,} rows in {report.seconds:.1f}s ({report.rows_per_second:,.0f} rows/s)")
    else:
        echo("==> source already holds data; not seeding again (tessera seed --reset to start over)")

    from orchestration.commands.materialize import materialize_all, summary_lines

    echo("==> materializing every asset (one line per asset group and stage)")
    results = materialize_all(backfill_days=days, echo=echo, stop=stop)

    echo("\nSource database (app):")
    for schema, (tables, rows) in schema_row_counts(source_url, ("mindflow", "mosaic", "personakit", "coach", "devassist")).items():
        echo(f"  {schema:<22} {tables:>3} tables {rows:>10,} rows")
    echo("Warehouse database (warehouse):")
    for schema, (tables, rows) in schema_row_counts(
        warehouse_url, ("raw\\_%", "staging", "intermediate", "marts", "analytics", "vectors", "persona", "search", "quality")
    ).items():
        echo(f"  {schema:<22} {tables:>3} tables {rows:>10,} rows")
    echo("")
    for line in summary_lines(results, log, time.monotonic() - started):
        echo(line)
    echo(f"Data lives in {settings.home} (Postgres data in {settings.pgdata}, Dagster in {settings.dagster_home})")
    echo(f"Source:    {source_url}\nWarehouse: {warehouse_url}")
    echo("Next: the Dagster UI with `make dev` (http://127.0.0.1:3000); notebooks in notebooks/ (polars);")
    echo("      search with `tessera search \"QUERY\" --user USER_ID`.")
    return [r for r in results if not r.success]
