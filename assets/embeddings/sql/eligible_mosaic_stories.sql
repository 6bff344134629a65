-- Mosaic stories: every live story of a live legacy (hard deletes leave the raw copy at ingest).
-- Access (rule 3) is applied at query time with the seed's access function, so all are embedded.
SELECT s.id AS source_id,
       s.legacy_id,
       concat_ws(E'\n\n', nullif(btrim(s.title), ''), s.content) AS body
  FROM raw_mosaic.stories s
  JOIN raw_mosaic.legacies l ON l.id = s.legacy_id
 WHERE btrim(concat(s.title, s.content)) <> ''
   AND {story_not_quarantined}
