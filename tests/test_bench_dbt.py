"""`tessera bench dbt`: its figures from dbt's run_results.json (pure), and one run at a tiny scale through
the dbt assets' DbtCliResource on the embedded Postgres, whose refreshed marts equal a full rebuild."""

from __future__ import annotations

import json

import psycopg
import pytest

from bench.dbt import compare_fingerprints, dbt_timings, ratio, startup_share, summarize

NODES = {  # manifest nodes as dbt writes them (only what dbt_timings reads)
    "model.tessera.journals_view": {"name": "journals_view", "config": {"materialized": "incremental"}},
    "model.tessera.story_access": {"name": "story_access", "config": {"materialized": "table"}},
    "model.tessera.stg_mindflow__users": {"name": "stg_mindflow__users", "config": {"materialized": "view"}},
}


def _result(unique_id: str, seconds: float, status: str = "success") -> dict:
    return {"unique_id": unique_id, "status": status, "execution_time": seconds, "timing": [], "message": None}


def _run_results(*results: dict, elapsed: float = 9.5) -> dict:
    return {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"},
            "results": list(results), "elapsed_time": elapsed, "args": {"which": "build"}}


def test_timings_count_the_stored_models_apart_from_views_tests_and_hooks():
    run = _run_results(
        _result("operation.tessera.tessera-on-run-start-0", 0.25),
        _result("model.tessera.stg_mindflow__users", 0.5),
        _result("model.tessera.journals_view", 1.25),
        _result("model.tessera.story_access", 2.0),
        _result("test.tessera.not_null_journals_view_id.abc", 0.75, status="pass"),
        _result("test.tessera.unique_story_access_id.def", 0.5, status="warn"),
        _result("unit_test.tessera.journals_view.streaks", 0.125, status="pass"),
    )
    timings = dbt_timings(run, NODES)
    assert timings["marts_s"] == {"journals_view": 1.25, "story_access": 2.0}
    assert timings["marts_execution_s"] == 3.25
    assert timings["tests_execution_s"] == 1.375 and timings["hooks_execution_s"] == 0.25
    assert timings["dbt_elapsed_s"] == 9.5 and timings["nodes"] == 7
    assert timings["failed"] == []


def test_timings_name_failed_and_skipped_nodes():
    run = _run_results(_result("model.tessera.journals_view", 1.0, status="error"),
                       _result("model.tessera.story_access", 0.0, status="skipped"),
                       _result("test.tessera.not_null_journals_view_id.abc", 0.2, status="fail"))
    assert dbt_timings(run, NODES)["failed"] == ["model.tessera.journals_view", "model.tessera.story_access",
                                                 "test.tessera.not_null_journals_view_id.abc"]


def test_a_model_missing_from_the_manifest_is_not_counted_as_a_mart():
    run = _run_results(_result("model.tessera.brand_new", 4.0), _result("model.tessera.journals_view", 1.0))
    assert dbt_timings(run, NODES)["marts_s"] == {"journals_view": 1.0}


def test_ratios_and_start_up_share():
    assert ratio(1.5, 10.0) == 0.15
    assert ratio(1.0, 3.0) == 0.333
    assert ratio(1.0, 0.0) is None and ratio(None, 2.0) is None and ratio(1.0, None) is None
    assert startup_share(10.0, 6.0) == 0.4
    assert startup_share(0.0, 0.0) is None


def test_summary_takes_medians_and_keeps_every_run():
    def run(wall: float, elapsed: float, marts: float) -> dict:
        return {"wall_s": wall, "dbt_elapsed_s": elapsed, "startup_share": startup_share(wall, elapsed),
                "marts_execution_s": marts, "tests_execution_s": 1.0, "hooks_execution_s": 0.1,
                "marts_s": {"journals_view": marts}}

    summary = summarize([run(10.0, 6.0, 3.0), run(30.0, 20.0, 9.0), run(12.0, 8.0, 4.0)])
    assert (summary["wall_s"], summary["dbt_elapsed_s"], summary["marts_execution_s"]) == (12.0, 8.0, 4.0)
    assert summary["startup_share"] == 0.333  # median of 0.4, 0.333, 0.333
    assert summary["marts_s"] == {"journals_view": 4.0}  # the run nearest the median
    assert [r["wall_s"] for r in summary["runs"]] == [10.0, 30.0, 12.0]


