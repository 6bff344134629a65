"""The freshness bench's figures (pure: no daemon, no server)."""

from bench.freshness import lag_growth, latency_summary, percentile, process_figures, run_kind


def test_percentiles_and_summary():
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert percentile(values, 0.5) == 10 and percentile(values, 0.95) == 19 and percentile(values, 1.0) == 20
    assert percentile([], 0.5) is None
    summary = latency_summary([3.0, 1.0, 2.0], missing=2)
    assert summary == {"writes": 5, "visible": 3, "never_visible": 2, "p50": 2.0, "p95": 3.0, "p99": 3.0, "max": 3.0}
    assert latency_summary([], missing=4)["p95"] is None


def test_lag_growth_tells_a_store_falling_behind():
    steady = [5.0, 6.0, 5.0, 6.0, 5.0, 6.0, 5.0, 6.0, 5.0]
    behind = [5.0, 6.0, 7.0, 20.0, 30.0, 40.0, 60.0, 70.0, 80.0]
    assert lag_growth(steady) == 1.0
    assert lag_growth(behind) > 5
    assert lag_growth([1.0, 2.0]) is None


def test_processes_per_run_by_kind():
    runs = [
        {"kind": "source_changes_sensor", "step_workers": 0, "created": 0.0, "started": 2.0, "ended": 10.0},
        {"kind": "source_changes_sensor", "step_workers": 0, "created": 20.0, "started": 21.0, "ended": 30.0},
        {"kind": "tessera_embeddings_automation", "step_workers": 3, "created": 0.0, "started": 5.0, "ended": None},
    ]
    figures = process_figures(runs, seconds=120)
    assert figures["source_changes_sensor"]["processes_per_run"] == 1.0
    assert figures["source_changes_sensor"]["queue_wait_p50_s"] == 1.0
    assert figures["tessera_embeddings_automation"]["processes_per_run"] == 4.0
    assert figures["all"] == {"runs": 3, "processes": 6, "processes_per_minute": 3.0}
    assert run_kind("__ASSET_JOB", {"dagster/sensor_name": "tessera_automation"}) == "tessera_automation"
    assert run_kind("ingest_job", {}) == "ingest_job"
