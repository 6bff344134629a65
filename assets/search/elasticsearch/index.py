"""Building and maintaining the Elasticsearch indices: the MindFlow seed's `journal_entries` index and a
Mosaic story index, behind aliases over versioned indices.

- Mappings: the seed's mapping and `journal_analyzer` (standard tokenizer, lowercase, asciifolding,
  stop, snowball), plus `embedding` (dense_vector, cosine, int8_hnsw set explicitly: 9.1+ would default
  a 384-dim field to bbq_hnsw), a context completion field `tagSuggest` (context userId, so a user is
  only ever offered their own tags) and the privacy/access fields (aiEligible; isPublic/readers).
- Rebuild: index every document into `<alias>_v<N>`, then move the alias in ONE `_aliases` request.
- Sync: only documents whose fingerprint changed are sent, deletes for documents no longer eligible;
  each write carries an external version (version_type=external) from the warehouse ledger
  `search.es_ledger`: max(row change cursor, last version + 1), so a stale or replayed write loses.
  Elasticsearch keeps a deleted document's version only 60 s (index.gc_deletes): a full rebuild is the
  periodic reconciliation.
- Bulk: helpers.streaming_bulk with retries and exponential backoff on 429; every item is checked
  (the bulk call itself returns 200): version conflicts count as stale, a delete of a missing document
  is fine, anything else raises BulkIndexingError after the ledger records what did succeed.

Mapping, document and bulk-action building are pure functions (tested without a server); `EsIndexer`
does the writes with a client it is given. Querying is query.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import psycopg

from assets.search.documents import JOURNAL, STORY, ActiveModel, DocumentKind, document_query, ensure_search_schema
from assets.search.model import IndexReport

JOURNAL_ALIAS = "journal_entries"
STORY_ALIAS = "mosaic_stories"


# ---------------------------------------------------------------------------------------------------
# Mappings
# ---------------------------------------------------------------------------------------------------

def analysis_settings() -> dict[str, Any]:
    return {
        "analyzer": {
            "journal_analyzer": {"type": "custom", "tokenizer": "standard",
                                 "filter": ["lowercase", "asciifolding", "stop", "snowball"]},
            "tag_analyzer": {"type": "custom", "tokenizer": "keyword", "filter": ["lowercase", "asciifolding"]},
        }
    }


def embedding_mapping(dims: int) -> dict[str, Any]:
    return {"type": "dense_vector", "dims": dims, "index": True, "similarity": "cosine",
            "index_options": {"type": "int8_hnsw"}}


def journal_index_body(dims: int | None, *, shards: int = 1, replicas: int = 0) -> dict[str, Any]:
    """The seed's `journal_entries` settings and mapping, sized for one node, plus vector, completion and
    privacy fields. dims=None (no embedding model yet) leaves the vector field out."""
    properties: dict[str, Any] = {
        "id": {"type": "keyword"},
        "userId": {"type": "keyword"},
        "date": {"type": "date", "format": "yyyy-MM-dd"},
        "title": {"type": "text", "analyzer": "journal_analyzer", "fields": {"keyword": {"type": "keyword"}}},
        "content": {"type": "text", "analyzer": "journal_analyzer", "term_vector": "with_positions_offsets"},
        "mood": {"type": "keyword"},
        "tags": {"type": "keyword"},
        "location": {"type": "text", "fields": {"keyword": {"type": "keyword"}}},
        "wordCount": {"type": "integer"},
        "isPrivate": {"type": "boolean"},
        "createdAt": {"type": "date"},
        "updatedAt": {"type": "date"},
        # Tessera's additions
        "privateMode": {"type": "boolean"},
        "aiEligible": {"type": "boolean"},
        "tagSuggest": {"type": "completion", "analyzer": "tag_analyzer", "search_analyzer": "tag_analyzer",
                       "contexts": [{"name": "userId", "type": "category", "path": "userId"}]},
    }
    if dims:
        properties["embedding"] = embedding_mapping(dims)
    return {"settings": {"number_of_shards": shards, "number_of_replicas": replicas, "analysis": analysis_settings()},
            "mappings": {"dynamic": "strict", "properties": properties}}


def story_index_body(dims: int | None, *, shards: int = 1, replicas: int = 0) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "id": {"type": "keyword"},
        "legacyId": {"type": "keyword"},
        "legacyName": {"type": "text", "fields": {"keyword": {"type": "keyword"}}},
        "submittedBy": {"type": "keyword"},
        "legacyAdmin": {"type": "keyword"},
        "visibility": {"type": "keyword"},
        "isPublic": {"type": "boolean"},
        "readers": {"type": "keyword"},
        "title": {"type": "text", "analyzer": "journal_analyzer", "fields": {"keyword": {"type": "keyword"}}},
        "content": {"type": "text", "analyzer": "journal_analyzer", "term_vector": "with_positions_offsets"},
        "storyType": {"type": "keyword"},
        "tags": {"type": "keyword"},
        "approved": {"type": "boolean"},
        "createdAt": {"type": "date"},
        "updatedAt": {"type": "date"},
    }
    if dims:
        properties["embedding"] = embedding_mapping(dims)
    return {"settings": {"number_of_shards": shards, "number_of_replicas": replicas, "analysis": analysis_settings()},
            "mappings": {"dynamic": "strict", "properties": properties}}


def versioned_index(alias: str, version: int) -> str:
    return f"{alias}_v{version}"


def index_version(name: str) -> int | None:
    head, _, tail = name.rpartition("_v")
    return int(tail) if head and tail.isdigit() else None


def alias_swap_body(alias: str, new_index: str, old_indices: Iterable[str]) -> dict[str, Any]:
    """One `_aliases` request: the alias leaves every old index and lands on the new one atomically."""
    actions: list[dict[str, Any]] = [{"remove": {"index": old, "alias": alias}} for old in sorted(old_indices)
                                     if old != new_index]
    actions.append({"add": {"index": new_index, "alias": alias, "is_write_index": True}})
    return {"actions": actions}


# ---------------------------------------------------------------------------------------------------
# Documents and bulk actions
# ---------------------------------------------------------------------------------------------------

def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat()


def _vector(value: Any) -> list[float] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [float(x) for x in value.strip("[]").split(",") if x]
    return [float(x) for x in value]


def journal_document(row: dict[str, Any]) -> dict[str, Any]:
    """A warehouse journal document row -> the seed's camelCase document."""
    doc = {
        "id": str(row["id"]), "userId": str(row["user_id"]), "date": row["date"].isoformat(),
        "title": row["title"], "content": row["content"], "mood": row["mood"], "tags": list(row["tags"]),
        "location": row["location"], "wordCount": row["word_count"], "isPrivate": bool(row["is_private"]),
        "createdAt": _iso(row["created_at"]), "updatedAt": _iso(row["updated_at"]),
        "privateMode": bool(row["private_mode"]), "aiEligible": bool(row["ai_eligible"]),
    }
    if row["tags"]:
        doc["tagSuggest"] = {"input": list(row["tags"])}
    vector = _vector(row.get("embedding")) if row["ai_eligible"] else None  # rule 2, again
    if vector is not None:
        doc["embedding"] = vector
    return doc


