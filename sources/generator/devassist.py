"""AI Development Assistant: developers, their sessions, AI agent sessions under governance.

Agent sessions take every status. A session that is or was running (running, completed, failed, or
cancelled after it started) has an approved pre_agent_spawn or consensus_check event before it
started, as the approval trigger demands; blocked sessions carry a rejected one; pending and
initializing ones none yet. Token cost is the sum of the session's interaction costs. The product's
audit trigger fires on COPY; `normalise_audit_log` then gives those rows ids and times derived from
the audited row, so reruns stay byte-identical.
"""

from __future__ import annotations

import datetime as dt

from sources.generator import text
from sources.generator.core import Scale, Sink, at, dumps, is_planted, later, new_uuid, stream

TABLES = {
    "devassist.users": ("user_id", "email", "username", "full_name", "preferences_json", "auth_provider",
                        "auth_external_id", "created_at", "last_active_at", "is_active", "version"),
    "devassist.personas": ("persona_id", "persona_name", "persona_version", "specialization", "capabilities",
                           "activation_rules", "crisis_scenarios", "behavioral_patterns", "is_active", "is_core",
                           "priority_level", "created_at", "updated_at"),
    "devassist.schema_migrations": ("version", "description", "applied_at", "rollback_sql", "checksum"),
    "devassist.user_sessions": ("session_id", "user_id", "session_type", "session_context", "started_at", "ended_at",
                                "status", "version"),
    "devassist.session_activities": ("activity_id", "session_id", "activity_type", "details", "occurred_at"),
    "devassist.agent_sessions": ("agent_session_id", "user_id", "session_id", "agent_type", "agent_config",
                                 "personas_active", "governance_state", "status", "created_at", "started_at",
                                 "completed_at", "error_details", "token_cost", "estimated_cost", "max_cost_limit",
                                 "version"),
    "devassist.governance_events": ("event_id", "agent_session_id", "event_type", "framework_type", "approved",
                                    "validation_context", "decision_details", "decision_reason",
                                    "fallback_triggered", "created_at", "created_by", "correlation_id"),
    "devassist.validation_results": ("result_id", "event_id", "validator", "passed", "score", "details", "created_at"),
    "devassist.agent_interactions": ("interaction_id", "agent_session_id", "role", "content", "tokens", "cost",
                                     "created_at"),
    "devassist.persona_activations": ("activation_id", "agent_session_id", "persona_id", "activation_trigger",
                                      "activation_context", "activated_at", "deactivated_at", "results"),
}
PERSONAS = (("sarah-chen-architect", "Sarah Chen", "architecture review", True, 9),
            ("alex-ops", "Alex Rivera", "operations and on-call", True, 8),
            ("quinn-security", "Quinn Roberts", "security review", True, 8),
            ("maya-testing", "Maya Patel", "test strategy", False, 6),
            ("leo-frontend", "Leo Martins", "frontend", False, 5),
            ("ines-data", "Ines Costa", "data engineering", False, 6),
            ("omar-docs", "Omar Haddad", "documentation", False, 3),
            ("kim-perf", "Kim Park", "performance", False, 5))
AGENT_TYPES = ("code_review", "refactor", "test_writer", "doc_writer", "bug_triage", "migration_planner")
STATUSES = (("completed", 52), ("failed", 8), ("cancelled", 7), ("running", 6), ("pending_approval", 7),
            ("approved", 5), ("initializing", 5), ("blocked", 10))
WAS_RUNNING = {"running", "completed", "failed"}
AGENT_BREAK_PERIOD = 128  # agent_running_has_approval
MIGRATIONS = ("create users", "create sessions", "agent sessions", "governance events", "personas",
              "validation results", "audit log", "row level security")


