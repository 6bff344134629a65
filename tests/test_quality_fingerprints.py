"""Checks that cost what they check: raw suites and monitors on an unchanged product report their stored
result again (quality/fingerprints.py), and a stored failure of a blocking check still blocks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import dagster as dg
import psycopg

from test_ingest_support import add_mindflow_user

ENTRIES = dg.AssetKey(["raw_mindflow", "journal_entries"])


def test_reuse_needs_the_same_known_fingerprint_and_a_recent_run():
    from quality.fingerprints import RECHECK_AFTER, Stored, _UNKNOWN, fingerprint_of, may_reuse

    facts = {"journal_entries": ["loaded", "2026-01-01", "0/1", 10, "2026-01-02"], "_quarantine": [3, None, 1]}
    fp = fingerprint_of(facts)
    assert fp == fingerprint_of(dict(reversed(list(facts.items()))))  # order does not matter
    assert fp != fingerprint_of({**facts, "journal_entries": ["loaded", "2026-01-01", "0/1", 9, "2026-01-02"]})
    assert fp != fingerprint_of({**facts, "_quarantine": [4, None, 2]})
    assert fingerprint_of({**facts, "journal_entries": ["loaded", None, None, _UNKNOWN, None]}) is None
    now = datetime(2026, 1, 3, tzinfo=timezone.utc)
    stored = Stored(fp, "run1", now - timedelta(minutes=1), {})
    assert may_reuse(stored, fp, now)
    assert not may_reuse(stored, fingerprint_of({**facts, "_quarantine": None}), now)
    assert not may_reuse(stored, None, now)
    assert not may_reuse(None, fp, now)
    assert not may_reuse(Stored(fp, "run1", now - RECHECK_AFTER, {}), fp, now)


def test_product_fingerprint_follows_ingest_and_quarantine(databases):
    from assets.ingest.pipeline import sync_all
    from quality.fingerprints import product_fingerprint

    with psycopg.connect(databases.source_url, autocommit=True) as src:
        add_mindflow_user(src, entries=2)
    sync_all(databases.source_url, databases.warehouse_url)
    with psycopg.connect(databases.warehouse_url, autocommit=True) as wh:
        first = product_fingerprint(wh, "mindflow")
        assert first is not None and first == product_fingerprint(wh, "mindflow")
        other = product_fingerprint(wh, "mosaic")
    sync_all(databases.source_url, databases.warehouse_url)  # a tick with nothing new
    with psycopg.connect(databases.warehouse_url, autocommit=True) as wh:
        assert product_fingerprint(wh, "mindflow") == first
    for change in ("UPDATE mindflow.journal_entries SET title = title || '!' WHERE id = (SELECT id FROM mindflow.journal_entries ORDER BY id LIMIT 1)",
                   "DELETE FROM mindflow.journal_entries WHERE id = (SELECT id FROM mindflow.journal_entries ORDER BY id LIMIT 1)"):
        with psycopg.connect(databases.source_url, autocommit=True) as src:
            src.execute(change)
        sync_all(databases.source_url, databases.warehouse_url)
        with psycopg.connect(databases.warehouse_url, autocommit=True) as wh:
            now = product_fingerprint(wh, "mindflow")
            assert now != first, change
            assert product_fingerprint(wh, "mosaic") == other  # another product's checks keep their result
        first = now


def test_blocking_raw_suite_reuses_its_failure_and_still_blocks(databases):
    from assets.ingest.definitions import ingest_asset
    from assets.resources import SourceDatabase, WarehouseDatabase
    from quality.checks import SUITE_CHECK, all_suite_checks

    with psycopg.connect(databases.source_url, autocommit=True) as src:
        _, entry_ids = add_mindflow_user(src, entries=2)
    checks = next(c for c in all_suite_checks() if c.node_def.name == "gx_suites_raw_mindflow")

    @dg.asset(deps=[ENTRIES])
    def probe() -> None:
        """Stands for whatever reads the raw entries."""

    resources = {"source": SourceDatabase(url=databases.source_url), "warehouse": WarehouseDatabase(url=databases.warehouse_url)}

    def run():
        result = dg.materialize([ingest_asset, checks, probe], resources=resources, selection=[ENTRIES, probe.key],
                                raise_on_error=False)
        evaluation = next(e for e in result.get_asset_check_evaluations()
                          if e.check_name == SUITE_CHECK and e.asset_key == ENTRIES)
        probed = probe.key in {m.asset_key for m in result.get_asset_materialization_events()}
        return result.run_id, evaluation, probed

    run_id, fresh, probed = run()
    # (only the entries are loaded here, so their foreign key to the users warns; nothing blocks)
    assert fresh.severity == dg.AssetCheckSeverity.WARN or fresh.passed
    assert probed and "reused_from_run" not in fresh.metadata
    # a raw row breaking an ERROR expectation of the blocking suite (mood outside the six)
    with psycopg.connect(databases.warehouse_url, autocommit=True) as wh:
        wh.execute("UPDATE raw_mindflow.journal_entries SET mood = 'furious' WHERE id = %s", (entry_ids[0],))
        wh.execute("DELETE FROM quality.check_fingerprints")  # a write past the ingest: evaluate again
        history = wh.execute("SELECT count(*) FROM quality.check_history").fetchone()[0]
    failed_run, failed, probed = run()
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR and not probed
    with psycopg.connect(databases.warehouse_url, autocommit=True) as wh:
        after_failed = wh.execute("SELECT count(*) FROM quality.check_history").fetchone()[0]
    assert after_failed > history  # GX ran

    _, again, probed = run()  # nothing changed: the stored failure, no validation, and still blocking
    assert not again.passed and again.severity == dg.AssetCheckSeverity.ERROR and not probed
    assert again.metadata["reused_from_run"].value == failed_run
    with psycopg.connect(databases.warehouse_url, autocommit=True) as wh:
        assert wh.execute("SELECT count(*) FROM quality.check_history").fetchone()[0] == after_failed

    # the source fixes the entry: the ingest applies it, the fingerprint moves, the suite runs and passes
    with psycopg.connect(databases.source_url, autocommit=True) as src:
        src.execute("UPDATE mindflow.journal_entries SET mood = 'happy', title = title || ' fixed' WHERE id = %s",
                    (entry_ids[0],))
    _, fixed, probed = run()
    assert (fixed.passed or fixed.severity == dg.AssetCheckSeverity.WARN) and probed
    assert "reused_from_run" not in fixed.metadata
