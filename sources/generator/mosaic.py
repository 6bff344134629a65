"""Mosaic Life: contributors, legacies with their stories, groups, the people graph and plugins.

Each legacy has a creator (its admin) and 3 to 8 contributors; stories (80 to 1500 words, every
story_type and visibility) are submitted by contributors and mostly approved by the creator; groups
hold contributors; persons are the people around the deceased (contributors among them, linked by
user_id) with KNEW / FAMILY_OF / WORKED_WITH / FRIENDS_WITH edges; plugins write sentiment and
keyword metadata on stories; contributors talk to the legacy persona in ai_conversations.
"""

from __future__ import annotations

import datetime as dt
import math

from sources.generator import text
from sources.generator.core import Scale, Sink, at, clamp, dumps, is_planted, iso, later, new_uuid, stream

TABLES = {
    "mosaic.users": ("id", "email", "full_name", "relationship_to_deceased", "created_at", "last_login", "is_admin",
                     "privacy_preferences"),
    "mosaic.plugins": ("id", "name", "version", "capabilities", "created_at"),
    "mosaic.legacies": ("id", "person_name", "birth_date", "death_date", "description", "profile_images",
                        "created_by", "created_at", "settings"),
    "mosaic.stories": ("id", "legacy_id", "submitted_by", "title", "content", "story_type", "visibility_level",
                       "tags", "media_attachments", "created_at", "updated_at", "approved_by", "approved_at"),
    "mosaic.groups": ("id", "legacy_id", "name", "description", "created_by", "created_at", "members"),
    "mosaic.persons": ("id", "name", "relationship_type", "legacy_id", "user_id", "created_at"),
    "mosaic.person_relationships": ("id", "from_person_id", "to_person_id", "relationship", "properties",
                                    "created_at"),
    "mosaic.story_mentions": ("story_id", "person_id", "created_at"),
    "mosaic.plugin_relationships": ("id", "plugin_id", "relationship", "target_type", "target_id", "properties",
                                    "created_at"),
    "mosaic.story_plugin_metadata": ("id", "story_id", "plugin_id", "metadata_type", "metadata_value",
                                     "created_at", "updated_at"),
    "mosaic.plugin_permissions": ("id", "plugin_id", "legacy_id", "permissions", "granted_by", "granted_at",
                                  "revoked_at"),
    "mosaic.ai_conversations": ("id", "legacy_id", "user_id", "conversation_history", "created_at", "updated_at"),
}

PLUGINS = (("sentiment-analyzer", "1.4.2", ["read_stories", "write_metadata"]),
           ("keyword-extractor", "2.0.1", ["read_stories", "write_metadata"]),
           ("timeline-builder", "0.9.0", ["read_stories", "enhance_legacy"]),
           ("photo-enhancer", "1.1.0", ["read_media", "enhance_legacy"]),
           ("family-tree", "0.5.3", ["access_relationships"]))
ORPHAN_PLUGIN = "memory-weaver"          # never installed: plugin_metadata_has_plugin
STORY_TYPES = (("written", 50), ("transcribed", 12), ("imported", 10), ("sms", 8), ("email", 12), ("audio", 8))
VISIBILITY = (("public", 40), ("private", 25), ("group", 35))
RELATION_TO_DECEASED = (("child", "family"), ("spouse", "family"), ("sibling", "family"), ("grandchild", "family"),
                        ("friend", "friend"), ("coworker", "coworker"), ("neighbour", "neighbour"))
STORY_TAGS = ("childhood", "family", "holidays", "work", "travel", "music", "cooking", "humour", "faith",
              "garden", "war years", "school", "wedding", "sports")
GROUP_NAMES = ("Family", "Old friends", "Coworkers", "Neighbours", "Grandchildren", "Choir")
STORY_BREAK_PERIOD = 150      # story_content_not_empty (offset 3) and story_has_approver (offset 7)
METADATA_BREAK_PERIOD = 150   # plugin_metadata_has_plugin
CONVERSATION_BREAK_PERIOD = 128  # jsonb_uuid_valid


def _weighted(rng, pairs):
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _sentiment(rng, content: str) -> dict:
    words = [w.strip(".,").lower() for w in content.split()]
    pos = sum(w in ("kind", "generous", "funny", "loved", "laughed", "warm", "gentle", "playful") for w in words)
    neg = sum(w in ("gone", "miss", "hard", "hospital") for w in words)
    score = round(clamp((pos - neg) / (pos + neg + 1) + rng.gauss(0, 0.05), -1, 1), 3)
    return {"score": score, "label": "positive" if score > 0.2 else "negative" if score < -0.2 else "neutral",
            "model": "sentiment-analyzer/1.4.2"}


