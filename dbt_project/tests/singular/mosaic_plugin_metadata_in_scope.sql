-- Plugin permissions (seed 000): plugin metadata on a story its plugin may not read, of a type its grant
-- does not let it write, or under a revoked grant. Warn: the rows are the source's; the persona ignores them.
{{ config(severity='warn') }}
select permission_id, plugin_name, legacy_id, metadata_rows_outside_scope
from {{ ref('plugin_permission_scopes') }}
where metadata_rows_outside_scope > 0
