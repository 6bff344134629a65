"""PersonaKit: persons with latent Big Five traits, observations of them, mindscapes and personas.

Every person has traits in [0, 1]; assessments report MBTI, DISC or Enneagram results derived from
them, and chat logs, documents, interviews and imports are worded from them (text.observation_text),
with entities and relations for graph analysis in content_structured. Review states follow the
workflow: pending, approved, processed (approved then folded into the mindscape) or rejected.
"""

from __future__ import annotations

import datetime as dt

from sources.generator import text
from sources.generator.core import Scale, Sink, at, clamp, dumps, is_planted, iso, later, new_uuid, stream

TABLES = {
    "personakit.persons": ("person_id", "display_name", "email", "created_at", "updated_at", "deleted_at"),
    "personakit.persona_mappers": ("mapper_id", "name", "purpose", "version", "parent_version", "configuration",
                                   "training_metadata", "status", "created_at", "created_by", "updated_at",
                                   "updated_by"),
    "personakit.actors": ("actor_id", "actor_type", "name", "description", "capabilities", "usage_metadata",
                          "authentication_method", "created_at", "updated_at", "status"),
    "personakit.actor_api_keys": ("key_id", "actor_id", "key_hash", "name", "created_at", "last_used_at",
                                  "expires_at", "status"),
    "personakit.observations": ("observation_id", "person_id", "source_type", "source_metadata", "content_raw",
                                "content_structured", "media_attachments", "processing_status", "approved_by",
                                "approved_at", "rejection_reason", "created_at", "updated_at", "version"),
    "personakit.mindscapes": ("mindscape_id", "person_id", "version", "narrative", "created_at", "updated_at",
                              "last_processed_observation_id", "processing_metadata"),
    "personakit.goals": ("goal_id", "mindscape_id", "description", "timeframe", "priority", "volatility",
                         "derived_from", "confidence", "created_at", "updated_at"),
    "personakit.beliefs": ("belief_id", "mindscape_id", "statement", "category", "strength", "volatility",
                           "derived_from", "confidence", "created_at", "updated_at"),
    "personakit.personas": ("persona_instance_id", "source_mapper_id", "source_mindscape_id", "person_id",
                            "composite_key", "persona_core", "contextual_overlay", "generation_metadata",
                            "usage_metadata", "created_at", "expires_at", "ttl_hours"),
    "personakit.feedback": ("feedback_id", "persona_instance_id", "actor_id", "task_context", "ratings",
                            "specific_feedback", "impact", "submitted_at", "submitted_by", "processing_status",
                            "processed_at"),
    "personakit.outbox_tasks": ("task_id", "task_type", "payload", "status", "attempts", "last_error", "run_after",
                                "completed_at", "created_at", "updated_at"),
    "personakit.sync_queue": ("queue_id", "device_id", "operation_type", "payload", "sync_metadata", "status"),
    "personakit.sync_state": ("device_id", "person_id", "last_sync", "pending_items", "cached_data",
                              "configuration", "updated_at"),
    "personakit.system_events": ("event_id", "event_type", "timestamp", "payload", "source"),
}

SOURCE_TYPES = (("chat_log", 30), ("document", 20), ("interview", 15), ("assessment", 15), ("api_import", 20))
STATUSES = (("processed", 50), ("approved", 25), ("pending", 15), ("rejected", 10))
SOURCES = {"chat_log": ("slack", "teams", "whatsapp"), "document": ("email", "google_docs", "notion"),
           "interview": ("zoom", "in_person"), "api_import": ("hris", "crm", "linkedin")}
REJECTIONS = ("Consent not given for this source", "Content is about another person", "Duplicate observation",
              "Low quality transcript")
REVIEWERS = ("reviewer.ana@personakit.io", "reviewer.tom@personakit.io", "ops@personakit.io")
GOALS = ("Lead a team within two years", "Finish the certification", "Spend more time with family",
         "Ship the side project", "Run a half marathon", "Learn to speak Spanish", "Write a book",
         "Move to a bigger city", "Save for a house", "Mentor junior colleagues")
