-- The developers the next refresh of user_activity_summary rebuilds (macros/change_feed.sql): the
-- developer row, or one of their agent sessions (old or new owner), changed, was deleted or
-- (un)quarantined.
{{ feed_keys('user_activity_summary', 'raw_devassist.users', ['user_id']) }}
union
select k.user_id from ({{ feed_keys('user_activity_summary', 'raw_devassist.agent_sessions', ['user_id']) }}) as k
union
select u.user_id from {{ ref('stg_devassist__users') }} as u where {{ feed_rebuild('user_activity_summary') }}
