"""`tessera demo`: from nothing to a working workspace in one command (what `make demo` runs)."""

from __future__ import annotations

import time

import click
from psycopg import sql

from orchestration.settings import Settings

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
    and print where everything is."""
    started = time.monotonic()
    settings = Settings.from_env()
    if settings.uses_embedded:
        from orchestration.embedded import ensure_embedded_server

        server = ensure_embedded_server(settings)
        click.echo(f"==> embedded Postgres running (pid {server.pid}), data in {server.pgdata}")
    source_url, warehouse_url = settings.database_urls()

    from sources.migrate import apply_migrations

    applied = apply_migrations(source_url)
    click.echo(f"==> source schemas: {len(applied)} migrations applied" if applied else "==> source schemas up to date")

    if _source_is_empty(source_url):
        from sources.generator import generate

        click.echo(f"==> seeding --users {users} --days {days} --seed {seed}")
        report = generate(source_url, users=users, days=days, seed=seed)
        click.echo(f"    {report.rows:,} rows in {report.seconds:.1f}s ({report.rows_per_second:,.0f} rows/s)")
    else:
        click.echo("==> source already holds data; not seeding again (tessera seed --reset to start over)")

    from orchestration.commands.materialize import materialize_all

    click.echo("==> materializing every asset")
    results = materialize_all(backfill_days=days)

    click.echo("\nSource database (app):")
    for schema, (tables, rows) in schema_row_counts(source_url, ("mindflow", "mosaic", "personakit", "coach", "devassist")).items():
        click.echo(f"  {schema:<22} {tables:>3} tables {rows:>10,} rows")
    click.echo("Warehouse database (warehouse):")
    for schema, (tables, rows) in schema_row_counts(
        warehouse_url, ("raw\\_%", "staging", "intermediate", "marts", "analytics", "vectors", "persona", "search", "quality")
    ).items():
        click.echo(f"  {schema:<22} {tables:>3} tables {rows:>10,} rows")
    failed = [r for r in results if not r.success]
    click.echo(f"\nRuns: {len(results) - len(failed)} succeeded, {len(failed)} failed")
    click.echo(f"Data lives in {settings.home} (Postgres data in {settings.pgdata}, Dagster in {settings.dagster_home})")
    click.echo(f"Source:    {source_url}\nWarehouse: {warehouse_url}")
    click.echo("Open the Dagster UI with `make dev` (http://127.0.0.1:3000); search with `tessera search \"QUERY\" --user USER_ID`.")
    click.echo(f"Done in {time.monotonic() - started:.0f}s.")
    if failed:
        raise click.ClickException("some runs failed: " + "; ".join(f"{r.keys[0]}: {r.failed_steps}" for r in failed))
