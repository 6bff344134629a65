"""The two value types trait evidence moves through: an eligible observation and one piece of evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class Observation:
    """An eligible observation (approved or processed, of a live person), as read from the dbt model eligibility.eligible_personakit_observations."""

    observation_id: str
    person_id: str
    source_type: str
    content_raw: str = ""
    content_structured: Any = None
    source_metadata: dict = field(default_factory=dict)
    created_at: datetime | None = None

    @property
    def observed_at(self) -> datetime:
        """When the observation happened: sourceMetadata.timestamp when parseable, else created_at."""
        stamp = (self.source_metadata or {}).get("timestamp")
        if isinstance(stamp, str):
            try:
                parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
            except ValueError:
                pass
        if self.created_at is not None:
            return self.created_at if self.created_at.tzinfo else self.created_at.replace(tzinfo=timezone.utc)
        return datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Evidence:
    """What one observation says about one trait. `weight` in (0, 1] is its reliability before decay."""

    trait: str
    value: Any
    data_type: str  # numeric | categorical | complex
    volatility: str  # low | high
    weight: float
    observation_id: str
    observed_at: datetime
    method: str  # e.g. "assessment:mbti", "lexicon"
