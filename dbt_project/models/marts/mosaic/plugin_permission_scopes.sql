-- Plugin permissions per (plugin, legacy) (seed 000): what each grant allows, whether it is active, how
-- many stories the plugin may read there (plugin_story_access), and the metadata it wrote back on that
-- legacy's stories, with the rows outside its permissions flagged: written on a story it may not read,
-- or of a metadata_type its write_metadata does not list. One row per permission row (revoked too:
-- a read view tells the truth, the revoked flag says it no longer applies).
-- Strategy: a table rebuilt every run (one row per grant; a few per legacy).
with perms as (
    select
        pp.*,
        pp.revoked_at is null or pp.revoked_at > now() as is_active,
        array(select jsonb_array_elements_text(
            case when jsonb_typeof(pp.permissions -> 'read_stories') = 'array' then pp.permissions -> 'read_stories' else '[]'::jsonb end
        )) as read_visibilities,
        array(select jsonb_array_elements_text(
            case when jsonb_typeof(pp.permissions -> 'write_metadata') = 'array' then pp.permissions -> 'write_metadata' else '[]'::jsonb end
        )) as write_types
    from {{ ref('stg_mosaic__plugin_permissions') }} as pp
),

readable as (
    select permission_id, count(*) as readable_stories
    from {{ ref('plugin_story_access') }}
    group by permission_id
),

written as (
    select
        p.id as permission_id,
        count(m.id) as metadata_rows,
        count(m.id) filter (
            where not p.is_active
               or not exists (select 1 from {{ ref('plugin_story_access') }} as a
                              where a.permission_id = p.id and a.story_id = m.story_id)
               or not (m.metadata_type = any(p.write_types))
        ) as metadata_rows_outside_scope
    from perms as p
    join {{ ref('stg_mosaic__stories') }} as s on s.legacy_id = p.legacy_id
    join {{ ref('stg_mosaic__story_plugin_metadata') }} as m on m.story_id = s.id and m.plugin_id = p.plugin_id
    group by p.id
)

select
    p.id as permission_id,
    p.plugin_id as plugin_name,
    pl.id as plugin_id,
    pl.id is not null as plugin_installed,
    coalesce(pl.capabilities, '{}'::text[]) as plugin_capabilities,
    p.legacy_id,
    p.granted_by,
    p.granted_at,
    p.revoked_at,
    p.is_active,
    p.read_visibilities,
    p.write_types,
    coalesce((p.permissions ->> 'access_relationships')::boolean, false) as access_relationships,
    array(select jsonb_array_elements_text(
        case when jsonb_typeof(p.permissions -> 'webhook_events') = 'array' then p.permissions -> 'webhook_events' else '[]'::jsonb end
    )) as webhook_events,
    coalesce(r.readable_stories, 0) as readable_stories,
    coalesce(w.metadata_rows, 0) as metadata_rows,
    coalesce(w.metadata_rows_outside_scope, 0) as metadata_rows_outside_scope,
    greatest(p._ingested_at, pl._ingested_at) as _ingested_at
from perms as p
left join {{ ref('stg_mosaic__plugins') }} as pl on pl.name = p.plugin_id
left join readable as r on r.permission_id = p.id
left join written as w on w.permission_id = p.id