def _weighted(rng, pairs):
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def generate(scale: Scale, sink: Sink, progress=None) -> None:
    seed = scale.seed
    end = at(scale.anchor, 86399.999)
    base = at(scale.window_start, 0)
    rng = stream(seed, "devassist", "setup")
    for k, (pid, name, spec, core, priority) in enumerate(PERSONAS):
        created = base - dt.timedelta(days=400 - k)
        sink.add("devassist.personas", (
            pid, name, "1.2", spec, dumps({"skills": [spec]}), dumps({"keywords": spec.split()}),
            dumps({"outage": core}), dumps({"tone": "direct" if core else "friendly"}), True, core, priority,
            created, created))
    for v, desc in enumerate(MIGRATIONS, start=1):
        sink.add("devassist.schema_migrations", (v, desc, base - dt.timedelta(days=500 - 10 * v),
                                                 f"-- rollback {desc}", "%064x" % rng.getrandbits(256)))
    sessions_per_user = max(2, scale.days // 7)
    agent_counter = 0
    for ui in range(scale.developers):
        rng = stream(seed, "devassist", "user", ui)
        uid = new_uuid(rng)
        first, last = rng.choice(text.FIRST_NAMES), rng.choice(text.LAST_NAMES)
        created = later(base, rng, -300 * 86400, 0.3 * scale.days * 86400)
        provider = rng.choice(("local", "github", "google"))
        last_active = created
        for _ in range(rng.randint(max(1, sessions_per_user // 2), sessions_per_user)):
            sid = new_uuid(rng)
            started = later(max(created, base), rng, 0, max(1, (end - max(created, base)).total_seconds() - 7200))
            ended = later(started, rng, 600, 4 * 3600)
            status = "active" if ended > end else rng.choice(("ended", "ended", "expired"))
            ended = None if status == "active" else ended
            sink.add("devassist.user_sessions", (sid, uid, rng.choice(("interactive", "interactive", "batch")),
                                                 dumps({"ide": rng.choice(("vscode", "jetbrains", "cli"))}),
                                                 started, ended, status, 1))
            ts = started
            for _ in range(rng.randint(2, 6)):
                ts = later(ts, rng, 10, 900)
                sink.add("devassist.session_activities", (new_uuid(rng), sid, rng.choice(("open_file", "run_tests", "commit", "ask_agent", "search")),
                                                          dumps({"path": f"src/module_{rng.randint(1, 40)}.py"}), min(ts, end)))
            last_active = max(last_active, min(ts, end))
            for _ in range(rng.choice((0, 1, 1, 2))):
                agent_counter += 1
                _agent_session(rng, sink, uid, sid, started, end, agent_counter)
        sink.add("devassist.users", (uid, f"{first.lower()}.{last.lower()}{ui}@dev.example.com",
                                     f"{first.lower()}{last.lower()}{ui}", f"{first} {last}",
                                     dumps({"theme": rng.choice(("dark", "light")), "notifications": rng.random() < 0.6}),
                                     provider, f"{provider}|{rng.randint(10**6, 10**7)}" if provider != "local" else None,
                                     created, last_active, rng.random() < 0.95, 1))
        sink.maybe_flush()
    if progress:
        progress("devassist", f"{scale.developers} developers, {agent_counter} agent sessions")


def _event(rng, sink, asid, event_type, framework, approved, ts, reason=None):
    eid = new_uuid(rng)
    sink.add("devassist.governance_events", (
        eid, asid, event_type, framework, approved, dumps({"questions": 3 if framework == "sarah_three_questions" else 1}),
        dumps({"risk": rng.choice(("low", "medium", "high"))}), reason, rng.random() < 0.05, ts,
        rng.choice(("governance-bot", "sarah-chen-architect", "alex-ops")), new_uuid(rng)))
    for validator in rng.sample(("cost_guard", "scope_check", "security_scan", "3am_test"), rng.randint(1, 2)):
        passed = approved or rng.random() < 0.3
        sink.add("devassist.validation_results", (new_uuid(rng), eid, validator, passed,
                                                  round(rng.uniform(0.7, 1.0) if passed else rng.uniform(0, 0.6), 4),
                                                  dumps({"checked": validator}), ts))


def _agent_session(rng, sink, uid, sid, session_start, end, counter):
    asid = new_uuid(rng)
    created = min(end, later(session_start, rng, 30, 1800))
    status = _weighted(rng, STATUSES)
    if counter <= len(STATUSES):  # every status even in tiny runs
        status = STATUSES[counter - 1][0]
    planted = is_planted(counter, AGENT_BREAK_PERIOD)
    if planted:
        status = "running"
        sink.add("public.generator_rule_breaks", ("devassist.agent_sessions", asid, "agent_running_has_approval"))
    started_after_cancel = status == "cancelled" and rng.random() < 0.5
    ran = status in WAS_RUNNING or started_after_cancel
    framework = rng.choice(("sarah_three_questions", "alex_3am_test", "consensus"))
    started = completed = None
    estimated = round(rng.uniform(0.05, 4.0), 4)
    if ran:
        started = min(end, later(created, rng, 5, 600))
        if status != "running":
            completed = min(end, later(started, rng, 60, 3 * 3600))
    sink.add("devassist.agent_sessions", None)  # placeholder keeps parent before children in the buffer
    row_index = len(sink.buffers["devassist.agent_sessions"]) - 1
    # governance
    if ran and not planted:
        kind = "consensus_check" if framework == "consensus" else "pre_agent_spawn"
        _event(rng, sink, asid, kind, framework, True, later(created, rng, 1, 4))
        if rng.random() < 0.5:
            _event(rng, sink, asid, "cost_validation", framework, True, later(created, rng, 1, 4))
        _event(rng, sink, asid, "post_agent_spawn", framework, True, started)
    elif status == "approved":
        _event(rng, sink, asid, "pre_agent_spawn", framework, True, later(created, rng, 1, 4))
    elif status == "blocked":
        _event(rng, sink, asid, "pre_agent_spawn", framework, False, later(created, rng, 1, 4),
               rng.choice(("Exceeds cost limit", "Touches production secrets", "Failed 3am test")))
    elif planted and rng.random() < 0.5:
        _event(rng, sink, asid, "pre_agent_spawn", framework, False, later(created, rng, 1, 4), "Awaiting consensus")
    elif status == "cancelled":
        _event(rng, sink, asid, "emergency_stop", "emergency", True, later(created, rng, 1, 60), "Cancelled by user")
    cost = 0.0
    personas = []
    if ran:
        ts = started
        for turn in range(rng.randint(2, 8)):
            ts = min(end, later(ts, rng, 2, 300))
            tokens = rng.randint(50, 4000)
            turn_cost = round(tokens * 0.00002, 4)
            cost += turn_cost
            role = ("user", "agent", "tool", "agent")[turn % 4]
            sink.add("devassist.agent_interactions", (new_uuid(rng), asid, role,
                                                      f"{role} turn {turn + 1}: {rng.choice(('review the diff', 'run the tests', 'summarise failures', 'propose a patch'))}",
                                                      tokens, turn_cost, ts))
        for pid, *_ in rng.sample(PERSONAS, rng.randint(1, 2)):
            personas.append(pid)
            sink.add("devassist.persona_activations", (new_uuid(rng), asid, pid, rng.choice(("keyword", "crisis", "manual")),
                                                       dumps({"agentType": "review"}), started, completed,
                                                       dumps({"suggestions": rng.randint(0, 9)})))
    error = dumps({"code": "E_TIMEOUT", "message": "tool call timed out"}) if status == "failed" else None
    sink.buffers["devassist.agent_sessions"][row_index] = (
        asid, uid, sid, rng.choice(AGENT_TYPES), dumps({"model": rng.choice(("gpt-4o", "claude-sonnet", "local-llama"))}),
        dumps(personas), dumps({"framework": framework, "approved": ran and not planted}), status, created, started,
        completed, error, round(cost, 4), estimated, round(estimated * 3, 4), 1)


def normalise_audit_log(conn, seed: int) -> int:
    """Give trigger-written audit rows ids and times derived from the audited row (reruns match)."""
    cur = conn.execute(
        """UPDATE devassist.audit_log
              SET audit_id = md5(%s || '|' || table_name || '|' || operation || '|' || new_values::text)::uuid,
                  changed_at = coalesce((new_values->>'created_at')::timestamptz, changed_at)""",
        (str(seed),))
    return cur.rowcount