def test_fingerprint_comparison_names_every_difference():
    same = {"journals_view": {"rows": 3, "md5": "a"}, "story_access": {"rows": 1, "md5": "b"}}
    assert compare_fingerprints(same, dict(same)) == {"equal": True, "differs": []}
    changed = {**same, "story_access": {"rows": 1, "md5": "c"}}
    assert compare_fingerprints(same, changed) == {"equal": False, "differs": ["story_access"]}
    assert compare_fingerprints(same, {"journals_view": same["journals_view"]}) == {"equal": False,
                                                                                   "differs": ["story_access"]}
    assert compare_fingerprints({}, same)["differs"] == ["journals_view", "story_access"]


@pytest.mark.slow
def test_bench_runs_dbt_as_dagster_does_and_the_refresh_equals_a_rebuild(embedded_server, monkeypatch):
    """The bench at a tiny scale on the test server: every stored model is built and timed by dbt in the
    full run, the refresh builds what lies downstream of the changed products (the change touches
    MindFlow, the coach and the assistant, not Mosaic), the timings are positive and consistent, the refreshed marts equal a full rebuild, and neither
    the bench databases nor the invocations' target directories are left behind."""
    from assets.dbt.project import MANIFEST, dbt_env, ensure_manifest, partial_parse_target
    from bench import dbt as bench_dbt

    monkeypatch.setenv("TESSERA_HOME", str(embedded_server.pgdata.parent))
    for name in ("TESSERA_SOURCE_URL", "TESSERA_WAREHOUSE_URL"):
        monkeypatch.delenv(name, raising=False)
    parsed = partial_parse_target(dbt_env(embedded_server.url(bench_dbt.WAREHOUSE_DB)))
    entries_before = set(parsed.iterdir())

    figures = bench_dbt.main(["--users", "8", "--days", "20", "--repeat", "1", "--verify"])

    ensure_manifest()
    stored = {node["name"] for node in json.loads(MANIFEST.read_text())["nodes"].values()
              if node["resource_type"] == "model" and node["config"]["materialized"] in ("table", "incremental")}
    assert stored
    assert set(figures["full"]["marts_s"]) == stored  # every stored model ran, no view counted
    assert figures["refresh_products"] == ["coach", "devassist", "mindflow"]
    refreshed = set(figures["refresh"]["marts_s"])
    assert {"journals_view", "coach_daily_progress", "active_agent_sessions"} <= refreshed < stored
    assert not refreshed & {"story_access", "legacy_story_summary", "observation_pipeline_status"}
    for run in ("full", "refresh"):
        part = figures[run]
        assert part["wall_s"] > part["dbt_elapsed_s"] > 0, run
        assert 0 < part["marts_execution_s"] and 0 < part["startup_share"] < 1, run
        assert part["tests_execution_s"] > 0, run  # `dbt build`: the marts' tests ran too
        assert len(part["runs"]) == 1
    assert figures["refresh"]["tick_ingest_s"] > 0
    assert figures["changes"]["entries_soft_deleted"] >= 1
    assert figures["ratio_marts_execution_refresh_to_full"] == ratio(
        figures["refresh"]["marts_execution_s"], figures["full"]["marts_execution_s"])
    assert figures["ratio_wall_refresh_to_full"] > 0
    assert figures["verify"]["equal"] is True and figures["verify"]["differs"] == []
    assert figures["mart_rows"]["journals_view"] > 0
    assert "warm" not in figures and "cold" not in figures

    with psycopg.connect(embedded_server.url(), autocommit=True) as admin:
        left = admin.execute("select count(*) from pg_database where datname in (%s, %s)",
                             (bench_dbt.SOURCE_DB, bench_dbt.WAREHOUSE_DB)).fetchone()[0]
    assert left == 0
    assert set(parsed.iterdir()) == entries_before  # each invocation's target directory removed


def test_a_refresh_builds_what_lies_downstream_of_the_changed_products():
    from bench.dbt import STORED, refresh_selection

    assert refresh_selection(["mindflow", "coach"]) == ["--select", "source:raw_coach+ source:raw_mindflow+", *STORED]
    nothing = refresh_selection([])
    assert nothing[:1] == ["--select"] and not any(a.startswith("source:") for a in nothing)