BELIEFS = (("worldview", "People are mostly good"), ("values", "Honesty matters more than comfort"),
           ("principles", "Plans should be written down"), ("values", "Family comes first"),
           ("worldview", "Hard work pays off"), ("principles", "Decisions need data"),
           ("worldview", "Change is an opportunity"), ("values", "Freedom over security"))
MAPPERS = (("Technical Review Mapper", "Code and design review persona", "active"),
           ("Customer Support Mapper", "Support conversations in the person's voice", "active"),
           ("Mentor Mapper", "Career mentoring persona", "active"),
           ("Executive Summary Mapper", "Short briefings for leadership", "draft"),
           ("Legacy Chat Mapper", "First chat persona, replaced by Mentor", "deprecated"),
           ("Sales Coach Mapper", "Sales call preparation", "active"))
ACTORS = (("ai_agent", "review-bot", "api_key"), ("ai_agent", "support-assistant", "api_key"),
          ("ai_agent", "mentor-gpt", "oauth"), ("human", "Dana Ops", "oauth"), ("human", "Lee Analyst", "oauth"),
          ("system", "nightly-batch", "service_account"), ("system", "sync-service", "service_account"),
          ("ai_agent", "summary-agent", "api_key"))
MBTI_AXES = (("E", "I", "extraversion"), ("N", "S", "openness"), ("F", "T", "agreeableness"), ("J", "P", "conscientiousness"))
OBSERVATION_BREAK_PERIOD = 150   # observation_confidence_in_range (offset 5), jsonb_timestamp_iso_utc (offset 11)
MINDSCAPE_BREAK_PERIOD = 128     # goal_confidence_in_range, belief_confidence_in_range


def _weighted(rng, pairs):
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def assessment_result(rng, kind: str, traits: dict[str, float]) -> dict:
    """MBTI, DISC or Enneagram result derived from latent traits, with a confidence in [0.6, 0.98]."""
    noisy = {t: clamp(v + rng.gauss(0, 0.08), 0, 1) for t, v in traits.items()}
    if kind == "mbti":
        scores = {a: round(noisy[t], 2) for a, _, t in MBTI_AXES}
        letters = "".join(a if noisy[t] >= 0.5 else b for a, b, t in MBTI_AXES)
        result = {"type": letters, "scores": scores}
    elif kind == "disc":
        scores = {"D": round(clamp(1 - noisy["agreeableness"] * 0.6 + noisy["extraversion"] * 0.3, 0, 1), 2),
                  "I": round(noisy["extraversion"], 2), "S": round(1 - noisy["neuroticism"], 2),
                  "C": round(noisy["conscientiousness"], 2)}
        result = {"primary": max(scores, key=scores.get), "scores": scores}
    else:
        order = sorted(range(1, 10), key=lambda k: -((k * 37 + int(noisy["openness"] * 90)) % 97))
        result = {"type": order[0], "wing": f"{order[0]}w{order[0] % 9 + 1}",
                  "scores": {str(k): round(rng.uniform(0.1, 0.95), 2) for k in range(1, 10)}}
    return {"assessmentType": kind, "result": result, "confidence": round(rng.uniform(0.6, 0.98), 2)}


def graph_structure(rng, name: str, content: str) -> dict:
    people = sorted({w.rstrip(":,.") for w in content.split() if w.rstrip(":,.") in text.FIRST_NAMES})
    topics = rng.sample(("planning", "deadlines", "team events", "family", "learning", "customers"), 2)
    entities = [{"name": name, "type": "person"}] + [{"name": p, "type": "person"} for p in people if p != name]
    entities += [{"name": t, "type": "topic"} for t in topics]
    relations = [{"source": name, "target": e["name"], "type": "TALKED_WITH" if e["type"] == "person" else "INTERESTED_IN"}
                 for e in entities[1:]]
    return {"entities": entities, "relations": relations, "confidence": round(rng.uniform(0.5, 0.95), 2)}


