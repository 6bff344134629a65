"""`tessera bench NAME [ARGS...]`: runs bench/NAME.py's main(argv), which prints its figures as JSON."""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path

import click

BENCH_DIR = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(BENCH_DIR)]) if m.name not in {"cli", "__init__"} and not m.name.startswith("_"))


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("name")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the JSON figures to this file.")
def bench(name: str, args: tuple[str, ...], out: str | None) -> None:
    """Run a benchmark: ingest, dbt, embed, search, rollups, traits, generate, notebook_read, freshness, live."""
    if name not in available():
        raise click.UsageError(f"unknown benchmark {name!r}; available: {', '.join(available())}")
    from core.signals import EXIT_INTERRUPTED, stop_on_signal

    module = importlib.import_module(f"bench.{name}")
    echo = lambda line: click.echo(line, err=True)  # noqa: E731
    # SIGTERM / Ctrl-C raise KeyboardInterrupt in the bench: the query in flight is cancelled and the
    # bench's own `finally` blocks drop the databases it created, then the command exits 130. A bench
    # whose clean-up takes longer (stopping a process it started) says so in STOP_GRACE (seconds).
    with stop_on_signal(grace=getattr(module, "STOP_GRACE", 10), echo=echo):
        try:
            figures = module.main(list(args))
        except KeyboardInterrupt:
            echo(f"bench {name} interrupted: its databases were dropped; no figures")
            raise SystemExit(EXIT_INTERRUPTED)
    if out:
        Path(out).write_text(json.dumps(figures, indent=2, default=str))
        click.echo(f"figures written to {out}", err=True)
