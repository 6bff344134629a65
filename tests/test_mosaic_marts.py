"""Mosaic derived stores (issue 20): the legacy persona from all stories with access-scoped examples,
person-graph facts per legacy, and what each plugin may read, each compared with an independent pandas
computation from the raw tables; and the privacy test: a user's examples never come from a story the
seed's own mosaic.user_can_access_story (in the source database) denies them."""

from __future__ import annotations

import json
from collections import Counter

import pandas as pd
import psycopg
import pytest

import test_dbt_reference as ref

MARTS = ("legacy_persona", "legacy_persona_examples", "legacy_people", "legacy_person_graph",
         "plugin_story_access", "plugin_permission_scopes", "reader_story_mentions")
TABLES = ["mosaic.users", "mosaic.legacies", "mosaic.stories", "mosaic.persons", "mosaic.person_relationships",
          "mosaic.story_mentions", "mosaic.plugins", "mosaic.plugin_permissions", "mosaic.story_plugin_metadata"]


def _frame(conn, query: str, params=None) -> pd.DataFrame:
    cur = conn.execute(query, params)
    return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description], dtype=object)


def _json(value):
    return json.loads(value) if isinstance(value, str) else (value if value is not None else {})


def _build(url: str):
    from assets.dbt.project import run_dbt

    result = run_dbt(["build", "--select", " ".join(f"+{m}" for m in MARTS)], url=url)
    assert result.returncode == 0, result.stdout[-8000:]


@pytest.fixture
def built(ingested):
    _build(ingested.warehouse_url)
    return ingested


def _readable_by_seed_function(source_url: str) -> set[tuple[str, str]]:
    """(user, story) pairs the source's mosaic.user_can_access_story grants: the seed's rule, not ours."""
    with psycopg.connect(source_url) as src:
        return {(str(u), str(s)) for u, s in src.execute(
            "select u.id, s.id from mosaic.users u cross join mosaic.stories s "
            "where mosaic.user_can_access_story(u.id, s.id)").fetchall()}


def expected_plugin_access(raw, now) -> set[tuple[str, str]]:
    plugins = {p["name"]: p for p in ref._rows(raw["mosaic.plugins"])}
    stories = raw["mosaic.stories"]
    out = set()
    for g in ref._rows(raw["mosaic.plugin_permissions"]):
        if g["revoked_at"] is not None and g["revoked_at"] <= now:
            continue
        plugin = plugins.get(g["plugin_id"])
        if plugin is None or "read_stories" not in plugin["capabilities"]:
            continue
        visible = set(_json(g["permissions"]).get("read_stories") or [])
        mine = stories[(stories["legacy_id"] == g["legacy_id"]) & stories["visibility_level"].isin(visible)]
        out |= {(g["plugin_id"], str(s)) for s in mine["id"]}
    return out


@pytest.mark.slow
def test_plugin_story_access_equals_pandas(shared_warehouse):
    with psycopg.connect(shared_warehouse.warehouse_url) as conn:
        now = conn.execute("select now()").fetchone()[0]
        got = _frame(conn, "select plugin_name, story_id, visibility_level from marts.plugin_story_access")
        scopes = _frame(conn, "select * from marts.plugin_permission_scopes")
        raw = ref.load_raw(conn, TABLES)
    want = expected_plugin_access(raw, now)
    assert {(p, str(s)) for p, s in zip(got["plugin_name"], got["story_id"])} == want and want
    assert "private" not in set(got["visibility_level"])  # the generator's grants read public and group only
    # a grant to a plugin that is not installed, or without read_stories, lets it read nothing
    installed = set(raw["mosaic.plugins"]["name"])
    assert set(got["plugin_name"]) <= installed
    # metadata written on stories outside the grant is counted per grant
    per_grant = Counter()
    readable = {(p, s) for p, s in want}
    for g in ref._rows(raw["mosaic.plugin_permissions"]):
        stories = set(raw["mosaic.stories"].loc[raw["mosaic.stories"]["legacy_id"] == g["legacy_id"], "id"])
        write = set(_json(g["permissions"]).get("write_metadata") or [])
        active = g["revoked_at"] is None or g["revoked_at"] > now
        for m in ref._rows(raw["mosaic.story_plugin_metadata"]):
            if m["plugin_id"] == g["plugin_id"] and m["story_id"] in stories:
                inside = active and (g["plugin_id"], str(m["story_id"])) in readable and m["metadata_type"] in write
                per_grant[str(g["id"])] += 0 if inside else 1
    got_scope = dict(zip(scopes["permission_id"].astype(str), scopes["metadata_rows_outside_scope"]))
    assert {k: v for k, v in got_scope.items() if v} == {k: v for k, v in per_grant.items() if v}
    assert sum(per_grant.values()) > 0


