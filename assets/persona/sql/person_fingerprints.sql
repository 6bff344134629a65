-- One fingerprint per person over their eligible observation ids. Observations are immutable in the
-- source (content frozen by trigger), so the id set determines every derived output; a rejection,
-- a hard delete, a soft-deleted person or a quarantine changes or removes the fingerprint.
WITH eligible AS ({eligible})
SELECT person_id::text,
       md5(string_agg(observation_id::text, ',' ORDER BY observation_id)) AS fingerprint,
       count(*) AS observations
  FROM eligible
 GROUP BY person_id
