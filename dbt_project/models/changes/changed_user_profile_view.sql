-- The users the next refresh of user_profile_view rebuilds (macros/change_feed.sql): the user row, or
-- their streaks, settings, consent or entries changed, were deleted or (un)quarantined. Rows computed
-- on an earlier day are rebuilt too (joined_days_ago moves with the date: the mart's stale condition).
{{ feed_keys('user_profile_view', 'raw_mindflow.users', ['id']) }}
union
select k.user_id from ({{ feed_keys('user_profile_view', 'raw_mindflow.user_streaks', ['user_id']) }}) as k
union
select k.user_id from ({{ feed_keys('user_profile_view', 'raw_mindflow.user_settings', ['user_id']) }}) as k
union
select k.user_id from ({{ feed_keys('user_profile_view', 'raw_mindflow.user_gdpr_consent', ['user_id']) }}) as k
union
select k.user_id from ({{ feed_keys('user_profile_view', 'raw_mindflow.journal_entries', ['user_id']) }}) as k
union
select u.id from {{ ref('stg_mindflow__users') }} as u where {{ feed_rebuild('user_profile_view') }}
