"""Click helpers shared by the `tessera` subcommands (here, at the bottom layer, so any area's command can use them)."""

from __future__ import annotations

import datetime as dt

import click


def iso_date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    """Click callback: an optional YYYY-MM-DD option as a date, with a clear error otherwise."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use YYYY-MM-DD") from exc
