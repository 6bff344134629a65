"""dbt's partial parsing on the path Dagster runs: each `dbt build` of a run starts from a partial-parse
file written for the run's own warehouse, so it does not parse the whole project again."""

import shutil

import pytest

from assets.dbt.project import PARTIAL_PARSE_FILE, TARGET_DIR, dbt_env, partial_parse_target, profile_stamp, run_dbt

pytestmark = pytest.mark.slow

FULL_PARSE = "Unable to do partial parsing"


def _parse_from(seed_dir, env, tmp_path) -> str:
    """What dagster-dbt does per invocation: copy the seed's partial-parse file into a fresh target
    directory, then run dbt there."""
    target = tmp_path / "invocation"
    target.mkdir()
    shutil.copy(seed_dir / PARTIAL_PARSE_FILE, target / PARTIAL_PARSE_FILE)
    result = run_dbt(["parse", "--target-path", str(target)], env=env)
    assert result.returncode == 0, result.stdout[-2000:]
    return result.stdout


def test_a_run_starts_from_a_partial_parse_file_of_its_own_warehouse(tmp_path):
    env = dbt_env("postgresql://postgres@/warehouse_partial_parse?host=/tmp/tessera-nowhere&port=6543")
    seed = partial_parse_target(env)
    assert seed.parent == TARGET_DIR / "parsed"
    assert partial_parse_target(env) == seed  # parsed once per warehouse
    assert FULL_PARSE not in _parse_from(seed, env, tmp_path)

    # a partial-parse file of another warehouse (what the runs used to start from) makes dbt parse it all
    other = dbt_env("postgresql://postgres@/some_other_warehouse?host=/tmp/tessera-nowhere&port=6543")
    assert profile_stamp(other) != profile_stamp(env)
    other_dir = partial_parse_target(other)
    assert other_dir != seed
    shutil.rmtree(tmp_path / "invocation")
    assert FULL_PARSE in _parse_from(other_dir, env, tmp_path)
