"""The five products as data: every source table Tessera ingests, with what later stages need to know.

Adding a table to ingest is one entry here (and its migration). Fields:
- key: primary key columns (the change-capture identity).
- owner: how a row belongs to a user, for erasure: a column of this table holding the user id, or
  (column, parent_table) when the user is found through a parent row.
- soft_delete: the column that marks a soft delete, if any.
- audit: audit trails are kept on erasure (DESIGN.md rule 1) and only aged out by retention.
- retention: (timestamp column, Postgres interval[, SQL condition]) applied by the retention assets: rows
  whose column is older than the interval (and that meet the condition, a constant of this module) go.
- parents: the columns that tie a row to the rows the read views are keyed by (an entry's user and day, a
  story's legacy, a task's plan). The change feed (assets/ingest/feed.py) keeps their values before and
  after every change, with the key (`feed_columns`), so a refresh finds the old parent of a deleted or
  moved row without a copy of its content.
"""

from __future__ import annotations

from dataclasses import dataclass

PRODUCTS = ("mindflow", "mosaic", "personakit", "coach", "devassist")


def raw_schema_of(product: str) -> str:
    """The warehouse schema holding a product's raw copies (the one place the naming rule is written)."""
    return f"raw_{product}"


@dataclass(frozen=True)
class SourceTable:
    product: str
    name: str
    key: tuple[str, ...] = ("id",)
    owner: str | tuple[str, str] | None = None
    soft_delete: str | None = None
    audit: bool = False
    retention: tuple[str, str] | tuple[str, str, str] | None = None
    parents: tuple[str, ...] = ()
    description: str = ""

    @property
    def feed_columns(self) -> tuple[str, ...]:
        """The columns of this table's before and after images in the change feed: key, then parents."""
        return self.key + tuple(c for c in self.parents if c not in self.key)

    @property
    def qualified(self) -> str:
        return f"{self.product}.{self.name}"

    @property
    def raw_schema(self) -> str:
        return raw_schema_of(self.product)

    @property
    def asset_key(self) -> list[str]:
        return [self.raw_schema, self.name]


def _t(product: str, name: str, **kw) -> SourceTable:
    return SourceTable(product=product, name=name, **kw)


