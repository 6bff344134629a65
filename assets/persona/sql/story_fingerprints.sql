-- One fingerprint per legacy over its stories' active-model chunks (content hash per chunk). A story
-- added, edited (new content hash), deleted, quarantined or re-embedded with a new model changes it.
WITH story AS (
    SELECT s.legacy_id, v.source_id, v.model_id,
           md5(string_agg(v.chunk_index::text || ':' || coalesce(v.content_hash, ''), ',' ORDER BY v.chunk_index)) AS h
      FROM vectors.mosaic_stories v
      JOIN vectors.active_models a
        ON a.model_id = v.model_id AND replace(a.source, '.', '_') IN ('mosaic_stories', 'mosaic')
      JOIN eligibility.eligible_mosaic_stories s ON s.id = v.source_id
     GROUP BY s.legacy_id, v.source_id, v.model_id
)
SELECT legacy_id::text, md5(string_agg(source_id::text || ':' || model_id || ':' || h, ',' ORDER BY source_id))
  FROM story
 GROUP BY legacy_id
