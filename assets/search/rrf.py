"""Reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009), used for hybrid ranking.

    score(d) = sum over rankings r containing d of 1 / (k + rank_r(d)),   rank starting at 1, k = 60

The Postgres backend computes the same formula in SQL (postgres/query.py, hybrid query); the
Elasticsearch backend fuses on the client because Elasticsearch's own RRF retriever needs a paid
licence. Ties are broken by the best single rank, then by id, in both places.
"""

from __future__ import annotations

from typing import Hashable, Sequence

RRF_K = 60


def reciprocal_rank_fusion(rankings: Sequence[Sequence[Hashable]], *, k: int = RRF_K,
                           limit: int | None = None) -> list[tuple[Hashable, float]]:
    """Fuse ranked id lists (best first) into [(id, score)], best first."""
    if k <= 0:
        raise ValueError("k must be positive")
    scores: dict[Hashable, float] = {}
    best_rank: dict[Hashable, int] = {}
    for ranking in rankings:
        unique = list(dict.fromkeys(ranking))  # a ranking lists each document once: repeats are dropped
        for rank, doc_id in enumerate(unique, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
            best_rank[doc_id] = min(best_rank.get(doc_id, rank), rank)
    fused = sorted(scores.items(), key=lambda item: (-item[1], best_rank[item[0]], str(item[0])))
    return fused[:limit] if limit is not None else fused