def story_document(row: dict[str, Any]) -> dict[str, Any]:
    doc = {
        "id": str(row["id"]), "legacyId": str(row["legacy_id"]), "legacyName": row["legacy_name"],
        "submittedBy": str(row["submitted_by"]),
        "legacyAdmin": str(row["legacy_admin"]) if row["legacy_admin"] else None,
        "visibility": row["visibility"], "isPublic": bool(row["is_public"]),
        "readers": [str(r) for r in row["readers"]], "title": row["title"], "content": row["content"],
        "storyType": row["story_type"], "tags": list(row["tags"]), "approved": bool(row["approved"]),
        "createdAt": _iso(row["created_at"]), "updatedAt": _iso(row["updated_at"]),
    }
    vector = _vector(row.get("embedding"))
    if vector is not None:
        doc["embedding"] = vector
    return doc


def index_action(index: str, doc_id: str, version: int, source: dict[str, Any]) -> dict[str, Any]:
    return {"_op_type": "index", "_index": index, "_id": doc_id, "version": int(version),
            "version_type": "external", "_source": source}


def delete_action(index: str, doc_id: str, version: int) -> dict[str, Any]:
    return {"_op_type": "delete", "_index": index, "_id": doc_id, "version": int(version),
            "version_type": "external"}


@dataclass(frozen=True)
class LedgerEntry:
    fingerprint: str | None
    version: int
    deleted: bool = False


@dataclass
class SyncPlan:
    upserts: list[tuple[str, int, str]] = field(default_factory=list)   # (id, version, fingerprint)
    deletes: list[tuple[str, int]] = field(default_factory=list)        # (id, version)


def plan_sync(documents: dict[str, tuple[str, int]], ledger: dict[str, LedgerEntry], *, full: bool = False) -> SyncPlan:
    """What to send: documents is id -> (fingerprint, source_version). An upsert's external version is the
    row's change cursor, raised above the last version sent so it always increases; a delete's is the
    last version + 1. full=True sends every document (a rebuild into an empty index)."""
    plan = SyncPlan()
    for doc_id, (fingerprint, source_version) in documents.items():
        previous = ledger.get(doc_id)
        if previous is None:
            plan.upserts.append((doc_id, max(int(source_version), 1), fingerprint))
        elif full or previous.deleted or previous.fingerprint != fingerprint:
            version = max(int(source_version), previous.version + (0 if full and previous.fingerprint == fingerprint
                                                                     and not previous.deleted else 1))
            plan.upserts.append((doc_id, version, fingerprint))
    for doc_id, previous in ledger.items():
        if doc_id not in documents and not previous.deleted and not full:
            plan.deletes.append((doc_id, previous.version + 1))
    return plan