def generate(scale: Scale, sink: Sink, progress=None) -> None:
    seed = scale.seed
    end = at(scale.anchor, 86399.999)
    base = at(scale.window_start, 0)
    rng = stream(seed, "personakit", "setup")
    mapper_ids = []
    for k, (name, purpose, status) in enumerate(MAPPERS):
        mid = new_uuid(rng)
        mapper_ids.append((mid, status))
        created = base - dt.timedelta(days=300 - 20 * k)
        sink.add("personakit.persona_mappers", (
            mid, name, purpose, f"1.{k}.0", f"1.{k - 1}.0" if k else None,
            dumps({"requiredTraits": ["communication_style", "risk_aversion"], "optionalTraits": ["humour"],
                   "knowledgeDomains": ["engineering" if k % 2 == 0 else "customer_support"], "contextWindow": 30,
                   "retrievalPipeline": {"hotLayerQueries": [], "warmLayerQueries": [{"queryId": "q1", "embeddingStrategy": "hybrid", "topK": 8, "minSimilarity": 0.6}]},
                   "outputTemplate": {"sections": [{"sectionName": "summary", "maxTokens": 300, "required": True}]}}),
            dumps({"totalFeedbackCount": rng.randint(0, 200)}), status, created, "admin@personakit.io",
            created, "admin@personakit.io"))
    actor_ids = []
    for atype, name, auth in ACTORS:
        aid = new_uuid(rng)
        actor_ids.append(aid)
        created = base - dt.timedelta(days=rng.randint(30, 300))
        sink.add("personakit.actors", (aid, atype, name, f"{name} ({atype})", dumps({"scopes": ["persona:read"]}),
                                       dumps({"requests30d": rng.randint(0, 5000)}), auth, created, created,
                                       rng.choice(("active", "active", "active", "suspended"))))
        for kn in range(rng.randint(1, 2)):
            sink.add("personakit.actor_api_keys", (
                new_uuid(rng), aid, "%064x" % rng.getrandbits(256), f"{name}-key-{kn + 1}", created,
                min(end, later(base, rng, 0, scale.days * 86400)), created + dt.timedelta(days=365),
                "revoked" if kn else "active"))

    observation_counter = mindscape_counter = goal_counter = belief_counter = 0
    for pi in range(scale.personakit_persons):
        rng = stream(seed, "personakit", "person", pi)
        pid = new_uuid(rng)
        name = text.person_name(rng)
        first = name.split()[0]
        created = later(base, rng, -120 * 86400, 0.4 * scale.days * 86400)
        deleted_at = min(end, later(created, rng, 86400, scale.days * 86400)) if is_planted(pi, 50, 2) else None
        sink.add("personakit.persons", (pid, name, f"{first.lower()}.{pi}@people.example.com" if rng.random() < 0.9 else None,
                                        created, deleted_at or created, deleted_at))
        traits = {t: round(rng.uniform(0.05, 0.95), 3) for t in text.TRAITS}
        usable, obs_times = [], []
        for _ in range(rng.randint(6, 18)):
            oid = new_uuid(rng)
            stype = _weighted(rng, SOURCE_TYPES)
            if observation_counter < len(SOURCE_TYPES):  # every source type even in tiny runs
                stype = SOURCE_TYPES[observation_counter][0]
            ocreated = min(end, later(created, rng, 600, max(601, (end - created).total_seconds())))
            happened = later(ocreated, rng, -14 * 86400, -60)
            meta = {"source": "", "timestamp": iso(happened)}
            if stype == "assessment":
                kind = rng.choice(("mbti", "disc", "enneagram"))
                meta["source"] = f"{kind}_assessment"
                meta["assessmentType"] = kind
                structured = assessment_result(rng, kind, traits)
            else:
                meta["source"] = rng.choice(SOURCES[stype])
                if stype == "chat_log":
                    meta["participants"] = [first, rng.choice(text.FIRST_NAMES)]
                if stype == "document":
                    meta["documentType"] = rng.choice(("email", "report", "memo"))
                if stype == "interview":
                    meta["location"] = rng.choice(("Lisbon", "Remote", "London"))
            content = text.observation_text(rng, stype, traits, first)
            if stype != "assessment":
                structured = graph_structure(rng, first, content) if rng.random() < 0.85 else None
            observation_counter += 1
            if structured is not None and is_planted(observation_counter, OBSERVATION_BREAK_PERIOD, 5):
                structured["confidence"] = rng.choice((1.3, 1.75, -0.2, 12.0))
                sink.add("public.generator_rule_breaks", ("personakit.observations", oid, "observation_confidence_in_range"))
            if is_planted(observation_counter, OBSERVATION_BREAK_PERIOD, 11):
                meta["timestamp"] = rng.choice((happened.strftime("%m/%d/%Y %H:%M"),
                                                happened.strftime("%Y-%m-%dT%H:%M:%S-05:00"),
                                                happened.strftime("%d.%m.%Y")))
                sink.add("public.generator_rule_breaks", ("personakit.observations", oid, "jsonb_timestamp_iso_utc"))
            status = _weighted(rng, STATUSES)
            if observation_counter <= len(STATUSES):  # every review state even in tiny runs
                status = STATUSES[observation_counter - 1][0]
            approved_by = approved_at = reason = None
            updated, version = ocreated, 1
            if status in ("approved", "processed"):
                approved_by, approved_at = rng.choice(REVIEWERS), min(end, later(ocreated, rng, 300, 3 * 86400))
                updated, version = approved_at, 2 if status == "approved" else 3
                usable.append(oid)
                obs_times.append((approved_at, oid))
            elif status == "rejected":
                reason = rng.choice(REJECTIONS)
                updated, version = min(end, later(ocreated, rng, 300, 3 * 86400)), 2
            attachments = [{"attachmentId": new_uuid(rng), "type": "document", "url": f"https://files.personakit.io/{oid}.pdf",
                            "mimeType": "application/pdf", "size": rng.randint(10_000, 900_000)}] if rng.random() < 0.1 else []
            sink.add("personakit.observations", (
                oid, pid, stype, dumps(meta), content, dumps(structured) if structured is not None else None,
                dumps(attachments), status, approved_by, approved_at, reason, ocreated, updated, version))
            sink.add("personakit.outbox_tasks", _outbox(rng, oid, pid, status, ocreated, end))

        mid = new_uuid(rng)
        last = max(obs_times)[1] if obs_times else None
        mcreated = later(created, rng, 60, 3600)
        mupdated = max([mcreated] + [t for t, _ in obs_times])
        themes = sorted(rng.sample(("growth", "family", "career", "health", "learning", "community"), 3))
        sink.add("personakit.mindscapes", (
            mid, pid, 1 + len(obs_times),
            dumps({"summary": f"{first} is {'outgoing' if traits['extraversion'] > 0.5 else 'reserved'} and "
                              f"{'organised' if traits['conscientiousness'] > 0.5 else 'spontaneous'}.",
                   "keyThemes": themes, "lastUpdated": iso(mupdated)}),
            mcreated, mupdated, last,
            dumps({"totalObservationsProcessed": len(obs_times), "lastProcessingDuration": rng.randint(200, 9000)})))
        sink.add("personakit.system_events", (new_uuid(rng), "mindscape.processing.completed", mupdated,
                                              dumps({"mindscapeId": mid, "personId": pid}), dumps({"service": "processor"})))
        mindscape_counter += 1
        for _ in range(rng.randint(1, 4)):
            goal_counter += 1
            gid = new_uuid(rng)
            confidence = round(rng.uniform(0.3, 0.98), 3)
            if is_planted(goal_counter, MINDSCAPE_BREAK_PERIOD):
                confidence = round(rng.uniform(1.05, 2.5), 3)
                sink.add("public.generator_rule_breaks", ("personakit.goals", gid, "goal_confidence_in_range"))
            sink.add("personakit.goals", (gid, mid, rng.choice(GOALS), rng.choice(("short_term", "medium_term", "long_term")),
                                          rng.choice(("low", "medium", "high")), rng.choice(("low", "high")),
                                          rng.sample(usable, min(len(usable), 2)), confidence, mupdated, mupdated))
        for _ in range(rng.randint(1, 4)):
            belief_counter += 1
            bid = new_uuid(rng)
            category, statement = rng.choice(BELIEFS)
            confidence = round(rng.uniform(0.3, 0.98), 3)
            if is_planted(belief_counter, MINDSCAPE_BREAK_PERIOD):
                confidence = round(rng.uniform(1.05, 2.5), 3)
                sink.add("public.generator_rule_breaks", ("personakit.beliefs", bid, "belief_confidence_in_range"))
            sink.add("personakit.beliefs", (bid, mid, statement, category, round(rng.uniform(0.2, 1.0), 3),
                                            rng.choice(("low", "high")), rng.sample(usable, min(len(usable), 2)),
                                            confidence, mupdated, mupdated))
        # the seed's generation, cache, rating and sync-cache fields (1.4, 1.6, 3.2) from a stream of their own
        xr = stream(seed, "personakit", "persona-detail", pi)
        generated = _personas(rng, sink, pid, mid, traits, mapper_ids, actor_ids, mupdated, end,
                              xr=xr, mindscape_version=1 + len(obs_times))
        for dk in range(rng.randint(1, 2)):
            device = f"device-{pid[:8]}-{dk}"
            last_sync = {"observations": iso(mupdated), "timestamp": iso(mupdated),
                         "direction": xr.choice(("upstream", "downstream", "both")),
                         "itemsSynced": xr.randint(0, 40), "errors": xr.choice((0, 0, 0, 1, 2))}
            pending = {"observations": rng.randint(0, 3), "upstream": xr.randint(0, 5), "downstream": xr.randint(0, 5)}
            sink.add("personakit.sync_state", (
                device, pid, dumps(last_sync), dumps(pending),
                dumps(_cached_data(xr, generated, mapper_ids, 1 + len(obs_times), end)),
                dumps({"wifiOnly": rng.random() < 0.5, "syncInterval": xr.choice((15, 30, 60)),
                       "maxRetries": 5, "offlineMode": xr.random() < 0.1}), mupdated))
            sink.add("personakit.sync_queue", (
                new_uuid(rng), device, rng.choice(("observation", "feedback")), dumps({"personId": pid}),
                dumps({"createdAt": iso(mupdated), "attemptCount": rng.randint(0, 3), "priority": rng.choice(("high", "normal"))}),
                rng.choice(("pending", "in_progress", "completed", "completed", "failed"))))
        sink.maybe_flush()
    if progress:
        progress("personakit", f"{scale.personakit_persons} persons, {observation_counter} observations")


