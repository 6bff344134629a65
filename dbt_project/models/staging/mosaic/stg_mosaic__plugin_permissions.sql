-- Plugin capabilities per legacy: raw_mosaic.plugin_permissions renamed and cast,
-- every row kept, the rules it breaks (active quarantine) in quality_issues. Nothing else happens in staging.
select
    id,
    plugin_id::text as plugin_id,
    legacy_id,
    permissions,
    granted_by,
    granted_at,
    revoked_at,
    {{ quality_issues('mosaic.plugin_permissions', "src.id::text") }} as quality_issues,
    _ingested_at,
    _source_lsn
from {{ source('raw_mosaic', 'plugin_permissions') }} as src
