-- Journal search documents, read from the dbt model eligibility.eligible_journal_entries, where the
-- privacy rules are written once; search applies them where data enters the search store (DESIGN.md),
-- not at query time:
--   rule 1: soft-deleted entries, entries of a soft-deleted user and quarantined rows are not rows of
--           the model, so they are not documents at all;
--   rule 2: private entries and entries of private-mode users stay documents (their owner may find
--           them by keyword; every query is scoped to user_id) but are never ai_eligible (the model's
--           flag) and never carry a vector, so semantic and hybrid search cannot return them. The
--           table's CHECK (ai_eligible OR embedding IS NULL) holds this by construction.
-- Tags come from the staging views of the tag links and tags.
-- source_version: the greatest change cursor (_source_lsn as an integer) of the rows the document is
-- made of; Elasticsearch uses it as the external version.
WITH entry_tags AS (
    SELECT jet.journal_entry_id AS entry_id,
           array_agg(DISTINCT t.name ORDER BY t.name) AS tags,
           max(greatest(jet._source_lsn - '0/0'::pg_lsn, t._source_lsn - '0/0'::pg_lsn))::bigint AS lsn
      FROM staging.stg_mindflow__journal_entry_tags jet
      JOIN staging.stg_mindflow__tags t ON t.id = jet.tag_id
     GROUP BY jet.journal_entry_id
),
entry_vectors AS (
    {entry_vectors}
),
entries AS (
    SELECT e.*,
           greatest(e._source_lsn - '0/0'::pg_lsn, e.user_source_lsn - '0/0'::pg_lsn,
                    e.settings_source_lsn - '0/0'::pg_lsn)::bigint AS rows_lsn
      FROM eligibility.eligible_journal_entries e
)
SELECT d.*,
       md5(row(d.user_id, d.date, d.title, d.content, d.mood, d.tags, d.location, d.word_count,
               d.is_private, d.private_mode, d.ai_eligible, d.entry_version, d.model_id,
               d.vector_hash, d.updated_at)::text) AS fingerprint
  FROM (
    SELECT e.id, e.user_id, e.entry_date AS date, e.title, e.content::text AS content,
           e.mood, coalesce(et.tags, ARRAY[]::text[]) AS tags,
           e.location, e.word_count, e.is_private,
           e.user_private_mode AS private_mode,
           e.ai_eligible,
           e.created_at, e.updated_at, e.version AS entry_version,
           coalesce(greatest(e.rows_lsn, et.lsn), 0) AS source_version,
           CASE WHEN e.ai_eligible THEN ev.embedding END AS embedding,
           CASE WHEN e.ai_eligible THEN ev.model_id END AS model_id,
           CASE WHEN e.ai_eligible THEN ev.vector_hash END AS vector_hash
      FROM entries e
      LEFT JOIN entry_tags et ON et.entry_id = e.id
      LEFT JOIN entry_vectors ev ON ev.source_id = e.id
  ) d
