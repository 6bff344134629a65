"""The AI assistant's cleanup_old_data (seed 003) applied to the warehouse copies: governance events
older than 7 years, user sessions ended more than 2 years ago and agent sessions completed more than a
year ago leave raw_devassist; nothing else does; the asset reports it (metadata and
tessera_meta.retention_log). Expected survivors are computed in pandas from a snapshot before the run."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pandas as pd
import psycopg

from assets.ingest import retention as copy_retention


def _frame(conn, table: str) -> pd.DataFrame:
    cur = conn.execute(f"select * from raw_devassist.{table}")
    return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description], dtype=object)


def _expected_survivors(frames: dict[str, pd.DataFrame], now: dt.datetime) -> dict[str, set]:
    def before(ts, years):
        return ts is not None and not pd.isna(ts) and ts < now.replace(year=now.year - years)

    g, u, a = frames["governance_events"], frames["user_sessions"], frames["agent_sessions"]
    return {
        "governance_events": {r["event_id"] for r in g.to_dict("records") if not before(r["created_at"], 7)},
        "user_sessions": {r["session_id"] for r in u.to_dict("records") if not before(r["ended_at"], 2)},
        "agent_sessions": {r["agent_session_id"] for r in a.to_dict("records")
                           if not (r["status"] == "completed" and before(r["completed_at"], 1))},
    }


def test_cleanup_old_data_applied_to_the_warehouse_copies_and_reported(ingested):
    from assets.operations.definitions import retention_log
    from assets.resources import default_resources

    with psycopg.connect(ingested.warehouse_url) as wh:
        # age some copies past (and some just inside) the seed's periods; the generator writes recent data
        wh.execute("update raw_devassist.governance_events set created_at = now() - interval '8 years' "
                   "where ctid in (select ctid from raw_devassist.governance_events order by event_id limit 3)")
        wh.execute("update raw_devassist.governance_events set created_at = now() - interval '6 years' "
                   "where ctid in (select ctid from raw_devassist.governance_events order by event_id desc limit 2)")
        wh.execute("update raw_devassist.user_sessions set ended_at = now() - interval '3 years' "
                   "where ctid in (select ctid from raw_devassist.user_sessions order by session_id limit 2)")
        wh.execute("update raw_devassist.user_sessions set ended_at = now() - interval '20 months' "
                   "where ctid in (select ctid from raw_devassist.user_sessions order by session_id desc limit 1)")
        wh.execute("update raw_devassist.agent_sessions set status = 'completed', completed_at = now() - interval '2 years' "
                   "where ctid in (select ctid from raw_devassist.agent_sessions order by agent_session_id limit 2)")
        wh.execute("update raw_devassist.agent_sessions set status = 'failed', completed_at = now() - interval '2 years' "
                   "where ctid in (select ctid from raw_devassist.agent_sessions order by agent_session_id desc limit 1)")
        wh.commit()
        now = wh.execute("select now()").fetchone()[0]
        frames = {t: _frame(wh, t) for t in ("governance_events", "user_sessions", "agent_sessions")}
    expected = _expected_survivors(frames, now)
    removed_expected = {t: len(frames[t]) - len(expected[t]) for t in frames}
    assert removed_expected == {"governance_events": 3, "user_sessions": 2, "agent_sessions": 2}

    result = dg.materialize([retention_log], resources=default_resources())
    assert result.success
    metadata = result.asset_materializations_for_node("tessera_meta__retention_log")[0].metadata
    table = metadata["by_table"].value
    for t, n in removed_expected.items():
        assert f"| raw_devassist.{t} | {n} |" in table
    assert metadata["rules"].value["raw_devassist.agent_sessions"] == "completed_at older than 1 year and status = 'completed'"

    with psycopg.connect(ingested.warehouse_url) as wh:
        keys = {"governance_events": "event_id", "user_sessions": "session_id", "agent_sessions": "agent_session_id"}
        for t, key in keys.items():
            left = {r[0] for r in wh.execute(f"select {key} from raw_devassist.{t}")}
            assert left == expected[t], t
        logged = dict(wh.execute(
            "select table_name, rows_removed from tessera_meta.retention_log where run_id = %s "
            "and table_name like 'raw_devassist.%%'", (result.run_id,)).fetchall())
    assert {t: logged[f"raw_devassist.{t}"] for t in keys} == removed_expected


def test_the_seed_periods_are_the_registry_rules():
    rules = {r.name: r for r in copy_retention.retention_rules()}
    assert rules["raw_devassist.governance_events"].keep == "7 years"
    assert rules["raw_devassist.user_sessions"].column == "ended_at" and rules["raw_devassist.user_sessions"].keep == "2 years"
    completed = rules["raw_devassist.agent_sessions"]
    assert (completed.column, completed.keep, completed.condition) == ("completed_at", "1 year", "status = 'completed'")
    assert "status = 'completed'" in copy_retention.delete_statement(completed).as_string(None)
