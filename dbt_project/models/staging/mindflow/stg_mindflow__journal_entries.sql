-- Journal entries with mood: raw_mindflow.journal_entries renamed and cast, soft deletes flagged,
-- rows actively quarantined excluded. Nothing else happens in staging.
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
    _ingested_at,
    _source_lsn
from {{ source('raw_mindflow', 'journal_entries') }} as src
where {{ not_quarantined('mindflow.journal_entries', "src.id::text") }}
