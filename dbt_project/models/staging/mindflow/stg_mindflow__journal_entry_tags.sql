-- Entry-tag links: raw_mindflow.journal_entry_tags renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    journal_entry_id,
    tag_id,
    created_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_mindflow', 'journal_entry_tags') }} as src
where {{ not_quarantined('mindflow.journal_entry_tags', "src.id::text") }}
