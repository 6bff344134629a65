"""`tessera erase --user ID`: erase one subject from every derived store now, and prove it."""

from __future__ import annotations

import click

from core.embedded import warehouse_database_url
from core.settings import Settings


@click.command()
@click.option("--user", "user_id", required=True, help="User (or PersonaKit person) id to erase.")
def erase(user_id: str) -> None:
    """Remove a user from every derived store (audit logs kept) and record the erasure."""
    import psycopg

    from assets.operations import erasure

    try:
        subject = erasure.parse_subject(user_id)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--user") from exc
    with psycopg.connect(warehouse_database_url(Settings.from_env())) as conn:
        result = erasure.erase_subjects(conn, [subject], trigger="on_demand")
        conn.commit()
        remaining = erasure.find_subject(conn, subject)
    for where, n in sorted(result.rows_removed.items()):
        click.echo(f"  {where:<50} {n:>8} removed")
    click.echo(f"erased {subject}: {result.total} rows removed, recorded in tessera_meta.erasures")
    blind = [r for r in remaining if r.startswith("cannot inspect")]
    found = [r for r in remaining if r not in blind]
    if found:
        raise click.ClickException(f"the id is still found in: {', '.join(found)}")
    if blind:
        raise click.ClickException(f"not verified: {'; '.join(blind)}")
    click.echo("verified: no derived store holds the id (tables, partitions, materialized views, "
               "continuous aggregates" + (", Elasticsearch" if Settings.from_env().elasticsearch_url else "") + ")")