def _outbox(rng, oid, pid, status, created, end):
    state = {"pending": "pending", "rejected": "done"}.get(status, rng.choice(("done", "done", "done", "failed", "in_progress")))
    done_at = min(end, later(created, rng, 5, 3600)) if state == "done" else None
    return (new_uuid(rng), "observation.process", dumps({"observationId": oid, "personId": pid}), state,
            1 if state != "failed" else rng.randint(2, 5), "timeout calling embedding service" if state == "failed" else None,
            created, done_at, created, done_at or created)


def _cached_data(xr, generated, mapper_ids, mindscape_version, end) -> dict:
    """SyncState.cachedData (seed 3.2): the mappers and persona cores a device holds. A core cached at
    an older mindscape version is marked stale, as the sync service marks it."""
    cores = []
    for iid, created in generated:
        if xr.random() < 0.6:
            version = mindscape_version if xr.random() < 0.7 else max(1, mindscape_version - xr.randint(1, 3))
            cores.append({"personaInstanceId": iid, "mindscapeVersion": version,
                          "cachedAt": iso(min(end, later(created, xr, 5, 3600))),
                          "isStale": version < mindscape_version, "size": xr.randint(2_000, 40_000)})
    mappers = [{"mapperId": m, "version": f"1.{k}.0", "cachedAt": iso(end - dt.timedelta(days=xr.randint(0, 20))),
                "size": xr.randint(1_000, 9_000)}
               for k, (m, status) in enumerate(mapper_ids) if status == "active" and xr.random() < 0.5]
    return {"mindscapeVersion": mindscape_version, "mappers": mappers, "personaCores": cores}