@pytest.mark.slow
def test_legacy_persona_uses_all_stories_and_permitted_metadata(shared_warehouse):
    with psycopg.connect(shared_warehouse.warehouse_url) as conn:
        now = conn.execute("select now()").fetchone()[0]
        got = {str(r["legacy_id"]): r for r in ref._rows(_frame(conn, "select * from marts.legacy_persona"))}
        raw = ref.load_raw(conn, TABLES)
    readable = expected_plugin_access(raw, now)
    stories, metadata = raw["mosaic.stories"], raw["mosaic.story_plugin_metadata"]
    legacy_of = dict(zip(stories["id"], stories["legacy_id"]))
    assert set(got) == {str(l) for l in raw["mosaic.legacies"]["id"]}
    for lid, row in got.items():
        mine = stories[stories["legacy_id"].astype(str) == lid]
        assert row["stories_used"] == len(mine)  # every visibility, private included
        assert row["contributor_count"] == mine["submitted_by"].nunique()
        assert row["writing_samples"] == int(mine["story_type"].isin(["sms", "email"]).sum())
        tags = Counter(t for ts in mine["tags"] for t in (ts or []))
        assert row["themes"] == [t for t, _ in sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:5]]
        permitted = [m for m in ref._rows(metadata) if str(legacy_of.get(m["story_id"])) == lid
                     and (m["plugin_id"], str(m["story_id"])) in readable]
        scores = [float(_json(m["metadata_value"])["score"]) for m in permitted if m["metadata_type"] == "sentiment"]
        if scores:
            assert float(row["sentiment_mean"]) == pytest.approx(sum(scores) / len(scores), abs=5e-4)
        else:
            assert row["sentiment_mean"] is None
        words = Counter()
        for m in permitted:
            if m["metadata_type"] == "keywords":
                words.update(set(_json(m["metadata_value"]).get("keywords") or []))
        assert row["keywords"] == [w for w, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))[:8]]
    assert any(r["sentiment_mean"] is not None for r in got.values())


@pytest.mark.slow
def test_persona_examples_equal_pandas_and_respect_the_seed_access_function(shared_warehouse):
    """Examples are the 5 latest stories per (user, legacy) among those the SOURCE's
    mosaic.user_can_access_story grants; none is a story the function denies."""
    readable = _readable_by_seed_function(shared_warehouse.source_url)
    with psycopg.connect(shared_warehouse.warehouse_url) as conn:
        got = _frame(conn, "select user_id, legacy_id, story_id, example_rank from marts.legacy_persona_examples")
        raw = ref.load_raw(conn, TABLES)
    pairs = {(str(u), str(s)) for u, s in zip(got["user_id"], got["story_id"])}
    assert pairs and pairs <= readable
    stories = raw["mosaic.stories"].assign(id=lambda d: d["id"].astype(str))
    by_id = stories.set_index("id")
    want = {}
    for user, story in readable:
        s = by_id.loc[story]
        want.setdefault((user, str(s["legacy_id"])), []).append((s["created_at"], story))
    expected = set()
    for (user, legacy), items in want.items():
        items.sort(key=lambda t: (-t[0].timestamp(), t[1]))
        expected |= {(user, story, rank + 1) for rank, (_, story) in enumerate(items[:5])}
    assert {(str(u), str(s), int(r)) for u, s, r in zip(got["user_id"], got["story_id"], got["example_rank"])} == expected


@pytest.mark.slow
def test_private_story_shapes_the_persona_but_is_never_an_example_for_others(built):
    """A new private story counts in its legacy's persona, is an example for its submitter and the legacy
    admin, and for no other user."""
    from assets.ingest.pipeline import sync_all

    with psycopg.connect(built.source_url) as src:
        legacy, admin = src.execute("select id, created_by from mosaic.legacies order by id limit 1").fetchone()
        submitter = src.execute("select id from mosaic.users where id <> %s order by id limit 1", (admin,)).fetchone()[0]
        story = src.execute(
            "insert into mosaic.stories (legacy_id, submitted_by, title, content, visibility_level, created_at) "
            "values (%s, %s, 'A secret', 'Only for us to read.', 'private', now() + interval '1 day') returning id",
            (legacy, submitter)).fetchone()[0]
        src.commit()
        before = src.execute("select count(*) from mosaic.stories where legacy_id = %s", (legacy,)).fetchone()[0]
    sync_all(built.source_url, built.warehouse_url)
    _build(built.warehouse_url)
    readable = _readable_by_seed_function(built.source_url)
    with psycopg.connect(built.warehouse_url) as conn:
        users = {str(u) for (u,) in conn.execute(
            "select user_id from marts.legacy_persona_examples where story_id = %s", (story,)).fetchall()}
        used = conn.execute("select stories_used from marts.legacy_persona where legacy_id = %s", (legacy,)).fetchone()[0]
        everyone = {str(u) for (u,) in conn.execute("select distinct user_id from marts.legacy_persona_examples")}
    assert used == before
    assert users == {str(admin), str(submitter)}
    assert all((u, str(story)) in readable for u in users)
    assert {u for u in everyone if (u, str(story)) in readable} == users
    assert len(everyone) > 2


