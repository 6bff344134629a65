-- Rule 4: observations that may feed traits, knowledge and graph: approved or processed, of a live
-- (not soft-deleted) person, and neither quarantined. {obs_ok} / {person_ok} are quarantine filters.
SELECT o.observation_id,
       o.person_id,
       o.source_type,
       o.source_metadata,
       o.content_raw,
       o.content_structured,
       o.created_at
  FROM raw_personakit.observations o
  JOIN raw_personakit.persons p ON p.person_id = o.person_id
 WHERE o.processing_status IN ('approved', 'processed')
   AND p.deleted_at IS NULL
   AND {obs_ok}
   AND {person_ok}
