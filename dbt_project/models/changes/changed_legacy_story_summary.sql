-- The legacies the next refresh of legacy_story_summary rebuilds (macros/change_feed.sql): the legacy
-- row, or one of its stories (a moved story: its old and new legacy), changed, was deleted or
-- (un)quarantined.
select k.id as legacy_id from ({{ feed_keys('legacy_story_summary', 'raw_mosaic.legacies', ['id']) }}) as k
union
select k.legacy_id from ({{ feed_keys('legacy_story_summary', 'raw_mosaic.stories', ['legacy_id']) }}) as k
union
select l.id from {{ ref('stg_mosaic__legacies') }} as l where {{ feed_rebuild('legacy_story_summary') }}
