{#- on-run-start: the raw-table indexes the incremental marts need, created when absent.
    - `_ingested_at` on every raw source table: each mart finds its touched keys with
      `_ingested_at > watermark`; without this index each such filter scans the whole raw table.
    - lookup indexes (tessera_raw_lookup_indexes): a touched parent reaches its children (a user's
      entries, a legacy's stories, a plan's tasks...) and a refresh reads only the touched keys' rows.
      Without them each lookup is a hash join over the whole child table.
    Idempotent: one catalog probe (part of on-run-start's first query); only missing indexes (no index starting with those columns) are
    created; tables not ingested yet are skipped. The ingest area may take this over. -#}
{% macro tessera_raw_lookup_indexes() -%}
    {{ return({
        'raw_mindflow.journal_entries': [['user_id', 'date']],
        'raw_mindflow.journal_entry_tags': [['journal_entry_id'], ['tag_id']],
        'raw_mindflow.attachments': [['journal_entry_id']],
        'raw_mosaic.stories': [['legacy_id']],
        'raw_mosaic.groups': [['legacy_id']],
        'raw_mosaic.persons': [['legacy_id']],
        'raw_mosaic.person_relationships': [['from_person_id'], ['to_person_id']],
        'raw_personakit.observations': [['person_id']],
        'raw_devassist.agent_sessions': [['user_id']],
        'raw_devassist.governance_events': [['agent_session_id']],
        'raw_coach.study_sessions': [['user_id']],
        'raw_coach.plans': [['user_id']],
        'raw_coach.tasks': [['plan_id']],
    }) }}
{%- endmacro %}

{% macro tessera_raw_index_name(table, cols) -%}
    {%- set base = table ~ '__' ~ cols | join('_') -%}
    {{ (base ~ '_ix') if cols != ['_ingested_at'] else (table ~ '__ingested_at_ix') }}
{%- endmacro %}

{#- (schema, table, columns) of every index the marts need on the raw source tables. -#}
{% macro tessera_raw_indexes_wanted() -%}
    {%- set lookups = tessera_raw_lookup_indexes() -%}
    {%- set wanted = [] -%}
    {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
        {%- do wanted.append((node.schema, node.identifier, ['_ingested_at'])) -%}
        {%- for cols in lookups.get(node.schema ~ '.' ~ node.identifier, []) -%}
            {%- do wanted.append((node.schema, node.identifier, cols)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(wanted) }}
{%- endmacro %}

{#- The catalog probe: positions in `wanted` of the indexes missing on tables present (a query of one
    int column; tessera_on_run_start folds it into its own first query). -#}
{% macro tessera_missing_raw_indexes_sql(wanted) -%}
                select w.i
                from (values {% for s, t, cols in wanted %}({{ loop.index0 }}, '{{ s }}', '{{ t }}', array['{{ cols | join("', '") }}']::name[]){{ ", " if not loop.last }}{% endfor %}) as w (i, sch, tbl, cols)
                join pg_namespace n on n.nspname = w.sch
                join pg_class c on c.relnamespace = n.oid and c.relname = w.tbl and c.relkind in ('r', 'p')
                where (select count(*) from pg_attribute a
                       where a.attrelid = c.oid and a.attname = any(w.cols) and not a.attisdropped) = cardinality(w.cols)
                  and not exists (
                    select 1 from pg_index i
                    where i.indrelid = c.oid
                      and (select array_agg(a.attname order by k.ord)
                           from unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
                           join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
                           where k.ord <= cardinality(w.cols)) = w.cols
                  )
{%- endmacro %}

{#- Create the indexes at positions `missing` of `wanted`. -#}
{% macro tessera_create_raw_indexes(wanted, missing) -%}
    {%- for i in missing -%}
        {%- set sch, tbl, cols = wanted[i | int] -%}
        {%- set quoted = [] -%}
        {%- for c in cols -%}{%- do quoted.append(adapter.quote(c)) -%}{%- endfor -%}
        {%- do run_query('create index if not exists ' ~ adapter.quote(tessera_raw_index_name(tbl, cols)[-63:])
                         ~ ' on ' ~ adapter.quote(sch) ~ '.' ~ adapter.quote(tbl)
                         ~ ' (' ~ quoted | join(', ') ~ '); commit;') -%}
    {%- endfor -%}
{%- endmacro %}

{% macro tessera_ensure_raw_indexes() -%}
    {%- if execute -%}
        {%- set wanted = tessera_raw_indexes_wanted() -%}
        {%- if wanted -%}
            {%- set missing = [] -%}
            {%- for row in run_query(tessera_missing_raw_indexes_sql(wanted)) -%}
                {%- do missing.append(row[0]) -%}
            {%- endfor -%}
            {%- do tessera_create_raw_indexes(wanted, missing) -%}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}
