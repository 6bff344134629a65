"""The derived marts the seeds describe beyond the read views (MindFlow mood trends, API and service
health; the AI assistant's governance metrics), each compared with an independent pandas computation
from the raw tables on the seeded dataset (quarantine filled: rule-breaking rows count, flagged)."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pytest
import yaml

import test_dbt_reference as ref
from quality.quarantine import refresh_quarantine
from quality.rules import ROW_RULES
from test_dbt import _dbt

NEW_MARTS = ("mood_trends", "api_request_health", "service_log_health", "governance_metrics", "agent_cost_governance")
SPAWN_APPROVALS = {"pre_agent_spawn", "consensus_check"}


def _half_up(x, places: int):
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    q = decimal.Decimal(1).scaleb(-places)
    return float(decimal.Decimal(repr(float(x))).quantize(q, rounding=decimal.ROUND_HALF_UP))


def _frame(conn, query: str, *args) -> pd.DataFrame:
    cur = conn.execute(query, args)
    return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description], dtype=object)


# ---------------------------------------------------------------- independent computations
def mood_trends(raw, today) -> list[dict]:
    from assets.mood.scoring import MOOD_CLASS

    e = ref.live_entries(raw)
    e = e[e["mood"].notna()]
    out = []
    for days in (7, 30, 90):
        start = today - dt.timedelta(days=days - 1)
        w = e[(e["date"] >= start) & (e["date"] <= today)]
        for user_id, g in w.groupby("user_id"):
            classes = g["mood"].map(MOOD_CLASS)
            n = len(g)
            counts = {c: int((classes == c).sum()) for c in ("positive", "neutral", "negative")}
            out.append({
                "user_id": user_id, "days": days, "window_start": start, "window_end": today, "entries": n,
                **{f"{c}_entries": counts[c] for c in counts},
                **{f"{c}_pct": _half_up(100 * counts[c] / n, 2) for c in counts},
                "trend": {c: int(_half_up(100 * counts[c] / n, 0)) for c in counts},
                "flagged_entries": int(sum(1 for i in g["_quality_issues"] if i)),
            })
    return out


def api_request_health(raw) -> list[dict]:
    r = raw["mindflow.api_requests"]
    out = []
    for (method, path), g in r.groupby(["method", "path"]):
        status = g["status_code"].astype(int)
        lat = g["response_time"].dropna().astype(float)
        out.append({
            "method": method, "path": path, "requests": len(g),
            "client_errors": int(((status >= 400) & (status < 500)).sum()), "server_errors": int((status >= 500).sum()),
            "error_rate": _half_up((status >= 400).mean(), 4), "server_error_rate": _half_up((status >= 500).mean(), 4),
            "latency_p50_ms": _half_up(np.percentile(lat, 50), 2) if len(lat) else None,
            "latency_p95_ms": _half_up(np.percentile(lat, 95), 2) if len(lat) else None,
            "latency_max_ms": int(lat.max()) if len(lat) else None,
            "avg_response_bytes": _half_up(g["response_size"].dropna().astype(float).mean(), 2),
            "users": g["user_id"].dropna().nunique(),
            "first_request_at": g["timestamp"].min(), "last_request_at": g["timestamp"].max(),
        })
    return out


def service_log_health(raw) -> list[dict]:
    logs = raw["mindflow.application_logs"]
    out = []
    for service, g in logs.groupby("service"):
        levels = g["level"]
        dur = g["duration"].dropna().astype(float)
        codes = [e.get("code") for e in g["error"] if isinstance(e, dict) and e.get("code") is not None]
        top = sorted(pd.Series(codes).value_counts().items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if codes else None
        errors = g[levels.isin(["ERROR", "FATAL"])]
        out.append({
            "service": service, "log_lines": len(g),
            **{f"{lv.lower()}_lines": int((levels == lv).sum()) for lv in ("DEBUG", "INFO", "WARN", "ERROR", "FATAL")},
            "error_rate": _half_up(levels.isin(["ERROR", "FATAL"]).mean(), 4),
            "duration_p50_ms": _half_up(np.percentile(dur, 50), 2) if len(dur) else None,
            "duration_p95_ms": _half_up(np.percentile(dur, 95), 2) if len(dur) else None,
            "top_error_code": top,
            "last_error_at": errors["timestamp"].max() if len(errors) else None,
            "first_line_at": g["timestamp"].min(), "last_line_at": g["timestamp"].max(),
        })
    return out


def governance_metrics(raw) -> list[dict]:
    ev = raw["devassist.governance_events"]
    out = []
    for (framework, event_type), g in ev.groupby(["framework_type", "event_type"]):
        approved = g["approved"] == True  # noqa: E712
        fallback = g["fallback_triggered"] == True  # noqa: E712
        out.append({
            "framework_type": framework, "event_type": event_type, "events": len(g),
            "sessions": g["agent_session_id"].nunique(), "approvals": int(approved.sum()),
            "rejections": int((g["approved"] == False).sum()),  # noqa: E712
            "approval_rate": _half_up(approved.mean(), 4), "fallbacks": int(fallback.sum()),
            "fallback_rate": _half_up(fallback.mean(), 4),
            "first_event_at": g["created_at"].min(), "last_event_at": g["created_at"].max(),
        })
    return out


def agent_cost_governance(raw) -> list[dict]:
    s = raw["devassist.agent_sessions"]
    ev = raw["devassist.governance_events"]
    rejected = set(ev[ev["approved"] == False]["agent_session_id"])  # noqa: E712
    spawned = set(ev[(ev["approved"] == True) & ev["event_type"].isin(SPAWN_APPROVALS)]["agent_session_id"])  # noqa: E712
    out = []

    def f(v):
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)

    for agent_type, g in s.groupby("agent_type"):
        rows = g.to_dict("records")
        cost = [f(r["token_cost"]) for r in rows]
        est = [f(r["estimated_cost"]) for r in rows]
        lim = [f(r["max_cost_limit"]) for r in rows]
        with_est = [(c, e) for c, e in zip(cost, est) if e is not None and e > 0 and c is not None]
        with_lim = [c / m for c, m in zip(cost, lim) if m is not None and m > 0 and c is not None]
        out.append({
            "agent_type": agent_type, "sessions": len(rows),
            "blocked_sessions": sum(r["status"] == "blocked" for r in rows),
            "failed_sessions": sum(r["status"] == "failed" for r in rows),
            "completed_sessions": sum(r["status"] == "completed" for r in rows),
            "sessions_with_rejections": sum(r["agent_session_id"] in rejected for r in rows),
            "running_without_approval": sum(r["status"] == "running" and r["agent_session_id"] not in spawned for r in rows),
            "total_token_cost": sum(c for c in cost if c is not None),
            "total_estimated_cost": sum(e for e in est if e is not None),
            "cost_to_estimate_ratio": _half_up(sum(c for c, _ in with_est) / sum(e for _, e in with_est), 4)
            if with_est else None,
            "over_estimate_sessions": sum(c is not None and e is not None and c > e for c, e in zip(cost, est)),
            "over_limit_sessions": sum(c is not None and m is not None and c > m for c, m in zip(cost, lim)),
            "avg_limit_used_pct": _half_up(100 * sum(with_lim) / len(with_lim), 2) if with_lim else None,
            "flagged_sessions": int(sum(1 for r in rows if r["_quality_issues"])),
        })
    return out


# ---------------------------------------------------------------- tests
@pytest.fixture
def built(ingested):
    with psycopg.connect(ingested.warehouse_url) as conn:
        refresh_quarantine(conn, ROW_RULES, "run-1")
    _dbt(["build", "--indirect-selection", "cautious", "--select", *(f"+{m}" for m in NEW_MARTS), "active_agent_sessions"],
         ingested.warehouse_url)
    return ingested


def _compare(conn, mart: str, expected: list[dict]) -> int:
    cur = conn.execute(f"select * from marts.{mart}")
    names = [d.name for d in cur.description]
    got = [dict(zip(names, r)) for r in cur.fetchall()]
    columns = [c for c in names if c != "computed_at"]
    g, w = ref.normalize(got, columns), ref.normalize(expected, columns)
    assert len(g) == len(w), f"{mart}: {len(g)} rows, expected {len(w)}"
    for a, b in zip(g, w):
        assert a == b, f"{mart} differs:\n got  {dict(zip(columns, a))}\n want {dict(zip(columns, b))}"
    return len(g)


@pytest.mark.slow
def test_derived_marts_equal_independent_pandas(built):
    tables = ["mindflow.users", "mindflow.journal_entries", "mindflow.api_requests", "mindflow.application_logs",
              "devassist.agent_sessions", "devassist.governance_events"]
    with psycopg.connect(built.warehouse_url) as conn:
        today = conn.execute("select current_date").fetchone()[0]
        raw = ref.load_raw(conn, tables)
        sizes = {
            "mood_trends": _compare(conn, "mood_trends", mood_trends(raw, today)),
            "api_request_health": _compare(conn, "api_request_health", api_request_health(raw)),
            "service_log_health": _compare(conn, "service_log_health", service_log_health(raw)),
            "governance_metrics": _compare(conn, "governance_metrics", governance_metrics(raw)),
            "agent_cost_governance": _compare(conn, "agent_cost_governance", agent_cost_governance(raw)),
        }
        # the seed's cached shape: {"positive": p, "neutral": n, "negative": m} for 7, 30 and 90 days
        windows = {r[0] for r in conn.execute("select distinct days from marts.mood_trends")}
        trend = conn.execute("select trend from marts.mood_trends where days = 30 limit 1").fetchone()[0]
    assert all(v > 0 for v in sizes.values()), sizes
    assert windows == {7, 30, 90}
    assert set(trend) == {"positive", "neutral", "negative"} and 99 <= sum(trend.values()) <= 101


@pytest.mark.slow
def test_governance_metrics_count_the_ungoverned_running_session(built):
    """A session running without approval (planted by the generator) is counted by agent_cost_governance,
    with its cost, as active_agent_sessions flags it."""
    with psycopg.connect(built.source_url) as src:
        planted = [r[0] for r in src.execute(
            "select record_key from public.generator_rule_breaks where rule = 'agent_running_has_approval'")]
    assert planted
    with psycopg.connect(built.warehouse_url) as wh:
        per_type = dict(wh.execute(
            """select a.agent_type, count(*) from raw_devassist.agent_sessions a
               where a.agent_session_id = any(%s::uuid[]) group by 1""", (planted,)).fetchall())
        flagged = dict(wh.execute(
            "select agent_type, count(*) from marts.active_agent_sessions where running_without_approval group by 1").fetchall())
        metrics = dict(wh.execute(
            "select agent_type, running_without_approval from marts.agent_cost_governance").fetchall())
        costs = dict(wh.execute(
            "select agent_type, total_token_cost from marts.agent_cost_governance").fetchall())
        raw_costs = dict(wh.execute(
            "select agent_type, coalesce(sum(token_cost), 0) from raw_devassist.agent_sessions group by 1").fetchall())
    assert flagged == per_type
    assert {t: n for t, n in metrics.items() if n} == per_type
    assert costs == raw_costs  # every session's cost, the ungoverned ones too


def test_mood_class_var_is_the_insights_mood_class():
    from assets.mood.scoring import MOOD_CLASS, MOODS

    project = yaml.safe_load((Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml").read_text())
    assert project["vars"]["mood_class"] == MOOD_CLASS
    assert set(MOOD_CLASS) == set(MOODS)
