"""The live bench: its pure parts (pacing, the transaction mix, sampling, the lag trend, the sustained-rate
decision, the JSON shape) without a database, and the whole bench at a tiny scale against `tessera live`."""

from __future__ import annotations

import importlib.util
import json
import math
import random

import pytest

from bench import live
from bench.freshness import STORES, Write


def test_pacing_plan_writes_the_rate_and_groups_changes_at_high_rates():
    low = live.pacing_plan(10, 12, min_changes=3, max_tx_per_s=50)
    assert sum(n for _, n in low) == 120
    assert all(n >= 3 for _, n in low) and len(low) == 40  # 10/s in transactions of 3 or more
    assert [t for t, _ in low] == sorted(t for t, _ in low) and low[0][0] == 0 and low[-1][0] < 12
    high = live.pacing_plan(2000, 10, min_changes=3, max_tx_per_s=50)
    assert sum(n for _, n in high) == 20000 and len(high) == 500  # 50 transactions/s of 40 changes
    assert {n for _, n in high} == {40}
    odd = live.pacing_plan(1000, 1.5, max_tx_per_s=7)
    assert sum(n for _, n in odd) == 1500 and max(n for _, n in odd) - min(n for _, n in odd) <= 1
    assert live.pacing_plan(0, 10) == []


def test_compose_spends_the_budget_in_the_mix():
    rng = random.Random(3)
    ops = [op for _ in range(400) for op in live.compose(20, rng)]
    assert all(cost >= 1 for _, cost in ops)
    kinds = {k: sum(1 for kind, _ in ops if kind == k) for k in live.KINDS}
    assert kinds["insert"] > kinds["edit"] > kinds["soft_delete"] > 0 and kinds["privacy_flip"] > 0
    assert all(sum(c for _, c in live.compose(n, random.Random(n))) == n for n in range(1, 60))
    assert any(cost == 3 for kind, cost in ops if kind == "insert")  # inserts carry their tag links
    assert all(cost == 1 for kind, cost in ops if kind != "insert")
    only_inserts = live.compose(30, random.Random(1), can_edit=False, can_retire=False)
    assert {kind for kind, _ in only_inserts} == {"insert"}


def test_sampler_tracks_at_most_the_asked_share():
    sampler = live.Sampler(rate=1000, per_second=20)  # about 550 operations a second
    assert sampler.stride == math.ceil(1000 / live.MEAN_COST / 20)
    ops_per_s = 1000 / live.MEAN_COST
    tracked = sum(sampler.take() for _ in range(round(ops_per_s * 60)))  # a minute's operations
    assert 60 * 18 <= tracked <= 60 * 20
    every = live.Sampler(rate=10, per_second=20)
    assert all(every.take() for _ in range(30))  # low rates: every write
    nothing = live.Sampler(rate=10, per_second=0)
    assert not any(nothing.take() for _ in range(10))


def test_the_sample_keeps_the_mix_of_kinds():
    rng = random.Random(11)
    sampler = live.Sampler(rate=1000, per_second=20)
    ops = [op for _ in range(2000) for op in live.compose(20, rng)]
    picked = [kind for kind, _ in ops if sampler.take()]
    share = sum(1 for k in picked if k == "insert") / len(picked)
    assert abs(share - live.MIX["insert"]) < 0.08


def test_build_transaction_keeps_tracked_inserts_out_of_the_pools():
    from datetime import date

    pools = live.Pools(users=["u1", "u2"], tags=["t1", "t2", "t3"], editable=["e1", "e2"], retirable=["r1", "r2", "r3"],
                       first_day=date(2020, 1, 10))
    rng = random.Random(5)
    tx = live.build_transaction([("insert", 3), ("edit", 1), ("soft_delete", 1), ("privacy_flip", 1), ("insert", 1)],
                                pools, live.Sampler(rate=1, per_second=100), rng)
    assert [e[1:3] for e in tx.entries] == [("u1", "2020-01-10"), ("u2", "2020-01-10")]
    assert len(tx.links) == 2 and len({t for _, t in tx.links}) == 2
    assert len(tx.edits) == 1 and tx.edits[0][0] in ("e1", "e2")
    assert len(tx.soft_deletes) == len(tx.flips) == 1 and len(pools.retirable) == 1
    assert [w.kind for w in tx.tracked] == ["insert", "edit", "soft_delete", "privacy_flip", "insert"]
    assert tx.untracked_inserts == []  # every write tracked: none may be edited or retired later
    assert tx.tracked[1].token == tx.edits[0][1]


