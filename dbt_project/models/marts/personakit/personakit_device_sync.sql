-- PersonaKit device sync health (seed 001, 3.2 SyncState with its 3.1 queue): one row per (device,
-- person) of a live person: the last sync (time, direction, items, errors), the items waiting each way,
-- the persona cores and mappers the device caches and how many cores are stale against the mindscape's
-- current version, the device's queue items per state with their retries, and whether the device is
-- overdue (no sync for longer than its configured interval). Ages are relative to now() (as_of).
-- Strategy: a view: "overdue" and the ages move with the clock, and the inputs are small.
{{ config(materialized='view') }}

with states as (
    select s.*, m.version as mindscape_version
    from {{ ref('stg_personakit__sync_state') }} as s
    join {{ ref('stg_personakit__persons') }} as pe on pe.person_id = s.person_id and not pe.is_deleted
    left join {{ ref('stg_personakit__mindscapes') }} as m on m.person_id = s.person_id
),

cores as (
    select
        s.device_id, s.person_id,
        count(*) as cached_cores,
        count(*) filter (where {{ personakit_json_int("c ->> 'mindscapeVersion'") }} < s.mindscape_version) as stale_cached_cores,
        count(*) filter (where (c ->> 'isStale')::boolean) as cores_flagged_stale
    from states as s
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(s.cached_data -> 'personaCores') = 'array' then s.cached_data -> 'personaCores' else '[]'::jsonb end
    ) as c
    group by s.device_id, s.person_id
),

queue as (
    select
        device_id,
        count(*) filter (where status = 'pending') as queue_pending,
        count(*) filter (where status = 'in_progress') as queue_in_progress,
        count(*) filter (where status = 'failed') as queue_failed,
        coalesce(sum(greatest({{ personakit_json_int("sync_metadata ->> 'attemptCount'") }} - 1, 0)), 0) as queue_retries
    from {{ ref('stg_personakit__sync_queue') }}
    group by device_id
)

select
    s.device_id,
    s.person_id,
    {{ personakit_json_timestamp("s.last_sync ->> 'timestamp'") }} as last_sync_at,
    s.last_sync ->> 'direction' as last_sync_direction,
    {{ personakit_json_int("s.last_sync ->> 'itemsSynced'") }} as last_sync_items,
    {{ personakit_json_int("s.last_sync ->> 'errors'") }} as last_sync_errors,
    {{ personakit_json_int("s.pending_items ->> 'upstream'") }} as pending_upstream,
    {{ personakit_json_int("s.pending_items ->> 'downstream'") }} as pending_downstream,
    {{ personakit_json_int("s.configuration ->> 'syncInterval'") }} as sync_interval_minutes,
    (s.configuration ->> 'offlineMode')::boolean as offline_mode,
    s.mindscape_version,
    {{ personakit_json_int("s.cached_data ->> 'mindscapeVersion'") }} as cached_mindscape_version,
    coalesce(c.cached_cores, 0) as cached_cores,
    coalesce(c.stale_cached_cores, 0) as stale_cached_cores,
    coalesce(c.cores_flagged_stale, 0) as cores_flagged_stale,
    case when jsonb_typeof(s.cached_data -> 'mappers') = 'array' then jsonb_array_length(s.cached_data -> 'mappers') else 0 end
        as cached_mappers,
    coalesce(q.queue_pending, 0) as queue_pending,
    coalesce(q.queue_in_progress, 0) as queue_in_progress,
    coalesce(q.queue_failed, 0) as queue_failed,
    coalesce(q.queue_retries, 0) as queue_retries,
    coalesce(
        now() - {{ personakit_json_timestamp("s.last_sync ->> 'timestamp'") }}
            > make_interval(mins => {{ personakit_json_int("s.configuration ->> 'syncInterval'") }}),
        false) as overdue,
    now() as as_of
from states as s
left join cores as c on c.device_id = s.device_id and c.person_id = s.person_id
left join queue as q on q.device_id = s.device_id
