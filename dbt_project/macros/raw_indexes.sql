{#- on-run-start: an index on `_ingested_at` for every raw source table, created when absent.
    Every incremental mart finds its touched keys with `_ingested_at > watermark` on raw tables
    through the staging views; without this index each of those filters scans the whole raw table,
    so a refresh would cost as much as reading everything. Idempotent (IF NOT EXISTS, and only the
    missing ones are created); tables not ingested yet are skipped. The ingest area may take this over. -#}
{% macro tessera_raw_ingested_at_index_name(table) -%}
    {{ (table ~ '__ingested_at_ix')[-63:] }}
{%- endmacro %}

{% macro tessera_ensure_raw_indexes() -%}
    {%- if execute -%}
        {%- set wanted = [] -%}
        {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- do wanted.append((node.schema, node.identifier)) -%}
        {%- endfor -%}
        {%- if wanted -%}
            {%- set probe -%}
                select w.sch, w.tbl
                from (values {% for s, t in wanted %}('{{ s }}', '{{ t }}'){{ ", " if not loop.last }}{% endfor %}) as w (sch, tbl)
                join pg_namespace n on n.nspname = w.sch
                join pg_class c on c.relnamespace = n.oid and c.relname = w.tbl and c.relkind in ('r', 'p')
                join pg_attribute a on a.attrelid = c.oid and a.attname = '_ingested_at' and not a.attisdropped
                where not exists (
                    select 1 from pg_index i
                    where i.indrelid = c.oid and i.indkey[0] = a.attnum
                )
            {%- endset -%}
            {%- for row in run_query(probe) -%}
                {%- do run_query('create index if not exists ' ~ adapter.quote(tessera_raw_ingested_at_index_name(row[1]))
                                 ~ ' on ' ~ adapter.quote(row[0]) ~ '.' ~ adapter.quote(row[1]) ~ ' (_ingested_at)') -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}
