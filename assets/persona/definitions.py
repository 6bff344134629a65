"""Definitions of the persona area: trait matrix, knowledge store, graph metadata, study coach
snapshots, Mosaic related stories and plugin metadata, with their asset checks and schedules."""

import dagster as dg

from assets.persona.checks import CHECKS
from assets.persona.graph import graph_metadata_asset
from assets.persona.knowledge import knowledge_entries, knowledge_warm_layer
from assets.persona.mart_checks import MART_CHECKS
from assets.persona.plugin_metadata import story_plugin_metadata
from assets.persona.related_stories import related_stories
from assets.persona.snapshots import (
    persona_snapshot_job,
    persona_snapshot_schedule,
    persona_snapshots,
    progress_job,
    progress_schedule,
    progress_snapshots,
)
from assets.persona.traits import trait_matrix

ASSETS = [trait_matrix, knowledge_entries, knowledge_warm_layer, graph_metadata_asset, progress_snapshots,
          persona_snapshots, related_stories, story_plugin_metadata]

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=[*CHECKS, *MART_CHECKS],
    jobs=[progress_job, persona_snapshot_job],
    schedules=[progress_schedule, persona_snapshot_schedule],
)
