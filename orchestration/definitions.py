"""The Dagster code location: every area's definitions merged, with the shared resources.

Each area (ingest, dbt, embeddings, search, mood, insights, persona, quality, automation) exposes a
module-level `defs` in its own package; this module only assembles them. `dagster dev` finds it
through [tool.dagster] in pyproject.toml.
"""

from __future__ import annotations

import importlib

import dagster as dg

from assets.resources import default_resources
from core.settings import REPO_ROOT, Settings

AREA_MODULES = (
    "assets.ingest.definitions",
    "assets.dbt.definitions",
    "assets.embeddings.definitions",
    "assets.search.definitions",
    "assets.mood.definitions",
    "assets.insights.definitions",
    "assets.persona.definitions",
    "assets.operations.definitions",
    "quality.definitions",
    "orchestration.automation",
)


QUARANTINE = dg.AssetKey(["quality", "quarantine"])
# Areas whose assets read raw rows and skip the quarantined ones (quality/quarantine.py): they run after
# the quarantine asset, so a row caught in this tick never reaches them first.
QUARANTINE_READERS = frozenset({"embeddings", "search", "mood", "persona"})


def _after_quarantine(spec: dg.AssetSpec) -> dg.AssetSpec:
    if spec.group_name in QUARANTINE_READERS and QUARANTINE not in {dep.asset_key for dep in spec.deps}:
        return spec.replace_attributes(deps=[*spec.deps, dg.AssetDep(QUARANTINE)])
    return spec


# The code location's executor: every step of a run executes in the run's own process, one after another.
# The default multiprocess executor starts a fresh Python process per step (each importing Dagster and
# these definitions, seconds apiece), so an ingest tick with its checks cost ~40 process start-ups. Runs
# stay isolated from each other (the run launcher starts one process per run): embeddings, insight
# partitions and backfills are their own runs (orchestration/automation.py), never steps of an ingest or
# read-view run.
EXECUTOR = dg.in_process_executor


def _not_waiting_for_ingest(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Eager assets do not wait while an ingest run is in progress: each ingest batch commits with its
    cursor, so a refresh reads a consistent raw copy, and the next ingest's materializations request the
    next refresh. (Stock eager() waits for any dependency in progress: with an ingest every few seconds
    the read views were held back most of the time.) Other dependencies in progress still hold them."""
    condition = spec.automation_condition
    if condition is None:
        return spec
    tolerant = dg.AutomationCondition.any_deps_in_progress().ignore(INGEST)
    replaced = condition.replace("any_deps_in_progress", tolerant)
    return spec if replaced == condition else spec.replace_attributes(automation_condition=replaced)


INGEST = dg.AssetSelection.groups("ingest")


def with_code_references(defs: dg.Definitions, settings: Settings) -> dg.Definitions:
    """Every asset carries Dagster's code references (`dagster/code_references`): the local file and line
    of the function that defines it (dbt models point to their .sql file through the translator), turned
    into links to the repository when TESSERA_CODE_GIT_URL is set. Without it they stay local paths."""
    assets = dg.with_source_code_references(list(defs.assets or []))
    if settings.code_git_url:
        assets = dg.link_code_references_to_git(
            assets,
            git_url=settings.code_git_url,
            git_branch=settings.code_git_branch,
            file_path_mapping=dg.AnchorBasedFilePathMapping(
                local_file_anchor=REPO_ROOT / "pyproject.toml", file_anchor_path_in_repository="pyproject.toml"
            ),
        )
    return dg.Definitions(
        assets=assets, asset_checks=defs.asset_checks, jobs=defs.jobs, schedules=defs.schedules,
        sensors=defs.sensors, resources=defs.resources, executor=defs.executor, loggers=defs.loggers,
        metadata=defs.metadata,
    )


def build_definitions() -> dg.Definitions:
    from orchestration.automation import automation_sensors
    from quality.freshness import attach_freshness_policies

    area_defs = [importlib.import_module(name).defs for name in AREA_MODULES]
    merged = dg.Definitions.merge(*area_defs, dg.Definitions(resources=default_resources(), executor=EXECUTOR))
    merged = with_code_references(merged, Settings.from_env())
    merged = merged.map_asset_specs(func=_after_quarantine)
    merged = merged.map_asset_specs(func=_not_waiting_for_ingest)
    merged = attach_freshness_policies(merged)
    return dg.Definitions.merge(merged, dg.Definitions(sensors=automation_sensors(partitioned_keys(merged))))


def partitioned_keys(defs: dg.Definitions) -> list[dg.AssetKey]:
    return sorted({key for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition) and a.partitions_def
                   for key in a.keys}, key=lambda k: k.path)  # every raw, mart and analytics asset declares its staleness


defs = build_definitions()
