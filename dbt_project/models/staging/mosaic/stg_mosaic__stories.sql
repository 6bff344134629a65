-- Memorial stories: raw_mosaic.stories renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
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
    {{ quality_issues('mosaic.stories', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'stories') }} as src
