"""The `tessera` command. Subcommands live in their own modules and load only when called, so
`tessera --help` and `tessera up` start fast (no dagster, dbt or torch import)."""

from __future__ import annotations

import importlib
import logging
import warnings

import click

# name -> "module:attribute" of a click command
COMMANDS = {
    "up": "orchestration.commands.server:up",
    "down": "orchestration.commands.server:down",
    "status": "orchestration.commands.server:status",
    "migrate": "orchestration.commands.server:migrate",
    "seed": "sources.generator.cli:seed",
    "simulate": "sources.simulator:simulate_command",
    "materialize": "orchestration.commands.materialize:materialize",
    "demo": "orchestration.commands.demo:demo",
    "notebooks": "orchestration.commands.notebooks:notebooks",
    "search": "assets.search.cli:search",
    "bench": "bench.cli:bench",
    "erase": "orchestration.commands.erase:erase",
    "ingest": "assets.ingest.cli:ingest",
    "live": "orchestration.commands.live:live",
    "quality": "quality.cli:quality",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                raise click.ClickException(f"'tessera {name}' is not available in this build ({exc})") from exc
            raise
        return getattr(module, attribute)


@click.group(cls=LazyGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log progress at INFO level.")
def main(verbose: bool) -> None:
    """Tessera: the data workspace behind MindFlow, Mosaic Life, PersonaKit, the study coach and the
    AI Development Assistant."""
    warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s")


if __name__ == "__main__":
    main()
