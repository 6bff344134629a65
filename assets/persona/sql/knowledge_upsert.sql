-- Merge one batch of freshly derived facts (temp table knowledge_incoming) into the hot layer:
-- new keys are inserted; a key whose value, lineage, confidence or expiry changed gets version + 1.
INSERT INTO persona.knowledge_entries AS k
       (mindscape_id, person_id, key, value, data_type, category, volatility, derived_from, confidence,
        ttl, created_at, updated_at, version, expires_at)
SELECT mindscape_id, person_id, key, value, data_type, category, volatility, derived_from, confidence,
       ttl, %(as_of)s, %(as_of)s, 1, expires_at
  FROM knowledge_incoming
ON CONFLICT (mindscape_id, key) DO UPDATE
   SET value = EXCLUDED.value, data_type = EXCLUDED.data_type, category = EXCLUDED.category,
       volatility = EXCLUDED.volatility, derived_from = EXCLUDED.derived_from,
       confidence = EXCLUDED.confidence, ttl = EXCLUDED.ttl, expires_at = EXCLUDED.expires_at,
       person_id = EXCLUDED.person_id, updated_at = EXCLUDED.updated_at, version = k.version + 1
 WHERE (k.value, k.derived_from, k.confidence, k.expires_at, k.ttl)
       IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.derived_from, EXCLUDED.confidence, EXCLUDED.expires_at, EXCLUDED.ttl)
