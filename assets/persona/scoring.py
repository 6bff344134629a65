"""Trait scoring: turning pieces of evidence into TraitEntry rows (pure, no I/O).

Combination rules (README "Trait matrix"):
- effective weight  w_i = weight_i * decay_i, where decay_i = 0.5 ** (age_days / half_life) for
  high-volatility traits (half-life HIGH_VOLATILITY_HALF_LIFE_DAYS = 30 days, age measured from the
  observation's time to the run's as-of time) and 1 for low-volatility traits.
- support = 1 - prod(1 - w_i): every independent observation that says the same thing raises it.
- numeric: value = weighted mean; dispersion = weighted std / 0.5 (the largest std of values in
  [0, 1]); confidence = support * (1 - dispersion): disagreement lowers it.
- categorical: value = the category with the largest support (ties: latest evidence);
  confidence = support(value) * W(value) / W(all): votes for other categories lower it.
- complex (a dict of numeric components): component-wise weighted mean; dispersion = mean of the
  components' dispersions; confidence as numeric.
- lineage: derived_from = every observation that gave evidence for the trait, agreeing or not.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from assets.persona.evidence.assessments import assessment_evidence
from assets.persona.evidence.model import Evidence, Observation
from assets.persona.evidence.text import text_evidence

HIGH_VOLATILITY_HALF_LIFE_DAYS = 30.0
SCORING_VERSION = "traits-v1"
TEXT_SOURCE_TYPES = ("chat_log", "document", "interview", "api_import")


@dataclass(frozen=True)
class TraitEntry:
    """The seed's TraitEntry, for one person."""

    person_id: str
    trait_name: str
    value: Any
    data_type: str
    volatility: str
    derived_from: tuple[str, ...]
    confidence: float
    metadata: dict = field(default_factory=dict)


def decay_factor(age_days: float, half_life_days: float = HIGH_VOLATILITY_HALF_LIFE_DAYS) -> float:
    return 0.5 ** (max(0.0, age_days) / half_life_days)


def noisy_or(weights: Iterable[float]) -> float:
    remaining = 1.0
    for w in weights:
        remaining *= 1.0 - min(1.0, max(0.0, w))
    return 1.0 - remaining


def _clamp(x: float) -> float:
    return min(1.0, max(0.0, x))


def combine_numeric(items: list[tuple[float, float]]) -> tuple[float, float, dict]:
    """items = [(value in [0,1], effective weight)] -> (value, confidence, stats)."""
    total = sum(w for _, w in items)
    if total <= 0:
        return 0.5, 0.0, {"support": 0.0, "dispersion": 0.0}
    mean = sum(v * w for v, w in items) / total
    std = math.sqrt(sum(w * (v - mean) ** 2 for v, w in items) / total)
    dispersion = _clamp(std / 0.5)
    support = noisy_or(w for _, w in items)
    return mean, _clamp(support * (1 - dispersion)), {"support": support, "dispersion": dispersion}


def combine_categorical(items: list[tuple[str, float, datetime]]) -> tuple[str, float, dict]:
    """items = [(category, effective weight, observed_at)] -> (value, confidence, stats)."""
    weights: dict[str, list[float]] = defaultdict(list)
    latest: dict[str, datetime] = {}
    for value, w, at in items:
        weights[value].append(w)
        latest[value] = max(at, latest.get(value, at))
    support = {value: noisy_or(ws) for value, ws in weights.items()}
    best = max(support, key=lambda v: (round(support[v], 12), latest[v], v))
    total = sum(sum(ws) for ws in weights.values())
    share = sum(weights[best]) / total if total > 0 else 0.0
    return best, _clamp(support[best] * share), {
        "support": support[best], "share": share,
        "alternatives": {v: round(s, 4) for v, s in sorted(support.items()) if v != best},
    }


def combine_complex(items: list[tuple[dict, float]]) -> tuple[dict, float, dict]:
    keys = sorted({k for value, _ in items for k in value})
    merged, dispersions = {}, []
    for key in keys:
        value, _, stats = combine_numeric([(float(v[key]), w) for v, w in items if key in v])
        merged[key] = round(value, 4)
        dispersions.append(stats["dispersion"])
    support = noisy_or(w for _, w in items)
    dispersion = sum(dispersions) / len(dispersions) if dispersions else 0.0
    return merged, _clamp(support * (1 - dispersion)), {"support": support, "dispersion": dispersion}


def observation_evidence(obs: Observation) -> list[Evidence]:
    """All evidence one eligible observation gives: assessments by their results, the rest by text."""
    if obs.source_type == "assessment":
        return assessment_evidence(obs) + text_evidence(obs)  # its free-text remarks count as text
    if obs.source_type in TEXT_SOURCE_TYPES:
        return text_evidence(obs)
    return []


def score_trait(evidence: list[Evidence], as_of: datetime,
                half_life_days: float = HIGH_VOLATILITY_HALF_LIFE_DAYS) -> tuple[Any, float, dict]:
    """(value, confidence, metadata) of one trait from all its evidence."""
    volatility = evidence[0].volatility
    data_type = evidence[0].data_type
    effective = []
    for e in evidence:
        decay = decay_factor((as_of - e.observed_at).total_seconds() / 86400, half_life_days) if volatility == "high" else 1.0
        effective.append(e.weight * decay)
    if data_type == "categorical":
        value, confidence, stats = combine_categorical([(e.value, w, e.observed_at) for e, w in zip(evidence, effective)])
    elif data_type == "complex":
        value, confidence, stats = combine_complex([(e.value, w) for e, w in zip(evidence, effective)])
    else:
        value, confidence, stats = combine_numeric([(float(e.value), w) for e, w in zip(evidence, effective)])
        value = round(value, 4)
    metadata = {
        "methods": sorted({e.method for e in evidence}),
        "evidenceCount": len(evidence),
        "sources": [{"obsId": e.observation_id, "weight": round(w, 4)} for e, w in
                    sorted(zip(evidence, effective), key=lambda ew: ew[0].observation_id)],
        "support": round(stats["support"], 4),
        "scoringVersion": SCORING_VERSION,
        "asOf": as_of.isoformat(),
    }
    for key in ("dispersion", "share", "alternatives"):
        if key in stats:
            metadata[key] = round(stats[key], 4) if isinstance(stats[key], float) else stats[key]
    if volatility == "high":
        metadata["halfLifeDays"] = half_life_days
    return value, round(confidence, 4), metadata


def build_traits(person_id: str, observations: Iterable[Observation], as_of: datetime,
                 half_life_days: float = HIGH_VOLATILITY_HALF_LIFE_DAYS) -> list[TraitEntry]:
    """The trait matrix of one person from their eligible observations."""
    by_trait: dict[str, list[Evidence]] = defaultdict(list)
    for obs in observations:
        for e in observation_evidence(obs):
            by_trait[e.trait].append(e)
    entries = []
    for trait in sorted(by_trait):
        evidence = by_trait[trait]
        value, confidence, metadata = score_trait(evidence, as_of, half_life_days)
        entries.append(TraitEntry(
            person_id=person_id, trait_name=trait, value=value, data_type=evidence[0].data_type,
            volatility=evidence[0].volatility,
            derived_from=tuple(sorted({e.observation_id for e in evidence})),
            confidence=confidence, metadata=metadata,
        ))
    return entries
