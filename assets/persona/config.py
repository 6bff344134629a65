"""Run configuration shared by the persona assets (Dagster Config; defaults are the documented ones)."""


from datetime import datetime, timezone
from typing import Optional

import dagster as dg


class PersonaRunConfig(dg.Config):
    as_of: Optional[str] = None  # ISO timestamp used for decay and TTL; default: now (UTC)
    full_refresh: bool = False  # recompute every entity, ignoring the stored fingerprints

    def as_of_time(self) -> datetime:
        return parse_as_of(self.as_of)


def parse_as_of(value: str | None) -> datetime:
    if not value:
        return datetime.now(timezone.utc)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
