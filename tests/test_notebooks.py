"""Every analyst notebook runs top to bottom (nbclient) on a tiny demo-like dataset.

To stay within the shared machine's budget this materializes only what the notebooks read (dbt
staging/intermediate/marts, the mood analytics, persona traits and the journal search index) on
6 users x 14 days, instead of `tessera demo`'s full run on 60 users x 90 days. A code cell tagged
`plot:<name>` must leave a PNG in its outputs (figures are drawn by Agg and shown with
orchestration.notebook.show); REQUIRED_PLOTS names the plots each product's notebook must show.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
REQUIRED_PLOTS = {
    "01_mood_trends.ipynb": {"mood-heatmap"},                       # MindFlow
    "02_engagement_and_streaks.ipynb": {"streak-distribution"},
    "03_governance.ipynb": {"governance-cost-over-time"},           # the AI Development Assistant
    "08_personakit.ipynb": {"trait-radar"},                         # PersonaKit
}
NOTEBOOK_STORES = ("dbt_staging", "dbt_eligibility", "dbt_changes", "dbt_intermediate", "dbt_marts", "mood", "persona/trait_matrix",
                   "persona/knowledge_entries", "persona/graph_metadata", "search/journal_entries")


def test_there_are_notebooks_for_each_topic():
    names = " ".join(p.stem for p in NOTEBOOKS)
    for topic in ("mood", "engagement", "governance", "stories", "search", "mindflow", "assistant"):
        assert topic in names


def plot_tags(cell) -> list[str]:
    return [t.removeprefix("plot:") for t in cell.get("metadata", {}).get("tags", []) if t.startswith("plot:")]


def code_of(book) -> str:
    return "\n".join(cell.source for cell in book.cells if cell.cell_type == "code")


def test_notebooks_use_polars_and_tag_their_plots():
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        assert "import polars as pl" in code_of(book) and "import pandas" not in code_of(book), path.name
        tags = {t for cell in book.cells for t in plot_tags(cell)}
        assert REQUIRED_PLOTS.get(path.name, set()) <= tags, path.name
        assert not [c for c in book.cells if c.cell_type == "code" and c.get("outputs")], f"{path.name} is saved with outputs"
    assert set(REQUIRED_PLOTS) <= {p.name for p in NOTEBOOKS}


@pytest.mark.slow
def test_every_notebook_runs_on_demo_like_data(databases, tmp_path):
    """Each notebook executed the way `tessera notebooks` runs it: written executed, every tagged plot
    an image/png output and a PNG file beside it."""
    from assets.ingest.pipeline import sync_all
    from orchestration.commands.notebooks import run_notebook
    from test_operations import materialize, tiny_source

    tiny_source(databases)
    sync_all(databases.source_url, databases.warehouse_url)
    materialize(*NOTEBOOK_STORES)
    failures, plots = {}, {}
    for path in NOTEBOOKS:
        result = run_notebook(path, tmp_path, timeout=300)
        if result.error:  # collect every notebook's failure, not only the first
            failures[path.name] = result.error
            continue
        book = nbformat.read(result.executed, as_version=4)
        files = {p.stem.split("_", 1)[1] for p in result.plots}
        assert all(p.read_bytes().startswith(b"\x89PNG") for p in result.plots), path.name
        for cell in book.cells:
            for tag in plot_tags(cell):
                pngs = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
                if pngs and tag.replace("-", "_") in files:
                    plots.setdefault(path.name, []).append(tag)
                else:
                    failures[f"{path.name} {tag}"] = "no image/png output or no PNG file"
    assert not failures, failures
    for name, wanted in REQUIRED_PLOTS.items():
        assert wanted <= set(plots.get(name, [])), (name, plots.get(name))
    print("PNG plots per notebook:", plots)


def test_read_mart_filters_and_refuses_other_schemas():
    from orchestration.notebook import build_select, qualified_name

    assert qualified_name("journals_view") == ("marts", "journals_view")
    assert qualified_name("analytics.mood_events") == ("analytics", "mood_events")
    with pytest.raises(ValueError):
        qualified_name("raw_mindflow.users")
    query, params = build_select("marts", "journals_view", {"user_id": "u", "mood": ["happy", "sad"]},
                                 ["user_id", "mood", "date"], limit=5, order_by="date")
    text = query.as_string(None) if hasattr(query, "as_string") else str(query)
    assert '"user_id" = %s' in text and '"mood" = ANY(%s)' in text and "LIMIT 5" in text
    assert params == ["u", ["happy", "sad"]]
    with pytest.raises(ValueError):
        build_select("marts", "journals_view", {"nope": 1}, ["user_id"])
