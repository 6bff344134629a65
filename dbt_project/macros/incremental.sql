{#-
  Key-replacement incrementals (used by the marts). Every refresh costs what changed, never a pass
  over a whole table.

  Each mart keeps its state in tessera_meta.mart_log_cursors, written by its pre-hook in the mart's own
  transaction (so it advances only when the mart commits): the watermark W, the highest `_ingested_at`
  of its lineage's raw tables read before its keys were collected (one index probe per table; a max
  over the mart's own rows would miss raw rows that feed no mart row, e.g. person relationships that
  grant nothing, and keep touching them forever), and the snapshot up to which it consumed the raw
  change log. A refresh replaces the mart's touched keys:
    - keys of raw rows written after W (upserts: inserts, updates, soft deletes), and of quarantine
      entries or releases after W;
    - keys derived from the raw change log (macros/raw_deletions.sql) rows committed since the mart's
      log cursor: hard-deleted rows and rows that moved between keys, read from their OLD values
      (an attachment's journal_entry_id, a group's legacy_id, an entry's month...).
  The pre-hook (tessera_replace_keys) collects the touched keys into a session temp table
  (tessera_touched()), deletes their mart rows, and advances the mart's log cursor in the mart's own
  transaction; the model body, built next in the same transaction, selects fresh rows for those keys
  only and they are appended (incremental_strategy 'append': the pre-hook already deleted every
  touched key's rows, so dbt's own delete+insert would only repeat that delete; unique_key stays as
  documentation and the unique index on it guards against a body that strays from the touched keys). A soft delete, a hard delete, an erased user or a
  quarantined row is a touched key whose fresh rows are gone or filtered out, so its mart rows go and
  nothing replaces them.

  Where a body reads the touched keys through a view that joins or groups (int_coach__daily_activity,
  a month of int_mindflow__live_entries, an entry's tags and attachments), it takes each key as a
  LATERAL parameter (`offset 0` keeps the subquery from being flattened into a join): the equality
  then reaches the raw lookup indexes, where a semi-join on the view's output lets the planner hash or
  aggregate whole raw tables first. The insert itself is the lean path of this project's incremental
  materialization (macros/materialization_incremental.sql).

  Idle: when no input of the mart changed since its last refresh (tessera_state_query's idle), the
  lean materialization skips the pre-hook and the model and only moves the log cursor on, so a mart
  whose products did not change costs its state read.

  Forced rebuild: when the log shows a TRUNCATE ('T', a full load or reload) or a recreated raw table
  ('R', e.g. a drift resync) among the mart's raw tables since its cursor, or the mart has no cursor
  yet (first refresh after this log was introduced), deletes may be unknown: that run deletes every
  mart row and the touched keys are every upstream key (changed_keys with W = -infinity), i.e. a
  rebuild inside the incremental run. The mart's raw tables are its lineage's dbt sources.

  Assumes a raw row committed after a refresh read W carries an `_ingested_at` above W (ingest ticks
  commit in `_ingested_at` order); the log itself is read by commit, through snapshots, so it needs no
  such assumption. Replacing a key is idempotent: re-reading a few rows is harmless.
-#}

{#- The highest _ingested_at of the model's lineage raw tables (each by its _ingested_at index).
    tables: tessera_lineage_sources(), when the caller holds it already. -#}
{% macro tessera_lineage_high_water(tables=none) -%}
    (select max(m) from (
        {%- for t in (tables if tables is not none else tessera_lineage_sources()) %}
        select max(_ingested_at) as m from {{ t }}{{ " union all" if not loop.last }}
        {%- endfor %}
    ) hw)
{%- endmacro %}

{#- Names of the session temp tables of this model: touched keys (read by the model body, which runs
    next in the same transaction), the log rows it consumes, and the snapshot it consumes them up to. -#}
{% macro tessera_touched(axis='') -%}
    tessera_touched{{ '_' ~ axis if axis }}__{{ this.identifier }}
{%- endmacro %}

{% macro tessera_log() -%}
    tessera_log__{{ this.identifier }}
{%- endmacro %}

{% macro tessera_log_snapshot() -%}
    tessera_logsnap__{{ this.identifier }}
{%- endmacro %}

{#- 'schema.table' of every dbt source in the current model's lineage (the raw tables it reads). -#}
{% macro tessera_lineage_sources() -%}
    {%- set queue = [model.unique_id] -%}
    {%- set seen = [] -%}
    {%- set tables = [] -%}
    {%- for uid in queue -%}
        {%- if uid not in seen -%}
            {%- do seen.append(uid) -%}
            {%- if uid in graph.sources -%}
                {%- set src = graph.sources[uid] -%}
                {%- do tables.append(src.schema ~ '.' ~ src.identifier) -%}
            {%- elif uid in graph.nodes -%}
                {%- for parent in graph.nodes[uid].depends_on.nodes -%}
                    {%- do queue.append(parent) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(tables | unique | sort) }}
{%- endmacro %}

{#- The mart's state read, as one multi-statement query: the log rows of its raw tables committed since
    its cursor into tessera_log(), the snapshot they are read up to and the next watermark into
    tessera_log_snapshot(), then one row (forced, wm, idle[, extra]): forced when the run must rebuild
    every key (truncated or recreated raw table, or no state yet); wm the watermark of the previous
    run, as text; idle when no input of the mart changed since: no raw row of its lineage written after
    wm (the lineage's high water is still wm), no log row, no quarantine entry or release of its raw
    tables after wm, and the model does not set refresh_when_idle (keys that change with time, e.g.
    user_profile_view's rows computed on an earlier day). extra: more select-list expressions for that
    row (the lean probe, see macros/materialization_incremental.sql). -#}
{% macro tessera_state_query(extra='') -%}
    {%- set tables = tessera_lineage_sources() -%}
        drop table if exists {{ tessera_log_snapshot() }};
        drop table if exists {{ tessera_log() }};
        create temp table {{ tessera_log_snapshot() }} as
            select pg_current_snapshot() as snap, c.snapshot as seen, c.watermark as wm,
                   coalesce({{ tessera_lineage_high_water(tables) }}, '-infinity'::timestamptz) as new_wm
            from (select 1) one
            left join tessera_meta.mart_log_cursors c on c.mart = '{{ this.identifier }}';
        create temp table {{ tessera_log() }} as
            select d.table_name, d.op, d.row
            from tessera_meta.raw_deletions d, {{ tessera_log_snapshot() }} s
            where d.table_name in ('{{ tables | join("', '") }}')
              and d.xid >= pg_snapshot_xmin(s.seen)
              and not pg_visible_in_snapshot(d.xid, s.seen)
              and pg_visible_in_snapshot(d.xid, s.snap);
        analyze {{ tessera_log() }};
        select (seen is null or wm is null or exists (select 1 from {{ tessera_log() }} where op in ('T', 'R'))) as forced,
               coalesce(wm, '-infinity'::timestamptz)::text as wm,
               {%- if config.get('refresh_when_idle', false) %}
               false as idle
               {%- else %}
               (seen is not null and new_wm <= wm
                and not exists (select 1 from {{ tessera_log() }})
                and not exists (select 1 from quality.quarantine q
                                where q.source_table in ('{{ tables | map('replace', 'raw_', '', 1) | join("', '") }}')
                                  and (q.quarantined_at > wm or q.released_at > wm))) is true as idle
               {%- endif %}{{ ', ' ~ extra if extra }}
        from {{ tessera_log_snapshot() }}
{%- endmacro %}

{#- (forced, W, idle) from a row of tessera_state_query(): W as a SQL literal. -#}
{% macro tessera_state_of(row) -%}
    {{ return((row[0], "'" ~ row[1] ~ "'::timestamptz", row[2])) }}
{%- endmacro %}

{#- Read the mart's state (tessera_state_query) and return (forced, W, idle). The lean path of the
    materialization (macros/materialization_incremental.sql) reads it already, in the round trip of its
    catalog probe, which comes first in the same transaction: it leaves (forced, W, idle) in the
    model's context (model['tessera_state']), taken here once, so a refresh costs one query less per
    mart. -#}
{% macro tessera_read_state() -%}
    {%- set stashed = model.pop('tessera_state', none) -%}
    {%- if stashed is not none -%}
        {{ return(stashed) }}
    {%- endif -%}
    {%- set row = run_query(tessera_state_query()).rows[0] -%}
    {{ return(tessera_state_of(row)) }}
{%- endmacro %}

{#- Record the snapshot this run consumed the log up to and the watermark it covered (inside the
    mart's transaction). A full build covers everything committed before it starts. -#}
{% macro tessera_advance_cursor(incremental) -%}
        insert into tessera_meta.mart_log_cursors (mart, snapshot, watermark, updated_at)
        {%- if incremental %}
        select '{{ this.identifier }}', s.snap, s.new_wm, now() from {{ tessera_log_snapshot() }} s
        {%- else %}
        select '{{ this.identifier }}', pg_current_snapshot(), coalesce({{ tessera_lineage_high_water() }}, '-infinity'::timestamptz), now()
        {%- endif %}
        on conflict (mart) do update
            set snapshot = excluded.snapshot, watermark = excluded.watermark, updated_at = excluded.updated_at;
{%- endmacro %}

{#- Rows of the consumed log for one raw table ('D' deleted and 'U' moved rows: their OLD values),
    as relation `l` with a jsonb column `row`. -#}
{% macro tessera_logged(table) -%}
    (select l.row from {{ tessera_log() }} l where l.table_name = '{{ table }}' and l.op in ('D', 'U'))
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

{#- The pre-hook skeleton of every key-replacement mart. axes: one dict per key axis, each with
    cols (the key columns), changed (the macro returning the axis's touched keys given W; it reads the
    consumed log through tessera_logged), axis (the suffix of its tessera_touched() table, '' for a
    single axis) and optionally forced (the keys to collect on a forced rebuild, given
    '-infinity'; default: changed). Rows matching a touched key of any axis are deleted (with
    settle_rows on the lean path, replaced in place where they change: tessera_settle_rows_sql).
    settle_unchanged (optional): a macro of W rendering statements run after the keys are collected and
    before their rows are deleted, which may remove from tessera_touched() the keys whose stored row
    already equals what the model would build (and bring that row's bookkeeping columns up to date),
    so that only keys whose row changes are rebuilt. Not used on a forced rebuild. -#}
{% macro tessera_replace_axes(axes, settle_unchanged=none) -%}
    {%- if is_incremental() -%}
        {#- idle is the lean materialization's to act on (it then skips this hook and the model): here the
            keys are always collected, since the model body reads them -#}
        {%- set forced, wm, idle = tessera_read_state() if execute else (false, "'-infinity'::timestamptz", false) -%}
        {%- if forced %}
        {%- do log(this.identifier ~ ': rebuilding every key (raw table truncated or recreated, or no log cursor yet)', info=true) %}
        -- forced rebuild: truncated or recreated raw table, or no log cursor yet
        {%- for a in axes %}
        {{ tessera_collect_keys(a.cols, a.get('forced') or a.changed, "'-infinity'::timestamptz", a.axis) }}
        {%- endfor %}
        delete from {{ this }};
        {%- do model.update({'tessera_settle_axes': []}) %}
        {%- else %}
        {%- for a in axes %}
        {{ tessera_collect_keys(a.cols, a.changed, wm, a.axis) }}
        {%- endfor %}
        {%- if settle_unchanged is not none %}
        {{ settle_unchanged(wm) }}
        {%- endif %}
        {%- if model.get('tessera_settle_rows') %}
        {#- settle_rows on the lean path: the materialization replaces the touched keys' rows where the
            model's fresh rows change them (tessera_settle_rows_sql), once those are computed -#}
        {%- do model.update({'tessera_settle_axes': axes}) %}
        {%- else %}
        {%- for a in axes %}
        {{ tessera_delete_touched(a.cols, a.axis) }}
        {%- endfor %}
        {%- endif %}
        {%- endif %}
        {{ tessera_advance_cursor(true) }}
    {%- else -%}
        {{ tessera_advance_cursor(false) }}
    {%- endif -%}
{%- endmacro %}

{#- settle_rows (a model config, for marts whose touched keys mostly keep their rows, or change them
    in place: journals_view's edited entries, coach_daily_progress's learners, all of whose days a
    touched learner recomputes): on the lean path, instead of deleting every row of the touched keys
    and inserting the model's rows for them, the model's rows go to a temp table first
    (tessera_fresh__<mart>) and are matched with the stored rows of the touched keys on unique_key:
      - a stored row a fresh row repeats exactly (every contract column) stays as it is;
      - a stored row a fresh row changes is updated in place: with room on its page (the mart's
        fillfactor, macros/create_table_as.sql) and no indexed column changed, a HOT update, which
        writes no index entry;
      - a stored row no fresh row has is deleted, a fresh row no stored row has is inserted.
    A learner with one changed day then rewrites that day (and the streak days it moves), not the
    year; an edited entry's text costs no index upkeep. `view`: the temp view of the model's SQL;
    `cols`: quoted contract columns. The pre-hook (tessera_replace_axes) collected the touched keys
    and left their axes in model['tessera_settle_axes'] (none after a forced rebuild's delete of
    every row). Ends with the insert, whose row count dbt reports. -#}
{% macro tessera_settle_rows_sql(target, view, cols) -%}
    {%- set key = config.get('unique_key') -%}
    {%- if not key -%}
        {{ exceptions.raise_compiler_error(this.identifier ~ ': settle_rows needs a unique_key (the key rows are matched on)') }}
    {%- endif -%}
    {%- set key = [key] if key is string else key -%}
    {%- set fresh = 'tessera_fresh__' ~ this.identifier -%}
    {%- set stored = 'tessera_stored__' ~ this.identifier -%}
        drop table if exists pg_temp.{{ fresh }};
        create temp table {{ fresh }} as select {{ cols | join(', ') }} from pg_temp.{{ view }};
        drop table if exists pg_temp.{{ stored }};
        -- the stored rows of the touched keys (by the mart's index on each axis, one probe per key), each
        -- with whether a fresh row repeats it exactly
        create temp table {{ stored }} as
            select distinct on (t.row_ctid) t.row_ctid, {% for k in key %}t.{{ k }}, {% endfor %}
                   f.{{ key[0] }} is not null as has_fresh,
                   (f.{{ key[0] }} is not null
                    and ({% for c in cols %}t.{{ c }}{{ ', ' if not loop.last }}{% endfor %})
                        is not distinct from ({% for c in cols %}f.{{ c }}{{ ', ' if not loop.last }}{% endfor %})) as same
            from (select * from (
                {%- for a in model['tessera_settle_axes'] %}
                select t.*
                from {{ tessera_touched(a.axis) }} k
                cross join lateral (
                    select m.ctid as row_ctid, m.* from {{ target }} m
                    where {% for c in a.cols %}m.{{ c }} = k.{{ c }}{{ ' and ' if not loop.last }}{% endfor %}
                    offset 0  -- one index probe per touched key
                ) t
                {{ 'union all' if not loop.last }}
                {%- endfor %}
                {%- if not model['tessera_settle_axes'] %}
                select null::tid as row_ctid, m.* from {{ target }} m where false
                {%- endif %}
            ) u offset 0) t  -- the stored rows first, then one join with the fresh rows
            left join pg_temp.{{ fresh }} f on {% for k in key %}f.{{ k }} = t.{{ k }}{{ ' and ' if not loop.last }}{% endfor %};
        -- stored rows a fresh row changes: updated in place (by their ctid, read above in this transaction)
        update {{ target }} m
        set {% for c in cols %}{{ c }} = f.{{ c }}{{ ', ' if not loop.last }}{% endfor %}
        from pg_temp.{{ stored }} s
        join pg_temp.{{ fresh }} f on {% for k in key %}f.{{ k }} = s.{{ k }}{{ ' and ' if not loop.last }}{% endfor %}
        where s.has_fresh and not s.same and m.ctid = s.row_ctid;
        -- stored rows no fresh row has
        delete from {{ target }} m
        where m.ctid = any(array(select row_ctid from pg_temp.{{ stored }} where not has_fresh));
        -- fresh rows no stored row has
        insert into {{ target }} ({{ cols | join(', ') }})
        select {% for c in cols %}f.{{ c }}{{ ', ' if not loop.last }}{% endfor %} from pg_temp.{{ fresh }} f
        where not exists (
            select 1 from pg_temp.{{ stored }} s
            where {% for k in key %}s.{{ k }} = f.{{ k }}{{ ' and ' if not loop.last }}{% endfor %})
{%- endmacro %}

{#- Pre-hook of a mart with one key axis. key: one column or a list; changed_keys and
    settle_unchanged as in tessera_replace_axes. -#}
{% macro tessera_replace_keys(key, changed_keys, settle_unchanged=none) -%}
    {{ return(tessera_replace_axes(
        [{'cols': [key] if key is string else key, 'changed': changed_keys, 'axis': ''}], settle_unchanged)) }}
{%- endmacro %}

{#- Pre-hook of story_access: two key axes. Rows of touched stories (tessera_touched('stories'))
    and of touched users (tessera_touched('users')) are deleted; the model re-grants exactly those.
    A forced rebuild touches every story (every grant belongs to a story). -#}
{% macro story_access_replace_keys() -%}
    {{ return(tessera_replace_axes([
        {'cols': ['story_id'], 'changed': story_access_changed_stories, 'forced': story_access_all_stories, 'axis': 'stories'},
        {'cols': ['user_id'], 'changed': story_access_changed_users, 'forced': story_access_no_users, 'axis': 'users'},
    ])) }}
{%- endmacro %}
