"""`tessera live`: one long-lived process that keeps every derived store seconds behind the source.

The ingest thread (assets/ingest/live.py) streams the source's changes over the replication protocol and
applies them in micro-batches; the refresh lanes (orchestration/live_lanes.py) refresh what each batch
touched (the read views through a warm dbt session, mood events and rollups, search documents, and the
embeddings in a background lane) and report every refresh to the Dagster instance as runless
materializations, so the UI's lineage, freshness and history stay true. The sensors' ingest runs end at
once while it streams; stop it (Ctrl-C, SIGTERM) and the batch path takes over where it stopped.
"""

from __future__ import annotations

import logging
import threading

import click

log = logging.getLogger(__name__)


@click.command("live")
@click.option("--max-batch-changes", default=5_000, show_default=True, type=click.IntRange(min=1),
              help="Close a micro-batch at the next commit once it holds this many row changes.")
@click.option("--max-batch-delay-ms", default=200, show_default=True, type=click.IntRange(min=0),
              help="Close a micro-batch at the next commit once its first transaction has waited this long.")
@click.option("--no-refresh", is_flag=True, help="Ingest only: apply the change stream, refresh no derived store.")
@click.option("--no-embeddings", is_flag=True, help="Refresh everything but the vectors (no model is loaded).")
def live(max_batch_changes: int, max_batch_delay_ms: int, no_refresh: bool, no_embeddings: bool) -> None:
    """Stream the products' database into the warehouse and keep every derived store current."""
    from assets.ingest import live as live_ingest
    from core.embedded import database_urls
    from core.settings import Settings
    from core.signals import stop_on_signal

    logging.getLogger("assets.ingest.live").setLevel(logging.INFO)
    settings = Settings.from_env()
    source_url, warehouse_url = database_urls(settings)
    lanes = None
    if not no_refresh:
        import dagster as dg

        from orchestration.live_lanes import build_lanes

        lanes = build_lanes(warehouse_url, instance=dg.DagsterInstance.get(), embeddings=not no_embeddings)
    click.echo(f"tessera live: streaming into {warehouse_url.split('?')[0]} "
               f"(batches of up to {max_batch_changes} changes or {max_batch_delay_ms} ms); Ctrl-C stops")
    with stop_on_signal(grace=30, echo=click.echo) as stop:
        if lanes is not None:
            lanes.start()
        ingest = threading.Thread(
            target=_run_ingest, name="tessera-live-ingest",
            args=(live_ingest, source_url, warehouse_url, lanes, stop, max_batch_changes, max_batch_delay_ms / 1000),
        )
        ingest.start()
        try:
            while ingest.is_alive():
                ingest.join(0.5)
        except KeyboardInterrupt:
            stop.set()
            click.echo("tessera live: stopping (finishing the batch in flight)")
            ingest.join()
        finally:
            stop.set()
            if lanes is not None:
                lanes.stop(timeout=20)
    if _failure:
        raise click.ClickException(str(_failure[0]))
    click.echo("tessera live: stopped")


_failure: list[BaseException] = []


def _run_ingest(live_ingest, source_url, warehouse_url, lanes, stop, max_changes, max_delay) -> None:
    try:
        live_ingest.run(source_url, warehouse_url, listeners=[lanes.on_batch] if lanes is not None else [], stop=stop,
                        max_batch_changes=max_changes, max_batch_delay=max_delay,
                        lanes_status=lanes.status if lanes is not None else None)
    except BaseException as exc:  # reported by the main thread
        log.exception("tessera live: the ingest stopped")
        _failure.append(exc)
        stop.set()
