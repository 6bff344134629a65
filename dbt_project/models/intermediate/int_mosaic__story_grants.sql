-- Every (user, story, reason) that the seed's user_can_access_story (000) grants: submitter, legacy
-- admin (legacies.created_by), public, group member of a group of the story's legacy, and
-- family_only for family of the legacy (mosaic.check_family_relationship: a Person of the legacy
-- carrying the user's account, marked family or on a FAMILY_OF edge). Private grants nothing more.
-- The rules live in macros/story_grants.sql, which story_access also calls on touched keys only.
{{ mosaic_story_grants() }}