@pytest.mark.slow
def test_person_graph_equals_pandas(shared_warehouse):
    with psycopg.connect(shared_warehouse.warehouse_url) as conn:
        people = {str(r["person_id"]): r for r in ref._rows(_frame(conn, "select * from marts.legacy_people"))}
        graph = {str(r["legacy_id"]): r for r in ref._rows(_frame(conn, "select * from marts.legacy_person_graph"))}
        raw = ref.load_raw(conn, TABLES)
    persons, edges = raw["mosaic.persons"], raw["mosaic.person_relationships"]
    mentions, stories = raw["mosaic.story_mentions"], raw["mosaic.stories"]
    legacy_of = dict(zip(persons["id"], persons["legacy_id"]))
    assert set(people) == {str(p) for p in persons["id"]}
    degree = Counter(list(edges["from_person_id"]) + list(edges["to_person_id"]))
    mentioned = Counter(mentions["person_id"])
    for p in ref._rows(persons):
        row = people[str(p["id"])]
        assert row["relationship_count"] == degree[p["id"]] == len(_json(row["relationships"]))
        assert row["mention_count"] == mentioned[p["id"]]
    for l in ref._rows(raw["mosaic.legacies"]):
        row = graph[str(l["id"])]
        mine = persons[persons["legacy_id"] == l["id"]]
        assert row["people_count"] == len(mine)
        assert row["people_with_accounts"] == int(mine["user_id"].notna().sum())
        assert _json(row["people_by_relationship_type"]) == dict(Counter(mine["relationship_type"].fillna("unknown")))
        own = edges[edges["from_person_id"].map(legacy_of) == l["id"]]
        assert row["relationship_edges"] == len(own)
        for kind in ("KNEW", "FAMILY_OF", "WORKED_WITH", "FRIENDS_WITH"):
            assert row[f"{kind.lower()}_edges"] == int((own["relationship"] == kind).sum())
        mine_mentions = mentions[mentions["person_id"].isin(set(mine["id"]))]
        assert row["mentions"] == len(mine_mentions)
        legacy_stories = set(stories.loc[stories["legacy_id"] == l["id"], "id"])
        assert row["stories_with_mentions"] == mentions.loc[mentions["story_id"].isin(legacy_stories), "story_id"].nunique()
        if len(mine_mentions):
            counts = Counter(mine_mentions["person_id"])
            top = max(counts.values())
            names = dict(zip(mine["id"], mine["name"]))
            best = sorted((names[p], str(p)) for p, c in counts.items() if c == top)[0]
            assert (row["most_mentioned_name"], str(row["most_mentioned_person_id"])) == best
    assert sum(r["mentions"] for r in graph.values()) > 0


@pytest.mark.slow
def test_reader_story_mentions_equal_pandas_over_readable_stories(shared_warehouse):
    """(user, story, person) for every mention in a story the seed's access function lets the user read."""
    readable = _readable_by_seed_function(shared_warehouse.source_url)
    with psycopg.connect(shared_warehouse.warehouse_url) as conn:
        got = _frame(conn, "select user_id, story_id, person_id from marts.reader_story_mentions")
        mentions = ref.load_raw(conn, ["mosaic.story_mentions"])["mosaic.story_mentions"]
    mentioned: dict[str, set[str]] = {}
    for s, p in zip(mentions["story_id"], mentions["person_id"]):
        mentioned.setdefault(str(s), set()).add(str(p))
    want = {(u, s, p) for u, s in readable for p in mentioned.get(s, ())}
    assert {(str(u), str(s), str(p)) for u, s, p in zip(got["user_id"], got["story_id"], got["person_id"])} == want
    assert want


@pytest.mark.slow
def test_examples_check_catches_an_unreadable_example(built):
    """The asset check on legacy_persona_examples passes on the built marts and fails, naming the row,
    once an example of a story its user may not read is written into the mart."""
    from assets.persona.mart_checks import persona_examples_only_readable_stories, unreadable_examples
    from assets.resources import WarehouseDatabase

    warehouse = WarehouseDatabase()
    assert persona_examples_only_readable_stories(warehouse=warehouse).passed
    readable = _readable_by_seed_function(built.source_url)
    with psycopg.connect(built.warehouse_url) as conn:
        users = [str(u) for (u,) in conn.execute("select id from raw_mosaic.users")]
        stories = conn.execute("select id::text, legacy_id from raw_mosaic.stories where visibility_level = 'private'").fetchall()
        user, story, legacy = next((u, s, l) for s, l in stories for u in users if (u, s) not in readable)
        conn.execute("insert into marts.legacy_persona_examples (user_id, legacy_id, example_rank, story_id, access_reason) "
                     "values (%s, %s, 99, %s, 'public')", (user, legacy, story))
        conn.commit()
        count, sample = unreadable_examples(conn)
    assert count == 1 and sample[0]["story_id"] == story
    result = persona_examples_only_readable_stories(warehouse=warehouse)
    assert not result.passed and result.metadata["violations"].value == 1
