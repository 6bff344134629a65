{#- The quarantine contract of quality/quarantine.py (DDL kept identical). Created when absent, so
    staging views can always read quality.active_quarantine, whichever area runs first. -#}
{% macro tessera_quarantine_ddl() -%}
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.quarantine (
    id              BIGSERIAL PRIMARY KEY,
    source_table    TEXT NOT NULL,
    record_key      TEXT NOT NULL,
    rule            TEXT NOT NULL,
    reason          TEXT NOT NULL,
    row_data        JSONB NOT NULL,
    run_id          TEXT,
    quarantined_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    released_at     TIMESTAMPTZ,
    released_run_id TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS quarantine_active_uq
    ON quality.quarantine (source_table, record_key, rule) WHERE released_at IS NULL;
CREATE OR REPLACE VIEW quality.active_quarantine AS
    SELECT DISTINCT source_table, record_key FROM quality.quarantine WHERE released_at IS NULL;
{%- endmacro %}

{#- present: whether quality.active_quarantine exists, when the caller read it already
    (tessera_on_run_start); none: read here. -#}
{% macro tessera_ensure_quarantine(present=none) -%}
    {%- if execute -%}
        {%- if present is none -%}
            {%- set present = run_query("select to_regclass('quality.active_quarantine') is not null").columns[0].values()[0] -%}
        {%- endif -%}
        {%- if not present -%}
            {%- do run_query(tessera_quarantine_ddl()) -%}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{#- True when the row whose key renders as key_expression is not actively quarantined
    (same contract as quality.quarantine.not_quarantined in Python). -#}
{% macro not_quarantined(source_table, key_expression) -%}
    not exists (
        select 1 from quality.active_quarantine aq
        where aq.source_table = '{{ source_table }}' and aq.record_key = {{ key_expression }}
    )
{%- endmacro %}

{#- The rules the row whose key renders as key_expression currently breaks (its active quarantine
    entries), sorted; empty for a clean row. Staging keeps every row and carries this as
    `quality_issues`, so the read views show rule-breaking rows flagged instead of hiding them; the
    stores the privacy rules govern (AI outputs, search, story access for others) leave such rows out.
    A jsonb array of rule ids (not text[]: dbt unit tests cannot cast a null to an array type). -#}
{% macro quality_issues(source_table, key_expression) -%}
    coalesce((
        select jsonb_agg(q.rule order by q.rule) from quality.quarantine q
        where q.released_at is null
          and q.source_table = '{{ source_table }}' and q.record_key = {{ key_expression }}
    ), '[]'::jsonb)
{%- endmacro %}

{#- Keys of source_table whose quarantine state changed after the watermark (quarantined or released). -#}


{#- on-run-start (dbt_project.yml): the quarantine table and the raw indexes (staging views read the
    quarantine). The two catalog reads that need no DDL before them (is the quarantine there, which raw
    indexes are missing) are one query. -#}
{% macro tessera_on_run_start() -%}
    {%- if execute -%}
        {%- set wanted = tessera_raw_indexes_wanted() -%}
        {%- set row = run_query(
            "select to_regclass('quality.active_quarantine') is not null, "
            ~ ("array_to_json(array(" ~ tessera_missing_raw_indexes_sql(wanted) ~ "))::text" if wanted else "'[]'")
        ).rows[0] -%}
        {#- the missing indexes as JSON text (agate would turn an array into JSON text anyway) -#}
        {%- do tessera_ensure_quarantine(row[0]) -%}
        {%- do tessera_create_raw_indexes(wanted, fromjson(row[1] or '[]')) -%}
    {%- endif -%}
    {#- nothing left for the hook to execute: its work is the queries above -#}
{%- endmacro %}
