-- Plugin capabilities per legacy: raw_mosaic.plugin_permissions renamed and cast,
-- rows actively quarantined excluded. Nothing else happens in staging.
select
    id,
    plugin_id::text as plugin_id,
    legacy_id,
    permissions,
    granted_by,
    granted_at,
    revoked_at,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'plugin_permissions') }} as src
where {{ not_quarantined('mosaic.plugin_permissions', "src.id::text") }}
