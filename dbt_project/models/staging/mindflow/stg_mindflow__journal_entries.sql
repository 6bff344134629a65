-- Journal entries with mood: raw_mindflow.journal_entries renamed and cast, soft deletes flagged,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    user_id,
    "date" as entry_date,
    title::text as title,
    content,
    mood::text as mood,
    location::text as location,
    weather::text as weather,
    word_count,
    reading_time,
    is_private,
    version,
    created_at,
    updated_at,
    deleted_at,
    "deleted_at" is not null as is_deleted,
    {{ quality_issues('mindflow.journal_entries', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mindflow', 'journal_entries') }} as src
