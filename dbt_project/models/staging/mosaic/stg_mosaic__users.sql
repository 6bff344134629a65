-- Accounts: raw_mosaic.users renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    email::text as email,
    full_name::text as full_name,
    relationship_to_deceased::text as relationship_to_deceased,
    created_at,
    last_login,
    is_admin,
    privacy_preferences,
    {{ quality_issues('mosaic.users', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'users') }} as src
