"""How dbt resources appear in Dagster: sources are the ingest assets, models live at [schema, name]."""

from __future__ import annotations

from typing import Any, Mapping

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from assets.dbt.keys import model_asset_key, source_asset_key

LAYERS = ("staging", "intermediate", "changes", "eligibility", "marts")


def layer_of(props: Mapping[str, Any]) -> str:
    schema = props.get("schema") or ""
    return schema if schema in LAYERS else "staging"


class TesseraDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(
            DagsterDbtTranslatorSettings(
                enable_asset_checks=True,  # dbt data tests -> asset checks; severity error => blocking
                enable_dbt_views_as_virtual_assets=True,  # views are always current; automation looks through them
                enable_code_references=True,  # each model links to its .sql file in the UI
            )
        )

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(source_asset_key(dbt_resource_props["source_name"], dbt_resource_props["name"]))
        return dg.AssetKey(model_asset_key(dbt_resource_props["schema"], dbt_resource_props["name"]))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return None  # owned by the ingest area
        return f"dbt_{layer_of(dbt_resource_props)}"

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        if dbt_resource_props["resource_type"] != "model":
            return None
        if dbt_resource_props.get("config", {}).get("materialized") == "view":
            # A view reads raw live: rebuild only when its SQL changes.
            return dg.AutomationCondition.code_version_changed() & ~dg.AutomationCondition.in_progress()
        # Stored models refresh as soon as an upstream raw table (seen through the views) updates.
        return dg.AutomationCondition.eager().resolve_through_virtual()

    def get_code_version(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return (dbt_resource_props.get("checksum") or {}).get("checksum", "")[:16] or None