def _personas(rng, sink, pid, mid, traits, mapper_ids, actor_ids, after, end, *, xr, mindscape_version):
    """Personas of one person with their feedback; returns [(persona_instance_id, created_at)]."""
    active = [m for m, status in mapper_ids if status == "active"]
    generated = []
    for _ in range(rng.randint(0, 3)):
        iid = new_uuid(rng)
        mapper = rng.choice(active)
        created = min(end, later(after, rng, 60, 20 * 86400))
        ttl = rng.choice((24, 24, 48, 72))
        generated.append((iid, created))
        duration = rng.randint(300, 4000)
        was_cached = xr.random() < 0.5
        core_age = xr.randint(60_000, 30 * 3_600_000) if was_cached else 0
        generation = {"model": "persona-gen-1", "durationMs": duration,
                      "detailLevel": xr.choice(("instant", "balanced", "balanced", "deep_dive")),
                      "generatedAt": iso(created), "generationDurationMs": duration,
                      "totalTokensUsed": xr.randint(400, 6000), "totalCost": round(xr.uniform(0.001, 0.09), 4),
                      "cacheStatus": {"coreWasCached": was_cached,
                                      "coreIsStale": was_cached and core_age > 24 * 3_600_000,
                                      "coreCacheAge": core_age}}
        core = {"traits": {t: round(v, 2) for t, v in traits.items()},
                "coreVersion": str(mindscape_version if xr.random() < 0.8 else max(1, mindscape_version - 1)),
                "generatedAt": iso(created - dt.timedelta(milliseconds=core_age))}
        access_count = rng.randint(0, 40)
        last_access = iso(min(end, later(created, rng, 60, 86400)))
        gets_feedback = rng.random() < 0.4
        sink.add("personakit.personas", (
            iid, mapper, mid, pid, f"{mapper[:8]}:{mid[:8]}",
            dumps(core), dumps({"task": "review"}), dumps(generation),
            dumps({"accessCount": access_count, "lastAccessedAt": last_access,
                   "lastAccessedBy": xr.choice(ACTORS)[1], "feedbackReceived": gets_feedback}),
            created, created + dt.timedelta(hours=ttl), ttl))
        sink.add("personakit.system_events", (new_uuid(rng), "persona.generated", created,
                                              dumps({"personaInstanceId": iid, "mapperId": mapper}), dumps({"service": "generator"})))
        if gets_feedback:
            submitted = min(end, later(created, rng, 60, 86400))
            state = rng.choice(("pending", "processed", "incorporated"))
            quality = xr.uniform(0, 1)  # one latent impression drives the five ratings and the NPS score
            ratings = {k: max(1, min(5, round(1 + 4 * quality + xr.gauss(0, 0.7))))
                       for k in ("overall", "accuracy", "completeness", "relevance", "usability")}
            score = max(1, min(10, round(1 + 9 * quality + xr.gauss(0, 1.2))))
            outcome = "success" if quality > 0.6 else "partial_success" if quality > 0.3 else "failure"
            sink.add("personakit.feedback", (
                new_uuid(rng), iid, rng.choice(actor_ids),
                dumps({"task": "code review", "taskType": "code_review", "taskDescription": "Review a pull request",
                       "taskOutcome": outcome}),
                dumps(ratings),
                dumps({"comment": rng.choice(("Too formal", "Spot on", "Missed key context", "Helpful"))}),
                dumps({"severity": rng.choice(("low", "medium")),
                       "taskSuccessImpact": "positive" if quality > 0.6 else "neutral" if quality > 0.3 else "negative",
                       "wouldUseAgain": score >= 7, "recommendationScore": score}),
                submitted, "actor", state,
                min(end, later(submitted, rng, 60, 86400)) if state != "pending" else None))
            sink.add("personakit.system_events", (new_uuid(rng), "feedback.received", submitted,
                                                  dumps({"personaInstanceId": iid}), dumps({"service": "api"})))
    return generated
