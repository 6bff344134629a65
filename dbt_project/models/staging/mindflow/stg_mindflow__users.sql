-- Core user accounts: raw_mindflow.users renamed and cast, soft deletes flagged,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    email::text as email,
    password_hash::text as password_hash,
    display_name::text as display_name,
    photo_url::text as photo_url,
    timezone::text as timezone,
    language::text as language,
    theme::text as theme,
    created_at,
    updated_at,
    last_login_at,
    deleted_at,
    is_active,
    email_verified,
    "deleted_at" is not null as is_deleted,
    {{ quality_issues('mindflow.users', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mindflow', 'users') }} as src
