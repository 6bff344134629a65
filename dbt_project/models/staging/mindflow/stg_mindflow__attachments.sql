-- Media attached to entries: raw_mindflow.attachments renamed and cast, soft deletes flagged,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    journal_entry_id,
    file_name::text as file_name,
    file_size,
    mime_type::text as mime_type,
    s3_key::text as s3_key,
    s3_url::text as s3_url,
    thumbnail_s3_key::text as thumbnail_s3_key,
    thumbnail_url::text as thumbnail_url,
    uploaded_at,
    deleted_at,
    "deleted_at" is not null as is_deleted,
    {{ quality_issues('mindflow.attachments', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mindflow', 'attachments') }} as src
