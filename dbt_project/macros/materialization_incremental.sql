{#-
  The incremental materialization of this project (postgres): dbt's own, plus a lean path for the
  refresh of a key-replacement mart (macros/incremental.sql), whose cost should be what changed.

  dbt's incremental run of an 'append' mart issues about a dozen statements besides the model's own
  work: the model into a temp table, its columns and the target's read back from information_schema
  (on_schema_change), the insert from the temp table, then every table and column comment rewritten
  (persist_docs) after reading the columns twice more. Each costs a round trip and, mostly, dbt's
  Python (agate tables, Jinja); together about 0.1 s per mart and refresh, more than most refreshes'
  SQL.

  The lean path runs when nothing of that can matter: the relation exists as a table, no full
  refresh, strategy 'append', contract enforced (the model's columns are the contract's), no grants
  configured, and one catalog probe (tessera_lean_probe) finds every contract column in the table with
  the comments persist_docs would write (table and columns); that probe rides on the round trip of the
  mart's state read (macros/incremental.sql), which the pre-hook would make anyway. It then does what dbt would do:
  in one round trip: the pre-hooks (rendered as dbt's run_hooks would), the model SQL as a temp view,
  the contract check of dbt's create-table path against it (tessera_contract_check: names and data
  types), and `insert into target (contract columns) select those columns from the view`, in one
  transaction;
  post-hooks, commit. That transaction commits with synchronous_commit off (SET LOCAL): the refresh
  does not wait for the WAL flush of its commit (an fdatasync: a few milliseconds per mart, more on a
  busy disk). Visibility is unchanged (other sessions see the commit at once); only durability is
  deferred: the WAL writer flushes it within a fraction of a second (wal_writer_delay), and any later
  synchronous commit flushes it first (WAL is flushed in order). A crash in between could lose the
  last refreshes, never part of one: the mart's rows and its log cursor (tessera_meta.mart_log_cursors)
  commit together, so a lost refresh is redone whole by the next run.
  Two refinements of the lean path (macros/incremental.sql): a mart none of whose inputs changed since
  its last refresh (idle) runs only the move of its log cursor; a mart configured settle_rows updates
  the rows of its touched keys in place, only where their values change (tessera_settle_rows_sql).
  Any other case (first build, --full-refresh, a contract column
  missing from the table, edited docs...) takes dbt's own materialization, unchanged: it adds new
  columns (on_schema_change) and rewrites comments, after which the next refresh is lean again.
-#}

{#- True when the table `relation` has every contract column of the model and carries the comments
    persist_docs would write; one catalog query. On an incremental run of an 'append' mart (this
    project's key-replacement marts, whose pre-hook reads the mart's state first thing: tessera_read_state
    in macros/incremental.sql) that query is the state read too (tessera_state_query, with the probe as
    one more column): the probe comes first in the transaction the pre-hook then runs in, and it leaves
    (forced, W, idle) in model['tessera_state'] for the pre-hook, whichever materialization path follows. -#}
{% macro tessera_lean_probe(relation) -%}
    {%- set columns = model.columns.values() | list -%}
    {%- set check_relation = config.persist_relation_docs() and model.description -%}
    {%- set check_columns = config.persist_column_docs() -%}
    {%- set probe -%}
        coalesce((select
            (select count(*)
             from (values {% for col in columns %}({{ loop.index }}, '{{ col.name }}',
                   {{- postgres_escape_comment(col.description) if col.description else 'null::text' }}){{ ", " if not loop.last }}{% endfor %}
                  ) as w (i, name, descr)
             join pg_attribute a on a.attrelid = c.oid and a.attname = w.name and a.attnum > 0 and not a.attisdropped
             {%- if check_columns %}
             where col_description(c.oid, a.attnum) is not distinct from w.descr
             {%- endif %}
            ) = {{ columns | length }}
            {%- if check_relation %}
            and obj_description(c.oid, 'pg_class') is not distinct from {{ postgres_escape_comment(model.description) }}
            {%- endif %}
        from pg_class c
        where c.oid = to_regclass('{{ relation }}')), false)
    {%- endset -%}
    {%- if is_incremental() and config.get('incremental_strategy') == 'append' -%}
        {%- set row = run_query(tessera_state_query(probe ~ ' as lean')).rows[0] -%}
        {%- do model.update({'tessera_state': tessera_state_of(row)}) -%}
        {{ return(row[3]) }}
    {%- endif -%}
    {%- set rows = run_query('select ' ~ probe).rows -%}
    {{ return(rows[0][0]) }}
{%- endmacro %}

{#- The contract check of dbt's create-table path (get_assert_columns_equivalent: every contract
    column present in the model's output with the contract's data type, base types compared as dbt
    compares cursor type codes, no extra column) as one SQL statement over the temp view `view` holding
    the model's SQL: an exception names the mismatches. dbt's own check costs two more round trips and
    their Python per mart and refresh. -#}
{% macro tessera_contract_check(view) -%}
        do $tessera_contract$
        declare mismatches text;
        begin
            select string_agg(coalesce(c.name, a.attname) || ': contract '
                              || coalesce(format_type(c.typ, null), 'missing') || ', model '
                              || coalesce(format_type(a.atttypid, null), 'missing'), '; ' order by coalesce(c.pos, 1000 + a.attnum))
            into mismatches
            from (values {% for col in model.columns.values() %}('{{ col.name }}', '{{ col.data_type }}'::regtype::oid, {{ loop.index }}){{ ", " if not loop.last }}{% endfor %})
                 as c (name, typ, pos)
            full join (
                select attname::text as attname, atttypid, attnum from pg_attribute
                where attrelid = 'pg_temp.{{ view }}'::regclass and attnum > 0 and not attisdropped
            ) a on a.attname = c.name
            where c.name is null or a.attname is null or a.atttypid <> c.typ;
            if mismatches is not null then
                raise exception 'contract of {{ this }} not met by its SQL: %', mismatches;
            end if;
        end
        $tessera_contract$;
{%- endmacro %}

{% macro tessera_lean_incremental_applies(existing_relation) -%}
    {%- set contract = config.get('contract') -%}
    {{ return(
        existing_relation is not none
        and existing_relation.is_table
        and not should_full_refresh()
        and config.get('incremental_strategy') == 'append'
        and contract is not none and contract.enforced
        and model.columns
        and not config.get('grants')
        and tessera_lean_probe(existing_relation)
    ) }}
{%- endmacro %}

{% materialization incremental, adapter='postgres' -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- if not tessera_lean_incremental_applies(existing_relation) -%}
        {{ return(dbt.materialization_incremental_default()) }}
    {%- endif -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set quoted = [] -%}
    {%- for col in model.columns.values() -%}
        {%- do quoted.append(adapter.quote(col.name)) -%}
    {%- endfor -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {#- idle (tessera_state_query): no input of the mart changed since its last refresh, so no key is
        touched and the model would insert nothing. Its key-replacement pre-hook and its SQL are then
        skipped: only its log cursor moves on (a cursor left behind would hold back the pruning of the
        change log, which runs up to the oldest cursor). -#}
    {%- set idle = model.get('tessera_state', [false, none, false])[2] -%}
    {%- if idle -%}
        {%- do model.pop('tessera_state') -%}
    {%- endif -%}
    {#- settle_rows (macros/incremental.sql, tessera_settle_rows_sql): the pre-hook leaves the touched
        keys' rows for the statement below to replace only where they change -#}
    {%- set settle_rows = config.get('settle_rows', false) -%}
    {%- do model.update({'tessera_settle_rows': settle_rows}) -%}
    {#- the pre-hooks of the transaction, rendered here (as run_hooks would) and run as the start of the
        main statement: the pre-hook's replace-keys work and the insert share one transaction (begun by
        the lean probe) and one round trip -#}
    {%- set hooks_sql = [] -%}
    {%- for hook in pre_hooks | selectattr('transaction', 'equalto', true) if not idle -%}
        {%- set rendered = render(hook.get('sql')) | trim -%}
        {%- if rendered | length > 0 -%}
            {%- do hooks_sql.append(rendered) -%}
        {%- endif -%}
    {%- endfor -%}

    {#- one round trip: the pre-hooks, the model's SQL as a temp view, checked against its contract
        (tessera_contract_check), then inserted -#}
    {%- set view = 'tessera_model__' ~ this.identifier -%}
    {% call statement('main') -%}
        -- the commit below need not wait for its WAL flush (see the header)
        set local synchronous_commit = off;
        {%- if idle %}
        -- idle: nothing changed since the last refresh
        {{ tessera_advance_cursor(true) }}
        {%- else %}
        {% for hook_sql in hooks_sql %}
        {{ hook_sql }}
        ;
        {% endfor %}
        drop view if exists pg_temp.{{ view }};
        create temp view {{ view }} as
        {{ sql }}
        ;
        {{ tessera_contract_check(view) }}
        {%- if settle_rows %}
        {{ tessera_settle_rows_sql(target_relation, view, quoted) }}
        {%- else %}
        -- last, so that dbt reports the insert's row count (the temp view goes with the session)
        insert into {{ target_relation }} ({{ quoted | join(', ') }})
        select {{ quoted | join(', ') }}
        from pg_temp.{{ view }}
        {%- endif %}
        {%- endif %}
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do adapter.commit() %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}