def test_a_tracked_edit_holds_its_entry_until_every_store_shows_it():
    """No later edit may supersede a tracked edit's token before it shows (the lanes coalesce)."""
    from datetime import date

    pools = live.Pools(users=["u1"], tags=["t1"], editable=["e1", "e2", "e3"], retirable=[], first_day=date(2020, 1, 10))
    rng = random.Random(2)
    tx = live.build_transaction([("edit", 1)], pools, live.Sampler(rate=1, per_second=100), rng)
    (held,) = tx.tracked
    assert held.id not in pools.editable and len(pools.editable) == 2
    for _ in range(50):  # untracked edits never pick the held entry
        other = live.build_transaction([("edit", 1), ("edit", 1)], pools, None, rng)
        assert held.id not in {e[0] for e in other.edits}
    stores = held.stores()
    held.seen = {stores[0]: 1.0}
    pools.release([held])
    assert held.id not in pools.editable  # one store shows it, the others not yet
    held.seen = {s: 1.0 for s in stores}
    pools.release([held])
    pools.release([held])
    assert pools.editable.count(held.id) == 1


def test_lag_trend_and_the_sustained_decision():
    flat = [{"t": float(t), "lag_seconds": 0.3 + 0.1 * (t % 3), "lag_bytes": 20000 + 5000 * (t % 2)} for t in range(60)]
    rising = [{"t": float(t), "lag_seconds": 0.3 + 0.5 * t, "lag_bytes": 20000 + 400_000 * t} for t in range(60)]
    bytes_only = [{"t": float(t), "lag_seconds": 0.4, "lag_bytes": 20000 + 400_000 * t} for t in range(60)]
    assert live.lag_trend(flat)["grows"] is False
    trend = live.lag_trend(rising)
    assert trend["grows"] is True and trend["lag_seconds"]["slope_per_s"] == pytest.approx(0.5)
    assert trend["lag_seconds"]["last_over_first"] > 5
    assert live.lag_trend(bytes_only)["grows"] is True
    assert live.lag_trend([])["grows"] is None
    assert live.sustained(2000, 1990, live.lag_trend(flat))
    assert not live.sustained(2000, 1500, live.lag_trend(flat))  # the writer did not reach the rate
    assert not live.sustained(2000, 2000, live.lag_trend(rising))
    assert not live.sustained(2000, 2000, live.lag_trend([]))  # nothing to tell by: not claimed
    steps = [{"achieved_changes_per_s": 498.0, "sustained": True}, {"achieved_changes_per_s": 1003.0, "sustained": True},
             {"achieved_changes_per_s": 1700.0, "sustained": False}, {"achieved_changes_per_s": 3990.0, "sustained": True}]
    assert live.highest_sustained(steps) == 1003.0
    assert live.highest_sustained(steps[2:]) is None


def test_batched_checks_are_the_freshness_checks_over_arrays():
    from bench.freshness import SPECIAL_SQL

    for checks in SPECIAL_SQL.values():
        for query in checks.values():
            batched = live.batched_check(query)
            assert "%(" not in batched and batched.count("%s") == 3 and "unnest(" in batched
    edit = live.batched_check(SPECIAL_SQL["edit"]["journals_view"])
    assert edit.endswith("WHERE EXISTS (SELECT 1 FROM marts.journals_view WHERE id = p.id AND strpos(content, p.token) > 0)")
    with pytest.raises(ValueError):
        live.batched_check("UPDATE x SET y = 1")


def test_lanes_idle():
    def lane(pending=(), running=False):
        return {"pending_tables": list(pending), "running": running, "runs": 3, "lag_seconds": 0.0}

    assert live.lanes_idle({"read_views": lane(), "search": lane()})
    assert not live.lanes_idle({"read_views": lane(["mindflow.journal_entries"]), "search": lane()})
    assert not live.lanes_idle({"read_views": lane(), "embeddings": lane(running=True)})
    assert live.lanes_idle({}) and not live.lanes_idle(None)


