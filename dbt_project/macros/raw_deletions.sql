{#-
  The raw change log: what a raw table no longer shows.

  A hard delete leaves no row behind in raw_<product>.<table>, so the incremental marts could only find
  it by comparing whole tables. Instead, triggers on every raw source table (the warehouse's copies;
  the no-trigger rule is for the products' source database) write to tessera_meta.raw_deletions:
    op 'D'  a deleted row: its OLD values of the columns the marts need (tessera_logged_columns; keys
            and parent keys, never content), statement-level through the transition table (one insert
            per DELETE statement, so ingest batches and the erasure stay cheap);
    op 'U'  the same OLD columns of an update that moved a row between mart keys (a parent column changed, e.g.
            an entry's date or a story's legacy_id; tessera_moving_columns); also catches updates that
            leave _ingested_at alone (the erasure removing a user from groups.members);
    op 'T'  the table was truncated (a full load or reload);
    op 'R'  the hook found the table recreated (relation OID changed, e.g. a drift resync dropped and
            recreated it) or seen for the first time: deletes before the triggers existed are unknown.
  Each row carries the writing transaction id (xid). A mart keeps, in tessera_meta.mart_log_cursors,
  the snapshot up to which it consumed the log (written in the mart's own transaction, so it advances
  only when the mart commits); the next refresh reads the rows committed since, whatever their
  commit order. A 'T' or 'R' row for one of its raw tables, or no cursor yet, makes the mart rebuild
  every key in that run (macros/incremental.sql).

  tessera_ensure_deletion_log (on-run-start) creates the log, (re)installs triggers only on the raw
  tables that lack them (one catalog probe per run, besides the log's version, which on-run-start reads
  in its first query); tessera_prune_change_log (on-run-end) deletes
  the rows every mart has consumed, so a deleted row's ids leave the log in the run that removes it
  from the marts (a run that fails before its end leaves them to the next run's end).
-#}

{#- Per raw table, the columns whose change moves a row from one mart key to another. -#}
{% macro tessera_moving_columns() -%}
    {{ return({
        'raw_mindflow.journal_entries': ['user_id', 'date'],
        'raw_mindflow.journal_entry_tags': ['journal_entry_id', 'tag_id'],
        'raw_mindflow.attachments': ['journal_entry_id'],
        'raw_mindflow.user_streaks': ['user_id'],
        'raw_mindflow.user_settings': ['user_id'],
        'raw_mindflow.user_gdpr_consent': ['user_id'],
        'raw_mosaic.stories': ['legacy_id'],
        'raw_mosaic.groups': ['legacy_id', 'members'],
        'raw_mosaic.persons': ['legacy_id', 'user_id'],
        'raw_mosaic.person_relationships': ['from_person_id', 'to_person_id'],
        'raw_personakit.observations': ['person_id'],
        'raw_devassist.agent_sessions': ['user_id'],
        'raw_devassist.governance_events': ['agent_session_id'],
        'raw_coach.study_sessions': ['user_id'],
        'raw_coach.plans': ['user_id'],
        'raw_coach.tasks': ['plan_id'],
    }) }}
{%- endmacro %}

{#- Per raw table, the OLD columns the marts' touched-key macros read (macros/changed_keys.sql). Only
    these are logged (data minimization: the log never copies content such as an entry's text);
    other tables log the fact of a delete with a null row. -#}
{% macro tessera_logged_columns() -%}
    {{ return({
        'raw_mindflow.users': ['id'],
        'raw_mindflow.journal_entries': ['id', 'user_id', 'date'],
        'raw_mindflow.journal_entry_tags': ['journal_entry_id'],
        'raw_mindflow.tags': ['name'],
        'raw_mindflow.attachments': ['journal_entry_id'],
        'raw_mindflow.user_streaks': ['user_id'],
        'raw_mindflow.user_settings': ['user_id'],
        'raw_mindflow.user_gdpr_consent': ['user_id'],
        'raw_mosaic.users': ['id'],
        'raw_mosaic.legacies': ['id'],
        'raw_mosaic.stories': ['id', 'legacy_id'],
        'raw_mosaic.groups': ['legacy_id'],
        'raw_mosaic.persons': ['legacy_id'],
        'raw_mosaic.person_relationships': ['from_person_id', 'to_person_id'],
        'raw_personakit.persons': ['person_id'],
        'raw_personakit.observations': ['person_id'],
        'raw_devassist.users': ['user_id'],
        'raw_devassist.agent_sessions': ['agent_session_id', 'user_id'],
        'raw_devassist.governance_events': ['agent_session_id'],
        'raw_coach.users': ['id'],
        'raw_coach.study_sessions': ['user_id'],
        'raw_coach.plans': ['user_id'],
        'raw_coach.tasks': ['plan_id'],
    }) }}
{%- endmacro %}

{% macro tessera_deletion_log_ddl() -%}
create schema if not exists tessera_meta;
create table if not exists tessera_meta.raw_deletions (
    id          bigserial primary key,
    table_name  text not null,                          -- 'raw_<product>.<table>'
    op          char(1) not null check (op in ('D', 'U', 'T', 'R')),
    row         jsonb,                                  -- OLD row ('D', 'U'); null for 'T', 'R'
    xid         xid8 not null default pg_current_xact_id(),
    deleted_at  timestamptz not null default clock_timestamp()
);
create index if not exists raw_deletions_table_xid_ix on tessera_meta.raw_deletions (table_name, xid);
create index if not exists raw_deletions_xid_ix on tessera_meta.raw_deletions (xid);
create index if not exists raw_deletions_deleted_at_ix on tessera_meta.raw_deletions (deleted_at);
create table if not exists tessera_meta.raw_log_tables (
    table_name   text primary key,
    relid        oid not null,
    trigger_md5  text not null,
    installed_at timestamptz not null default now()
);
drop table if exists tessera_meta.mart_log_cursors;  -- v1 had no watermark (its marts then rebuild once)
create table if not exists tessera_meta.mart_log_cursors (
    mart        text primary key,
    snapshot    pg_snapshot not null,                   -- the change log is consumed up to here
    watermark   timestamptz not null,                   -- raw rows up to this _ingested_at are reflected
    updated_at  timestamptz not null default now()
);
create or replace function tessera_meta.log_raw_delete() returns trigger language plpgsql as $fn$
begin
    insert into tessera_meta.raw_deletions (table_name, op, row)
    select tg_table_schema || '.' || tg_table_name, 'D',
           case when tg_nargs > 0 then (select jsonb_object_agg(e.key, e.value) from jsonb_each(to_jsonb(o)) e
                                        where e.key = any(tg_argv)) end
    from tessera_old_rows o;
    return null;
end
$fn$;
create or replace function tessera_meta.log_raw_move() returns trigger language plpgsql as $fn$
begin
    insert into tessera_meta.raw_deletions (table_name, op, row)
    values (tg_table_schema || '.' || tg_table_name, 'U',
            (select jsonb_object_agg(e.key, e.value) from jsonb_each(to_jsonb(old)) e where e.key = any(tg_argv)));
    return null;
end
$fn$;
create or replace function tessera_meta.log_raw_truncate() returns trigger language plpgsql as $fn$
begin
    insert into tessera_meta.raw_deletions (table_name, op) values (tg_table_schema || '.' || tg_table_name, 'T');
    return null;
end
$fn$;
comment on table tessera_meta.raw_deletions is 'tessera-deletion-log v3';
{%- endmacro %}

{#- The triggers of one raw table (idempotent: CREATE OR REPLACE TRIGGER). moving_columns and
    logged_columns: the two maps above, when the caller already holds them (one call per run instead
    of one per table; the DDL is the same). -#}
{% macro tessera_log_triggers_ddl(schema, table, moving_columns=none, logged_columns=none) -%}
    {%- set rel = adapter.quote(schema) ~ '.' ~ adapter.quote(table) -%}
    {%- set moving = (moving_columns if moving_columns is not none else tessera_moving_columns()).get(schema ~ '.' ~ table, []) -%}
    {%- set logged = (logged_columns if logged_columns is not none else tessera_logged_columns()).get(schema ~ '.' ~ table, []) -%}
    {%- set args = "'" ~ logged | join("', '") ~ "'" if logged else '' -%}
create or replace trigger tessera_log_delete after delete on {{ rel }}
    referencing old table as tessera_old_rows for each statement execute function tessera_meta.log_raw_delete({{ args }});
create or replace trigger tessera_log_truncate after truncate on {{ rel }}
    for each statement execute function tessera_meta.log_raw_truncate();
{%- if moving %}
create or replace trigger tessera_log_move after update on {{ rel }} for each row
    when (row({% for c in moving %}old.{{ adapter.quote(c) }}{{ ", " if not loop.last }}{% endfor %})
          is distinct from row({% for c in moving %}new.{{ adapter.quote(c) }}{{ ", " if not loop.last }}{% endfor %}))
    execute function tessera_meta.log_raw_move({{ args }});
{%- else %}
drop trigger if exists tessera_log_move on {{ rel }};
{%- endif %}
{%- endmacro %}

{#- The incremental marts of the project, by identifier (their cursors gate pruning). -#}
{% macro tessera_incremental_marts() -%}
    {%- set marts = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
        {%- if node.resource_type == 'model' and node.config.materialized == 'incremental' -%}
            {%- do marts.append(node.alias or node.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(marts) }}
{%- endmacro %}

{#- The version comment the log's DDL leaves on tessera_meta.raw_deletions ('' when absent). -#}
{% macro tessera_deletion_log_version_sql() -%}
    coalesce(obj_description(to_regclass('tessera_meta.raw_deletions'), 'pg_class'), '')
{%- endmacro %}

{#- version: the log's version comment when the caller read it already (tessera_on_run_start reads
    it in its first query); none: read here. -#}
{% macro tessera_ensure_deletion_log(version=none) -%}
    {%- if execute -%}
        {%- if version is none -%}
            {%- set version = run_query("select " ~ tessera_deletion_log_version_sql()).columns[0].values()[0] -%}
        {%- endif -%}
        {%- if version != 'tessera-deletion-log v3' -%}
            {%- do run_query(tessera_deletion_log_ddl() ~ '; commit;') -%}
        {%- endif -%}
        {%- set wanted = [] -%}
        {%- set moving_columns, logged_columns = tessera_moving_columns(), tessera_logged_columns() -%}
        {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- do wanted.append((node.schema, node.identifier, local_md5(
                    tessera_log_triggers_ddl(node.schema, node.identifier, moving_columns, logged_columns)))) -%}
        {%- endfor -%}
        {%- if wanted -%}
            {#- tables present whose recorded OID or trigger definition differs, or whose triggers are gone -#}
            {%- set probe -%}
                select w.sch, w.tbl, c.oid::bigint, l.relid is distinct from c.oid as recreated
                from (values {% for s, t, h in wanted %}('{{ s }}', '{{ t }}', '{{ h }}'){{ ", " if not loop.last }}{% endfor %}) as w (sch, tbl, md5)
                join pg_namespace n on n.nspname = w.sch
                join pg_class c on c.relnamespace = n.oid and c.relname = w.tbl and c.relkind in ('r', 'p')
                left join tessera_meta.raw_log_tables l on l.table_name = w.sch || '.' || w.tbl
                where l.relid is distinct from c.oid or l.trigger_md5 is distinct from w.md5
                   or not exists (select 1 from pg_trigger g where g.tgrelid = c.oid and g.tgname = 'tessera_log_delete')
            {%- endset -%}
            {%- set todo = run_query(probe) -%}
            {%- if todo.rows | length > 0 -%}
                {%- set ddl = [] -%}
                {%- for row in todo.rows -%}
                    {%- set name = row[0] ~ '.' ~ row[1] -%}
                    {%- set triggers = tessera_log_triggers_ddl(row[0], row[1], moving_columns, logged_columns) -%}
                    {%- do ddl.append(triggers) -%}
                    {%- if row[3] -%}
                        {%- do ddl.append("insert into tessera_meta.raw_deletions (table_name, op) values ('" ~ name ~ "', 'R');") -%}
                    {%- endif -%}
                    {%- do ddl.append("insert into tessera_meta.raw_log_tables (table_name, relid, trigger_md5) values ('"
                                      ~ name ~ "', " ~ row[2] ~ ", '" ~ local_md5(triggers)
                                      ~ "') on conflict (table_name) do update set relid = excluded.relid, "
                                      ~ "trigger_md5 = excluded.trigger_md5, installed_at = now();") -%}
                {%- endfor -%}
                {%- do run_query(ddl | join('\n') ~ '\ncommit;') -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}

{#- Delete the log rows every incremental mart has consumed (older than the oldest cursor's xmin).
    Runs at the end of every dbt invocation (on-run-end): the OLD rows of a hard delete (or an
    erasure) leave the log in the same run that removes them from the marts (DESIGN privacy rule 1). -#}
{% macro tessera_prune_change_log() -%}
    {%- if execute -%}
        {%- set marts = tessera_incremental_marts() -%}
        {%- if marts -%}
            {#- one round trip: the delete only when the cursors table exists (a DO block, since the
                statement would not parse without it) -#}
            {%- do run_query("do $tessera_prune$ begin "
                             ~ "if to_regclass('tessera_meta.mart_log_cursors') is not null then "
                             ~ "delete from tessera_meta.raw_deletions where xid < ("
                             ~ "select min(pg_snapshot_xmin(snapshot)) from tessera_meta.mart_log_cursors "
                             ~ "where mart in ('" ~ marts | join("', '") ~ "') "
                             ~ "having count(*) = " ~ marts | length ~ "); "
                             ~ "end if; end $tessera_prune$; commit;") -%}
        {%- endif -%}
    {%- endif -%}
    {#- nothing left for the hook to execute: its work is the query above -#}
{%- endmacro %}
