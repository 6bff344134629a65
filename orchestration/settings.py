"""One settings object, read from the environment at run time (never at import time).

Variables (DESIGN.md): TESSERA_SOURCE_URL, TESSERA_WAREHOUSE_URL, TESSERA_ELASTICSEARCH_URL, TESSERA_HOME.
When both database URLs are unset, Tessera starts (or reuses) its embedded Postgres under TESSERA_HOME.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCE_DATABASE = "app"
WAREHOUSE_DATABASE = "warehouse"


@dataclass(frozen=True)
class Settings:
    home: Path
    source_url: str | None
    warehouse_url: str | None
    elasticsearch_url: str | None
    embedding_model: str | None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        home = Path(env.get("TESSERA_HOME") or REPO_ROOT / ".tessera").expanduser().resolve()
        return cls(
            home=home,
            source_url=env.get("TESSERA_SOURCE_URL") or None,
            warehouse_url=env.get("TESSERA_WAREHOUSE_URL") or None,
            elasticsearch_url=env.get("TESSERA_ELASTICSEARCH_URL") or None,
            embedding_model=env.get("TESSERA_EMBEDDING_MODEL") or None,
        )

    @property
    def uses_embedded(self) -> bool:
        return not (self.source_url and self.warehouse_url)

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def data_docs_dir(self) -> Path:
        return self.home / "data_docs"

    def database_urls(self) -> tuple[str, str]:
        """(source, warehouse) URLs, starting the embedded server if either is unset."""
        if not self.uses_embedded:
            return self.source_url, self.warehouse_url  # type: ignore[return-value]
        from orchestration.embedded import ensure_embedded_server

        server = ensure_embedded_server(self)
        source = self.source_url or server.url(SOURCE_DATABASE)
        warehouse = self.warehouse_url or server.url(WAREHOUSE_DATABASE)
        return source, warehouse

    def source_database_url(self) -> str:
        return self.database_urls()[0]

    def warehouse_database_url(self) -> str:
        return self.database_urls()[1]
