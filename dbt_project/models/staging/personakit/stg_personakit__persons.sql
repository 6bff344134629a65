-- People modelled: raw_personakit.persons renamed and cast, soft deletes flagged,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    person_id,
    display_name::text as display_name,
    email::text as email,
    created_at,
    updated_at,
    deleted_at,
    "deleted_at" is not null as is_deleted,
    {{ quality_issues('personakit.persons', "src.person_id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_personakit', 'persons') }} as src
