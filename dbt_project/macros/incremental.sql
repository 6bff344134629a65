{#-
  Key-replacement incrementals (used by the marts).

  Every incremental mart carries `_ingested_at`: the latest `_ingested_at` of the raw rows it was
  built from. Its maximum is the watermark W. On an incremental run:
    1. the pre-hook `tessera_replace_keys` deletes the mart rows of every key touched by a raw row
       (or a quarantine change) newer than W, and the rows whose key no longer exists upstream
       (hard deletes, found by an anti-join on the key);
    2. the pre-hook keeps the touched keys in a session temp table (tessera_touched()); the model,
       built next in the same transaction, selects fresh rows for those keys only, and delete+insert
       on unique_key writes them.
  A soft delete, an erased user or a quarantined row is a touched key whose fresh rows are filtered
  out, so its mart rows go and nothing replaces them. Work is proportional to the touched keys.
  Deleting a mart row can lower W: the next run then re-reads a few rows, which is harmless
  (replacing a key is idempotent). Assumes ingest ticks on one table commit in `_ingested_at` order.
-#}

{% macro tessera_watermark() -%}
    {%- if execute and is_incremental() -%}
        {%- set result = run_query("select coalesce(max(_ingested_at), '-infinity'::timestamptz)::text from " ~ this) -%}
        '{{ result.columns[0].values()[0] }}'::timestamptz
    {%- else -%}
        '-infinity'::timestamptz
    {%- endif -%}
{%- endmacro %}

{#- Name of the session temp table holding the keys the pre-hook replaced (read by the model body,
    which runs next in the same transaction, so both see one key set and one watermark). -#}
{% macro tessera_touched(axis='') -%}
    tessera_touched{{ '_' ~ axis if axis }}__{{ this.identifier }}
{%- endmacro %}

{#- Fill the session temp table tessera_touched(axis) with the distinct keys changed_keys(wm) returns,
    analyzed so the planner sees its real (small) size. -#}
{% macro tessera_collect_keys(cols, changed_keys, wm, axis='') -%}
        drop table if exists {{ tessera_touched(axis) }};
        create temp table {{ tessera_touched(axis) }} as
            select distinct * from ({{ changed_keys(wm) }}) as k ({{ cols | join(', ') }});
        analyze {{ tessera_touched(axis) }};
{%- endmacro %}

{#- Delete the rows of `this` whose cols match a key of tessera_touched(axis). -#}
{% macro tessera_delete_touched(cols, axis='') -%}
        delete from {{ this }} t
        using {{ tessera_touched(axis) }} k
        where {% for c in cols %}k.{{ c }} = t.{{ c }}{{ " and " if not loop.last }}{% endfor %};
{%- endmacro %}

{#- Pre-hook. key: one column or a list; changed_keys: the macro returning touched keys given W;
    present_sql: a query returning the keys that still exist upstream (hard deletes), or none.
    sparse_keys: the mart holds many rows per (single-column) key; the stored keys are then listed by a
    loose index scan (one descent per key) instead of reading every row. -#}
{% macro tessera_replace_keys(key, changed_keys, present_sql=none, sparse_keys=false) -%}
    {%- if is_incremental() -%}
        {%- set cols = [key] if key is string else key -%}
        {%- set wm = tessera_watermark() -%}
        {{ tessera_collect_keys(cols, changed_keys, wm) }}
        {{ tessera_delete_touched(cols) }}
        {%- if present_sql is not none and sparse_keys %}
        delete from {{ this }} t
        using ({{ tessera_distinct_values(this, cols[0]) }}) gone
        where t.{{ cols[0] }} = gone.{{ cols[0] }}
          and not exists (select 1 from ({{ present_sql }}) p where p.{{ cols[0] }} = gone.{{ cols[0] }});
        {%- elif present_sql is not none %}
        delete from {{ this }} t
        where not exists (
            select 1 from ({{ present_sql }}) p
            where {% for c in cols %}p.{{ c }} = t.{{ c }}{{ " and " if not loop.last }}{% endfor %}
        );
        {%- endif %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of story_access: two key axes. Rows of touched stories (tessera_touched('stories'))
    and of touched users (tessera_touched('users')) are deleted; the model re-grants exactly those. -#}
{% macro story_access_replace_keys() -%}
    {%- if is_incremental() -%}
        {%- set wm = tessera_watermark() -%}
        {{ tessera_collect_keys(['story_id'], story_access_changed_stories, wm, 'stories') }}
        {{ tessera_collect_keys(['user_id'], story_access_changed_users, wm, 'users') }}
        {{ tessera_delete_touched(['story_id'], 'stories') }}
        {{ tessera_delete_touched(['user_id'], 'users') }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
