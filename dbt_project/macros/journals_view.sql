{#- journals_view: the attachments of an entry (rows of stg_mindflow__attachments as `alias`) as the
    seed's JSON array, in upload order. One definition for the full build's grouped join and the
    refresh's per-entry lateral lookup, so both paths build the same value. -#}
{% macro journals_view_attachments_json(alias) -%}
    jsonb_agg(jsonb_build_object(
            'id', {{ alias }}.id,
            'fileName', {{ alias }}.file_name,
            'fileSize', {{ alias }}.file_size,
            'mimeType', {{ alias }}.mime_type,
            'url', {{ alias }}.s3_url,
            'thumbnailUrl', {{ alias }}.thumbnail_url
        ) order by {{ alias }}.uploaded_at, {{ alias }}.id)
{%- endmacro %}
