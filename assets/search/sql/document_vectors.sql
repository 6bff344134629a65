-- One vector per document: the L2-normalised mean of its chunks, for the source's active model only.
SELECT v.source_id, v.model_id::text AS model_id,
       l2_normalize(avg(v.embedding)) AS embedding,
       md5(string_agg(v.chunk_index::text || ':' || coalesce(v.content_hash::text, ''), ',' ORDER BY v.chunk_index))
         AS vector_hash
  FROM {vector_table} v
 WHERE v.model_id = {model_id}
 GROUP BY v.source_id, v.model_id
