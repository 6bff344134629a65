-- Mosaic stories: the dbt model eligibility.eligible_mosaic_stories (stories of an existing legacy, not
-- quarantined), with some text to embed. Access (rule 3) is applied at query time with the seed's
-- access function, so all of them are embedded.
SELECT s.id AS source_id,
       s.legacy_id,
       concat_ws(E'\n\n', nullif(btrim(s.title), ''), s.content) AS body
  FROM eligibility.eligible_mosaic_stories s
 WHERE btrim(concat(s.title, s.content)) <> ''
