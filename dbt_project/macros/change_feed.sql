{#-
  The change feed, as the incremental marts read it.

  Ingest records every change to a raw copy in tessera_meta.change_feed, in the transaction that makes
  it (assets/ingest/feed.py): the table, the operation, and the row's key and parent columns before
  and after, in commit order. Each incremental mart is a consumer with a cursor in
  tessera_meta.feed_cursors, and a refresh is three stock dbt steps:

    pre-hook   feed_open: bound the mart's window (cursor, newest position] and delete the rows of the
               keys its `changed_<mart>` models list (models/changes/): a deleted or no longer
               eligible key has no new row, so its old one must go before the insert;
    model      the mart's SQL restricted to those keys, merged by dbt's own `delete+insert` strategy on
               the mart's unique_key;
    post-hook  feed_close: the cursor moves to the window's end, in the mart's transaction, so it
               advances exactly when the mart's rows commit.

  The `changed_<mart>` models are views anyone can query: between refreshes they list the keys the
  next refresh will rebuild. A reload of a raw table ('T': a full load, a TRUNCATE, a drift resync) or
  a mart without a cursor yet makes the next refresh rebuild the whole mart (feed_rebuild). Pruning:
  rows every mart has consumed leave the feed at the end of each run (feed_prune).
-#}

{#- Columns of the before and after images of `table`'s changes ('raw_<product>.<table>') in the
    consumer's window, one row per image. columns: image fields, each 'name' (a uuid) or 'name::type'. -#}
{% macro feed_keys(consumer, table, columns) -%}
    select
        {%- for col in columns %}
        {%- set name, _, type = col.partition('::') %}
        (i.image->>'{{ name }}')::{{ type or 'uuid' }} as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from tessera_meta.feed_cursors as c
    join tessera_meta.change_feed as f
      on f.table_name = '{{ table }}' and f.position > c.position and f.position <= coalesce(c.upto, f.position)
    cross join lateral (values (f.old), (f.new)) as i (image)
    where c.consumer = '{{ consumer }}' and i.image is not null
{%- endmacro %}

{#- SQL, true when the consumer's refresh rebuilds everything: it has no cursor yet (its first
    incremental refresh) or a raw table was reloaded in its window. An uncorrelated condition: a query
    filtered by it is skipped whole when it is false. -#}
{% macro feed_rebuild(consumer) -%}
    exists (
        select 1 from tessera_meta.feed_cursors as c
        where c.consumer = '{{ consumer }}'
          and (c.rebuild or exists (
              select 1 from tessera_meta.change_feed as f
              where f.op = 'T' and f.position > c.position and f.position <= coalesce(c.upto, f.position)))
    )
{%- endmacro %}

{#- Pre-hook of an incremental mart. axes: the key axes it replaces, each {'model': a changed_<mart>
    model, 'columns': [key columns shared by that model and the mart]}. stale (optional): a SQL
    condition on the mart's rows that also need rebuilding (user_profile_view: rows computed on an
    earlier day); the body then rebuilds keys missing from the mart. -#}
{% macro feed_open(axes, stale=none) -%}
    insert into tessera_meta.feed_cursors as c (consumer, position, upto, rebuild)
    select '{{ this.identifier }}', 0, coalesce(max(position), 0), true from tessera_meta.change_feed
    on conflict (consumer) do update set upto = excluded.upto, updated_at = now();
    {%- if is_incremental() %}
    delete from {{ this }} where {{ feed_rebuild(this.identifier) }};
    {%- for axis in axes %}
    delete from {{ this }} as t
    using (select distinct {{ axis.columns | join(', ') }} from {{ ref(axis.model) }}) as k
    where {% for col in axis.columns %}t.{{ col }} = k.{{ col }}{{ ' and ' if not loop.last }}{% endfor %};
    {%- endfor %}
    {%- if stale %}
    delete from {{ this }} where {{ stale }};
    {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- Post-hook of an incremental mart: its cursor moves to the end of the window it consumed. -#}
{% macro feed_close() -%}
    update tessera_meta.feed_cursors
    set position = upto, upto = null, rebuild = false, updated_at = now()
    where consumer = '{{ this.identifier }}'
{%- endmacro %}

{#- The incremental marts of the project, by identifier (their cursors gate pruning). -#}
{% macro feed_consumers() -%}
    {%- set marts = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
        {%- if node.resource_type == 'model' and node.config.materialized == 'incremental' -%}
            {%- do marts.append(node.alias or node.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(marts) }}
{%- endmacro %}

{#- on-run-end: delete the feed rows every incremental mart has consumed (none while a mart has no
    cursor yet), so a deleted row's ids leave the feed in the run that removes it from the marts. -#}
{% macro feed_prune() -%}
    {%- if execute -%}
        {%- set marts = feed_consumers() -%}
        {%- if marts -%}
            {#- a DO block: the statement would not parse on a warehouse ingest has not written to yet -#}
            {%- do run_query("do $feed_prune$ begin "
                             ~ "if to_regclass('tessera_meta.change_feed') is not null then "
                             ~ "delete from tessera_meta.change_feed where position <= ("
                             ~ "select min(position) from tessera_meta.feed_cursors "
                             ~ "where consumer in ('" ~ marts | join("', '") ~ "') "
                             ~ "having count(*) = " ~ marts | length ~ "); "
                             ~ "end if; end $feed_prune$; commit;") -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
