"""Erasure and its check across relation kinds: materialized views are refreshed after the rows they
are computed from are gone, and a relation the check cannot read (a foreign table) is named, so the
check never claims a proof it does not have. Pure parts of BI access's column-level privacy."""

from __future__ import annotations

import uuid

import psycopg
from click.testing import CliRunner

from assets.operations import bi_access, erasure


def test_materialized_views_are_erased_and_checked(databases):
    subject, other = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(databases.warehouse_url) as wh:
        wh.execute("CREATE SCHEMA analytics; CREATE SCHEMA marts")
        wh.execute("CREATE TABLE analytics.visits (user_id uuid, n int)")
        wh.execute("INSERT INTO analytics.visits VALUES (%s, 1), (%s, 2)", (subject, other))
        wh.execute("CREATE MATERIALIZED VIEW marts.visit_totals AS SELECT user_id, sum(n) AS n FROM analytics.visits "
                   "GROUP BY user_id")
        wh.commit()
        # a materialized view is a store: the check sees the id there
        assert "marts.visit_totals.user_id" in erasure.find_subject(wh, subject)
        result = erasure.erase_subjects(wh, [subject], trigger="on_demand")
        wh.commit()
        assert result.rows_removed["marts.visit_totals (materialized view refreshed)"] == 1
        assert erasure.find_subject(wh, subject) == []
        assert wh.execute("SELECT count(*) FROM marts.visit_totals").fetchone()[0] == 1  # the other user stays


def test_a_relation_the_check_cannot_read_is_never_verified(databases):
    subject = uuid.uuid4()
    with psycopg.connect(databases.warehouse_url) as wh:
        wh.execute("CREATE SCHEMA marts")
        wh.execute("CREATE FOREIGN DATA WRAPPER tessera_test_fdw")
        wh.execute("CREATE SERVER tessera_test_server FOREIGN DATA WRAPPER tessera_test_fdw")
        wh.execute("CREATE FOREIGN TABLE marts.remote_profiles (user_id uuid) SERVER tessera_test_server")
        wh.commit()
        assert erasure.find_subject(wh, subject) == ["cannot inspect marts.remote_profiles (foreign table)"]
    from orchestration.cli import main

    out = CliRunner().invoke(main, ["erase", "--user", str(subject)])
    assert out.exit_code != 0
    assert "not verified" in out.output and "verified: no derived store" not in out.output


def test_analyst_projection_omits_email_and_masks_private_text():
    cols = ["id", "user_id", "title", "content", "is_private", "mood"]
    text = [c.as_string(None) for c in bi_access.analyst_projection(cols)]
    assert text[:2] == ['"id"', '"user_id"']
    assert text[2] == 'CASE WHEN "is_private" THEN NULL ELSE "title" END AS "title"'
    assert text[3] == 'CASE WHEN "is_private" THEN NULL ELSE "content" END AS "content"'
    profile = [c.as_string(None) for c in bi_access.analyst_projection(["id", "email", "display_name", "password_hash"])]
    assert profile == ['"id"', '"display_name"']
    # a count of email stories is not an email; title without is_private is not a private entry's text
    assert bi_access.analyst_projection(["legacy_id", "email_stories", "title"]) is None
    assert bi_access.view_names([("marts", "a"), ("analytics", "a"), ("marts", "b")]) == {
        ("marts", "a"): "marts_a", ("analytics", "a"): "analytics_a", ("marts", "b"): "b"}
