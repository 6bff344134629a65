-- The warm layer (VectorDocument) as a view over the embeddings area's table: no copy of the vectors.
-- Only rows of the source's active model, of eligible observations (rule 4, again at read: the view is
-- defence in depth, the embeddings area should not embed ineligible observations in the first place).
CREATE OR REPLACE VIEW persona.knowledge_warm_layer AS
WITH eligible AS ({eligible})
SELECT v.source_id                AS document_id,
       v.chunk_index,
       m.mindscape_id,
       e.person_id,
       v.model_id                 AS embedding_model,
       vector_dims(v.embedding)   AS embedding_dimensions,
       a.dimension                AS declared_dimensions,
       v.embedding,
       v.content_hash,
       v.embedded_at
  FROM vectors.personakit_observations v
  JOIN vectors.active_models a
    ON a.model_id = v.model_id AND replace(a.source, '.', '_') IN ('personakit_observations', 'personakit')
  JOIN eligible e ON e.observation_id = v.source_id
  LEFT JOIN staging.stg_personakit__mindscapes m ON m.person_id = e.person_id
