"""Regenerates the staging layer of dbt_project/ from the source registry and a migrated source schema.

It lives with the registry because it is the registry written out for dbt: the dbt sources it declares
are the raw copies the registry names (`SourceTable.raw_schema`), and nothing under assets/ but ingest
and erasure, which own those copies, spells their schemas. It runs by hand, never in a pipeline.

One source YAML per product (freshness on `_ingested_at`), one staging view per source table
(`stg_<product>__<table>`: rename, cast, soft-delete flag, the rules a row breaks as
`quality_issues`; nothing else) and one
models YAML per product folder. The output is committed; run this after adding a table or migration:

    python -m sources.dbt_scaffold postgresql://.../app   # a database with sources/migrations applied

Small pure functions build the text; `main` only reads the catalog and writes files.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sources.registry import PRODUCTS, SourceTable, raw_schema_of, tables_for

STAGING_DIR = Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "staging"

# Column renames applied in staging (reserved or ambiguous names).
RENAMES = {"timestamp": "occurred_at", "date": "entry_date"}
QUOTED = {"timestamp", "date"}
# Casts: varchar(n) and char become text so downstream never depends on a length modifier.
TEXT_TYPES = ("character varying", "character(")

PRODUCT_DOCS = {
    "mindflow": "MindFlow journal (seed 004)",
    "mosaic": "Mosaic Life memorial stories (seed 000)",
    "personakit": "PersonaKit observations and personas (seed 001)",
    "coach": "Study coach plans, tasks and study sessions (seed 002)",
    "devassist": "AI Development Assistant agent sessions and governance (seed 003)",
}


def staging_name(table: SourceTable) -> str:
    return f"stg_{table.product}__{table.name}"


def key_expression(table: SourceTable, alias: str = "src") -> str:
    """The quarantine record_key of a row: primary key values as text, '|'-joined."""
    return " || '|' || ".join(f"{alias}.{k}::text" for k in table.key)


def column_expression(name: str, data_type: str) -> str:
    target = RENAMES.get(name, name)
    expr = f'"{name}"' if name in QUOTED else name
    if data_type.startswith(TEXT_TYPES):
        expr = f"{expr}::text"
    return expr if (target == name and expr == name) else f"{expr} as {target}"


def staging_sql(table: SourceTable, columns: list[tuple[str, str]]) -> str:
    lines = [column_expression(name, dtype) for name, dtype in columns]
    if table.soft_delete:
        lines.append(f'"{table.soft_delete}" is not null as is_deleted')
    lines.append(f"{{{{ quality_issues('{table.qualified}', \"{key_expression(table)}\") }}}} as quality_issues")
    lines += ["_ingested_at", "_source_lsn"]
    select = ",\n    ".join(lines)
    return (
        f"-- {table.description or table.name}: {table.raw_schema}.{table.name} renamed and cast"
        + (", soft deletes flagged" if table.soft_delete else "")
        + ",\n-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.\n"
        f"select\n    {select}\n"
        f"from {{{{ source('{table.raw_schema}', '{table.name}') }}}} as src\n"
    )


def sources_yaml(product: str, tables: tuple[SourceTable, ...]) -> str:
    schema = raw_schema_of(product)  # the dbt source is named like the schema it reads
    out = [
        "version: 2",
        "",
        "sources:",
        f"  - name: {schema}",
        f"    description: \"{PRODUCT_DOCS[product]}: exact copies written by the ingest assets.\"",
        f"    schema: {schema}",
        "    config:",
        "      loaded_at_field: _ingested_at",
        "      freshness:",
        "        warn_after: {count: 6, period: hour}",
        "        error_after: {count: 24, period: hour}",
        "    tables:",
    ]
    for t in tables:
        out.append(f"      - name: {t.name}")
        out.append(f"        description: \"{t.description}\"")
    return "\n".join(out) + "\n"


def models_yaml(product: str, tables: tuple[SourceTable, ...], columns: dict[str, list[tuple[str, str]]]) -> str:
    out = ["version: 2", "", "models:"]
    for t in tables:
        out.append(f"  - name: {staging_name(t)}")
        out.append(
            f"    description: \"{t.description}. One row per {t.raw_schema}.{t.name} row, quarantined or not (quality_issues)"
            + ("; is_deleted flags soft deletes" if t.soft_delete else "")
            + ".\""
        )
        out.append("    columns:")
        for name in t.key:
            out.append(f"      - name: {RENAMES.get(name, name)}")
            out.append("        description: \"Primary key" + (" (part)" if len(t.key) > 1 else "") + ".\"")
            out.append("        data_tests:")
            out.append("          - not_null")
            if len(t.key) == 1:
                out.append("          - unique")
        if t.soft_delete:
            out.append("      - name: is_deleted")
            out.append(f"        description: \"{t.soft_delete} is set (soft delete).\"")
            out.append("        data_tests: [not_null]")
        out.append("      - name: quality_issues")
        out.append("        description: \"Ids of the quality rules (quality/rules.py) the row currently breaks, from its "
                   "active quarantine entries; empty when clean. Read views keep such rows and flag them; AI outputs "
                   "and privacy-governed stores leave them out.\"")
        out.append("      - name: _ingested_at")
        out.append("        description: \"When ingest last wrote the row; drives incremental marts.\"")
        if len(t.key) > 1:
            out.append("    data_tests:")
            out.append(f"      - unique_combination:")
            out.append(f"          arguments:")
            out.append(f"            columns: [{', '.join(t.key)}]")
    return "\n".join(out) + "\n"


def read_columns(url: str) -> dict[str, list[tuple[str, str]]]:
    import psycopg

    from core.db import columns_of

    result = {}
    with psycopg.connect(url) as conn:
        for product in PRODUCTS:
            for t in tables_for(product):
                cols = columns_of(conn, t.product, t.name)
                if not cols:
                    raise SystemExit(f"{t.qualified} missing in {url}")
                result[t.qualified] = cols
    return result


def staging_files(columns: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    """Every file of the staging layer, path relative to STAGING_DIR -> text."""
    files = {}
    for product in PRODUCTS:
        tables = tables_for(product)
        files[f"{product}/_{product}__sources.yml"] = sources_yaml(product, tables)
        files[f"{product}/_{product}__models.yml"] = models_yaml(
            product, tables, {t.qualified: columns[t.qualified] for t in tables})
        for t in tables:
            files[f"{product}/{staging_name(t)}.sql"] = staging_sql(t, columns[t.qualified])
    return files


def main(argv: list[str]) -> None:
    for relative, text in staging_files(read_columns(argv[0])).items():
        path = STAGING_DIR / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


if __name__ == "__main__":
    main(sys.argv[1:])
