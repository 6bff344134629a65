{#- The class (positive, neutral, negative) of a mood label, from the project var mood_class
    (dbt_project.yml); null for an unknown or null mood. -#}
{% macro mood_class(mood) -%}
    case {{ mood }}
    {%- for label, cls in var('mood_class').items() %}
        when '{{ label }}' then '{{ cls }}'
    {%- endfor %}
    end
{%- endmacro %}
