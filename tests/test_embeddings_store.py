"""Embeddings against the real embedded Postgres and the real (bundled) model.

Rows are written by hand into the raw copies of an empty warehouse (an ingest of the empty source, with
the dbt eligibility views over it), so each test says exactly which rows exist;
test_embeddings_assets.py also runs generator -> ingest -> embed.
The encoder is loaded once per session; a counting wrapper around it records the texts it is given.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
import psycopg
import pytest

from assets.embeddings.model import bundled_model_path, get_encoder
from assets.embeddings.sources import SOURCES, get_source
from assets.embeddings.store import EmbeddingDimensionError, content_hash, sync_source

REPO_ROOT = Path(__file__).resolve().parent.parent
VECTOR_TABLES = [s.table for s in SOURCES]

def ingest_with_views(databases) -> None:
    """An ingest of the source (raw copies of every source table; empty ones for the empty migrated source)
    and the dbt views over them that the embeddings read (eligibility models and their staging views).
    Tests may then write hand-made rows into the raw copies, which the views read live."""
    from assets.dbt.project import run_dbt
    from assets.ingest.pipeline import sync_all

    sync_all(databases.source_url, databases.warehouse_url)
    run_dbt(["run", "--select", "+path:models/eligibility"], url=databases.warehouse_url, check=True)


class CountingEncoder:
    """The real encoder, recording every text it is asked to embed."""

    def __init__(self, inner):
        self.inner = inner
        self.model_id, self.dimension = inner.model_id, inner.dimension
        self.max_tokens, self.tokenizer = inner.max_tokens, inner.tokenizer
        self.texts: list[str] = []

    def encode(self, texts):
        self.texts.extend(texts)
        return self.inner.encode(texts)


@pytest.fixture(scope="session")
def encoder():
    home = Path(os.environ.get("TESSERA_TEST_HOME", REPO_ROOT / ".tessera" / "test")).resolve()
    return get_encoder(None, cache_dir=home / "models")


@pytest.fixture(scope="session")
def second_encoder(encoder):
    """The same weights under another model id (a local path spec): a real, different model id."""
    home = Path(os.environ.get("TESSERA_TEST_HOME", REPO_ROOT / ".tessera" / "test")).resolve()
    other = get_encoder(f"{bundled_model_path()}#int8", cache_dir=home / "models")
    assert other.model_id != encoder.model_id
    return other


@pytest.fixture
def wh(databases):
    ingest_with_views(databases)
    with psycopg.connect(databases.warehouse_url) as conn:
        yield conn


def _id() -> uuid.UUID:
    return uuid.uuid4()


def add_user(conn, *, private_mode=False, deleted=False) -> uuid.UUID:
    uid = _id()
    conn.execute("INSERT INTO raw_mindflow.users (id, deleted_at) VALUES (%s, CASE WHEN %s THEN now() END)", (uid, deleted))
    conn.execute("INSERT INTO raw_mindflow.user_settings (id, user_id, private_mode) VALUES (gen_random_uuid(), %s, %s)",
                 (uid, private_mode))
    return uid


def add_entry(conn, user_id, content, *, title="Entry", private=False, deleted=False) -> uuid.UUID:
    eid = _id()
    conn.execute(
        "INSERT INTO raw_mindflow.journal_entries (id, user_id, title, content, is_private, deleted_at)"
        " VALUES (%s, %s, %s, %s, %s, CASE WHEN %s THEN now() END)", (eid, user_id, title, content, private, deleted))
    return eid


def source_ids(conn, table: str, model_id: str | None = None) -> set[uuid.UUID]:
    query = f"SELECT DISTINCT source_id FROM vectors.{table}" + (" WHERE model_id = %s" if model_id else "")
    return {r[0] for r in conn.execute(query, (model_id,) if model_id else None).fetchall()}


def all_vector_source_ids(conn) -> set[uuid.UUID]:
    ids: set[uuid.UUID] = set()
    for table in VECTOR_TABLES:
        if conn.execute("SELECT to_regclass(%s)", (f"vectors.{table}",)).fetchone()[0]:
            ids |= source_ids(conn, table)
    return ids


def sync(conn, table, enc, **kw):
    result = sync_source(conn, get_source(table), enc, **kw)
    conn.commit()
    return result


# --- privacy canaries ----------------------------------------------------------------------------------

def test_canaries_never_reach_vectors_nor_the_encoder(wh, encoder):
    alice = add_user(wh)
    bob_private_mode = add_user(wh, private_mode=True)
    carol_erased = add_user(wh, deleted=True)
    kept = [add_entry(wh, alice, f"A normal day number {i}, I cooked dinner and read a book.") for i in range(3)]
    canaries = {
        "zqcanaryprivate": add_entry(wh, alice, "zqcanaryprivate my secret thoughts", private=True),
        "zqcanarypmode": add_entry(wh, bob_private_mode, "zqcanarypmode nobody should embed this"),
        "zqcanarydeleted": add_entry(wh, alice, "zqcanarydeleted I deleted this entry", deleted=True),
        "zqcanaryerased": add_entry(wh, carol_erased, "zqcanaryerased an erased account wrote this"),
    }
    wh.commit()
    counting = CountingEncoder(encoder)
    result = sync(wh, "journal_entries", counting)

    assert source_ids(wh, "journal_entries") == set(kept)
    assert not set(canaries.values()) & all_vector_source_ids(wh)
    assert not any(token in text for text in counting.texts for token in canaries)
    assert result.eligible_docs == 3 and result.docs_embedded == 3


def test_canaries_flipping_to_ineligible_are_removed_in_the_next_run(wh, encoder):
    alice, bob, carol = add_user(wh), add_user(wh), add_user(wh)
    stay = add_entry(wh, alice, "I stay eligible: a walk by the river.")
    becomes_private = add_entry(wh, alice, "zqflipprivate a day at the office")
    becomes_deleted = add_entry(wh, alice, "zqflipdeleted groceries and laundry", title="Chores")
    of_private_mode_user = add_entry(wh, bob, "zqflippmode bob writes about football")
    of_erased_user = add_entry(wh, carol, "zqfliperased carol writes about her garden")
    wh.commit()
    sync(wh, "journal_entries", encoder)
    flipped = {becomes_private, becomes_deleted, of_private_mode_user, of_erased_user}
    assert source_ids(wh, "journal_entries") == flipped | {stay}

    wh.execute("UPDATE raw_mindflow.journal_entries SET is_private = true WHERE id = %s", (becomes_private,))
    wh.execute("UPDATE raw_mindflow.journal_entries SET deleted_at = now() WHERE id = %s", (becomes_deleted,))
    wh.execute("UPDATE raw_mindflow.user_settings SET private_mode = true WHERE user_id = %s", (bob,))
    wh.execute("UPDATE raw_mindflow.users SET deleted_at = now() WHERE id = %s", (carol,))
    wh.commit()
    counting = CountingEncoder(encoder)
    result = sync(wh, "journal_entries", counting)

    assert result.docs_removed == 4
    assert not flipped & all_vector_source_ids(wh)
    assert source_ids(wh, "journal_entries") == {stay}
    assert counting.texts == []  # removal needs no embedding
    # and back: an entry made public again is embedded again
    wh.execute("UPDATE raw_mindflow.journal_entries SET is_private = false WHERE id = %s", (becomes_private,))
    wh.commit()
    assert sync(wh, "journal_entries", encoder).docs_embedded == 1
    assert becomes_private in source_ids(wh, "journal_entries")


def test_quarantined_entries_are_skipped(wh, encoder):
    from psycopg.types.json import Jsonb

    from quality.quarantine import ensure_quarantine_schema

    alice = add_user(wh)
    good, bad = add_entry(wh, alice, "a fine entry"), add_entry(wh, alice, "a broken entry")
    ensure_quarantine_schema(wh)
    wh.execute("INSERT INTO quality.quarantine (source_table, record_key, rule, reason, row_data)"
               " VALUES ('mindflow.journal_entries', %s, 'test_rule', 'test', %s)", (str(bad), Jsonb({})))
    wh.commit()
    sync(wh, "journal_entries", encoder)
    assert source_ids(wh, "journal_entries") == {good}


# --- incremental by construction -----------------------------------------------------------------------

def test_edit_reembeds_exactly_the_edited_rows_and_rerun_embeds_nothing(wh, encoder):
    alice = add_user(wh)
    entries = [add_entry(wh, alice, f"Day {i}: I went running and felt strong afterwards.") for i in range(6)]
    wh.commit()
    first = CountingEncoder(encoder)
    r1 = sync(wh, "journal_entries", first)
    assert r1.docs_embedded == 6 and r1.docs_new == 6 and len(first.texts) == 6

    rerun = CountingEncoder(encoder)
    r2 = sync(wh, "journal_entries", rerun)
    assert rerun.texts == [] and r2.docs_embedded == 0 and r2.skipped_unchanged == 6 and r2.chunks_embedded == 0

    before = {r[0]: r[1] for r in wh.execute(
        "SELECT source_id, embedded_at FROM vectors.journal_entries").fetchall()}
    edited = entries[1], entries[4]
    for eid in edited:
        wh.execute("UPDATE raw_mindflow.journal_entries SET content = content || ' Edited: it rained later.'"
                   " WHERE id = %s", (eid,))
    wh.commit()
    counting = CountingEncoder(encoder)
    r3 = sync(wh, "journal_entries", counting)
    assert r3.docs_embedded == 2 and r3.docs_changed == 2 and r3.skipped_unchanged == 4
    assert sorted(counting.texts) == sorted(
        f"Entry\n\nDay {i}: I went running and felt strong afterwards. Edited: it rained later." for i in (1, 4))
    after = {r[0]: r[1] for r in wh.execute("SELECT source_id, embedded_at FROM vectors.journal_entries").fetchall()}
    assert {sid for sid in after if after[sid] != before[sid]} == set(edited)
    hashes = dict(wh.execute("SELECT source_id, content_hash FROM vectors.journal_entries").fetchall())
    assert hashes[entries[1]] == content_hash(counting.texts[0]) or hashes[entries[1]] == content_hash(counting.texts[1])


def test_sql_and_python_content_hash_agree(wh):
    text = "Café — naïve 😊 entry\n\nwith lines"
    sql_hash = wh.execute("SELECT encode(sha256(convert_to(%s, 'UTF8')), 'hex')", (text,)).fetchone()[0]
    assert sql_hash == content_hash(text)


def test_long_entry_is_chunked_and_doc_view_is_normalized(wh, encoder):
    alice = add_user(wh)
    long_text = " ".join(f"Sentence {i} about the long weekend trip to the mountains with friends." for i in range(120))
    long_id = add_entry(wh, alice, long_text)
    short_id = add_entry(wh, alice, "Short and sweet.")
    wh.commit()
    counting = CountingEncoder(encoder)
    result = sync(wh, "journal_entries", counting)
    chunks = wh.execute("SELECT chunk_index, char_start, char_end FROM vectors.journal_entries"
                        " WHERE source_id = %s ORDER BY chunk_index", (long_id,)).fetchall()
    assert len(chunks) >= 3 and [c[0] for c in chunks] == list(range(len(chunks)))
    assert all(b[1] < a[2] for a, b in zip(chunks, chunks[1:])), "stored chunk spans overlap"
    assert result.chunks_embedded == len(chunks) + 1
    assert all(len(encoder.tokenizer.encode(t, add_special_tokens=False).ids) <= encoder.max_tokens for t in counting.texts)
    docs = wh.execute("SELECT source_id, user_id, vector_norm(embedding), chunks FROM vectors.journal_entries_doc").fetchall()
    assert {d[0] for d in docs} == {long_id, short_id}
    assert all(abs(d[2] - 1.0) < 1e-4 and d[1] == alice for d in docs)
    assert {d[0]: d[3] for d in docs}[long_id] == len(chunks)
    # the stored chunk vector of the short doc is the encoder's vector for its text
    stored = wh.execute("SELECT embedding::text FROM vectors.journal_entries WHERE source_id = %s", (short_id,)).fetchone()[0]
    vec = np.array(stored[1:-1].split(","), dtype=np.float32)
    assert float(vec @ encoder.encode(["Entry\n\nShort and sweet."])[0]) > 0.9999


# --- models: swap, dimension ----------------------------------------------------------------------------

def test_model_change_swaps_atomically_readers_always_see_a_full_set(wh, databases, encoder, second_encoder):
    alice = add_user(wh)
    ids = {add_entry(wh, alice, f"Entry {i}: the bus was late and I read my novel.") for i in range(7)}
    wh.commit()
    sync(wh, "journal_entries", encoder)
    observations = []

    with psycopg.connect(databases.warehouse_url, autocommit=True) as reader:
        def observe(done, total):
            active = reader.execute("SELECT model_id FROM vectors.active_models WHERE source = 'journal_entries'").fetchone()[0]
            visible = {r[0] for r in reader.execute("SELECT source_id FROM vectors.journal_entries_doc").fetchall()}
            new_rows = len(source_ids(reader, "journal_entries", second_encoder.model_id))
            observations.append((active, visible, new_rows))

        counting = CountingEncoder(second_encoder)
        result = sync(wh, "journal_entries", counting, batch_docs=2, on_batch=observe)

    assert len(counting.texts) == 7, "a new model re-embeds everything"
    assert len(observations) == 4
    for active, visible, _ in observations:
        assert active == encoder.model_id and visible == ids, "old model stays active and complete until the flip"
    assert [o[2] for o in observations] == [2, 4, 6, 7], "new rows were written alongside"
    assert result.swapped_model and result.previous_model == encoder.model_id
    assert wh.execute("SELECT model_id, dimension FROM vectors.active_models WHERE source = 'journal_entries'"
                      ).fetchone() == (second_encoder.model_id, 384)
    assert {r[0] for r in wh.execute("SELECT DISTINCT model_id FROM vectors.journal_entries").fetchall()} == {second_encoder.model_id}
    assert {r[0] for r in wh.execute("SELECT source_id FROM vectors.journal_entries_doc").fetchall()} == ids
    indexes = [r[0] for r in wh.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = 'vectors'"
                                        " AND tablename = 'journal_entries' AND indexdef LIKE '%hnsw%'").fetchall()]
    assert len(indexes) == 1 and second_encoder.model_id in indexes[0] and "vector_cosine_ops" in indexes[0]
    # the documented query shape for nearest neighbours uses the active model's HNSW index
    query = second_encoder.encode(["late bus"])[0]
    wh.execute("SET enable_seqscan = off")
    plan = "\n".join(r[0] for r in wh.execute(
        "EXPLAIN SELECT source_id FROM vectors.journal_entries WHERE model_id = %s"
        " ORDER BY embedding::vector(384) <=> %s::vector(384) LIMIT 3",
        (second_encoder.model_id, "[" + ",".join(map(str, query.tolist())) + "]")).fetchall())
    assert "journal_entries_hnsw_" in plan


class _WrongDimension:
    """Claims the real model's id but produces 8-dimensional vectors (a model changed under one id)."""

    def __init__(self, real):
        self.model_id, self.dimension = real.model_id, 8
        self.max_tokens, self.tokenizer = real.max_tokens, real.tokenizer

    def encode(self, texts):
        out = np.ones((len(texts), 8), dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_dimension_mismatch_for_a_model_is_a_clear_error(wh, encoder):
    alice = add_user(wh)
    add_entry(wh, alice, "first entry")
    wh.commit()
    sync(wh, "journal_entries", encoder)
    add_entry(wh, alice, "second entry", title="Other")
    wh.commit()
    with pytest.raises(EmbeddingDimensionError, match="384-dimensional.*gives 8"):
        sync(wh, "journal_entries", _WrongDimension(encoder))
    assert wh.execute("SELECT count(*) FROM vectors.journal_entries").fetchone()[0] == 1  # nothing half-written


# --- the other three sources ------------------------------------------------------------------------------

def test_stories_observations_and_dialogue_eligibility(wh, encoder):
    legacy = _id()
    wh.execute("INSERT INTO raw_mosaic.legacies (id) VALUES (%s)", (legacy,))
    story = _id()
    wh.execute("INSERT INTO raw_mosaic.stories (id, legacy_id, title, content)"
               " VALUES (%s, %s, 'Grandma', 'She sang while cooking.')", (story, legacy))
    orphan = _id()  # its legacy is gone (hard delete): not live
    wh.execute("INSERT INTO raw_mosaic.stories (id, legacy_id, title, content) VALUES (%s, %s, 'Lost', 'No legacy.')",
               (orphan, _id()))

    person, gone_person = _id(), _id()
    wh.execute("INSERT INTO raw_personakit.persons (person_id, deleted_at) VALUES (%s, NULL), (%s, now())",
               (person, gone_person))
    obs = {}
    for status in ("approved", "processed", "pending", "rejected"):
        obs[status] = _id()
        wh.execute("INSERT INTO raw_personakit.observations (observation_id, person_id, source_type, source_metadata,"
                   " content_raw, processing_status) VALUES (%s, %s, 'assessment',"
                   " '{\"source\": \"MBTI_test\", \"assessmentType\": \"mbti\"}', %s, %s)",
                   (obs[status], person, f"Assessment result {status}: INTJ, prefers planning.", status))
    obs_of_gone = _id()
    wh.execute("INSERT INTO raw_personakit.observations (observation_id, person_id, source_type, source_metadata,"
               " content_raw, processing_status) VALUES (%s, %s, 'chat_log', '{}', 'hello', 'approved')",
               (obs_of_gone, gone_person))

    learner, gone_learner = _id(), _id()
    wh.execute("INSERT INTO raw_coach.users (id, deleted_at) VALUES (%s, NULL), (%s, now())", (learner, gone_learner))
    session = _id()
    msgs = {name: _id() for name in ("flagged", "unflagged", "deleted", "gone_user")}
    wh.execute("INSERT INTO raw_coach.dialogue_messages (id, session_id, user_id, content, flagged_for_recall, deleted_at)"
               " VALUES"
               " (%s, %s, %s, 'Remember: spaced repetition works.', true, NULL),"
               " (%s, %s, %s, 'Not flagged.', false, NULL),"
               " (%s, %s, %s, 'Flagged but deleted.', true, now()),"
               " (%s, %s, %s, 'Flagged, learner erased.', true, NULL)",
               (msgs["flagged"], session, learner, msgs["unflagged"], session, learner,
                msgs["deleted"], session, learner, msgs["gone_user"], session, gone_learner))
    resource, resource_of_gone = _id(), _id()
    wh.execute("INSERT INTO raw_coach.knowledge_resources (id, user_id, title, content, language, tags, source) VALUES"
               " (%s, %s, 'Spaced repetition', 'Review cards at growing intervals.', 'en', '{memory,study}', 'upload'),"
               " (%s, %s, 'Gone', 'Of an erased learner.', 'en', '{}', 'upload')",
               (resource, learner, resource_of_gone, gone_learner))
    wh.commit()

    for table in ("mosaic_stories", "personakit_observations", "coach_dialogue_messages", "coach_knowledge_resources"):
        sync(wh, table, encoder)

    assert source_ids(wh, "mosaic_stories") == {story}
    assert source_ids(wh, "personakit_observations") == {obs["approved"], obs["processed"]}
    assert source_ids(wh, "coach_dialogue_messages") == {msgs["flagged"]}
    row = wh.execute("SELECT person_id, content_type, metadata FROM vectors.personakit_observations"
                     " WHERE source_id = %s", (obs["approved"],)).fetchone()
    assert row[0] == person and row[1] == "insight"
    meta = row[2]
    assert meta["category"] == "assessment" and meta["volatility"] in ("low", "high")
    assert 0 <= meta["importance"] <= 1 and meta["derivedFrom"] == [str(obs["approved"])]
    assert "mbti" in meta["tags"]
    assert wh.execute("SELECT session_id, user_id FROM vectors.coach_dialogue_messages").fetchone() == (session, learner)
    assert source_ids(wh, "coach_knowledge_resources") == {resource}
    assert wh.execute("SELECT metadata FROM vectors.coach_knowledge_resources").fetchone()[0] == {
        "resourceId": str(resource), "language": "en", "tags": ["memory", "study"], "source": "upload"}

    # approved -> rejected removes; pending -> approved embeds exactly that one; status-only moves re-embed nothing
    wh.execute("UPDATE raw_personakit.observations SET processing_status = 'rejected' WHERE observation_id = %s", (obs["approved"],))
    wh.execute("UPDATE raw_personakit.observations SET processing_status = 'approved' WHERE observation_id = %s", (obs["pending"],))
    wh.commit()
    counting = CountingEncoder(encoder)
    result = sync(wh, "personakit_observations", counting)
    assert result.docs_removed == 1 and counting.texts == ["Assessment result pending: INTJ, prefers planning."]
    assert source_ids(wh, "personakit_observations") == {obs["processed"], obs["pending"]}


def test_pytorch_fallback_path_agrees_with_the_int8_path(encoder):
    fp32 = get_encoder("all-MiniLM-L6-v2#fp32")
    assert fp32.model_id == "sentence-transformers/all-MiniLM-L6-v2#fp32" and fp32.dimension == encoder.dimension
    texts = ["I slept badly and worried about the presentation.", "We had a picnic by the river with the kids."]
    a, b = fp32.encode(texts), encoder.encode(texts)
    assert a.dtype == np.float32 and a.shape == (2, 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.all(np.sum(a * b, axis=1) > 0.97)
    assert float(a[0] @ a[1]) < 0.8  # different texts stay apart
    assert fp32.encode([]).shape == (0, 384) and encoder.encode([]).shape == (0, 384)
