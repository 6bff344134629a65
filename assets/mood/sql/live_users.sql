-- Users whose rows may appear in analytics: not soft-deleted and not quarantined.
CREATE TEMP TABLE _live_users ON COMMIT DROP AS
SELECT u.id AS user_id FROM {raw}.users u WHERE u.deleted_at IS NULL AND {user_ok};
CREATE UNIQUE INDEX ON _live_users (user_id);
ANALYZE _live_users
