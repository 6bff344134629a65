-- Plugin metadata on stories: raw_mosaic.story_plugin_metadata renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    story_id,
    plugin_id::text as plugin_id,
    metadata_type::text as metadata_type,
    metadata_value,
    created_at,
    updated_at,
    {{ quality_issues('mosaic.story_plugin_metadata', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'story_plugin_metadata') }} as src
