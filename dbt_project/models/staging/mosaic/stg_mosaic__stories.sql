-- Memorial stories: raw_mosaic.stories renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    legacy_id,
    submitted_by,
    title::text as title,
    content,
    story_type::text as story_type,
    visibility_level::text as visibility_level,
    tags,
    media_attachments,
    created_at,
    updated_at,
    approved_by,
    approved_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'stories') }} as src
where {{ not_quarantined('mosaic.stories', "src.id::text") }}
