"""Ingest commands outside Dagster: `python -m assets.ingest.cli sync|resync|status`.

Database URLs come from Settings (TESSERA_SOURCE_URL / TESSERA_WAREHOUSE_URL, else the embedded server).
"""

from __future__ import annotations

import json

import click


def _urls() -> tuple[str, str]:
    from core.embedded import database_urls
    from core.settings import Settings

    return database_urls(Settings.from_env())


@click.group("ingest")
def ingest() -> None:
    """Change capture of the products' database into raw_<product>."""


@ingest.command("sync")
@click.option("--product", "products", multiple=True, help="Only these products (repeatable).")
def sync(products: tuple[str, ...]) -> None:
    """Run one ingest tick (full load the first time, incremental afterwards)."""
    from assets.ingest.pipeline import sync_all

    from assets.ingest.state import StreamBusy

    source, warehouse = _urls()
    try:
        results = sync_all(source, warehouse, list(products) or None)
    except StreamBusy as exc:
        raise click.ClickException(f"{exc}: it applies every change as it commits") from exc
    click.echo(json.dumps(results, indent=2, default=str))


@ingest.command("resync")
@click.argument("table")
def resync(table: str) -> None:
    """Full reload of one table (product.table), e.g. after a blocking schema drift."""
    from assets.ingest.pipeline import resync_table

    source, warehouse = _urls()
    click.echo(json.dumps(resync_table(source, warehouse, table), indent=2, default=str))


@ingest.command("status")
def status() -> None:
    """Per-table ingest status (blocked tables show why)."""
    import psycopg

    _, warehouse = _urls()
    with psycopg.connect(warehouse) as conn:
        rows = conn.execute(
            """SELECT product || '.' || table_name, status, row_count, loaded_at, blocked_reason
                 FROM tessera_meta.ingest_tables ORDER BY 1"""
        ).fetchall()
    for name, state, count, loaded_at, reason in rows:
        click.echo(f"{name:45} {state:8} {count if count is not None else '-':>10} {loaded_at or '-'} {reason or ''}")


if __name__ == "__main__":
    ingest()
