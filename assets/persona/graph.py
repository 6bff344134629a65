"""persona.graph_metadata: the seed's GraphMetadata per person, from the entities and relations of their
eligible observations (content_structured {"entities": [...], "relations": [{source, target, type}]}).

Graph: undirected, simple (duplicate and reverse relations are one edge, self-loops dropped); nodes are
the entities plus every relation endpoint. Metrics, written here without a graph library:
- graph_density = 2E / (N (N - 1))  (0 when N < 2)
- central_nodes = the CENTRAL_NODES highest-degree nodes (ties by name)
- communities: label propagation (each node starts with its own label; in name order, a node takes
  the most frequent label among its neighbours, ties to the smallest label; until stable or 50 rounds).
  Labels never cross connected components. Singletons are not reported. cohesionScore = the
  community's internal density (internal edges / possible pairs); name = "<hub> cluster" after its
  highest-degree node.
"""


import time
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any, Iterable

import dagster as dg
import psycopg
from psycopg.types.json import Jsonb

from assets.persona import store
from assets.persona.config import PersonaRunConfig
from assets.resources import WarehouseDatabase

AREA = "graph"
ANALYSIS_VERSION = "graph-v1"
CENTRAL_NODES = 5
MAX_ROUNDS = 50


def entity_name(entity: Any) -> str | None:
    if isinstance(entity, str):
        return entity.strip() or None
    if isinstance(entity, dict):
        for key in ("name", "label", "id", "text"):
            if isinstance(entity.get(key), str) and entity[key].strip():
                return entity[key].strip()
    return None


def extract_graph(structured_items: Iterable[Any]) -> tuple[set[str], set[tuple[str, str]]]:
    """Nodes and undirected edges (sorted pairs) from content_structured documents."""
    nodes: set[str] = set()
    edges: set[tuple[str, str]] = set()
    for structured in structured_items:
        if not isinstance(structured, dict):
            continue
        for entity in structured.get("entities") or []:
            name = entity_name(entity)
            if name:
                nodes.add(name)
        for relation in structured.get("relations") or []:
            if not isinstance(relation, dict):
                continue
            a, b = entity_name(relation.get("source")), entity_name(relation.get("target"))
            if a and b:
                nodes.update((a, b))
                if a != b:
                    edges.add((min(a, b), max(a, b)))
    return nodes, edges


def adjacency(nodes: set[str], edges: set[tuple[str, str]]) -> dict[str, set[str]]:
    adj: dict[str, set[str]] = {n: set() for n in nodes}
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    return adj


def density(n_nodes: int, n_edges: int) -> float:
    return 0.0 if n_nodes < 2 else 2.0 * n_edges / (n_nodes * (n_nodes - 1))


def top_by_degree(adj: dict[str, set[str]], k: int = CENTRAL_NODES) -> list[str]:
    return [n for n in sorted(adj, key=lambda n: (-len(adj[n]), n)) if adj[n]][:k]


def label_propagation(adj: dict[str, set[str]], max_rounds: int = MAX_ROUNDS) -> dict[str, str]:
    labels = {n: n for n in adj}
    for _ in range(max_rounds):
        moved = False
        for node in sorted(adj):
            if not adj[node]:
                continue
            counts = Counter(labels[m] for m in adj[node])
            best = max(counts.values())
            if counts.get(labels[node]) == best:
                choice = labels[node]  # keep a current label that is among the best: guarantees convergence
            else:
                choice = min(label for label, c in counts.items() if c == best)
            if choice != labels[node]:
                labels[node], moved = choice, True
        if not moved:
            break
    return labels


def communities(adj: dict[str, set[str]]) -> list[dict]:
    labels = label_propagation(adj)
    groups: dict[str, list[str]] = defaultdict(list)
    for node, label in labels.items():
        groups[label].append(node)
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        member_set = set(members)
        internal = sum(1 for n in members for m in adj[n] if m in member_set) // 2
        hub = min(members, key=lambda n: (-len(adj[n]), n))
        out.append({"nodeIds": sorted(members), "hub": hub, "internal": internal,
                    "cohesionScore": round(density(len(members), internal), 4)})
    out.sort(key=lambda c: (-len(c["nodeIds"]), c["nodeIds"][0]))
    return [{
        "communityId": f"c{i + 1}", "name": f"{c['hub']} cluster", "nodeIds": c["nodeIds"],
        "cohesionScore": c["cohesionScore"],
        "description": f"{len(c['nodeIds'])} nodes, {c['internal']} internal edges, hub {c['hub']}",
    } for i, c in enumerate(out)]


