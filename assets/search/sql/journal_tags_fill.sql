-- Tag counts of the given users' documents (of every user when all_users).
INSERT INTO {tags_table} (user_id, tag, tag_folded, doc_count)
SELECT d.user_id, t.tag, lower(search.fold(t.tag)), count(*)
  FROM {docs_table} d
 CROSS JOIN LATERAL unnest(d.tags) AS t(tag)
 WHERE %(all_users)s OR d.user_id = ANY(%(users)s::uuid[])
 GROUP BY d.user_id, t.tag
