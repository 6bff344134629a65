-- PersonaKit mapper effectiveness from feedback (seed 001, 1.3 trainingMetadata and 1.6 Feedback): per
-- mapper, the personas it generated for live persons, the feedback on them, the mean of each of the five
-- ratings (overall, accuracy, completeness, relevance, usability; 1-5), the effectiveness score (mean of
-- a feedback's five ratings, averaged over feedback), the NPS from impact.recommendationScore (1-10:
-- promoters 9-10, passives 7-8, detractors 1-6; NPS = 100 x (promoters - detractors) / scored), the
-- would-use-again and task-success rates, beside the figures the mapper reports about itself.
-- A rating outside 1-5 or not a whole number is not averaged and is counted in invalid_ratings (so
-- nothing is dropped silently); a score outside 1-10 likewise in invalid_recommendation_scores.
-- Strategy: a table rebuilt every run (a handful of mappers; aggregates over all their feedback).
with personas as (
    select p.persona_instance_id, p.source_mapper_id
    from {{ ref('stg_personakit__personas') }} as p
    join {{ ref('stg_personakit__persons') }} as pe on pe.person_id = p.person_id and not pe.is_deleted
),

feedback as (
    select
        p.source_mapper_id as mapper_id,
        f.feedback_id,
        {%- for r in personakit_rating_names() %}
        case when f.ratings ->> '{{ r }}' ~ '^[0-9]+$' and (f.ratings ->> '{{ r }}')::integer between 1 and 5
             then (f.ratings ->> '{{ r }}')::integer end as {{ r }}_rating,
        {%- endfor %}
        case when f.impact ->> 'recommendationScore' ~ '^[0-9]+$'
              and (f.impact ->> 'recommendationScore')::integer between 1 and 10
             then (f.impact ->> 'recommendationScore')::integer end as recommendation_score,
        f.impact ? 'recommendationScore' as has_recommendation_score,
        (f.impact ->> 'wouldUseAgain')::boolean as would_use_again,
        f.task_context ->> 'taskOutcome' as task_outcome,
        f.processing_status,
        (
            {%- for r in personakit_rating_names() %}
            (case when f.ratings ->> '{{ r }}' ~ '^[0-9]+$' and (f.ratings ->> '{{ r }}')::integer between 1 and 5
                  then 0 else 1 end){{ ' +' if not loop.last }}
            {%- endfor %}
        ) as invalid_ratings,
        f._ingested_at
    from {{ ref('stg_personakit__feedback') }} as f
    join personas as p on p.persona_instance_id = f.persona_instance_id
),

scored as (
    select
        *,
        case when invalid_ratings = 0 then
            ({% for r in personakit_rating_names() %}{{ r }}_rating{{ ' + ' if not loop.last }}{% endfor %}) / 5.0
        end as effectiveness
    from feedback
),

per_mapper as (
    select
        mapper_id,
        count(*) as feedback_count,
        count(*) filter (where processing_status = 'pending') as pending_feedback,
        {%- for r in personakit_rating_names() %}
        round(avg({{ r }}_rating), 3) as avg_{{ r }},
        {%- endfor %}
        round(avg(effectiveness), 3) as effectiveness_score,
        sum(invalid_ratings) as invalid_ratings,
        count(recommendation_score) as nps_responses,
        count(*) filter (where recommendation_score >= 9) as promoters,
        count(*) filter (where recommendation_score between 7 and 8) as passives,
        count(*) filter (where recommendation_score <= 6) as detractors,
        count(*) filter (where has_recommendation_score and recommendation_score is null) as invalid_recommendation_scores,
        round(avg(case when would_use_again then 1.0 when not would_use_again then 0.0 end), 3) as would_use_again_rate,
        round(avg(case when task_outcome = 'success' then 1.0 when task_outcome is not null then 0.0 end), 3) as task_success_rate,
        max(_ingested_at) as _ingested_at
    from scored
    group by mapper_id
),

generated as (
    select source_mapper_id as mapper_id, count(*) as personas_generated
    from personas group by source_mapper_id
)

select
    m.mapper_id,
    m.name::text as mapper_name,
    m.version::text as mapper_version,
    m.status::text as mapper_status,
    coalesce(g.personas_generated, 0) as personas_generated,
    coalesce(f.feedback_count, 0) as feedback_count,
    coalesce(f.pending_feedback, 0) as pending_feedback,
    {%- for r in personakit_rating_names() %}
    f.avg_{{ r }},
    {%- endfor %}
    f.effectiveness_score,
    coalesce(f.invalid_ratings, 0) as invalid_ratings,
    coalesce(f.nps_responses, 0) as nps_responses,
    coalesce(f.promoters, 0) as promoters,
    coalesce(f.passives, 0) as passives,
    coalesce(f.detractors, 0) as detractors,
    case when f.nps_responses > 0 then round(100.0 * (f.promoters - f.detractors) / f.nps_responses, 1) end as nps,
    coalesce(f.invalid_recommendation_scores, 0) as invalid_recommendation_scores,
    f.would_use_again_rate,
    f.task_success_rate,
    {{ personakit_json_int("m.training_metadata ->> 'totalFeedbackCount'") }} as reported_feedback_count,
    case when m.training_metadata ->> 'averageEffectivenessScore' ~ '^[0-9]+(\.[0-9]+)?$'
         then (m.training_metadata ->> 'averageEffectivenessScore')::numeric end as reported_effectiveness_score,
    greatest(m._ingested_at, f._ingested_at) as _ingested_at
from {{ ref('stg_personakit__persona_mappers') }} as m
left join per_mapper as f on f.mapper_id = m.mapper_id
left join generated as g on g.mapper_id = m.mapper_id
