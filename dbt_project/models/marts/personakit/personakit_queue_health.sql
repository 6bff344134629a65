-- PersonaKit outbox and sync queue health (seed 001, 1.7 OutboxTask and 3.1 SyncQueueItem): one row per
-- queue and kind (outbox: task_type; sync_queue: operation_type) with the items per state, retries
-- (attempts beyond the first), the most attempts of one item, the oldest waiting item and its age, and
-- (outbox) the pending tasks already due (run_after passed) and the failed tasks' last errors.
--   outbox states:     pending, in_progress, done, failed          (attempts)
--   sync_queue states: pending, in_progress, completed, failed     (syncMetadata.attemptCount)
-- "done" counts done (outbox) and completed (sync queue). A sync item whose attemptCount is not a whole
-- number counts in invalid_attempt_counts, not in the retries.
-- Strategy: a view: ages and "due" are relative to the moment of reading (as_of = now()).
{{ config(materialized='view') }}

with items as (
    select
        'outbox'::text as queue,
        task_type as kind,
        task_id::text as item_id,
        status,
        attempts,
        false as invalid_attempt_count,
        created_at,
        run_after,
        last_error
    from {{ ref('stg_personakit__outbox_tasks') }}
    union all
    select
        'sync_queue',
        operation_type,
        queue_id::text,
        status,
        {{ personakit_json_int("sync_metadata ->> 'attemptCount'") }},
        coalesce(sync_metadata ->> 'attemptCount' !~ '^-?[0-9]+$', true),
        {{ personakit_json_timestamp("sync_metadata ->> 'createdAt'") }},
        null::timestamptz,
        sync_metadata ->> 'lastError'
    from {{ ref('stg_personakit__sync_queue') }}
)

select
    queue,
    kind,
    count(*) as total_items,
    count(*) filter (where status = 'pending') as pending,
    count(*) filter (where status = 'in_progress') as in_progress,
    count(*) filter (where status in ('done', 'completed')) as done,
    count(*) filter (where status = 'failed') as failed,
    round(count(*) filter (where status = 'failed')::numeric / count(*), 4) as failure_rate,
    coalesce(sum(greatest(attempts - 1, 0)), 0) as retries,
    count(*) filter (where attempts > 1) as retried_items,
    coalesce(max(attempts), 0) as max_attempts,
    count(*) filter (where invalid_attempt_count) as invalid_attempt_counts,
    count(*) filter (where status = 'pending' and run_after <= now()) as pending_due,
    min(created_at) filter (where status in ('pending', 'in_progress')) as oldest_waiting_created_at,
    round(extract(epoch from (now() - min(created_at) filter (where status in ('pending', 'in_progress'))))::numeric, 0)
        as oldest_waiting_age_seconds,
    count(*) filter (where status in ('pending', 'in_progress') and created_at is null) as waiting_without_created_at,
    array_remove(array_agg(distinct last_error) filter (where status = 'failed'), null) as failed_errors,
    now() as as_of
from items
group by queue, kind
