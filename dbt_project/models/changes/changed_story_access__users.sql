-- The accounts whose grants the next refresh of story_access rebuilds (macros/change_feed.sql): the
-- account changed, was deleted or (un)quarantined.
select k.id as user_id from ({{ feed_keys('story_access', 'raw_mosaic.users', ['id']) }}) as k
