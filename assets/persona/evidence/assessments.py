"""Assessment observations (MBTI, DISC, Enneagram) mapped to traits.

Accepted shapes of content_structured (the generator's, and the migration's older sketch):
  {"assessmentType": "mbti", "result": {"type": "INTJ", "scores": {...}}, "confidence": 0.9}
  {"mbti": {"type": "INTJ", "scores": {...}}}
The assessment type may also come from sourceMetadata.assessmentType. Scores may be keyed by letter
({"E": 30, "I": 70}) or by axis name ({"extraversion": 0.3}); values above 1 are read as percentages.
An assessment's weight is its own `confidence` (default 0.9): assessments are the strongest evidence.
"""

from __future__ import annotations

import re
from typing import Any

from assets.persona.evidence.model import Evidence, Observation

DEFAULT_ASSESSMENT_CONFIDENCE = 0.9
# Weight of a numeric axis known only from the type letter (no scores): the letter tells the side, not
# how far; its value is 0.75 or 0.25 and it counts at 80 % of the assessment's weight.
LETTER_ONLY_VALUE = 0.75
LETTER_ONLY_WEIGHT_FACTOR = 0.8

MBTI_TYPE = re.compile(r"^([EI])([NS])([TF])([JP])(?:-[AT])?$")
# trait, high-pole letter, low-pole letter, name aliases of the axis score
MBTI_AXES = (
    ("extraversion", "E", "I", ("extraversion", "extroversion", "e")),
    ("intuition", "N", "S", ("intuition", "n")),
    ("thinking", "T", "F", ("thinking", "t")),
    ("judging", "J", "P", ("judging", "j")),
)
# MBTI axes also inform the Big Five trait they approximate (N ~ openness, F ~ agreeableness,
# J ~ conscientiousness), at BIG_FIVE_BRIDGE_FACTOR of the assessment's weight, so assessments and free
# text can agree or disagree on the same trait.
BIG_FIVE_BRIDGE = {"intuition": ("openness", False), "thinking": ("agreeableness", True), "judging": ("conscientiousness", False)}
BIG_FIVE_BRIDGE_FACTOR = 0.8
DISC_TRAITS = {"D": "disc_dominance", "I": "disc_influence", "S": "disc_steadiness", "C": "disc_conscientiousness"}
DISC_ALIASES = {"d": "D", "dominance": "D", "i": "I", "influence": "I", "s": "S", "steadiness": "S",
                "c": "C", "conscientiousness": "C", "compliance": "C"}


