-- Developers: raw_devassist.users renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    user_id,
    email::text as email,
    username::text as username,
    full_name::text as full_name,
    preferences_json,
    auth_provider::text as auth_provider,
    auth_external_id::text as auth_external_id,
    created_at,
    last_active_at,
    is_active,
    version,
    {{ quality_issues('devassist.users', "src.user_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'users') }} as src
