-- The product's own schema versions: raw_devassist.schema_migrations renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    version,
    description::text as description,
    applied_at,
    rollback_sql,
    checksum::text as checksum,
    {{ quality_issues('devassist.schema_migrations', "src.version::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'schema_migrations') }} as src