def _unit(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number > 1.0:
        number /= 100.0
    return min(1.0, max(0.0, number))


def _parse(obs: Observation) -> tuple[str | None, dict, float]:
    """(assessment type, result dict, confidence) from either accepted shape."""
    structured = obs.content_structured if isinstance(obs.content_structured, dict) else {}
    kind = structured.get("assessmentType") or (obs.source_metadata or {}).get("assessmentType")
    result = structured.get("result")
    if not kind:
        for candidate in ("mbti", "disc", "enneagram"):
            if isinstance(structured.get(candidate), dict):
                kind, result = candidate, structured[candidate]
                break
    if kind and not isinstance(result, dict):
        result = structured.get(str(kind).lower()) if isinstance(structured.get(str(kind).lower()), dict) else {}
    try:
        confidence = float(structured.get("confidence"))
    except (TypeError, ValueError):
        confidence = None
    if confidence is None or not 0 < confidence <= 1:  # missing or out of range: the default, not a guess
        confidence = DEFAULT_ASSESSMENT_CONFIDENCE
    return (str(kind).lower() if kind else None), (result or {}), confidence


def _evidence(obs, trait, value, data_type, weight, kind) -> Evidence:
    return Evidence(trait, value, data_type, "low", weight, obs.observation_id, obs.observed_at, f"assessment:{kind}")


def mbti_evidence(obs: Observation, result: dict, weight: float) -> list[Evidence]:
    match = MBTI_TYPE.match(str(result.get("type", "")).strip().upper())
    if not match:
        return []
    letters = match.group(1) + match.group(2) + match.group(3) + match.group(4)
    out = [_evidence(obs, "mbti_type", letters, "categorical", weight, "mbti")]
    scores = {str(k).lower(): v for k, v in (result.get("scores") or {}).items()} if isinstance(result.get("scores"), dict) else {}
    for trait, high, low, aliases in MBTI_AXES:
        value = None
        if high.lower() in scores and low.lower() in scores:
            hi, lo = _unit(scores[high.lower()]), _unit(scores[low.lower()])
            if hi is not None and lo is not None and hi + lo > 0:
                value = hi / (hi + lo)
        if value is None and low.lower() in scores and high.lower() not in scores:
            lo = _unit(scores[low.lower()])  # only the low pole's score given (e.g. {"F": 0.7} for thinking)
            value = None if lo is None else 1 - lo
        if value is None:
            for alias in aliases:
                if alias in scores and alias != low.lower():
                    value = _unit(scores[alias])
                    break
        axis_weight = weight
        if value is None:
            value = LETTER_ONLY_VALUE if high in letters else 1 - LETTER_ONLY_VALUE
            axis_weight = weight * LETTER_ONLY_WEIGHT_FACTOR
        out.append(_evidence(obs, trait, round(value, 4), "numeric", axis_weight, "mbti"))
        if trait in BIG_FIVE_BRIDGE:
            big_five, inverted = BIG_FIVE_BRIDGE[trait]
            out.append(_evidence(obs, big_five, round(1 - value if inverted else value, 4), "numeric",
                                 axis_weight * BIG_FIVE_BRIDGE_FACTOR, "mbti"))
    return out


def disc_evidence(obs: Observation, result: dict, weight: float) -> list[Evidence]:
    given_scores = result.get("scores") if isinstance(result.get("scores"), dict) else {}
    scores: dict[str, float] = {}
    for key, value in given_scores.items():
        letter = DISC_ALIASES.get(str(key).lower())
        unit = _unit(value)
        if letter and unit is not None:
            scores[letter] = unit
    primary = str(result.get("primary") or result.get("type") or result.get("style") or "").strip().upper()
    if not re.fullmatch(r"[DISC]{1,2}", primary):
        primary = max(scores, key=lambda k: (scores[k], k)) if scores else ""
    out = []
    if primary:
        out.append(_evidence(obs, "disc_style", primary, "categorical", weight, "disc"))
    for letter, value in sorted(scores.items()):
        out.append(_evidence(obs, DISC_TRAITS[letter], round(value, 4), "numeric", weight, "disc"))
    if len(scores) == 4:
        out.append(_evidence(obs, "disc_profile", {k: round(v, 4) for k, v in sorted(scores.items())}, "complex", weight, "disc"))
    return out


def enneagram_evidence(obs: Observation, result: dict, weight: float) -> list[Evidence]:
    raw = result.get("type", result.get("enneagramType"))
    wing = result.get("wing")
    match = re.fullmatch(r"\s*([1-9])(?:w([1-9]))?\s*", str(raw)) if raw is not None else None
    if not match:
        return []
    out = [_evidence(obs, "enneagram_type", match.group(1), "categorical", weight, "enneagram")]
    wing_match = re.fullmatch(r"\s*(?:[1-9]w)?([1-9])\s*", str(wing)) if wing is not None else None
    wing = match.group(2) or (wing_match.group(1) if wing_match else None)
    if wing:
        out.append(_evidence(obs, "enneagram_wing", f"{match.group(1)}w{wing}", "categorical", weight, "enneagram"))
    return out


PARSERS = {"mbti": mbti_evidence, "disc": disc_evidence, "enneagram": enneagram_evidence}


def assessment_evidence(obs: Observation) -> list[Evidence]:
    """Evidence from an assessment observation; [] for other observations or unknown assessments."""
    kind, result, confidence = _parse(obs)
    parser = PARSERS.get(kind or "")
    return parser(obs, result, confidence) if parser else []