def test_rate_figures_shape():
    writes = []
    for i in range(9):
        w = Write(f"id{i}", "insert", 100.0 + i, user_id="u", date="2020-01-01")
        w.seen = {store: 100.0 + i + 0.5 + 0.1 * n for n, store in enumerate(STORES)}
        writes.append(w)
    edit = Write("e", "edit", 105.0, token="tok")
    edit.seen = {"raw": 105.2}
    writes.append(edit)
    samples = [{"t": float(t), "lag_seconds": 0.2, "lag_bytes": 1000} for t in range(10)]
    written = {"changes": 1200, "transactions": 100, "seconds": 10.0, "transactions_over_1s_late": 0}
    figures = json.loads(json.dumps(live.rate_figures(100, written, writes, samples)))
    assert figures["achieved_changes_per_s"] == 120.0 and figures["transactions_per_s"] == 10.0
    assert set(figures["latency_s"]) == set(STORES)
    for store, row in figures["latency_s"].items():
        assert {"p50", "p95", "p99", "max", "never_visible", "visible", "lag_growth"} <= set(row)
    assert figures["latency_s"]["raw"]["visible"] == 10 and figures["latency_s"]["raw"]["never_visible"] == 0
    assert figures["latency_s"]["journals_view"]["never_visible"] == 1  # the edit never showed there
    assert figures["latency_s"]["vectors"]["p50"] == 1.0
    assert figures["tracked"] == {"insert": 9, "edit": 1, "soft_delete": 0, "privacy_flip": 0}
    assert figures["latency_by_kind_s"]["insert"]["search"]["p99"] == 0.9
    assert figures["ingest_lag"]["grows"] is False
    assert figures["ingest_lag_series"][0] == [0.0, 1000, 0.2] and len(figures["ingest_lag_series"]) == 10


def test_targets_tell_what_was_met():
    def row(p95, missing=0):
        return {"p95": p95, "never_visible": missing}

    figures = {"rates": [{"target_changes_per_s": 10.0, "latency_s": {}},
                         {"target_changes_per_s": 100.0, "latency_s": {
                             "journals_view": row(1.2), "search": row(6.0), "mood_calendar_cache": row(3.0),
                             "mood_events": row(3.0, missing=1), "vectors": row(None, missing=40)}}],
               "sustain": {"highest_sustained_changes_per_s": 4010.0}, "catch_up": {"ratio_to_full_load": 0.2}}
    verdict = live.targets(figures)
    assert verdict["journals_view_p95_at_100_s"] == {"limit": 5.0, "measured": 1.2, "met": True}
    assert verdict["search_p95_at_100_s"]["met"] is False
    assert verdict["mood_events_p95_at_100_s"]["met"] is False  # a write that never showed fails the store
    assert verdict["vectors_p95_at_100_s"]["met"] is False
    assert verdict["sustained_changes_per_s"]["met"] is True and verdict["catch_up_ratio_to_full_load"]["met"] is False
    unmeasured = live.targets({"rates": [], "sustain": None, "catch_up": None})
    assert all(v["met"] is None for v in unmeasured.values())


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("orchestration.commands.live") is None,
                    reason="orchestration/commands/live.py (tessera live) is not on this branch yet")
def test_the_whole_bench_at_a_tiny_scale(embedded_server, monkeypatch):
    """Two short rates, no sustain, the catch-up on: every store's figures with visible writes, the
    catch-up and the full load timed, and no bench database left behind."""
    monkeypatch.setenv("TESSERA_HOME", str(embedded_server.pgdata.parent))
    for name in ("TESSERA_SOURCE_URL", "TESSERA_WAREHOUSE_URL"):
        monkeypatch.delenv(name, raising=False)
    figures = live.main(["--users", "6", "--days", "10", "--rates", "5,50", "--seconds", "10", "--drain", "60",
                         "--ready-timeout", "300"])
    assert figures["interrupted"] is False and figures["machine"]["cores"] >= 1
    assert figures["targets"]["sustained_changes_per_s"]["met"] is None  # no --sustain
    assert [r["target_changes_per_s"] for r in figures["rates"]] == [5.0, 50.0]
    for rate in figures["rates"]:
        assert rate["written"]["changes"] > 0 and rate["achieved_changes_per_s"] > 0
        assert set(rate["latency_s"]) == set(STORES)
        for store, row in rate["latency_s"].items():
            assert row["visible"] > 0, (store, row)
            assert row["p50"] is not None and row["p99"] is not None and row["max"] >= row["p50"]
        assert rate["ingest_lag"]["samples"] > 0
    catch = figures["catch_up"]
    assert catch["full_load"]["rows"] > 0 and catch["full_load"]["seconds"] > 0
    assert catch["seconds"] > 0 and catch["ratio_to_full_load"] is not None
    assert figures["sustain"] is None and figures["live_exit_code"] is not None
    import psycopg

    with psycopg.connect(embedded_server.url(), autocommit=True) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench_live%%'").fetchall()
    assert left == []
