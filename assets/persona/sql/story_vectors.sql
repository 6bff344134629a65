-- Story vectors of the given legacies: the mean of each story's active-model chunks (normalised in Python).
SELECT s.legacy_id::text, v.source_id::text, v.model_id, avg(v.embedding)::real[] AS mean_embedding
  FROM vectors.mosaic_stories v
  JOIN vectors.active_models a
    ON a.model_id = v.model_id AND replace(a.source, '.', '_') IN ('mosaic_stories', 'mosaic')
  JOIN eligibility.eligible_mosaic_stories s ON s.id = v.source_id
 WHERE s.legacy_id = ANY(%(legacies)s::uuid[])
 GROUP BY s.legacy_id, v.source_id, v.model_id
 ORDER BY s.legacy_id, v.source_id
