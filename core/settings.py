"""One settings object, read from the environment at run time (never at import time).

Variables (DESIGN.md): TESSERA_SOURCE_URL, TESSERA_WAREHOUSE_URL, TESSERA_ELASTICSEARCH_URL, TESSERA_HOME;
TESSERA_CODE_GIT_URL and TESSERA_CODE_GIT_BRANCH turn the UI's code references into repository links.
When a database URL is unset, Tessera runs on its embedded Postgres under TESSERA_HOME; reading settings never
starts it (core.embedded does, when a caller asks for the URLs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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
    code_git_url: str | None = None  # where the UI links an asset's code (a GitHub/GitLab repository URL)
    code_git_branch: str = "main"

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
            code_git_url=env.get("TESSERA_CODE_GIT_URL") or None,
            code_git_branch=env.get("TESSERA_CODE_GIT_BRANCH") or "main",
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

    def database_urls(self, server: "ServerUrls | None" = None) -> tuple[str, str]:
        """(source, warehouse) URLs: the configured ones, and the given server's for any that is unset.

        Pure: it never starts anything. Callers that may run on the embedded server start it explicitly
        (core.embedded.database_urls does both) and pass it here.
        """
        if not self.uses_embedded:
            return self.source_url, self.warehouse_url  # type: ignore[return-value]
        if server is None:
            raise EmbeddedServerRequired(
                "TESSERA_SOURCE_URL and TESSERA_WAREHOUSE_URL are not both set: start the embedded server "
                "(core.embedded.database_urls) or set both URLs"
            )
        source = self.source_url or server.url(SOURCE_DATABASE)
        warehouse = self.warehouse_url or server.url(WAREHOUSE_DATABASE)
        return source, warehouse


class ServerUrls(Protocol):
    """A running Postgres server that gives a URL for one of its databases."""

    def url(self, database: str) -> str: ...


class EmbeddedServerRequired(RuntimeError):
    """URLs were asked of settings that rely on the embedded server, without passing a started one."""
