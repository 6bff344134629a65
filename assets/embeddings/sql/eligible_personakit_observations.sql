-- PersonaKit observations that may feed the warm layer: rule 4 as dbt keeps it once
-- (eligibility.eligible_personakit_observations: approved or processed, of a live person, neither
-- quarantined), with text to embed. metadata follows the seed's VectorDocument.metadata; content_type
-- its contentType.
SELECT o.observation_id AS source_id,
       o.person_id,
       CASE o.source_type
            WHEN 'assessment' THEN 'insight'
            WHEN 'chat_log'   THEN 'experience'
            WHEN 'interview'  THEN 'experience'
            ELSE 'knowledge'
       END AS content_type,
       jsonb_strip_nulls(jsonb_build_object(
           'category', o.source_type,
           'subcategory', coalesce(o.source_metadata ->> 'assessmentType',
                                   o.source_metadata ->> 'documentType',
                                   o.source_metadata ->> 'source'),
           'volatility', CASE WHEN o.source_type IN ('assessment', 'document') THEN 'low' ELSE 'high' END,
           'importance', CASE o.source_type
                              WHEN 'assessment' THEN 0.8
                              WHEN 'interview'  THEN 0.7
                              WHEN 'document'   THEN 0.6
                              WHEN 'api_import' THEN 0.5
                              ELSE 0.4
                         END,
           'derivedFrom', jsonb_build_array(o.observation_id::text),
           'tags', to_jsonb(array_remove(ARRAY[
                        o.source_type::text,
                        lower(o.source_metadata ->> 'source'),
                        lower(o.source_metadata ->> 'assessmentType'),
                        lower(o.source_metadata ->> 'documentType')], NULL))
       )) AS metadata,
       o.content_raw AS body
  FROM eligibility.eligible_personakit_observations o
 WHERE btrim(o.content_raw) <> ''
