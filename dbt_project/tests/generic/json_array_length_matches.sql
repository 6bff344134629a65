{#- A JSON array column's length equals a count column (e.g. attachments vs attachment_count). -#}
{% test json_array_length_matches(model, column_name, count_column) %}
select *
from {{ model }}
where jsonb_array_length({{ column_name }}::jsonb) <> {{ count_column }}
{% endtest %}
