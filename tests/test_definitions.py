"""The code location as a whole: it loads without heavy imports, covers every source table, and its
asset graph matches the reviewed snapshot (regenerate with TESSERA_UPDATE_SNAPSHOTS=1 after an
intended change, and review the diff)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sources.registry import TABLES

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"
HEAVY = ("torch", "sentence_transformers", "great_expectations", "onnxruntime", "transformers")


@pytest.fixture(scope="module")
def defs():
    from orchestration.definitions import defs

    return defs


def graph_snapshot(defs) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.materializable_asset_keys, key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "partitioned": node.partitions_def is not None,
            "checks": sorted(c.name for c in node.check_keys),
        }
    return {
        "assets": assets,
        "jobs": sorted(job.name for job in defs.jobs or []),
        "schedules": sorted(s.name for s in defs.schedules or []),
        "sensors": sorted(s.name for s in defs.sensors or []),
    }


def test_definitions_load_without_heavy_imports():
    code = ("import sys; from orchestration.definitions import defs; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "", f"imported at definition load: {done.stdout.strip()}"


def test_every_source_table_has_an_ingest_asset_and_every_asset_a_group(defs):
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.materializable_asset_keys}
    missing = [t.qualified for t in TABLES if f"{t.raw_schema}/{t.name}" not in keys]
    assert not missing, missing
    assert all(graph.get(k).group_name not in (None, "default") for k in graph.materializable_asset_keys)
    marts = {k for k in keys if k.startswith("marts/")}
    assert {"marts/journals_view", "marts/user_profile_view", "marts/mood_calendar_cache",
            "marts/active_agent_sessions", "marts/user_activity_summary", "marts/story_access"} <= marts


def test_asset_graph_matches_the_snapshot(defs):
    current = graph_snapshot(defs)
    if os.environ.get("TESSERA_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    added = sorted(set(current["assets"]) - set(expected["assets"]))
    removed = sorted(set(expected["assets"]) - set(current["assets"]))
    assert not added and not removed, f"assets added {added}, removed {removed}"
    changed = [k for k in current["assets"] if current["assets"][k] != expected["assets"][k]]
    assert not changed, f"groups, deps, partitions or checks changed for {changed}"
    for part in ("jobs", "schedules", "sensors"):
        assert current[part] == expected[part], part


@pytest.mark.parametrize("key, file", [
    ("raw_mindflow/journal_entries", "assets/ingest/definitions.py"),
    ("marts/journals_view", "dbt_project/models/marts/mindflow/journals_view.sql"),
    ("vectors/journal_entries", "assets/embeddings/assets.py"),
])
def test_assets_link_to_the_file_that_defines_them(defs, key, file):
    import dagster as dg

    spec = next(s for s in defs.resolve_all_asset_specs() if s.key == dg.AssetKey.from_user_string(key))
    refs = spec.metadata["dagster/code_references"].code_references
    paths = {Path(r.file_path).resolve() for r in refs if isinstance(r, dg.LocalFileCodeReference)}
    assert paths, refs
    assert all(p.is_file() for p in paths)
    assert (Path(__file__).resolve().parent.parent / file) in paths


def test_code_references_become_repository_links_when_a_git_url_is_set(tmp_path):
    import dagster as dg

    from orchestration.definitions import with_code_references
    from core.settings import Settings

    @dg.asset
    def example():
        return 1

    defs = dg.Definitions(assets=[example])
    local = Settings.from_env({"TESSERA_HOME": str(tmp_path)})
    linked = Settings.from_env({"TESSERA_HOME": str(tmp_path), "TESSERA_CODE_GIT_URL": "https://github.com/o/r",
                                "TESSERA_CODE_GIT_BRANCH": "dev"})
    [ref] = with_code_references(defs, local).resolve_all_asset_specs()[0].metadata["dagster/code_references"].code_references
    assert isinstance(ref, dg.LocalFileCodeReference) and Path(ref.file_path).resolve() == Path(__file__).resolve()
    [url] = with_code_references(defs, linked).resolve_all_asset_specs()[0].metadata["dagster/code_references"].code_references
    assert isinstance(url, dg.UrlCodeReference)
    assert url.url.startswith("https://github.com/o/r/tree/dev/tests/test_definitions.py")