def graph_metadata(structured_items: Iterable[Any], as_of: datetime) -> dict:
    nodes, edges = extract_graph(structured_items)
    adj = adjacency(nodes, edges)
    return {
        "total_nodes": len(nodes), "total_edges": len(edges),
        "graph_density": round(density(len(nodes), len(edges)), 6),
        "central_nodes": top_by_degree(adj), "communities": communities(adj),
        "analysis_version": ANALYSIS_VERSION, "last_analysis_run": as_of,
    }


COLUMNS = ("person_id", "mindscape_id", "total_nodes", "total_edges", "graph_density", "central_nodes", "communities",
           "analysis_version", "last_analysis_run", "derived_from")
TYPES = ["text", "text", "int4", "int4", "float8", "text[]", "jsonb", "text", "timestamptz", "text[]"]


def refresh_graph_metadata(conn: psycopg.Connection, as_of: datetime, *, full: bool = False) -> dict:
    started = time.perf_counter()
    store.ensure_schema(conn)
    fingerprints = store.person_fingerprints(conn)
    mindscapes = store.mindscapes_by_person(conn, list(fingerprints))
    current = {p: f"{fp}|{mindscapes.get(p, '-')}" for p, (fp, _) in fingerprints.items()}
    plan = store.plan_refresh(current, store.load_state(conn, AREA), as_of, None, full)
    if full:
        conn.execute("TRUNCATE persona.graph_metadata")
    elif plan.removed:
        conn.execute("DELETE FROM persona.graph_metadata WHERE person_id = ANY(%s::uuid[])", (plan.removed,))
    written = 0
    for batch in store.batches(plan.changed):
        observations = store.read_observations(conn, batch)
        conn.execute("DELETE FROM persona.graph_metadata WHERE person_id = ANY(%s::uuid[])", (batch,))
        rows = []
        for person_id in batch:
            with_graph = [o for o in observations[person_id] if isinstance(o.content_structured, dict)
                          and (o.content_structured.get("entities") or o.content_structured.get("relations"))]
            if not with_graph:
                continue
            meta = graph_metadata([o.content_structured for o in with_graph], as_of)
            rows.append((person_id, mindscapes.get(person_id), meta["total_nodes"], meta["total_edges"],
                         meta["graph_density"], meta["central_nodes"], Jsonb(meta["communities"]),
                         meta["analysis_version"], as_of, sorted(o.observation_id for o in with_graph)))
        written += store.copy_rows(conn, "graph_metadata", COLUMNS, TYPES, rows)
    store.save_state(conn, AREA, plan, as_of, None, full)
    total = conn.execute("SELECT count(*), coalesce(avg(total_nodes), 0) FROM persona.graph_metadata").fetchone()
    return {"persons_recomputed": len(plan.changed), "persons_unchanged": plan.unchanged,
            "persons_removed": len(plan.removed), "rows_written": written, "rows_total": total[0],
            "mean_nodes": round(float(total[1]), 2), "seconds": round(time.perf_counter() - started, 3)}


@dg.asset(
    key=["persona", "graph_metadata"], group_name="persona", kinds={"postgres", "python"},
    deps=[*store.OBSERVATION_DEPS, *store.MINDSCAPE_DEPS],
    description="PersonaKit GraphMetadata (cold layer) per person: nodes, edges, density, central nodes, "
                "label-propagation communities from eligible observations' entities and relations.",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=10),
    automation_condition=dg.AutomationCondition.eager().resolve_through_virtual(),
)
def graph_metadata_asset(context: dg.AssetExecutionContext, config: PersonaRunConfig,
                         warehouse: WarehouseDatabase) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        stats = refresh_graph_metadata(conn, config.as_of_time(), full=config.full_refresh)
    return dg.MaterializeResult(metadata={**stats, "dagster/row_count": stats["rows_total"]})
