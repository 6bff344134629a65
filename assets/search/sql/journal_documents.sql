-- Journal search documents built from the raw MindFlow copies. The privacy rules are applied here,
-- where data enters the search store (DESIGN.md), not at query time:
--   rule 1: soft-deleted entries and every entry of a soft-deleted user are not documents at all;
--   rule 2: private entries and entries of private-mode users stay documents (their owner may find
--           them by keyword; every query is scoped to user_id) but are never ai_eligible and never
--           carry a vector, so semantic and hybrid search cannot return them. The table's CHECK
--           (ai_eligible OR embedding IS NULL) holds this by construction.
-- Quarantined entries (quality.active_quarantine) are left out until released.
-- source_version: the greatest change cursor (_source_lsn as an integer) of the rows the document is
-- made of; Elasticsearch uses it as the external version.
WITH entry_tags AS (
    SELECT jet.journal_entry_id AS entry_id,
           array_agg(DISTINCT t.name::text ORDER BY t.name::text) AS tags,
           max(greatest({jet_lsn}, {t_lsn})) AS lsn
      FROM raw_mindflow.journal_entry_tags jet
      JOIN raw_mindflow.tags t ON t.id = jet.tag_id
     WHERE {jet_live} AND {t_live}
     GROUP BY jet.journal_entry_id
),
entry_vectors AS (
    {entry_vectors}
),
entries AS (
    SELECT e.*, coalesce(s.private_mode, false) AS user_private_mode,
           greatest({e_lsn}, {u_lsn}, coalesce({s_lsn}, 0)) AS rows_lsn
      FROM raw_mindflow.journal_entries e
      JOIN raw_mindflow.users u ON u.id = e.user_id AND u.deleted_at IS NULL AND {u_live}
      LEFT JOIN raw_mindflow.user_settings s ON s.user_id = e.user_id AND {s_live}
     WHERE e.deleted_at IS NULL AND {e_live} AND {not_quarantined}
)
SELECT d.*,
       md5(row(d.user_id, d.date, d.title, d.content, d.mood, d.tags, d.location, d.word_count,
               d.is_private, d.private_mode, d.ai_eligible, d.entry_version, d.model_id,
               d.vector_hash, d.updated_at)::text) AS fingerprint
  FROM (
    SELECT e.id, e.user_id, e.date, e.title::text AS title, e.content::text AS content,
           e.mood::text AS mood, coalesce(et.tags, ARRAY[]::text[]) AS tags,
           e.location::text AS location, e.word_count, e.is_private,
           e.user_private_mode AS private_mode,
           (NOT e.is_private AND NOT e.user_private_mode) AS ai_eligible,
           e.created_at, e.updated_at, e.version AS entry_version,
           greatest(e.rows_lsn, coalesce(et.lsn, 0)) AS source_version,
           CASE WHEN NOT e.is_private AND NOT e.user_private_mode THEN ev.embedding END AS embedding,
           CASE WHEN NOT e.is_private AND NOT e.user_private_mode THEN ev.model_id END AS model_id,
           CASE WHEN NOT e.is_private AND NOT e.user_private_mode THEN ev.vector_hash END AS vector_hash
      FROM entries e
      LEFT JOIN entry_tags et ON et.entry_id = e.id
      LEFT JOIN entry_vectors ev ON ev.source_id = e.id
  ) d
