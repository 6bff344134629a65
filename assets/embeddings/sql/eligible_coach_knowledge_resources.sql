-- Study-coach knowledge resources (seed 002 "Vector Database": embeddings for knowledge resources,
-- metadata resourceId, language, tags, source): the dbt model
-- eligibility.eligible_coach_knowledge_resources (the rules are written there), with some text to embed.
SELECT k.id AS source_id,
       k.user_id,
       jsonb_build_object(
           'resourceId', k.id::text,
           'language', k.language,
           'tags', to_jsonb(coalesce(k.tags, ARRAY[]::text[])),
           'source', k.source
       ) AS metadata,
       concat_ws(E'\n\n', nullif(btrim(k.title), ''), k.content) AS body
  FROM eligibility.eligible_coach_knowledge_resources k
 WHERE btrim(concat(k.title, k.content)) <> ''
