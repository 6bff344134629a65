"""DAGSTER_HOME for the embedded workspace: TESSERA_HOME/dagster unless set, with Tessera's instance
settings (orchestration/dagster.yaml: run queue, ingest concurrency limit) copied in on first use."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from orchestration.settings import Settings

INSTANCE_TEMPLATE = Path(__file__).resolve().parent / "dagster.yaml"


def ensure_dagster_home(settings: Settings | None = None) -> Path:
    settings = settings or Settings.from_env()
    home = Path(os.environ.get("DAGSTER_HOME") or settings.dagster_home)
    os.environ["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copyfile(INSTANCE_TEMPLATE, home / "dagster.yaml")
    return home
