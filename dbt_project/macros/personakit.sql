{#- PersonaKit constants and parsing shared by the personakit marts (seed 001). -#}

{#- 6.2 "Personas expire after configured TTL (default 24 hours)". -#}
{% macro personakit_default_ttl_hours() -%}24{%- endmacro %}

{#- A JSON timestamp (ISO 8601, seed 6.1) as timestamptz, NULL when it is not one (never an error:
    the rule checks report malformed values). -#}
{% macro personakit_json_timestamp(expression) -%}
case when {{ expression }} ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$'
     then ({{ expression }})::timestamptz end
{%- endmacro %}

{#- A JSON value as integer, NULL when it is not a whole number. -#}
{% macro personakit_json_int(expression) -%}
case when {{ expression }} ~ '^-?[0-9]+$' then ({{ expression }})::integer end
{%- endmacro %}

{#- A relation the persona assets write (schema persona), or an empty row set of the given columns
    when that asset has not run yet: the mindscape is assembled from what exists. columns: SQL of
    typed NULLs, e.g. "null::uuid as person_id, null::text as trait_name". -#}
{% macro personakit_optional_relation(relation, empty_columns) -%}
    {%- set found = none -%}
    {%- if execute -%}
        {%- set found = adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- endif -%}
    {%- if found is not none -%}
        (select * from {{ relation }})
    {%- else -%}
        (select {{ empty_columns }} where false)
    {%- endif -%}
{%- endmacro %}

{#- Feedback.ratings (seed 1.6): the five ratings, each 1-5. -#}
{% macro personakit_rating_names() -%}
    {{ return(['overall', 'accuracy', 'completeness', 'relevance', 'usability']) }}
{%- endmacro %}
