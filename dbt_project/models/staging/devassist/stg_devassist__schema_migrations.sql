-- The product's own schema versions: raw_devassist.schema_migrations renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    version,
    description::text as description,
    applied_at,
    rollback_sql,
    checksum::text as checksum,
    _ingested_at,
    _source_lsn
from {{ source('raw_devassist', 'schema_migrations') }} as src
where {{ not_quarantined('devassist.schema_migrations', "src.version::text") }}
