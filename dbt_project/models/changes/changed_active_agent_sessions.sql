-- The agent sessions the next refresh of active_agent_sessions rebuilds (macros/change_feed.sql):
-- the session, or one of its governance events, changed, was deleted or (un)quarantined.
{{ feed_keys('active_agent_sessions', 'raw_devassist.agent_sessions', ['agent_session_id']) }}
union
select k.agent_session_id from ({{ feed_keys('active_agent_sessions', 'raw_devassist.governance_events', ['agent_session_id']) }}) as k
union
select s.agent_session_id from {{ ref('stg_devassist__agent_sessions') }} as s where {{ feed_rebuild('active_agent_sessions') }}
