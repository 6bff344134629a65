-- Plugin metadata on stories: raw_mosaic.story_plugin_metadata renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    story_id,
    plugin_id::text as plugin_id,
    metadata_type::text as metadata_type,
    metadata_value,
    created_at,
    updated_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'story_plugin_metadata') }} as src
where {{ not_quarantined('mosaic.story_plugin_metadata', "src.id::text") }}
