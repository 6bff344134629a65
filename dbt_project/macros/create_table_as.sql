{#- dbt-postgres's create_table_as, plus the table's fillfactor when the model configures one
    (`fillfactor=80`): dbt-postgres has no storage-parameter config. A mart whose rows a refresh
    updates in place (settle_rows, macros/incremental.sql) keeps room on every page for a row's new
    version, so an update that changes no indexed column is a HOT update: no index entry is written.
    dbt creates a contract-enforced table from the contract's columns and then inserts into it, as two
    statements: the storage parameter goes after the column list of the first. -#}
{% macro postgres__create_table_as(temporary, relation, sql) -%}
    {%- set ddl = dbt.postgres__create_table_as(temporary, relation, sql) -%}
    {%- set fillfactor = config.get('fillfactor') -%}
    {%- if fillfactor is none or temporary -%}
        {{ return(ddl) }}
    {%- endif -%}
    {%- set create, sep, insert = (ddl | string).partition(';') -%}
    {%- if not (config.get('contract').enforced and insert.strip().startswith('insert into')) -%}
        {{ exceptions.raise_compiler_error(this.identifier ~ ': fillfactor needs an enforced contract (dbt then creates the table before inserting into it) and no sql_header') }}
    {%- endif -%}
    {{ return(create.rstrip() ~ '\n  with (fillfactor = ' ~ (fillfactor | int) ~ ')' ~ sep ~ insert) }}
{%- endmacro %}
