"""`tessera seed`: migrate the source database, then fill it with deterministic synthetic data."""

from __future__ import annotations

import datetime as dt
import time

import click

from sources.cli_options import iso_date


@click.command()
@click.option("--users", default=200, show_default=True, type=click.IntRange(min=1),
              help="MindFlow users; the other products scale from it (mosaic N/2, legacies N/10, "
                   "personakit persons N/4, coach learners N/2, devassist developers N/4).")
@click.option("--days", default=90, show_default=True, type=click.IntRange(min=1), help="Days of activity.")
@click.option("--seed", default=7, show_default=True, type=int, help="Random seed (same seed, same data).")
@click.option("--anchor", callback=iso_date, help="Last day of activity, YYYY-MM-DD (default: today UTC).")
@click.option("--reset", is_flag=True, help="Truncate the product tables first if they hold data.")
def seed(users: int, days: int, seed: int, anchor: dt.date | None, reset: bool) -> None:
    """Fill the five product schemas with deterministic synthetic data."""
    from core.embedded import source_database_url
    from core.settings import Settings
    from sources.generator import GeneratorError, generate
    from sources.migrate import apply_migrations

    url = source_database_url(Settings.from_env())
    applied = apply_migrations(url)
    if applied:
        click.echo(f"applied migrations: {', '.join(m.path.name for m in applied)}")
    started = time.perf_counter()

    def progress(product: str, message: str) -> None:
        click.echo(f"[{time.perf_counter() - started:7.1f}s] {product:<10} {message}")

    try:
        report = generate(url, users=users, days=days, seed=seed, anchor=anchor, progress=progress, reset=reset)
    except GeneratorError as exc:
        raise click.ClickException(str(exc)) from exc
    width = max(len(t) for t in report.per_table)
    for table, count in sorted(report.per_table.items()):
        click.echo(f"  {table:<{width}} {count:>10,}")
    click.echo(f"seeded {report.rows:,} rows in {report.seconds:.1f}s ({report.rows_per_second:,.0f} rows/s); "
               f"users={users} days={days} seed={seed} anchor={report.anchor.isoformat()}")
