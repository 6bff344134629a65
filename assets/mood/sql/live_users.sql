-- Users whose rows may appear in analytics: the dbt model eligibility.eligible_mindflow_users (not
-- soft-deleted, not quarantined).
CREATE TEMP TABLE _live_users ON COMMIT DROP AS
SELECT u.id AS user_id FROM eligibility.eligible_mindflow_users u;
CREATE UNIQUE INDEX ON _live_users (user_id);
ANALYZE _live_users
