"""The query encoder both search backends use by default: the embeddings area's encoder for the model an
index was built with, loaded once per process (the model weights are the expensive part)."""

from __future__ import annotations

from typing import Any

_ENCODERS: dict[str, Any] = {}


def query_encoder(model_id: str):
    """The encoder of `model_id`; torch and sentence-transformers load on first use only."""
    if model_id not in _ENCODERS:
        from assets.embeddings.model import get_encoder

        _ENCODERS[model_id] = get_encoder(model_id)
    return _ENCODERS[model_id]
