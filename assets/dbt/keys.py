"""Asset keys of dbt resources, for the translator and for the areas that read dbt models.

A dbt source is the ingest asset of its raw copy; a model lives at [schema, name] (`staging`,
`eligibility`, `marts`, ...). Kept apart from translator.py so an area can name the models it reads
without importing dagster_dbt.
"""

from __future__ import annotations

import dagster as dg


def source_asset_key(source_name: str, table_name: str) -> list[str]:
    """dbt source <raw schema>.<table> -> the ingest asset [<raw schema>, <table>] (sources/registry.py)."""
    return [source_name, table_name]


def model_asset_key(schema: str, name: str) -> list[str]:
    return [schema, name]


def model_key(relation: str) -> dg.AssetKey:
    """'eligibility.eligible_mosaic_stories' -> the Dagster key of that dbt model."""
    schema, name = relation.split(".")
    return dg.AssetKey(model_asset_key(schema, name))


def model_keys(*relations: str) -> list[dg.AssetKey]:
    return [model_key(r) for r in relations]
