-- Mosaic story search documents: the stories of the dbt model eligibility.eligible_mosaic_stories
-- (of an existing legacy, not quarantined), with their legacy from the staging view. Access is indexed
-- per story so that every query can be scoped by construction (DESIGN.md rule 3): the readers of a story
-- are the users the dbt model intermediate.int_mosaic__story_grants grants it to (the rules of the seed's
-- mosaic.user_can_access_story, written once in dbt) for a reason other than 'public'; is_public says
-- everyone may read it. A query adds (is_public OR readers @> ARRAY[user]) and nothing is ever
-- post-filtered.
-- source_version: the greatest change cursor (_source_lsn as an integer) of the story and its legacy;
-- Elasticsearch uses it as the lowest external version (a changed document always gets a higher one).
WITH story_readers AS (
    SELECT g.story_id, array_agg(DISTINCT g.user_id ORDER BY g.user_id) AS readers
      FROM intermediate.int_mosaic__story_grants g
     WHERE g.access_reason <> 'public' AND g.user_id IS NOT NULL
     GROUP BY g.story_id
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
           coalesce(sr.readers, ARRAY[]::uuid[]) AS readers,
           s.title, s.content, s.story_type,
           coalesce(s.tags, ARRAY[]::text[]) AS tags, s.created_at, s.updated_at,
           (s.approved_by IS NOT NULL) AS approved,
           coalesce(greatest(s._source_lsn - '0/0'::pg_lsn, l._source_lsn - '0/0'::pg_lsn)::bigint, 0)
             AS source_version,
           sv.embedding, sv.model_id, sv.vector_hash
      FROM eligibility.eligible_mosaic_stories s
      JOIN staging.stg_mosaic__legacies l ON l.id = s.legacy_id
      LEFT JOIN story_readers sr ON sr.story_id = s.id
      LEFT JOIN story_vectors sv ON sv.source_id = s.id
  ) d
