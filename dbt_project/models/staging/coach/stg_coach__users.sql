-- Learners: raw_coach.users renamed and cast, soft deletes flagged,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    email::text as email,
    password_hash::text as password_hash,
    display_name::text as display_name,
    timezone::text as timezone,
    created_at,
    deleted_at,
    "deleted_at" is not null as is_deleted,
    {{ quality_issues('coach.users', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_coach', 'users') }} as src
