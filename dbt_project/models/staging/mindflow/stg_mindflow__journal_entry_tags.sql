-- Entry-tag links: raw_mindflow.journal_entry_tags renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    journal_entry_id,
    tag_id,
    created_at,
    {{ quality_issues('mindflow.journal_entry_tags', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mindflow', 'journal_entry_tags') }} as src
