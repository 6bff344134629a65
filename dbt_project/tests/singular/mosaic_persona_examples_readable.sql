-- Privacy rule 3 on the persona flow: every example a legacy's persona shows a user is a story that user
-- may read (story_access), of the legacy it is shown for. An asset check of legacy_persona_examples.
{{ config(meta={'dagster': {'ref': {'name': 'legacy_persona_examples'}}}) }}
select e.*
from {{ ref('legacy_persona_examples') }} as e
where not exists (
    select 1 from {{ ref('story_access') }} as a
    where a.user_id = e.user_id and a.story_id = e.story_id and a.legacy_id = e.legacy_id
)
