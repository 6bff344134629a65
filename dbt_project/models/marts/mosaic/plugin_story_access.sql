-- What each plugin may read (seed 000, Plugin Permission Model): one row per (plugin, story) that an
-- active grant allows. A plugin may read a story when
--   * plugin_permissions has a row for (plugin, the story's legacy) not revoked (revoked_at null or
--     in the future),
--   * the story's visibility_level is listed in that grant's permissions.read_stories, and
--   * the plugin is installed (mosaic.plugins, matched by name: permission rows hold the plugin's
--     name) with the read_stories capability.
-- Every plugin read (story lists, webhooks, metadata written back) is scoped by this view; the
-- plugin metadata the marts use (legacy_persona) comes only from stories its plugin may read.
-- Strategy: a view: revocations take effect at their time, not at the next build.
{{ config(materialized='view') }}

with grants as (
    select
        pp.id as permission_id,
        pp.plugin_id as plugin_name,
        pp.legacy_id,
        pp.granted_at,
        array(select jsonb_array_elements_text(
            case when jsonb_typeof(pp.permissions -> 'read_stories') = 'array' then pp.permissions -> 'read_stories'
                 else '[]'::jsonb end
        )) as read_visibilities
    from {{ ref('stg_mosaic__plugin_permissions') }} as pp
    where pp.revoked_at is null or pp.revoked_at > now()
)

select
    p.id as plugin_id,
    g.plugin_name,
    g.permission_id,
    s.legacy_id,
    s.id as story_id,
    s.visibility_level,
    g.granted_at,
    greatest(s._ingested_at, p._ingested_at) as _ingested_at
from grants as g
join {{ ref('stg_mosaic__plugins') }} as p on p.name = g.plugin_name and 'read_stories' = any(p.capabilities)
join {{ ref('stg_mosaic__stories') }} as s on s.legacy_id = g.legacy_id and s.visibility_level = any(g.read_visibilities)