TABLES: tuple[SourceTable, ...] = (
    # MindFlow (seed 004)
    _t("mindflow", "users", owner="id", soft_delete="deleted_at", description="Core user accounts"),
    _t("mindflow", "user_gdpr_consent", parents=('user_id',), owner="user_id", description="GDPR consent"),
    _t("mindflow", "user_settings", parents=('user_id',), owner="user_id", description="Preferences incl. private_mode"),
    _t("mindflow", "journal_entries", parents=('user_id', 'date'), owner="user_id", soft_delete="deleted_at", description="Journal entries with mood"),
    _t("mindflow", "tags", parents=('name',), description="Normalized tag names"),
    _t("mindflow", "journal_entry_tags", parents=('journal_entry_id', 'tag_id'), owner=("journal_entry_id", "journal_entries"), description="Entry-tag links"),
    _t("mindflow", "attachments", parents=('journal_entry_id',), owner=("journal_entry_id", "journal_entries"), soft_delete="deleted_at",
       description="Media attached to entries"),
    _t("mindflow", "user_streaks", parents=('user_id',), owner="user_id", description="Writing streaks"),
    _t("mindflow", "audit_logs", owner="user_id", audit=True, retention=("timestamp", "7 years"),
       description="Audit trail (MongoDB collection)"),
    _t("mindflow", "application_logs", retention=("timestamp", "30 days"), description="Service logs (MongoDB collection)"),
    _t("mindflow", "api_requests", owner="user_id", retention=("timestamp", "90 days"),
       description="HTTP request logs (MongoDB collection)"),
    # Mosaic Life (seed 000)
    _t("mosaic", "users", owner="id", description="Accounts"),
    _t("mosaic", "legacies", owner="created_by", description="The people remembered"),
    _t("mosaic", "stories", parents=('legacy_id',), owner="submitted_by", description="Memorial stories"),
    _t("mosaic", "groups", parents=('legacy_id',), owner="created_by", description="Groups per legacy, with members"),
    _t("mosaic", "ai_conversations", owner="user_id", description="Conversations with the legacy persona"),
    _t("mosaic", "story_plugin_metadata", owner=("story_id", "stories"), description="Plugin metadata on stories"),
    _t("mosaic", "plugin_permissions", description="Plugin capabilities per legacy"),
    _t("mosaic", "persons", parents=('legacy_id', 'user_id'), owner="user_id", description="Neo4j Person nodes"),
    _t("mosaic", "person_relationships", parents=('from_person_id', 'to_person_id'), description="Neo4j edges between people"),
    _t("mosaic", "story_mentions", key=("story_id", "person_id"), description="Neo4j (:Story)-[:MENTIONS]->(:Person)"),
    _t("mosaic", "plugins", description="Neo4j Plugin nodes"),
    _t("mosaic", "plugin_relationships", description="Neo4j plugin edges"),
    # PersonaKit (seed 001)
    _t("personakit", "persons", key=("person_id",), owner="person_id", soft_delete="deleted_at", description="People modelled"),
    _t("personakit", "observations", parents=('person_id',), key=("observation_id",), owner="person_id", description="Raw observations"),
    _t("personakit", "mindscapes", key=("mindscape_id",), owner="person_id", description="One per person"),
    _t("personakit", "goals", key=("goal_id",), owner=("mindscape_id", "mindscapes"), description="Mindscape goals"),
    _t("personakit", "beliefs", key=("belief_id",), owner=("mindscape_id", "mindscapes"), description="Mindscape beliefs"),
    _t("personakit", "persona_mappers", key=("mapper_id",), description="Persona mapper configurations"),
    _t("personakit", "actors", key=("actor_id",), description="Persona consumers"),
    _t("personakit", "actor_api_keys", key=("key_id",), description="Actor API keys (hashed)"),
    _t("personakit", "personas", key=("persona_instance_id",), owner="person_id", description="Generated personas (TTL)"),
    _t("personakit", "feedback", key=("feedback_id",), description="Feedback on personas"),
    _t("personakit", "outbox_tasks", key=("task_id",), description="Reliable async tasks"),
    _t("personakit", "sync_queue", key=("queue_id",), description="Device sync queue"),
    _t("personakit", "sync_state", key=("device_id", "person_id"), owner="person_id", description="Device sync state"),
    _t("personakit", "system_events", key=("event_id",), audit=True, description="System events"),
    # Study coach (seed 002)
    _t("coach", "users", owner="id", soft_delete="deleted_at", description="Learners"),
    _t("coach", "sessions", owner="user_id", description="Coaching sessions"),
    _t("coach", "plans", parents=('user_id',), owner="user_id", description="Study plans"),
    _t("coach", "tasks", parents=('plan_id',), owner=("plan_id", "plans"), description="Plan tasks"),
    _t("coach", "study_sessions", parents=('user_id',), owner="user_id", description="Minutes studied"),
    _t("coach", "progress_snapshots", owner="user_id", description="App-written progress snapshots"),
    _t("coach", "knowledge_resources", owner="user_id", description="Resources for the vector store"),
    _t("coach", "dialogue_messages", owner="user_id", soft_delete="deleted_at", retention=("created_at", "365 days"),
       description="Chat transcripts (MongoDB collection)"),
    _t("coach", "persona_snapshots", owner="user_id", description="Traits and preferences (MongoDB collection)"),
    _t("coach", "audit_logs", owner="user_id", audit=True, retention=("created_at", "180 days"),
       description="Audit logs (MongoDB collection, TTL 180 days)"),
    _t("coach", "outbox", description="Vector-store outbox"),
    # AI Development Assistant (seed 003)
    _t("devassist", "users", key=("user_id",), owner="user_id", description="Developers"),
    # retention: the seed's cleanup_old_data (governance events 7 years, user sessions 2 years after they
    # ended, completed agent sessions 1 year after completion), applied to the warehouse copies
    _t("devassist", "user_sessions", key=("session_id",), owner="user_id", retention=("ended_at", "2 years"),
       description="Login sessions"),
    _t("devassist", "session_activities", key=("activity_id",), owner=("session_id", "user_sessions"),
       description="Activities within sessions"),
    _t("devassist", "agent_sessions", parents=('user_id',), key=("agent_session_id",), owner="user_id",
       retention=("completed_at", "1 year", "status = 'completed'"), description="AI agent lifecycle"),
    _t("devassist", "governance_events", parents=('agent_session_id',), key=("event_id",), owner=("agent_session_id", "agent_sessions"),
       retention=("created_at", "7 years"), description="Governance decisions"),
    _t("devassist", "validation_results", key=("result_id",), description="Validator outcomes"),
    _t("devassist", "agent_interactions", key=("interaction_id",), owner=("agent_session_id", "agent_sessions"),
       description="Agent turns"),
    _t("devassist", "personas", key=("persona_id",), description="Agent persona definitions"),
    _t("devassist", "persona_activations", key=("activation_id",), owner=("agent_session_id", "agent_sessions"),
       description="Persona activations"),
    _t("devassist", "audit_log", key=("audit_id",), audit=True, retention=("changed_at", "7 years"),
       description="Immutable audit log"),
    _t("devassist", "schema_migrations", key=("version",), description="The product's own schema versions"),
)


def tables_for(product: str) -> tuple[SourceTable, ...]:
    return tuple(t for t in TABLES if t.product == product)


def get_table(qualified: str) -> SourceTable:
    for table in TABLES:
        if table.qualified == qualified:
            return table
    raise KeyError(f"unknown source table {qualified!r}; known: {', '.join(t.qualified for t in TABLES)}")
