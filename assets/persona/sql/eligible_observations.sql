-- Rule 4, as dbt keeps it once (eligibility.eligible_personakit_observations: approved or processed, of a
-- live person, neither quarantined): the columns traits, knowledge and graph read.
SELECT o.observation_id,
       o.person_id,
       o.source_type,
       o.source_metadata,
       o.content_raw,
       o.content_structured,
       o.created_at
  FROM eligibility.eligible_personakit_observations o
