"""How stale each source copy and derived table may get, as data, and the Dagster side of it.

Two ways to the same windows:
- `freshness_checks()`: last-update freshness checks on every raw, mart, analytics and vector key (they
  work on assets defined by other areas, so staleness shows in the UI today), plus a sensor that
  evaluates them.
- `freshness_policy_for(key)` / `attach_freshness_policies(defs)`: Dagster 1.13's
  `FreshnessPolicy.time_window` for the owners of the asset specs to attach (the asset page then shows
  its freshness state).
dbt source freshness is declared in dbt_project by the dbt area.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import dagster as dg

from quality.suites import ALL_SUITES


@dataclass(frozen=True)
class Staleness:
    warn: timedelta
    fail: timedelta


# By schema: raw copies follow the sources within the ingest cadence; read views and analytics are
# refreshed from them; vectors lag the text they embed.
STALENESS: dict[str, Staleness] = {
    "raw": Staleness(warn=timedelta(hours=1), fail=timedelta(hours=6)),
    "marts": Staleness(warn=timedelta(hours=2), fail=timedelta(hours=12)),
    "analytics": Staleness(warn=timedelta(hours=6), fail=timedelta(hours=26)),
    "vectors": Staleness(warn=timedelta(hours=12), fail=timedelta(hours=48)),
}


def keys_by_area() -> dict[str, list[dg.AssetKey]]:
    out: dict[str, list[dg.AssetKey]] = {}
    for suite in ALL_SUITES:
        out.setdefault(suite.area, []).append(dg.AssetKey(suite.asset_key))
    return out


def _area_of(key: dg.AssetKey) -> str | None:
    schema = key.path[0]
    return "raw" if schema.startswith("raw_") else schema if schema in STALENESS else None


def freshness_policy_for(key: dg.AssetKey) -> dg.FreshnessPolicy | None:
    area = _area_of(key)
    if area is None:
        return None
    window = STALENESS[area]
    return dg.FreshnessPolicy.time_window(fail_window=window.fail, warn_window=window.warn)


def attach_freshness_policies(defs: dg.Definitions) -> dg.Definitions:
    """Give every raw/mart/analytics/vector asset spec in `defs` its time-window freshness policy
    (keeps a policy an area set itself). For the code location that owns the specs."""

    def attach(spec: dg.AssetSpec) -> dg.AssetSpec:
        policy = freshness_policy_for(spec.key)
        return dg.apply_freshness_policy(spec, policy, overwrite_existing=False) if policy else spec

    return defs.map_asset_specs(func=attach)


def freshness_checks() -> list:
    import warnings

    checks = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "superseded by FreshnessPolicy": the specs are not ours to change
        for area, keys in keys_by_area().items():
            window = STALENESS[area]
            checks += dg.build_last_update_freshness_checks(
                assets=keys, lower_bound_delta=window.fail, severity=dg.AssetCheckSeverity.ERROR
            )
    return checks


def freshness_sensor(checks: list) -> dg.SensorDefinition:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dg.build_sensor_for_freshness_checks(
            freshness_checks=checks, name="quality_freshness_sensor", minimum_interval_seconds=300,
            default_status=dg.DefaultSensorStatus.RUNNING,
        )
