{#- How many examples of a legacy's stories a user's persona context carries, and their excerpt length. -#}
{% macro mosaic_examples_per_legacy() -%}5{%- endmacro %}
{% macro mosaic_example_excerpt_chars() -%}280{%- endmacro %}
