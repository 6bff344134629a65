"""tessera up / down / status / migrate."""

from __future__ import annotations

import click

from core.embedded import database_urls, source_database_url
from core.settings import Settings


@click.command()
def up() -> None:
    """Start (or reuse) the embedded Postgres and apply the source schemas."""
    settings = Settings.from_env()
    from sources.migrate import apply_migrations

    if settings.uses_embedded:
        from core.embedded import ensure_embedded_server

        server = ensure_embedded_server(settings)
        click.echo(f"embedded Postgres running (pid {server.pid}) in {server.pgdata}")
    source, warehouse = database_urls(settings)
    applied = apply_migrations(source)
    click.echo(f"source:    {source}")
    click.echo(f"warehouse: {warehouse}")
    click.echo(f"migrations applied now: {', '.join(m.path.name for m in applied) or 'none (up to date)'}")
    from orchestration.dagster_home import ensure_dagster_home

    click.echo(f"dagster home: {ensure_dagster_home(settings)}")


@click.command()
def down() -> None:
    """Stop the embedded Postgres (nothing to do when external URLs are set)."""
    settings = Settings.from_env()
    if not settings.uses_embedded:
        click.echo("TESSERA_SOURCE_URL and TESSERA_WAREHOUSE_URL are set: no embedded server to stop")
        return
    from core.embedded import stop_embedded_server

    stopped = stop_embedded_server(settings)
    click.echo("embedded Postgres stopped" if stopped else "embedded Postgres was not running")


@click.command()
def status() -> None:
    """Show where the data lives and whether the embedded server runs."""
    settings = Settings.from_env()
    from core.embedded import server_status

    server = server_status(settings)
    click.echo(f"TESSERA_HOME: {settings.home}")
    if settings.uses_embedded:
        click.echo(f"embedded Postgres: {'running, pid %s' % server.pid if server else 'stopped'}")
    click.echo(f"source:    {settings.source_url or '(embedded) app'}")
    click.echo(f"warehouse: {settings.warehouse_url or '(embedded) warehouse'}")
    click.echo(f"search:    {settings.elasticsearch_url or 'Postgres search backend (warehouse schema search)'}")


@click.command()
def migrate() -> None:
    """Apply pending source-schema migrations."""
    from sources.migrate import apply_migrations

    applied = apply_migrations(source_database_url(Settings.from_env()))
    click.echo(f"applied: {', '.join(m.path.name for m in applied) or 'none (up to date)'}")
