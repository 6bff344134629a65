"""`tessera search "QUERY" --user USER [...]`: ranked hits with highlights and facets.

The command is a thin wrapper over assets.search.api, which notebooks call directly.
"""

from __future__ import annotations

import json
import re
import sys

import click

from sources.cli_options import iso_date

_EM = re.compile(r"</?em>")


def _bold(fragment: str, color: bool) -> str:
    if not color:
        return _EM.sub(lambda m: "[" if m.group(0) == "<em>" else "]", fragment)
    return fragment.replace("<em>", "\x1b[1m").replace("</em>", "\x1b[0m")


def render(result, *, color: bool = False, stories: bool = False) -> str:
    """Plain-text rendering of a SearchResult (pure; used by the command and tests)."""
    lines = [f"{len(result.hits)} hit(s), {result.mode} search on {result.backend}, {result.took_ms:.1f} ms"]
    for rank, hit in enumerate(result.hits, start=1):
        label = f"{hit.date}" if hit.date else ""
        if stories:
            label += f"  {hit.extra.get('legacy') or ''} [{hit.extra.get('visibility')}]"
        elif hit.mood:
            label += f"  {hit.mood}"
        if hit.tags:
            label += "  #" + " #".join(hit.tags)
        lines.append(f"{rank:>3}. {hit.score:.4f}  {hit.title}  ({label.strip()})  id={hit.id}")
        for fragment in hit.highlights.get("title", [])[:1]:
            lines.append(f"       title: {_bold(fragment, color)}")
        for fragment in hit.highlights.get("content", []):
            lines.append(f"       … {_bold(fragment, color)} …")
    for name, counts in result.facets.items():
        if counts:
            lines.append(f"{name}: " + ", ".join(f"{k} ({v})" for k, v in counts.items()))
    return "\n".join(lines)


@click.command()
@click.argument("query", default="")
@click.option("--user", "user_id", required=True, help="The user the search runs for (their id).")
@click.option("--mode", type=click.Choice(["keyword", "semantic", "hybrid"]), default="keyword", show_default=True)
@click.option("--mood", "moods", multiple=True, help="Only entries with this mood (repeatable).")
@click.option("--tag", "tags", multiple=True, help="Only entries with this tag (repeatable: all must match).")
@click.option("--from", "date_from", callback=iso_date, help="YYYY-MM-DD, inclusive.")
@click.option("--to", "date_to", callback=iso_date, help="YYYY-MM-DD, inclusive.")
@click.option("--limit", default=20, show_default=True)
@click.option("--stories", is_flag=True, help="Search Mosaic stories the user may access instead of journal entries.")
@click.option("--suggest", is_flag=True, help="Autocomplete QUERY as a prefix of the user's own tags.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def search(query, user_id, mode, moods, tags, date_from, date_to, limit, stories, suggest, as_json):
    """Search journal entries (or --stories) for USER: ranked hits with highlights and facets."""
    from dataclasses import asdict

    from assets.search.api import SearchError, autocomplete_tags, search_journal, search_stories

    try:
        if suggest:
            tags_found = autocomplete_tags(query, user_id=user_id, limit=limit)
            click.echo(json.dumps(tags_found) if as_json else "\n".join(tags_found))
            return
        if stories:
            if moods:
                raise click.UsageError("--mood applies to journal entries, not stories")
            result = search_stories(query, user_id=user_id, mode=mode, tags=tags, date_from=date_from,
                                    date_to=date_to, limit=limit)
        else:
            result = search_journal(query, user_id=user_id, mode=mode, moods=moods, tags=tags, date_from=date_from,
                                    date_to=date_to, limit=limit)
    except (SearchError, LookupError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps({"hits": [asdict(h) for h in result.hits], "facets": result.facets,
                               "took_ms": result.took_ms, "mode": result.mode, "backend": result.backend},
                              default=str, indent=2))
    else:
        click.echo(render(result, color=sys.stdout.isatty(), stories=stories))
