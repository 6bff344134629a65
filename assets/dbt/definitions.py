"""Definitions of the dbt area: the read views (dbt_project/) as Dagster assets.

Two @dbt_assets split by how they materialize (STYLE.md): the incremental marts (every mart: a refresh
replaces only the keys touched since the last run), and the staging/intermediate views. Sources map to the ingest assets [<raw schema>, table] (sources/registry.py);
dbt data tests become asset checks (error severity blocks downstream); every run reports row counts
and column schemas. The manifest is parsed at load time when missing or stale (ensure_manifest).
"""



from typing import Iterator

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from assets.dbt.project import (
    MANIFEST,
    PROJECT_DIR,
    dbt_executable,
    ensure_manifest,
    partial_parse_target,
    temporary_environ,
    warehouse_dbt_env,
)
from assets.dbt.translator import TesseraDbtTranslator

INCREMENTAL = "config.materialized:incremental"


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, *, column_lineage: bool = True) -> Iterator:
    # TESSERA_DBT_* for the dbt subprocess and the in-process adapter (metadata queries), at run time,
    # and DBT_TARGET_PATH where this warehouse's partial-parse file is (dagster-dbt copies it into the
    # invocation's own target directory; without it every invocation parsed the whole project).
    env = warehouse_dbt_env()
    with temporary_environ({**env, "DBT_TARGET_PATH": str(partial_parse_target(env))}):
        # --no-write-json: manifest.json / run_results.json are not read back (events stream from the
        # JSON log) and writing them costs ~2 s per invocation, a fixed cost every refresh would pay.
        # --indirect-selection buildable: a test runs only when all its parents are selected or built,
        # so building the staging views never runs a mart's relationship test before the mart exists.
        invocation = dbt.cli(["build", "--no-write-json", "--indirect-selection", "buildable"], context=context)
        yield from invocation.stream().fetch_row_counts().fetch_column_metadata(with_column_lineage=column_lineage)


def build_definitions() -> dg.Definitions:
    ensure_manifest()
    project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
    translator = TesseraDbtTranslator()

    @dbt_assets(
        manifest=MANIFEST,
        project=project,
        select=INCREMENTAL,
        dagster_dbt_translator=translator,
        name="dbt_incremental_marts",
        retry_policy=dg.RetryPolicy(max_retries=1, delay=10),
    )
    def dbt_incremental_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        """Incremental read views: each run replaces only the keys the change feed says were touched
        since the last run (macros/change_feed.sql)."""
        # Column schemas yes, column lineage no: the changed_<mart> models these marts read join
        # tessera_meta.change_feed, which is no dbt node, so dagster-dbt would give sqlglot no schema
        # for it and log "Cannot resolve ... due to missing source schemas" on every refresh.
        yield from _build(context, dbt, column_lineage=False)

    @dbt_assets(
        manifest=MANIFEST,
        project=project,
        exclude=INCREMENTAL,
        dagster_dbt_translator=translator,
        name="dbt_views_and_tables",
        retry_policy=dg.RetryPolicy(max_retries=1, delay=10),
    )
    def dbt_views_and_tables(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        """Staging and intermediate views (and any model not materialized incrementally)."""
        yield from _build(context, dbt)

    return dg.Definitions(
        assets=[dbt_incremental_marts, dbt_views_and_tables],
        resources={"dbt": DbtCliResource(project_dir=project, profiles_dir=str(PROJECT_DIR), dbt_executable=dbt_executable())},
    )


defs = build_definitions()
