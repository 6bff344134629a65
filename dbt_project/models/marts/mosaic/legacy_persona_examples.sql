-- The examples a legacy's persona may show a user (seed 000, Privacy-Aware AI Data Access): per user and
-- legacy, the 5 most recent stories of that legacy THAT USER MAY READ, with a short excerpt. Access comes
-- from story_access (the one place the seed's user_can_access_story is applied, DESIGN privacy rule 3),
-- so a story the user may not read never appears here, while legacy_persona is built from all stories.
-- Strategy: a table rebuilt every run; story_access is keyed (user_id, story_id) and indexed by story.
-- The excerpt is cut once per story, then shared by its readers (a public story has thousands).
with stories as materialized (  -- computed once, not inlined into the join
    select
        id, title, story_type, visibility_level, created_at, _ingested_at,
        left(regexp_replace(btrim(content), '\s+', ' ', 'g'), {{ mosaic_example_excerpt_chars() }}) as excerpt
    from {{ ref('stg_mosaic__stories') }}
),

accessible as (
    select
        a.user_id, a.legacy_id, a.story_id, a.access_reason,
        s.title, s.excerpt, s.story_type, s.visibility_level, s.created_at,
        greatest(a._ingested_at, s._ingested_at) as _ingested_at,
        row_number() over (partition by a.user_id, a.legacy_id order by s.created_at desc nulls last, s.id) as example_rank
    from {{ ref('story_access') }} as a
    join stories as s on s.id = a.story_id
)

select
    user_id,
    legacy_id,
    example_rank::integer as example_rank,
    story_id,
    title,
    excerpt,
    story_type,
    visibility_level,
    access_reason,
    created_at as story_created_at,
    _ingested_at
from accessible
where example_rank <= {{ mosaic_examples_per_legacy() }}
