-- Chat transcripts (MongoDB collection): raw_coach.dialogue_messages renamed and cast, soft deletes flagged,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    session_id,
    user_id,
    role::text as role,
    content,
    tool_calls,
    tokens,
    flagged_for_recall,
    created_at,
    deleted_at,
    "deleted_at" is not null as is_deleted,
    {{ quality_issues('coach.dialogue_messages', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'dialogue_messages') }} as src