@dataclass
class BulkOutcome:
    succeeded: list[tuple[str, str]] = field(default_factory=list)  # (op, id)
    stale: list[str] = field(default_factory=list)                  # version conflicts: a newer write won
    errors: list[dict[str, Any]] = field(default_factory=list)


def classify_bulk_item(ok: bool, item: dict[str, Any], outcome: BulkOutcome) -> None:
    """Sort one streaming_bulk result into succeeded / stale / errors."""
    op, result = next(iter(item.items()))
    doc_id = str(result.get("_id"))
    status = result.get("status", 0)
    error = result.get("error") or {}
    error_type = error.get("type") if isinstance(error, dict) else str(error)
    if ok or (op == "delete" and status == 404):
        outcome.succeeded.append((op, doc_id))
    elif status == 409 and error_type == "version_conflict_engine_exception":
        outcome.stale.append(doc_id)
    else:
        outcome.errors.append({"op": op, "id": doc_id, "status": status, "error": error})


class BulkIndexingError(RuntimeError):
    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__(f"{len(errors)} bulk item(s) failed; first: {errors[:3]}")
        self.errors = errors



# ---------------------------------------------------------------------------------------------------
# The indices and their writer
# ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EsIndex:
    alias: str
    kind: DocumentKind
    body: Callable[..., dict[str, Any]]
    to_document: Callable[[dict[str, Any]], dict[str, Any]]


JOURNAL_ES = EsIndex(JOURNAL_ALIAS, JOURNAL, journal_index_body, journal_document)
STORY_ES = EsIndex(STORY_ALIAS, STORY, story_index_body, story_document)


def fetch_documents(warehouse_url: str, kind: DocumentKind) -> tuple[list[dict[str, Any]], ActiveModel | None]:
    from psycopg.rows import dict_row

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        with conn.transaction():
            ensure_search_schema(conn)
        query, model = document_query(conn, kind)
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(query).fetchall()
    return rows, model


def index_for(which: str) -> EsIndex:
    """The index a refresh names: 'journal' or 'stories'."""
    return JOURNAL_ES if which == "journal" else STORY_ES


