"""The `embedding_model` resource: which encoder the embedding assets use."""


from typing import Optional

import dagster as dg
from pydantic import Field

from assets.embeddings import model as model_module


class EmbeddingModel(dg.ConfigurableResource):
    """An embedding model spec (see assets.embeddings.model): unset means TESSERA_EMBEDDING_MODEL at run
    time, else the bundled all-MiniLM-L6-v2 on the int8 onnxruntime path."""

    model: Optional[str] = Field(default=None, description="model name or local path, optionally '#int8' or '#fp32'")
    batch_docs: int = Field(default=64, description="documents per encode-and-write batch")

    def get_encoder(self) -> model_module.Encoder:
        return model_module.get_encoder(self.model)
