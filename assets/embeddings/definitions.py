"""Definitions of the embeddings area: vectors.<table> assets, their privacy checks, the model resource."""

import dagster as dg

from assets.embeddings.assets import EMBEDDING_ASSETS, EMBEDDING_CHECKS
from assets.embeddings.resources import EmbeddingModel

defs = dg.Definitions(
    assets=EMBEDDING_ASSETS,
    asset_checks=EMBEDDING_CHECKS,
    resources={"embedding_model": EmbeddingModel()},
)