@dataclass
class EsIndexer:
    """Rebuilds and syncs one index at a time through `client`, keeping the ledger and the build records
    in the warehouse (`warehouse_url`)."""

    client: Any
    warehouse_url: str
    shards: int = 1
    replicas: int = 0
    bulk_options: dict[str, Any] = field(default_factory=dict)
    name: str = "elasticsearch"

    def indices(self, alias: str) -> list[str]:
        found = self.client.indices.get(index=f"{alias}_v*", allow_no_indices=True, expand_wildcards="open")
        return sorted((name for name in found if index_version(name) is not None), key=index_version)

    def aliased(self, alias: str) -> list[str]:
        if not self.client.indices.exists_alias(name=alias):
            return []
        return sorted(self.client.indices.get_alias(name=alias).keys())

    def _ledger(self, alias: str) -> dict[str, LedgerEntry]:
        with psycopg.connect(self.warehouse_url) as conn:
            rows = conn.execute("SELECT doc_id::text, fingerprint, version, deleted FROM search.es_ledger WHERE alias = %s",
                                (alias,)).fetchall()
        return {r[0]: LedgerEntry(r[1], int(r[2]), bool(r[3])) for r in rows}

    def _record(self, alias: str, written: list[tuple[str, int, str | None, bool]], *, reset: bool = False) -> None:
        with psycopg.connect(self.warehouse_url) as conn:
            if reset:
                conn.execute("DELETE FROM search.es_ledger WHERE alias = %s", (alias,))
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO search.es_ledger (alias, doc_id, fingerprint, version, deleted) VALUES (%s, %s, %s, %s, %s) "
                    "ON CONFLICT (alias, doc_id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, "
                    "version = EXCLUDED.version, deleted = EXCLUDED.deleted, updated_at = now()",
                    [(alias, doc_id, fp, version, deleted) for doc_id, version, fp, deleted in written])

    def _bulk(self, actions: Iterator[dict[str, Any]]) -> BulkOutcome:
        from elasticsearch.helpers import streaming_bulk

        outcome = BulkOutcome()
        for ok, item in streaming_bulk(self.client, actions, raise_on_error=False, raise_on_exception=True,
                                       yield_ok=True, **self.bulk_options):
            classify_bulk_item(ok, item, outcome)
        return outcome

    def _built_model(self, alias: str) -> str | None:
        with psycopg.connect(self.warehouse_url) as conn:
            row = conn.execute("SELECT model_id FROM search.builds WHERE index_name = %s AND backend = 'elasticsearch' "
                               "ORDER BY version DESC LIMIT 1", (alias,)).fetchone()
        return row[0] if row else None

    def refresh(self, which: str, *, full: bool = False) -> IndexReport:
        """Sync the live index; rebuild when asked, when there is none, or when the embedding model changed
        (the dense_vector mapping's dims are fixed per index)."""
        from assets.search.documents import active_model

        index = index_for(which)
        with psycopg.connect(self.warehouse_url, autocommit=True) as conn:
            with conn.transaction():
                ensure_search_schema(conn)
            model = active_model(conn, index.kind)
        if full or not self.aliased(index.alias) or (model.model_id if model else None) != self._built_model(index.alias):
            return self.rebuild(index)
        return self.sync(index)

    def rebuild(self, index: EsIndex) -> IndexReport:
        rows, model = fetch_documents(self.warehouse_url, index.kind)
        existing = self.indices(index.alias)
        version = (index_version(existing[-1]) if existing else 0) + 1
        target = versioned_index(index.alias, version)
        body = index.body(model.dimension if model else None, shards=self.shards, replicas=self.replicas)
        self.client.indices.create(index=target, body=body)
        ledger = self._ledger(index.alias)
        documents = {str(r["id"]): (r["fingerprint"], int(r["source_version"])) for r in rows}
        plan = plan_sync(documents, ledger, full=True)
        by_id = {str(r["id"]): r for r in rows}
        outcome = self._bulk(index_action(target, doc_id, v, index.to_document(by_id[doc_id]))
                             for doc_id, v, _ in plan.upserts)
        if outcome.errors:
            self.client.indices.delete(index=target)  # never swap to a partial index
            raise BulkIndexingError(outcome.errors)
        self.client.indices.refresh(index=target)
        old = self.aliased(index.alias)
        self.client.indices.update_aliases(body=alias_swap_body(index.alias, target, old))
        self._record(index.alias, [(d, v, fp, False) for d, v, fp in plan.upserts], reset=True)
        with psycopg.connect(self.warehouse_url) as conn:
            conn.execute("INSERT INTO search.builds (index_name, version, backend, model_id, dimension, documents) "
                         "VALUES (%s, %s, 'elasticsearch', %s, %s, %s) ON CONFLICT (index_name, version) DO UPDATE "
                         "SET backend = EXCLUDED.backend, model_id = EXCLUDED.model_id, dimension = EXCLUDED.dimension, "
                         "documents = EXCLUDED.documents, built_at = now()",
                         (index.alias, version, model.model_id if model else None, model.dimension if model else None,
                          len(rows)))
        for name in existing[:-1]:  # keep the previous index for a roll-back, drop older ones
            self.client.indices.delete(index=name, ignore_unavailable=True)
        removed = sum(1 for d, e in ledger.items() if d not in documents and not e.deleted)
        return IndexReport(index.alias, self.name, version, True, len(rows), len(plan.upserts), removed,
                           model.model_id if model else None)

    def sync(self, index: EsIndex) -> IndexReport:
        rows, model = fetch_documents(self.warehouse_url, index.kind)
        documents = {str(r["id"]): (r["fingerprint"], int(r["source_version"])) for r in rows}
        plan = plan_sync(documents, self._ledger(index.alias))
        by_id = {str(r["id"]): r for r in rows}

        def actions():
            for doc_id, version, _ in plan.upserts:
                yield index_action(index.alias, doc_id, version, index.to_document(by_id[doc_id]))
            for doc_id, version in plan.deletes:
                yield delete_action(index.alias, doc_id, version)

        outcome = self._bulk(actions())
        done = {doc_id for _, doc_id in outcome.succeeded} | set(outcome.stale)
        versions = {d: (v, fp) for d, v, fp in plan.upserts}
        written = [(d, versions[d][0], versions[d][1], False) for d in done if d in versions]
        written += [(d, v, None, True) for d, v in plan.deletes if d in done]
        self._record(index.alias, written)
        if outcome.errors:
            raise BulkIndexingError(outcome.errors)
        current = self.aliased(index.alias)
        return IndexReport(index.alias, self.name, index_version(current[0]) if current else 0, False, len(rows),
                           sum(1 for op, _ in outcome.succeeded if op == "index"),
                           sum(1 for op, _ in outcome.succeeded if op == "delete"), model.model_id if model else None)

