-- The legacy's persona (seed 000, Persona Development Data Flow): built from ALL of a legacy's stories,
-- whatever their visibility, as the seed's generate_persona(get_all_stories(legacy_id)) does for
-- personality modelling. It holds aggregates only (no story id, title or text): the examples a user is
-- shown come from legacy_persona_examples, which only holds stories that user may read.
--   themes:          the 5 most frequent story tags (ties alphabetical)
--   keywords:        the 8 keywords the most stories carry (keyword metadata; ties alphabetical)
--   tone:            mean sentiment score of the stories' sentiment metadata, labelled positive >= 0.2,
--                    negative <= -0.2, else neutral
--   writing samples: stories of type sms or email (the person's own messages)
--   timeline:        first and last story, birth and death dates
-- Plugin metadata is used only where its plugin may read the story (plugin_story_access), so a
-- plugin's output on a story outside its grant never shapes the persona.
-- Strategy: a table rebuilt every run (one row per legacy over its stories and their metadata).
with stories as (
    select * from {{ ref('stg_mosaic__stories') }}
),

tags as (
    select legacy_id, array_agg(tag order by n desc, tag) filter (where rn <= 5) as themes
    from (
        select s.legacy_id, t.tag, count(*) as n,
               row_number() over (partition by s.legacy_id order by count(*) desc, t.tag) as rn
        from stories as s cross join lateral unnest(s.tags) as t(tag)
        group by s.legacy_id, t.tag
    ) as x
    group by legacy_id
),

permitted_metadata as (
    select m.*, s.legacy_id
    from {{ ref('stg_mosaic__story_plugin_metadata') }} as m
    join stories as s on s.id = m.story_id
    where exists (
        select 1 from {{ ref('plugin_story_access') }} as a
        where a.story_id = m.story_id and a.plugin_name = m.plugin_id
    )
),

keywords as (
    select legacy_id, array_agg(keyword order by n desc, keyword) filter (where rn <= 8) as keywords
    from (
        select m.legacy_id, k.keyword, count(distinct m.story_id) as n,
               row_number() over (partition by m.legacy_id order by count(distinct m.story_id) desc, k.keyword) as rn
        from permitted_metadata as m
        cross join lateral jsonb_array_elements_text(
            case when jsonb_typeof(m.metadata_value -> 'keywords') = 'array' then m.metadata_value -> 'keywords' else '[]'::jsonb end
        ) as k(keyword)
        where m.metadata_type = 'keywords'
        group by m.legacy_id, k.keyword
    ) as x
    group by legacy_id
),

tone as (
    select legacy_id, round(avg((metadata_value ->> 'score')::numeric), 3) as sentiment_mean, count(*) as stories_scored
    from permitted_metadata
    where metadata_type = 'sentiment' and metadata_value ->> 'score' ~ '^-?[0-9]+(\.[0-9]+)?$'
    group by legacy_id
),

counts as (
    select
        legacy_id,
        count(*) as stories_used,
        count(distinct submitted_by) as contributor_count,
        count(*) filter (where story_type in ('sms', 'email')) as writing_samples,
        min(created_at) as first_story_at,
        max(created_at) as last_story_at,
        max(_ingested_at) as _ingested_at
    from stories
    group by legacy_id
),

people as (
    select legacy_id, count(*) as people_count from {{ ref('stg_mosaic__persons') }} group by legacy_id
)

select
    l.id as legacy_id,
    l.person_name,
    l.birth_date,
    l.death_date,
    coalesce(c.stories_used, 0) as stories_used,
    coalesce(c.contributor_count, 0) as contributor_count,
    coalesce(c.writing_samples, 0) as writing_samples,
    coalesce(p.people_count, 0) as people_count,
    coalesce(t.themes, '{}'::text[]) as themes,
    coalesce(k.keywords, '{}'::text[]) as keywords,
    tn.sentiment_mean,
    coalesce(tn.stories_scored, 0) as stories_scored,
    case when tn.sentiment_mean >= 0.2 then 'positive' when tn.sentiment_mean <= -0.2 then 'negative'
         when tn.sentiment_mean is not null then 'neutral' end as tone,
    c.first_story_at,
    c.last_story_at,
    format('%s (%s-%s), remembered in %s stories by %s contributors%s%s.',
           l.person_name, coalesce(extract(year from l.birth_date)::text, '?'), coalesce(extract(year from l.death_date)::text, '?'),
           coalesce(c.stories_used, 0), coalesce(c.contributor_count, 0),
           case when cardinality(t.themes) > 0 then '; often about ' || array_to_string(t.themes[1:3], ', ') else '' end,
           case when tn.sentiment_mean is not null then '; the stories'' tone is '
                || case when tn.sentiment_mean >= 0.2 then 'positive' when tn.sentiment_mean <= -0.2 then 'negative' else 'neutral' end
                else '' end) as persona_summary,
    greatest(l._ingested_at, c._ingested_at) as _ingested_at
from {{ ref('stg_mosaic__legacies') }} as l
left join counts as c on c.legacy_id = l.id
left join tags as t on t.legacy_id = l.id
left join keywords as k on k.legacy_id = l.id
left join tone as tn on tn.legacy_id = l.id
left join people as p on p.legacy_id = l.id
