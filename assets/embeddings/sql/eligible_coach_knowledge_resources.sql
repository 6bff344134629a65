-- Study-coach knowledge resources (seed 002 "Vector Database": embeddings for knowledge resources,
-- metadata resourceId, language, tags, source), of learners not deleted.
SELECT k.id AS source_id,
       k.user_id,
       jsonb_build_object(
           'resourceId', k.id::text,
           'language', k.language,
           'tags', to_jsonb(coalesce(k.tags, ARRAY[]::text[])),
           'source', k.source
       ) AS metadata,
       concat_ws(E'\n\n', nullif(btrim(k.title), ''), k.content) AS body
  FROM raw_coach.knowledge_resources k
  JOIN raw_coach.users u ON u.id = k.user_id
 WHERE u.deleted_at IS NULL
   AND btrim(concat(k.title, k.content)) <> ''
   AND {resource_not_quarantined}
   AND {user_not_quarantined}