def generate(scale: Scale, sink: Sink, progress=None) -> None:
    seed = scale.seed
    end = at(scale.anchor, 86399.999)
    base = at(scale.window_start, 0)
    rng = stream(seed, "mosaic", "users")
    users = []
    for i in range(scale.mosaic_users):
        uid = new_uuid(rng)
        first, last = rng.choice(text.FIRST_NAMES), rng.choice(text.LAST_NAMES)
        rel = rng.choice(RELATION_TO_DECEASED)
        created = later(base, rng, -400 * 86400, 0.5 * scale.days * 86400)
        users.append((uid, rel, created))
        sink.add("mosaic.users", (
            uid, f"{first.lower()}.{last.lower()}{i}@mosaic.example.org", f"{first} {last}", rel[0], created,
            min(end, later(created, rng, 3600, max(3601, (end - created).total_seconds()))), rng.random() < 0.05,
            dumps({"email_notifications": rng.random() < 0.7, "show_in_family_tree": rng.random() < 0.8,
                   "default_story_visibility": _weighted(rng, VISIBILITY)})))

    prng = stream(seed, "mosaic", "plugins")
    plugin_ids = {}
    for name, version, caps in PLUGINS:
        plugin_ids[name] = new_uuid(prng)
        sink.add("mosaic.plugins", (plugin_ids[name], name, version, caps, base - dt.timedelta(days=600)))

    story_counter = metadata_counter = conversation_counter = 0
    for li in range(scale.legacies):
        rng = stream(seed, "mosaic", "legacy", li)
        lid = new_uuid(rng)
        creator = users[li % len(users)]
        others = [u for u in rng.sample(users, min(len(users), rng.randint(4, 9))) if u[0] != creator[0]][:8]
        contributors = [creator] + others
        name = text.person_name(rng)
        world = text.legacy_world(rng, name)
        born = dt.date(rng.randint(1925, 1985), rng.randint(1, 12), rng.randint(1, 28))
        died = min(scale.window_start, born + dt.timedelta(days=rng.randint(40 * 365, 95 * 365)))
        lcreated = max(creator[2], later(base, rng, -200 * 86400, 0.3 * scale.days * 86400))
        sink.add("mosaic.legacies", (
            lid, name, born, died, f"Remembering {name}. {text.story_sentence(rng, name, world)}",
            [f"https://mosaic-media.s3.amazonaws.com/legacies/{lid}/profile_{k}.jpg" for k in range(rng.randint(0, 3))],
            creator[0], lcreated,
            dumps({"require_approval": True, "default_visibility": _weighted(rng, VISIBILITY), "ai_persona": rng.random() < 0.7})))

        members_pool = [c[0] for c in contributors]
        group_names = rng.sample(GROUP_NAMES, rng.randint(1, 3))
        for g in group_names:
            members = sorted(rng.sample(members_pool, rng.randint(1, len(members_pool))))
            sink.add("mosaic.groups", (new_uuid(rng), lid, g, f"{g} of {name.split()[0]}", creator[0],
                                       later(lcreated, rng, 60, 86400), members))

        persons = []
        for c in contributors:
            pid = new_uuid(rng)
            persons.append(pid)
            sink.add("mosaic.persons", (pid, text.person_name(rng), c[1][1], lid, c[0], later(lcreated, rng, 60, 86400)))
        for _ in range(rng.randint(1, 4)):
            pid = new_uuid(rng)
            persons.append(pid)
            sink.add("mosaic.persons", (pid, text.person_name(rng), rng.choice(("family", "friend", "coworker")),
                                        lid, None, later(lcreated, rng, 60, 86400)))
        seen = set()
        for _ in range(len(persons) + rng.randint(0, 4)):
            a, b = rng.sample(persons, 2)
            kind = rng.choice(("KNEW", "FAMILY_OF", "WORKED_WITH", "FRIENDS_WITH"))
            if (a, b, kind) in seen:
                continue
            seen.add((a, b, kind))
            props = {"FAMILY_OF": {"relationship": rng.choice(("spouse", "child", "sibling", "cousin"))},
                     "WORKED_WITH": {"company": rng.choice(("City Hospital", "Central Bank", "Harbour Works")),
                                     "period": f"{rng.randint(1960, 2010)}s"}}.get(
                kind, {"since": f"{rng.randint(1950, 2015)}-01-01", "context": rng.choice(("school", "church", "club"))})
            sink.add("mosaic.person_relationships", (new_uuid(rng), a, b, kind, dumps(props), later(lcreated, rng, 60, 86400)))

        granted = rng.sample(PLUGINS, rng.randint(2, 4))
        for pname, _, caps in granted:
            gat = later(lcreated, rng, 3600, 10 * 86400)
            sink.add("mosaic.plugin_permissions", (
                new_uuid(rng), pname, lid,
                dumps({"read_stories": ["public", "group"], "write_metadata": ["sentiment", "keywords"],
                       "access_relationships": "access_relationships" in caps,
                       "webhook_events": ["story.created", "story.updated"]}),
                creator[0], gat, later(gat, rng, 86400, 60 * 86400) if rng.random() < 0.1 else None))
            kind = ("ACCESSES", "person") if "access_relationships" in caps else ("ENHANCES", "legacy")
            target = rng.choice(persons) if kind[1] == "person" else lid
            sink.add("mosaic.plugin_relationships", (
                new_uuid(rng), plugin_ids[pname], kind[0], kind[1], target,
                dumps({"scope": ["name", "relationships"]} if kind[1] == "person" else {"feature_type": "timeline"}),
                gat))

        stories = []
        for _ in range(rng.randint(4, 12)):
            sid = new_uuid(rng)
            author = rng.choice(contributors)
            words = int(clamp(rng.lognormvariate(math.log(320), 0.7), 80, 1450))
            created = min(end, max(lcreated, later(base, rng, 0, scale.days * 86400)))
            content = text.story_text(rng, words, name, world)
            visibility = _weighted(rng, VISIBILITY)
            updated = min(end, later(created, rng, 0, 5 * 86400)) if rng.random() < 0.3 else created
            approved_by = approved_at = None
            if rng.random() < 0.8:
                approved_by, approved_at = creator[0], min(end, later(created, rng, 600, 3 * 86400))
            story_counter += 1
            if is_planted(story_counter, STORY_BREAK_PERIOD, 3):
                content = rng.choice(("", "   ", " \n\t "))
                sink.add("public.generator_rule_breaks", ("mosaic.stories", sid, "story_content_not_empty"))
            elif is_planted(story_counter, STORY_BREAK_PERIOD, 7):
                approved_by, approved_at = None, min(end, later(created, rng, 600, 3 * 86400))
                sink.add("public.generator_rule_breaks", ("mosaic.stories", sid, "story_has_approver"))
            stype = _weighted(rng, STORY_TYPES)
            if story_counter <= len(STORY_TYPES):  # every type and visibility even in tiny runs
                stype = STORY_TYPES[story_counter - 1][0]
                visibility = VISIBILITY[(story_counter - 1) % len(VISIBILITY)][0]
            sink.add("mosaic.stories", (
                sid, lid, author[0], text.story_title(rng, name, world), content, stype, visibility,
                sorted(rng.sample(STORY_TAGS, rng.randint(0, 3))),
                [f"https://mosaic-media.s3.amazonaws.com/stories/{sid}/{k}.{'mp3' if stype == 'audio' else 'jpg'}"
                 for k in range(rng.choice((0, 0, 1, 2)))],
                created, updated, approved_by, approved_at))
            stories.append((sid, visibility, created, content))
            for pid in rng.sample(persons, rng.randint(0, min(3, len(persons)))):
                sink.add("mosaic.story_mentions", (sid, pid, created))
            if rng.random() < 0.75:
                for pname, mtype in (("sentiment-analyzer", "sentiment"), ("keyword-extractor", "keywords")):
                    metadata_counter += 1
                    mts = min(end, later(created, rng, 5, 3600))
                    value = _sentiment(rng, content) if mtype == "sentiment" else {
                        "keywords": sorted(set(w.strip(".,").lower() for w in rng.sample(content.split() or ["memory"], min(5, len(content.split()) or 1))))}
                    plugin = pname
                    mid = new_uuid(rng)
                    if is_planted(metadata_counter, METADATA_BREAK_PERIOD):
                        plugin = ORPHAN_PLUGIN
                        sink.add("public.generator_rule_breaks", ("mosaic.story_plugin_metadata", mid,
                                                                  "plugin_metadata_has_plugin"))
                    sink.add("mosaic.story_plugin_metadata", (mid, sid, plugin, mtype, dumps(value), mts, mts))
                    if plugin != ORPHAN_PLUGIN:
                        sink.add("mosaic.plugin_relationships", (
                            new_uuid(rng), plugin_ids[plugin], "PROCESSES", "story", sid,
                            dumps({"permission_level": "read"}), mts))

        referable = [s for s in stories if s[1] == "public"] or stories
        for c in contributors:
            if rng.random() >= 0.5:
                continue
            conversation_counter += 1
            cid = new_uuid(rng)
            started = min(end, later(max(lcreated, base), rng, 0, scale.days * 86400))
            ts = started
            turns = []
            for _ in range(rng.randint(1, 5)):
                ts = min(end, later(ts, rng, 20, 3600))
                refs = [s[0] for s in rng.sample(referable, min(len(referable), rng.randint(0, 2)))]
                turns.append({"timestamp": iso(ts), "user_message": rng.choice((
                    f"What was {name.split()[0]} like as a child?", "Tell me about the holidays.",
                    "What would you say to me today?", "Do you remember the garden?")),
                    "ai_response": text.story_sentence(rng, name, world),
                    "metadata": {"model_used": "mosaic-persona-v2", "response_time": round(rng.uniform(0.4, 3.5), 2),
                                 "stories_referenced": refs, "confidence_score": round(rng.uniform(0.5, 0.98), 2)}})
            if is_planted(conversation_counter, CONVERSATION_BREAK_PERIOD):
                turns[0]["metadata"]["stories_referenced"].append(
                    rng.choice(("story-" + new_uuid(rng)[:8], new_uuid(rng)[:-4], "N/A")))
                sink.add("public.generator_rule_breaks", ("mosaic.ai_conversations", cid, "jsonb_uuid_valid"))
            sink.add("mosaic.ai_conversations", (cid, lid, c[0], dumps(turns), started, ts))
        sink.maybe_flush()
    if progress:
        progress("mosaic", f"{scale.legacies} legacies, {story_counter} stories")
