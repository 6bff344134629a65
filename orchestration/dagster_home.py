"""DAGSTER_HOME for the embedded workspace: TESSERA_HOME/dagster unless set, with Tessera's instance
settings (orchestration/dagster.yaml: run queue, ingest concurrency limit) copied in on first use, and
again when the copy there is an older version of Tessera's file (a dagster.yaml of your own is kept)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from core.settings import Settings

INSTANCE_TEMPLATE = Path(__file__).resolve().parent / "dagster.yaml"


def ensure_dagster_home(settings: Settings | None = None) -> Path:
    settings = settings or Settings.from_env()
    home = Path(os.environ.get("DAGSTER_HOME") or settings.dagster_home)
    os.environ["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists() or _older_copy(target.read_text(), INSTANCE_TEMPLATE.read_text()):
        shutil.copyfile(INSTANCE_TEMPLATE, target)
    return home


def _older_copy(current: str, template: str) -> bool:
    """True when `current` is Tessera's instance file (same first line) but not this version of it."""
    return current != template and current.splitlines()[:1] == template.splitlines()[:1]
