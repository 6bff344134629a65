"""Dagster resources for the two databases. URLs resolve at run time through Settings, so an unset
variable means "the embedded server", never an import-time failure."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional

import dagster as dg
import psycopg

from core.embedded import source_database_url, warehouse_database_url
from core.settings import Settings


class _Database(dg.ConfigurableResource):
    url: Optional[str] = None

    def _default_url(self, settings: Settings) -> str:
        raise NotImplementedError

    def get_url(self) -> str:
        return self.url or self._default_url(Settings.from_env())

    @contextmanager
    def connect(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        with psycopg.connect(self.get_url(), autocommit=autocommit, application_name="tessera") as conn:
            yield conn


class SourceDatabase(_Database):
    """The products' write database (`app`). Tessera only reads it."""

    def _default_url(self, settings: Settings) -> str:
        return source_database_url(settings)


class WarehouseDatabase(_Database):
    """Tessera's warehouse (`warehouse`): raw copies, dbt models, analytics, vectors, search, quality."""

    def _default_url(self, settings: Settings) -> str:
        return warehouse_database_url(settings)


def default_resources() -> dict[str, dg.ConfigurableResource]:
    return {"source": SourceDatabase(), "warehouse": WarehouseDatabase()}
