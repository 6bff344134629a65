-- Mosaic story search documents: the stories of the dbt model eligibility.eligible_mosaic_stories
-- (of an existing legacy, not quarantined), with their legacy and access fields from the staging
-- views. Access is indexed per story so that every query can be scoped by construction (DESIGN.md
-- rule 3), mirroring mosaic.user_can_access_story:
--   submitter -> always; legacy admin (legacies.created_by) -> always; 'public' -> everyone;
--   'private' -> nobody else; 'group' -> members of any group of the story's legacy;
--   'family_only' -> mosaic.check_family_relationship (a Person of the legacy carrying the user's
--   account, marked family or with a FAMILY_OF edge).
-- is_public and readers (the user ids that may read a non-public story) are the access fields; a
-- query adds (is_public OR readers @> ARRAY[user]) and nothing is ever post-filtered.
-- source_version: the greatest change cursor (_source_lsn as an integer) of the rows the document is
-- made of; Elasticsearch uses it as the external version.
WITH legacy_groups AS (
    SELECT g.legacy_id, array_agg(DISTINCT m) AS members, max(g._source_lsn - '0/0'::pg_lsn)::bigint AS lsn
      FROM staging.stg_mosaic__groups g
      CROSS JOIN LATERAL unnest(g.members) AS m
     GROUP BY g.legacy_id
),
legacy_family AS (
    SELECT p.legacy_id, array_agg(DISTINCT p.user_id) AS members, max(p._source_lsn - '0/0'::pg_lsn)::bigint AS lsn
      FROM staging.stg_mosaic__persons p
     WHERE p.user_id IS NOT NULL
       AND (p.relationship_type = 'family' OR EXISTS (
            SELECT 1 FROM staging.stg_mosaic__person_relationships r
             WHERE (r.from_person_id = p.id OR r.to_person_id = p.id)
               AND r.relationship = 'FAMILY_OF'))
     GROUP BY p.legacy_id
),
story_vectors AS (
    {story_vectors}
)
SELECT d.*,
       md5(row(d.legacy_id, d.legacy_name, d.submitted_by, d.legacy_admin, d.visibility, d.readers,
               d.title, d.content, d.story_type, d.tags, d.approved, d.model_id, d.vector_hash,
               d.updated_at)::text) AS fingerprint
  FROM (
    SELECT s.id, s.legacy_id, l.person_name AS legacy_name, s.submitted_by,
           l.created_by AS legacy_admin, s.visibility_level AS visibility,
           (s.visibility_level = 'public') AS is_public,
           ARRAY(SELECT DISTINCT r FROM unnest(
                    ARRAY[s.submitted_by, l.created_by]
                    || CASE s.visibility_level
                         WHEN 'group' THEN coalesce(lg.members, ARRAY[]::uuid[])
                         WHEN 'family_only' THEN coalesce(lf.members, ARRAY[]::uuid[])
                         ELSE ARRAY[]::uuid[] END) AS r
                  WHERE r IS NOT NULL ORDER BY r) AS readers,
           s.title, s.content, s.story_type,
           coalesce(s.tags, ARRAY[]::text[]) AS tags, s.created_at, s.updated_at,
           (s.approved_by IS NOT NULL) AS approved,
           coalesce(greatest((s._source_lsn - '0/0'::pg_lsn)::bigint, (l._source_lsn - '0/0'::pg_lsn)::bigint,
                             CASE s.visibility_level WHEN 'group' THEN lg.lsn
                                                     WHEN 'family_only' THEN lf.lsn END), 0)
             AS source_version,
           sv.embedding, sv.model_id, sv.vector_hash
      FROM eligibility.eligible_mosaic_stories s
      JOIN staging.stg_mosaic__legacies l ON l.id = s.legacy_id
      LEFT JOIN legacy_groups lg ON lg.legacy_id = s.legacy_id
      LEFT JOIN legacy_family lf ON lf.legacy_id = s.legacy_id
      LEFT JOIN story_vectors sv ON sv.source_id = s.id
  ) d
